//! `rvenv create` against real interpreters: the system Python and every pyenv version present.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test create`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use rvenv_e2e::{rvenv, Run};
use tempfile::TempDir;

const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// `python3.X` of each pyenv version 3.8 to 3.13 present, newest patch release per minor.
fn pyenv_pythons() -> Vec<(String, PathBuf)> {
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    let versions = Path::new(&home).join(".pyenv/versions");
    let mut found: BTreeMap<u32, (Vec<u32>, String, PathBuf)> = BTreeMap::new();
    for entry in std::fs::read_dir(versions).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let parts: Vec<u32> = match name.split('.').map(str::parse).collect() {
            Ok(parts) => parts,
            Err(_) => continue,
        };
        let [3, minor, _] = parts[..] else { continue };
        let python = entry.path().join(format!("bin/python3.{minor}"));
        if (8..=13).contains(&minor) && python.is_file() {
            let newer = found.get(&minor).is_none_or(|(have, ..)| *have < parts);
            if newer {
                found.insert(minor, (parts, name, python));
            }
        }
    }
    found
        .into_values()
        .map(|(_, name, python)| (name, python))
        .collect()
}

/// [`rvenv_e2e::run`] with Python told not to write bytecode (the base prefixes stay untouched).
fn run(command: &mut Command) -> Run {
    rvenv_e2e::run(command.env("PYTHONDONTWRITEBYTECODE", "1"))
}

/// [`run`] for a command that must succeed.
#[track_caller]
fn run_ok(command: &mut Command) -> Run {
    rvenv_e2e::run_ok(command.env("PYTHONDONTWRITEBYTECODE", "1"))
}

/// `rvenv create PREFIX ARGS...` with a cache of its own; the temp dir holds cache and prefix.
fn create(dir: &Path, prefix: &Path, args: &[&str]) -> Run {
    run(rvenv(&dir.join("cache"))
        .arg("create")
        .arg(prefix)
        .args(args))
}

fn python_says(python: &Path, code: &str) -> String {
    run_ok(Command::new(python).args(["-c", code]))
        .stdout
        .trim()
        .to_string()
}

/// What a tree holds: each entry's kind, and for links the file they finally resolve to.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_symlink() {
                let target = std::fs::canonicalize(&path).unwrap();
                let target = match target.strip_prefix(root) {
                    Ok(inside) => format!("<venv>/{}", inside.display()),
                    Err(_) => target.display().to_string(),
                };
                into.insert(name, format!("link -> {target}"));
            } else if kind.is_dir() {
                into.insert(name, "dir".into());
                walk(root, &path, into);
            } else {
                into.insert(name, "file".into());
            }
        }
    }
    let mut entries = BTreeMap::new();
    walk(root, root, &mut entries);
    entries
}

fn pyvenv_cfg(prefix: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(prefix.join("pyvenv.cfg"))
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect()
}

#[test]
fn a_created_venv_works() {
    let dir = TempDir::new().unwrap();
    let prefix = dir.path().join("venv");
    let result = create(dir.path(), &prefix, &["--python", SYSTEM_PYTHON]);
    assert_eq!(result.status, Some(0), "{}", result.stderr);
    let base = std::fs::canonicalize(SYSTEM_PYTHON).unwrap();
    assert!(
        result
            .stderr
            .contains(&format!("Created {} (CPython 3.", prefix.display()))
            && result.stderr.contains(&format!("base {})", base.display())),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("bin/activate"), "{}", result.stderr);

    let code = "import json, sys, sysconfig; print(json.dumps([sys.prefix, sys.base_prefix, \
                sys.path, sysconfig.get_paths()['purelib']]))";
    let facts: (String, String, Vec<String>, String) =
        serde_json::from_str(&python_says(&prefix.join("bin/python"), code)).unwrap();
    let base_prefix = python_says(
        Path::new(SYSTEM_PYTHON),
        "import sys; print(sys.base_prefix)",
    );
    assert_eq!(facts.0, prefix.display().to_string());
    assert_eq!(facts.1, base_prefix);
    assert_ne!(facts.0, facts.1);
    assert!(
        facts.2.contains(&facts.3),
        "{:?} lacks {}",
        facts.2,
        facts.3
    );
    assert!(facts.3.starts_with(&facts.0));
}

