//! `rvenv install` on a venv that already has packages: re-runs without network, upgrades,
//! replacements, reinstalls, packages pip installed, and several runs at once.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test install_changes`.

use std::process::{Command, Stdio};

use rvenv_e2e::fixtures::app_and_lib;
use rvenv_e2e::{assert_installed, installed, run, run_stdout, site_packages, Sandbox};
use rvenv_testkit::{write_find_links_dir, IndexServer, WheelBuilder};

#[test]
fn rerun_is_a_no_op_without_network() {
    let server = IndexServer::start(app_and_lib());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let requirements = sandbox.write("requirements.txt", "app[cli]\nlib>=1\n");
    let index = server.url();
    let args = ["-i", &index, "-r", requirements.to_str().unwrap()];
    sandbox.install(&args).success();
    server.clear_requests();

    let run = sandbox.install(&args).success();
    assert_eq!(server.requests(), []);
    assert!(run.changes().is_empty(), "{}", run.stderr);
    let last = run.stderr_lines().last().copied().unwrap_or_default();
    assert!(last.starts_with("Audited 3 packages in "), "{}", run.stderr);
    assert_installed(&venv, &[("app", "1.0"), ("clitool", "0.5"), ("lib", "2.0")]);
}

#[test]
fn keeps_installed_versions_until_upgrade_then_replaces_the_old_one() {
    let server = IndexServer::start([WheelBuilder::new("lib", "1.0")
        .file("lib/__init__.py", "")
        .file("lib/old.py", "OLD = True\n")
        .build()]);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let index = server.url();
    sandbox.install(&["-i", &index, "lib"]).success();
    server.add_file(
        WheelBuilder::new("lib", "2.0")
            .file("lib/__init__.py", "")
            .file("lib/new.py", "NEW = True\n")
            .build(),
    );

    // pip's only-if-needed: an installed version that satisfies stays.
    let run = sandbox.install(&["-i", &index, "lib"]).success();
    assert!(run.changes().is_empty(), "{}", run.stderr);
    assert_installed(&venv, &[("lib", "1.0")]);

    let run = sandbox.install(&["-i", &index, "-U", "lib"]).success();
    assert_eq!(run.changes(), ["+ lib==2.0", "- lib==1.0"]);
    assert_installed(&venv, &[("lib", "2.0")]);
    let site = site_packages(&venv);
    assert!(!site.join("lib-1.0.dist-info").exists());
    assert!(!site.join("lib/old.py").exists());
    assert!(site.join("lib/new.py").is_file());

    // A requirement the installed version does not meet replaces it too (a downgrade here).
    let run = sandbox.install(&["-i", &index, "lib<2"]).success();
    assert_eq!(run.changes(), ["+ lib==1.0", "- lib==2.0"]);
    assert!(!site.join("lib/new.py").exists());
    assert!(site.join("lib/old.py").is_file());
}

#[test]
fn force_reinstall_restores_a_damaged_package() {
    let server = IndexServer::start(app_and_lib());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let index = server.url();
    sandbox.install(&["-i", &index, "lib==1.0"]).success();
    let init = site_packages(&venv).join("lib/__init__.py");
    std::fs::remove_file(&init).unwrap();

    let run = sandbox
        .install(&["-i", &index, "--force-reinstall", "lib==1.0"])
        .success();
    assert_eq!(run.changes(), ["+ lib==1.0", "- lib==1.0"]);
    assert_eq!(
        std::fs::read_to_string(&init).unwrap(),
        "__version__ = \"1.0\"\n"
    );
    assert_installed(&venv, &[("lib", "1.0")]);
}

#[test]
fn two_runs_at_once_both_succeed_and_install_the_union() {
    let server = IndexServer::start(
        ["one", "two", "three", "four"]
            .map(|name| {
                WheelBuilder::new(name, "1.0")
                    .requires_dist("shared")
                    .build()
            })
            .into_iter()
            .chain([WheelBuilder::new("shared", "1.0").build()]),
    );
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let index = server.url();
    let mut first = sandbox.install_command(&["-i", &index, "one", "two"]);
    let mut second = sandbox.install_command(&["-i", &index, "three", "four"]);
    let first = first.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let second = second.stderr(std::process::Stdio::piped()).spawn().unwrap();
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_installed(
        &venv,
        &[
            ("four", "1.0"),
            ("one", "1.0"),
            ("shared", "1.0"),
            ("three", "1.0"),
            ("two", "1.0"),
        ],
    );
    let shared_dirs = std::fs::read_dir(site_packages(&venv))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("shared-")
        })
        .count();
    assert_eq!(shared_dirs, 1, "shared installed twice");
}

