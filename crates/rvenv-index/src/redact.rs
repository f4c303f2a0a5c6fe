//! Credentials never appear in messages: every URL is shown through [`redact_url`].

use url::Url;

/// The URL as a string with its password replaced by `****` (`https://user:****@host/...`).
/// A user name alone (often a token) is hidden too: `https://****@host/...`.
pub fn redact_url(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    let result = if url.password().is_some() {
        shown.set_password(Some("****"))
    } else {
        shown.set_username("****")
    };
    match result {
        Ok(()) => shown.to_string(),
        // URLs that cannot carry credentials (cannot-be-a-base) have none to hide.
        Err(()) => url.to_string(),
    }
}

/// Redacts a URL given as text; text that does not parse as a URL is returned unchanged.
pub fn redact_str(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => redact_url(&url),
        Err(_) => text.to_string(),
    }
}

/// The URL without its user name and password.
pub fn strip_credentials(url: &Url) -> Url {
    let mut stripped = url.clone();
    // Both calls only fail for URLs that cannot carry credentials, which then have none.
    let _ = stripped.set_username("");
    let _ = stripped.set_password(None);
    stripped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_masked_user_kept() {
        let url = Url::parse("https://alice:s3cret@example.com/simple/").unwrap();
        let shown = redact_url(&url);
        assert_eq!(shown, "https://alice:****@example.com/simple/");
        assert!(!shown.contains("s3cret"));
    }

    #[test]
    fn lone_token_is_masked() {
        let url = Url::parse("https://tok3n@example.com/simple/").unwrap();
        assert_eq!(redact_url(&url), "https://****@example.com/simple/");
    }

    #[test]
    fn plain_urls_are_unchanged() {
        assert_eq!(
            redact_str("https://pypi.org/simple/"),
            "https://pypi.org/simple/"
        );
        assert_eq!(redact_str("not a url"), "not a url");
    }

    #[test]
    fn strip_removes_both_parts() {
        let url = Url::parse("https://alice:pw@example.com:8443/x").unwrap();
        assert_eq!(
            strip_credentials(&url).as_str(),
            "https://example.com:8443/x"
        );
    }
}
