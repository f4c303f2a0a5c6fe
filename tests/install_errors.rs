//! What `rvenv install` says when it cannot do what was asked, and that it then changes nothing.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test install_errors`.

use rvenv_e2e::{assert_installed, run, site_packages, Sandbox};
use rvenv_testkit::{Fault, FaultRule, IndexServer, WheelBuilder};

#[test]
fn unknown_package_names_the_index() {
    let server = IndexServer::start([WheelBuilder::new("lib", "1.0").build()]);
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let run = sandbox
        .install(&["-i", &server.url(), "no-such-package"])
        .failure();
    run.assert_stderr_line(&format!(
        "  - no-such-package: package no-such-package was not found on {}",
        server.url()
    ));
}

#[test]
fn conflicts_are_explained_with_the_requirement_lines() {
    let server = IndexServer::start([
        WheelBuilder::new("app", "1.0")
            .requires_dist("lib<2")
            .build(),
        WheelBuilder::new("lib", "1.0").build(),
        WheelBuilder::new("lib", "2.0").build(),
    ]);
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let requirements = sandbox.write("requirements.txt", "app==1.0\n\nlib==2.0\n");
    let run = sandbox
        .install(&["-i", &server.url(), "-r", requirements.to_str().unwrap()])
        .failure();
    let file = requirements.display();
    let explanation: Vec<&str> = run
        .stderr_lines()
        .into_iter()
        .skip_while(|line| !line.starts_with("error: "))
        .collect();
    assert_eq!(
        explanation,
        [
            "error: no versions satisfy the requirements:".to_string(),
            format!("  - you asked for app==1.0 ({file}:1)"),
            "  - app 1.0 requires lib<2".to_string(),
            format!("  - you asked for lib==2.0 ({file}:3)"),
        ]
    );
    assert_installed(&sandbox.venv(), &[]);
}

#[test]
fn a_bad_requirements_line_shows_file_and_line() {
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let requirements = sandbox.write("requirements.txt", "lib==1.0\nfoo>>=1\n");
    let run = sandbox
        .install(&["-r", requirements.to_str().unwrap()])
        .failure();
    run.assert_stderr_line(&format!(
        "error: {}:2:4: no such comparison operator \">>=\", must be one of ~= == != <= >= < > ===",
        requirements.display()
    ));
    run.assert_stderr_line("    foo>>=1");
    run.assert_stderr_line("       ^");
}

#[test]
fn an_unknown_option_in_a_file_shows_file_and_line() {
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let requirements = sandbox.write("requirements.txt", "--no-such-option\n");
    let run = sandbox
        .install(&["-r", requirements.to_str().unwrap()])
        .failure();
    run.assert_stderr_line(&format!(
        "error: {}:1: unknown option --no-such-option",
        requirements.display()
    ));
}

