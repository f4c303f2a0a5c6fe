//! What the index answers on each path.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::http::{answer_range, RangeAnswer, Request, Response};
use super::pages::{self, accept_weights, Link, PageFormat, HTML_TYPE, JSON_TYPE};
use super::{Formats, LinkStyle, ServedFile, State, UnnormalizedNames};
use crate::built::{normalize_name, sha256_hex};

pub(super) fn route(state: &State, request: &Request) -> Response {
    if let Some(response) = check_auth(state, request) {
        return response;
    }
    if request.method != "GET" && request.method != "HEAD" {
        return Response::text(405, &format!("{} is not supported here", request.method))
            .header("Allow", "GET, HEAD");
    }
    let path = request.path();
    match path.as_str() {
        "/" => Response::new(
            200,
            HTML_TYPE,
            "<!DOCTYPE html>\n<a href=\"/simple/\">simple</a>\n",
        ),
        "/simple" => Response::redirect(301, "/simple/"),
        "/simple/" => root_page(state, request),
        "/links" => Response::redirect(301, "/links/"),
        "/links/" => find_links_page(state),
        _ => {
            if let Some(name) = path.strip_prefix("/simple/") {
                project_page(state, request, name)
            } else if let Some(filename) = path.strip_prefix("/files/") {
                file(state, request, filename)
            } else {
                Response::text(404, &format!("nothing at {path}"))
            }
        }
    }
}

fn check_auth(state: &State, request: &Request) -> Option<Response> {
    let (user, password) = state.config.basic_auth.as_ref()?;
    let expected = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
    match request.header("authorization") {
        Some(sent) if sent.trim() == expected => None,
        _ => Some(
            Response::text(401, "authentication required")
                .header("WWW-Authenticate", "Basic realm=\"rvenv-testkit\""),
        ),
    }
}

/// The page format for this request, or the response refusing it.
fn negotiate(state: &State, request: &Request) -> Result<PageFormat, Response> {
    let (json, html) = accept_weights(request.header("accept"));
    match state.config.formats {
        Formats::HtmlOnly => Ok(PageFormat::Html),
        Formats::JsonOnly if json > 0.0 => Ok(PageFormat::Json),
        Formats::JsonOnly => Err(Response::text(
            406,
            &format!("this index serves only {JSON_TYPE}"),
        )),
        Formats::Both if json == 0.0 && html == 0.0 => Err(Response::text(
            406,
            &format!("this index serves {JSON_TYPE} and text/html"),
        )),
        // Without a preference, HTML: what legacy clients expect (PyPI does the same).
        Formats::Both if json > html => Ok(PageFormat::Json),
        Formats::Both => Ok(PageFormat::Html),
    }
}

/// A simple page with its caching headers; `If-None-Match` gets 304.
fn page(state: &State, request: &Request, format: PageFormat, body: String) -> Response {
    let etag = format!("\"{}\"", &sha256_hex(body.as_bytes())[..16]);
    let content_type = match format {
        PageFormat::Json => JSON_TYPE,
        PageFormat::Html => HTML_TYPE,
    };
    let status = if request
        .header("if-none-match")
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag))
    {
        304
    } else {
        200
    };
    let body = if status == 304 {
        Vec::new()
    } else {
        body.into_bytes()
    };
    Response::new(status, content_type, body)
        .header("ETag", &etag)
        .header("Cache-Control", &state.config.cache_control)
        .header("Vary", "Accept")
}

fn root_page(state: &State, request: &Request) -> Response {
    let format = match negotiate(state, request) {
        Ok(format) => format,
        Err(response) => return response,
    };
    let mut projects: Vec<String> = read_files(state)
        .iter()
        .map(|f| f.file.normalized_name())
        .collect();
    projects.sort();
    projects.dedup();
    let body = match format {
        PageFormat::Json => pages::root_json(&projects),
        PageFormat::Html => pages::root_html(&projects),
    };
    page(state, request, format, body)
}

