//! One look at the real PyPI: a page and a PEP 658 metadata file.

use rvenv_resolve::FileKind;

use super::*;

#[tokio::test]
async fn idna_from_pypi() {
    let provider = provider(
        IndexClient::with_netrc(ClientOptions::default(), None).unwrap(),
        IndexSettings::default(),
    );
    let found = candidates(&provider, "idna").await.unwrap();
    let newest = &found.versions[0];
    assert!(newest.version >= Version::from_str("3.10").unwrap());
    assert_eq!(newest.file.kind, FileKind::Wheel);
    let metadata = provider.metadata(newest).await.unwrap();
    assert_eq!(metadata.name.to_string(), "idna");
    assert_eq!(metadata.version, newest.version);
}
