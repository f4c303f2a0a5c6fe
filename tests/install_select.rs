//! Which files `rvenv install` chooses and trusts: pre-releases, yanked files, Requires-Python,
//! wheel tags, and hash-checking mode.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test install_select`.

use rvenv_e2e::{assert_installed, site_packages, Sandbox};
use rvenv_testkit::{IndexServer, SdistBuilder, ServedFile, WheelBuilder};

/// A dry run of `requirements` against `server`; the `+ name==version` lines.
fn would_install(sandbox: &Sandbox, server: &IndexServer, args: &[&str]) -> Vec<String> {
    let index = server.url();
    let mut all = vec!["-i", index.as_str(), "--dry-run"];
    all.extend(args);
    sandbox.install(&all).success().changes()
}

#[test]
fn pre_releases_only_with_pre_or_when_named() {
    let server = IndexServer::start([
        WheelBuilder::new("lib", "1.0").build(),
        WheelBuilder::new("lib", "2.0b1").build(),
        WheelBuilder::new("only-pre", "1.0rc1").build(),
    ]);
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    assert_eq!(would_install(&sandbox, &server, &["lib"]), ["+ lib==1.0"]);
    assert_eq!(
        would_install(&sandbox, &server, &["--pre", "lib"]),
        ["+ lib==2.0b1"]
    );
    assert_eq!(
        would_install(&sandbox, &server, &["lib==2.0b1"]),
        ["+ lib==2.0b1"]
    );
    assert_eq!(
        would_install(&sandbox, &server, &["lib>=2.0b1"]),
        ["+ lib==2.0b1"]
    );
    // As pip: when nothing else satisfies, a pre-release is taken.
    assert_eq!(
        would_install(&sandbox, &server, &["only-pre"]),
        ["+ only-pre==1.0rc1"]
    );
    let requirements = sandbox.write("requirements.txt", "--pre\nlib\n");
    assert_eq!(
        would_install(&sandbox, &server, &["-r", requirements.to_str().unwrap()]),
        ["+ lib==2.0b1"]
    );
}

#[test]
fn yanked_files_only_when_pinned() {
    let server = IndexServer::builder()
        .file(WheelBuilder::new("lib", "1.0").build())
        .file(ServedFile::new(WheelBuilder::new("lib", "2.0").build()).yanked("broken"))
        .start();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    assert_eq!(would_install(&sandbox, &server, &["lib"]), ["+ lib==1.0"]);
    assert_eq!(
        would_install(&sandbox, &server, &["lib==2.0"]),
        ["+ lib==2.0"]
    );
}

#[test]
fn requires_python_excludes_versions_for_newer_pythons() {
    // The venv runs Python 3.11.
    let server = IndexServer::start([
        WheelBuilder::new("lib", "1.0")
            .requires_python(">=3.8")
            .build(),
        WheelBuilder::new("lib", "2.0")
            .requires_python(">=3.12")
            .build(),
    ]);
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    assert_eq!(would_install(&sandbox, &server, &["lib"]), ["+ lib==1.0"]);
    let run = sandbox
        .install(&["-i", &server.url(), "--dry-run", "lib==2.0"])
        .failure();
    let python = rvenv_e2e::run(
        std::process::Command::new(rvenv_e2e::TEST_PYTHON)
            .args(["-c", "import platform; print(platform.python_version())"]),
    )
    .success()
    .stdout;
    run.assert_stderr_line(&format!(
        "  - no version of lib matches ==2.0: lib 2.0 requires Python >=3.12 (the target is Python {}); the newest usable version is 1.0",
        python.trim()
    ));
}

#[test]
fn picks_the_most_specific_wheel_for_the_interpreter() {
    let native = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64";
    let server = IndexServer::start([
        WheelBuilder::new("fast", "1.0")
            .file("fast/__init__.py", "KIND = 'pure'\n")
            .build(),
        WheelBuilder::new("fast", "1.0")
            .tag(native)
            .file("fast/__init__.py", "KIND = 'native'\n")
            .build(),
        // A newer version with only a wheel for another Python is not installable here.
        WheelBuilder::new("fast", "2.0")
            .tag("cp312-cp312-manylinux_2_17_x86_64")
            .build(),
        WheelBuilder::new("fast", "2.0")
            .tag("cp311-cp311-win_amd64")
            .build(),
    ]);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let run = sandbox.install(&["-i", &server.url(), "fast"]).success();
    assert_eq!(run.changes(), ["+ fast==1.0"]);
    let site = site_packages(&venv);
    assert_eq!(
        std::fs::read_to_string(site.join("fast/__init__.py")).unwrap(),
        "KIND = 'native'\n"
    );
    let wheel = std::fs::read_to_string(site.join("fast-1.0.dist-info/WHEEL")).unwrap();
    assert!(
        wheel.contains("Tag: cp311-cp311-manylinux_2_17_x86_64"),
        "{wheel}"
    );
}

