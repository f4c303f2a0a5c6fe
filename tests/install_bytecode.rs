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

/// A wheel with modules in its root and in `.data/purelib`, a module that does not compile and
/// a `.py` script.
fn wheel_with_sources() -> Vec<rvenv_testkit::BuiltFile> {
    vec![rvenv_testkit::WheelBuilder::new("pkg", "1.0")
        .file("pkg/__init__.py", "from pkg import mod\nVALUE = mod.X\n")
        .file("pkg/mod.py", "X = 42\n")
        .file("pkg/legacy.py", "print 'python 2'\n")
        .data_file("purelib", "extra.py", "Y = 7\n")
        .data_file("scripts", "tool.py", "print('tool')\n")
        .build()]
}

/// The `co_filename` recorded in a `.pyc` file.
fn co_filename(pyc: &Path) -> String {
    rvenv_e2e::run_stdout(Command::new("python3").arg("-c").arg(
        "import marshal, sys; print(marshal.loads(open(sys.argv[1], 'rb').read()[16:]).co_filename)",
    ).arg(pyc))
    .trim()
    .to_string()
}

#[test]
fn a_cold_install_compiles_into_the_cache_and_links_valid_bytecode() {
    let server = IndexServer::start(wheel_with_sources());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    sandbox.install(&["-i", &server.url(), "pkg"]).success();
    let site = site_packages(&venv);
    let installed = pycs(&venv);
    let names: Vec<&str> = installed.keys().map(String::as_str).collect();
    assert!(
        [
            "pkg/__pycache__/__init__.",
            "pkg/__pycache__/mod.",
            "__pycache__/extra."
        ]
        .iter()
        .all(|prefix| names.iter().any(|name| name.starts_with(prefix))),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|name| name.contains("legacy")),
        "{names:?}"
    );
    // The `.py` script is compiled too, as pip compiles it.
    assert!(
        std::fs::read_dir(venv.join("bin/__pycache__"))
            .unwrap()
            .any(|entry| entry
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("tool.")),
        "the script's bytecode is missing"
    );

    // The bytecode was compiled into the cache before the install, which linked it: every
    // `.pyc` in site-packages is a file of the cache's bytecode entry.
    let mut cached = BTreeMap::new();
    let bucket = std::fs::read_dir(sandbox.cache())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("bytecode"))
        })
        .expect("a bytecode bucket in the cache");
    fn inodes(dir: &Path, into: &mut BTreeMap<u64, std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                inodes(&path, into);
            } else if path
                .parent()
                .is_some_and(|dir| dir.ends_with("__pycache__"))
            {
                into.insert(std::fs::metadata(&path).unwrap().ino(), path);
            }
        }
    }
    inodes(&bucket, &mut cached);
    assert_eq!(cached.len(), installed.len(), "{cached:?}");
    for (name, (ino, _)) in &installed {
        assert!(
            cached.contains_key(ino),
            "{name} is not linked from the cache"
        );
    }
    // Compiled for the installed path, as compiling in place would.
    let init = installed
        .keys()
        .find(|name| name.starts_with("pkg/__pycache__/__init__."))
        .unwrap();
    assert_eq!(
        co_filename(&site.join(init)),
        site.join("pkg/__init__.py").display().to_string()
    );

    // Python finds the bytecode valid (source mtime and size match): importing rewrites none.
    let output = Command::new(venv.join("bin/python"))
        .args(["-c", "import pkg, extra; print(pkg.VALUE + extra.Y)"])
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "49");
    assert_eq!(pycs(&venv), installed, "importing recompiled the bytecode");
    let verbose = Command::new(venv.join("bin/python"))
        .args(["-v", "-c", "import pkg, extra"])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&verbose.stderr);
    assert!(
        log.contains(&format!("matches {}", site.join("pkg/mod.py").display())),
        "{log}"
    );
    assert!(!log.contains("bytecode is stale"), "{log}");

    // RECORD lists the linked bytecode.
    let record = std::fs::read_to_string(site.join("pkg-1.0.dist-info/RECORD")).unwrap();
    assert!(
        record
            .lines()
            .any(|line| line.starts_with("pkg/__pycache__/mod.")),
        "{record}"
    );
}

#[test]
fn no_compile_keeps_no_bytecode_in_the_cache() {
    let server = IndexServer::start(wheel_with_sources());
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    sandbox
        .install(&["-i", &server.url(), "pkg", "--no-compile"])
        .success();
    let buckets: Vec<String> = std::fs::read_dir(sandbox.cache())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !buckets.iter().any(|name| name.starts_with("bytecode")),
        "{buckets:?}"
    );
}

