//! The on-disk cache: simple pages as served, with their HTTP validators (`simple-v3/`); the
//! candidates chosen from them for a target (`candidates-v2/`, see [`crate::stored`]); core
//! metadata, immutable per file URL and hash (`metadata-v1/`); the projects the last
//! resolution of a set of requirements ended with (`resolved-v1/`), fetched ahead next time;
//! and whole resolutions with the candidates keys they depend on (`resolutions-v1/`).
//! Writes are atomic (temp file + rename); unreadable entries count as missing.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use pep508_rs::PackageName;
use reqwest::header::{HeaderMap, CACHE_CONTROL, CONTENT_TYPE, ETAG, LAST_MODIFIED};
use rvenv_resolve::{Candidates, DistFile};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::client::{hex, write_atomic};
use crate::error::IndexError;
use crate::redact::strip_credentials;
use crate::stored::{StoredCandidates, StoredResolution};

/// A project page as stored: the body as the index served it (parsed again on use, which costs
/// less than reading back a parsed copy, and lets the parse skip the files a target cannot use)
/// plus what HTTP revalidation needs.
///
/// On disk: one line of JSON ([`PageHeader`]), a newline, then the body's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CachedPage {
    pub header: PageHeader,
    /// Empty when the index answered 404.
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PageHeader {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// `Cache-Control: max-age`, seconds.
    pub max_age: Option<u64>,
    /// `Cache-Control: no-cache`: always revalidate.
    pub no_cache: bool,
    /// Unix seconds of the last fetch or revalidation.
    pub fetched_at: u64,
    /// `false` when the index answered 404.
    pub found: bool,
    pub content_type: Option<String>,
    /// The URL that served the page, after redirects: the base of relative links.
    pub url: String,
    /// The body's sha256 (hex): names the page's content without reading it.
    pub body_sha256: String,
}

impl PageHeader {
    /// Whether storing this header over `stored` would change anything that is ever read (the
    /// header names the body by its digest, so a changed body changes it): the time of the fetch
    /// only matters to an entry with a max-age. Rewriting a page of megabytes that the index
    /// sent again unchanged (indexes without validators) is what this saves.
    pub fn differs_from(&self, stored: &PageHeader) -> bool {
        if self.max_age.is_none() && stored.max_age.is_none() {
            let ignoring_time = PageHeader {
                fetched_at: stored.fetched_at,
                ..self.clone()
            };
            return ignoring_time != *stored;
        }
        self != stored
    }

    /// After a 304: the stored body stays, freshness starts again.
    pub fn revalidated(mut self, headers: &HeaderMap) -> PageHeader {
        let control = CacheControl::parse(headers);
        if control.max_age.is_some() {
            self.max_age = control.max_age;
        }
        if let Some(etag) = headers.get(ETAG).and_then(|value| value.to_str().ok()) {
            self.etag = Some(etag.to_string());
        }
        self.fetched_at = now();
        self
    }

    /// Whether asking for the page again costs no more than a round trip: it is fresh, or the
    /// server can answer 304 to its validators.
    pub fn is_cheap_to_revalidate(&self) -> bool {
        self.is_fresh() || self.etag.is_some() || self.last_modified.is_some()
    }

    /// Whether the entry may be used without asking the server.
    pub fn is_fresh(&self) -> bool {
        !self.no_cache
            && self
                .max_age
                .is_some_and(|max_age| now().saturating_sub(self.fetched_at) < max_age)
    }
}

impl CachedPage {
    /// Builds an entry from a response; `None` when the response forbids storing.
    /// `body` is `None` for a 404.
    pub fn from_response(
        headers: &HeaderMap,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Option<CachedPage> {
        let control = CacheControl::parse(headers);
        if control.no_store {
            return None;
        }
        let text = |name| {
            headers
                .get(name)
                .and_then(|value: &reqwest::header::HeaderValue| value.to_str().ok())
                .map(str::to_string)
        };
        let found = body.is_some();
        let body = body.map(<[u8]>::to_vec).unwrap_or_default();
        Some(CachedPage {
            header: PageHeader {
                etag: text(ETAG),
                last_modified: text(LAST_MODIFIED),
                max_age: control.max_age,
                no_cache: control.no_cache,
                fetched_at: now(),
                found,
                content_type: text(CONTENT_TYPE),
                url: url.to_string(),
                body_sha256: body_digest(&body),
            },
            body,
        })
    }

    fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut bytes = serde_json::to_vec(&self.header)?;
        bytes.push(b'\n');
        bytes.extend_from_slice(&self.body);
        Ok(bytes)
    }

    fn from_bytes(mut bytes: Vec<u8>) -> Option<CachedPage> {
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let header: PageHeader = serde_json::from_slice(&bytes[..newline]).ok()?;
        bytes.drain(..=newline);
        Some(CachedPage {
            header,
            body: bytes,
        })
    }
}

struct CacheControl {
    max_age: Option<u64>,
    no_cache: bool,
    no_store: bool,
}

