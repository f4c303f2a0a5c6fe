//! The on-disk cache: simple pages with their HTTP validators (`simple-v1/`), and core metadata,
//! immutable per file URL and hash (`metadata-v1/`). Writes are atomic (temp file + rename);
//! unreadable entries count as missing.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use pep440_rs::VersionSpecifiers;
use pep508_rs::PackageName;
use reqwest::header::{HeaderMap, CACHE_CONTROL, ETAG, LAST_MODIFIED};
use rvenv_resolve::{DistFile, Hash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::client::{hex, write_atomic};
use crate::error::IndexError;
use crate::filename::file_kind;
use crate::redact::strip_credentials;

/// A project page as stored: the parsed files plus what HTTP revalidation needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedPage {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// `Cache-Control: max-age`, seconds.
    pub max_age: Option<u64>,
    /// `Cache-Control: no-cache`: always revalidate.
    pub no_cache: bool,
    /// Unix seconds of the last fetch or revalidation.
    pub fetched_at: u64,
    /// `None` when the index answered 404.
    pub files: Option<Vec<CachedFile>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedFile {
    filename: String,
    url: String,
    hashes: Vec<(String, String)>,
    size: Option<u64>,
    requires_python: Option<String>,
    yanked: Option<String>,
    has_metadata_file: bool,
}

impl From<&DistFile> for CachedFile {
    fn from(file: &DistFile) -> Self {
        CachedFile {
            filename: file.filename.clone(),
            url: file.url.to_string(),
            hashes: file
                .hashes
                .iter()
                .map(|hash| (hash.algorithm.clone(), hash.digest.clone()))
                .collect(),
            size: file.size,
            requires_python: file.requires_python.as_ref().map(ToString::to_string),
            yanked: file.yanked.clone(),
            has_metadata_file: file.has_metadata_file,
        }
    }
}

impl CachedFile {
    fn to_dist_file(&self) -> Option<DistFile> {
        Some(DistFile {
            filename: self.filename.clone(),
            kind: file_kind(&self.filename)?,
            url: Url::parse(&self.url).ok()?,
            hashes: self
                .hashes
                .iter()
                .map(|(algorithm, digest)| Hash {
                    algorithm: algorithm.clone(),
                    digest: digest.clone(),
                })
                .collect(),
            size: self.size,
            requires_python: self
                .requires_python
                .as_deref()
                .and_then(|text| VersionSpecifiers::from_str(text).ok()),
            yanked: self.yanked.clone(),
            has_metadata_file: self.has_metadata_file,
        })
    }
}

impl CachedPage {
    /// Builds an entry from a response's headers; `None` when the response forbids storing.
    pub fn from_response(headers: &HeaderMap, files: Option<&[DistFile]>) -> Option<CachedPage> {
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
        Some(CachedPage {
            etag: text(ETAG),
            last_modified: text(LAST_MODIFIED),
            max_age: control.max_age,
            no_cache: control.no_cache,
            fetched_at: now(),
            files: files.map(|files| files.iter().map(CachedFile::from).collect()),
        })
    }

    /// After a 304: the stored files stay, freshness starts again.
    pub fn revalidated(mut self, headers: &HeaderMap) -> CachedPage {
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

    /// Whether the entry may be used without asking the server.
    pub fn is_fresh(&self) -> bool {
        !self.no_cache
            && self
                .max_age
                .is_some_and(|max_age| now().saturating_sub(self.fetched_at) < max_age)
    }

    pub fn files(&self) -> Option<Vec<DistFile>> {
        self.files
            .as_ref()
            .map(|files| files.iter().filter_map(CachedFile::to_dist_file).collect())
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

    fn page_path(&self, index: &Url, name: &PackageName) -> PathBuf {
        let index_key = short_hash(strip_credentials(index).as_str());
        self.root
            .join("simple-v1")
            .join(index_key)
            .join(format!("{name}.json"))
    }

    pub fn read_page(&self, index: &Url, name: &PackageName) -> Option<CachedPage> {
        let bytes = fs_err::read(self.page_path(index, name)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn write_page(
        &self,
        index: &Url,
        name: &PackageName,
        page: &CachedPage,
    ) -> Result<(), IndexError> {
        let bytes = serde_json::to_vec(page).map_err(|err| IndexError::Io(err.into()))?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use rvenv_resolve::FileKind;

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
        let page = CachedPage::from_response(&headers, Some(&[file()])).unwrap();
        assert!(page.is_fresh());
        cache.write_page(&index, &name, &page).unwrap();
        let read = cache.read_page(&index, &name).unwrap();
        assert_eq!(read.etag.as_deref(), Some("\"v1\""));
        assert_eq!(read.files().unwrap(), vec![file()]);
        // The same index without credentials shares the entry; the path holds no password.
        let plain = Url::parse("https://idx.example.com/simple/").unwrap();
        assert!(cache.read_page(&plain, &name).is_some());

        let stale = CachedPage {
            fetched_at: read.fetched_at - 601,
            ..read
        };
        assert!(!stale.is_fresh());
        assert!(stale.revalidated(&headers).is_fresh());
    }

    #[test]
    fn no_store_and_no_cache() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        assert!(CachedPage::from_response(&headers, None).is_none());
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("max-age=60, no-cache"),
        );
        assert!(!CachedPage::from_response(&headers, None)
            .unwrap()
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
