//! Which of a project's files a target interpreter can use, and the best one for each version.

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::types::{Candidates, DistFile};

/// What the target can run: its tags in priority order and its Python version.
#[derive(Debug, Clone)]
pub struct Target {
    /// PEP 425 tags, best first, as `(python, abi, platform)` strings (e.g. `("cp311", "cp311",
    /// "manylinux_2_17_x86_64")`).
    pub tags: Vec<(String, String, String)>,
    /// The full Python version, checked against Requires-Python.
    pub python_full_version: Version,
}

/// pip's `--only-binary` / `--no-binary` for one package set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PackageSet {
    #[default]
    None,
    All,
    Some(Vec<PackageName>),
}

/// Options that decide which files are usable.
#[derive(Debug, Clone, Default)]
pub struct SelectOptions {
    pub only_binary: PackageSet,
    pub no_binary: PackageSet,
}

/// Groups `files` by version and keeps, for each version, the best file the target can use (the
/// wheel with the highest-priority tag, else the sdist). Versions with no usable file go to
/// `Candidates::unusable` with a one-line reason. Pre-releases and yanked files are kept: the
/// resolver decides about those. Newest version first.
pub fn select_candidates(
    name: &PackageName,
    files: Vec<DistFile>,
    target: &Target,
    options: &SelectOptions,
) -> Candidates {
    let _ = (name, files, target, options);
    todo!("select_candidates")
}
