//! How `rvenv install` talks to package indexes: PEP 658 metadata, range requests, HTML-only
//! indexes, several indexes, find-links, settings from PIP_* / RVENV_* / pip.conf, and auth.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test install_index`.

use rvenv_e2e::{assert_installed, Run, Sandbox};
use rvenv_testkit::{write_find_links_dir, BuiltFile, IndexServer, RequestLog, WheelBuilder};

/// `app` 1.0 needing `lib`, and `lib` 1.0.
fn app_needing_lib() -> Vec<BuiltFile> {
    vec![
        WheelBuilder::new("app", "1.0").requires_dist("lib").build(),
        WheelBuilder::new("lib", "1.0").build(),
    ]
}

/// Requests for archives themselves (not their `.metadata` files), as `(path, range)`.
fn archive_requests(requests: &[RequestLog]) -> Vec<(String, Option<String>)> {
    requests
        .iter()
        .filter(|r| r.path.ends_with(".whl"))
        .map(|r| (r.path.clone(), r.range.clone()))
        .collect()
}

fn installed_app_and_lib(sandbox: &Sandbox) {
    assert_installed(&sandbox.venv(), &[("app", "1.0"), ("lib", "1.0")]);
}

#[test]
fn uses_pep_658_metadata_and_downloads_each_wheel_once_to_install() {
    let server = IndexServer::start(app_needing_lib());
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let index = server.url();
    sandbox
        .install(&["-i", &index, "--dry-run", "app"])
        .success();
    let requests = server.requests();
    assert_eq!(archive_requests(&requests), [], "{requests:#?}");
    assert!(requests
        .iter()
        .any(|r| r.path == "/files/app-1.0-py3-none-any.whl.metadata"));

    server.clear_requests();
    sandbox.install(&["-i", &index, "app"]).success();
    let mut wheels = archive_requests(&server.requests());
    wheels.sort();
    assert_eq!(
        wheels,
        [
            ("/files/app-1.0-py3-none-any.whl".to_string(), None),
            ("/files/lib-1.0-py3-none-any.whl".to_string(), None),
        ]
    );
    installed_app_and_lib(&sandbox);
}

#[test]
fn reads_metadata_with_range_requests_when_the_index_has_no_metadata_files() {
    let server = IndexServer::builder()
        .files(app_needing_lib())
        .no_metadata()
        .start();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let index = server.url();
    let run = sandbox
        .install(&["-i", &index, "--dry-run", "app"])
        .success();
    assert_eq!(run.changes(), ["+ app==1.0", "+ lib==1.0"]);
    let requests = server.requests();
    assert!(
        requests.iter().all(|r| !r.path.ends_with(".metadata")),
        "{requests:#?}"
    );
    let gets: Vec<_> = requests
        .iter()
        .filter(|r| r.path.ends_with(".whl") && r.method == "GET")
        .collect();
    assert!(!gets.is_empty(), "{requests:#?}");
    assert!(
        gets.iter().all(|r| r.range.is_some()),
        "a whole wheel was fetched for its metadata: {requests:#?}"
    );

    sandbox.install(&["-i", &index, "app"]).success();
    installed_app_and_lib(&sandbox);
}