fn lib_server() -> (IndexServer, String) {
    let lib = WheelBuilder::new("lib", "1.0").build();
    let sha256 = lib.sha256.clone();
    (IndexServer::start([lib]), sha256)
}

/// The entries of the cache's wheel bucket whose names mention `lib`.
fn cached_lib_entries(sandbox: &Sandbox) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![sandbox.cache()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("lib-1.0") || name == "lib-1.0.dist-info" {
                found.push(path.display().to_string());
            } else if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found
}

#[test]
fn a_right_hash_installs() {
    let (server, sha256) = lib_server();
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let requirements = sandbox.write(
        "requirements.txt",
        &format!("lib==1.0 --hash=sha256:{sha256}\n"),
    );
    sandbox
        .install(&["-i", &server.url(), "-r", requirements.to_str().unwrap()])
        .success();
    assert_installed(&venv, &[("lib", "1.0")]);
}

#[test]
fn a_wrong_hash_is_refused_and_nothing_is_kept() {
    let (server, sha256) = lib_server();
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let wrong = "0".repeat(64);
    let requirements = sandbox.write(
        "requirements.txt",
        &format!("lib==1.0 --hash=sha256:{wrong}\n"),
    );
    let run = sandbox
        .install(&["-i", &server.url(), "-r", requirements.to_str().unwrap()])
        .failure();
    run.assert_stderr_contains("lib-1.0-py3-none-any.whl");
    run.assert_stderr_line(&format!("  expected: sha256:{wrong}"));
    run.assert_stderr_line(&format!("  actual:   sha256:{sha256}"));
    assert_installed(&venv, &[]);
    assert_eq!(cached_lib_entries(&sandbox), Vec::<String>::new());
}

#[test]
fn a_wrong_hash_is_refused_when_the_index_gives_none() {
    let lib = WheelBuilder::new("lib", "1.0").build();
    let sha256 = lib.sha256.clone();
    // An HTML index without hash fragments would be the same; a find-links dir has no hashes.
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    rvenv_testkit::write_find_links_dir(sandbox.path().join("wheels"), &[lib]);
    let wrong = "f".repeat(64);
    let requirements = sandbox.write(
        "requirements.txt",
        &format!("lib==1.0 --hash=sha256:{wrong}\n"),
    );
    let run = sandbox
        .install(&[
            "--no-index",
            "-f",
            "wheels",
            "-r",
            requirements.to_str().unwrap(),
        ])
        .failure();
    run.assert_stderr_line(&format!("  actual:   sha256:{sha256}"));
    assert_installed(&venv, &[]);
    assert_eq!(cached_lib_entries(&sandbox), Vec::<String>::new());
}

#[test]
fn hash_mode_requires_every_requirement_pinned_and_hashed() {
    let (server, sha256) = lib_server();
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let requirements = sandbox.write(
        "requirements.txt",
        &format!("lib==1.0 --hash=sha256:{sha256}\nother>=1\n"),
    );
    let run = sandbox
        .install(&["-i", &server.url(), "-r", requirements.to_str().unwrap()])
        .failure();
    let file = requirements.display();
    run.assert_stderr_line(&format!(
        "  {file}:2: `other>=1` is not pinned with `==` and has no --hash"
    ));
    assert_installed(&venv, &[]);
    assert_eq!(
        server.request_count(),
        0,
        "hash mode was checked after the network"
    );
}

#[test]
fn a_wheel_is_chosen_over_the_sdist_of_the_same_version() {
    let server = IndexServer::start([
        SdistBuilder::new("lib", "1.0").build(),
        WheelBuilder::new("lib", "1.0").build(),
    ]);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    sandbox.install(&["-i", &server.url(), "lib"]).success();
    assert_installed(&venv, &[("lib", "1.0")]);
    let requests = server.requests();
    assert!(
        requests.iter().all(|r| !r.path.contains(".tar.gz")),
        "{requests:#?}"
    );
}

#[test]
fn hash_mode_refuses_dependencies_the_file_does_not_pin() {
    let app = WheelBuilder::new("app", "1.0").requires_dist("lib").build();
    let lib = WheelBuilder::new("lib", "1.0").build();
    let line = format!("app==1.0 --hash=sha256:{}\n", app.sha256);
    let lib_line = format!(
        "  lib==1.0 --hash=sha256:{}  # required by app 1.0",
        lib.sha256
    );
    let server = IndexServer::start([app, lib]);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let requirements = sandbox.write("requirements.txt", &line);
    let run = sandbox
        .install(&["-i", &server.url(), "-r", requirements.to_str().unwrap()])
        .failure();
    run.assert_stderr_line(
        "error: hash-checking mode is on, so every package to install needs a --hash; 1 has none:",
    );
    run.assert_stderr_line(&lib_line);
    assert_installed(&venv, &[]);
    let downloads = server.requests();
    assert!(
        downloads.iter().all(|r| !r.path.ends_with(".whl")),
        "{downloads:#?}"
    );
}