#[test]
fn the_layout_matches_python_venv_for_every_interpreter() {
    let mut pythons = pyenv_pythons();
    pythons.push(("system".into(), PathBuf::from(SYSTEM_PYTHON)));
    assert!(
        pythons.len() > 1,
        "expected pyenv versions in ~/.pyenv/versions"
    );
    for (name, python) in pythons {
        let dir = TempDir::new().unwrap();
        let ours = dir.path().join("rvenv");
        let theirs = dir.path().join("venv");
        let result = create(dir.path(), &ours, &["--python", python.to_str().unwrap()]);
        assert_eq!(result.status, Some(0), "{name}: {}", result.stderr);
        run_ok(
            Command::new(&python)
                .args(["-m", "venv", "--without-pip"])
                .arg(&theirs),
        );

        let ours_tree = tree(&ours);
        let theirs_tree = tree(&theirs);
        for (path, kind) in &theirs_tree {
            assert_eq!(ours_tree.get(path), Some(kind), "{name}: {path}");
        }
        let minor = python_says(&python, "import sys; print(sys.version_info[1])");
        // Ours has a few more: nushell's script, .gitignore and python3.X on every version.
        let allowed_extra = [
            "bin/activate.nu".to_string(),
            ".gitignore".to_string(),
            format!("bin/python3.{minor}"),
        ];
        for path in ours_tree.keys() {
            assert!(
                theirs_tree.contains_key(path) || allowed_extra.contains(path),
                "{name}: rvenv made {path}, venv did not"
            );
        }

        let ours_cfg = pyvenv_cfg(&ours);
        let theirs_cfg = pyvenv_cfg(&theirs);
        for (key, value) in &theirs_cfg {
            let mine = ours_cfg
                .get(key)
                .unwrap_or_else(|| panic!("{name}: no {key}"));
            match key.as_str() {
                "command" => assert!(mine.ends_with(&ours.display().to_string())),
                "home" => assert_eq!(
                    std::fs::canonicalize(mine).unwrap(),
                    std::fs::canonicalize(value).unwrap(),
                    "{name}"
                ),
                _ => assert_eq!(mine, value, "{name}: {key}"),
            }
        }
        let extra: Vec<&String> = ours_cfg
            .keys()
            .filter(|key| !theirs_cfg.contains_key(*key))
            .collect();
        for key in extra {
            assert!(["rvenv", "executable", "command"].contains(&key.as_str()));
        }
        assert_eq!(ours_cfg["rvenv"], env!("CARGO_PKG_VERSION"));

        // The interpreter sees both venvs the same way.
        let code = "import sys; print(sys.path, sys.base_prefix, sys.prefix)";
        let ours_view = python_says(&ours.join("bin/python"), code);
        let theirs_view = python_says(&theirs.join("bin/python"), code);
        assert_eq!(
            ours_view.replace(ours.to_str().unwrap(), "PREFIX"),
            theirs_view.replace(theirs.to_str().unwrap(), "PREFIX"),
            "{name}"
        );
    }
}

