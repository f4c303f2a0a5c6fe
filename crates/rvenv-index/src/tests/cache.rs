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

/// Serves the page `pages[n]` to the n-th request (the last one after that), with no
/// validators, as the PyPI reachable from here does.
fn changing_server(pages: &'static [&'static str]) -> TestServer {
    let served = AtomicUsize::new(0);
    TestServer::start(move |_| {
        let n = served.fetch_add(1, Ordering::SeqCst).min(pages.len() - 1);
        Reply::ok("application/vnd.pypi.simple.v1+json", pages[n])
    })
}

const TWO_VERSIONS: &str = r#"{"meta": {"api-version": "1.1"}, "name": "demo", "files": [
  {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
   "hashes": {"sha256": "aa"}},
  {"filename": "demo-2.0-py3-none-any.whl", "url": "/files/demo-2.0-py3-none-any.whl",
   "hashes": {"sha256": "bb"}}]}"#;

fn candidates_file(cache: &Path) -> std::path::PathBuf {
    cache.join(crate::stored::FORMAT).join("demo.json")
}

#[tokio::test]
async fn chosen_candidates_are_kept_until_the_page_changes() {
    let cache = tempfile::tempdir().unwrap();
    let server = changing_server(&[PAGE, PAGE, TWO_VERSIONS]);
    let index = [server.url("/simple/").to_string()];
    let run = || provider(client(), settings(&index, Some(cache.path())));

    assert_eq!(
        versions(&candidates(&run(), "demo").await.unwrap()),
        ["1.0"]
    );
    // The same page again: the candidates come from the cache, as the marked entry shows.
    let stored = fs_err::read_to_string(candidates_file(cache.path())).unwrap();
    assert!(stored.contains("demo-1.0-py3-none-any.whl"), "{stored}");
    fs_err::write(
        candidates_file(cache.path()),
        stored.replace("/files/demo-1.0", "/marked/demo-1.0"),
    )
    .unwrap();
    let second = candidates(&run(), "demo").await.unwrap();
    assert_eq!(
        second.versions[0].file.url.path(),
        "/marked/demo-1.0-py3-none-any.whl"
    );

    // A new release changes the page: it is parsed again and the new version is seen.
    let third = candidates(&run(), "demo").await.unwrap();
    assert_eq!(versions(&third), ["2.0", "1.0"]);
    assert_eq!(
        third.versions[1].file.url.path(),
        "/files/demo-1.0-py3-none-any.whl"
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn kept_candidates_belong_to_one_target_and_broken_entries_are_ignored() {
    let cache = tempfile::tempdir().unwrap();
    let server = changing_server(&[PAGE]);
    let index = [server.url("/simple/").to_string()];
    let usable = provider(client(), settings(&index, Some(cache.path())));
    assert_eq!(
        versions(&candidates(&usable, "demo").await.unwrap()),
        ["1.0"]
    );

    // Another target (no tag in common) and another option set do not take those candidates.
    let other_target = Target {
        tags: vec![("cp27".into(), "cp27mu".into(), "linux_i686".into())],
        python_full_version: Version::from_str("2.7.18").unwrap(),
    };
    let other = IndexProvider::new(
        client(),
        settings(&index, Some(cache.path())),
        other_target,
        SelectOptions::default(),
    );
    let found = candidates(&other, "demo").await.unwrap();
    assert!(found.versions.is_empty(), "{:?}", found.versions);
    assert_eq!(found.unusable.len(), 1);
    let no_binary = IndexProvider::new(
        client(),
        settings(&index, Some(cache.path())),
        target(),
        SelectOptions {
            no_binary: rvenv_resolve::select::PackageSet::All,
            ..SelectOptions::default()
        },
    );
    assert!(candidates(&no_binary, "demo")
        .await
        .unwrap()
        .versions
        .is_empty());

    // A damaged entry counts as missing.
    fs_err::write(candidates_file(cache.path()), b"{\"key\": ").unwrap();
    let again = provider(client(), settings(&index, Some(cache.path())));
    assert_eq!(
        versions(&candidates(&again, "demo").await.unwrap()),
        ["1.0"]
    );
}

#[test]
fn resolved_projects_are_recalled_for_the_same_roots_and_indexes() {
    let cache = tempfile::tempdir().unwrap();
    let index = ["https://idx.example.com/simple/".to_string()];
    let roots = [name("fastapi"), name("uvicorn")];
    let resolved = [name("fastapi"), name("starlette"), name("uvicorn")];
    let first = provider(client(), settings(&index, Some(cache.path())));
    assert!(first.recall(&roots).is_empty());
    first.remember(&roots, &resolved);

    // Recalled are the projects whose pages can be asked again cheaply (fresh, or with a
    // validator); a page without either would come whole and is left to the resolver's order.
    let second = provider(client(), settings(&index, Some(cache.path())));
    assert!(second.recall(&roots).is_empty());
    let page = |etag: Option<&str>| {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(etag) = etag {
            headers.insert("etag", etag.parse().unwrap());
        }
        let page_url = url("https://idx.example.com/simple/x/");
        crate::cache::CachedPage::from_response(&headers, &page_url, Some(b"{}")).unwrap()
    };
    let pages = crate::cache::Cache::new(cache.path());
    pages
        .write_page(&url(&index[0]), &name("fastapi"), &page(Some("\"1\"")))
        .unwrap();
    pages
        .write_page(&url(&index[0]), &name("starlette"), &page(Some("\"2\"")))
        .unwrap();
    pages
        .write_page(&url(&index[0]), &name("uvicorn"), &page(None))
        .unwrap();
    assert_eq!(second.recall(&roots), resolved[..2]);
    assert!(second.recall(&roots[..1]).is_empty());
    let elsewhere = ["https://other.example.com/simple/".to_string()];
    assert!(provider(client(), settings(&elsewhere, Some(cache.path())))
        .recall(&roots)
        .is_empty());
    let uncached = provider(client(), settings(&index, None));
    uncached.remember(&roots, &resolved);
    assert!(uncached.recall(&roots).is_empty());
}

fn resolution_of(candidate: &Candidate) -> rvenv_resolve::Resolution {
    use rvenv_resolve::{Origin, RequiredBy, ResolvedPackage};
    rvenv_resolve::Resolution {
        packages: vec![ResolvedPackage {
            name: candidate.name.clone(),
            version: candidate.version.clone(),
            candidate: candidate.clone(),
            requested: true,
            extras: vec![pep508_rs::ExtraName::from_str("fast").unwrap()],
            required_by: vec![
                RequiredBy::User {
                    requirement: "demo[fast]".into(),
                    origin: Origin("requirements.txt:3".into()),
                },
                RequiredBy::Package {
                    name: name("app"),
                    version: Version::from_str("0.1").unwrap(),
                    extra: Some(pep508_rs::ExtraName::from_str("all").unwrap()),
                    requirement: "demo>=1".into(),
                },
            ],
        }],
    }
}

#[tokio::test]
async fn a_kept_resolution_holds_until_a_page_it_consulted_changes() {
    let cache = tempfile::tempdir().unwrap();
    let server = changing_server(&[PAGE, PAGE, TWO_VERSIONS]);
    let index = [server.url("/simple/").to_string()];
    let run = || provider(client(), settings(&index, Some(cache.path())));

    let first = run();
    let found = candidates(&first, "demo").await.unwrap();
    let resolution = resolution_of(&found.versions[0]);
    first.keep_resolution("request A", &[name("demo")], &resolution);
    // A project this provider did not answer (another provider's, or a failed one): not kept.
    first.keep_resolution("request B", &[name("demo"), name("other")], &resolution);

    // The page is the same: the resolution comes back whole, after one conditional request.
    let second = run();
    assert_eq!(
        second.kept_resolution("request A").await,
        Some(resolution.clone())
    );
    assert_eq!(second.kept_resolution("request B").await, None);
    assert_eq!(second.kept_resolution("request C").await, None);
    assert_eq!(server.requests().len(), 2);

    // A new release: not kept any more, and the page fetched to find out serves the versions.
    let third = run();
    assert_eq!(third.kept_resolution("request A").await, None);
    assert_eq!(
        versions(&candidates(&third, "demo").await.unwrap()),
        ["2.0", "1.0"]
    );
    assert_eq!(server.requests().len(), 3);

    // Another target never sees it.
    let other_target = IndexProvider::new(
        client(),
        settings(&index, Some(cache.path())),
        Target {
            tags: vec![("cp27".into(), "cp27mu".into(), "linux_i686".into())],
            python_full_version: Version::from_str("2.7.18").unwrap(),
        },
        SelectOptions::default(),
    );
    assert_eq!(other_target.kept_resolution("request A").await, None);
}
