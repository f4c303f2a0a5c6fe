//! Requirements to a [`Resolution`]: PubGrub over a [`Provider`], choosing versions as pip does.
//!
//! - Extras are packages of their own (`name[extra]`) that depend on their base at the same
//!   version plus the requirements the extra enables.
//! - Markers are evaluated for the target environment.
//! - Constraints restrict the versions of a package when something requires it; they never add one.
//! - Installed versions ([`ResolveRequest::preferences`]) are kept when they satisfy, unless
//!   upgraded ([`Upgrade`]).
//! - Pre-releases: only with [`Prereleases::Allow`], for a package whose specifier names a
//!   pre-release, or when no final release satisfies (pip's rule).
//! - Yanked versions (PEP 592): only when every version that satisfies is yanked, as with an
//!   `==` pin of a yanked release (pip's rule).
//!
//! The solver runs on a blocking thread; the requests it needs are started ahead of time on the
//! tokio runtime (see `fetch`).

mod fetch;
mod package;
mod report;
mod solver;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement};

use crate::types::{Candidate, Provider, ProviderError};

/// Where a requirement came from, for messages: `requirements.txt:4`, `command line`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(pub String);

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Origin {
    fn from(origin: &str) -> Self {
        Origin(origin.to_string())
    }
}

impl From<String> for Origin {
    fn from(origin: String) -> Self {
        Origin(origin)
    }
}

/// What to resolve.
#[derive(Debug, Clone, Default)]
pub struct ResolveRequest {
    pub requirements: Vec<(Requirement, Origin)>,
    /// `-c` constraints: restrict versions of packages that something else requires.
    pub constraints: Vec<(Requirement, Origin)>,
    /// Installed versions, kept when they satisfy (pip's `only-if-needed`).
    pub preferences: Vec<(PackageName, Version)>,
}

/// When pre-releases may be chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Prereleases {
    /// pip's default: for a package whose specifier names a pre-release, or when no final
    /// release satisfies.
    #[default]
    IfNeededOrRequested,
    /// `--pre`: like any other version.
    Allow,
}

/// Which installed versions may be replaced by newer ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Upgrade {
    /// Keep installed versions that satisfy.
    #[default]
    None,
    /// `-U` with every package: prefer the newest of everything.
    All,
    /// Prefer the newest of these; keep the others.
    Packages(Vec<PackageName>),
}

impl Upgrade {
    fn includes(&self, name: &PackageName) -> bool {
        match self {
            Upgrade::None => false,
            Upgrade::All => true,
            Upgrade::Packages(names) => names.contains(name),
        }
    }
}

/// How to resolve.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    pub prereleases: Prereleases,
    /// `--no-deps`: only the requested packages.
    pub no_deps: bool,
    pub upgrade: Upgrade,
    /// `--prefer-binary`: an older version with a wheel before a newer one with only an sdist.
    pub prefer_binary: bool,
}

/// Why a package is in a resolution.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RequiredBy {
    /// The user asked for it.
    User { requirement: String, origin: Origin },
    /// Another package (or one of its extras) requires it.
    Package {
        name: PackageName,
        version: Version,
        extra: Option<ExtraName>,
        requirement: String,
    },
}

/// One distribution to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPackage {
    pub name: PackageName,
    pub version: Version,
    /// The file chosen for this version.
    pub candidate: Candidate,
    /// Named in the user's requirements (pip's report `requested`).
    pub requested: bool,
    /// The extras that are part of the resolution, sorted.
    pub extras: Vec<ExtraName>,
    /// Sorted: the user's requirements first, then packages by name.
    pub required_by: Vec<RequiredBy>,
}

/// The packages to install, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    pub packages: Vec<ResolvedPackage>,
}

impl Resolution {
    pub fn get(&self, name: &PackageName) -> Option<&ResolvedPackage> {
        self.packages.iter().find(|package| &package.name == name)
    }
}