#[test]
fn options_are_written_like_python_venv_writes_them() {
    let Some((_, python)) = pyenv_pythons().pop() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let ours = dir.path().join("rvenv");
    let theirs = dir.path().join("venv");
    let flags = ["--copies", "--system-site-packages", "--prompt", "my api"];
    let result = create(
        dir.path(),
        &ours,
        &[&["--python", python.to_str().unwrap()][..], &flags].concat(),
    );
    assert_eq!(result.status, Some(0), "{}", result.stderr);
    run_ok(
        Command::new(&python)
            .args(["-m", "venv", "--without-pip"])
            .args(flags)
            .arg(&theirs),
    );
    let (ours_cfg, theirs_cfg) = (pyvenv_cfg(&ours), pyvenv_cfg(&theirs));
    for key in [
        "include-system-site-packages",
        "prompt",
        "version",
        "executable",
    ] {
        assert_eq!(ours_cfg.get(key), theirs_cfg.get(key), "{key}");
    }
    assert_eq!(ours_cfg["prompt"], "'my api'");
    let python_in_venv = ours.join("bin/python");
    assert!(!std::fs::symlink_metadata(&python_in_venv)
        .unwrap()
        .file_type()
        .is_symlink());
    let facts = python_says(
        &python_in_venv,
        "import sys, site; print(sys.prefix); print(any(p.startswith(sys.base_prefix) \
         and p.endswith('site-packages') for p in site.getsitepackages()))",
    );
    assert_eq!(facts, format!("{}\nTrue", ours.display()));
}

/// Runs `script` in `shell` with PATH and the prompt variable set to known values.
fn shell_lines(shell: &str, args: &[&str], script: &str) -> Vec<String> {
    let result = run_ok(
        Command::new(shell)
            .args(args)
            .arg(script)
            .env("PATH", "/usr/bin:/bin")
            .env_remove("VIRTUAL_ENV")
            .env_remove("VIRTUAL_ENV_DISABLE_PROMPT")
            .env("PYTHONHOME", "/keep/me"),
    );
    result.stdout.lines().map(str::to_string).collect()
}

fn which(program: &str) -> bool {
    run(Command::new("which").arg(program)).status == Some(0)
}

#[test]
fn posix_activate_sets_and_restores_everything() {
    let dir = TempDir::new().unwrap();
    let prefix = dir.path().join("venv");
    let other = dir.path().join("other");
    for venv in [&prefix, &other] {
        let result = create(
            dir.path(),
            venv,
            &["--python", SYSTEM_PYTHON, "--prompt", "it's"],
        );
        assert_eq!(result.status, Some(0), "{}", result.stderr);
    }
    let (venv, other) = (prefix.display(), other.display());
    let script = format!(
        "PS1='base$ '
         . '{venv}/bin/activate'
         echo \"$VIRTUAL_ENV|$VIRTUAL_ENV_PROMPT|$PATH|$PS1|${{PYTHONHOME-unset}}\"
         command -v python
         . '{other}/bin/activate'
         echo \"$VIRTUAL_ENV|$PATH|$PS1\"
         deactivate
         echo \"${{VIRTUAL_ENV-unset}}|$PATH|$PS1|$PYTHONHOME\"
         command -v deactivate || echo gone
         unset PS1
         . '{venv}/bin/activate'
         deactivate
         echo \"${{PS1-unset}}\""
    );
    let mut shells = vec!["sh", "bash"];
    if which("zsh") {
        shells.push("zsh");
    }
    if which("dash") {
        shells.push("dash");
    }
    for shell in shells {
        let lines = shell_lines(shell, &["-c"], &script);
        assert_eq!(
            lines,
            [
                format!("{venv}|it's|{venv}/bin:/usr/bin:/bin|(it's) base$ |unset"),
                format!("{venv}/bin/python"),
                format!("{other}|{other}/bin:/usr/bin:/bin|(it's) base$ "),
                "unset|/usr/bin:/bin|base$ |/keep/me".to_string(),
                "gone".to_string(),
                "unset".to_string(),
            ],
            "{shell}"
        );
    }
}

