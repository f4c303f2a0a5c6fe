//! Bytecode is compiled once per wheel and interpreter, kept in the cache, and linked into later
//! environments; Python accepts the linked `.pyc` files without recompiling.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use rvenv_e2e::{fixtures, run, site_packages, Sandbox};
use rvenv_testkit::IndexServer;

/// Every `.pyc` under site-packages with its inode and modification time.
fn pycs(venv: &Path) -> BTreeMap<String, (u64, i64)> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<String, (u64, i64)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, into);
            } else if path.extension().is_some_and(|ext| ext == "pyc") {
                let meta = std::fs::metadata(&path).unwrap();
                let name = path.strip_prefix(root).unwrap().display().to_string();
                into.insert(name, (meta.ino(), meta.mtime()));
            }
        }
    }
    let site = site_packages(venv);
    let mut found = BTreeMap::new();
    walk(&site, &site, &mut found);
    found
}

#[test]
fn a_second_environment_links_cached_bytecode_that_python_accepts() {
    let server = IndexServer::start(fixtures::app_and_lib());
    let sandbox = Sandbox::new();
    let first = sandbox.create_venv();
    sandbox.install(&["-i", &server.url(), "app"]).success();
    let compiled = pycs(&first);
    assert!(
        compiled
            .keys()
            .any(|name| name.starts_with("app/__pycache__/__init__.")),
        "{compiled:?}"
    );

    // A second venv from the same cache: no Python compile step, the same bytecode.
    let second = sandbox.path().join("second");
    run(sandbox
        .command()
        .args(["create", "second", "--python", rvenv_e2e::TEST_PYTHON]))
    .success();
    run(sandbox.command().args([
        "install",
        "--venv",
        "second",
        "-i",
        &server.url(),
        "app",
        "--link-mode",
        "copy",
    ]))
    .success();
    let linked = pycs(&second);
    assert_eq!(
        linked.keys().collect::<Vec<_>>(),
        compiled.keys().collect::<Vec<_>>()
    );

    // RECORD lists the bytecode, as pip's does.
    let site = site_packages(&second);
    let record = std::fs::read_to_string(site.join("app-1.0.dist-info/RECORD")).unwrap();
    assert!(
        record
            .lines()
            .any(|line| line.starts_with("app/__pycache__/__init__.") && line.contains("sha256=")),
        "{record}"
    );

    // Python trusts the linked bytecode: importing rewrites none of it.
    let status = Command::new(second.join("bin/python"))
        .args(["-c", "import app; app.main()"])
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        pycs(&second),
        linked,
        "importing recompiled cached bytecode"
    );

    // And the real pip removes it all again.
    let status = Command::new("python3")
        .args(["-m", "pip", "--python"])
        .arg(second.join("bin/python"))
        .args(["uninstall", "-y", "-q", "app"])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(!site.join("app").exists());
}

#[test]
fn no_compile_writes_no_bytecode() {
    let server = IndexServer::start(fixtures::app_and_lib());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    sandbox
        .install(&["-i", &server.url(), "app", "--no-compile"])
        .success();
    assert!(pycs(&venv).is_empty());
}
