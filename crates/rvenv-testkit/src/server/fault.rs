//! Fault injection: per path pattern, make the index misbehave the way real networks and servers do.

use std::time::Duration;

use super::IndexServer;

/// One way for a response to go wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (e.g. 500, 502, 503, 404, 429) and a short text body.
    Status(u16),
    /// Redirect to the same path under `to` (a base URL such as another server's
    /// [`IndexServer::base_url`]) with this status (301, 302, 307, 308).
    Redirect { to: String, status: u16 },
    /// Wait this long before answering (longer than the client's read timeout, to test it).
    Stall(Duration),
    /// Send the head and half the body, wait this long, then send the rest.
    StallMidBody(Duration),
    /// Send the body slowly: `chunk` bytes every `interval` (slow but never idle).
    Trickle { chunk: usize, interval: Duration },
    /// Send the head and half the body, then reset the connection (TCP RST).
    ResetMidBody,
    /// Announce the full Content-Length but send `missing` bytes fewer, then close.
    ShortBody { missing: usize },
    /// Replace the body (status 200), e.g. malformed HTML or JSON.
    Body { content_type: String, body: Vec<u8> },
    /// Flip one byte of the body: the right length with the wrong hash.
    CorruptBody,
}

impl Fault {
    /// A 302 redirect to the same path on `other` (e.g. a second server on another port).
    pub fn redirect_to(other: &IndexServer) -> Self {
        Fault::Redirect {
            to: other.base_url(),
            status: 302,
        }
    }

    /// An HTML page that is not what a simple index page should be.
    pub fn malformed_html() -> Self {
        Fault::Body {
            content_type: "text/html; charset=utf-8".to_string(),
            body: b"<html><body><a href=\"broken#sha256=zz\" data-yanked=<a>\x00\xff</bod".to_vec(),
        }
    }

    /// A PEP 691 JSON response that does not parse.
    pub fn malformed_json() -> Self {
        Fault::Body {
            content_type: "application/vnd.pypi.simple.v1+json".to_string(),
            body: b"{\"meta\": {\"api-version\": \"1.1\"}, \"files\": [{\"filename\": ".to_vec(),
        }
    }
}

/// A fault applied to requests whose path matches `pattern` (`*` matches any run of characters,
/// `/` included), either always or for the first `times` matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub pattern: String,
    pub fault: Fault,
    /// How many more requests get the fault; `None` = all.
    pub remaining: Option<usize>,
}

impl FaultRule {
    /// The fault for every matching request.
    pub fn always(pattern: &str, fault: Fault) -> Self {
        Self {
            pattern: pattern.to_string(),
            fault,
            remaining: None,
        }
    }

    /// The fault for the first `times` matching requests, then normal answers.
    pub fn first(times: usize, pattern: &str, fault: Fault) -> Self {
        Self {
            pattern: pattern.to_string(),
            fault,
            remaining: Some(times),
        }
    }

    /// Whether this rule applies to `path`, counting the use.
    pub(crate) fn take(&mut self, path: &str) -> bool {
        if self.remaining == Some(0) || !glob_matches(&self.pattern, path) {
            return false;
        }
        if let Some(remaining) = &mut self.remaining {
            *remaining -= 1;
        }
        true
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    if middle.is_empty() && parts.len() == 1 {
        return pattern == text;
    }
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_paths() {
        assert!(glob_matches(
            "/files/*.metadata",
            "/files/a-1.0-py3-none-any.whl.metadata"
        ));
        assert!(!glob_matches(
            "/files/*.metadata",
            "/files/a-1.0-py3-none-any.whl"
        ));
        assert!(glob_matches("*", "/anything"));
        assert!(glob_matches("/simple/a/", "/simple/a/"));
        assert!(!glob_matches("/simple/a/", "/simple/ab/"));
        assert!(glob_matches("/simple/*/", "/simple/x/"));
        assert!(glob_matches("*a*a*", "/aa"));
        assert!(!glob_matches("*ab*ab", "/ab"));
    }

    #[test]
    fn rules_count_down() {
        let mut rule = FaultRule::first(2, "/simple/*", Fault::Status(503));
        assert!(!rule.take("/files/x"));
        assert!(rule.take("/simple/x/"));
        assert!(rule.take("/simple/x/"));
        assert!(!rule.take("/simple/x/"));
        let mut always = FaultRule::always("*", Fault::CorruptBody);
        assert!((0..10).all(|_| always.take("/x")));
    }
}
