//! The simple index's pages: PEP 503 HTML, PEP 691 JSON (api-version 1.1, PEP 700), a flat
//! find-links page.

use serde_json::{json, Map, Value};

use super::ServedFile;

pub(crate) const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";
pub(crate) const HTML_TYPE: &str = "text/html; charset=utf-8";

/// One file as a page shows it.
pub(crate) struct Link<'a> {
    pub file: &'a ServedFile,
    pub url: String,
    /// Whether the PEP 658 metadata file is announced.
    pub metadata: bool,
}

pub(crate) fn root_html(projects: &[String]) -> String {
    let mut html = page_start("Simple index");
    for project in projects {
        html.push_str(&format!(
            "    <a href=\"{0}/\">{0}</a><br/>\n",
            escape(project)
        ));
    }
    html + PAGE_END
}

pub(crate) fn root_json(projects: &[String]) -> String {
    let projects: Vec<Value> = projects
        .iter()
        .map(|name| json!({ "name": name }))
        .collect();
    json!({ "meta": { "api-version": "1.1" }, "projects": projects }).to_string()
}

pub(crate) fn project_html(project: &str, links: &[Link]) -> String {
    let mut html = page_start(&format!("Links for {project}"));
    html.push_str(&format!("    <h1>Links for {}</h1>\n", escape(project)));
    for link in links {
        html.push_str(&anchor(link));
    }
    html + PAGE_END
}

pub(crate) fn project_json(project: &str, links: &[Link]) -> String {
    let mut versions: Vec<&str> = Vec::new();
    for link in links {
        if !versions.contains(&link.file.file.version.as_str()) {
            versions.push(&link.file.file.version);
        }
    }
    let files: Vec<Value> = links.iter().map(file_json).collect();
    json!({ "meta": { "api-version": "1.1" }, "name": project, "versions": versions, "files": files }).to_string()
}

/// A flat page of links to every file, for `--find-links`.
pub(crate) fn find_links_html(links: &[Link]) -> String {
    let mut html = page_start("Links");
    for link in links {
        html.push_str(&anchor(link));
    }
    html + PAGE_END
}

fn file_json(link: &Link) -> Value {
    let served = link.file;
    let mut file = Map::new();
    file.insert("filename".into(), json!(served.file.filename));
    file.insert("url".into(), json!(link.url));
    file.insert("hashes".into(), json!({ "sha256": served.file.sha256 }));
    if let Some(requires_python) = &served.requires_python {
        file.insert("requires-python".into(), json!(requires_python));
    }
    let yanked = match &served.yanked {
        None => json!(false),
        Some(reason) if reason.is_empty() => json!(true),
        Some(reason) => json!(reason),
    };
    file.insert("yanked".into(), yanked);
    if link.metadata {
        let hashes = json!({ "sha256": served.file.metadata_sha256() });
        file.insert("core-metadata".into(), hashes.clone());
        file.insert("dist-info-metadata".into(), hashes);
    }
    file.insert("size".into(), json!(served.file.size()));
    Value::Object(file)
}

fn anchor(link: &Link) -> String {
    let served = link.file;
    let mut attributes = format!(
        "href=\"{}#sha256={}\"",
        escape(&link.url),
        served.file.sha256
    );
    if let Some(requires_python) = &served.requires_python {
        attributes.push_str(&format!(
            " data-requires-python=\"{}\"",
            escape(requires_python)
        ));
    }
    if let Some(reason) = &served.yanked {
        attributes.push_str(&format!(" data-yanked=\"{}\"", escape(reason)));
    }
    if link.metadata {
        let hash = served.file.metadata_sha256();
        attributes.push_str(&format!(
            " data-dist-info-metadata=\"sha256={hash}\" data-core-metadata=\"sha256={hash}\""
        ));
    }
    format!(
        "    <a {attributes}>{}</a><br/>\n",
        escape(&served.file.filename)
    )
}

fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    \
         <title>{}</title>\n  </head>\n  <body>\n",
        escape(title)
    )
}

const PAGE_END: &str = "  </body>\n</html>\n";

/// HTML escaping for text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Which page format the client prefers, by the q-values of its Accept header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageFormat {
    Html,
    Json,
}

/// The q-values the Accept header gives JSON and HTML (0 = not acceptable).
pub(crate) fn accept_weights(accept: Option<&str>) -> (f32, f32) {
    let Some(accept) = accept else {
        return (1.0, 1.0);
    };
    let (mut json, mut html) = (0.0f32, 0.0f32);
    for item in accept.split(',') {
        let mut params = item.split(';');
        let media_type = params
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let q = params
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media_type.as_str() {
            "application/vnd.pypi.simple.v1+json" | "application/vnd.pypi.simple.latest+json" => {
                json = json.max(q)
            }
            "application/vnd.pypi.simple.v1+html"
            | "application/vnd.pypi.simple.latest+html"
            | "text/html" => html = html.max(q),
            "*/*" | "application/*" | "text/*" => {
                json = json.max(if media_type == "text/*" { 0.0 } else { q });
                html = html.max(if media_type == "application/*" {
                    0.0
                } else {
                    q
                });
            }
            _ => {}
        }
    }
    (json, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape("<3.0,>=\"2\"&'"),
            "&lt;3.0,&gt;=&quot;2&quot;&amp;&#39;"
        );
    }

    #[test]
    fn weighs_accept_headers() {
        assert_eq!(accept_weights(None), (1.0, 1.0));
        assert_eq!(
            accept_weights(Some(
                "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
            )),
            (1.0, 0.1)
        );
        assert_eq!(accept_weights(Some("text/html")), (0.0, 1.0));
        assert_eq!(accept_weights(Some("*/*;q=0.5")), (0.5, 0.5));
    }
}
