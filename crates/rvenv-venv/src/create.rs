//! Creating a virtual environment with the layout `python -m venv --without-pip` gives.
//!
//! A new venv is built in a hidden sibling directory and renamed into place, so a failure leaves
//! nothing behind; an existing empty directory (perhaps a mount point or a directory prepared for
//! another user) is filled in place and emptied again on failure.

use std::io;
use std::path::{Component, Path, PathBuf};

use fs_err as fs;

use crate::activation;
use crate::pyvenv_cfg::PyvenvCfg;
use crate::{Error, Interpreter};

/// How `bin/python` refers to the base interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkMode {
    /// A symlink to the resolved base executable (e.g. the `/nix/store` path).
    #[default]
    Symlink,
    /// A copy of it (`--copies`).
    Copy,
}

/// What to do when PREFIX already is a virtual environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnExisting {
    /// Keep it if it was made from the same base interpreter; fail if from another one.
    #[default]
    Reuse,
    /// Replace it (`--clear`).
    Clear,
}

#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The activation scripts' prompt; `.` means the current directory's name. Default: PREFIX's name.
    pub prompt: Option<String>,
    pub system_site_packages: bool,
    pub link: LinkMode,
    pub on_existing: OnExisting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// PREFIX already was a venv of the same base interpreter; nothing was changed.
    AlreadyExisted,
}

/// What is at PREFIX before we start.
enum Existing {
    Nothing,
    EmptyDir,
    Venv(PyvenvCfg),
}

/// Creates a virtual environment at `prefix` for `interpreter`'s base interpreter.
pub fn create_venv(
    prefix: &Path,
    interpreter: &Interpreter,
    options: &CreateOptions,
) -> Result<CreateOutcome, Error> {
    let prefix = normalize(&std::path::absolute(prefix)?);
    match inspect(&prefix)? {
        Existing::Nothing => {
            let parent = prefix.parent().unwrap_or(Path::new("/"));
            fs::create_dir_all(parent)?;
            let staging = Staging::sibling(&prefix)?;
            build(&staging.path, &prefix, interpreter, options)?;
            fs::rename(&staging.path, &prefix)?;
            staging.keep();
        }
        Existing::EmptyDir => build_in_place(&prefix, interpreter, options)?,
        Existing::Venv(cfg) => {
            let existing = existing_base(&cfg, &prefix);
            let same = existing.as_ref().is_some_and(|existing| {
                fs::canonicalize(&interpreter.base_executable).is_ok_and(|base| &base == existing)
            });
            match options.on_existing {
                OnExisting::Reuse if same => return Ok(CreateOutcome::AlreadyExisted),
                OnExisting::Reuse => {
                    return Err(Error::DifferentInterpreter {
                        prefix,
                        existing: existing.unwrap_or_else(|| {
                            PathBuf::from(cfg.get("home").unwrap_or("an unknown interpreter"))
                        }),
                        requested: interpreter.base_executable.clone(),
                    })
                }
                OnExisting::Clear => replace(&prefix, interpreter, options)?,
            }
        }
    }
    Ok(CreateOutcome::Created)
}

/// Lexically resolves `.` and `..`, as `os.path.abspath` does for `python -m venv`.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

fn inspect(prefix: &Path) -> Result<Existing, Error> {
    let metadata = match std::fs::metadata(prefix) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            // A dangling symlink is in the way just like a file is.
            if std::fs::symlink_metadata(prefix).is_ok() {
                return Err(Error::PrefixIsFile {
                    prefix: prefix.to_path_buf(),
                });
            }
            return Ok(Existing::Nothing);
        }
        Err(err) => return Err(fs_err_io(err, prefix)),
    };
    if !metadata.is_dir() {
        return Err(Error::PrefixIsFile {
            prefix: prefix.to_path_buf(),
        });
    }
    let cfg = prefix.join("pyvenv.cfg");
    if cfg.is_file() {
        return Ok(Existing::Venv(PyvenvCfg::read(&cfg)?));
    }
    if fs::read_dir(prefix)?.next().is_none() {
        Ok(Existing::EmptyDir)
    } else {
        Err(Error::NotAVenv {
            prefix: prefix.to_path_buf(),
        })
    }
}

fn fs_err_io(err: io::Error, path: &Path) -> Error {
    Error::Io(io::Error::new(
        err.kind(),
        format!("{err} at {}", path.display()),
    ))
}

/// The resolved base executable an existing venv was made from, if it still exists.
fn existing_base(cfg: &PyvenvCfg, prefix: &Path) -> Option<PathBuf> {
    let from_cfg = cfg.base_executable();
    // venvs written by old Pythons name no executable: their bin/python leads to it.
    let from_link = || Some(prefix.join("bin/python")).filter(|python| python.is_symlink());
    fs::canonicalize(from_cfg.or_else(from_link)?).ok()
}

