//! The types shared by the index client, the resolver and the downloader.

use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, Requirement};
use url::Url;

use crate::resolver::Resolution;

/// A hash of a file, as an index or a `--hash` option gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hash {
    /// Lower-case algorithm name: `sha256`, `sha384`, `sha512`, `md5`.
    pub algorithm: String,
    /// Lower-case hex digest.
    pub digest: String,
}

/// Whether a file is a wheel or a source distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Wheel,
    Sdist,
}

/// One file of a project on an index or find-links location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFile {
    pub filename: String,
    pub kind: FileKind,
    /// Absolute URL (may carry credentials; never print it without redacting).
    pub url: Url,
    pub hashes: Vec<Hash>,
    pub size: Option<u64>,
    /// `data-requires-python` / `requires-python` from the index.
    pub requires_python: Option<VersionSpecifiers>,
    /// PEP 592: `Some(reason)` when yanked (reason may be empty).
    pub yanked: Option<String>,
    /// PEP 658/714: the index serves `<url>.metadata`.
    pub has_metadata_file: bool,
    /// The hashes of that metadata file, when the index gives them; checked on download.
    pub metadata_hashes: Vec<Hash>,
}

/// A version of a project the target can install, with the file chosen for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: PackageName,
    pub version: Version,
    pub file: DistFile,
}

impl Candidate {
    pub fn is_yanked(&self) -> bool {
        self.file.yanked.is_some()
    }
}

/// Every installable version of one project, newest first, plus the versions that exist but
/// cannot be used and why (for error messages such as "numpy 2.3.0 has no wheel for cp38").
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub versions: Vec<Candidate>,
    pub unusable: Vec<(Version, String)>,
}

/// The part of a distribution's METADATA the resolver needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    pub name: PackageName,
    pub version: Version,
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    pub provides_extras: Vec<ExtraName>,
}

/// A failure of a [`Provider`], already phrased for a person (URLs redacted).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    message: Arc<str>,
    kind: ProviderErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProviderErrorKind {
    Failed,
    NotFound,
    InvalidMetadata,
}

impl ProviderError {
    /// The request failed (network, authentication, a broken page): resolution cannot go on.
    pub fn new(message: impl Into<Arc<str>>) -> Self {
        ProviderError {
            message: message.into(),
            kind: ProviderErrorKind::Failed,
        }
    }

    /// The project exists on none of the locations: the resolver treats it as having no versions
    /// and explains that.
    pub fn not_found(message: impl Into<Arc<str>>) -> Self {
        ProviderError {
            message: message.into(),
            kind: ProviderErrorKind::NotFound,
        }
    }

    /// The candidate's metadata cannot be used (it does not parse, or names another project
    /// or version): like pip, the resolver leaves that version out and tries others.
    pub fn invalid_metadata(message: impl Into<Arc<str>>) -> Self {
        ProviderError {
            message: message.into(),
            kind: ProviderErrorKind::InvalidMetadata,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ProviderErrorKind::NotFound
    }

    pub fn is_invalid_metadata(&self) -> bool {
        self.kind == ProviderErrorKind::InvalidMetadata
    }
}

/// Where the resolver gets versions and metadata. The index client implements it over HTTP; tests
/// implement it in memory. Futures are `'static` so the resolver can start many ahead of time.
pub trait Provider: Send + Sync + 'static {
    /// All installable versions of `name` for the target (tags, Requires-Python and binary
    /// options already applied).
    fn candidates(
        &self,
        name: &PackageName,
    ) -> BoxFuture<'static, Result<Arc<Candidates>, ProviderError>>;
    /// The core metadata of one candidate.
    fn metadata(
        &self,
        candidate: &Candidate,
    ) -> BoxFuture<'static, Result<Arc<CoreMetadata>, ProviderError>>;
    /// The projects an earlier resolution of the same requested projects (`roots`, sorted)
    /// ended with, if the provider kept them: the resolver asks for their versions at once
    /// instead of as the dependency graph reveals them, one level after another.
    fn recall(&self, _roots: &[PackageName]) -> Vec<PackageName> {
        Vec::new()
    }
    /// Called after a successful resolution of `roots` with the projects it chose.
    fn remember(&self, _roots: &[PackageName], _resolved: &[PackageName]) {}
    /// The resolution kept by [`Provider::keep_resolution`] for `request` (a text naming
    /// everything a resolution depends on besides the provider's answers), if the provider
    /// would answer as it did then for every project that resolution consulted: resolving
    /// again would give the same packages. The provider decides what "as then" means (for
    /// indexes: the same pages); when unsure, it answers `None`.
    fn kept_resolution(&self, _request: &str) -> BoxFuture<'static, Option<Resolution>> {
        async { None }.boxed()
    }
    /// Called after a successful resolution of `request` with every project whose versions
    /// it consulted.
    fn keep_resolution(
        &self,
        _request: &str,
        _consulted: &[PackageName],
        _resolution: &Resolution,
    ) {
    }
}
