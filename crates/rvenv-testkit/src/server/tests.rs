//! The server, driven by a tiny HTTP client over std's TcpStream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;
use crate::{SdistBuilder, WheelBuilder};

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response (by Content-Length) from a connection.
fn read_reply(reader: &mut impl BufRead, head_request: bool) -> std::io::Result<Reply> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let mut reply = Reply {
        status,
        headers,
        body: Vec::new(),
    };
    let len: usize = reply
        .header("content-length")
        .map(|v| v.parse().unwrap())
        .unwrap_or(0);
    if !head_request && status != 304 {
        reply.body = vec![0; len];
        reader.read_exact(&mut reply.body)?;
    }
    Ok(reply)
}

fn request(server: &IndexServer, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        server.addr()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    read_reply(&mut BufReader::new(stream), method == "HEAD").unwrap()
}

fn get(server: &IndexServer, path: &str, headers: &[(&str, &str)]) -> Reply {
    request(server, "GET", path, headers)
}

const JSON_ACCEPT: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1";

fn files() -> Vec<ServedFile> {
    vec![
        WheelBuilder::new("My-Package", "1.0")
            .requires_python(">=3.8,<4")
            .build()
            .into(),
        ServedFile::new(WheelBuilder::new("My-Package", "1.1").build()).yanked("broken <build>"),
        SdistBuilder::new("My-Package", "1.1").build().into(),
        WheelBuilder::new("other", "2.0").build().into(),
    ]
}

#[test]
fn serves_json_or_html_by_accept() {
    let server = IndexServer::start(files());
    let json = get(&server, "/simple/my-package/", &[("Accept", JSON_ACCEPT)]);
    assert_eq!(json.status, 200);
    assert_eq!(
        json.header("content-type"),
        Some("application/vnd.pypi.simple.v1+json")
    );
    let page: Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(page["name"], "my-package");
    assert_eq!(page["versions"], serde_json::json!(["1.0", "1.1"]));
    let files = page["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    let wheel = &files[0];
    let built = WheelBuilder::new("My-Package", "1.0")
        .requires_python(">=3.8,<4")
        .build();
    assert_eq!(wheel["filename"], "my_package-1.0-py3-none-any.whl");
    assert_eq!(
        wheel["url"],
        server.file_url("my_package-1.0-py3-none-any.whl")
    );
    assert_eq!(wheel["hashes"]["sha256"], built.sha256);
    assert_eq!(wheel["requires-python"], ">=3.8,<4");
    assert_eq!(wheel["yanked"], false);
    assert_eq!(wheel["core-metadata"]["sha256"], built.metadata_sha256());
    assert_eq!(wheel["size"], built.size());
    assert_eq!(files[1]["yanked"], "broken <build>");
    assert!(
        files[2].get("core-metadata").is_none(),
        "no metadata file for sdists by default"
    );

    let html = get(&server, "/simple/my-package/", &[("Accept", "text/html")]);
    assert_eq!(html.status, 200);
    assert!(html
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let text = html.text();
    assert!(text.contains(&format!(
        "<a href=\"{}#sha256={}\" data-requires-python=\"&gt;=3.8,&lt;4\" data-dist-info-metadata=\"sha256={2}\" \
         data-core-metadata=\"sha256={2}\">my_package-1.0-py3-none-any.whl</a>",
        server.file_url("my_package-1.0-py3-none-any.whl"),
        built.sha256,
        built.metadata_sha256()
    )));
    assert!(text.contains("data-yanked=\"broken &lt;build&gt;\""));
    assert!(!text.contains("other-2.0"));
}

#[test]
fn root_redirects_and_not_found() {
    let server = IndexServer::start(files());
    let root: Value =
        serde_json::from_slice(&get(&server, "/simple/", &[("Accept", JSON_ACCEPT)]).body).unwrap();
    assert_eq!(
        root["projects"],
        serde_json::json!([{ "name": "my-package" }, { "name": "other" }])
    );
    assert!(get(&server, "/simple/", &[])
        .text()
        .contains("<a href=\"other/\">other</a>"));

    let redirect = get(&server, "/simple/My_Package/", &[]);
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/simple/my-package/"));
    assert_eq!(
        get(&server, "/simple/my-package", &[]).header("location"),
        Some("/simple/my-package/")
    );
    assert_eq!(get(&server, "/simple/missing/", &[]).status, 404);
    assert_eq!(get(&server, "/files/missing.whl", &[]).status, 404);

    let strict = IndexServer::builder()
        .files(files())
        .unnormalized_names_not_found()
        .start();
    assert_eq!(get(&strict, "/simple/My_Package/", &[]).status, 404);
}

#[test]
fn format_restrictions() {
    let html_only = IndexServer::builder().files(files()).html_only().start();
    let reply = get(&html_only, "/simple/other/", &[("Accept", JSON_ACCEPT)]);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));

    let json_only = IndexServer::builder().files(files()).json_only().start();
    assert_eq!(
        get(&json_only, "/simple/other/", &[("Accept", "text/html")]).status,
        406
    );
    let reply = get(&json_only, "/simple/other/", &[]);
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.pypi.simple.v1+json")
    );
}

