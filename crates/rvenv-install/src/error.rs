//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while unpacking, checking, installing or removing a wheel.
///
/// Messages name the wheel (archive path or unpacked directory) and the file inside it, and say
/// what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: not a readable wheel (zip) archive, it may be truncated or corrupt", wheel.display())]
    Zip {
        wheel: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },

    #[error("{}: refusing unsafe entry `{entry}`: {reason}", wheel.display())]
    UnsafeEntry {
        wheel: PathBuf,
        entry: String,
        reason: &'static str,
    },

    #[error("{}: the archive lists {entry} more than once", wheel.display())]
    DuplicateEntry { wheel: PathBuf, entry: String },

    #[error(
        "{}: refusing `{entry}`: {reason} (a zip bomb?); hint: limits are in `UnpackLimits`",
        wheel.display()
    )]
    TooLarge {
        wheel: PathBuf,
        entry: String,
        reason: String,
    },

    #[error("{}: {message}", wheel.display())]
    InvalidWheel { wheel: PathBuf, message: String },

    #[error("{}: RECORD does not match `{file}`: {message}", wheel.display())]
    RecordMismatch {
        wheel: PathBuf,
        file: String,
        message: String,
    },

    #[error(
        "{}: the wheel contains {found} but {expected} was requested; \
         hint: the file name, METADATA and .dist-info directory must agree",
        wheel.display()
    )]
    NameMismatch {
        wheel: PathBuf,
        expected: String,
        found: String,
    },

    #[error("{}: invalid entry point `{entry}`: {reason}", wheel.display())]
    EntryPoint {
        wheel: PathBuf,
        entry: String,
        reason: String,
    },

    #[error("{}: {message}", path.display())]
    InvalidDistInfo { path: PathBuf, message: String },

    #[error("could not start `{}` to compile bytecode", python.display())]
    BytecodeSpawn {
        python: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("bytecode compilation with `{}` failed: {message}", python.display())]
    Bytecode { python: PathBuf, message: String },

    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
