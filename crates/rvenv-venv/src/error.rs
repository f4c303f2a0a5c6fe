use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while finding, querying or creating an interpreter or environment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Io(#[from] io::Error),

    #[error("could not run {} to ask it about itself", executable.display())]
    QuerySpawn {
        executable: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("querying {} failed ({status}){}", executable.display(), stderr_suffix(stderr))]
    QueryFailed {
        executable: PathBuf,
        status: String,
        stderr: String,
    },

    #[error("{} gave an answer rvenv cannot read", executable.display())]
    QueryOutput {
        executable: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error(
        "{} is Python {version}; rvenv needs Python 3.8 or newer",
        executable.display()
    )]
    Unsupported {
        executable: PathBuf,
        version: String,
    },

    #[error("invalid --python request `{request}`: {reason}")]
    InvalidRequest { request: String, reason: String },

    #[error("no Python interpreter matches `{request}`\n{found}")]
    NoInterpreterFound { request: String, found: String },

    #[error("{} exists and is a file, not a directory; choose another path", prefix.display())]
    PrefixIsFile { prefix: PathBuf },

    #[error(
        "{} is a non-empty directory but not a virtual environment (no pyvenv.cfg); \
         rvenv will not touch it: remove it yourself or choose another path",
        prefix.display()
    )]
    NotAVenv { prefix: PathBuf },

    #[error(
        "{} is a virtual environment of {}, not of the requested {}; \
         pass --clear to replace it",
        prefix.display(),
        existing.display(),
        requested.display()
    )]
    DifferentInterpreter {
        prefix: PathBuf,
        existing: PathBuf,
        requested: PathBuf,
    },

    #[error("{}: {reason}", path.display())]
    InvalidPyvenvCfg { path: PathBuf, reason: String },

    #[error("no virtual environment found ({searched}); create one with `rvenv create .venv`")]
    EnvironmentNotFound { searched: String },

    #[error("{} is not a virtual environment (no pyvenv.cfg){}", root.display(), via_suffix(via))]
    NotAnEnvironment { root: PathBuf, via: Option<String> },

    #[error("could not lock {}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        String::new()
    } else {
        format!(":\n{stderr}")
    }
}

fn via_suffix(via: &Option<String>) -> String {
    via.as_ref()
        .map(|via| format!(" (from {via})"))
        .unwrap_or_default()
}
