//! Credentials per origin: from the URL an index was given with, else from netrc.
//!
//! Credentials are kept apart from URLs: requests go out with stripped URLs and an
//! `Authorization` header chosen for the request's own origin, so a redirect to another host
//! never carries the first host's credentials.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::RwLock;

use url::Url;

use crate::filename::percent_decode;
use crate::netrc::Netrc;
use crate::redact::strip_credentials;

/// Where the credentials used for a host came from (shown in 401/403 errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `https://user:password@host/...`
    Url,
    /// A `machine` or `default` entry of this netrc file.
    Netrc(PathBuf),
    /// No credentials were sent.
    None,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Url => f.write_str("from the URL"),
            CredentialSource::Netrc(path) => write!(f, "from netrc {}", path.display()),
            CredentialSource::None => f.write_str("none"),
        }
    }
}

/// A user name and password for HTTP basic auth.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Option<String>,
    pub source: CredentialSource,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "****"))
            .field("source", &self.source)
            .finish()
    }
}

impl Credentials {
    /// The credentials in a URL's userinfo, percent-decoded.
    pub fn from_url(url: &Url) -> Option<Credentials> {
        if url.username().is_empty() && url.password().is_none() {
            return None;
        }
        let decode = |text: &str| {
            percent_decode(text)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_else(|| text.to_string())
        };
        Some(Credentials {
            username: decode(url.username()),
            password: url.password().map(decode),
            source: CredentialSource::Url,
        })
    }
}

/// `(scheme, host, port)`: credentials are never shared across origins.
type Origin = (String, String, u16);

fn origin(url: &Url) -> Option<Origin> {
    Some((
        url.scheme().to_string(),
        url.host_str()?.to_ascii_lowercase(),
        url.port_or_known_default()?,
    ))
}

/// The credentials known for each origin.
#[derive(Debug, Default)]
pub struct AuthStore {
    from_urls: RwLock<HashMap<Origin, Credentials>>,
    netrc: Option<Netrc>,
}

impl AuthStore {
    pub fn new(netrc: Option<Netrc>) -> Self {
        AuthStore {
            from_urls: RwLock::default(),
            netrc,
        }
    }

    /// Remembers the URL's credentials (if any) for its origin and returns the URL without them.
    pub fn register(&self, url: &Url) -> Url {
        if let (Some(credentials), Some(origin)) = (Credentials::from_url(url), origin(url)) {
            if let Ok(mut map) = self.from_urls.write() {
                map.insert(origin, credentials);
            }
        }
        strip_credentials(url)
    }

    /// The credentials to send to `url`: its own userinfo, else those registered for its origin,
    /// else netrc's entry for its host.
    pub fn for_url(&self, url: &Url) -> Option<Credentials> {
        if let Some(credentials) = Credentials::from_url(url) {
            return Some(credentials);
        }
        let origin = origin(url)?;
        if let Some(credentials) = self
            .from_urls
            .read()
            .ok()
            .and_then(|map| map.get(&origin).cloned())
        {
            return Some(credentials);
        }
        let netrc = self.netrc.as_ref()?;
        let entry = netrc.lookup(&origin.1)?;
        Some(Credentials {
            username: entry.login.clone(),
            password: Some(entry.password.clone()),
            source: CredentialSource::Netrc(netrc.path.clone().unwrap_or_default()),
        })
    }

    /// Where the credentials for `url` come from.
    pub fn source_for(&self, url: &Url) -> CredentialSource {
        self.for_url(url)
            .map(|credentials| credentials.source)
            .unwrap_or(CredentialSource::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn url_credentials_apply_to_their_origin_only() {
        let store = AuthStore::new(None);
        let stripped = store.register(&url("https://al%40ice:p%3Aw@idx.example.com/simple/"));
        assert_eq!(stripped.as_str(), "https://idx.example.com/simple/");
        let found = store
            .for_url(&url("https://idx.example.com/files/a.whl"))
            .unwrap();
        assert_eq!(found.username, "al@ice");
        assert_eq!(found.password.as_deref(), Some("p:w"));
        assert_eq!(found.source, CredentialSource::Url);
        assert!(store
            .for_url(&url("https://files.example.com/a.whl"))
            .is_none());
        assert!(store
            .for_url(&url("http://idx.example.com/simple/"))
            .is_none());
        assert!(store
            .for_url(&url("https://idx.example.com:8443/simple/"))
            .is_none());
    }

    #[test]
    fn netrc_is_the_fallback() {
        let mut netrc = Netrc::parse("machine idx.example.com login bob password pw");
        netrc.path = Some(PathBuf::from("/home/bob/.netrc"));
        let store = AuthStore::new(Some(netrc));
        let found = store
            .for_url(&url("https://idx.example.com/simple/x/"))
            .unwrap();
        assert_eq!(found.username, "bob");
        assert_eq!(
            found.source,
            CredentialSource::Netrc(PathBuf::from("/home/bob/.netrc"))
        );
        store.register(&url("https://alice:pw2@idx.example.com/"));
        assert_eq!(
            store
                .for_url(&url("https://idx.example.com/simple/x/"))
                .unwrap()
                .username,
            "alice"
        );
        assert_eq!(
            store.source_for(&url("https://nobody.example.com/")),
            CredentialSource::None
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let credentials = Credentials::from_url(&url("https://u:topsecret@h/")).unwrap();
        assert!(!format!("{credentials:?}").contains("topsecret"));
    }
}
