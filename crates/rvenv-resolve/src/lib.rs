//! Requirements files, package indexes, the resolver, downloads and the cache.
//!
//! `requirements` parses pip's requirements-file format; `index` talks to simple-API indexes and
//! find-links; `tags` and `wheel_filename` decide which files fit an interpreter; `resolver` turns
//! requirements into a [`Resolution`] with PubGrub; `cache` and `download` fetch files into the shared
//! cache. Installing into an environment is not done here (see `rvenv-install`).

pub mod types;

pub use types::{
    Candidate, Candidates, CoreMetadata, DistFile, FileKind, Hash, Provider, ProviderError,
};
