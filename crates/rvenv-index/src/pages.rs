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
    body: Vec<u8>,
    /// The URL that served it (after redirects): the base for relative links.
    url: Url,
}

impl PageBody {
    /// The page's files; with a filter, only those that can matter for its target.
    pub fn files(&self, filter: Option<&FileFilter>) -> Result<Vec<DistFile>, IndexError> {
        parse_page_filtered(self.content_type.as_deref(), &self.body, &self.url, filter).map_err(
            |message| IndexError::Page {
                url: redact_url(&self.url),
                message,
            },
        )
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
            Some(page) => page_result(page),
            None => PageFetch::NotCached,
        });
    }
    let cached = match cached {
        Some(page) if page.is_fresh() => return Ok(page_result(page)),
        cached => cached,
    };

    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(SIMPLE_ACCEPT));
    if let Some(page) = &cached {
        if let Some(value) = page
            .header
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(IF_NONE_MATCH, value);
        }
        if let Some(value) = page
            .header
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(IF_MODIFIED_SINCE, value);
        }
    }
    let response = client.get_bytes(&url, headers).await?;
    // The cache is an optimization: failing to write it must not fail the install. An entry
    // that would not change is not written again (indexes without validators send every page
    // again, unchanged, and pages run to megabytes).
    let store = |page: &CachedPage, stored: Option<&CachedPage>| {
        if let Some(cache) = cache {
            if stored.is_none_or(|stored| page.differs_from(stored)) {
                let _ = cache.write_page(index, name, page);
            }
        }
    };
    match response.status {
        StatusCode::NOT_MODIFIED if cached.is_some() => {
            let stored = cached.expect("checked above");
            let stored_header = stored.header.clone();
            let page = stored.revalidated(&response.headers);
            if let Some(cache) = cache.filter(|_| page.header.differs_from(&stored_header)) {
                let _ = cache.write_page(index, name, &page);
            }
            Ok(page_result(page))
        }
        status if status.is_success() => {
            let content_type = response
                .headers
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string);
            if let Some(page) =
                CachedPage::from_response(&response.headers, &response.url, Some(&response.body))
            {
                store(&page, cached.as_ref());
            }
            Ok(PageFetch::Page(PageBody {
                content_type,
                body: response.body,
                url: response.url,
            }))
        }
        StatusCode::NOT_FOUND | StatusCode::GONE => {
            if let Some(page) = CachedPage::from_response(&response.headers, &response.url, None) {
                if page.header.max_age.is_some() {
                    store(&page, cached.as_ref());
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

fn page_result(page: CachedPage) -> PageFetch {
    if !page.header.found {
        return PageFetch::NotFound;
    }
    match Url::parse(&page.header.url) {
        Ok(url) => PageFetch::Page(PageBody {
            content_type: page.header.content_type,
            body: page.body,
            url,
        }),
        // An entry we cannot use is as good as none; the offline caller says "not cached".
        Err(_) => PageFetch::NotCached,
    }
}
