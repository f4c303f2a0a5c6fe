use std::path::{Path, PathBuf};

use pep440_rs::Version;
use pep508_rs::MarkerEnvironment;
use serde::{Deserialize, Serialize};

/// What a Python interpreter told us about itself, from one run of the embedded query script.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interpreter {
    /// The executable that was queried, absolute (may be a symlink, may live inside a venv).
    pub executable: PathBuf,
    /// The real base interpreter binary, all symlinks and venvs followed
    /// (e.g. `/nix/store/...-python3-3.11.9/bin/python3.11`). Venvs link to this.
    pub base_executable: PathBuf,
    /// `sys.prefix`.
    pub prefix: PathBuf,
    /// `sys.base_prefix`: never written to.
    pub base_prefix: PathBuf,
    /// `sys.implementation.name`, e.g. `cpython`, `pypy`.
    pub implementation: String,
    /// `platform.python_version()`, e.g. `3.11.7`.
    pub python_full_version: Version,
    /// PEP 508 marker values of this interpreter.
    pub markers: MarkerEnvironment,
    /// Platform facts for PEP 425 tags.
    pub platform: Platform,
    /// `sys.abiflags` (`""`, `"t"` for free-threaded builds, `"d"` for debug builds).
    pub abiflags: String,
    /// `sysconfig.get_config_var("SOABI")`, e.g. `cpython-311-x86_64-linux-gnu`.
    pub soabi: Option<String>,
    /// `sys.maxsize > 2**32`.
    pub is_64bit: bool,
    /// The standard library directory (`sysconfig.get_path("stdlib")`), where PEP 668's
    /// EXTERNALLY-MANAGED file lives.
    pub stdlib: PathBuf,
    /// The install scheme of a virtual environment made from this interpreter, relative to the
    /// venv's root (e.g. `lib/python3.11/site-packages`).
    pub venv_scheme: Scheme,
    /// The install scheme of this interpreter's own prefix (absolute), for `--system` installs.
    pub scheme: Scheme,
    /// True when `sys.prefix != sys.base_prefix`.
    pub is_venv: bool,
}

/// The platform an interpreter runs on, as needed for wheel tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `sys.platform`-like OS name: `linux`, `darwin`, `win32`.
    pub os: String,
    /// `platform.machine()`, e.g. `x86_64`, `aarch64`.
    pub arch: String,
    /// The C library the interpreter itself is linked against (Linux only).
    pub libc: Option<Libc>,
}

/// The C library of a Linux interpreter, with its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Libc {
    Glibc { major: u16, minor: u16 },
    Musl { major: u16, minor: u16 },
}

/// Where each kind of file of a distribution goes (the wheel spec's `.data/` keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheme {
    pub purelib: PathBuf,
    pub platlib: PathBuf,
    pub scripts: PathBuf,
    pub data: PathBuf,
    /// Base directory for headers; a distribution's headers go to `include/<dist name>` below it
    /// as pip does.
    pub include: PathBuf,
}

impl Scheme {
    /// This scheme with every relative path joined onto `root`.
    pub fn under(&self, root: &Path) -> Scheme {
        Scheme {
            purelib: root.join(&self.purelib),
            platlib: root.join(&self.platlib),
            scripts: root.join(&self.scripts),
            data: root.join(&self.data),
            include: root.join(&self.include),
        }
    }
}

impl Interpreter {
    /// `(major, minor)` of the Python version.
    pub fn python_minor(&self) -> (u64, u64) {
        let release = self.python_full_version.release();
        (release[0], release.get(1).copied().unwrap_or(0))
    }
}
