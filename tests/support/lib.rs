//! Helpers for the end-to-end tests in tests/: where the built `rvenv` binary is, and a command
//! for it that cannot see the developer's own settings.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `rvenv` binary built alongside the running test (`target/<profile>/rvenv`).
///
/// `cargo test` at the workspace root builds it (the workspace's default members include
/// crates/rvenv); with `-p rvenv-e2e`, run `cargo build -p rvenv` first.
pub fn rvenv_bin() -> PathBuf {
    let test = std::env::current_exe().expect("the test binary knows its own path");
    // target/<profile>/deps/<test>-<hash>
    let profile_dir = test
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let bin = profile_dir.join(format!("rvenv{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p rvenv` first",
        bin.display()
    );
    bin
}

/// `rvenv` with `cache` as its cache directory and no VIRTUAL_ENV, RVENV_* or PIP_* variables
/// from the environment the tests run in.
pub fn rvenv(cache: &Path) -> Command {
    let mut command = Command::new(rvenv_bin());
    without_user_settings(&mut command).env("RVENV_CACHE_DIR", cache);
    command
}

/// Removes VIRTUAL_ENV and every RVENV_* and PIP_* variable of the environment the tests run in
/// from `command`, so a developer's settings cannot change what a test sees.
pub fn without_user_settings(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let name_str = name.to_string_lossy();
        if name_str == "VIRTUAL_ENV"
            || name_str.starts_with("RVENV_")
            || name_str.starts_with("PIP_")
        {
            command.env_remove(&name);
        }
    }
    command
}

