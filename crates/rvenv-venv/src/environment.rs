use std::path::PathBuf;

use crate::{Interpreter, Scheme};

/// An existing virtual environment (or, with `--system`, a base interpreter's prefix) that
/// packages are installed into.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The venv's root directory (where `pyvenv.cfg` is).
    pub root: PathBuf,
    /// The base interpreter the venv was made from (its markers and tags apply to the venv).
    pub interpreter: Interpreter,
    /// Absolute install paths inside the venv.
    pub scheme: Scheme,
    /// `root/bin/python`: the interpreter to write into shebangs and to run in the venv.
    pub python: PathBuf,
}