#[test]
fn rerun_of_hashed_pins_is_a_no_op_without_network() {
    let files = app_and_lib();
    let line = |i: usize| {
        format!(
            "{}=={} --hash=sha256:{}\n",
            files[i].name, files[i].version, files[i].sha256
        )
    };
    let text = line(0) + &line(2);
    let server = IndexServer::start(files.clone());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let requirements = sandbox.write("requirements.txt", &text);
    let index = server.url();
    let args = ["-i", &index, "-r", requirements.to_str().unwrap()];
    sandbox.install(&args).success();
    assert_installed(&venv, &[("app", "1.0"), ("lib", "2.0")]);
    server.clear_requests();

    let run = sandbox.install(&args).success();
    assert_eq!(server.requests(), []);
    let last = run.stderr_lines().last().copied().unwrap_or_default();
    assert!(last.starts_with("Audited 2 packages in "), "{}", run.stderr);
}

#[test]
fn rerun_notices_what_changed_since() {
    let server = IndexServer::start([
        WheelBuilder::new("My.App", "1.0")
            .requires_dist("lib>=1.0")
            .requires_dist("winlib; sys_platform == 'win32'")
            .requires_dist("clitool; extra == 'cli'")
            .provides_extra("cli")
            .build(),
        WheelBuilder::new("lib", "1.0").build(),
        WheelBuilder::new("lib", "2.0").build(),
        WheelBuilder::new("clitool", "0.5").build(),
    ]);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let index = server.url();
    sandbox.install(&["-i", &index, "my_app"]).success();
    assert_installed(&venv, &[("lib", "2.0"), ("my.app", "1.0")]);

    // Another spelling of the name, a Windows-only dependency: still nothing to do.
    server.clear_requests();
    let run = sandbox.install(&["-i", &index, "My-App"]).success();
    assert_eq!(server.requests(), [], "{}", run.stderr);

    // An extra that was not installed before.
    let run = sandbox.install(&["-i", &index, "my-app[cli]"]).success();
    assert_eq!(run.changes(), ["+ clitool==0.5"]);

    // A constraint the installed version breaks.
    let constraints = sandbox.write("constraints.txt", "lib<2\n");
    let run = sandbox
        .install(&["-i", &index, "-c", constraints.to_str().unwrap(), "my-app"])
        .success();
    assert_eq!(run.changes(), ["+ lib==1.0", "- lib==2.0"]);

    // A dependency removed behind rvenv's back.
    std::fs::remove_dir_all(site_packages(&venv).join("lib-1.0.dist-info")).unwrap();
    let run = sandbox.install(&["-i", &index, "my-app"]).success();
    assert_eq!(run.changes(), ["+ lib==2.0"]);
    assert_installed(
        &venv,
        &[("clitool", "0.5"), ("lib", "2.0"), ("my.app", "1.0")],
    );
}

#[test]
fn upgrades_a_package_pip_installed_and_removes_its_launchers() {
    let old = WheelBuilder::new("lib", "1.0")
        .entry_point("console_scripts", "lib-old", "lib:main")
        .file("lib/__init__.py", "def main():\n    pass\n")
        .build();
    let new = WheelBuilder::new("lib", "2.0").build();
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    write_find_links_dir(sandbox.path().join("wheels"), std::slice::from_ref(&old));
    run_stdout(
        Command::new("/usr/bin/python3")
            .current_dir(sandbox.path())
            .args([
                "-m",
                "pip",
                "--python",
                venv.join("bin/python").to_str().unwrap(),
                "install",
                "--disable-pip-version-check",
                "--no-index",
                "-f",
                "wheels",
                "lib==1.0",
            ]),
    );
    assert!(venv.join("bin/lib-old").is_file());

    let server = IndexServer::start([old, new]);
    let run = sandbox
        .install(&["-i", &server.url(), "-U", "lib"])
        .success();
    assert_eq!(run.changes(), ["+ lib==2.0", "- lib==1.0"]);
    assert!(!venv.join("bin/lib-old").exists());
    assert_installed(&venv, &[("lib", "2.0")]);
}

