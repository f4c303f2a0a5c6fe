use std::path::{Path, PathBuf};

use fs_err as fs;

use crate::pyvenv_cfg::PyvenvCfg;
use crate::{Error, Interpreter, Scheme};

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

/// An exclusive lock on an environment, released when dropped.
#[derive(Debug)]
pub struct EnvironmentLock {
    _file: fs::File,
}

/// The lock file inside every environment rvenv installs into (covered by the venv's .gitignore).
const LOCK_FILE: &str = ".rvenv.lock";

impl Environment {
    /// Opens the venv at `root`: reads pyvenv.cfg and queries its base interpreter (cached).
    pub fn open(root: &Path, cache_dir: Option<&Path>) -> Result<Environment, Error> {
        let root = std::path::absolute(root)?;
        let cfg_path = root.join("pyvenv.cfg");
        if !cfg_path.is_file() {
            return Err(Error::NotAnEnvironment { root, via: None });
        }
        let cfg = PyvenvCfg::read(&cfg_path)?;
        let base = cfg
            .base_executable()
            .ok_or_else(|| Error::InvalidPyvenvCfg {
                path: cfg_path.clone(),
                reason: format!(
                    "its base interpreter (home = {}) is gone; recreate the venv with \
                 `rvenv create --clear {}`",
                    cfg.get("home").unwrap_or("?"),
                    root.display()
                ),
            })?;
        let interpreter = Interpreter::query(&base, cache_dir)?;
        let (major, minor) = interpreter.python_minor();
        if let Some(recorded) = cfg.major_minor() {
            if recorded != format!("{major}.{minor}") {
                return Err(Error::InvalidPyvenvCfg {
                    path: cfg_path,
                    reason: format!(
                        "the venv was made with Python {recorded}, but {} is now Python \
                         {major}.{minor}; recreate it with `rvenv create --clear {}`",
                        base.display(),
                        root.display()
                    ),
                });
            }
        }
        Ok(Environment {
            scheme: interpreter.venv_scheme.under(&root),
            python: root.join(&interpreter.venv_scheme.scripts).join("python"),
            root,
            interpreter,
        })
    }

    /// The environment to work on: `explicit` (`--venv`), else `$VIRTUAL_ENV`, else the venv that
    /// owns the first `python3`/`python` on PATH, else `.venv` in the working directory or above.
    pub fn find(explicit: Option<&Path>, cache_dir: Option<&Path>) -> Result<Environment, Error> {
        if let Some(root) = explicit {
            return Environment::open(root, cache_dir).map_err(|err| with_via(err, "--venv"));
        }
        if let Some(root) = std::env::var_os("VIRTUAL_ENV").filter(|root| !root.is_empty()) {
            return Environment::open(Path::new(&root), cache_dir)
                .map_err(|err| with_via(err, "VIRTUAL_ENV"));
        }
        if let Some(root) = venv_of_first_python_on_path() {
            return Environment::open(&root, cache_dir);
        }
        let cwd = std::env::current_dir()?;
        if let Some(root) = cwd
            .ancestors()
            .map(|dir| dir.join(".venv"))
            .find(|venv| venv.join("pyvenv.cfg").is_file())
        {
            return Environment::open(&root, cache_dir);
        }
        Err(Error::EnvironmentNotFound {
            searched: format!(
                "no --venv, no VIRTUAL_ENV, no venv's python first on PATH, no .venv in {} or above",
                cwd.display()
            ),
        })
    }

    /// A base interpreter's own prefix as the target (`rvenv install --system`). The caller has
    /// checked PEP 668's EXTERNALLY-MANAGED marker ([`Interpreter::externally_managed`]).
    pub fn for_system(interpreter: Interpreter) -> Environment {
        Environment {
            root: interpreter.prefix.clone(),
            scheme: interpreter.scheme.clone(),
            python: interpreter.executable.clone(),
            interpreter,
        }
    }

    /// Takes the environment's exclusive lock, waiting for another rvenv to release it.
    pub fn lock(&self) -> Result<EnvironmentLock, Error> {
        // A venv holds the lock file at its root (its .gitignore covers it); a system prefix
        // keeps it in site-packages rather than at the top of /usr.
        let dir = if self.root.join("pyvenv.cfg").is_file() {
            &self.root
        } else {
            &self.scheme.purelib
        };
        let path = dir.join(LOCK_FILE);
        let file = fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.file()
            .lock()
            .map_err(|source| Error::Lock { path, source })?;
        Ok(EnvironmentLock { _file: file })
    }

    /// Where installed distributions live: purelib, then platlib when it differs.
    pub fn site_packages(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.scheme.purelib.clone()];
        if self.scheme.platlib != self.scheme.purelib {
            dirs.push(self.scheme.platlib.clone());
        }
        dirs
    }
}

fn with_via(err: Error, via: &str) -> Error {
    match err {
        Error::NotAnEnvironment { root, .. } => Error::NotAnEnvironment {
            root,
            via: Some(via.to_string()),
        },
        other => other,
    }
}

/// `<venv>/bin/python3` first on PATH (as in a nixpacks image with /opt/venv/bin on PATH):
/// that venv. Decided by the directory layout alone, without starting Python.
fn venv_of_first_python_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let python = std::env::split_paths(&path)
        .flat_map(|dir| [dir.join("python3"), dir.join("python")])
        .find(|candidate| candidate.is_file())?;
    let root = python.parent()?.parent()?;
    root.join("pyvenv.cfg")
        .is_file()
        .then(|| root.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{create_venv, CreateOptions};

    fn venv() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("venv");
        let interpreter = Interpreter::query(Path::new("/usr/bin/python3"), None).unwrap();
        create_venv(&root, &interpreter, &CreateOptions::default()).unwrap();
        (dir, root)
    }

    #[test]
    fn opens_a_created_venv() {
        let (_dir, root) = venv();
        let cache = tempfile::tempdir().unwrap();
        let env = Environment::open(&root, Some(cache.path())).unwrap();
        let (_, minor) = env.interpreter.python_minor();
        assert_eq!(env.python, root.join("bin/python"));
        assert_eq!(
            env.site_packages(),
            vec![root.join(format!("lib/python3.{minor}/site-packages"))]
        );
        assert_eq!(env.scheme.scripts, root.join("bin"));
        assert!(!env.interpreter.is_venv);
    }

    #[test]
    fn opens_a_venv_made_by_python_venv() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("v");
        let status = std::process::Command::new("/usr/bin/python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(&root)
            .status()
            .unwrap();
        assert!(status.success());
        let env = Environment::open(&root, None).unwrap();
        assert_eq!(
            env.interpreter.base_executable,
            std::fs::canonicalize("/usr/bin/python3").unwrap()
        );
        assert!(env.site_packages()[0].is_dir());
    }

    #[test]
    fn a_directory_without_pyvenv_cfg_is_not_an_environment() {
        let dir = tempfile::tempdir().unwrap();
        let err = Environment::find(Some(dir.path()), None).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("no pyvenv.cfg"), "{message}");
        assert!(message.contains("--venv"), "{message}");
    }

    #[test]
    fn the_lock_is_exclusive_until_dropped() {
        let (_dir, root) = venv();
        let env = Environment::open(&root, None).unwrap();
        let lock = env.lock().unwrap();
        let other = std::fs::File::open(root.join(LOCK_FILE)).unwrap();
        assert!(other.try_lock().is_err());
        drop(lock);
        assert!(other.try_lock().is_ok());
    }
}
