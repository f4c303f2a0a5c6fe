//! Python interpreters and virtual environments.
//!
//! This crate finds interpreters (PATH, pyenv, the usual install places), queries them once with a
//! small embedded Python script (cached by path, size and mtime), creates virtual environments
//! (PEP 405) with activation scripts, and opens existing ones as an [`Environment`] with its install
//! scheme and a lock. It does not resolve, download or install packages.

mod environment;
mod interpreter;

pub use environment::Environment;
pub use interpreter::{Interpreter, Libc, Platform, Scheme};
