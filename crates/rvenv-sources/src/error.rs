use std::path::PathBuf;

/// Everything that can go wrong while getting metadata or a wheel from a source.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Io(#[from] std::io::Error),

    #[error(transparent)]
    Cache(#[from] rvenv_cache::Error),

    /// A build failed; its message names the package, backend, output tail and log.
    #[error(transparent)]
    Build(#[from] rvenv_build::Error),

    #[error("cannot download {file}: {source}")]
    Download {
        file: String,
        #[source]
        source: rvenv_index::IndexError,
    },

    #[error("{file} was rejected: {source}")]
    InvalidWheel {
        file: String,
        #[source]
        source: rvenv_install::Error,
    },

    #[error("invalid metadata in {}: {reason}", path.display())]
    Metadata { path: PathBuf, reason: String },

    #[error(
        "{given} is {found} {found_version}, not {expected}; hint: fix the name in the \
         requirement (`{found} @ ...` or `#egg={found}`)"
    )]
    NameMismatch {
        given: String,
        expected: String,
        found: String,
        found_version: String,
    },

    #[error("the build of {package} produced {found} {found_version} (expected {package})")]
    BuiltWrongDistribution {
        package: String,
        found: String,
        found_version: String,
    },

    #[error("hash mismatch for {file}:\n  expected: {expected}\n  actual:   sha256:{actual}\nhint: the file changed, or the requirement has a stale hash")]
    HashMismatch {
        file: String,
        expected: String,
        actual: String,
    },

    #[error("{file}: only sha256 hashes can be checked; the requirement gives {given}")]
    UnsupportedHash { file: String, given: String },

    #[error("{given}: {reason}")]
    Unsupported { given: String, reason: String },

    #[error(
        "building {package} needs the build environment of its own build requirements \
         ({requirements}), which is being made right now: a build dependency cycle; hint: \
         allow wheels for the build requirements (drop --no-binary for them)"
    )]
    BuildCycle {
        package: String,
        requirements: String,
    },

    #[error("cannot prepare the editable checkout (`{command}`): {message}")]
    EditableCheckout { command: String, message: String },

    /// The same failure, reported to everyone who waited for it.
    #[error(transparent)]
    Shared(std::sync::Arc<Error>),

    #[error("a build task failed: {0}")]
    Task(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<tokio::task::JoinError> for Error {
    fn from(err: tokio::task::JoinError) -> Self {
        Error::Task(err.to_string())
    }
}