/// `--clear` on an existing venv: build the new one beside it, swap, then delete the old one.
/// Where no sibling can be made (a read-only parent, a mount point), empty it and build in place.
fn replace(prefix: &Path, interpreter: &Interpreter, options: &CreateOptions) -> Result<(), Error> {
    if let Ok(staging) = Staging::sibling(prefix) {
        build(&staging.path, prefix, interpreter, options)?;
        let mut old = staging.path.clone().into_os_string();
        old.push("-old");
        let old = PathBuf::from(old);
        if std::fs::rename(prefix, &old).is_ok() {
            if let Err(err) = fs::rename(&staging.path, prefix) {
                let _ = std::fs::rename(&old, prefix);
                return Err(err.into());
            }
            staging.keep();
            fs::remove_dir_all(&old)?;
            return Ok(());
        }
    }
    remove_contents(prefix)?;
    build_in_place(prefix, interpreter, options)
}

fn build_in_place(
    prefix: &Path,
    interpreter: &Interpreter,
    options: &CreateOptions,
) -> Result<(), Error> {
    build(prefix, prefix, interpreter, options).inspect_err(|_| {
        let _ = remove_contents(prefix);
    })
}

fn remove_contents(dir: &Path) -> Result<(), Error> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// A hidden directory beside PREFIX, removed on drop unless kept.
struct Staging {
    path: PathBuf,
    keep: bool,
}

impl Staging {
    fn sibling(prefix: &Path) -> Result<Staging, Error> {
        let name = prefix
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "venv".into());
        let parent = prefix.parent().unwrap_or(Path::new("/"));
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.subsec_nanos())
            .unwrap_or_default();
        let path = parent.join(format!(".{name}.rvenv-{}-{unique}", std::process::id()));
        // Made by us rather than by tempfile so it gets the usual umask-based mode, not 0700.
        fs::create_dir(&path)?;
        Ok(Staging { path, keep: false })
    }

    fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Writes the venv's files into `dir`; `prefix` is where it will live (the paths written into
/// pyvenv.cfg and the activation scripts).
fn build(
    dir: &Path,
    prefix: &Path,
    interpreter: &Interpreter,
    options: &CreateOptions,
) -> Result<(), Error> {
    let (major, minor) = interpreter.python_minor();
    let scheme = interpreter.venv_scheme.under(dir);
    fs::create_dir_all(&scheme.scripts)?;
    fs::create_dir_all(&scheme.purelib)?;
    fs::create_dir_all(&scheme.platlib)?;
    // venv makes include/ and, since 3.11, the headers directory sysconfig names inside it.
    let include = dir.join("include");
    fs::create_dir(&include)?;
    if (major, minor) >= (3, 11) {
        fs::create_dir(include.join(format!("python{major}.{minor}{}", interpreter.abiflags)))?;
    }
    let os = interpreter.platform.os.as_str();
    if interpreter.is_64bit && os != "darwin" && os != "win32" {
        let lib64 = dir.join("lib64");
        if std::fs::symlink_metadata(&lib64).is_err() {
            symlink("lib", &lib64)?;
        }
    }

    link_interpreter(&scheme.scripts, interpreter, options.link)?;

    let prompt = match options.prompt.as_deref() {
        Some(".") => std::env::current_dir()?
            .file_name()
            .map(|name| name.to_string_lossy().into_owned()),
        Some(prompt) => Some(prompt.to_string()),
        None => None,
    };
    let shown = prompt.clone().unwrap_or_else(|| {
        prefix
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    for (name, text) in activation::scripts(prefix, &shown) {
        fs::write(scheme.scripts.join(name), text)?;
    }

    fs::write(dir.join(".gitignore"), "# Created by rvenv\n*\n")?;
    let cfg = pyvenv_cfg(prefix, interpreter, options, prompt.as_deref());
    fs::write(dir.join("pyvenv.cfg"), cfg.render())?;
    Ok(())
}

fn link_interpreter(bin: &Path, interpreter: &Interpreter, link: LinkMode) -> Result<(), Error> {
    let (major, minor) = interpreter.python_minor();
    let mut names = vec![format!("python{major}"), format!("python{major}.{minor}")];
    if interpreter.implementation == "pypy" {
        names.extend(["pypy".to_string(), format!("pypy{major}")]);
    }
    let python = bin.join("python");
    match link {
        LinkMode::Symlink => {
            symlink(&interpreter.base_executable, &python)?;
            for name in names {
                symlink("python", &bin.join(name))?;
            }
        }
        LinkMode::Copy => {
            fs::copy(&interpreter.base_executable, &python)?;
            for name in names {
                let target = bin.join(name);
                if std::fs::hard_link(&python, &target).is_err() {
                    fs::copy(&python, &target)?;
                }
            }
        }
    }
    Ok(())
}

fn symlink(target: impl AsRef<Path>, link: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    let result = std::os::unix::fs::symlink(target.as_ref(), link);
    #[cfg(not(unix))]
    let result: io::Result<()> = Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symlinks are only made on Unix; use --copies",
    ));
    result.map_err(|err| fs_err_io(err, link))
}

