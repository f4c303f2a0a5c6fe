//! A real private index: pypiserver (from PyPI) on loopback behind an htpasswd file, with wheels
//! built here and uploaded to it over HTTP. rvenv installs from it with credentials in the URL
//! and from a netrc file; wrong or missing credentials give an error (pypiserver answers 403 and
//! 401) that names the index and shows no secret.
//!
//! pypiserver is installed once into `target/tmp/` (reused by later runs); without access to
//! PyPI the test says so and passes without checking anything.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test hardening_private_index`.

mod hardening;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hardening::{assert_cache_consistent, Snapshot};
use rvenv_e2e::{assert_installed, Sandbox, TEST_PYTHON};
use rvenv_testkit::WheelBuilder;

const PYPISERVER: &str = "pypiserver[passlib]==2.4.2";
const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pw";

/// A venv holding pypiserver and passlib, built once per target directory; `None` when PyPI
/// cannot be reached.
fn tools() -> Option<&'static Path> {
    static TOOLS: OnceLock<Option<PathBuf>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pypiserver-2.4.2");
            if dir.join(".complete").exists() {
                return Some(dir);
            }
            // Built aside and renamed into place, so a concurrent run never sees half of it.
            let building = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
            let venv = building.path().join("venv");
            let created = Command::new(TEST_PYTHON)
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .unwrap();
            assert!(created.success());
            let installed = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--timeout", "20", PYPISERVER])
                .env("PIP_CONFIG_FILE", "/dev/null")
                .output()
                .unwrap();
            if !installed.status.success() {
                eprintln!(
                    "skipped: cannot install {PYPISERVER} from PyPI:\n{}",
                    String::from_utf8_lossy(&installed.stderr)
                );
                return None;
            }
            std::fs::write(venv.join(".complete"), "").unwrap();
            if std::fs::rename(&venv, &dir).is_err() && !dir.join(".complete").exists() {
                panic!("cannot move the pypiserver venv to {}", dir.display());
            }
            Some(dir)
        })
        .as_deref()
}

/// A running pypiserver; stopped on drop.
struct PypiServer {
    child: Child,
    port: u16,
}

impl PypiServer {
    /// Serves `packages` (a directory) on loopback; every action needs the htpasswd users.
    fn start(tools: &Path, packages: &Path, htpasswd: &Path) -> PypiServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // `python -m`: the venv was moved into place, so its scripts' shebangs are stale.
        let child = Command::new(tools.join("bin/python"))
            .args([
                "-m",
                "pypiserver",
                "run",
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .args(["-a", "update,download,list", "-P"])
            .arg(htpasswd)
            // Never send unknown projects to pypi.org.
            .arg("--disable-fallback")
            .arg(packages)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = PypiServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "pypiserver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }

    fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}/simple/", self.port)
    }
}

impl Drop for PypiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Uploads `wheel` the way twine does (multipart POST, `:action=file_upload`).
const UPLOAD: &str = r#"
import base64, os, sys, urllib.request, uuid
url, user, password, path = sys.argv[1:]
boundary = uuid.uuid4().hex
with open(path, "rb") as f:
    data = f.read()
head = (
    f"--{boundary}\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n"
    f"--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; "
    f"filename=\"{os.path.basename(path)}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
)
body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
token = base64.b64encode(f"{user}:{password}".encode()).decode()
request = urllib.request.Request(url, data=body, method="POST", headers={
    "Content-Type": f"multipart/form-data; boundary={boundary}",
    "Authorization": f"Basic {token}",
})
with urllib.request.urlopen(request) as response:
    assert response.status == 200, response.status
"#;

