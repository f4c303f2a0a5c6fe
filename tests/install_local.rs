//! `rvenv install` against a local index built in code: requirements files, a real install
//! that pip agrees with, constraints, --no-deps and --report.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test install_local`.

use std::process::{Command, Stdio};

use rvenv_e2e::fixtures::app_and_lib;
use rvenv_e2e::{assert_installed, run_stdout, site_packages, Sandbox};
use rvenv_testkit::{write_find_links_dir, IndexServer, WheelBuilder};

fn paths_requested(server: &IndexServer) -> Vec<String> {
    server.requests().into_iter().map(|r| r.path).collect()
}

#[test]
fn dry_run_follows_nested_files_markers_extras_and_file_options() {
    let main = IndexServer::start(app_and_lib());
    let extra = IndexServer::start([WheelBuilder::new("bonus", "3.0").build()]);
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    write_find_links_dir(
        sandbox.path().join("wheels"),
        &[WheelBuilder::new("local-only", "1.0").build()],
    );
    // -r, -c and -f are relative to the file that names them.
    let requirements = sandbox.write(
        "reqs/requirements.txt",
        &format!(
            "# the project's requirements\n\
             -i {}\n\
             --extra-index-url {}\n\
             -f ../wheels\n\
             -r sub/more.txt\n\
             -c sub/constraints.txt\n\
             app[cli]  # with the command-line extra\n\
             winonly ; sys_platform == \"win32\"\n",
            main.url(),
            extra.url()
        ),
    );
    sandbox.write("reqs/sub/more.txt", "bonus\nlocal-only>=1\n");
    sandbox.write("reqs/sub/constraints.txt", "lib<2\nnever-installed==9\n");

    let run = sandbox
        .install(&["--dry-run", "-r", requirements.to_str().unwrap()])
        .success();
    assert_eq!(
        run.changes(),
        [
            "+ app==1.0",
            "+ bonus==3.0",
            "+ clitool==0.5",
            "+ lib==1.0",
            "+ local-only==1.0"
        ]
    );
    run.assert_stderr_line("Dry run: nothing was changed");
    assert_installed(&sandbox.venv(), &[]);
    let asked: Vec<String> = paths_requested(&main)
        .into_iter()
        .chain(paths_requested(&extra))
        .collect();
    assert!(
        !asked.iter().any(|path| path.contains("winonly")),
        "a requirement for Windows only was looked up: {asked:?}"
    );
    assert!(
        !asked.iter().any(|path| path.ends_with(".whl")),
        "a dry run downloaded a wheel: {asked:?}"
    );
}

#[test]
fn installs_files_launchers_and_metadata_that_pip_agrees_with() {
    let server = IndexServer::start(app_and_lib());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let run = sandbox.install(&["-i", &server.url(), "app"]).success();
    assert_eq!(run.changes(), ["+ app==1.0", "+ lib==2.0"]);
    assert!(
        run.stderr_lines()
            .iter()
            .any(|line| line.starts_with("Installed 2 packages in ")),
        "{}",
        run.stderr
    );
    assert_installed(&venv, &[("app", "1.0"), ("lib", "2.0")]);

    // The console-script launcher and the #!python script run with the venv's interpreter.
    let launcher = run_stdout(&mut Command::new(venv.join("bin/app")));
    assert_eq!(launcher, "app works\n");
    let script = std::fs::read_to_string(venv.join("bin/app-script")).unwrap();
    assert_eq!(
        script.lines().next().unwrap(),
        format!("#!{}", venv.join("bin/python").display())
    );
    assert_eq!(
        run_stdout(&mut Command::new(venv.join("bin/app-script"))),
        "script works\n"
    );
    assert_eq!(
        std::fs::read_to_string(venv.join("share/app/readme.txt")).unwrap(),
        "hello\n"
    );

    // RECORD, INSTALLER and REQUESTED as pip writes them; REQUESTED only for what was asked.
    let site = site_packages(&venv);
    let app_info = site.join("app-1.0.dist-info");
    let lib_info = site.join("lib-2.0.dist-info");
    for info in [&app_info, &lib_info] {
        assert_eq!(
            std::fs::read_to_string(info.join("INSTALLER")).unwrap(),
            "rvenv\n"
        );
    }
    assert!(app_info.join("REQUESTED").is_file());
    assert!(!lib_info.join("REQUESTED").exists());
    let record = std::fs::read_to_string(app_info.join("RECORD")).unwrap();
    for path in [
        "app/__init__.py,sha256=",
        "../../../bin/app,sha256=",
        "../../../bin/app-script,sha256=",
        "../../../share/app/readme.txt,sha256=",
        "app-1.0.dist-info/INSTALLER,sha256=",
    ] {
        assert!(
            record.lines().any(|line| line.starts_with(path)),
            "no {path:?} line in RECORD:\n{record}"
        );
    }
    // Bytecode is compiled by default.
    assert!(
        std::fs::read_dir(site.join("app/__pycache__"))
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".pyc")),
        "no bytecode for app"
    );

    // The real pip and importlib.metadata see the same packages.
    let python = venv.join("bin/python");
    let list = run_stdout(Command::new("/usr/bin/python3").args([
        "-m",
        "pip",
        "--python",
        python.to_str().unwrap(),
        "list",
        "--format=freeze",
        "--disable-pip-version-check",
    ]));
    assert_eq!(list, "app==1.0\nlib==2.0\n");
    let check = run_stdout(Command::new("/usr/bin/python3").args([
        "-m",
        "pip",
        "--python",
        python.to_str().unwrap(),
        "check",
        "--disable-pip-version-check",
    ]));
    assert_eq!(check, "No broken requirements found.\n");
    let versions = run_stdout(Command::new(&python).args([
        "-c",
        "import importlib.metadata as m; print(m.version('app'), m.version('lib'))",
    ]));
    assert_eq!(versions, "1.0 2.0\n");
}

