//! Just enough HTTP/1.1 for a test index: request parsing, responses, byte ranges.

use std::io::{self, BufRead, Read, Write};

/// Requests with longer heads are refused (a guard against a runaway client, not a limit tests hit).
const MAX_HEAD_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    pub http_1_0: bool,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query, percent-decoded.
    pub fn path(&self) -> String {
        let path = self.target.split(['?', '#']).next().unwrap_or_default();
        percent_decode(path)
    }

    pub fn keep_alive(&self) -> bool {
        let connection = self.header("connection").map(str::to_ascii_lowercase);
        match connection.as_deref() {
            Some(value) if value.contains("close") => false,
            Some(value) if value.contains("keep-alive") => true,
            _ => !self.http_1_0,
        }
    }
}

/// Reads one request (and discards its body). `Ok(None)` when the client closed the connection.
pub(crate) fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut line = String::new();
    // Tolerate blank lines before a request line (RFC 9112, 2.2).
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("bad request line {line:?}")));
    };
    let mut request = Request {
        method: method.to_string(),
        target: target.to_string(),
        http_1_0: version == "HTTP/1.0",
        headers: Vec::new(),
    };
    let mut head_bytes = line.len();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid(
                "connection closed inside the request head".to_string(),
            ));
        }
        head_bytes += line.len();
        if head_bytes > MAX_HEAD_BYTES {
            return Err(invalid("request head too large".to_string()));
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            request
                .headers
                .push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let body_len: u64 = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    io::copy(&mut reader.take(body_len), &mut io::sink())?;
    Ok(Some(request))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body: body.into(),
        }
    }

    /// A short plain-text response, for errors and redirects.
    pub fn text(status: u16, text: &str) -> Self {
        Self::new(status, "text/plain; charset=utf-8", format!("{text}\n"))
    }

    pub fn redirect(status: u16, location: &str) -> Self {
        Self::text(status, &format!("see {location}")).header("Location", location)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Status line and headers, with Content-Length of the whole body.
    pub fn head_bytes(&self, keep_alive: bool) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if self.status != 304 {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if !keep_alive {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    /// Writes the whole response; HEAD and 304 answers carry no body.
    pub fn write_to(
        &self,
        out: &mut impl Write,
        send_body: bool,
        keep_alive: bool,
    ) -> io::Result<()> {
        out.write_all(&self.head_bytes(keep_alive))?;
        if send_body && self.status != 304 {
            out.write_all(&self.body)?;
        }
        out.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// The answer to a `Range` header for a body of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeAnswer {
    /// No usable single range: send everything with 200 (RFC 9110 allows ignoring Range).
    Whole,
    /// Send bytes `start..=end` with 206.
    Partial { start: u64, end: u64 },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Interprets `bytes=a-b`, `bytes=a-` and `bytes=-n`; several ranges are answered whole.
pub(crate) fn answer_range(header: &str, len: u64) -> RangeAnswer {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Whole;
    };
    if spec.contains(',') {
        return RangeAnswer::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix range: the last n bytes.
        return match last.parse::<u64>() {
            Ok(0) => RangeAnswer::Unsatisfiable,
            Ok(_) if len == 0 => RangeAnswer::Unsatisfiable,
            Ok(n) => RangeAnswer::Partial {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            Err(_) => RangeAnswer::Whole,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return RangeAnswer::Whole;
    };
    let end = if last.is_empty() {
        len.saturating_sub(1)
    } else {
        match last.parse::<u64>() {
            Ok(end) if end >= start => end.min(len.saturating_sub(1)),
            _ => return RangeAnswer::Whole,
        }
    };
    if start >= len {
        RangeAnswer::Unsatisfiable
    } else {
        RangeAnswer::Partial { start, end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request_and_skips_its_body() {
        let raw = b"POST /a%2Bb/?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabcGET / HTTP/1.0\r\n\r\n";
        let mut reader = io::BufReader::new(&raw[..]);
        let request = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path(), "/a+b/");
        assert_eq!(request.header("HOST"), Some("x"));
        assert!(!request.keep_alive());
        let next = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(next.target, "/");
        assert!(!next.keep_alive(), "HTTP/1.0 closes by default");
        assert!(read_request(&mut reader).unwrap().is_none());
    }

    #[test]
    fn answers_ranges() {
        use RangeAnswer::*;
        assert_eq!(answer_range("bytes=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(
            answer_range("bytes=90-200", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            answer_range("bytes=10-", 100),
            Partial { start: 10, end: 99 }
        );
        assert_eq!(
            answer_range("bytes=-30", 100),
            Partial { start: 70, end: 99 }
        );
        assert_eq!(
            answer_range("bytes=-300", 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(answer_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(answer_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(answer_range("bytes=0-1,5-6", 100), Whole);
        assert_eq!(answer_range("items=0-1", 100), Whole);
        assert_eq!(answer_range("bytes=5-1", 100), Whole);
    }
}