#[test]
fn serves_files_metadata_and_ranges() {
    let wheel = WheelBuilder::new("My-Package", "1.0")
        .requires_python(">=3.8,<4")
        .build();
    let server = IndexServer::start(files());
    let path = format!("/files/{}", wheel.filename);

    let whole = get(&server, &path, &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, wheel.bytes);
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));

    let head = request(&server, "HEAD", &path, &[]);
    assert_eq!(
        head.header("content-length"),
        Some(wheel.size().to_string().as_str())
    );

    let partial = get(&server, &path, &[("Range", "bytes=10-19")]);
    assert_eq!(partial.status, 206);
    assert_eq!(partial.body, &wheel.bytes[10..20]);
    let len = wheel.bytes.len();
    assert_eq!(
        partial.header("content-range"),
        Some(format!("bytes 10-19/{len}").as_str())
    );

    let suffix = get(&server, &path, &[("Range", "bytes=-22")]);
    assert_eq!(suffix.status, 206);
    assert_eq!(suffix.body, &wheel.bytes[len - 22..]);
    assert_eq!(
        suffix.header("content-range"),
        Some(format!("bytes {}-{}/{len}", len - 22, len - 1).as_str())
    );

    assert_eq!(
        get(&server, &path, &[("Range", &format!("bytes={len}-"))]).status,
        416
    );

    let metadata = get(&server, &format!("{path}.metadata"), &[]);
    assert_eq!(metadata.status, 200);
    assert_eq!(metadata.text(), wheel.metadata);
    assert_eq!(
        get(&server, "/files/my_package-1.1.tar.gz.metadata", &[]).status,
        404
    );

    let log = server.requests();
    assert_eq!(log.len(), 7);
    assert_eq!(log[2].range.as_deref(), Some("bytes=10-19"));
    assert_eq!(log[1].method, "HEAD");
    assert!(log.iter().all(|r| !r.authorization));
}

#[test]
fn no_range_and_no_metadata_options() {
    let wheel = WheelBuilder::new("other", "2.0").build();
    let server = IndexServer::builder()
        .file(wheel.clone())
        .no_range()
        .no_metadata()
        .start();
    let path = format!("/files/{}", wheel.filename);
    let reply = get(&server, &path, &[("Range", "bytes=0-3")]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, wheel.bytes);
    assert_eq!(reply.header("accept-ranges"), None);
    assert_eq!(get(&server, &format!("{path}.metadata"), &[]).status, 404);
    let page = get(&server, "/simple/other/", &[("Accept", "text/html")]).text();
    assert!(!page.contains("data-core-metadata"));
}

#[test]
fn basic_auth() {
    let server = IndexServer::builder()
        .files(files())
        .basic_auth("alice", "s3cret")
        .start();
    let denied = get(&server, "/simple/other/", &[]);
    assert_eq!(denied.status, 401);
    assert_eq!(
        denied.header("www-authenticate"),
        Some("Basic realm=\"rvenv-testkit\"")
    );
    // base64("alice:wrong") and base64("alice:s3cret")
    assert_eq!(
        get(
            &server,
            "/simple/other/",
            &[("Authorization", "Basic YWxpY2U6d3Jvbmc=")]
        )
        .status,
        401
    );
    assert_eq!(
        get(
            &server,
            "/simple/other/",
            &[("Authorization", "Basic YWxpY2U6czNjcmV0")]
        )
        .status,
        200
    );
    let log = server.requests();
    assert_eq!(
        log.iter().map(|r| r.authorization).collect::<Vec<_>>(),
        [false, true, true]
    );
    assert_eq!(
        server.url_with_credentials("alice", "s3cret"),
        format!("http://alice:s3cret@{}/simple/", server.addr())
    );
}

#[test]
fn find_links_page_and_dir() {
    let server = IndexServer::builder()
        .files(files())
        .link_style(LinkStyle::Relative)
        .start();
    let page = get(&server, "/links/", &[]).text();
    assert_eq!(page.matches("<a href=\"../files/").count(), 4);
    let project = get(&server, "/simple/other/", &[("Accept", "text/html")]).text();
    assert!(project.contains("href=\"../../files/other-2.0-py3-none-any.whl#sha256="));

    let dir = tempfile::tempdir().unwrap();
    let built: Vec<BuiltFile> = files().into_iter().map(|f| f.file).collect();
    let paths = crate::write_find_links_dir(dir.path().join("wheels"), &built);
    assert_eq!(paths.len(), 4);
    assert_eq!(fs_err::read(&paths[2]).unwrap(), built[2].bytes);
}