fn pyvenv_cfg(
    prefix: &Path,
    interpreter: &Interpreter,
    options: &CreateOptions,
    prompt: Option<&str>,
) -> PyvenvCfg {
    let base = &interpreter.base_executable;
    let home = base.parent().unwrap_or(Path::new("/"));
    let mut cfg = PyvenvCfg::default();
    cfg.push("home", home.display().to_string());
    cfg.push(
        "include-system-site-packages",
        options.system_site_packages.to_string(),
    );
    cfg.push("version", interpreter.version_triple());
    if let Some(prompt) = prompt {
        cfg.push("prompt", python_repr(prompt));
    }
    cfg.push("executable", base.display().to_string());
    // The `python -m venv` command that makes the same venv, as venv records its own.
    let mut command = vec![base.display().to_string(), "-m".into(), "venv".into()];
    if options.link == LinkMode::Copy {
        command.push("--copies".into());
    }
    command.push("--without-pip".into());
    if options.system_site_packages {
        command.push("--system-site-packages".into());
    }
    if let Some(prompt) = prompt {
        command.push(format!("--prompt={}", shell_word(prompt)));
    }
    command.push(shell_word(&prefix.display().to_string()));
    cfg.push("command", command.join(" "));
    cfg.push("rvenv", env!("CARGO_PKG_VERSION"));
    cfg
}

/// A string as Python's `repr()` shows it (what venv writes for `prompt`).
fn python_repr(text: &str) -> String {
    if text.contains('\'') && !text.contains('"') {
        format!("\"{}\"", text.replace('\\', r"\\"))
    } else {
        format!("'{}'", text.replace('\\', r"\\").replace('\'', r"\'"))
    }
}

/// Quotes a word for a POSIX shell only when it needs it.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_abspath() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
    }

    #[test]
    fn repr_and_shell_quoting() {
        assert_eq!(python_repr("my api"), "'my api'");
        assert_eq!(python_repr("it's"), "\"it's\"");
        assert_eq!(shell_word("/opt/venv"), "/opt/venv");
        assert_eq!(shell_word("my api"), "'my api'");
    }

    fn system_python() -> Interpreter {
        Interpreter::query(Path::new("/usr/bin/python3"), None).unwrap()
    }

    #[test]
    fn creates_reuses_and_clears() {
        let interpreter = system_python();
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("venv");
        let options = CreateOptions::default();
        let outcome = create_venv(&prefix, &interpreter, &options).unwrap();
        assert_eq!(outcome, CreateOutcome::Created);
        assert!(prefix.join("pyvenv.cfg").is_file());
        assert_eq!(
            fs::canonicalize(prefix.join("bin/python3")).unwrap(),
            interpreter.base_executable
        );
        // Only the venv is left in the parent: no staging directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let again = create_venv(&prefix, &interpreter, &options).unwrap();
        assert_eq!(again, CreateOutcome::AlreadyExisted);

        std::fs::write(prefix.join("lib/marker"), "").unwrap();
        let clear = CreateOptions {
            on_existing: OnExisting::Clear,
            ..CreateOptions::default()
        };
        assert_eq!(
            create_venv(&prefix, &interpreter, &clear).unwrap(),
            CreateOutcome::Created
        );
        assert!(!prefix.join("lib/marker").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_build_leaves_nothing() {
        let mut interpreter = system_python();
        interpreter.base_executable = PathBuf::from("/nonexistent/python3");
        let dir = tempfile::tempdir().unwrap();
        let copies = CreateOptions {
            link: LinkMode::Copy,
            ..CreateOptions::default()
        };
        assert!(create_venv(&dir.path().join("venv"), &interpreter, &copies).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        // An existing empty directory stays, empty.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert!(create_venv(&empty, &interpreter, &copies).is_err());
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    }

    #[test]
    fn refuses_files_and_foreign_directories() {
        let interpreter = system_python();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = create_venv(&file, &interpreter, &CreateOptions::default()).unwrap_err();
        assert!(matches!(err, Error::PrefixIsFile { .. }), "{err}");

        let project = dir.path().join("project");
        std::fs::create_dir(&project).unwrap();
        std::fs::write(project.join("main.py"), "").unwrap();
        let clear = CreateOptions {
            on_existing: OnExisting::Clear,
            ..CreateOptions::default()
        };
        let err = create_venv(&project, &interpreter, &clear).unwrap_err();
        assert!(matches!(err, Error::NotAVenv { .. }), "{err}");
        assert!(project.join("main.py").exists());
    }
}
