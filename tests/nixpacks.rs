//! The nixpacks drop-in (issue 6), end to end against real PyPI: the sample FastAPI app in
//! tests/fixtures/fastapi-app is installed and served exactly as a nixpacks/Railway build runs it:
//!
//!     rvenv create /opt/venv
//!     rvenv install -r backend/requirements.txt     # PATH=/opt/venv/bin:$PATH, no VIRTUAL_ENV
//!     cd backend && /opt/venv/bin/python -m uvicorn main:app
//!
//! The base interpreter plays the Nix store's: a private copy of a real CPython prefix (the
//! executable and its stdlib, about 70 MB, copied in well under a second) with PEP 668's
//! EXTERNALLY-MANAGED file in its stdlib, as Nix and Debian ship it, and write permission removed.
//! Its whole tree (names, kinds, sizes, mtimes, modes) is snapshotted before and after: nothing under
//! it may change. A copy rather than the pyenv prefix itself because the marker file has to be added
//! to it, and a developer's pyenv must not be touched to do so.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test nixpacks`.
//! The base interpreter is the newest pyenv CPython 3.12 (else 3.11, else /usr/bin/python3);
//! RVENV_TEST_BASE_PYTHON=/path/to/python3.X picks another.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rvenv_e2e::{run, run_ok, rvenv};
use tempfile::TempDir;

const APP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fastapi-app");

/// `PATH` with `dirs` in front, as nixpacks puts /opt/venv/bin first.
fn path_with(dirs: &[&Path]) -> std::ffi::OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let mut all: Vec<PathBuf> = dirs.iter().map(|dir| dir.to_path_buf()).collect();
    all.extend(std::env::split_paths(&inherited));
    std::env::join_paths(all).expect("PATH entries without ':'")
}

/// The interpreter the fake base is copied from.
fn source_python() -> PathBuf {
    if let Some(path) = std::env::var_os("RVENV_TEST_BASE_PYTHON") {
        return path.into();
    }
    let versions = std::env::var_os("HOME")
        .map(|home| Path::new(&home).join(".pyenv/versions"))
        .unwrap_or_default();
    for minor in [12, 11] {
        let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(&versions)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let parts: Vec<u32> = name
                    .split('.')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .ok()?;
                let python = entry.path().join(format!("bin/python3.{minor}"));
                (parts[..2] == [3, minor] && python.is_file()).then_some((parts, python))
            })
            .collect();
        found.sort();
        if let Some((_, python)) = found.pop() {
            return python;
        }
    }
    PathBuf::from("/usr/bin/python3")
}

/// A read-only, externally managed copy of a CPython prefix: `bin/python3.X` (with `python3` and
/// `python` links) and `lib/python3.X` without its test suite, IDLE, build config and
/// site-packages. `cp -a` keeps mtimes, so the copied bytecode stays valid and Python has no reason
/// to write any. Write permission is given back on drop so the temp dir can go.
struct FakeBase {
    root: PathBuf,
    stdlib: PathBuf,
}

impl FakeBase {
    fn new(root: PathBuf) -> FakeBase {
        let source = source_python();
        let said = run_ok(Command::new(&source).args([
            "-c",
            "import sys, sysconfig; print(sys.executable); print(sysconfig.get_path('stdlib')); \
             print('%d.%d' % sys.version_info[:2])",
        ]))
        .stdout;
        let [executable, stdlib, version] = said.lines().collect::<Vec<_>>()[..] else {
            panic!("unexpected answer from {}: {said}", source.display());
        };
        let executable = std::fs::canonicalize(executable).unwrap();
        let name = format!("python{version}");
        let bin = root.join("bin");
        let lib = root.join("lib").join(&name);
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&lib).unwrap();
        run_ok(
            Command::new("cp")
                .arg("-a")
                .arg(&executable)
                .arg(bin.join(&name)),
        );
        for link in ["python3", "python"] {
            std::os::unix::fs::symlink(&name, bin.join(link)).unwrap();
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(stdlib)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                ![
                    "test",
                    "idlelib",
                    "site-packages",
                    "dist-packages",
                    "EXTERNALLY-MANAGED",
                ]
                .contains(&name.as_ref())
                    && !name.starts_with("config-")
            })
            .collect();
        entries.sort();
        run_ok(Command::new("cp").arg("-a").args(&entries).arg(&lib));
        // A shared libpython is found through the executable's absolute RUNPATH, under the
        // source prefix; a copy lets users that cannot read that prefix load it from here.
        let source_lib = executable
            .parent()
            .and_then(Path::parent)
            .unwrap()
            .join("lib");
        let libpython: Vec<PathBuf> = std::fs::read_dir(source_lib)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                name.starts_with("libpython") && name.contains(".so")
            })
            .collect();
        if !libpython.is_empty() {
            run_ok(
                Command::new("cp")
                    .arg("-a")
                    .args(&libpython)
                    .arg(root.join("lib")),
            );
        }
        std::fs::create_dir(lib.join("site-packages")).unwrap();
        std::fs::write(
            lib.join("EXTERNALLY-MANAGED"),
            "[externally-managed]\nError=This Python is part of the Nix store and cannot be \
             modified.\n Create a virtual environment instead.\n",
        )
        .unwrap();
        run_ok(Command::new("chmod").args(["-R", "a-w"]).arg(&root));
        FakeBase { stdlib: lib, root }
    }
}

