use rvenv_testkit::{Fault, FaultRule, IndexServer, ServedFile, WheelBuilder};

use super::*;
use crate::FindLinks;

fn wheel(project: &str, version: &str) -> ServedFile {
    WheelBuilder::new(project, version).build().into()
}

#[tokio::test]
async fn json_and_html_pages_give_the_same_files() {
    let files = [wheel("demo", "1.0"), wheel("demo", "1.1").yanked("broken")];
    let json = IndexServer::builder()
        .files(files.clone())
        .json_only()
        .start();
    let html = IndexServer::builder().files(files).html_only().start();
    let from_json = provider(client(), settings(&[json.url()], None));
    let from_html = provider(client(), settings(&[html.url()], None));
    let mut json_files = from_json.files(&name("demo")).await.unwrap();
    let mut html_files = from_html.files(&name("demo")).await.unwrap();
    json_files.sort_by(|a, b| a.filename.cmp(&b.filename));
    html_files.sort_by(|a, b| a.filename.cmp(&b.filename));
    assert_eq!(json_files.len(), 2);
    for (a, b) in json_files.iter().zip(&html_files) {
        assert_eq!(a.filename, b.filename);
        assert_eq!(a.hashes, b.hashes);
        assert_eq!(a.yanked, b.yanked);
        assert_eq!(a.has_metadata_file, b.has_metadata_file);
        assert_eq!(a.url.path(), b.url.path());
    }
    assert_eq!(json_files[1].yanked.as_deref(), Some("broken"));
    assert!(json_files[0].has_metadata_file);
    assert_eq!(json_files[0].hashes[0].algorithm, "sha256");
}

#[tokio::test]
async fn all_indexes_by_default_first_index_on_request() {
    let primary = IndexServer::start([wheel("demo", "1.0"), wheel("only-primary", "1.0")]);
    let extra = IndexServer::start([wheel("demo", "2.0"), wheel("only-extra", "3.0")]);
    let urls = [primary.url(), extra.url()];

    let all = provider(client(), settings(&urls, None));
    assert_eq!(
        versions(&candidates(&all, "demo").await.unwrap()),
        ["2.0", "1.0"]
    );

    let mut first = settings(&urls, None);
    first.strategy = IndexStrategy::FirstIndex;
    let first = provider(client(), first);
    assert_eq!(
        versions(&candidates(&first, "demo").await.unwrap()),
        ["1.0"]
    );
    // A project missing from the first index is taken from the next one that has it.
    assert_eq!(
        versions(&candidates(&first, "only-extra").await.unwrap()),
        ["3.0"]
    );
}

#[tokio::test]
async fn not_found_names_every_location() {
    let a = IndexServer::start([wheel("demo", "1.0")]);
    let b = IndexServer::start([wheel("demo", "1.0")]);
    let provider = provider(client(), settings(&[a.url(), b.url()], None));
    let err = candidates(&provider, "missing-pkg").await.unwrap_err();
    assert!(
        err.contains("package missing-pkg was not found on"),
        "{err}"
    );
    assert!(err.contains(&a.url()) && err.contains(&b.url()), "{err}");

    let none = super::provider(client(), settings(&[], None));
    let err = candidates(&none, "demo").await.unwrap_err();
    assert!(err.contains("--no-index"), "{err}");
}

#[tokio::test]
async fn concurrent_requests_for_a_name_share_one_fetch() {
    let server = IndexServer::start([wheel("demo", "1.0")]);
    let provider = provider(client(), settings(&[server.url()], None));
    let calls = (0..8).map(|_| provider.candidates(&name("demo")));
    for result in futures::future::join_all(calls).await {
        assert_eq!(result.unwrap().versions.len(), 1);
    }
    let page_requests = server
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/simple/demo"))
        .count();
    assert_eq!(page_requests, 1);
}

#[tokio::test]
async fn retries_server_errors_then_gives_up_with_the_status() {
    let server = IndexServer::builder()
        .file(wheel("demo", "1.0"))
        .fault(FaultRule::first(2, "/simple/demo/", Fault::Status(503)))
        .start();
    let provider = provider(client(), settings(&[server.url()], None));
    assert_eq!(
        versions(&candidates(&provider, "demo").await.unwrap()),
        ["1.0"]
    );
    assert_eq!(server.request_count(), 3);

    let failing = IndexServer::builder()
        .file(wheel("demo", "1.0"))
        .fault(FaultRule::always("/simple/*", Fault::Status(502)))
        .start();
    let provider = super::provider(client(), settings(&[failing.url()], None));
    let err = candidates(&provider, "demo").await.unwrap_err();
    assert!(err.contains("502"), "{err}");
    assert_eq!(failing.request_count(), 3);
}