#[test]
fn downloads_whole_wheels_for_metadata_once_and_keeps_them_for_the_install() {
    let server = IndexServer::builder()
        .files(app_needing_lib())
        .no_metadata()
        .no_range()
        .start();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    sandbox.install(&["-i", &server.url(), "app"]).success();
    installed_app_and_lib(&sandbox);
    let requests = server.requests();
    for wheel in ["app-1.0-py3-none-any.whl", "lib-1.0-py3-none-any.whl"] {
        let gets = requests
            .iter()
            .filter(|r| r.method == "GET" && r.path == format!("/files/{wheel}"))
            .count();
        assert_eq!(gets, 1, "{wheel} downloaded {gets} times: {requests:#?}");
    }
    // The wheels downloaded whole are kept only for the run.
    let staging = std::fs::read_dir(sandbox.cache().join(".tmp"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(staging, 0, "the run left files in the cache's staging area");
}

#[test]
fn installs_from_an_html_only_index() {
    let server = IndexServer::builder()
        .files(app_needing_lib())
        .html_only()
        .start();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    sandbox.install(&["-i", &server.url(), "app"]).success();
    installed_app_and_lib(&sandbox);
}

#[test]
fn extra_index_best_version_across_both_or_first_index_only() {
    let main = IndexServer::start([WheelBuilder::new("lib", "1.0").build()]);
    let extra = IndexServer::start([WheelBuilder::new("lib", "2.0").build()]);
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let (main_url, extra_url) = (main.url(), extra.url());
    let both = [
        "-i",
        &main_url,
        "--extra-index-url",
        &extra_url,
        "--dry-run",
        "lib",
    ];
    let run = sandbox.install(&both).success();
    assert_eq!(run.changes(), ["+ lib==2.0"]);

    let mut first = both.to_vec();
    first.extend(["--index-strategy", "first-index"]);
    let run = sandbox.install(&first).success();
    assert_eq!(run.changes(), ["+ lib==1.0"]);
}

#[test]
fn no_index_with_a_find_links_directory() {
    let server = IndexServer::start(app_needing_lib());
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let wheels = sandbox.path().join("wheels");
    write_find_links_dir(&wheels, &app_needing_lib());
    sandbox
        .install(&[
            "-i",
            &server.url(),
            "--no-index",
            "-f",
            wheels.to_str().unwrap(),
            "app",
        ])
        .success();
    installed_app_and_lib(&sandbox);
    assert_eq!(server.requests(), [], "--no-index still asked the index");
}

#[test]
fn find_links_page() {
    let server = IndexServer::start(app_needing_lib());
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    sandbox
        .install(&["--no-index", "-f", &server.find_links_url(), "app"])
        .success();
    installed_app_and_lib(&sandbox);
}

/// Two indexes with different versions of `lib`, to tell which one a setting selected.
struct TwoIndexes {
    one: IndexServer,
    two: IndexServer,
}

impl TwoIndexes {
    fn new() -> TwoIndexes {
        TwoIndexes {
            one: IndexServer::start([WheelBuilder::new("lib", "1.0").build()]),
            two: IndexServer::start([WheelBuilder::new("lib", "2.0").build()]),
        }
    }
}

fn dry_run_with_env(sandbox: &Sandbox, vars: &[(&str, &str)]) -> Run {
    let mut command = sandbox.install_command(&["--dry-run", "lib"]);
    for (name, value) in vars {
        command.env(name, value);
    }
    rvenv_e2e::run(&mut command).success()
}

#[test]
fn pip_index_variables_are_honoured() {
    let indexes = TwoIndexes::new();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let run = dry_run_with_env(&sandbox, &[("PIP_INDEX_URL", &indexes.one.url())]);
    assert_eq!(run.changes(), ["+ lib==1.0"]);
    let run = dry_run_with_env(
        &sandbox,
        &[
            ("PIP_INDEX_URL", &indexes.one.url()),
            ("PIP_EXTRA_INDEX_URL", &indexes.two.url()),
        ],
    );
    assert_eq!(run.changes(), ["+ lib==2.0"]);
}

#[test]
fn pip_conf_from_pip_config_file_is_honoured() {
    let indexes = TwoIndexes::new();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let conf = sandbox.write(
        "pip.conf",
        &format!(
            "[global]\nindex-url = {}\ntimeout = 10\n\n[install]\nextra-index-url =\n    {}\n",
            indexes.one.url(),
            indexes.two.url()
        ),
    );
    let run = dry_run_with_env(&sandbox, &[("PIP_CONFIG_FILE", conf.to_str().unwrap())]);
    assert_eq!(run.changes(), ["+ lib==2.0"]);
    assert!(indexes.one.request_count() > 0);
}

#[test]
fn rvenv_variables_beat_pip_variables_and_flags_beat_both() {
    let indexes = TwoIndexes::new();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let (one, two) = (indexes.one.url(), indexes.two.url());
    let run = dry_run_with_env(
        &sandbox,
        &[("PIP_INDEX_URL", &one), ("RVENV_INDEX_URL", &two)],
    );
    assert_eq!(run.changes(), ["+ lib==2.0"]);
    assert_eq!(indexes.one.request_count(), 0);

    let mut command = sandbox.install_command(&["--dry-run", "-i", &one, "lib"]);
    command.env("RVENV_INDEX_URL", &two);
    let run = rvenv_e2e::run(&mut command).success();
    assert_eq!(run.changes(), ["+ lib==1.0"]);
}

fn private_index() -> IndexServer {
    IndexServer::builder()
        .files(app_needing_lib())
        .basic_auth("alice", "s3cret-pw")
        .start()
}

#[test]
fn credentials_in_the_url() {
    let server = private_index();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let url = server.url_with_credentials("alice", "s3cret-pw");
    let run = sandbox.install(&["-i", &url, "app"]).success();
    installed_app_and_lib(&sandbox);
    assert!(!run.stderr.contains("s3cret-pw") && !run.stdout.contains("s3cret-pw"));
}

#[test]
fn credentials_from_netrc() {
    let server = private_index();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let netrc = sandbox.write(
        "netrc",
        "machine 127.0.0.1\n  login alice\n  password s3cret-pw\n",
    );
    let mut command = sandbox.install_command(&["-i", &server.url(), "app"]);
    command.env("NETRC", &netrc);
    rvenv_e2e::run(&mut command).success();
    installed_app_and_lib(&sandbox);
}

#[test]
fn wrong_or_missing_credentials_fail_naming_the_index_without_the_secret() {
    let server = private_index();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let port = server.port();
    let cases = [
        (
            server.url_with_credentials("alice", "wrong-pw"),
            format!("index http://alice:****@127.0.0.1:{port}/simple/; credentials: from the URL"),
            "hint: the credentials were rejected",
        ),
        (
            server.url(),
            format!("index http://127.0.0.1:{port}/simple/; credentials: none"),
            "hint: this index needs credentials",
        ),
    ];
    for (index, names_index, hint) in cases {
        let run = sandbox.install(&["-i", &index, "app"]).failure();
        let error = format!(
            "error: failed to get the versions of app: http://127.0.0.1:{port}/simple/app/ answered 401 ({names_index})"
        );
        run.assert_stderr_line(&error);
        assert_eq!(
            run.stderr.matches("answered 401").count(),
            1,
            "{}",
            run.stderr
        );
        assert!(
            run.stderr_lines()
                .iter()
                .any(|line| line.trim_start().starts_with(hint)),
            "{}",
            run.stderr
        );
        for secret in ["wrong-pw", "s3cret-pw"] {
            assert!(
                !run.stderr.contains(secret) && !run.stdout.contains(secret),
                "{secret} printed:\n{}",
                run.stderr
            );
        }
    }
    assert_installed(&sandbox.venv(), &[]);
}

#[test]
fn credentials_from_environment_variables_in_a_requirements_file() {
    let server = IndexServer::builder()
        .files(app_needing_lib())
        .basic_auth("alice", "s3cret-pw")
        .no_metadata()
        .start();
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let requirements = sandbox.write(
        "requirements.txt",
        &format!(
            "--index-url http://${{INDEX_USER}}:${{INDEX_PASSWORD}}@127.0.0.1:{}/simple/\napp\n",
            server.port()
        ),
    );
    let mut command = sandbox.install_command(&["-r", requirements.to_str().unwrap()]);
    command
        .env("INDEX_USER", "alice")
        .env("INDEX_PASSWORD", "s3cret-pw");
    let run = rvenv_e2e::run(&mut command).success();
    installed_app_and_lib(&sandbox);
    assert!(!run.stderr.contains("s3cret-pw"), "{}", run.stderr);
    // Range requests for metadata carried the credentials too.
    assert!(server
        .requests()
        .iter()
        .all(|r| r.authorization || r.path == "/simple/app/"));
}

#[test]
fn offline_installs_from_the_cache_of_an_earlier_run() {
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let index = {
        let server = IndexServer::start(app_needing_lib());
        sandbox
            .install(&["-i", &server.url(), "--dry-run", "app"])
            .success();
        let other = sandbox.path().join("other");
        rvenv_e2e::run(sandbox.command().args([
            "create",
            "other",
            "--python",
            rvenv_e2e::TEST_PYTHON,
        ]))
        .success();
        rvenv_e2e::run(sandbox.command().args([
            "install",
            "--venv",
            other.to_str().unwrap(),
            "-i",
            &server.url(),
            "app",
        ]))
        .success();
        server.url()
    };
    // The server is gone.
    let run = sandbox
        .install(&["-i", &index, "--offline", "app"])
        .success();
    assert_eq!(run.changes(), ["+ app==1.0", "+ lib==1.0"]);
    installed_app_and_lib(&sandbox);
}

#[test]
fn finds_the_venv_from_virtual_env_or_the_python_on_path() {
    let server = IndexServer::start(app_needing_lib());
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let index = server.url();
    let run = rvenv_e2e::run(sandbox.command().env("VIRTUAL_ENV", &venv).args([
        "install",
        "-i",
        &index,
        "--dry-run",
        "lib",
    ]))
    .success();
    assert!(
        run.stderr_lines()[0]
            .starts_with(&format!("Installing into {} (CPython 3.11", venv.display())),
        "{}",
        run.stderr
    );
    // nixpacks: /opt/venv/bin first on PATH, no VIRTUAL_ENV.
    let path = format!("{}:/usr/bin:/bin", venv.join("bin").display());
    rvenv_e2e::run(
        sandbox
            .command()
            .env("PATH", path)
            .args(["install", "-i", &index, "app"]),
    )
    .success();
    installed_app_and_lib(&sandbox);
}

/// A resolution is kept and reused for the same request, but never past a change on the index:
/// a new release is seen by the next run.
#[test]
fn a_kept_resolution_gives_way_to_a_new_release() {
    let server = IndexServer::start(app_needing_lib());
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let index = server.url();
    let dry_run = || {
        sandbox
            .install(&["-i", &index, "--dry-run", "app"])
            .success()
    };
    assert_eq!(dry_run().changes(), ["+ app==1.0", "+ lib==1.0"]);
    let kept = std::fs::read_dir(sandbox.cache().join("resolutions-v1"))
        .unwrap()
        .count();
    assert_eq!(kept, 1);
    assert_eq!(dry_run().changes(), ["+ app==1.0", "+ lib==1.0"]);

    server.add_file(WheelBuilder::new("lib", "2.0").build());
    assert_eq!(dry_run().changes(), ["+ app==1.0", "+ lib==2.0"]);
    sandbox.install(&["-i", &index, "app"]).success();
    assert_installed(&sandbox.venv(), &[("app", "1.0"), ("lib", "2.0")]);
}
