//! Fetching one project's page from one index, through the HTTP cache.

use std::path::PathBuf;

use pep508_rs::PackageName;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, IF_MODIFIED_SINCE, IF_NONE_MATCH,
};
use reqwest::StatusCode;
use rvenv_resolve::DistFile;
use url::Url;

use crate::cache::{body_digest, read_page_file, Cache, CachedPage, PageHeader};
use crate::client::IndexClient;
use crate::error::IndexError;
use crate::filter::FileFilter;
use crate::redact::redact_url;
use crate::simple::{parse_page_filtered, ACCEPT as SIMPLE_ACCEPT};

/// What an index said about a project.
#[derive(Debug)]
pub(crate) enum PageFetch {
    Page(PageBody),
    /// 404: the project is not on this index.
    NotFound,
    /// Offline and not in the cache.
    NotCached,
}

/// A project page as served, parsed on demand.
#[derive(Debug)]
pub(crate) struct PageBody {
    content_type: Option<String>,
    /// The URL that served it (after redirects): the base for relative links.
    url: Url,
    /// The body's sha256 (hex): names its content in the candidates cache.
    pub digest: String,
    bytes: PageBytes,
}

/// Where a page's body is: in memory (just fetched), or in the cache, read only if parsed.
#[derive(Debug)]
enum PageBytes {
    Loaded(Vec<u8>),
    Stored(PathBuf),
}

/// A page's files, with the digest of the body they were parsed from: a cached body can be
/// replaced by another process between reading its header and reading it.
pub(crate) struct PageFiles {
    pub files: Vec<DistFile>,
    pub digest: String,
}

impl PageBody {
    /// The page's files; with a filter, only those that can matter for its target.
    pub fn files(&self, filter: Option<&FileFilter>) -> Result<PageFiles, IndexError> {
        match &self.bytes {
            PageBytes::Loaded(body) => Ok(PageFiles {
                files: self.parse(self.content_type.as_deref(), body, &self.url, filter)?,
                digest: self.digest.clone(),
            }),
            PageBytes::Stored(path) => {
                let page = read_page_file(path).ok_or_else(|| IndexError::Page {
                    url: redact_url(&self.url),
                    message: format!(
                        "the cached copy at {} could not be read; run again to fetch it anew",
                        path.display()
                    ),
                })?;
                let url = Url::parse(&page.header.url).unwrap_or_else(|_| self.url.clone());
                Ok(PageFiles {
                    files: self.parse(
                        page.header.content_type.as_deref(),
                        &page.body,
                        &url,
                        filter,
                    )?,
                    digest: page.header.body_sha256,
                })
            }
        }
    }

    fn parse(
        &self,
        content_type: Option<&str>,
        body: &[u8],
        url: &Url,
        filter: Option<&FileFilter>,
    ) -> Result<Vec<DistFile>, IndexError> {
        parse_page_filtered(content_type, body, url, filter).map_err(|message| IndexError::Page {
            url: redact_url(url),
            message,
        })
    }
}

/// The index URL with a trailing slash, so that joining `name/` appends.
pub(crate) fn index_base(index: &Url) -> Url {
    let mut base = index.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base
}

/// `<index>/<name>/`.
pub(crate) fn project_url(index: &Url, name: &PackageName) -> Result<Url, IndexError> {
    index_base(index)
        .join(&format!("{name}/"))
        .map_err(|err| IndexError::Page {
            url: redact_url(index),
            message: err.to_string(),
        })
}

/// One configured index: its URL without credentials (those live in the client) and how to
/// show it in messages.
#[derive(Debug, Clone)]
pub(crate) struct IndexLocation {
    pub url: Url,
    /// The URL as given, redacted.
    pub display: String,
}

impl IndexLocation {
    /// Registers the URL's credentials with the client and keeps the stripped URL.
    pub fn new(client: &IndexClient, given: &Url) -> IndexLocation {
        IndexLocation {
            url: client.register_credentials(given),
            display: redact_url(given),
        }
    }
}

