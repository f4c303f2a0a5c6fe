use std::time::{Duration, Instant};

use rvenv_testkit::{Fault, FaultRule, IndexServer, ServedFile, WheelBuilder};

use super::*;

fn quick_client(read_timeout: Duration) -> IndexClient {
    let options = ClientOptions {
        read_timeout,
        ..ClientOptions::default()
    };
    IndexClient::with_netrc(options, None).unwrap()
}

fn server_with(fault: FaultRule) -> IndexServer {
    let file: ServedFile = WheelBuilder::new("demo", "1.0").build().into();
    IndexServer::builder().file(file).fault(fault).start()
}

#[tokio::test]
async fn a_stalled_answer_times_out_and_is_retried() {
    let server = server_with(FaultRule::first(
        1,
        "/simple/demo/",
        Fault::Stall(Duration::from_secs(5)),
    ));
    let provider = provider(
        quick_client(Duration::from_millis(500)),
        settings(&[server.url()], None),
    );
    let started = Instant::now();
    assert_eq!(
        versions(&candidates(&provider, "demo").await.unwrap()),
        ["1.0"]
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn a_slow_but_steady_answer_is_not_cut_off() {
    // Well over a second in total with a 700 ms read timeout: the timeout is per read, not per request.
    let server = server_with(FaultRule::always(
        "/simple/demo/",
        Fault::Trickle {
            chunk: 32,
            interval: Duration::from_millis(150),
        },
    ));
    let provider = provider(
        quick_client(Duration::from_millis(700)),
        settings(&[server.url()], None),
    );
    let started = Instant::now();
    assert_eq!(
        versions(&candidates(&provider, "demo").await.unwrap()),
        ["1.0"]
    );
    assert!(started.elapsed() > Duration::from_millis(1400));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn tls_failures_say_so() {
    // A plain-HTTP server spoken to over https: the TLS handshake fails.
    let server = IndexServer::start(Vec::<ServedFile>::new());
    let index = format!("https://127.0.0.1:{}/simple/", server.port());
    let provider = provider(client(), settings(&[index], None));
    let err = candidates(&provider, "demo").await.unwrap_err();
    assert!(err.contains("TLS error"), "{err}");
    assert!(err.contains("SSL_CERT_FILE"), "{err}");
}

#[tokio::test]
async fn downloads_broken_mid_body_are_retried_then_fail_naming_the_url() {
    let wheel = WheelBuilder::new("demo", "1.0")
        .file("demo/data.txt", "x".repeat(4096))
        .build();
    let path = "/files/demo-1.0-py3-none-any.whl";
    for fault in [Fault::ResetMidBody, Fault::ShortBody { missing: 10 }] {
        for (times, succeeds) in [(Some(1), true), (None, false)] {
            let rule = match times {
                Some(times) => FaultRule::first(times, path, fault.clone()),
                None => FaultRule::always(path, fault.clone()),
            };
            let server = IndexServer::builder()
                .file(wheel.clone())
                .fault(rule)
                .start();
            let provider = provider(
                quick_client(Duration::from_secs(5)),
                settings(&[server.url()], None),
            );
            let file = candidates(&provider, "demo").await.unwrap().versions[0]
                .file
                .clone();
            let dir = tempfile::tempdir().unwrap();
            let dest = dir.path().join(&file.filename);
            let result = provider.client().download(&file, &dest).await;
            let downloads = server.requests().iter().filter(|r| r.path == path).count();
            if succeeds {
                assert_eq!(result.unwrap(), wheel.sha256, "{fault:?}");
                assert_eq!(fs_err::read(&dest).unwrap(), wheel.bytes);
                assert_eq!(downloads, 2, "{fault:?}");
            } else {
                let err = crate::error_chain(&result.unwrap_err());
                assert!(err.contains(&server.file_url(&file.filename)), "{err}");
                assert_eq!(downloads, 3, "{fault:?}");
                assert!(!dest.exists());
            }
            // No temporary file is left beside the destination.
            assert_eq!(
                fs_err::read_dir(dir.path()).unwrap().count(),
                usize::from(succeeds)
            );
        }
    }
}

#[tokio::test]
async fn a_page_without_usable_links_names_the_index() {
    let server = server_with(FaultRule::always("/simple/demo/", Fault::malformed_html()));
    let provider = provider(
        quick_client(Duration::from_secs(5)),
        settings(&[server.url()], None),
    );
    let err = candidates(&provider, "demo").await.unwrap_err();
    assert_eq!(
        err,
        format!(
            "package demo was not found on {} (its page lists no files of it)",
            server.url()
        )
    );
}

#[tokio::test]
async fn get_file_returns_the_body_and_fails_on_an_error_status() {
    let server = crate::test_server::TestServer::start(|request| {
        if request.path == "/reqs/base.txt" {
            crate::test_server::Reply::ok("text/plain", "django==5.0\n")
        } else {
            crate::test_server::Reply::new(404)
        }
    });
    let client = quick_client(Duration::from_secs(5));
    let body = client
        .get_file(&server.url("/reqs/base.txt"))
        .await
        .unwrap();
    assert_eq!(body, b"django==5.0\n");
    let err = client
        .get_file(&server.url("/reqs/missing.txt"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, crate::IndexError::Status { status: 404, .. }),
        "{err}"
    );
}