impl Drop for FakeBase {
    fn drop(&mut self) {
        let _ = Command::new("chmod")
            .args(["-R", "u+w"])
            .arg(&self.root)
            .status();
    }
}

/// Every entry under `root`: kind, size, mtime (ns), mode, and where links point.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mtime = meta.mtime() * 1_000_000_000 + meta.mtime_nsec();
            let mut line = format!("size {} mtime {mtime} mode {:o}", meta.len(), meta.mode());
            if meta.file_type().is_symlink() {
                line += &format!(" -> {}", std::fs::read_link(&path).unwrap().display());
            }
            into.insert(path.strip_prefix(root).unwrap().to_path_buf(), line);
            if meta.is_dir() {
                walk(root, &path, into);
            }
        }
    }
    let mut entries = BTreeMap::new();
    walk(root, root, &mut entries);
    entries
}

#[track_caller]
fn assert_unchanged(before: &BTreeMap<PathBuf, String>, after: &BTreeMap<PathBuf, String>) {
    let changed: Vec<String> = before
        .iter()
        .filter(|(path, line)| after.get(*path) != Some(line))
        .map(|(path, line)| format!("{}: {line} -> {:?}", path.display(), after.get(path)))
        .chain(
            after
                .keys()
                .filter(|path| !before.contains_key(*path))
                .map(|path| format!("{}: new", path.display())),
        )
        .collect();
    assert!(
        changed.is_empty(),
        "the base prefix changed:\n{}",
        changed.join("\n")
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
}

/// `GET /` over plain HTTP/1.1: the status code and the body.
fn http_get(port: u16) -> std::io::Result<(u16, String)> {
    let address = ([127, 0, 0, 1], port).into();
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

/// A running app server, killed when dropped (also when an assertion fails first).
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(command: &mut Command, port: u16, log: PathBuf) -> Server {
        let output = std::fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("the server starts");
        Server { child, port, log }
    }

    /// Polls until the app answers `GET /`; panics with the server's log if it exits or takes
    /// longer than a minute.
    fn get_root(&mut self) -> (u16, serde_json::Value) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the server exited ({status}) before answering:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            match http_get(self.port) {
                Ok((status, body)) => {
                    let json = serde_json::from_str(&body)
                        .unwrap_or_else(|err| panic!("not JSON ({err}): {body}"));
                    return (status, json);
                }
                Err(_) if started.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(err) => panic!(
                    "no answer on port {} after a minute ({err}):\n{}",
                    self.port,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What nixpacks gives every command: rvenv without the developer's settings, the temp dir's
/// cache, no pip.conf, and the base interpreter first on PATH.
fn nixpacks_rvenv(dir: &Path, path: &std::ffi::OsStr) -> Command {
    let mut command = rvenv(&dir.join("cache"));
    command
        .env("PATH", path)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PYTHONHOME")
        .env_remove("PYTHONPATH");
    command
}

#[test]
fn fastapi_app_deploys_as_nixpacks_runs_it() {
    let temp = TempDir::new().unwrap();
    let dir = temp.path();
    // Readable by every user, so the venv can be tried as `nobody` below.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let base = FakeBase::new(dir.join("nix-store-python"));
    let base_before = snapshot(&base.root);
    let app = dir.join("app");
    run_ok(Command::new("cp").arg("-a").arg(APP).arg(&app));
    let prefix = dir.join("opt-venv");

    // The base refuses installs, as Nix's and Debian's Pythons do.
    let system_install = run(nixpacks_rvenv(dir, &path_with(&[&base.root.join("bin")]))
        .args(["install", "--system", "-r", "backend/requirements.txt"])
        .current_dir(&app));
    assert_ne!(system_install.status, Some(0), "{}", system_install.stderr);
    assert!(
        system_install.stderr.contains("externally managed")
            && system_install.stderr.contains("part of the Nix store"),
        "{}",
        system_install.stderr
    );

    // 1. `rvenv create /opt/venv`, with the base interpreter found on PATH.
    let base_path = path_with(&[&base.root.join("bin")]);
    let created = run_ok(nixpacks_rvenv(dir, &base_path).arg("create").arg(&prefix));
    assert!(created.stderr.contains("Created"), "{}", created.stderr);
    let cfg = std::fs::read_to_string(prefix.join("pyvenv.cfg")).unwrap();
    assert!(
        cfg.contains(&format!("home = {}", base.root.join("bin").display())),
        "the venv is not based on the fake base:\n{cfg}"
    );

    // 2. `rvenv install -r backend/requirements.txt` from the app's root, the venv first on PATH
    //    and no VIRTUAL_ENV: it finds the venv through the python on PATH.
    let venv_path = path_with(&[&prefix.join("bin"), &base.root.join("bin")]);
    let installed = run_ok(
        nixpacks_rvenv(dir, &venv_path)
            .args(["install", "-r", "backend/requirements.txt"])
            .current_dir(&app),
    );
    assert!(
        installed
            .stderr
            .contains(&format!("Installing into {}", prefix.display())),
        "{}",
        installed.stderr
    );
    for package in [
        "fastapi",
        "uvicorn",
        "python-dotenv",
        "starlette",
        "pydantic",
    ] {
        assert!(
            installed.stderr.contains(&format!(" + {package}==")),
            "{package} not installed:\n{}",
            installed.stderr
        );
    }

    // 4. Again, with VIRTUAL_ENV set: a no-op that needs no network (the index is unreachable).
    let again = run_ok(
        nixpacks_rvenv(dir, &venv_path)
            .env("VIRTUAL_ENV", &prefix)
            .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
            .args(["install", "-r", "backend/requirements.txt"])
            .current_dir(&app),
    );
    assert!(again.stderr.contains("Audited"), "{}", again.stderr);
    assert!(!again.stderr.contains(" + "), "{}", again.stderr);

    assert_unchanged(&base_before, &snapshot(&base.root));

    // 3. Both ways of starting the app answer with its JSON. PYTHONDONTWRITEBYTECODE as nixpacks
    //    images set it; the second server gets APP_ENV from backend/.env through python-dotenv.
    let backend = app.join("backend");
    let port = free_port();
    let mut server = Server::start(
        Command::new(prefix.join("bin/python"))
            .args(["-m", "uvicorn", "main:app", "--port", &port.to_string()])
            .env("APP_ENV", "nixpacks")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PATH", &venv_path)
            .current_dir(&backend),
        port,
        dir.join("uvicorn-module.log"),
    );
    let (status, json) = server.get_root();
    assert_eq!(status, 200);
    assert_eq!(
        json,
        serde_json::json!({"app": "rvenv-sample", "status": "ok", "env": "nixpacks"})
    );
    drop(server);
    assert!(http_get(port).is_err(), "the server still answers");

    std::fs::write(backend.join(".env"), "APP_ENV=from-dotenv\n").unwrap();
    let port = free_port();
    let mut server = Server::start(
        Command::new(prefix.join("bin/uvicorn"))
            .args(["main:app", "--port", &port.to_string()])
            .env_remove("APP_ENV")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PATH", &venv_path)
            .current_dir(&backend),
        port,
        dir.join("uvicorn-script.log"),
    );
    let (status, json) = server.get_root();
    assert_eq!(status, 200);
    assert_eq!(json["env"], "from-dotenv");
    drop(server);
    assert!(http_get(port).is_err(), "the server still answers");

    // The venv works for any user, not only the one (root, in a build) that made it.
    // LD_LIBRARY_PATH only because `nobody` cannot read the pyenv prefix (in root's home) that the
    // base executable's RUNPATH names; the venv's own files are what this checks.
    if run(Command::new("id").arg("-u")).stdout.trim() == "0" {
        let as_nobody = run(Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(prefix.join("bin/python"))
            .args(["-c", "import fastapi, uvicorn, dotenv; print('ok')"])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("LD_LIBRARY_PATH", base.root.join("lib")));
        assert_eq!(
            (as_nobody.status, as_nobody.stdout.trim()),
            (Some(0), "ok"),
            "{}",
            as_nobody.stderr
        );
    }

    // 4. `rvenv create PREFIX` again is a no-op: nothing in the venv changes.
    let venv_before = snapshot(&prefix);
    let recreated = run_ok(nixpacks_rvenv(dir, &venv_path).arg("create").arg(&prefix));
    assert!(
        recreated.stderr.contains("nothing to do"),
        "{}",
        recreated.stderr
    );
    assert_eq!(
        venv_before,
        snapshot(&prefix),
        "create changed the existing venv"
    );

    // 5. `rvenv create --seed PREFIX2`: a venv with a working pip, from the base's bundled wheel.
    let seeded = dir.join("seeded");
    run_ok(
        nixpacks_rvenv(dir, &base_path)
            .args(["create", "--seed"])
            .arg(&seeded),
    );
    let pip = run_ok(Command::new(seeded.join("bin/pip")).arg("--version"));
    assert!(
        pip.stdout.starts_with("pip ") && pip.stdout.contains(&seeded.display().to_string()),
        "{}",
        pip.stdout
    );

    assert_unchanged(&base_before, &snapshot(&base.root));
    assert!(base.stdlib.join("EXTERNALLY-MANAGED").is_file());
}