#[test]
fn a_local_wheel_file_gets_valid_bytecode_too() {
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let wheel = wheel_with_sources().remove(0).write_to(sandbox.path());
    sandbox.install(&[wheel.to_str().unwrap()]).success();
    let installed = pycs(&venv);
    assert!(
        installed
            .keys()
            .any(|name| name.starts_with("pkg/__pycache__/mod.")),
        "{installed:?}"
    );
    assert_imports_without_recompiling(&venv, &installed, "");
}

/// Imports `pkg` and `extra` in `venv`, writing bytecode if Python wants to: the `.pyc` files
/// must stay those `installed` (`context` names the case in failures).
fn assert_imports_without_recompiling(
    venv: &Path,
    installed: &BTreeMap<String, (u64, i64)>,
    context: &str,
) {
    let status = Command::new(venv.join("bin/python"))
        .args(["-c", "import pkg, extra"])
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .status()
        .unwrap();
    assert!(status.success(), "{context}");
    assert_eq!(&pycs(venv), installed, "{context}: importing recompiled");
}

/// The files named `name` below `dir`.
fn find_named(dir: &Path, name: &str, into: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            find_named(&path, name, into);
        } else if path.file_name().is_some_and(|found| found == name) {
            into.push(path);
        }
    }
}

/// The `.pyc` rows of a RECORD, each path with how many rows name it and whether its hash is
/// the one of the file on disk.
fn pyc_rows(site: &Path, dist_info: &str) -> BTreeMap<String, (usize, bool)> {
    let record = std::fs::read_to_string(site.join(dist_info).join("RECORD")).unwrap();
    let mut rows: BTreeMap<String, (usize, bool)> = BTreeMap::new();
    for line in record.lines().filter(|line| line.contains(".pyc,")) {
        let mut fields = line.split(',');
        let (path, hash) = (fields.next().unwrap(), fields.next().unwrap());
        let on_disk = rvenv_e2e::run_stdout(Command::new("python3").arg("-c").arg(
            "import base64, hashlib, sys; d = hashlib.sha256(open(sys.argv[1], 'rb').read()).digest(); print('sha256=' + base64.urlsafe_b64encode(d).decode().rstrip('='))",
        ).arg(site.join(path)));
        let row = rows.entry(path.to_string()).or_default();
        row.0 += 1;
        row.1 = on_disk.trim() == hash;
    }
    rows
}

/// A bytecode cache entry that lost a file, or whose manifest is garbled, costs compiling again:
/// the install succeeds with valid bytecode, each `.pyc` listed once in RECORD with its hash;
/// so does reinstalling over an environment that has the bytecode already.
#[test]
fn a_broken_bytecode_cache_entry_is_compiled_again() {
    let server = IndexServer::start(wheel_with_sources());
    let index = server.url();
    let sandbox = Sandbox::new();
    let first = sandbox.create_venv();
    sandbox.install(&["-i", &index, "pkg"]).success();
    let expected = pycs(&first);
    let mut manifests = Vec::new();
    find_named(&sandbox.cache(), "RECORD.pyc", &mut manifests);
    assert_eq!(manifests.len(), 1, "{manifests:?}");
    let entry = manifests[0].parent().unwrap().to_path_buf();
    let mut lost = Vec::new();
    let mod_pyc = expected
        .keys()
        .find(|name| name.starts_with("pkg/__pycache__/mod."))
        .unwrap();
    find_named(
        &entry,
        Path::new(mod_pyc).file_name().unwrap().to_str().unwrap(),
        &mut lost,
    );
    std::fs::remove_file(&lost[0]).unwrap();

    let manifest = manifests[0].clone();
    let garble = move || std::fs::write(&manifest, "not,a\r\nmanifest\r\n").unwrap();
    for (name, breakage) in [("lost-file", None), ("garbled", Some(garble))] {
        if let Some(breakage) = breakage {
            breakage();
        }
        let venv = sandbox.path().join(name);
        run(sandbox
            .command()
            .args(["create", name, "--python", rvenv_e2e::TEST_PYTHON]))
        .success();
        for reinstall in [false, true] {
            let mut args = vec!["install", "--venv", name, "-i", &index, "pkg"];
            if reinstall {
                args.push("--force-reinstall");
            }
            run(sandbox.command().args(&args)).success();
            let installed = pycs(&venv);
            assert_eq!(
                installed.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "{name}, reinstall: {reinstall}"
            );
            let rows = pyc_rows(&site_packages(&venv), "pkg-1.0.dist-info");
            // (Compiling also compiles the script `tool.py`, which the cache does not keep.)
            assert_eq!(
                rows.keys()
                    .filter(|path| !path.starts_with("../"))
                    .collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "{name}"
            );
            assert!(
                rows.values().all(|&(count, hashed)| count == 1 && hashed),
                "{name}, reinstall: {reinstall}: {rows:?}"
            );
            assert_imports_without_recompiling(&venv, &installed, name);
        }
    }
}