#[test]
fn fish_and_csh_activate_where_installed() {
    let dir = TempDir::new().unwrap();
    let prefix = dir.path().join("venv");
    let result = create(dir.path(), &prefix, &["--python", SYSTEM_PYTHON]);
    assert_eq!(result.status, Some(0), "{}", result.stderr);
    let venv = prefix.display();
    if which("fish") {
        let script = format!(
            "function fish_prompt; echo -n 'base> '; end
             source '{venv}/bin/activate.fish'
             echo \"$VIRTUAL_ENV|$PATH|\"(fish_prompt)
             deactivate
             echo (set -q VIRTUAL_ENV; or echo unset)\"|$PATH|\"(fish_prompt)\"|$PYTHONHOME\"
             functions -q deactivate; or echo gone"
        );
        let lines = shell_lines("fish", &["--no-config", "-c"], &script);
        assert_eq!(
            lines,
            [
                format!("{venv}|{venv}/bin:/usr/bin:/bin|(venv) base> "),
                "unset|/usr/bin:/bin|base> |/keep/me".to_string(),
                "gone".to_string(),
            ]
        );
    }
    for shell in ["tcsh", "csh"] {
        if !which(shell) {
            continue;
        }
        let script = format!(
            "set prompt='base% '
             source '{venv}/bin/activate.csh'
             echo \"$VIRTUAL_ENV|$PATH|$prompt\"
             deactivate
             if ( ! $?VIRTUAL_ENV ) echo unset
             echo \"$PATH|$prompt|$PYTHONHOME\"
             alias deactivate
             echo end"
        );
        let lines = shell_lines(shell, &["-f", "-c"], &script);
        assert_eq!(
            lines,
            [
                format!("{venv}|{venv}/bin:/usr/bin:/bin|(venv) base% "),
                "unset".to_string(),
                "/usr/bin:/bin|base% |/keep/me".to_string(),
                "end".to_string(),
            ],
            "{shell}"
        );
    }
    if which("pwsh") {
        let script = format!(
            ". '{venv}/bin/Activate.ps1'; Write-Output \"$env:VIRTUAL_ENV|$env:PATH\"; \
             deactivate; Write-Output \"[$env:VIRTUAL_ENV]|$env:PATH\""
        );
        let lines = shell_lines("pwsh", &["-NoProfile", "-Command"], &script);
        assert_eq!(
            lines,
            [
                format!("{venv}|{venv}/bin:/usr/bin:/bin"),
                "[]|/usr/bin:/bin".to_string(),
            ]
        );
    }
    if which("nu") {
        let script = format!(
            "overlay use '{venv}/bin/activate.nu'; print $env.VIRTUAL_ENV; deactivate; \
             print ('VIRTUAL_ENV' in $env)"
        );
        let lines = shell_lines("nu", &["-c"], &script);
        assert_eq!(lines, [venv.to_string(), "false".to_string()]);
    }
}

