//! rvenv against real PyPI, side by side with pip (issues 4 and 5): the benchmark sets in
//! tests/fixtures/bench/ (copies of shared/bench/, so the tests do not depend on a folder outside
//! the repository) resolve to the same names and versions as `pip install --dry-run --report`, and
//! web.txt installs the same tree pip installs from the same pins.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test pypi`.
//! pip is the system's (`/usr/bin/python3 -m pip`, 22.3 or newer for `--python`), run against the
//! venv's interpreter; venvs are made from /usr/bin/python3.11. rvenv and pip share one cache dir
//! per run of this file (under CARGO_TARGET_TMPDIR), so each wheel is downloaded about once per tool.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use rvenv_e2e::{installed, run, run_ok, rvenv, site_packages};
use tempfile::TempDir;

const BENCH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bench");
const PYTHON: &str = "/usr/bin/python3.11";
const PIP_PYTHON: &str = "/usr/bin/python3";

/// The cache dir the tests of this file share, emptied once per run.
fn shared_cache() -> &'static Path {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pypi-cache");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the shared cache dir");
        dir
    })
}

/// `rvenv` with the shared cache and no pip.conf.
fn rvenv_cmd() -> Command {
    let mut command = rvenv(&shared_cache().join("rvenv"));
    command.env("PIP_CONFIG_FILE", "/dev/null");
    command
}

/// The system's pip, pointed at `venv`'s interpreter, with the shared cache and no pip.conf.
fn pip(venv: &Path) -> Command {
    let mut command = Command::new(PIP_PYTHON);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PIP_") {
            command.env_remove(&name);
        }
    }
    command
        .args(["-m", "pip", "--python"])
        .arg(venv.join("bin/python"))
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_CACHE_DIR", shared_cache().join("pip"))
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .env_remove("VIRTUAL_ENV");
    command
}

fn create_venv(prefix: &Path) {
    run_ok(
        rvenv_cmd()
            .args(["create", "--quiet", "--python", PYTHON])
            .arg(prefix),
    );
}

/// PEP 503 normalized: lowercase, runs of `-`, `_`, `.` as one `-`.
fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Name -> version of the `install` entries of a pip installation report.
fn report_pins(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    report["install"]
        .as_array()
        .unwrap_or_else(|| panic!("no install list in {}: {text}", path.display()))
        .iter()
        .map(|item| {
            let metadata = &item["metadata"];
            let name = metadata["name"].as_str().expect("metadata.name");
            let version = metadata["version"].as_str().expect("metadata.version");
            (normalize(name), version.to_string())
        })
        .collect()
}

fn resolves_as_pip_does(set: &str) {
    let temp = TempDir::new().unwrap();
    let venv = temp.path().join("venv");
    create_venv(&venv);
    let requirements = Path::new(BENCH).join(set);

    let ours = temp.path().join("rvenv-report.json");
    run_ok(
        rvenv_cmd()
            .args(["install", "--dry-run", "--venv"])
            .arg(&venv)
            .arg("--report")
            .arg(&ours)
            .arg("-r")
            .arg(&requirements),
    );
    let theirs = temp.path().join("pip-report.json");
    run_ok(
        pip(&venv)
            .args(["install", "--dry-run", "--ignore-installed", "--quiet"])
            .arg("--report")
            .arg(&theirs)
            .arg("-r")
            .arg(&requirements),
    );
    let (ours, theirs) = (report_pins(&ours), report_pins(&theirs));
    assert!(ours.contains_key("fastapi"), "{ours:?}");
    assert_eq!(
        ours, theirs,
        "rvenv (left) and pip (right) resolved {set} differently"
    );
    // --dry-run changed nothing.
    assert_eq!(installed_dist_infos(&venv), Vec::<String>::new());
}

#[test]
fn seed_resolves_as_pip_does() {
    resolves_as_pip_does("seed.txt");
}

#[test]
fn web_resolves_as_pip_does() {
    resolves_as_pip_does("web.txt");
}

fn installed_dist_infos(venv: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(site_packages(venv))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".dist-info"))
        .collect();
    names.sort();
    names
}

/// `name==version` of each installed distribution, from its METADATA.
fn installed_pins(venv: &Path) -> Vec<String> {
    installed(venv)
        .into_iter()
        .map(|(name, version)| format!("{name}=={version}"))
        .collect()
}

