//! The static release build (issue 6): one binary that loads no shared object, so nixpacks'
//! LD_LIBRARY_PATH (pointing at Nix's libraries) and the image's glibc cannot break it.
//!
//! A release build for the musl target takes minutes, so this test only runs when asked:
//!
//!     RVENV_TEST_STATIC=1 cargo test -p rvenv-e2e --test static_build      # builds it first
//!     RVENV_STATIC_BIN=path/to/rvenv cargo test -p rvenv-e2e --test static_build
//!
//! `.ci/run` builds it with scripts/build-static.sh and passes RVENV_STATIC_BIN. The smoke test:
//! `file` says statically linked; `rvenv --version`, `rvenv create` and an install of the sample
//! app's requirements from real PyPI work with LD_LIBRARY_PATH pointing at a directory of junk
//! `.so` files named like the libraries a dynamic build would load; the app's modules import.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

const REQUIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/fastapi-app/backend/requirements.txt"
);

/// The static binary to test, or None (with the reason printed) when not asked to.
fn static_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RVENV_STATIC_BIN") {
        return Some(PathBuf::from(path));
    }
    if std::env::var_os("RVENV_TEST_STATIC").is_none_or(|value| value != "1") {
        eprintln!(
            "skipped: set RVENV_TEST_STATIC=1 to build the static binary with \
             scripts/build-static.sh and smoke-test it, or RVENV_STATIC_BIN=PATH to test one"
        );
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-static.sh");
    let output = Command::new(&script)
        .output()
        .expect("scripts/build-static.sh starts");
    assert!(
        output.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = stdout
        .lines()
        .last()
        .expect("the script prints the binary's path");
    Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(path.trim()))
}

fn run_ok(command: &mut Command) -> String {
    let shown = format!("{command:?}");
    let output = command.output().expect("the command starts");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(
        output.status.success(),
        "{shown} failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    stdout + &stderr
}

#[test]
fn static_binary_runs_with_junk_libraries_on_the_library_path() {
    let Some(binary) = static_binary() else {
        return;
    };
    assert!(binary.is_file(), "{} is missing", binary.display());

    let described = run_ok(Command::new("file").arg("-L").arg(&binary));
    assert!(
        described.contains("statically linked"),
        "not a static binary: {described}"
    );
    assert!(!described.contains("interpreter"), "{described}");

    // Junk where a dynamically linked rvenv would look for its libraries: loading any of them
    // fails ("invalid ELF header"), so only a binary that loads none runs. The dynamic build of
    // this workspace is the control: it must fail where the static one runs.
    let temp = TempDir::new().unwrap();
    let all_junk = junk_dir(
        &temp.path().join("all-junk"),
        &[
            "libc.so.6",
            "libm.so.6",
            "libgcc_s.so.1",
            "libpthread.so.0",
            "libdl.so.2",
            "libssl.so.3",
            "libcrypto.so.3",
            "libz.so.1",
        ],
    );
    // For create and install, which run the (dynamically linked) base Python, only what a
    // glibc-linked Rust program loads beyond the libc and libm that Python needs as well.
    let rust_junk = junk_dir(&temp.path().join("rust-junk"), &["libgcc_s.so.1"]);
    let dynamic = rvenv_e2e::rvenv_bin();
    for junk in [&all_junk, &rust_junk] {
        let control = Command::new(&dynamic)
            .arg("--version")
            .env("LD_LIBRARY_PATH", junk)
            .output()
            .expect("the dynamic rvenv starts");
        assert!(
            !control.status.success(),
            "the junk in {} does not stop the dynamically linked {}",
            junk.display(),
            dynamic.display()
        );
    }

    // The static binary without the developer's settings, as rvenv_e2e::rvenv runs the dynamic one.
    let rvenv = |junk: &Path| {
        let mut command = Command::new(&binary);
        rvenv_e2e::without_user_settings(&mut command)
            .env("LD_LIBRARY_PATH", junk)
            .env("RVENV_CACHE_DIR", temp.path().join("cache"))
            .env("PIP_CONFIG_FILE", "/dev/null");
        command
    };

    let version = run_ok(rvenv(&all_junk).arg("--version"));
    assert!(version.starts_with("rvenv "), "{version}");
    run_ok(rvenv(&all_junk).arg("--help"));

    let venv = temp.path().join("venv");
    let created = run_ok(
        rvenv(&rust_junk)
            .args(["create", "--python", "/usr/bin/python3"])
            .arg(&venv),
    );
    assert!(created.contains("Created"), "{created}");
    let installed = run_ok(
        rvenv(&rust_junk)
            .args(["install", "--venv"])
            .arg(&venv)
            .args(["-r", REQUIREMENTS]),
    );
    assert!(installed.contains(" + fastapi=="), "{installed}");
    let imported = run_ok(
        Command::new(venv.join("bin/python"))
            .args(["-c", "import fastapi, uvicorn, dotenv; print('ok')"]),
    );
    assert_eq!(imported.trim(), "ok");
}

/// A directory holding a file of junk under each of `names`.
fn junk_dir(dir: &Path, names: &[&str]) -> PathBuf {
    std::fs::create_dir(dir).unwrap();
    for name in names {
        std::fs::write(dir.join(name), b"not a shared object").unwrap();
    }
    dir.to_path_buf()
}
