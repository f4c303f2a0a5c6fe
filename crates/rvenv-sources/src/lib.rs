//! rvenv-sources: distributions without a ready wheel on an index.
//!
//! - [`SourceProvider`] wraps the index provider for the resolver: the metadata of an sdist
//!   candidate comes from a wheel built earlier, else the sdist's static metadata, else the build
//!   backend's hooks; a direct requirement ([`DirectRequest`]: a wheel or sdist file or URL, a
//!   project directory, a git repository, an editable project) is the single candidate of its
//!   name, looked at beforehand ([`Builds::prepare_direct`]);
//! - [`SourceProvider::wheel`] then gives the wheel to install: built from the sdist (with
//!   `rvenv-build`, at most [`BuildConfig::max_parallel_builds`] at a time) and cached under the
//!   sdist's sha256 and the interpreter, or a PEP 660 editable wheel, with its PEP 610
//!   [`DirectUrl`].
//!
//! It does not resolve, install into the target or download index wheels; build requirements
//! are installed by the caller's [`rvenv_build::BuildRequirementsInstaller`].

mod builds;
mod direct;
mod direct_url;
mod editable_git;
mod error;
mod hashes;
mod provider;
mod request;

pub use builds::{BuildConfig, Builds, PreparedWheel};
pub use direct::DirectDist;
pub use direct_url::{file_url, DirectInfo, DirectUrl};
pub use error::{Error, Result};
pub use hashes::{check_hashes, sha256_file};
pub use provider::SourceProvider;
pub use request::DirectRequest;