impl CacheControl {
    fn parse(headers: &HeaderMap) -> CacheControl {
        let mut control = CacheControl {
            max_age: None,
            no_cache: false,
            no_store: false,
        };
        for value in headers.get_all(CACHE_CONTROL) {
            let Ok(value) = value.to_str() else { continue };
            for directive in value.split(',') {
                let directive = directive.trim().to_ascii_lowercase();
                if let Some(seconds) = directive.strip_prefix("max-age=") {
                    control.max_age = seconds.trim_matches('"').parse().ok();
                } else if directive == "no-cache" {
                    control.no_cache = true;
                } else if directive == "no-store" {
                    control.no_store = true;
                }
            }
        }
        control
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The digest that names a page body ([`PageHeader::body_sha256`]).
pub(crate) fn body_digest(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

fn short_hash(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))[..24].to_string()
}

/// The cache directory.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: &Path) -> Cache {
        Cache {
            root: root.to_path_buf(),
        }
    }

    pub(crate) fn page_path(&self, index: &Url, name: &PackageName) -> PathBuf {
        let index_key = short_hash(strip_credentials(index).as_str());
        self.root
            .join("simple-v3")
            .join(index_key)
            .join(format!("{name}.json"))
    }

    pub fn read_page(&self, index: &Url, name: &PackageName) -> Option<CachedPage> {
        read_page_file(&self.page_path(index, name))
    }

    /// The header of a stored page, without reading its body.
    pub fn read_page_header(&self, index: &Url, name: &PackageName) -> Option<PageHeader> {
        let file = fs_err::File::open(self.page_path(index, name)).ok()?;
        let mut line = Vec::new();
        std::io::BufReader::new(file)
            .read_until(b'\n', &mut line)
            .ok()?;
        serde_json::from_slice(line.strip_suffix(b"\n")?).ok()
    }

    pub fn write_page(
        &self,
        index: &Url,
        name: &PackageName,
        page: &CachedPage,
    ) -> Result<(), IndexError> {
        let bytes = page.to_bytes().map_err(|err| IndexError::Io(err.into()))?;
        write_atomic(&self.page_path(index, name), &bytes)
    }

    fn metadata_path(&self, file: &DistFile) -> PathBuf {
        let mut key = strip_credentials(&file.url).to_string();
        for hash in &file.hashes {
            key.push_str(&format!("#{}={}", hash.algorithm, hash.digest));
        }
        let key = short_hash(&key);
        self.root
            .join("metadata-v1")
            .join(&key[..2])
            .join(format!("{key}.metadata"))
    }

    pub fn read_metadata(&self, file: &DistFile) -> Option<Vec<u8>> {
        fs_err::read(self.metadata_path(file)).ok()
    }

    pub fn write_metadata(&self, file: &DistFile, bytes: &[u8]) -> Result<(), IndexError> {
        write_atomic(&self.metadata_path(file), bytes)
    }

    fn candidates_path(&self, name: &PackageName) -> PathBuf {
        self.root
            .join(crate::stored::FORMAT)
            .join(format!("{name}.json"))
    }

    /// `name`'s candidates when they were stored under `key`.
    pub fn read_candidates(&self, name: &PackageName, key: &str) -> Option<Candidates> {
        let bytes = fs_err::read(self.candidates_path(name)).ok()?;
        let stored: StoredCandidates = serde_json::from_slice(&bytes).ok()?;
        stored.into_candidates(key, name)
    }

    pub fn write_candidates(
        &self,
        name: &PackageName,
        key: &str,
        candidates: &Candidates,
    ) -> Result<(), IndexError> {
        let bytes = serde_json::to_vec(&StoredCandidates::new(key, candidates))
            .map_err(|err| IndexError::Io(err.into()))?;
        write_atomic(&self.candidates_path(name), &bytes)
    }
}

impl Cache {
    fn recalled_path(&self, key: &str) -> PathBuf {
        self.root.join("resolved-v1").join(format!("{key}.json"))
    }

    /// The projects stored under `key` (see [`Cache::write_recalled`]).
    pub fn read_recalled(&self, key: &str) -> Option<Vec<PackageName>> {
        let bytes = fs_err::read(self.recalled_path(key)).ok()?;
        let names: Vec<PackageName> = serde_json::from_slice(&bytes).ok()?;
        Some(names)
    }

    /// Keeps the projects a resolution ended with, under a key naming what was resolved and
    /// where; written only when they changed.
    pub fn write_recalled(&self, key: &str, names: &[PackageName]) -> Result<(), IndexError> {
        if self.read_recalled(key).as_deref() == Some(names) {
            return Ok(());
        }
        let bytes = serde_json::to_vec(names).map_err(|err| IndexError::Io(err.into()))?;
        write_atomic(&self.recalled_path(key), &bytes)
    }
}

impl Cache {
    fn resolution_path(&self, key: &str) -> PathBuf {
        self.root.join("resolutions-v1").join(format!("{key}.json"))
    }

