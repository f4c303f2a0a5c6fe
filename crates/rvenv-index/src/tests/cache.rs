use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::test_server::{Reply, TestServer};

use super::*;

const PAGE: &str = r#"{"meta": {"api-version": "1.1"}, "name": "demo", "files": [
  {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
   "hashes": {"sha256": "aa"}}]}"#;
const EMPTY: &str = r#"{"meta": {"api-version": "1.1"}, "name": "demo", "files": []}"#;

/// Answers 304 to `If-None-Match: "v1"`; without it, a page with no files, so that a test can
/// tell a revalidated entry from a refetched one.
fn revalidating_server(max_age: u32) -> (TestServer, Arc<AtomicUsize>) {
    let full_pages = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&full_pages);
    let server = TestServer::start(move |request| {
        let control = format!("max-age={max_age}");
        if request.header("if-none-match") == Some("\"v1\"") {
            return Reply::new(304)
                .header("ETag", "\"v1\"")
                .header("Cache-Control", &control);
        }
        let body = if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            PAGE
        } else {
            EMPTY
        };
        Reply::ok("application/vnd.pypi.simple.v1+json", body)
            .header("ETag", "\"v1\"")
            .header("Cache-Control", &control)
    });
    (server, full_pages)
}

#[tokio::test]
async fn stale_pages_are_revalidated_with_304() {
    let cache = tempfile::tempdir().unwrap();
    let (server, full_pages) = revalidating_server(0);
    let index = [server.url("/simple/").to_string()];
    let first = provider(client(), settings(&index, Some(cache.path())));
    assert_eq!(first.files(&name("demo")).await.unwrap().len(), 1);

    let second = provider(client(), settings(&index, Some(cache.path())));
    let files = second.files(&name("demo")).await.unwrap();
    assert_eq!(files.len(), 1, "the 304 reused the cached files");
    assert_eq!(full_pages.load(Ordering::SeqCst), 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
    assert!(requests[0]
        .header("accept")
        .unwrap()
        .starts_with("application/vnd.pypi.simple.v1+json"));
}

#[tokio::test]
async fn fresh_pages_need_no_request_and_offline_needs_none_at_all() {
    let cache = tempfile::tempdir().unwrap();
    let (server, _) = revalidating_server(600);
    let index = [server.url("/simple/").to_string()];
    provider(client(), settings(&index, Some(cache.path())))
        .files(&name("demo"))
        .await
        .unwrap();
    let second = provider(client(), settings(&index, Some(cache.path())));
    assert_eq!(second.files(&name("demo")).await.unwrap().len(), 1);
    assert_eq!(server.requests().len(), 1);

    // Offline uses the cache whatever its age, and never asks the server.
    let mut offline = settings(
        &["http://127.0.0.1:9/simple/".to_string()],
        Some(cache.path()),
    );
    offline.index_urls = vec![server.url("/simple/")];
    offline.offline = true;
    let offline = provider(client(), offline);
    assert_eq!(offline.files(&name("demo")).await.unwrap().len(), 1);
    let err = offline
        .files(&name("uncached"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not in the cache") && err.contains("--offline"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn html_served_when_json_is_not_spoken() {
    let server = TestServer::start(|request| {
        if request.path == "/simple/demo/" {
            Reply::ok(
                "text/html",
                r#"<a href="/files/demo-1.0.tar.gz#sha256=bb" data-requires-python="&gt;=3.9">demo-1.0.tar.gz</a>"#,
            )
        } else {
            Reply::new(404)
        }
    });
    let provider = provider(
        client(),
        settings(&[server.url("/simple").to_string()], None),
    );
    let files = provider.files(&name("Demo")).await.unwrap();
    assert_eq!(files[0].url, server.url("/files/demo-1.0.tar.gz"));
    assert_eq!(
        files[0].requires_python.as_ref().unwrap().to_string(),
        ">=3.9"
    );
}
