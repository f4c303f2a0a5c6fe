//! Shared fixtures: the interpreter, a pip-backed installer, a cache shared by every test in this
//! binary (so build environments are made once), wheel installation into a fresh venv.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use pep508_rs::Requirement;
use rvenv_build::BuildRequirementsInstaller;
use rvenv_venv::{create_venv, CreateOptions, Environment, Interpreter};

/// The Python the tests build for: pyenv's 3.11 (it has headers and pip), else the system one.
pub fn python() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    [
        home.join(".pyenv/versions/3.11.7/bin/python3.11"),
        PathBuf::from("/usr/bin/python3"),
    ]
    .into_iter()
    .find(|path| path.is_file())
    .expect("a Python interpreter for the tests")
}

pub fn interpreter() -> &'static Interpreter {
    static INTERPRETER: OnceLock<Interpreter> = OnceLock::new();
    INTERPRETER.get_or_init(|| Interpreter::query(&python(), None).expect("query the test Python"))
}

/// One cache for the whole test binary, emptied when the binary starts: build environments made
/// by one test are reused by the next.
pub fn shared_cache() -> &'static Path {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rvenv-build-tests-cache");
        let _ = fs_err::remove_dir_all(&dir);
        fs_err::create_dir_all(&dir).unwrap();
        dir
    })
}

/// Installs build requirements with `python -m pip --python <build venv>` from real PyPI, and
/// counts its calls.
#[derive(Default)]
pub struct PipInstaller {
    pub calls: AtomicUsize,
    pub installed: Mutex<Vec<Vec<String>>>,
}

impl PipInstaller {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl BuildRequirementsInstaller for PipInstaller {
    fn install(&self, venv: &Environment, requirements: &[Requirement]) -> Result<(), String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let texts: Vec<String> = requirements.iter().map(ToString::to_string).collect();
        self.installed.lock().unwrap().push(texts.clone());
        let output = Command::new(python())
            .args(["-m", "pip", "--python"])
            .arg(&venv.python)
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(&texts)
            .output()
            .map_err(|err| err.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }
}

/// The installer for tests that must not install anything.
pub struct NoInstaller;

impl BuildRequirementsInstaller for NoInstaller {
    fn install(&self, _venv: &Environment, requirements: &[Requirement]) -> Result<(), String> {
        panic!("nothing should be installed, but asked for {requirements:?}");
    }
}

pub fn pip() -> &'static PipInstaller {
    static PIP: OnceLock<PipInstaller> = OnceLock::new();
    PIP.get_or_init(PipInstaller::default)
}

/// Writes `files` (relative path, text) under `dir`.
pub fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }
}

/// A fresh venv of the test interpreter.
pub fn venv(dir: &Path) -> Environment {
    let root = dir.join("venv");
    create_venv(&root, interpreter(), &CreateOptions::default()).unwrap();
    Environment::open(&root, None).unwrap()
}

/// Installs a built wheel into `env` with rvenv-install.
pub fn install_wheel(env: &Environment, wheel: &Path) {
    let filename = wheel.file_name().unwrap().to_str().unwrap();
    let parsed = rvenv_resolve::WheelFilename::parse(filename).unwrap();
    let unpacked = env
        .root
        .parent()
        .unwrap()
        .join(format!("unpacked-{filename}"));
    let validated = rvenv_install::unpack_and_validate(
        wheel,
        &unpacked,
        parsed.name.as_ref(),
        &parsed.version.to_string(),
    )
    .unwrap();
    let target = rvenv_install::InstallTarget {
        scheme: env.scheme.clone(),
        python: env.python.clone(),
        python_version: env.interpreter.python_minor(),
    };
    rvenv_install::install_wheel(
        &validated,
        &target,
        &rvenv_install::InstallOptions::default(),
    )
    .unwrap();
}

/// Runs `code` with the venv's Python; its trimmed stdout.
pub fn run_python(env: &Environment, code: &str) -> String {
    let output = Command::new(&env.python)
        .args(["-c", code])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python -c {code:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The file names inside a wheel.
pub fn wheel_files(wheel: &Path) -> Vec<String> {
    let file = fs_err::File::open(wheel).unwrap();
    let archive = zip::ZipArchive::new(file).unwrap();
    archive
        .file_names()
        .filter_map(Result::ok)
        .map(|name| name.into_owned())
        .collect()
}

/// Runs git in `dir`, panicking on failure; its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}
