//! Simple-repository pages: PEP 691 JSON and PEP 503 HTML, parsed into [`DistFile`]s.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use pep440_rs::VersionSpecifiers;
use rvenv_resolve::{DistFile, FileKind, Hash};
use serde::Deserialize;
use url::Url;

use crate::filename::{file_kind, percent_decode};
use crate::filter::FileFilter;
use crate::html::{attribute, for_each_tag};

pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, \
     application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Parses a project page, JSON or HTML according to its content type (sniffed when absent).
/// `base` is the URL that served the page: relative file links are resolved against it.
pub fn parse_page(
    content_type: Option<&str>,
    body: &[u8],
    base: &Url,
) -> Result<Vec<DistFile>, String> {
    parse_page_filtered(content_type, body, base, None)
}

/// [`parse_page`], keeping only the files `filter` lets through (see [`build_files`]). The
/// others never become [`DistFile`]s (no URL or specifier parsing): on a page of 15,000 files of
/// which a target can use a few hundred, that is most of the work.
pub(crate) fn parse_page_filtered(
    content_type: Option<&str>,
    body: &[u8],
    base: &Url,
    filter: Option<&FileFilter>,
) -> Result<Vec<DistFile>, String> {
    let is_json = match content_type {
        Some(content_type) => content_type.to_ascii_lowercase().contains("json"),
        None => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'),
    };
    if is_json {
        let page: JsonPage = serde_json::from_slice(body).map_err(|err| err.to_string())?;
        let listed = page
            .files
            .into_iter()
            .filter_map(ListedFile::from_json)
            .collect();
        Ok(build_files(listed, base, filter))
    } else {
        // Checking UTF-8 alone is much faster than the lossy conversion, which only pages
        // that are not UTF-8 need.
        let html = match std::str::from_utf8(body) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(body),
        };
        let (listed, base) = list_html(&html, base);
        Ok(build_files(listed, &base, filter))
    }
}

#[derive(Deserialize)]
struct JsonPage<'a> {
    #[serde(borrow)]
    files: Vec<JsonFile<'a>>,
}

#[derive(Deserialize)]
struct JsonFile<'a> {
    #[serde(borrow)]
    filename: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(default, borrow)]
    hashes: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    #[serde(rename = "requires-python", default, borrow)]
    requires_python: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    yanked: Option<JsonYanked<'a>>,
    #[serde(rename = "core-metadata", default)]
    core_metadata: Option<JsonMetadataFlag>,
    #[serde(rename = "dist-info-metadata", default)]
    dist_info_metadata: Option<JsonMetadataFlag>,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonYanked<'a> {
    Flag(bool),
    Reason(#[serde(borrow)] Cow<'a, str>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonMetadataFlag {
    Flag(bool),
    /// `{"sha256": "..."}`.
    Hashes(std::collections::BTreeMap<String, String>),
}

impl JsonMetadataFlag {
    fn present(&self) -> bool {
        match self {
            JsonMetadataFlag::Flag(flag) => *flag,
            JsonMetadataFlag::Hashes(_) => true,
        }
    }

    fn hashes(&self) -> Vec<Hash> {
        match self {
            JsonMetadataFlag::Flag(_) => Vec::new(),
            JsonMetadataFlag::Hashes(hashes) => hashes
                .iter()
                .map(|(algorithm, digest)| Hash {
                    algorithm: algorithm.to_ascii_lowercase(),
                    digest: digest.to_ascii_lowercase(),
                })
                .collect(),
        }
    }
}

/// The value of an HTML `data-core-metadata` attribute: `true`, or `sha256=<hex>`.
fn html_metadata_hashes(value: &str) -> Vec<Hash> {
    match value.trim().split_once('=') {
        Some((algorithm, digest)) if !digest.is_empty() => vec![Hash {
            algorithm: algorithm.to_ascii_lowercase(),
            digest: digest.to_ascii_lowercase(),
        }],
        _ => Vec::new(),
    }
}

/// Parses a PEP 691 JSON project page.
pub fn parse_json(body: &[u8], base: &Url) -> Result<Vec<DistFile>, String> {
    parse_page_filtered(Some("application/json"), body, base, None)
}

/// Parses a PEP 503 HTML page (also find-links pages): every anchor whose file name is a wheel
/// or an sdist. A `<base href>` changes the base URL.
pub fn parse_html(html: &str, page_url: &Url) -> Vec<DistFile> {
    let (listed, base) = list_html(html, page_url);
    build_files(listed, &base, None)
}

/// A file as a page lists it, borrowed from the page; nothing parsed yet.
struct ListedFile<'a> {
    filename: Cow<'a, str>,
    kind: FileKind,
    /// The link as written: possibly relative, possibly with a `#sha256=` fragment.
    href: Cow<'a, str>,
    /// From JSON's `hashes`; HTML gives its hash in the link's fragment.
    hashes: Vec<Hash>,
    requires_python: Option<Cow<'a, str>>,
    yanked: Option<Cow<'a, str>>,
    has_metadata_file: bool,
    metadata_hashes: Vec<Hash>,
    size: Option<u64>,
}