/// Files of the venv that must match pip's, each with what is compared: content with the venv's
/// own path written as `<venv>`, or a link's target, and the executable bit. Left out, with why:
/// bytecode (`__pycache__`, compiled by each tool in its own way; pip records no hash for it), the
/// `.rvenv.lock` file rvenv keeps at the root to take turns with other rvenv runs, and the dist-info
/// files the issue exempts: INSTALLER (names the tool), REQUESTED (pip was given every pin, so it
/// marks every distribution requested), direct_url.json. RECORD is compared apart.
fn comparable_tree(venv: &Path) -> BTreeMap<String, String> {
    fn walk(venv: &Path, dir: &Path, into: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let relative = path.strip_prefix(venv).unwrap().display().to_string();
            let in_dist_info = dir.to_string_lossy().ends_with(".dist-info");
            if name == "__pycache__"
                || name.ends_with(".pyc")
                || relative == ".rvenv.lock"
                || (in_dist_info
                    && ["INSTALLER", "REQUESTED", "direct_url.json", "RECORD"]
                        .contains(&name.as_str()))
            {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let value = if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                format!("link -> {}", target.display())
            } else if meta.is_dir() {
                walk(venv, &path, into);
                "dir".to_string()
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                let executable = meta.permissions().mode() & 0o111 != 0;
                // Text with the venv's path replaced; binaries are compared byte for byte too.
                let content = if text.contains(venv.to_str().unwrap()) {
                    text.replace(venv.to_str().unwrap(), "<venv>")
                } else {
                    format!("{:x?}", fingerprint(&bytes))
                };
                format!("executable {executable}\n{content}")
            };
            into.insert(relative, value);
        }
    }
    let mut entries = BTreeMap::new();
    walk(venv, venv, &mut entries);
    entries
}

/// The length and FNV-1a hash of a file: enough to tell two trees' files apart in a test
/// without holding every file of both venvs in memory.
fn fingerprint(bytes: &[u8]) -> (usize, u64) {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (bytes.len(), hash)
}

/// RECORD as a set of `path,hash,size` lines without bytecode, whose hashes differ between tools
/// (pip leaves them empty), and without REQUESTED. Lines of INSTALLER and of files that name the
/// venv's own path (launchers, rewritten shebangs), whose content differs by design, keep their
/// path only. `by_path` holds those files' paths relative to the venv.
fn record_lines(venv: &Path, record: &Path, by_path: &BTreeSet<String>) -> BTreeSet<String> {
    let site = site_packages(venv);
    std::fs::read_to_string(record)
        .unwrap()
        .lines()
        .filter(|line| !line.contains("__pycache__/") && !line.is_empty())
        .filter(|line| !line.contains(".dist-info/REQUESTED,"))
        .map(|line| {
            let path = line.split(',').next().unwrap_or_default();
            let in_venv = venv_relative(venv, &site.join(path));
            if by_path.contains(&in_venv) || path.ends_with(".dist-info/INSTALLER") {
                path.to_string()
            } else {
                line.to_string()
            }
        })
        .collect()
}

/// `path` (which may hold `..`) relative to `venv`, `..` resolved lexically.
fn venv_relative(venv: &Path, path: &Path) -> String {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.strip_prefix(venv).unwrap().components() {
        match component {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            other => parts.push(other.as_os_str()),
        }
    }
    parts.iter().collect::<PathBuf>().display().to_string()
}

/// Top-level importable names of each installed distribution, from its RECORD (and top_level.txt
/// where there is one): packages, modules and extension modules directly in site-packages.
fn top_level_modules(venv: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let site = site_packages(venv);
    let mut found = BTreeMap::new();
    for dist_info in installed_dist_infos(venv) {
        let dir = site.join(&dist_info);
        let mut names = BTreeSet::new();
        let record = std::fs::read_to_string(dir.join("RECORD")).unwrap();
        for line in record.lines() {
            let path = line.split(',').next().unwrap_or_default();
            let first = path.split('/').next().unwrap_or_default();
            let is_dir = path.contains('/');
            let name = if is_dir {
                first.to_string()
            } else if let Some(module) = first.strip_suffix(".py") {
                module.to_string()
            } else if first.ends_with(".so") {
                first.split('.').next().unwrap_or_default().to_string()
            } else {
                continue;
            };
            let identifier = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if identifier && name != "__pycache__" {
                names.insert(name);
            }
        }
        if let Ok(text) = std::fs::read_to_string(dir.join("top_level.txt")) {
            names.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|name| !name.is_empty() && !name.contains('/'))
                    .map(String::from),
            );
        }
        found.insert(dist_info, names);
    }
    found
}

/// Runs `script --version` (or `--help`) in a venv: exit code and output, venv path as `<venv>`.
fn launcher_behaviour(venv: &Path, script: &str, flag: &str) -> (Option<i32>, String) {
    let result = run(Command::new(venv.join("bin").join(script))
        .arg(flag)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("VIRTUAL_ENV"));
    let output = format!("{}{}", result.stdout, result.stderr);
    (
        result.status,
        output.replace(venv.to_str().unwrap(), "<venv>"),
    )
}