#[tokio::test]
async fn find_links_directory_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let local = WheelBuilder::new("demo", "3.0")
        .requires_dist("idna>=2")
        .build();
    local.write_to(dir.path());
    let server = IndexServer::start([wheel("demo", "1.0"), wheel("other", "1.0")]);

    let mut with_links = settings(&[], None);
    with_links.find_links = vec![
        FindLinks::Path(dir.path().to_path_buf()),
        FindLinks::parse(&server.find_links_url()),
    ];
    let provider = provider(client(), with_links);
    let found = candidates(&provider, "demo").await.unwrap();
    assert_eq!(versions(&found), ["3.0", "1.0"]);
    // Metadata of a local wheel comes from the file itself.
    let metadata = provider.metadata(&found.versions[0]).await.unwrap();
    assert_eq!(metadata.requires_dist[0].name.to_string(), "idna");
    assert_eq!(
        versions(&candidates(&provider, "other").await.unwrap()),
        ["1.0"]
    );
}

/// An address nothing listens on: connecting is refused at once.
const UNREACHABLE: &str = "http://127.0.0.1:9/simple/";

#[tokio::test]
async fn an_unreachable_index_is_skipped_while_another_answers() {
    let server = IndexServer::start([wheel("demo", "1.0")]);
    for strategy in [IndexStrategy::AllIndexes, IndexStrategy::FirstIndex] {
        let mut both = settings(&[UNREACHABLE.to_string(), server.url()], None);
        both.strategy = strategy;
        let provider = provider(client(), both);
        assert_eq!(
            versions(&candidates(&provider, "demo").await.unwrap()),
            ["1.0"]
        );
        let skipped = provider.skipped_locations();
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(skipped[0].starts_with(UNREACHABLE), "{skipped:?}");
        // A project found nowhere names the index that was skipped.
        let err = candidates(&provider, "missing-pkg").await.unwrap_err();
        assert!(
            err.contains("could not be reached: http://127.0.0.1:9"),
            "{err}"
        );
    }

    // Alone, the unreachable index is the error.
    let alone = provider(client(), settings(&[UNREACHABLE.to_string()], None));
    let err = candidates(&alone, "demo").await.unwrap_err();
    assert!(err.contains("request to http://127.0.0.1:9"), "{err}");
    assert!(alone.skipped_locations().is_empty());
}

#[tokio::test]
async fn missing_and_unreachable_find_links_are_skipped() {
    let server = IndexServer::start([wheel("demo", "1.0")]);
    let dir = tempfile::tempdir().unwrap();
    let mut with_links = settings(&[server.url()], None);
    with_links.find_links = vec![
        FindLinks::Path(dir.path().join("wheels-not-built-yet")),
        FindLinks::parse("http://127.0.0.1:9/whl/torch_stable.html"),
    ];
    let provider = provider(client(), with_links);
    assert_eq!(
        versions(&candidates(&provider, "demo").await.unwrap()),
        ["1.0"]
    );
    assert_eq!(provider.skipped_locations().len(), 2);
}

/// A skipped index still has its place in the candidates key: candidates read from the second
/// index while the first was down are not taken for the first index's once it answers again,
/// even when both serve the same page.
#[tokio::test]
async fn candidates_from_past_a_skipped_index_are_not_reused_for_it() {
    let files = [wheel("demo", "1.0")];
    let serve = || {
        IndexServer::builder()
            .files(files.clone())
            .link_style(rvenv_testkit::LinkStyle::RootRelative)
            .start()
    };
    let (first, second) = (serve(), serve());
    let cache = tempfile::tempdir().unwrap();
    let mut both = settings(&[first.url(), second.url()], Some(cache.path()));
    both.strategy = IndexStrategy::FirstIndex;
    let file_port = |candidates: &Candidates| candidates.versions[0].file.url.port();

    first.add_fault(FaultRule::always("/simple/*", Fault::Status(503)));
    let past_it = candidates(&provider(client(), both.clone()), "demo")
        .await
        .unwrap();
    assert_eq!(file_port(&past_it), Some(second.port()));

    first.clear_faults();
    let answered = candidates(&provider(client(), both), "demo").await.unwrap();
    assert_eq!(file_port(&answered), Some(first.port()));
}
