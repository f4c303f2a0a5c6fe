use rvenv_testkit::{Fault, FaultRule, IndexServer, SdistBuilder, ServedFile, WheelBuilder};

use super::*;

/// A wheel of about 300 kB (incompressible) so that reading it whole would show.
fn big_wheel() -> rvenv_testkit::BuiltFile {
    let mut state = 0x9e37_79b9_u32;
    let blob: Vec<u8> = (0..300_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    WheelBuilder::new("demo", "1.0")
        .requires_dist("idna>=2.5")
        .requires_dist("pysocks; extra == 'socks'")
        .provides_extra("socks")
        .requires_python(">=3.8")
        .file("demo/blob.bin", blob)
        .build()
}

fn wheel_requests(server: &IndexServer, filename: &str) -> Vec<rvenv_testkit::RequestLog> {
    let path = format!("/files/{filename}");
    server
        .requests()
        .into_iter()
        .filter(|request| request.path == path)
        .collect()
}

#[tokio::test]
async fn pep_658_metadata_file() {
    let wheel = big_wheel();
    let server = IndexServer::start([wheel.clone()]);
    let provider = provider(client(), settings(&[server.url()], None));
    let candidate = first_candidate(&provider, "demo").await;
    assert!(candidate.file.has_metadata_file);
    let metadata = provider.metadata(&candidate).await.unwrap();
    assert_eq!(metadata.requires_dist.len(), 2);
    assert_eq!(metadata.provides_extras[0].to_string(), "socks");
    assert!(wheel_requests(&server, &wheel.filename).is_empty());
    let metadata_path = format!("/files/{}.metadata", wheel.filename);
    assert!(server.requests().iter().any(|r| r.path == metadata_path));
}

#[tokio::test]
async fn range_requests_read_metadata_without_the_wheel() {
    let wheel = big_wheel();
    let server = IndexServer::builder()
        .file(wheel.clone())
        .no_metadata()
        .start();
    let provider = provider(client(), settings(&[server.url()], None));
    let candidate = first_candidate(&provider, "demo").await;
    assert!(!candidate.file.has_metadata_file);
    let metadata = provider.metadata(&candidate).await.unwrap();
    assert_eq!(metadata.name.to_string(), "demo");
    assert_eq!(
        metadata.requires_python.as_ref().unwrap().to_string(),
        ">=3.8"
    );
    let requests = wheel_requests(&server, &wheel.filename);
    assert!(!requests.is_empty() && requests.len() <= 3, "{requests:?}");
    assert!(requests.iter().all(|r| r.range.is_some()), "{requests:?}");
    assert!(provider.downloaded_file(&candidate.file.url).is_none());
}

#[tokio::test]
async fn whole_download_when_ranges_are_ignored_and_kept() {
    let wheel = big_wheel();
    let server = IndexServer::builder()
        .file(wheel.clone())
        .no_metadata()
        .no_range()
        .start();
    let provider = provider(client(), settings(&[server.url()], None));
    let candidate = first_candidate(&provider, "demo").await;
    let metadata = provider.metadata(&candidate).await.unwrap();
    assert_eq!(metadata.version.to_string(), "1.0");
    let kept = provider.downloaded_file(&candidate.file.url).unwrap();
    assert_eq!(std::fs::read(&kept).unwrap(), wheel.bytes);
    // Exactly one request for the wheel: the ranged one that got the whole file.
    assert_eq!(wheel_requests(&server, &wheel.filename).len(), 1);
}

#[tokio::test]
async fn corrupt_whole_download_fails_the_hash_check() {
    let wheel = big_wheel();
    let server = IndexServer::builder()
        .file(wheel.clone())
        .no_metadata()
        .no_range()
        .fault(FaultRule::always("/files/*", Fault::CorruptBody))
        .start();
    let provider = provider(client(), settings(&[server.url()], None));
    let candidate = first_candidate(&provider, "demo").await;
    let err = provider.metadata(&candidate).await.unwrap_err().to_string();
    assert!(err.contains("hash mismatch"), "{err}");
    assert!(provider.downloaded_file(&candidate.file.url).is_none());
}

#[tokio::test]
async fn missing_metadata_file_falls_back_to_ranges() {
    let wheel = big_wheel();
    let metadata_path = format!("/files/{}.metadata", wheel.filename);
    let server = IndexServer::builder()
        .file(wheel.clone())
        .fault(FaultRule::always(&metadata_path, Fault::Status(404)))
        .start();
    let provider = provider(client(), settings(&[server.url()], None));
    let candidate = first_candidate(&provider, "demo").await;
    provider.metadata(&candidate).await.unwrap();
    let requests = wheel_requests(&server, &wheel.filename);
    assert!(!requests.is_empty() && requests.iter().all(|r| r.range.is_some()));
}

#[tokio::test]
async fn metadata_is_cached_for_good() {
    let cache = tempfile::tempdir().unwrap();
    let server = IndexServer::builder()
        .file(big_wheel())
        .no_metadata()
        .start();
    let first = provider(client(), settings(&[server.url()], Some(cache.path())));
    let candidate = first_candidate(&first, "demo").await;
    first.metadata(&candidate).await.unwrap();
    server.clear_requests();
    let second = provider(client(), settings(&[server.url()], Some(cache.path())));
    let again = second.metadata(&candidate).await.unwrap();
    assert_eq!(again.name.to_string(), "demo");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn sdists_and_inconsistent_metadata_are_errors() {
    let sdist: ServedFile = SdistBuilder::new("plain", "1.0").build().into();
    let liar = WheelBuilder::new("liar", "1.0")
        .metadata_name("someone-else")
        .build();
    let server = IndexServer::builder()
        .file(sdist)
        .file(liar)
        .no_metadata()
        .start();
    let provider = provider(client(), settings(&[server.url()], None));
    let candidate = first_candidate(&provider, "plain").await;
    let err = provider.metadata(&candidate).await.unwrap_err().to_string();
    assert!(
        err.contains("building sdists for metadata is not supported yet"),
        "{err}"
    );
    assert!(err.contains("plain"), "{err}");
    let candidate = first_candidate(&provider, "liar").await;
    let err = provider.metadata(&candidate).await.unwrap_err().to_string();
    assert!(err.contains("someone-else"), "{err}");
}