impl<'a> ListedFile<'a> {
    fn from_json(file: JsonFile<'a>) -> Option<ListedFile<'a>> {
        let kind = file_kind(&file.filename)?;
        let hashes = file
            .hashes
            .into_iter()
            .map(|(algorithm, digest)| Hash {
                algorithm: algorithm.to_ascii_lowercase(),
                digest: digest.to_ascii_lowercase(),
            })
            .collect();
        let yanked = match file.yanked {
            None | Some(JsonYanked::Flag(false)) => None,
            Some(JsonYanked::Flag(true)) => Some(Cow::Borrowed("")),
            Some(JsonYanked::Reason(reason)) => Some(reason),
        };
        let metadata_flag = file.core_metadata.or(file.dist_info_metadata);
        let has_metadata_file = metadata_flag
            .as_ref()
            .is_some_and(JsonMetadataFlag::present);
        let metadata_hashes = metadata_flag
            .as_ref()
            .map(JsonMetadataFlag::hashes)
            .unwrap_or_default();
        Some(ListedFile {
            filename: file.filename,
            kind,
            href: file.url,
            hashes,
            requires_python: file.requires_python,
            yanked,
            has_metadata_file,
            metadata_hashes,
            size: file.size,
        })
    }

    /// The version part of the file name, as written (not normalized).
    fn version_text(&self) -> Option<&str> {
        match self.kind {
            FileKind::Wheel => self.filename.split('-').nth(1),
            FileKind::Sdist => {
                let tar_gz = self
                    .filename
                    .get(self.filename.len().saturating_sub(7)..)
                    .is_some_and(|end| end.eq_ignore_ascii_case(".tar.gz"));
                let cut = if tar_gz { 7 } else { 4 };
                let stem = self.filename.get(..self.filename.len().checked_sub(cut)?)?;
                stem.rsplit_once('-').map(|(_, version)| version)
            }
        }
    }
}

/// The anchors of an HTML page that name wheels or sdists, and the base URL for their links
/// (the page's URL, or its `<base href>`).
fn list_html<'a>(html: &'a str, page_url: &Url) -> (Vec<ListedFile<'a>>, Url) {
    let mut base = page_url.clone();
    let mut files = Vec::new();
    for_each_tag(html, &["a", "base"], |name, attributes| {
        let value = |wanted: &str| {
            attributes
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(wanted))
                .map(|(_, value)| value.clone())
        };
        let Some(href) = value("href") else {
            return;
        };
        if name == "base" {
            if let Ok(url) = page_url.join(&href) {
                base = url;
            }
            return;
        }
        let Some(filename) = href_filename(&href) else {
            return;
        };
        let Some(kind) = file_kind(&filename) else {
            return;
        };
        let metadata_value = attribute(attributes, "data-core-metadata")
            .or_else(|| attribute(attributes, "data-dist-info-metadata"));
        let has_metadata_file =
            metadata_value.is_some_and(|value| !value.trim().eq_ignore_ascii_case("false"));
        let metadata_hashes = metadata_value.map(html_metadata_hashes).unwrap_or_default();
        files.push(ListedFile {
            filename,
            kind,
            href,
            hashes: Vec::new(),
            requires_python: value("data-requires-python"),
            yanked: value("data-yanked"),
            has_metadata_file,
            metadata_hashes,
            size: None,
        });
    });
    (files, base)
}

/// The file name a link points to: its last path segment, percent-decoded; borrowed from the
/// page when nothing needs decoding (the common case, on pages of thousands of links).
fn href_filename<'a>(href: &Cow<'a, str>) -> Option<Cow<'a, str>> {
    fn segment(href: &str) -> Option<&str> {
        let path = href.split(['#', '?']).next()?;
        path.rsplit('/')
            .next()
            .filter(|segment| !segment.is_empty())
    }
    let decode = |segment: &str| {
        String::from_utf8(percent_decode(segment)?)
            .ok()
            .map(Cow::Owned)
    };
    match href {
        Cow::Borrowed(href) => {
            let segment = segment(href)?;
            if segment.contains('%') {
                decode(segment)
            } else {
                Some(Cow::Borrowed(segment))
            }
        }
        Cow::Owned(href) => decode(segment(href)?),
    }
}