#[test]
fn installs_from_pypiserver_with_url_and_netrc_credentials_and_hides_the_secret() {
    let Some(tools) = tools() else {
        return;
    };
    let sandbox = Sandbox::new();
    let packages = sandbox.path().join("packages");
    std::fs::create_dir(&packages).unwrap();
    let htpasswd = sandbox.path().join("htpasswd");
    let hashed = Command::new(tools.join("bin/python"))
        .args([
            "-c",
            "import sys; from passlib.apache import HtpasswdFile as F; \
             f = F(sys.argv[1], new=True); f.set_password(sys.argv[2], sys.argv[3]); f.save()",
        ])
        .arg(&htpasswd)
        .args([USER, PASSWORD])
        .status()
        .unwrap();
    assert!(hashed.success());
    let server = PypiServer::start(tools, &packages, &htpasswd);

    let built = sandbox.path().join("built");
    std::fs::create_dir(&built).unwrap();
    for wheel in [
        WheelBuilder::new("private-app", "1.0")
            .requires_dist("private-lib>=1.0")
            .entry_point("console_scripts", "private-app", "private_app:main")
            .file(
                "private_app/__init__.py",
                "def main():\n    print('private')\n",
            ),
        WheelBuilder::new("private-lib", "1.0"),
    ] {
        let path = wheel.write_to(&built);
        let uploaded = Command::new(tools.join("bin/python"))
            .args(["-c", UPLOAD, &format!("http://127.0.0.1:{}/", server.port)])
            .args([USER, PASSWORD])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            uploaded.status.success(),
            "upload of {}: {}",
            path.display(),
            String::from_utf8_lossy(&uploaded.stderr)
        );
    }
    assert_eq!(std::fs::read_dir(&packages).unwrap().count(), 2);

    let no_secret = |run: &rvenv_e2e::Run, secret: &str| {
        assert!(
            !run.stderr.contains(secret) && !run.stdout.contains(secret),
            "{secret} printed:\n{}",
            run.stderr
        );
    };
    let expected = [("private-app", "1.0"), ("private-lib", "1.0")];

    // Credentials in the URL.
    let venv = sandbox.create_venv();
    let run = sandbox
        .install(&["-i", &server.url_with(USER, PASSWORD), "private-app"])
        .success();
    no_secret(&run, PASSWORD);
    assert_installed(&venv, &expected);
    let launcher = rvenv_e2e::run(&mut Command::new(venv.join("bin/private-app"))).success();
    assert_eq!(launcher.stdout, "private\n");

    // Credentials from netrc, into a second venv with an empty cache.
    let other = sandbox.path().join("other");
    rvenv_e2e::run(
        sandbox
            .command()
            .args(["create", "other", "--python", TEST_PYTHON]),
    )
    .success();
    let netrc = sandbox.write(
        "netrc",
        &format!("machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n"),
    );
    let mut command = sandbox.command();
    command
        .args(["install", "--venv", other.to_str().unwrap(), "--no-cache"])
        .args(["-i", &server.url(), "private-app"])
        .env("NETRC", &netrc);
    let run = rvenv_e2e::run(&mut command).success();
    no_secret(&run, PASSWORD);
    assert_installed(&other, &expected);

    // Wrong and missing credentials: a 401 naming the index (redacted), no secret, no change.
    let third = sandbox.path().join("third");
    rvenv_e2e::run(
        sandbox
            .command()
            .args(["create", "third", "--python", TEST_PYTHON]),
    )
    .success();
    let before = Snapshot::of(&third);
    let port = server.port;
    // pypiserver answers a wrong password with 403, and no credentials with 401.
    for (index, names_index) in [
        (
            server.url_with(USER, "wrong-pw"),
            format!(
                "403 (index http://alice:****@127.0.0.1:{port}/simple/; credentials: from the URL)\n  hint: the credentials were refused"
            ),
        ),
        (
            server.url(),
            format!(
                "401 (index http://127.0.0.1:{port}/simple/; credentials: none)\n  hint: this index needs credentials"
            ),
        ),
    ] {
        let run = rvenv_e2e::run(sandbox.command().args([
            "install",
            "--venv",
            third.to_str().unwrap(),
            "-i",
            &index,
            "private-app",
        ]))
        .failure();
        run.assert_stderr_contains(&format!(
            "http://127.0.0.1:{port}/simple/private-app/ answered {names_index}"
        ));
        no_secret(&run, "wrong-pw");
        no_secret(&run, PASSWORD);
        before.assert_unchanged(&third, "401");
    }
    assert_cache_consistent(&sandbox.cache());
}