/// What a finished command printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with both streams unless the command exited 0.
    #[track_caller]
    pub fn success(self) -> Run {
        assert_eq!(
            self.status,
            Some(0),
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics with both streams unless the command exited with a non-zero code.
    #[track_caller]
    pub fn failure(self) -> Run {
        assert!(
            matches!(self.status, Some(code) if code != 0),
            "expected failure, got {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// The lines of stderr (where rvenv prints its progress and errors), trimmed at the end.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().map(str::trim_end).collect()
    }

    /// The lines of stderr that report a change: ` + name==1.0`, ` - name==0.9`.
    pub fn changes(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter(|line| line.starts_with(" + ") || line.starts_with(" - "))
            .map(|line| line.trim().to_string())
            .collect()
    }

    /// Panics unless stderr has a line equal to `line` (ignoring trailing whitespace).
    #[track_caller]
    pub fn assert_stderr_line(&self, line: &str) {
        assert!(
            self.stderr_lines().contains(&line),
            "no line {line:?} in stderr:\n{}",
            self.stderr
        );
    }

    /// Panics unless stderr contains `text`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, text: &str) {
        assert!(
            self.stderr.contains(text),
            "{text:?} not in stderr:\n{}",
            self.stderr
        );
    }
}

/// Runs `command` to the end and captures its output.
pub fn run(command: &mut Command) -> Run {
    let output = command.output().expect("the command starts");
    Run {
        status: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// [`run`] for a command that must succeed; the panic names the command and shows its output.
#[track_caller]
pub fn run_ok(command: &mut Command) -> Run {
    let shown = format!("{command:?}");
    let result = run(command);
    assert_eq!(
        result.status,
        Some(0),
        "{shown} failed\nstdout:\n{}\nstderr:\n{}",
        result.stdout,
        result.stderr
    );
    result
}

/// Runs a command that must succeed (with pip reading no configuration file); returns its stdout.
#[track_caller]
pub fn run_stdout(command: &mut Command) -> String {
    run(command.env("PIP_CONFIG_FILE", "/dev/null"))
        .success()
        .stdout
}

/// A temporary directory with its own rvenv cache (`cache/`), an empty home (`home/`) and a
/// place for a venv (`venv/`), removed when dropped. Every `rvenv` it runs sees no settings of
/// the developer's: no VIRTUAL_ENV, RVENV_*, PIP_*, NETRC, user pip.conf or ~/.netrc.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

/// The interpreter test venvs are made from.
pub const TEST_PYTHON: &str = "/usr/bin/python3.11";

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("rvenv-e2e-")
            .tempdir()
            .expect("a temporary directory");
        std::fs::create_dir(dir.path().join("home")).expect("create home/");
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cache(&self) -> PathBuf {
        self.path().join("cache")
    }

    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    /// Where [`Sandbox::create_venv`] puts the venv.
    pub fn venv(&self) -> PathBuf {
        self.path().join("venv")
    }

    /// `rvenv` in the sandbox: its cache, its home, its directory as the working directory, and
    /// PIP_CONFIG_FILE=/dev/null (a test may set it again).
    pub fn command(&self) -> Command {
        let mut command = rvenv(&self.cache());
        for name in [
            "NETRC",
            "XDG_CONFIG_HOME",
            "XDG_CONFIG_DIRS",
            "XDG_CACHE_HOME",
            "CI",
        ] {
            command.env_remove(name);
        }
        command
            .env("HOME", self.home())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(self.path());
        command
    }

    /// `rvenv create venv --python /usr/bin/python3.11`; returns the venv's path.
    pub fn create_venv(&self) -> PathBuf {
        run(self
            .command()
            .args(["create", "venv", "--python", TEST_PYTHON]))
        .success();
        self.venv()
    }

    /// `rvenv install --venv VENV ARGS...`, run to the end.
    pub fn install(&self, args: &[&str]) -> Run {
        run(&mut self.install_command(args))
    }

    /// The command [`Sandbox::install`] runs, to add environment variables first.
    pub fn install_command(&self, args: &[&str]) -> Command {
        let mut command = self.command();
        command
            .arg("install")
            .arg("--venv")
            .arg(self.venv())
            .args(args);
        command
    }

    /// Writes `text` to `name` (relative to the sandbox, parents created); returns the path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }
}

/// The venv's site-packages directory (`lib/pythonX.Y/site-packages`).
pub fn site_packages(venv: &Path) -> PathBuf {
    let lib = venv.join("lib");
    let entries = std::fs::read_dir(&lib).unwrap_or_else(|err| panic!("{}: {err}", lib.display()));
    for entry in entries {
        let path = entry.expect("read lib/").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("python") {
            return path.join("site-packages");
        }
    }
    panic!("no lib/python*/site-packages in {}", venv.display());
}

/// What is installed in the venv: each `*.dist-info`'s METADATA Name (lowercase) and Version.
pub fn installed(venv: &Path) -> std::collections::BTreeMap<String, String> {
    let mut found = std::collections::BTreeMap::new();
    let site = site_packages(venv);
    for entry in std::fs::read_dir(&site).expect("read site-packages") {
        let path = entry.expect("read site-packages").path();
        if path.extension().is_none_or(|ext| ext != "dist-info") {
            continue;
        }
        let metadata = std::fs::read_to_string(path.join("METADATA"))
            .unwrap_or_else(|err| panic!("{}/METADATA: {err}", path.display()));
        let field = |key: &str| {
            metadata
                .lines()
                .find_map(|line| line.strip_prefix(key))
                .map(|value| value.trim().to_string())
                .unwrap_or_else(|| panic!("no {key} in {}/METADATA", path.display()))
        };
        found.insert(field("Name:").to_lowercase(), field("Version:"));
    }
    found
}

/// Panics unless exactly these `(name, version)` pairs are installed (names lowercase).
#[track_caller]
pub fn assert_installed(venv: &Path, expected: &[(&str, &str)]) {
    let expected: std::collections::BTreeMap<String, String> = expected
        .iter()
        .map(|(name, version)| (name.to_string(), version.to_string()))
        .collect();
    assert_eq!(installed(venv), expected, "installed in {}", venv.display());
}

/// Packages several test files install.
pub mod fixtures {
    use rvenv_testkit::{BuiltFile, WheelBuilder};

    /// `app` 1.0 (needing `lib>=1.0`; a `cli` extra adding `clitool`; a console script `app`
    /// printing "app works"; a `#!python` script `app-script`; a data file
    /// `share/app/readme.txt`), `lib` 1.0 and 2.0, and `clitool` 0.5.
    pub fn app_and_lib() -> Vec<BuiltFile> {
        vec![
            WheelBuilder::new("app", "1.0")
                .requires_dist("lib>=1.0")
                .requires_dist("clitool; extra == 'cli'")
                .provides_extra("cli")
                .entry_point("console_scripts", "app", "app:main")
                .file("app/__init__.py", "def main():\n    print('app works')\n")
                .data_file("scripts", "app-script", "#!python\nprint('script works')\n")
                .data_file("data", "share/app/readme.txt", "hello\n")
                .build(),
            WheelBuilder::new("lib", "1.0").build(),
            WheelBuilder::new("lib", "2.0").build(),
            WheelBuilder::new("clitool", "0.5").build(),
        ]
    }
}
