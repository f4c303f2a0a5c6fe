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
    /// This scheme with every relative path joined onto `root` (an empty path is `root` itself).
    pub fn under(&self, root: &Path) -> Scheme {
        let join = |path: &Path| {
            if path.as_os_str().is_empty() {
                root.to_path_buf()
            } else {
                root.join(path)
            }
        };
        Scheme {
            purelib: join(&self.purelib),
            platlib: join(&self.platlib),
            scripts: join(&self.scripts),
            data: join(&self.data),
            include: join(&self.include),
        }
    }
}

impl Interpreter {
    /// `(major, minor)` of the Python version.
    pub fn python_minor(&self) -> (u64, u64) {
        let release = self.python_full_version.release();
        (release[0], release.get(1).copied().unwrap_or(0))
    }

    /// `major.minor.micro`, as `python -m venv` writes it into pyvenv.cfg (no pre-release part).
    pub fn version_triple(&self) -> String {
        let release = self.python_full_version.release();
        let part = |i: usize| release.get(i).copied().unwrap_or(0);
        format!("{}.{}.{}", part(0), part(1), part(2))
    }

    /// A name for people: `CPython 3.11.7`.
    pub fn display_name(&self) -> String {
        let implementation = match self.implementation.as_str() {
            "cpython" => "CPython",
            "pypy" => "PyPy",
            "graalpy" => "GraalPy",
            other => other,
        };
        format!("{implementation} {}", self.python_full_version)
    }

    /// PEP 668: the message of the `EXTERNALLY-MANAGED` file in the standard library, when this
    /// interpreter's own prefix is managed by another tool (a distribution, Nix) and installing
    /// into it with `--system` should be refused. A venv is never externally managed.
    pub fn externally_managed(&self) -> Option<String> {
        if self.is_venv {
            return None;
        }
        let marker = self.stdlib.join("EXTERNALLY-MANAGED");
        let text = fs_err::read_to_string(&marker).ok()?;
        Some(externally_managed_error(&text).unwrap_or_else(|| {
            format!(
                "The Python environment at {} is managed externally ({}); \
                 create a virtual environment with `rvenv create .venv` and install into it",
                self.base_prefix.display(),
                marker.display()
            )
        }))
    }
}

/// The `Error` value of the `[externally-managed]` section (INI, with indented continuation lines).
fn externally_managed_error(text: &str) -> Option<String> {
    let mut in_section = false;
    let mut value: Option<Vec<&str>> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(lines) = value.as_mut() {
            if line.starts_with([' ', '\t']) || trimmed.is_empty() {
                lines.push(trimmed);
                continue;
            }
            break;
        }
        if trimmed.starts_with('[') {
            in_section = trimmed == "[externally-managed]";
        } else if in_section {
            if let Some((key, rest)) = trimmed.split_once(['=', ':']) {
                if key.trim() == "Error" {
                    value = Some(vec![rest.trim()]);
                }
            }
        }
    }
    let message = value?.join("\n").trim().to_string();
    (!message.is_empty()).then_some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_multi_line_externally_managed_error() {
        let text = "[externally-managed]\nError = To install Python packages system-wide, try apt install\n python3-xyz, where xyz is the package.\n\n If you wish to install a non-Debian-packaged Python package,\n create a virtual environment.\n[other]\nError = no\n";
        assert_eq!(
            externally_managed_error(text).unwrap(),
            "To install Python packages system-wide, try apt install\npython3-xyz, where xyz is the package.\n\nIf you wish to install a non-Debian-packaged Python package,\ncreate a virtual environment."
        );
    }

    #[test]
    fn a_marker_without_error_key_has_no_custom_message() {
        assert_eq!(externally_managed_error("[externally-managed]\n"), None);
        assert_eq!(externally_managed_error("[other]\nError = x\n"), None);
    }

    #[test]
    fn an_empty_relative_path_means_the_root() {
        let scheme = Scheme {
            purelib: "lib/python3.12/site-packages".into(),
            platlib: "lib/python3.12/site-packages".into(),
            scripts: "bin".into(),
            data: "".into(),
            include: "include/site/python3.12".into(),
        };
        let under = scheme.under(Path::new("/opt/venv"));
        assert_eq!(under.data, Path::new("/opt/venv"));
        assert_eq!(under.scripts, Path::new("/opt/venv/bin"));
    }
}