#[test]
fn constraints_restrict_without_adding() {
    let server = IndexServer::start(app_and_lib());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let constraints = sandbox.write("constraints.txt", "lib<2\nclitool==0.5\n");
    sandbox
        .install(&[
            "-i",
            &server.url(),
            "-c",
            constraints.to_str().unwrap(),
            "app",
        ])
        .success();
    assert_installed(&venv, &[("app", "1.0"), ("lib", "1.0")]);
}

#[test]
fn no_deps_installs_only_what_is_named() {
    let server = IndexServer::start(app_and_lib());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let run = sandbox
        .install(&["-i", &server.url(), "--no-deps", "app[cli]"])
        .success();
    assert_eq!(run.changes(), ["+ app==1.0"]);
    assert_installed(&venv, &[("app", "1.0")]);
}

#[test]
fn report_has_pips_shape() {
    let files = app_and_lib();
    let app_sha256 = files[0].sha256.clone();
    let server = IndexServer::start(files);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let report_path = sandbox.path().join("report.json");
    sandbox
        .install(&[
            "-i",
            &server.url(),
            "--dry-run",
            "--report",
            report_path.to_str().unwrap(),
            "app[cli]",
        ])
        .success();
    assert_installed(&venv, &[]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["version"], "1");
    let mut entries: Vec<(String, String, bool)> = report["install"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["metadata"]["name"].as_str().unwrap().to_string(),
                entry["metadata"]["version"].as_str().unwrap().to_string(),
                entry["requested"].as_bool().unwrap(),
            )
        })
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            ("app".to_string(), "1.0".to_string(), true),
            ("clitool".to_string(), "0.5".to_string(), false),
            ("lib".to_string(), "2.0".to_string(), false),
        ]
    );
    let app = report["install"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["metadata"]["name"] == "app")
        .unwrap();
    assert_eq!(
        app["download_info"]["url"],
        server.file_url("app-1.0-py3-none-any.whl")
    );
    assert_eq!(
        app["download_info"]["archive_info"]["hashes"]["sha256"],
        app_sha256.as_str()
    );
    assert_eq!(app["requested_extras"], serde_json::json!(["cli"]));
    assert_eq!(app["metadata"]["requires_dist"][0], "lib>=1.0");
    assert!(report["environment"]["python_version"].is_string());
}

/// As pip's: when nothing needs installing (all installed already, or every requirement's
/// markers exclude it), the report is still written, with nothing to install.
#[test]
fn a_report_is_written_when_there_is_nothing_to_install() {
    let server = IndexServer::start(app_and_lib());
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let requirements = sandbox.write(
        "requirements.txt",
        "app ; python_version < \"3\"\nlib ; sys_platform == \"nonexistent\"\n",
    );
    let report_path = sandbox.path().join("report.json");
    sandbox
        .install(&[
            "-i",
            &server.url(),
            "--dry-run",
            "--report",
            report_path.to_str().unwrap(),
            "-r",
            requirements.to_str().unwrap(),
        ])
        .success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["version"], "1");
    assert_eq!(report["install"], serde_json::json!([]));
    assert!(report["environment"]["python_version"].is_string());
}

#[test]
fn requirements_from_standard_input_and_report_to_standard_output() {
    let server = IndexServer::start(app_and_lib());
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let mut command = sandbox.install_command(&[
        "-i",
        &server.url(),
        "--dry-run",
        "-q",
        "--report",
        "-",
        "-r",
        "-",
    ]);
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"lib==1.0\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["install"][0]["metadata"]["version"], "1.0");
    assert_eq!(report["install"].as_array().unwrap().len(), 1);
}
