//! The crate's error type. Every URL in a message is already redacted.

use std::path::PathBuf;

use crate::auth::CredentialSource;

/// A failure of the index client. URLs are stored redacted (`https://user:****@host/...`).
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("could not build the HTTP client")]
    ClientBuild(#[source] reqwest::Error),

    #[error("cannot load the system's root certificates: {0}\nhint: point SSL_CERT_FILE at a PEM bundle of CA certificates")]
    RootCertificates(String),

    #[error("request to {url} failed")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    #[error(
        "TLS error talking to {url}\n  hint: if the server uses a private certificate authority, \
         point SSL_CERT_FILE or SSL_CERT_DIR at its certificate"
    )]
    Tls {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },

    #[error("{}", auth_message(.url, *.status, .index.as_deref(), .credentials))]
    Auth {
        url: String,
        /// The index (as given, redacted) when the request was for one of its pages.
        index: Option<String>,
        status: u16,
        credentials: CredentialSource,
    },

    #[error("package {name} was not found on {locations}")]
    NotFound { name: String, locations: String },

    /// The project's page exists but lists no file of it (an empty or unreadable HTML page).
    #[error("package {name} was not found on {locations} (its page lists no files of it)")]
    NoFiles { name: String, locations: String },

    #[error(
        "package {name} is not in the cache and --offline forbids network access\n  \
         hint: run once without --offline to fill the cache"
    )]
    NotCached { name: String },

    #[error("could not parse the index page {url}: {message}")]
    Page { url: String, message: String },

    #[error("too many redirects, last from {url}")]
    TooManyRedirects { url: String },

    #[error("could not read the metadata of {file}: {message}")]
    Metadata { file: String, message: String },

    #[error("could not read the zip directory of {url}: {message}")]
    RemoteZip { url: String, message: String },

    #[error("hash mismatch for {url}: expected sha256 {expected}, got {actual}")]
    HashMismatch {
        url: String,
        expected: String,
        actual: String,
    },

    #[error("building sdists for metadata is not supported yet (package {name}, file {file})")]
    SdistMetadata { name: String, file: String },

    #[error("invalid find-links location {location}: {message}")]
    FindLinks { location: String, message: String },

    /// An error already reported once and shared by every caller that waited for it.
    #[error("{0}")]
    Shared(String),

    #[error(transparent)]
    Io(#[from] std::io::Error),

    #[error("could not read the zip file {path}")]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
}

fn auth_message(
    url: &str,
    status: u16,
    index: Option<&str>,
    credentials: &CredentialSource,
) -> String {
    let index = index
        .map(|index| format!("index {index}; "))
        .unwrap_or_default();
    format!(
        "{url} answered {status} ({index}credentials: {credentials})\n  hint: {}",
        auth_hint(status, credentials)
    )
}

fn auth_hint(status: u16, source: &CredentialSource) -> &'static str {
    match (status, source) {
        (401, CredentialSource::None) => {
            "this index needs credentials: put them in the URL (https://user:password@host/...) \
             or in ~/.netrc (or the file named by NETRC)"
        }
        (401, _) => "the credentials were rejected: check the user name and password (or token)",
        (_, CredentialSource::None) => {
            "access denied without credentials: this index may need a user name and password \
             (URL or ~/.netrc)"
        }
        // Some servers (pypiserver among them) answer 403, not 401, to a wrong password.
        _ => {
            "the credentials were refused: check the user name and password (or token), and \
             that they may read this index"
        }
    }
}

/// Formats an error and its causes on one line: `outer: inner: innermost`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl From<IndexError> for rvenv_resolve::ProviderError {
    fn from(error: IndexError) -> Self {
        let message = error_chain(&error);
        match error {
            IndexError::NotFound { .. } | IndexError::NoFiles { .. } => {
                rvenv_resolve::ProviderError::not_found(message)
            }
            IndexError::Metadata { .. } => rvenv_resolve::ProviderError::invalid_metadata(message),
            _ => rvenv_resolve::ProviderError::new(message),
        }
    }
}