#[test]
fn keep_alive_and_etags() {
    let server = IndexServer::start(files());
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    stream
        .write_all(b"GET /simple/other/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let first = read_reply(&mut reader, false).unwrap();
    let etag = first.header("etag").unwrap().to_string();
    let second = format!("GET /simple/other/ HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n");
    stream.write_all(second.as_bytes()).unwrap();
    assert_eq!(read_reply(&mut reader, false).unwrap().status, 304);
    assert_eq!(server.request_count(), 2);

    server.add_file(WheelBuilder::new("other", "3.0").build());
    stream.write_all(second.as_bytes()).unwrap();
    let changed = read_reply(&mut reader, false).unwrap();
    assert_eq!(
        changed.status, 200,
        "a new file changes the page and its etag"
    );
    assert!(changed.text().contains("other-3.0-py3-none-any.whl"));
}

#[test]
fn status_faults_count_down() {
    let server = IndexServer::builder()
        .files(files())
        .fault(FaultRule::first(2, "/simple/*", Fault::Status(503)))
        .start();
    assert_eq!(get(&server, "/simple/other/", &[]).status, 503);
    assert_eq!(
        get(&server, "/files/other-2.0-py3-none-any.whl", &[]).status,
        200
    );
    assert_eq!(get(&server, "/simple/other/", &[]).status, 503);
    assert_eq!(get(&server, "/simple/other/", &[]).status, 200);
}

#[test]
fn body_faults() {
    let wheel = WheelBuilder::new("other", "2.0").build();
    let path = format!("/files/{}", wheel.filename);
    let server = IndexServer::start([wheel.clone()]);

    server.add_fault(FaultRule::first(1, &path, Fault::CorruptBody));
    let corrupt = get(&server, &path, &[]);
    assert_eq!(corrupt.body.len(), wheel.bytes.len());
    assert_ne!(corrupt.body, wheel.bytes);

    server.add_fault(FaultRule::first(1, &path, Fault::ShortBody { missing: 10 }));
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let err = read_reply(&mut BufReader::new(&stream), false)
        .err()
        .expect("the body is short");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);

    server.add_fault(FaultRule::first(1, &path, Fault::ResetMidBody));
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let mut all = Vec::new();
    let result = stream.read_to_end(&mut all);
    assert!(
        result.is_err() || all.len() < wheel.bytes.len(),
        "reset before the whole body"
    );

    server.add_fault(FaultRule::first(
        1,
        "/simple/other/",
        Fault::malformed_json(),
    ));
    let malformed = get(&server, "/simple/other/", &[]);
    assert!(serde_json::from_slice::<Value>(&malformed.body).is_err());

    assert_eq!(get(&server, &path, &[]).body, wheel.bytes, "faults used up");
}

#[test]
fn stall_and_redirect_faults() {
    let wheel = WheelBuilder::new("other", "2.0").build();
    let target = IndexServer::start([wheel.clone()]);
    let server = IndexServer::builder()
        .file(wheel.clone())
        .fault(FaultRule::always("/files/*", Fault::redirect_to(&target)))
        .fault(FaultRule::always(
            "/simple/*",
            Fault::Stall(Duration::from_millis(300)),
        ))
        .start();
    let path = format!("/files/{}", wheel.filename);
    let redirect = get(&server, &path, &[]);
    assert_eq!(redirect.status, 302);
    assert_eq!(
        redirect.header("location"),
        Some(target.file_url(&wheel.filename).as_str())
    );

    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    stream
        .write_all(b"GET /simple/other/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let started = Instant::now();
    let err = read_reply(&mut BufReader::new(&stream), false)
        .err()
        .expect("stalled past the timeout");
    assert!(matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[test]
fn drop_stops_the_server() {
    let server = IndexServer::start(files());
    let addr = server.addr();
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /simple/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    read_reply(&mut BufReader::new(&idle), false).unwrap();
    drop(server);
    let mut rest = Vec::new();
    assert_eq!(
        idle.read_to_end(&mut rest).unwrap_or(0),
        0,
        "open connections are closed"
    );
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn links_to_files_on_another_host() {
    let wheel = WheelBuilder::new("other", "2.0").build();
    let files_host = IndexServer::start([wheel.clone()]);
    let index = IndexServer::builder()
        .file(wheel.clone())
        .link_style(LinkStyle::OtherHost(files_host.localhost_base_url()))
        .start();
    let page: Value =
        serde_json::from_slice(&get(&index, "/simple/other/", &[("Accept", JSON_ACCEPT)]).body)
            .unwrap();
    let url = page["files"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        format!(
            "http://localhost:{}/files/{}",
            files_host.port(),
            wheel.filename
        )
    );
    let fetched = get(
        &files_host,
        url.strip_prefix(&files_host.localhost_base_url()).unwrap(),
        &[],
    );
    assert_eq!(fetched.body, wheel.bytes);
    assert_eq!(files_host.request_count(), 1);
}