    /// The resolution stored under `key` (see [`Cache::write_resolution`]).
    pub(crate) fn read_resolution(&self, key: &str) -> Option<StoredResolution> {
        let bytes = fs_err::read(self.resolution_path(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps a resolution under a key naming the request and the indexes it was resolved on.
    pub(crate) fn write_resolution(
        &self,
        key: &str,
        resolution: &StoredResolution,
    ) -> Result<(), IndexError> {
        let bytes = serde_json::to_vec(resolution).map_err(|err| IndexError::Io(err.into()))?;
        write_atomic(&self.resolution_path(key), &bytes)
    }
}

/// A stored page (header and body) from its file.
pub(crate) fn read_page_file(path: &Path) -> Option<CachedPage> {
    CachedPage::from_bytes(fs_err::read(path).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pep440_rs::VersionSpecifiers;
    use reqwest::header::HeaderValue;
    use rvenv_resolve::{FileKind, Hash};
    use std::str::FromStr;

    fn file() -> DistFile {
        DistFile {
            filename: "demo-1.0-py3-none-any.whl".into(),
            kind: FileKind::Wheel,
            url: Url::parse("https://files.example.com/demo-1.0-py3-none-any.whl").unwrap(),
            hashes: vec![Hash {
                algorithm: "sha256".into(),
                digest: "ab".into(),
            }],
            size: Some(10),
            requires_python: Some(VersionSpecifiers::from_str(">=3.8").unwrap()),
            yanked: Some("oops".into()),
            has_metadata_file: true,
            metadata_hashes: Vec::new(),
        }
    }

    #[test]
    fn page_round_trip_and_freshness() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let index = Url::parse("https://u:p@idx.example.com/simple/").unwrap();
        let name = PackageName::from_str("demo").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("max-age=600, public"),
        );
        headers.insert(ETAG, HeaderValue::from_static("\"v1\""));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        let url = Url::parse("https://idx.example.com/simple/demo/").unwrap();
        let body = b"<a href='demo-1.0.tar.gz'>x</a>\n<a href='demo-2.0.tar.gz'>y</a>\n";
        let page = CachedPage::from_response(&headers, &url, Some(body)).unwrap();
        assert!(page.header.is_fresh());
        cache.write_page(&index, &name, &page).unwrap();
        let read = cache.read_page(&index, &name).unwrap();
        assert_eq!(read, page);
        assert_eq!(read.header.etag.as_deref(), Some("\"v1\""));
        assert_eq!(read.header.content_type.as_deref(), Some("text/html"));
        assert_eq!(read.body, body);
        assert_eq!(read.header.body_sha256, body_digest(body));
        assert_eq!(cache.read_page_header(&index, &name).unwrap(), read.header);
        // The same index without credentials shares the entry; the path holds no password.
        let plain = Url::parse("https://idx.example.com/simple/").unwrap();
        assert!(cache.read_page(&plain, &name).is_some());

        let mut stale = read.header.clone();
        stale.fetched_at -= 601;
        assert!(!stale.is_fresh());
        assert!(stale.revalidated(&headers).is_fresh());

        let missing = CachedPage::from_response(&headers, &url, None).unwrap();
        assert!(!missing.header.found);
        cache.write_page(&index, &name, &missing).unwrap();
        assert_eq!(cache.read_page(&index, &name).unwrap(), missing);
    }

    #[test]
    fn unchanged_pages_are_not_rewritten() {
        let url = Url::parse("https://idx.example.com/simple/demo/").unwrap();
        let stored = CachedPage::from_response(&HeaderMap::new(), &url, Some(b"body"))
            .unwrap()
            .header;
        let mut again = stored.clone();
        again.fetched_at += 100;
        // Without a max-age the time of the fetch is never read.
        assert!(!again.differs_from(&stored));
        let other = CachedPage::from_response(&HeaderMap::new(), &url, Some(b"other"))
            .unwrap()
            .header;
        assert!(other.differs_from(&stored));
        let mut fresh = stored.clone();
        fresh.max_age = Some(600);
        assert!(fresh.differs_from(&stored));
        let mut with_max_age = fresh.clone();
        with_max_age.fetched_at += 1;
        assert!(with_max_age.differs_from(&fresh));
    }

    #[test]
    fn truncated_entries_count_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let index = Url::parse("https://idx.example.com/simple/").unwrap();
        let name = PackageName::from_str("demo").unwrap();
        let path = cache.page_path(&index, &name);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(&path, b"{\"etag\": nu").unwrap();
        assert!(cache.read_page(&index, &name).is_none());
    }

    #[test]
    fn no_store_and_no_cache() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let url = Url::parse("https://idx.example.com/simple/demo/").unwrap();
        assert!(CachedPage::from_response(&headers, &url, None).is_none());
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("max-age=60, no-cache"),
        );
        assert!(!CachedPage::from_response(&headers, &url, None)
            .unwrap()
            .header
            .is_fresh());
    }

    #[test]
    fn metadata_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        assert!(cache.read_metadata(&file()).is_none());
        cache.write_metadata(&file(), b"Name: demo\n").unwrap();
        assert_eq!(cache.read_metadata(&file()).unwrap(), b"Name: demo\n");
        let mut other = file();
        other.hashes[0].digest = "cd".into();
        assert!(cache.read_metadata(&other).is_none());
    }
}