#[test]
fn two_venvs_share_one_cache_at_the_same_time() {
    let server = IndexServer::start(app_and_lib());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let other = sandbox.path().join("other");
    run(sandbox
        .command()
        .args(["create", "other", "--python", rvenv_e2e::TEST_PYTHON]))
    .success();
    let index = server.url();
    let mut first = sandbox.install_command(&["-i", &index, "app[cli]"]);
    let mut second = sandbox.command();
    second.args([
        "install",
        "--venv",
        other.to_str().unwrap(),
        "-i",
        &index,
        "app[cli]",
    ]);
    let children = [
        first.stderr(Stdio::piped()).spawn().unwrap(),
        second.stderr(Stdio::piped()).spawn().unwrap(),
    ];
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for venv in [&venv, &other] {
        assert_installed(venv, &[("app", "1.0"), ("clitool", "0.5"), ("lib", "2.0")]);
        assert_eq!(
            run_stdout(&mut Command::new(venv.join("bin/app"))),
            "app works\n"
        );
    }
}

/// `python3 -m pip --python VENV/bin/python ARGS...` in the sandbox's directory.
fn pip(sandbox: &Sandbox, venv: &std::path::Path, args: &[&str]) -> String {
    run_stdout(
        Command::new("/usr/bin/python3")
            .current_dir(sandbox.path())
            .args(["-m", "pip", "--python"])
            .arg(venv.join("bin/python"))
            .args(args)
            .arg("--disable-pip-version-check"),
    )
}

#[test]
fn upgrade_of_a_named_package_upgrades_dependencies_only_if_needed_as_pip() {
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let pip_venv = sandbox.path().join("pip-venv");
    run(sandbox
        .command()
        .args(["create", "pip-venv", "--python", rvenv_e2e::TEST_PYTHON]))
    .success();
    let wheels = sandbox.path().join("wheels");
    write_find_links_dir(
        &wheels,
        &[
            WheelBuilder::new("app", "1.0")
                .requires_dist("lib>=1.0")
                .build(),
            WheelBuilder::new("lib", "1.0").build(),
        ],
    );
    let from_dir = ["--no-index", "-f", "wheels"];
    pip(
        &sandbox,
        &pip_venv,
        &[&["install"][..], &from_dir, &["app"]].concat(),
    );
    sandbox
        .install(&[&from_dir[..], &["app"]].concat())
        .success();
    write_find_links_dir(
        &wheels,
        &[
            WheelBuilder::new("app", "2.0")
                .requires_dist("lib>=1.0")
                .build(),
            WheelBuilder::new("lib", "2.0").build(),
        ],
    );

    pip(
        &sandbox,
        &pip_venv,
        &[&["install", "-U"][..], &from_dir, &["app"]].concat(),
    );
    let run = sandbox
        .install(&[&["-U"][..], &from_dir, &["app"]].concat())
        .success();
    assert_eq!(installed(&venv), installed(&pip_venv), "{}", run.stderr);
    assert_installed(&venv, &[("app", "2.0"), ("lib", "1.0")]);

    // A new version that needs a newer dependency upgrades it.
    write_find_links_dir(
        &wheels,
        &[WheelBuilder::new("app", "3.0")
            .requires_dist("lib>=2.0")
            .build()],
    );
    pip(
        &sandbox,
        &pip_venv,
        &[&["install", "-U"][..], &from_dir, &["app"]].concat(),
    );
    sandbox
        .install(&[&["-U"][..], &from_dir, &["app"]].concat())
        .success();
    assert_eq!(installed(&venv), installed(&pip_venv));
    assert_installed(&venv, &[("app", "3.0"), ("lib", "2.0")]);
}

#[test]
fn force_reinstall_reinstalls_dependencies_too_as_pip() {
    let server = IndexServer::start(app_and_lib());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let index = server.url();
    sandbox.install(&["-i", &index, "app"]).success();
    let run = sandbox
        .install(&["-i", &index, "--force-reinstall", "app"])
        .success();
    assert_eq!(
        run.changes(),
        ["+ app==1.0", "- app==1.0", "+ lib==2.0", "- lib==2.0"]
    );
    assert_installed(&venv, &[("app", "1.0"), ("lib", "2.0")]);
    // The launcher was written again.
    assert_eq!(
        run_stdout(&mut Command::new(venv.join("bin/app"))),
        "app works\n"
    );
}