#[test]
fn web_installs_the_tree_pip_installs() {
    let temp = TempDir::new().unwrap();
    // The same venv name in both places, so the activation scripts' prompts match.
    let ours = temp.path().join("rvenv/venv");
    let theirs = temp.path().join("pip/venv");
    create_venv(&ours);
    create_venv(&theirs);

    let started = Instant::now();
    run_ok(
        rvenv_cmd()
            .args(["install", "--venv"])
            .arg(&ours)
            .arg("-r")
            .arg(Path::new(BENCH).join("web.txt")),
    );
    eprintln!("rvenv install -r web.txt: {:?}", started.elapsed());

    // pip installs exactly what rvenv chose, so both install the same wheels.
    let pins = installed_pins(&ours);
    assert!(pins.len() > 30, "{pins:?}");
    let pins_file = temp.path().join("pins.txt");
    std::fs::write(&pins_file, pins.join("\n") + "\n").unwrap();
    let started = Instant::now();
    run_ok(
        pip(&theirs)
            .args(["install", "--quiet", "--no-deps", "-r"])
            .arg(&pins_file),
    );
    eprintln!(
        "pip install --no-deps of the same pins: {:?}",
        started.elapsed()
    );
    assert_eq!(installed_pins(&theirs), pins);

    // The trees: every file, its content and executable bit; launchers by behaviour.
    let mut our_tree = comparable_tree(&ours);
    let mut their_tree = comparable_tree(&theirs);
    let launchers: BTreeSet<String> = our_tree
        .iter()
        .filter(|(path, content)| {
            path.starts_with("bin/")
                && content.contains("\n#!<venv>/bin/python")
                && their_tree.get(*path) != Some(content)
        })
        .map(|(path, _)| path.clone())
        .collect();
    for path in &launchers {
        let first_line = |tree: &BTreeMap<String, String>| {
            tree.get(path)
                .and_then(|content| content.lines().take(2).last().map(String::from))
        };
        assert_eq!(
            first_line(&our_tree),
            first_line(&their_tree),
            "{path}: shebang"
        );
        our_tree.remove(path);
        their_tree.remove(path);
    }
    let only = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| -> Vec<String> {
        a.iter()
            .filter(|(path, content)| b.get(*path) != Some(content))
            .map(|(path, _)| path.clone())
            .collect()
    };
    assert_eq!(
        (only(&our_tree, &their_tree), only(&their_tree, &our_tree)),
        (Vec::new(), Vec::new()),
        "files that differ between rvenv's venv (left) and pip's (right)"
    );

    // RECORD: the same files with the same hashes, but where contents differ by design.
    let naming_the_venv: BTreeSet<String> = comparable_tree(&ours)
        .into_iter()
        .filter(|(_, content)| content.contains("<venv>"))
        .map(|(path, _)| path)
        .collect();
    for dist_info in installed_dist_infos(&ours) {
        let record = |venv: &Path| {
            record_lines(
                venv,
                &site_packages(venv).join(&dist_info).join("RECORD"),
                &naming_the_venv,
            )
        };
        assert_eq!(record(&ours), record(&theirs), "{dist_info}/RECORD");
    }

    // Launchers behave alike.
    for (script, flag) in [
        ("uvicorn", "--version"),
        ("alembic", "--version"),
        ("celery", "--version"),
        ("dotenv", "--version"),
        ("normalizer", "--version"),
        ("mako-render", "--help"),
    ] {
        let behaviour = launcher_behaviour(&ours, script, flag);
        assert_eq!(behaviour.0, Some(0), "{script} {flag}: {}", behaviour.1);
        assert_eq!(
            behaviour,
            launcher_behaviour(&theirs, script, flag),
            "{script} {flag}"
        );
    }

    // pip, the real tool, finds nothing wrong in rvenv's venv.
    let check = run_ok(pip(&ours).arg("check"));
    assert!(
        check.stdout.contains("No broken requirements found"),
        "{}",
        check.stdout
    );

    // Every top-level module of every installed distribution imports.
    let modules = top_level_modules(&ours);
    let all: BTreeSet<&String> = modules.values().flatten().collect();
    assert!(all.len() >= pins.len() - 5, "{modules:?}");
    let script = format!(
        "import importlib, sys\nfailed = []\nfor name in {:?}:\n    try:\n        importlib.import_module(name)\n    except Exception as err:\n        failed.append(f'{{name}}: {{type(err).__name__}}: {{err}}')\nprint('\\n'.join(failed))\nsys.exit(1 if failed else 0)\n",
        all.iter().map(|name| name.as_str()).collect::<Vec<_>>()
    );
    let imported = run(Command::new(ours.join("bin/python"))
        .args(["-c", &script])
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    assert_eq!(
        imported.status,
        Some(0),
        "modules that do not import:\n{}{}",
        imported.stdout,
        imported.stderr
    );
}