fn project_page(state: &State, request: &Request, name_with_slash: &str) -> Response {
    let Some(name) = name_with_slash.strip_suffix('/') else {
        return Response::redirect(301, &format!("/simple/{name_with_slash}/"));
    };
    if name.contains('/') {
        return Response::text(404, &format!("no project at /simple/{name_with_slash}"));
    }
    let normalized = normalize_name(name);
    if name != normalized {
        return match state.config.unnormalized {
            UnnormalizedNames::Redirect => {
                Response::redirect(301, &format!("/simple/{normalized}/"))
            }
            UnnormalizedNames::NotFound => {
                Response::text(404, &format!("{name} is not a normalized name"))
            }
        };
    }
    let files = read_files(state);
    let project_files: Vec<&ServedFile> = files
        .iter()
        .filter(|f| f.file.normalized_name() == normalized)
        .collect();
    if project_files.is_empty() {
        return Response::text(404, &format!("no project named {normalized}"));
    }
    let format = match negotiate(state, request) {
        Ok(format) => format,
        Err(response) => return response,
    };
    let links: Vec<Link> = project_files
        .iter()
        .map(|f| link(state, f, "../../"))
        .collect();
    let body = match format {
        PageFormat::Json => pages::project_json(&normalized, &links),
        PageFormat::Html => pages::project_html(&normalized, &links),
    };
    page(state, request, format, body)
}

fn find_links_page(state: &State) -> Response {
    let files = read_files(state);
    let links: Vec<Link> = files.iter().map(|f| link(state, f, "../")).collect();
    Response::new(200, HTML_TYPE, pages::find_links_html(&links))
}

/// `relative_root` leads from the page to the server root (for [`LinkStyle::Relative`]).
fn link<'a>(state: &State, file: &'a ServedFile, relative_root: &str) -> Link<'a> {
    let filename = &file.file.filename;
    let url = match &state.config.link_style {
        LinkStyle::Absolute => format!("{}/files/{filename}", state.base_url),
        LinkStyle::RootRelative => format!("/files/{filename}"),
        LinkStyle::Relative => format!("{relative_root}files/{filename}"),
        LinkStyle::OtherHost(base) => format!("{}/files/{filename}", base.trim_end_matches('/')),
    };
    Link {
        file,
        url,
        metadata: state.config.metadata && file.serve_metadata,
    }
}

fn read_files(state: &State) -> std::sync::RwLockReadGuard<'_, Vec<ServedFile>> {
    state
        .files
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn file(state: &State, request: &Request, filename: &str) -> Response {
    let files = read_files(state);
    if let Some(served) = files.iter().find(|f| f.file.filename == filename) {
        return bytes(
            state,
            request,
            "application/octet-stream",
            &served.file.bytes,
        );
    }
    let metadata = filename
        .strip_suffix(".metadata")
        .and_then(|dist| files.iter().find(|f| f.file.filename == dist));
    match metadata {
        Some(served) if state.config.metadata && served.serve_metadata => bytes(
            state,
            request,
            "text/plain; charset=utf-8",
            served.file.metadata.as_bytes(),
        ),
        _ => Response::text(404, &format!("no file named {filename}")),
    }
}

/// A file's bytes, or the requested range of them.
fn bytes(state: &State, request: &Request, content_type: &str, content: &[u8]) -> Response {
    let len = content.len() as u64;
    let etag = format!("\"{}\"", &sha256_hex(content)[..16]);
    let range = match request.header("range") {
        Some(range) if state.config.ranges => answer_range(range, len),
        _ => RangeAnswer::Whole,
    };
    let response = match range {
        RangeAnswer::Whole => Response::new(200, content_type, content),
        RangeAnswer::Partial { start, end } => {
            // Both ends are below `len`, which came from a slice length.
            let slice = &content[start as usize..=end as usize];
            Response::new(206, content_type, slice)
                .header("Content-Range", &format!("bytes {start}-{end}/{len}"))
        }
        RangeAnswer::Unsatisfiable => Response::text(416, "range not satisfiable")
            .header("Content-Range", &format!("bytes */{len}")),
    };
    let response = response.header("ETag", &etag);
    if state.config.ranges {
        response.header("Accept-Ranges", "bytes")
    } else {
        response
    }
}