#[test]
fn a_rerun_is_a_no_op_and_clear_replaces() {
    let dir = TempDir::new().unwrap();
    let prefix = dir.path().join("venv");
    let pythons = pyenv_pythons();
    let first = create(dir.path(), &prefix, &["--python", SYSTEM_PYTHON]);
    assert_eq!(first.status, Some(0), "{}", first.stderr);
    let before = tree(&prefix);
    let cfg_mtime = std::fs::metadata(prefix.join("pyvenv.cfg"))
        .unwrap()
        .modified()
        .unwrap();

    let again = create(dir.path(), &prefix, &["--python", SYSTEM_PYTHON]);
    assert_eq!(again.status, Some(0), "{}", again.stderr);
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
    assert_eq!(tree(&prefix), before);
    let after_mtime = std::fs::metadata(prefix.join("pyvenv.cfg"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(cfg_mtime, after_mtime);

    let Some((name, other)) = pythons.first() else {
        return;
    };
    let site = python_says(
        &prefix.join("bin/python"),
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    );
    std::fs::write(Path::new(&site).join("leftover.py"), "").unwrap();
    let different = create(dir.path(), &prefix, &["--python", other.to_str().unwrap()]);
    assert_eq!(different.status, Some(2));
    let base = std::fs::canonicalize(SYSTEM_PYTHON).unwrap();
    let requested = std::fs::canonicalize(other).unwrap();
    for needle in [
        base.display().to_string(),
        requested.display().to_string(),
        "--clear".to_string(),
    ] {
        assert!(different.stderr.contains(&needle), "{}", different.stderr);
    }

    let cleared = create(
        dir.path(),
        &prefix,
        &["--python", other.to_str().unwrap(), "--clear"],
    );
    assert_eq!(cleared.status, Some(0), "{}", cleared.stderr);
    assert!(cleared.stderr.contains("Created"), "{}", cleared.stderr);
    assert_eq!(pyvenv_cfg(&prefix)["version"], *name);
    assert!(!Path::new(&site).join("leftover.py").exists());
    // No staging or old directories are left beside it (the cache is the only other entry).
    let siblings: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(siblings.len(), 2, "{siblings:?}");
}

#[test]
fn every_error_case_exits_non_zero_with_a_message() {
    let dir = TempDir::new().unwrap();
    let python = ["--python", SYSTEM_PYTHON];

    let file = dir.path().join("file");
    std::fs::write(&file, "keep").unwrap();
    let result = create(dir.path(), &file, &python);
    assert_eq!(result.status, Some(2));
    assert!(result.stderr.contains("is a file"), "{}", result.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");

    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("app.py"), "").unwrap();
    for extra in [&[][..], &["--clear"][..]] {
        let result = create(dir.path(), &project, &[&python[..], extra].concat());
        assert_eq!(result.status, Some(2));
        assert!(
            result.stderr.contains("not a virtual environment"),
            "{}",
            result.stderr
        );
        assert_eq!(tree(&project).len(), 1);
    }

    let result = create(dir.path(), &dir.path().join("x"), &["--python", "3.99"]);
    assert_eq!(result.status, Some(2));
    assert!(result
        .stderr
        .contains("no Python interpreter matches `3.99`"));
    assert!(result.stderr.contains("found CPython"), "{}", result.stderr);

    let result = create(dir.path(), &dir.path().join("x"), &["--python", "3.x"]);
    assert_eq!(result.status, Some(2));
    assert!(result.stderr.contains("invalid --python request"));

    let result = create(
        dir.path(),
        &dir.path().join("x"),
        &["--python", "/no/python3"],
    );
    assert_eq!(result.status, Some(2));
    assert!(result.stderr.contains("/no/python3"), "{}", result.stderr);
    assert!(!dir.path().join("x").exists());
}

/// `--seed` installs the pip wheel bundled with the base interpreter, without the network, and
/// the launchers pip itself would write.
#[test]
fn seed_installs_the_bundled_pip() {
    let Some((_, python)) = pyenv_pythons()
        .into_iter()
        .find(|(version, _)| version.starts_with("3.11."))
    else {
        eprintln!("skipped: no pyenv 3.11");
        return;
    };
    let dir = TempDir::new().unwrap();
    let prefix = dir.path().join("seeded");
    let result = run(rvenv(&dir.path().join("cache"))
        .arg("create")
        .arg(&prefix)
        .args(["--seed", "--python"])
        .arg(&python)
        // No index is reachable: the bundled wheel must be enough.
        .env("RVENV_INDEX_URL", "http://127.0.0.1:9/simple"));
    assert_eq!(result.status, Some(0), "{}", result.stderr);
    assert!(result.stderr.contains("+ pip=="), "{}", result.stderr);
    for launcher in ["pip", "pip3", "pip3.11"] {
        assert!(prefix.join("bin").join(launcher).is_file(), "{launcher}");
    }
    let version = run_ok(Command::new(prefix.join("bin/pip")).arg("--version")).stdout;
    assert!(
        version.contains(&format!(
            "{}",
            prefix.join("lib/python3.11/site-packages/pip").display()
        )),
        "{version}"
    );
}

#[test]
fn pip_sees_an_empty_healthy_venv() {
    let dir = TempDir::new().unwrap();
    let prefix = dir.path().join("venv");
    let result = create(dir.path(), &prefix, &["--python", SYSTEM_PYTHON]);
    assert_eq!(result.status, Some(0), "{}", result.stderr);
    let python = prefix.join("bin/python");
    let list = run_ok(
        Command::new(SYSTEM_PYTHON)
            .args(["-m", "pip", "--python"])
            .arg(&python)
            .args(["list", "--format", "json", "--disable-pip-version-check"]),
    );
    assert_eq!(list.stdout.trim(), "[]", "{}", list.stderr);
    let check = run_ok(
        Command::new(SYSTEM_PYTHON)
            .args(["-m", "pip", "--python"])
            .arg(&python)
            .args(["check", "--disable-pip-version-check"]),
    );
    assert!(
        check.stdout.contains("No broken requirements"),
        "{}",
        check.stdout
    );
}

/// Every file and directory under `root` with its size and mtime.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    fn walk(dir: &Path, into: &mut BTreeMap<PathBuf, (u64, SystemTime)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(metadata) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            into.insert(path.clone(), (metadata.len(), metadata.modified().unwrap()));
            if metadata.is_dir() {
                walk(&path, into);
            }
        }
    }
    let mut entries = BTreeMap::new();
    walk(root, &mut entries);
    entries
}

