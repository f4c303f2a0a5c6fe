use rvenv_testkit::{Fault, FaultRule, IndexServer, ServedFile, WheelBuilder};

use super::*;

fn protected() -> IndexServer {
    let file: ServedFile = WheelBuilder::new("demo", "1.0").build().into();
    IndexServer::builder()
        .file(file)
        .basic_auth("alice", "s3cr3t")
        .start()
}

#[tokio::test]
async fn right_credentials_from_the_url() {
    let server = protected();
    let index = server.url_with_credentials("alice", "s3cr3t");
    let provider = provider(client(), settings(&[index], None));
    let found = candidates(&provider, "demo").await.unwrap();
    // The file lives on the same host: its download and metadata get the credentials too.
    provider.metadata(&found.versions[0]).await.unwrap();
    assert!(server
        .requests()
        .iter()
        .all(|request| request.authorization));
}

#[tokio::test]
async fn wrong_credentials_are_named_but_not_shown() {
    let server = protected();
    let index = server.url_with_credentials("alice", "wrong-pass");
    let provider = provider(client(), settings(&[index], None));
    let err = candidates(&provider, "demo").await.unwrap_err();
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("alice:****@"), "{err}");
    assert!(err.contains("credentials: from the URL"), "{err}");
    assert!(err.contains("rejected"), "{err}");
    assert!(!err.contains("wrong-pass"), "{err}");
}

#[tokio::test]
async fn missing_credentials_give_a_hint() {
    let server = protected();
    let provider = provider(client(), settings(&[server.url()], None));
    let err = candidates(&provider, "demo").await.unwrap_err();
    assert!(
        err.contains("401") && err.contains("credentials: none"),
        "{err}"
    );
    assert!(err.contains("netrc"), "{err}");
}

#[tokio::test]
async fn credentials_from_netrc() {
    let server = protected();
    let mut netrc = Netrc::parse("machine 127.0.0.1 login alice password s3cr3t");
    netrc.path = Some("/tmp/test-netrc".into());
    let provider = provider(
        client_with_netrc(Some(netrc)),
        settings(&[server.url()], None),
    );
    assert_eq!(
        versions(&candidates(&provider, "demo").await.unwrap()),
        ["1.0"]
    );

    let wrong = Netrc::parse("machine 127.0.0.1 login alice password nope");
    let provider = super::provider(
        client_with_netrc(Some(wrong)),
        settings(&[server.url()], None),
    );
    let err = candidates(&provider, "demo").await.unwrap_err();
    assert!(err.contains("credentials: from netrc"), "{err}");
}

#[tokio::test]
async fn redirect_to_another_host_carries_no_credentials() {
    let file: ServedFile = WheelBuilder::new("demo", "1.0").build().into();
    let other = IndexServer::start([file.clone()]);
    let first = IndexServer::builder()
        .file(file)
        .fault(FaultRule::always("/simple/*", Fault::redirect_to(&other)))
        .start();
    let index = first.url_with_credentials("alice", "s3cr3t");
    let provider = provider(client(), settings(&[index], None));
    assert_eq!(
        versions(&candidates(&provider, "demo").await.unwrap()),
        ["1.0"]
    );
    assert!(first.requests().iter().all(|request| request.authorization));
    let followed = other.requests();
    assert!(!followed.is_empty());
    assert!(
        followed.iter().all(|request| !request.authorization),
        "{followed:?}"
    );
}
