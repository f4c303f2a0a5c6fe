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