/// Why requirements could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No set of versions satisfies the requirements; the text explains the conflict.
    #[error("no versions satisfy the requirements:\n{0}")]
    NoSolution(String),
    #[error("failed to get the versions of {name}: {source}")]
    Versions {
        name: PackageName,
        #[source]
        source: ProviderError,
    },
    #[error("failed to get the metadata of {name} {version}: {source}")]
    Metadata {
        name: PackageName,
        version: Version,
        #[source]
        source: ProviderError,
    },
    #[error(
        "{requirement} ({origin}): requirements with a direct URL are not supported yet; \
         hint: download the file and name it by version from a --find-links directory"
    )]
    DirectUrl { requirement: String, origin: Origin },
    #[error("the resolver stopped unexpectedly: {0}")]
    Internal(String),
}

/// Resolves `request` for the environment described by `markers` with versions and metadata
/// from `provider`. Must be called within a tokio runtime; the solver runs on a blocking thread.
pub async fn resolve(
    request: &ResolveRequest,
    provider: Arc<dyn Provider>,
    markers: &MarkerEnvironment,
    options: &ResolveOptions,
) -> Result<Resolution, ResolveError> {
    for (requirement, origin) in request.requirements.iter().chain(&request.constraints) {
        if matches!(
            requirement.version_or_url,
            Some(pep508_rs::VersionOrUrl::Url(_))
        ) {
            return Err(ResolveError::DirectUrl {
                requirement: requirement.to_string(),
                origin: origin.clone(),
            });
        }
    }
    let request_key = request_key(request, markers, options);
    if let Some(kept) = provider.kept_resolution(&request_key).await {
        return Ok(kept);
    }
    let preferences: HashMap<PackageName, Version> = request
        .preferences
        .iter()
        .filter(|(name, _)| !options.upgrade.includes(name))
        .cloned()
        .collect();
    let fetcher = fetch::Fetcher::new(
        Arc::clone(&provider),
        tokio::runtime::Handle::current(),
        fetch::Hints {
            markers: markers.clone(),
            preferences: preferences.clone(),
            follow_dependencies: !options.no_deps,
        },
    );
    let mut roots: Vec<PackageName> = request
        .requirements
        .iter()
        .map(|(requirement, _)| requirement.name.clone())
        .collect();
    roots.sort();
    roots.dedup();
    for name in provider.recall(&roots) {
        fetcher.request_candidates(&name);
    }
    let solver = solver::Solver::new(request, Arc::clone(&fetcher), markers, options, preferences);
    let resolution = tokio::task::spawn_blocking(move || solver.solve())
        .await
        .map_err(|err| ResolveError::Internal(err.to_string()))??;
    provider.keep_resolution(&request_key, &fetcher.consulted_projects(), &resolution);
    let resolved: Vec<PackageName> = resolution
        .packages
        .iter()
        .map(|package| package.name.clone())
        .collect();
    provider.remember(&roots, &resolved);
    Ok(resolution)
}

/// Names everything a resolution depends on besides the provider's answers: the requirements
/// and constraints with where each was written (errors and `required_by` quote them), the
/// installed versions, the target's markers and the options.
fn request_key(
    request: &ResolveRequest,
    markers: &MarkerEnvironment,
    options: &ResolveOptions,
) -> String {
    let mut key = format!("rvenv-resolve {}\n", env!("CARGO_PKG_VERSION"));
    for (requirement, origin) in &request.requirements {
        key.push_str(&format!("requirement {requirement} from {origin}\n"));
    }
    for (requirement, origin) in &request.constraints {
        key.push_str(&format!("constraint {requirement} from {origin}\n"));
    }
    let mut installed = request.preferences.clone();
    installed.sort();
    for (name, version) in installed {
        key.push_str(&format!("installed {name} {version}\n"));
    }
    key.push_str(&format!("{markers:?}\n{options:?}\n"));
    key
}

#[cfg(test)]
mod tests;