#[test]
fn the_base_prefix_is_never_written() {
    let Some((_, python)) = pyenv_pythons().into_iter().nth(1) else {
        return;
    };
    let base_prefix = python.parent().unwrap().parent().unwrap().to_path_buf();
    let before = snapshot(&base_prefix);
    assert!(before.len() > 100);
    let dir = TempDir::new().unwrap();
    // A cold cache (the interpreter is queried), then each option that touches the base.
    for (i, flags) in [
        &[][..],
        &["--copies"],
        &["--system-site-packages", "--clear"],
    ]
    .iter()
    .enumerate()
    {
        let prefix = dir.path().join(format!("venv{i}"));
        let args = [&["--python", python.to_str().unwrap()][..], flags].concat();
        let result = create(dir.path(), &prefix, &args);
        assert_eq!(result.status, Some(0), "{}", result.stderr);
        run_ok(Command::new(prefix.join("bin/python")).args(["-c", "import sys"]));
    }
    assert_eq!(snapshot(&base_prefix), before);
}

#[test]
fn a_warm_cache_does_not_start_python() {
    let dir = TempDir::new().unwrap();
    let first = create(
        dir.path(),
        &dir.path().join("a"),
        &["--python", SYSTEM_PYTHON],
    );
    assert_eq!(first.status, Some(0), "{}", first.stderr);
    // Doctor the cached answer: if the next create shows it, Python was not asked again.
    let entries: Vec<PathBuf> = std::fs::read_dir(dir.path().join("cache/interpreters"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1);
    let text = std::fs::read_to_string(&entries[0]).unwrap();
    std::fs::write(
        &entries[0],
        text.replace("\"cpython\"", "\"cached-python\""),
    )
    .unwrap();
    let second = create(
        dir.path(),
        &dir.path().join("b"),
        &["--python", SYSTEM_PYTHON],
    );
    assert_eq!(second.status, Some(0), "{}", second.stderr);
    assert!(
        second.stderr.contains("(cached-python 3."),
        "{}",
        second.stderr
    );
}

#[test]
fn without_python_the_first_on_path_is_used_and_a_venv_leads_to_its_base() {
    let dir = TempDir::new().unwrap();
    let outer = dir.path().join("outer");
    let result = create(dir.path(), &outer, &["--python", SYSTEM_PYTHON]);
    assert_eq!(result.status, Some(0), "{}", result.stderr);
    // As in a nixpacks build: the venv's bin first on PATH, its python the first one found.
    let path = format!("{}:/usr/bin:/bin", outer.join("bin").display());
    let inner = dir.path().join("inner");
    let result = run(rvenv(&dir.path().join("cache"))
        .args(["create"])
        .arg(&inner)
        .env("PATH", path)
        .env_remove("RVENV_PYTHON"));
    assert_eq!(result.status, Some(0), "{}", result.stderr);
    let base = std::fs::canonicalize(SYSTEM_PYTHON).unwrap();
    assert_eq!(std::fs::read_link(inner.join("bin/python")).unwrap(), base);
    assert_eq!(pyvenv_cfg(&inner)["executable"], base.display().to_string());
}