/// Turns the listed files into [`DistFile`]s. With a filter: every sdist and every wheel that
/// fits the target; of the wheels that do not fit, only those of versions that offer nothing
/// else, so that "has no wheel for cp311 (wheels: ...)" can still be said about them.
fn build_files(
    listed: Vec<ListedFile<'_>>,
    base: &Url,
    filter: Option<&FileFilter>,
) -> Vec<DistFile> {
    let keep: Vec<bool> = match filter {
        None => vec![true; listed.len()],
        Some(filter) => {
            let fits: Vec<bool> = listed
                .iter()
                .map(|file| file.kind == FileKind::Sdist || filter.wheel_fits(&file.filename))
                .collect();
            let offered: HashSet<&str> = listed
                .iter()
                .zip(&fits)
                .filter(|(_, fits)| **fits)
                .filter_map(|(file, _)| file.version_text())
                .collect();
            listed
                .iter()
                .zip(&fits)
                .map(|(file, fits)| {
                    *fits || file.version_text().is_none_or(|v| !offered.contains(v))
                })
                .collect()
        }
    };
    // Most files of a page share a handful of Requires-Python values.
    let mut specifiers: HashMap<&str, Option<VersionSpecifiers>> = HashMap::new();
    let mut files = Vec::with_capacity(keep.iter().filter(|keep| **keep).count());
    for (file, keep) in listed.iter().zip(keep) {
        if !keep {
            continue;
        }
        let Ok(url) = base.join(&file.href) else {
            continue;
        };
        let (url, mut hashes) = split_hash_fragment(url);
        if !file.hashes.is_empty() {
            hashes = file.hashes.clone();
        }
        let requires_python = file.requires_python.as_deref().and_then(|text| {
            specifiers
                .entry(text)
                .or_insert_with(|| parse_requires_python(text))
                .clone()
        });
        files.push(DistFile {
            filename: file.filename.to_string(),
            kind: file.kind,
            url,
            hashes,
            size: file.size,
            requires_python,
            yanked: file.yanked.as_deref().map(str::to_string),
            has_metadata_file: file.has_metadata_file,
            metadata_hashes: file.metadata_hashes.clone(),
        });
    }
    files
}

/// Requires-Python as given by an index; empty or invalid values mean "no restriction", as pip
/// treats them.
fn parse_requires_python(value: &str) -> Option<VersionSpecifiers> {
    rvenv_resolve::parse_requires_python(value)
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
        assert_eq!(
            wheel.metadata_hashes,
            vec![Hash {
                algorithm: "sha256".into(),
                digest: "1234".into()
            }]
        );
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
        assert!(sdist.metadata_hashes.is_empty(), "`true` carries no hash");
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
    fn filtered_pages_keep_what_the_target_can_use() {
        use rvenv_resolve::select::Target;
        let filter = FileFilter::new(&Target {
            tags: vec![(
                "cp311".into(),
                "cp311".into(),
                "manylinux_2_17_x86_64".into(),
            )],
            python_full_version: "3.11.2".parse().unwrap(),
        });
        let html = r#"
<a href="demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl#sha256=aa" data-requires-python="&gt;=3.9">a</a>
<a href="demo-2.0-cp312-cp312-manylinux_2_17_x86_64.whl">b</a>
<a href="demo-2.0-cp311-cp311-win_amd64.whl">c</a>
<a href="demo-2.0.tar.gz">d</a>
<a href="demo-1.0-cp38-cp38-win32.whl">e</a>
<a href="demo-1.0-cp39-cp39-win32.whl">f</a>
<a href="demo-0.5.zip">g</a>
<a href="demo-0.5-cp38-cp38-win32.whl">h</a>"#;
        let files = parse_page_filtered(Some("text/html"), html.as_bytes(), &base(), Some(&filter))
            .unwrap();
        let names: Vec<_> = files.iter().map(|f| f.filename.as_str()).collect();
        // 2.0 and 0.5 have usable files: their other wheels are left out. 1.0 has none, so its
        // wheels stay, for the message that says what it offers.
        assert_eq!(
            names,
            [
                "demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                "demo-2.0.tar.gz",
                "demo-1.0-cp38-cp38-win32.whl",
                "demo-1.0-cp39-cp39-win32.whl",
                "demo-0.5.zip",
            ]
        );
        assert_eq!(files[0].hashes[0].digest, "aa");
        assert_eq!(
            files[0].requires_python.as_ref().unwrap().to_string(),
            ">=3.9"
        );
        // Without a filter, everything.
        assert_eq!(
            parse_page(Some("text/html"), html.as_bytes(), &base())
                .unwrap()
                .len(),
            8
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
        assert_eq!(
            wheel.metadata_hashes,
            vec![Hash {
                algorithm: "sha256".into(),
                digest: "ff".into()
            }]
        );
        assert!(
            files[1].metadata_hashes.is_empty(),
            "a bare attribute carries no hash"
        );
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
        // A trailing comma (celery 5.2.6) keeps the rest, as pip's parser does.
        let html = r#"<a href="demo-1.0.tar.gz" data-requires-python="&gt;=3.7,">x</a>"#;
        let parsed = parse_html(html, &base())[0].requires_python.clone();
        assert_eq!(parsed.unwrap().to_string(), ">=3.7");
    }
}
