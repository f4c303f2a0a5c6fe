//! Python interpreters and virtual environments.
//!
//! This crate finds interpreters (PATH, pyenv, the usual install places), queries them once with a
//! small embedded Python script (cached by path, size and mtime), creates virtual environments
//! (PEP 405) with activation scripts, and opens existing ones as an [`Environment`] with its install
//! scheme and a lock. It does not resolve, download or install packages.

mod activation;
mod create;
mod discovery;
mod environment;
mod error;
mod interpreter;
mod pyenv;
mod pyvenv_cfg;
mod query;

use std::path::PathBuf;

pub use create::{create_venv, CreateOptions, CreateOutcome, LinkMode, OnExisting};
pub use discovery::{find_interpreter, PythonRequest};
pub use environment::{Environment, EnvironmentLock};
pub use error::Error;
pub use interpreter::{Interpreter, Libc, Platform, Scheme};
pub use pyvenv_cfg::PyvenvCfg;

/// rvenv's cache directory when none is given on the command line: `$RVENV_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/rvenv`, else `~/.cache/rvenv`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = var("RVENV_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME").map(PathBuf::from) {
        // The XDG spec says to ignore relative paths.
        if dir.is_absolute() {
            return Some(dir.join("rvenv"));
        }
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("rvenv"))
}
