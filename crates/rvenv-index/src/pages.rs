//! Fetching one project's page from one index, through the HTTP cache.

use pep508_rs::PackageName;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, IF_MODIFIED_SINCE, IF_NONE_MATCH,
};
use reqwest::StatusCode;
use rvenv_resolve::DistFile;
use url::Url;

use crate::cache::{Cache, CachedPage};
use crate::client::IndexClient;
use crate::error::IndexError;
use crate::redact::redact_url;
use crate::simple::{parse_page, ACCEPT as SIMPLE_ACCEPT};

/// What an index said about a project.
#[derive(Debug)]
pub(crate) enum PageFetch {
    Files(Vec<DistFile>),
    /// 404: the project is not on this index.
    NotFound,
    /// Offline and not in the cache.
    NotCached,
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
/// the server, revalidating a stale entry.
pub(crate) async fn fetch_project_page(
    client: &IndexClient,
    cache: Option<&Cache>,
    location: &IndexLocation,
    name: &PackageName,
    offline: bool,
) -> Result<PageFetch, IndexError> {
    let index = &location.url;
    let url = project_url(index, name)?;
    let cached = cache.and_then(|cache| cache.read_page(index, name));
    if offline {
        return Ok(match cached {
            Some(page) => page_result(&page),
            None => PageFetch::NotCached,
        });
    }
    if let Some(page) = cached.as_ref().filter(|page| page.is_fresh()) {
        return Ok(page_result(page));
    }

    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(SIMPLE_ACCEPT));
    if let Some(page) = &cached {
        if let Some(value) = page
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(IF_NONE_MATCH, value);
        }
        if let Some(value) = page
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(IF_MODIFIED_SINCE, value);
        }
    }
    let response = client.get_bytes(&url, headers).await?;
    let store = |page: &CachedPage| {
        if let Some(cache) = cache {
            // The cache is an optimization: failing to write it must not fail the install.
            let _ = cache.write_page(index, name, page);
        }
    };
    match response.status {
        StatusCode::NOT_MODIFIED if cached.is_some() => {
            let page = cached
                .expect("checked above")
                .revalidated(&response.headers);
            store(&page);
            Ok(page_result(&page))
        }
        status if status.is_success() => {
            let content_type = response
                .headers
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok());
            let files =
                parse_page(content_type, &response.body, &response.url).map_err(|message| {
                    IndexError::Page {
                        url: redact_url(&response.url),
                        message,
                    }
                })?;
            if let Some(page) = CachedPage::from_response(&response.headers, Some(&files)) {
                store(&page);
            }
            Ok(PageFetch::Files(files))
        }
        StatusCode::NOT_FOUND | StatusCode::GONE => {
            if let Some(page) = CachedPage::from_response(&response.headers, None) {
                if page.max_age.is_some() {
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

fn page_result(page: &CachedPage) -> PageFetch {
    match page.files() {
        Some(files) => PageFetch::Files(files),
        None => PageFetch::NotFound,
    }
}
