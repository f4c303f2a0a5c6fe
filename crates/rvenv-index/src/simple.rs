//! Simple-repository pages: PEP 691 JSON and PEP 503 HTML, parsed into [`DistFile`]s.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;
use rvenv_resolve::{DistFile, Hash};
use serde::Deserialize;
use url::Url;

use crate::filename::{file_kind, percent_decode};
use crate::html::{parse_tags, Tag};

pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, \
     application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Parses a project page, JSON or HTML according to its content type (sniffed when absent).
/// `base` is the URL that served the page: relative file links are resolved against it.
pub fn parse_page(
    content_type: Option<&str>,
    body: &[u8],
    base: &Url,
) -> Result<Vec<DistFile>, String> {
    let is_json = match content_type {
        Some(content_type) => content_type.to_ascii_lowercase().contains("json"),
        None => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'),
    };
    if is_json {
        parse_json(body, base)
    } else {
        Ok(parse_html(&String::from_utf8_lossy(body), base))
    }
}

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: Option<JsonYanked>,
    #[serde(rename = "core-metadata", default)]
    core_metadata: Option<JsonMetadataFlag>,
    #[serde(rename = "dist-info-metadata", default)]
    dist_info_metadata: Option<JsonMetadataFlag>,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonYanked {
    Flag(bool),
    Reason(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonMetadataFlag {
    Flag(bool),
    /// `{"sha256": "..."}`: the hashes themselves are not kept.
    Hashes(serde::de::IgnoredAny),
}

impl JsonMetadataFlag {
    fn present(&self) -> bool {
        match self {
            JsonMetadataFlag::Flag(flag) => *flag,
            JsonMetadataFlag::Hashes(_) => true,
        }
    }
}

/// Parses a PEP 691 JSON project page.
pub fn parse_json(body: &[u8], base: &Url) -> Result<Vec<DistFile>, String> {
    let page: JsonPage = serde_json::from_slice(body).map_err(|err| err.to_string())?;
    let mut files = Vec::with_capacity(page.files.len());
    for file in page.files {
        let Some(kind) = file_kind(&file.filename) else {
            continue;
        };
        let Ok(url) = base.join(&file.url) else {
            continue;
        };
        let (url, mut hashes) = split_hash_fragment(url);
        if !file.hashes.is_empty() {
            hashes = file
                .hashes
                .into_iter()
                .map(|(algorithm, digest)| Hash {
                    algorithm: algorithm.to_ascii_lowercase(),
                    digest: digest.to_ascii_lowercase(),
                })
                .collect();
        }
        let yanked = match file.yanked {
            None | Some(JsonYanked::Flag(false)) => None,
            Some(JsonYanked::Flag(true)) => Some(String::new()),
            Some(JsonYanked::Reason(reason)) => Some(reason),
        };
        let has_metadata_file = file
            .core_metadata
            .or(file.dist_info_metadata)
            .is_some_and(|flag| flag.present());
        files.push(DistFile {
            filename: file.filename,
            kind,
            url,
            hashes,
            size: file.size,
            requires_python: file
                .requires_python
                .as_deref()
                .and_then(parse_requires_python),
            yanked,
            has_metadata_file,
        });
    }
    Ok(files)
}

/// Parses a PEP 503 HTML page (also find-links pages): every anchor whose file name is a wheel
/// or an sdist. A `<base href>` changes the base URL.
pub fn parse_html(html: &str, page_url: &Url) -> Vec<DistFile> {
    let tags = parse_tags(html, &["a", "base"]);
    let mut base = page_url.clone();
    let mut files = Vec::new();
    for tag in tags {
        let Tag { name, attributes } = tag;
        let Some(href) = attributes.get("href") else {
            continue;
        };
        if name == "base" {
            if let Ok(url) = page_url.join(href) {
                base = url;
            }
            continue;
        }
        let Ok(url) = base.join(href) else {
            continue;
        };
        let (url, hashes) = split_hash_fragment(url);
        let Some(filename) = url_filename(&url) else {
            continue;
        };
        let Some(kind) = file_kind(&filename) else {
            continue;
        };
        let metadata_attr = attributes
            .get("data-core-metadata")
            .or_else(|| attributes.get("data-dist-info-metadata"));
        let has_metadata_file =
            metadata_attr.is_some_and(|value| !value.trim().eq_ignore_ascii_case("false"));
        files.push(DistFile {
            filename,
            kind,
            url,
            hashes,
            size: None,
            requires_python: attributes
                .get("data-requires-python")
                .and_then(|value| parse_requires_python(value)),
            yanked: attributes.get("data-yanked").cloned(),
            has_metadata_file,
        });
    }
    files
}

/// Requires-Python as given by an index; empty or invalid values mean "no restriction", as pip
/// treats them.
fn parse_requires_python(value: &str) -> Option<VersionSpecifiers> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    VersionSpecifiers::from_str(value).ok()
}

/// Moves a `#sha256=...` fragment into a [`Hash`].
pub fn split_hash_fragment(mut url: Url) -> (Url, Vec<Hash>) {
    let hashes = url
        .fragment()
        .and_then(|fragment| fragment.split_once('='))
        .filter(|(algorithm, digest)| {
            matches!(
                algorithm.to_ascii_lowercase().as_str(),
                "sha256" | "sha384" | "sha512" | "sha224" | "sha1" | "md5"
            ) && !digest.is_empty()
        })
        .map(|(algorithm, digest)| Hash {
            algorithm: algorithm.to_ascii_lowercase(),
            digest: digest.to_ascii_lowercase(),
        })
        .into_iter()
        .collect();
    url.set_fragment(None);
    (url, hashes)
}

/// The last path segment of a URL, percent-decoded.
pub fn url_filename(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.next_back()?;
    if segment.is_empty() {
        return None;
    }
    String::from_utf8(percent_decode(segment)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvenv_resolve::FileKind;

    fn base() -> Url {
        Url::parse("https://idx.example.com/simple/demo/").unwrap()
    }

    #[test]
    fn json_page() {
        let body = br#"{
          "meta": {"api-version": "1.1"},
          "name": "demo",
          "files": [
            {"filename": "demo-1.0-py3-none-any.whl",
             "url": "../../files/demo-1.0-py3-none-any.whl",
             "hashes": {"sha256": "ABCDEF"},
             "requires-python": ">=3.8",
             "core-metadata": {"sha256": "1234"},
             "yanked": false, "size": 1234},
            {"filename": "demo-0.9.tar.gz",
             "url": "https://files.example.org/demo-0.9.tar.gz#sha256=beef",
             "hashes": {}, "requires-python": null,
             "dist-info-metadata": true, "yanked": "broken build"},
            {"filename": "demo-0.8.tar.gz", "url": "demo-0.8.tar.gz", "hashes": {},
             "yanked": true, "core-metadata": false},
            {"filename": "demo-0.1.exe", "url": "demo-0.1.exe", "hashes": {}}
          ]
        }"#;
        let files = parse_page(Some("application/vnd.pypi.simple.v1+json"), body, &base()).unwrap();
        assert_eq!(files.len(), 3);
        let wheel = &files[0];
        assert_eq!(wheel.kind, FileKind::Wheel);
        assert_eq!(
            wheel.url.as_str(),
            "https://idx.example.com/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(wheel.hashes[0].algorithm, "sha256");
        assert_eq!(wheel.hashes[0].digest, "abcdef");
        assert_eq!(wheel.requires_python.as_ref().unwrap().to_string(), ">=3.8");
        assert!(wheel.has_metadata_file);
        assert_eq!(wheel.yanked, None);
        assert_eq!(wheel.size, Some(1234));

        let sdist = &files[1];
        assert_eq!(sdist.kind, FileKind::Sdist);
        assert_eq!(
            sdist.url.as_str(),
            "https://files.example.org/demo-0.9.tar.gz"
        );
        assert_eq!(sdist.hashes[0].digest, "beef");
        assert!(sdist.has_metadata_file);
        assert_eq!(sdist.yanked.as_deref(), Some("broken build"));
        assert_eq!(sdist.requires_python, None);

        assert_eq!(files[2].yanked.as_deref(), Some(""));
        assert!(!files[2].has_metadata_file);
        assert_eq!(
            files[2].url.as_str(),
            "https://idx.example.com/simple/demo/demo-0.8.tar.gz"
        );
    }

    #[test]
    fn json_errors_are_reported() {
        assert!(parse_json(b"{\"files\": 3}", &base()).is_err());
    }

    #[test]
    fn html_page() {
        let html = r#"<!DOCTYPE html>
<html><head><title>Links for demo</title></head><body>
<h1>Links for demo</h1>
<a href="../../files/demo-1.0-py3-none-any.whl#sha256=AA11" data-requires-python="&gt;=3.8,&lt;4" data-core-metadata="sha256=ff">demo-1.0-py3-none-any.whl</a><br/>
<A HREF='https://files.example.org/demo-0.9.tar.gz' data-yanked="bad &amp; broken" data-dist-info-metadata>demo-0.9.tar.gz</A>
<a href=demo-0.8.zip data-yanked data-core-metadata="false">demo-0.8.zip</a>
<!-- <a href="demo-0.7.tar.gz">commented out</a> -->
<a href="demo-0.6-py2.7.egg">egg</a>
<a href="demo%2Bextra-0.5.tar.gz">escaped</a>
<a>no href</a>
</body></html>"#;
        let files = parse_page(Some("text/html; charset=utf-8"), html.as_bytes(), &base()).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            [
                "demo-1.0-py3-none-any.whl",
                "demo-0.9.tar.gz",
                "demo-0.8.zip",
                "demo+extra-0.5.tar.gz"
            ]
        );
        let wheel = &files[0];
        assert_eq!(
            wheel.url.as_str(),
            "https://idx.example.com/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(
            wheel.hashes,
            vec![Hash {
                algorithm: "sha256".into(),
                digest: "aa11".into()
            }]
        );
        assert_eq!(
            wheel.requires_python.as_ref().unwrap().to_string(),
            ">=3.8, <4"
        );
        assert!(wheel.has_metadata_file);
        assert_eq!(wheel.yanked, None);
        assert_eq!(files[1].yanked.as_deref(), Some("bad & broken"));
        assert!(files[1].has_metadata_file);
        assert_eq!(files[2].yanked.as_deref(), Some(""));
        assert!(!files[2].has_metadata_file);
        assert_eq!(
            files[2].url.as_str(),
            "https://idx.example.com/simple/demo/demo-0.8.zip"
        );
    }

    #[test]
    fn html_base_href() {
        let html =
            r#"<base href="https://mirror.example.net/pkgs/"><a href="demo-1.0.tar.gz">x</a>"#;
        let files = parse_html(html, &base());
        assert_eq!(
            files[0].url.as_str(),
            "https://mirror.example.net/pkgs/demo-1.0.tar.gz"
        );
    }

    #[test]
    fn sniffs_json_without_content_type() {
        let files = parse_page(
            None,
            br#" {"files": [{"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz"}]}"#,
            &base(),
        )
        .unwrap();
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn invalid_requires_python_is_ignored() {
        let html = r#"<a href="demo-1.0.tar.gz" data-requires-python="&gt;=3.6.*,junk">x</a>"#;
        assert_eq!(parse_html(html, &base())[0].requires_python, None);
    }
}
