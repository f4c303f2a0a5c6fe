//! `--find-links`: local directories, local HTML files and HTML pages listing distributions.

use std::path::{Path, PathBuf};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use rvenv_resolve::DistFile;
use url::Url;

use crate::client::IndexClient;
use crate::error::IndexError;
use crate::filename::file_kind;
use crate::redact::redact_url;
use crate::simple::{parse_html, parse_page};

/// A find-links location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindLinks {
    /// A directory of distributions, or a local HTML file listing them.
    Path(PathBuf),
    /// An HTML page listing distributions (http or https).
    Url(Url),
}

impl FindLinks {
    /// `http(s)://...` is a page, `file://...` and anything else a local path.
    pub fn parse(text: &str) -> FindLinks {
        match Url::parse(text) {
            Ok(url) if url.scheme() == "file" => match url.to_file_path() {
                Ok(path) => FindLinks::Path(path),
                Err(()) => FindLinks::Path(PathBuf::from(text)),
            },
            Ok(url) if matches!(url.scheme(), "http" | "https") => FindLinks::Url(url),
            _ => FindLinks::Path(PathBuf::from(text)),
        }
    }

    /// For messages (credentials redacted).
    pub fn display(&self) -> String {
        match self {
            FindLinks::Path(path) => path.display().to_string(),
            FindLinks::Url(url) => redact_url(url),
        }
    }
}

/// Every wheel and sdist the location lists (of all projects; callers filter by name).
pub(crate) async fn list_files(
    client: &IndexClient,
    location: &FindLinks,
    offline: bool,
) -> Result<Vec<DistFile>, IndexError> {
    match location {
        FindLinks::Path(path) if path.is_dir() => list_directory(path),
        FindLinks::Path(path) => {
            let html = fs_err::read_to_string(path)?;
            let base = file_url(path, location)?;
            Ok(parse_html(&html, &base))
        }
        FindLinks::Url(url) => {
            if offline {
                return Err(IndexError::FindLinks {
                    location: redact_url(url),
                    message: "a remote find-links page needs the network, and --offline is set"
                        .into(),
                });
            }
            let url = client.register_credentials(url);
            let mut headers = HeaderMap::new();
            headers.insert(
                ACCEPT,
                HeaderValue::from_static("text/html, application/vnd.pypi.simple.v1+json;q=0.5"),
            );
            let response = client.get_bytes(&url, headers).await?;
            if !response.status.is_success() {
                return Err(client.status_error(&response.url, response.status));
            }
            let content_type = response
                .headers
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok());
            parse_page(content_type, &response.body, &response.url).map_err(|message| {
                IndexError::FindLinks {
                    location: redact_url(&response.url),
                    message,
                }
            })
        }
    }
}

fn file_url(path: &Path, location: &FindLinks) -> Result<Url, IndexError> {
    let absolute = std::path::absolute(path)?;
    Url::from_file_path(&absolute).map_err(|()| IndexError::FindLinks {
        location: location.display(),
        message: "not an absolute path".into(),
    })
}

fn list_directory(dir: &Path) -> Result<Vec<DistFile>, IndexError> {
    let mut files = Vec::new();
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let filename = entry.file_name().to_string_lossy().into_owned();
        let Some(kind) = file_kind(&filename) else {
            continue;
        };
        let path = entry.path();
        let metadata = fs_err::metadata(&path)?;
        if !metadata.is_file() {
            continue;
        }
        let url = file_url(&path, &FindLinks::Path(dir.to_path_buf()))?;
        files.push(DistFile {
            filename,
            kind,
            url,
            hashes: Vec::new(),
            size: Some(metadata.len()),
            requires_python: None,
            yanked: None,
            has_metadata_file: false,
            metadata_hashes: Vec::new(),
        });
    }
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_locations() {
        assert_eq!(
            FindLinks::parse("https://example.com/wheels/"),
            FindLinks::Url(Url::parse("https://example.com/wheels/").unwrap())
        );
        assert_eq!(
            FindLinks::parse("file:///tmp/wheels"),
            FindLinks::Path(PathBuf::from("/tmp/wheels"))
        );
        assert_eq!(
            FindLinks::parse("./wheels"),
            FindLinks::Path(PathBuf::from("./wheels"))
        );
        assert_eq!(
            FindLinks::Url(Url::parse("https://u:p@example.com/").unwrap()).display(),
            "https://u:****@example.com/"
        );
    }

    #[tokio::test]
    async fn directory_and_html_file() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.whl")).unwrap();
        let client = IndexClient::with_netrc(Default::default(), None).unwrap();
        let files = list_files(&client, &FindLinks::Path(dir.path().to_path_buf()), true)
            .await
            .unwrap();
        let names: Vec<_> = files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"]);
        assert_eq!(files[0].url.scheme(), "file");
        assert_eq!(
            files[0].url.to_file_path().unwrap(),
            dir.path().join("demo-1.0-py3-none-any.whl")
        );

        let html = dir.path().join("links.html");
        std::fs::write(
            &html,
            r#"<a href="demo-1.0.tar.gz">a</a><a href="https://example.com/demo-2.0.tar.gz#sha256=aa">b</a>"#,
        )
        .unwrap();
        let files = list_files(&client, &FindLinks::Path(html), true)
            .await
            .unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].url.to_file_path().unwrap(),
            dir.path().join("demo-1.0.tar.gz")
        );
        assert_eq!(files[1].hashes[0].digest, "aa");
    }
}
