//! rvenv-index: package indexes for the resolver.
//!
//! Reads the simple API (PEP 691 JSON, PEP 503 HTML) of one or more indexes and find-links
//! locations, caches pages with HTTP semantics, fetches core metadata without downloading wheels
//! (PEP 658 files, else HTTP range requests into the remote zip, else the whole file, which is
//! then kept), and serves all of it to the resolver as an [`IndexProvider`]. Credentials come
//! from URLs or netrc, stay with their host and never appear in messages.
//!
//! It does not choose files for a target (that is `rvenv_resolve::select`) nor resolve.

mod auth;
mod cache;
mod client;
mod dns;
mod error;
mod filename;
mod filter;
mod find_links;
mod html;
mod netrc;
mod pages;
mod provider;
mod redact;
mod remote_zip;
mod simple;
mod stored;
#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;
mod tls;
mod unreachable;

pub use auth::{CredentialSource, Credentials};
pub use client::{ClientOptions, IndexClient};
pub use error::{error_chain, IndexError};
pub use filename::normalize_name;
pub use find_links::FindLinks;
pub use netrc::{Netrc, NetrcEntry};
pub use provider::{IndexProvider, IndexSettings, IndexStrategy};
pub use redact::{redact_str, redact_url, strip_credentials};
pub use simple::{parse_html, parse_json};
pub use tls::SystemRoots;
