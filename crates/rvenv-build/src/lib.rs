//! rvenv-build: the PEP 517/518/660 build frontend.
//!
//! - [`unpack_sdist`] unpacks a `.tar.gz` or `.zip` source distribution, refusing entries that
//!   would land outside the destination;
//! - [`Pyproject`] reads `[build-system]` (pip's setuptools default when absent, `backend-path`
//!   kept inside the tree) and the static parts of `[project]`;
//! - [`SourceBuild`] gives a source tree's metadata (static PKG-INFO or `[project]` first, without
//!   starting Python; else `prepare_metadata_for_build_wheel`; else a built wheel) and builds
//!   wheels and PEP 660 editables by calling the backend's hooks through a small embedded Python
//!   script, in an isolated build environment ([`BuildEnvironments`]) cached by interpreter and
//!   requirement set. The caller installs build requirements through a
//!   [`BuildRequirementsInstaller`];
//! - [`fetch_git`] fetches `git+` URLs with the system git into the cache, keyed by commit.
//!
//! It does not resolve or download packages, install wheels into the target, or cache built
//! wheels: the caller does, keyed by [`built_wheel_cache_key`].

mod archive;
mod build_env;
mod error;
mod frontend;
mod git;
mod pyproject;
mod source_build;

pub use archive::{unpack_sdist, ArchiveFormat};
pub use build_env::{build_env_key, BuildEnvironments, BuildRequirementsInstaller};
pub use error::{Error, HookFailure, Result};
pub use git::{fetch_git, resolve_remote, GitCheckout};
pub use pyproject::{BuildSystem, Pyproject};
pub use source_build::{BuildIsolation, BuildOptions, SourceBuild};

use rvenv_venv::Interpreter;

/// The key, within the cache's bucket of built wheels, of the wheels built from the sdist with
/// this sha256 by interpreters like `interpreter`.
///
/// The sdist's hash alone is not enough: a `setup.py` may compute its dependencies from the
/// running Python, and a C extension is built for one ABI. So the key adds the implementation,
/// its `major.minor`, the ABI and the platform; the directory may then hold the one wheel built
/// for them.
pub fn built_wheel_cache_key(sdist_sha256: &str, interpreter: &Interpreter) -> String {
    let (major, minor) = interpreter.python_minor();
    let abi = interpreter
        .soabi
        .clone()
        .unwrap_or_else(|| format!("{}{}", interpreter.implementation, interpreter.abiflags));
    let platform = format!("{}_{}", interpreter.platform.os, interpreter.platform.arch);
    let tag: String = format!(
        "{}{major}.{minor}-{abi}-{platform}",
        interpreter.implementation
    )
    .chars()
    .map(|c| {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            c
        } else {
            '_'
        }
    })
    .collect();
    format!("{}/{tag}", sdist_sha256.to_ascii_lowercase())
}
