//! The resolver and the choice of files.
//!
//! `tags` lists an interpreter's PEP 425 tags in priority order; `wheel_filename` parses wheel and
//! sdist file names; `select` turns a project's files into the [`Candidates`] a target can install;
//! `resolver` turns requirements into a resolution with PubGrub over a [`Provider`]. Fetching pages,
//! metadata and files over the network is `rvenv-index`'s job; installing is `rvenv-install`'s.

pub mod metadata;
pub mod resolver;
pub mod select;
pub mod tags;
pub mod types;
pub mod wheel_filename;

pub use metadata::{
    parse_headers, parse_metadata, parse_requirement, parse_requires_python, pkg_info_is_static,
};
pub use resolver::{
    resolve, Origin, Prereleases, RequiredBy, Resolution, ResolveError, ResolveOptions,
    ResolveRequest, ResolvedPackage, Upgrade,
};
pub use select::{select_candidates, PackageSet, SelectOptions, Target};
pub use tags::Tags;
pub use types::{
    Candidate, Candidates, CoreMetadata, DistFile, FileKind, Hash, Provider, ProviderError,
};
pub use wheel_filename::{FilenameError, SdistFilename, WheelFilename};