/// Fetches `name`'s page on an index: from the cache when fresh (or when `offline`), else from
/// the server, revalidating a stale entry. A page from the cache is read only if parsed.
pub(crate) async fn fetch_project_page(
    client: &IndexClient,
    cache: Option<&Cache>,
    location: &IndexLocation,
    name: &PackageName,
    offline: bool,
) -> Result<PageFetch, IndexError> {
    let index = &location.url;
    let url = project_url(index, name)?;
    let cached = cache.and_then(|cache| Some((cache, cache.read_page_header(index, name)?)));
    if offline {
        return Ok(match cached {
            Some((cache, header)) => stored_page(cache, index, name, header),
            None => PageFetch::NotCached,
        });
    }
    if let Some((cache, header)) = &cached {
        if header.is_fresh() {
            return Ok(stored_page(cache, index, name, header.clone()));
        }
    }

    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(SIMPLE_ACCEPT));
    if let Some((_, stored)) = &cached {
        let value = |text: &Option<String>| {
            text.as_deref()
                .and_then(|text| HeaderValue::from_str(text).ok())
        };
        if let Some(etag) = value(&stored.etag) {
            headers.insert(IF_NONE_MATCH, etag);
        }
        if let Some(last_modified) = value(&stored.last_modified) {
            headers.insert(IF_MODIFIED_SINCE, last_modified);
        }
    }
    let response = client.get_bytes(&url, headers).await?;
    // The cache is an optimization: failing to write it must not fail the install. An entry
    // that would not change is not written again (indexes without validators send every page
    // again, unchanged, and pages run to megabytes).
    let store = |page: &CachedPage| {
        if let Some(cache) = cache {
            let stored = cached.as_ref().map(|(_, header)| header);
            if stored.is_none_or(|stored| page.header.differs_from(stored)) {
                let _ = cache.write_page(index, name, page);
            }
        }
    };
    match response.status {
        StatusCode::NOT_MODIFIED if cached.is_some() => {
            let (cache, stored) = cached.expect("checked above");
            let header = stored.clone().revalidated(&response.headers);
            if header.differs_from(&stored) {
                if let Some(mut page) = cache.read_page(index, name) {
                    if page.header.body_sha256 == header.body_sha256 {
                        page.header = header.clone();
                        let _ = cache.write_page(index, name, &page);
                    }
                }
            }
            Ok(stored_page(cache, index, name, header))
        }
        status if status.is_success() => {
            let content_type = response
                .headers
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string);
            let digest = match CachedPage::from_response(
                &response.headers,
                &response.url,
                Some(&response.body),
            ) {
                Some(page) => {
                    store(&page);
                    page.header.body_sha256
                }
                None => body_digest(&response.body),
            };
            Ok(PageFetch::Page(PageBody {
                content_type,
                url: response.url,
                digest,
                bytes: PageBytes::Loaded(response.body),
            }))
        }
        StatusCode::NOT_FOUND | StatusCode::GONE => {
            if let Some(page) = CachedPage::from_response(&response.headers, &response.url, None) {
                if page.header.max_age.is_some() {
                    store(&page);
                }
            }
            Ok(PageFetch::NotFound)
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(IndexError::Auth {
            url: redact_url(&response.url),
            index: Some(location.display.clone()),
            status: response.status.as_u16(),
            credentials: client.credential_source(&response.url),
        }),
        status => Err(IndexError::Status {
            url: redact_url(&response.url),
            status: status.as_u16(),
        }),
    }
}

/// What a stored entry says: a 404, or the page (its body left on disk until parsed).
fn stored_page(cache: &Cache, index: &Url, name: &PackageName, header: PageHeader) -> PageFetch {
    if !header.found {
        return PageFetch::NotFound;
    }
    match Url::parse(&header.url) {
        Ok(url) => PageFetch::Page(PageBody {
            content_type: header.content_type,
            url,
            digest: header.body_sha256,
            bytes: PageBytes::Stored(cache.page_path(index, name)),
        }),
        // An entry we cannot use is as good as none; the offline caller says "not cached".
        Err(_) => PageFetch::NotCached,
    }
}
