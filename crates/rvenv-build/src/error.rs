use std::path::PathBuf;

/// Everything that can go wrong while preparing or building a source tree.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Io(#[from] std::io::Error),

    #[error("cannot read the archive {}", archive.display())]
    Archive {
        archive: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "refusing to unpack {}: its entry `{entry}` {reason}; the archive may be malicious",
        archive.display()
    )]
    UnsafeArchive {
        archive: PathBuf,
        entry: String,
        reason: String,
    },

    #[error(
        "{} is not a source tree or a source distribution (expected a directory, `.tar.gz`, `.tgz`, `.tar` or `.zip`)",
        path.display()
    )]
    NotASource { path: PathBuf },

    #[error("invalid {}: {reason}", path.display())]
    InvalidPyproject { path: PathBuf, reason: String },

    #[error(
        "{} has neither pyproject.toml nor setup.py, so it cannot be built",
        dir.display()
    )]
    NotAProject { dir: PathBuf },

    #[error(transparent)]
    Cache(#[from] rvenv_cache::Error),

    #[error("cannot create the build environment at {}", path.display())]
    CreateBuildEnv {
        path: PathBuf,
        #[source]
        source: rvenv_venv::Error,
    },

    #[error("cannot install the build requirements of {package} ({requirements}): {message}")]
    InstallBuildRequirements {
        package: String,
        requirements: String,
        message: String,
    },

    #[error("the build backend `{backend}` of {package} asked for an invalid requirement `{requirement}` in {hook}: {reason}")]
    InvalidBuildRequirement {
        package: String,
        backend: String,
        hook: &'static str,
        requirement: String,
        reason: String,
    },

    #[error(
        "cannot start the build frontend for {package} with {}",
        python.display()
    )]
    SpawnPython {
        package: String,
        python: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    HookFailed(Box<HookFailure>),

    #[error(
        "the build backend `{backend}` of {package} cannot build editables (it has no PEP 660 \
         `build_editable` hook); hint: a newer backend supports it (setuptools>=64, hatchling, flit-core>=3.4)"
    )]
    EditableUnsupported { package: String, backend: String },

    #[error("{package} is a source distribution ({}); only a source directory can be installed as editable", archive.display())]
    EditableFromArchive { package: String, archive: PathBuf },

    #[error("invalid metadata in {} (built for {package}): {reason}", path.display())]
    InvalidMetadata {
        package: String,
        path: PathBuf,
        reason: String,
    },

    #[error("the build backend `{backend}` of {package} said its {hook} wrote `{name}`, but {} is not a wheel file", path.display())]
    MissingOutput {
        package: String,
        backend: String,
        hook: &'static str,
        name: String,
        path: PathBuf,
    },

    #[error("only git is supported for VCS requirements, not {kind} ({url})")]
    UnsupportedVcs { kind: String, url: String },

    #[error("cannot run `git` ({command}); hint: install git and put it on PATH")]
    GitMissing {
        command: String,
        #[source]
        source: std::io::Error,
    },

    #[error("`{command}` failed for {url}: {stderr}")]
    Git {
        url: String,
        command: String,
        stderr: String,
    },

    #[error("{url} has no branch, tag or commit named `{rev}`")]
    GitRevisionNotFound { url: String, rev: String },

    #[error("the subdirectory `{subdirectory}` {reason} in {}", root.display())]
    Subdirectory {
        subdirectory: String,
        root: PathBuf,
        reason: &'static str,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A build backend's hook failed: which package, backend and hook, why, the last lines of the
/// backend's output, and the log file that keeps all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookFailure {
    /// `name==version`, or the best name known.
    pub package: String,
    pub backend: String,
    pub hook: &'static str,
    /// The exception (`RuntimeError: ...`) or how the process ended.
    pub cause: String,
    /// At most 30 lines: the backend's own output, or its traceback when it printed nothing.
    pub tail: String,
    /// The full output, kept after the build's scratch space is gone.
    pub log: PathBuf,
}

impl std::error::Error for HookFailure {}

impl std::fmt::Display for HookFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "failed to build {}: the build backend `{}` failed in {}",
            self.package, self.backend, self.hook
        )?;
        if !self.cause.is_empty() {
            write!(f, " ({})", self.cause)?;
        }
        writeln!(f)?;
        if !self.tail.trim().is_empty() {
            writeln!(f, "\nlast lines of its output:")?;
            for line in self.tail.lines() {
                writeln!(f, "  {line}")?;
            }
        }
        write!(f, "\nfull log: {}", self.log.display())
    }
}