#[test]
fn no_venv_found_says_how_to_create_one() {
    let sandbox = Sandbox::new();
    let run = run(sandbox
        .command()
        .env("PATH", "/usr/bin:/bin")
        .args(["install", "lib"]));
    let run = run.failure();
    let first = run.stderr_lines()[0].to_string();
    assert!(
        first.starts_with("error: no virtual environment found (")
            && first.ends_with("; create one with `rvenv create .venv`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_wheel_escaping_its_directory_is_refused_and_nothing_is_written() {
    let server = IndexServer::start([
        WheelBuilder::new("evil", "1.0")
            .raw_entry("../../../../escaped.txt", "gotcha\n")
            .build(),
        WheelBuilder::new("good", "1.0").build(),
    ]);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let before = tree(&sandbox.venv());
    let run = sandbox
        .install(&["-i", &server.url(), "good", "evil"])
        .failure();
    run.assert_stderr_line("error: evil-1.0-py3-none-any.whl was rejected");
    run.assert_stderr_contains(
        "refusing unsafe entry `../../../../escaped.txt`: `..` would leave the destination directory",
    );
    assert_installed(&venv, &[]);
    assert_eq!(tree(&venv), before);
    assert!(!sandbox.path().join("escaped.txt").exists());
    assert!(!site_packages(&venv).join("good").exists());
}

#[test]
fn sources_that_cannot_be_installed_say_which_and_why() {
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let run = sandbox.install(&["-e", "."]).failure();
    run.assert_stderr_contains(
        "directory `.` is not installable: it has neither setup.py nor pyproject.toml",
    );

    let run = sandbox.install(&["./nothere-1.0.tar.gz"]).failure();
    run.assert_stderr_line("error: cannot install ./nothere-1.0.tar.gz (command line)");
    run.assert_stderr_contains("no such file or directory");

    let run = sandbox
        .install(&["lib @ https://example.invalid/lib-1.0-py3-none-any.whl"])
        .failure();
    run.assert_stderr_line(
        "error: cannot install lib @ https://example.invalid/lib-1.0-py3-none-any.whl (command line)",
    );
    run.assert_stderr_contains("cannot download https://example.invalid/lib-1.0-py3-none-any.whl");
    assert_installed(&sandbox.venv(), &[]);
}

/// Every path under `root` with its size, except the lock file rvenv keeps there.
fn tree(root: &std::path::Path) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            if name == ".rvenv.lock" {
                continue;
            }
            if meta.is_dir() {
                stack.push(path);
            }
            found.push((name, if meta.is_file() { meta.len() } else { 0 }));
        }
    }
    found.sort();
    found
}

#[test]
fn a_corrupted_download_is_refused_and_leaves_no_trace() {
    let lib = WheelBuilder::new("lib", "1.0").build();
    let server = IndexServer::builder()
        .file(lib.clone())
        .fault(FaultRule::always(
            "/files/lib-1.0-py3-none-any.whl",
            Fault::CorruptBody,
        ))
        .start();
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let run = sandbox.install(&["-i", &server.url(), "lib"]).failure();
    run.assert_stderr_line("error: cannot download lib-1.0-py3-none-any.whl");
    run.assert_stderr_contains(&format!(
        "  caused by: hash mismatch for {}: expected sha256 {}, got ",
        server.file_url("lib-1.0-py3-none-any.whl"),
        lib.sha256
    ));
    assert_installed(&venv, &[]);

    // Nothing of the bad download was kept: once the file is right, it installs.
    server.clear_faults();
    sandbox.install(&["-i", &server.url(), "lib"]).success();
    assert_installed(&venv, &[("lib", "1.0")]);
}

#[test]
fn a_cut_download_fails_then_a_retry_installs() {
    let server = IndexServer::builder()
        .file(WheelBuilder::new("lib", "1.0").build())
        .fault(FaultRule::always(
            "/files/lib-1.0-py3-none-any.whl",
            Fault::ShortBody { missing: 100 },
        ))
        .start();
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let run = sandbox.install(&["-i", &server.url(), "lib"]).failure();
    run.assert_stderr_line("error: cannot download lib-1.0-py3-none-any.whl");
    run.assert_stderr_line("  caused by: end of file before message length reached");
    assert_installed(&venv, &[]);
    server.clear_faults();
    sandbox.install(&["-i", &server.url(), "lib"]).success();
    assert_installed(&venv, &[("lib", "1.0")]);
}

#[test]
fn a_passing_server_error_is_retried() {
    let server = IndexServer::builder()
        .file(WheelBuilder::new("lib", "1.0").build())
        .fault(FaultRule::first(1, "/simple/lib/", Fault::Status(503)))
        .fault(FaultRule::first(
            1,
            "/files/lib-1.0-py3-none-any.whl",
            Fault::Status(502),
        ))
        .start();
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    sandbox.install(&["-i", &server.url(), "lib"]).success();
    assert_installed(&venv, &[("lib", "1.0")]);
}
