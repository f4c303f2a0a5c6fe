//! `rvenv install` of what has no wheel: sdists from an index, wheel and sdist files, project
//! directories, `name @ file://` URLs, git repositories, editables, and failing builds.
//!
//! The sdists and projects carry rvenv-testkit's in-tree backend (standard library only), so
//! these tests need no network; the ones marked `pypi_` use real PyPI for setuptools.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test install_build`.

use std::path::{Path, PathBuf};
use std::process::Command;

use rvenv_e2e::run as run_command;
use rvenv_e2e::{assert_installed, run_stdout, site_packages, Sandbox};
use rvenv_testkit::{sha256_hex, IndexServer, SdistBuilder, WheelBuilder};

/// Runs the venv's python with `code`; returns its stdout, trimmed.
fn python(venv: &Path, code: &str) -> String {
    run_stdout(Command::new(venv.join("bin/python")).args(["-c", code]))
        .trim()
        .to_string()
}

/// `file:///abs/path` (test paths need no escaping).
fn file_url(path: &Path) -> String {
    assert!(path.is_absolute());
    format!("file://{}", path.display())
}

/// `<site-packages>/<name>-<version>.dist-info/<file>` as text.
fn dist_info_file(venv: &Path, name: &str, version: &str, file: &str) -> String {
    let path = site_packages(venv)
        .join(format!("{name}-{version}.dist-info"))
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn direct_url(venv: &Path, name: &str, version: &str) -> serde_json::Value {
    serde_json::from_str(&dist_info_file(venv, name, version, "direct_url.json"))
        .expect("direct_url.json is JSON")
}

/// Unpacks `sdist` into `dir` (its `<name>-<version>/` root renamed to `dir`): a project
/// directory with the in-tree backend.
fn project_dir(sdist: &SdistBuilder, dir: &Path) -> PathBuf {
    let archive = sdist.write_to(dir.parent().expect("a parent directory"));
    let unpack = tempfile::tempdir().expect("a temporary directory");
    run_stdout(
        Command::new("tar")
            .arg("xzf")
            .arg(&archive)
            .arg("-C")
            .arg(unpack.path()),
    );
    std::fs::rename(unpack.path().join(sdist.stem()), dir).expect("move the project into place");
    std::fs::remove_file(&archive).expect("remove the archive");
    dir.to_path_buf()
}

/// The entries under the cache's bucket of built wheels (`built-v2/<sdist sha256>/...`).
fn built_entries(cache: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(hashes) = std::fs::read_dir(cache.join("built-v2")) else {
        return found;
    };
    for hash in hashes {
        let hash = hash.expect("read built-v2").path();
        for entry in std::fs::read_dir(&hash).expect("read a built entry") {
            let entry = entry.expect("read a built entry").path();
            found.push(format!(
                "{}/{}",
                hash.file_name().unwrap().to_string_lossy(),
                entry.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    found.sort();
    found
}

#[test]
fn an_sdist_only_package_is_built_installed_and_its_wheel_cached() {
    let sdist = SdistBuilder::new("sdonly", "1.0").requires_dist("lib>=1");
    let built = sdist.build();
    let server = IndexServer::start([built.clone(), WheelBuilder::new("lib", "1.0").build()]);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();

    let run = sandbox.install(&["-i", &server.url(), "sdonly"]).success();
    assert_eq!(run.changes(), ["+ lib==1.0", "+ sdonly==1.0"]);
    run.assert_stderr_line("Built sdonly==1.0");
    assert_eq!(
        python(&venv, "import sdonly; print(sdonly.__version__)"),
        "1.0"
    );
    assert!(
        dist_info_file(&venv, "sdonly", "1.0", "WHEEL").contains("Generator: testkit_backend"),
        "installed from the wheel the backend built"
    );
    let entries = built_entries(&sandbox.cache());
    assert_eq!(
        entries.len(),
        2,
        "the sdist and one built wheel: {entries:?}"
    );
    assert!(entries.iter().all(|entry| entry.starts_with(&built.sha256)));

    // Another venv with the same cache: no download of the sdist, no build.
    let other = sandbox.path().join("other");
    run_command(
        sandbox
            .command()
            .args(["create", "other", "--python", rvenv_e2e::TEST_PYTHON]),
    )
    .success();
    let requests_before = server.request_count();
    let run = run_command(
        sandbox
            .command()
            .args(["install", "--venv"])
            .arg(&other)
            .args(["-i", &server.url(), "sdonly", "-v"]),
    )
    .success();
    run.assert_stderr_line("Cached sdonly==1.0");
    assert!(!run.stderr.contains("Built"), "{}", run.stderr);
    assert_eq!(built_entries(&sandbox.cache()), entries);
    let fetched: Vec<String> = server.requests()[requests_before..]
        .iter()
        .map(|request| request.path.clone())
        .collect();
    assert!(
        !fetched.iter().any(|path| path.ends_with(".tar.gz")),
        "the sdist was downloaded again: {fetched:?}"
    );
    assert_installed(&other, &[("lib", "1.0"), ("sdonly", "1.0")]);
}

#[test]
fn no_binary_builds_and_only_binary_refuses() {
    let server = IndexServer::start([
        WheelBuilder::new("both", "1.0").build(),
        SdistBuilder::new("both", "1.0").build(),
        SdistBuilder::new("sdonly", "2.0").build(),
    ]);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();

    let run = sandbox
        .install(&["-i", &server.url(), "--no-binary", "both", "both"])
        .success();
    run.assert_stderr_line("Built both==1.0");
    assert!(dist_info_file(&venv, "both", "1.0", "WHEEL").contains("testkit_backend"));

    let run = sandbox
        .install(&["-i", &server.url(), "--only-binary", ":all:", "sdonly"])
        .failure();
    run.assert_stderr_contains("sdonly");
    run.assert_stderr_contains("binary");
    assert!(!run.stderr.contains("Built"), "{}", run.stderr);
}

#[test]
fn wheel_and_sdist_files_directories_and_file_urls_install_with_direct_url_json() {
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let wheels = sandbox.path().join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    for dir in ["dist", "urls", "libs"] {
        std::fs::create_dir_all(sandbox.path().join(dir)).unwrap();
    }
    let wheel = WheelBuilder::new("foo", "1.0").build();
    let wheel_path = wheel.write_to(&wheels);
    let sdist_path = SdistBuilder::new("bar", "2.0").write_to(sandbox.path().join("dist"));
    let shared = project_dir(
        &SdistBuilder::new("shared", "0.3"),
        &sandbox.path().join("libs/shared"),
    );
    let url_sdist = SdistBuilder::new("viaurl", "1.5").write_to(sandbox.path().join("urls"));
    let url = file_url(&url_sdist);

    let run = sandbox
        .install(&[
            "./wheels/foo-1.0-py3-none-any.whl",
            "./dist/bar-2.0.tar.gz",
            "./libs/shared",
            &format!("viaurl @ {url}"),
        ])
        .success();
    assert_eq!(
        run.changes(),
        ["+ bar==2.0", "+ foo==1.0", "+ shared==0.3", "+ viaurl==1.5"]
    );
    assert_eq!(
        python(
            &venv,
            "import foo, bar, shared, viaurl; print(bar.__version__, shared.__version__)"
        ),
        "2.0 0.3"
    );
    assert_eq!(
        direct_url(&venv, "foo", "1.0"),
        serde_json::json!({
            "url": file_url(&wheel_path),
            "archive_info": {"hash": format!("sha256={}", wheel.sha256), "hashes": {"sha256": wheel.sha256}},
        })
    );
    let bar = direct_url(&venv, "bar", "2.0");
    assert_eq!(bar["url"], file_url(&sdist_path));
    assert!(bar["archive_info"]["hash"]
        .as_str()
        .unwrap()
        .starts_with("sha256="));
    assert_eq!(
        direct_url(&venv, "shared", "0.3"),
        serde_json::json!({"url": file_url(&shared), "dir_info": {}})
    );
    assert_eq!(direct_url(&venv, "viaurl", "1.5")["url"], url);

    // Archives already installed from the same file are kept; a directory is built again.
    let run = sandbox
        .install(&["./wheels/foo-1.0-py3-none-any.whl", "./libs/shared"])
        .success();
    assert_eq!(run.changes(), ["+ shared==0.3", "- shared==0.3"]);
}

#[test]
fn hashes_on_url_requirements_are_checked() {
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let wheel = WheelBuilder::new("hashed", "1.0").build();
    std::fs::create_dir_all(sandbox.path().join("wheels")).unwrap();
    let path = wheel.write_to(sandbox.path().join("wheels"));
    let url = file_url(&path);
    let wrong = sha256_hex(b"something else");
    sandbox.write(
        "bad.txt",
        &format!("hashed @ {url} --hash=sha256:{wrong}\n"),
    );
    let run = sandbox.install(&["-r", "bad.txt"]).failure();
    run.assert_stderr_contains("hash mismatch for hashed-1.0-py3-none-any.whl");
    run.assert_stderr_contains(&format!("actual:   sha256:{}", wheel.sha256));
    assert_installed(&sandbox.venv(), &[]);

    sandbox.write(
        "good.txt",
        &format!("hashed @ {url} --hash=sha256:{}\n", wheel.sha256),
    );
    sandbox.install(&["-r", "good.txt"]).success();
    assert_installed(&sandbox.venv(), &[("hashed", "1.0")]);
}

fn git(dir: &Path, args: &[&str]) {
    run_stdout(
        Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir),
    );
}

#[test]
fn a_git_repository_installs_at_a_tag_with_its_commit_recorded() {
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let repo = project_dir(
        &SdistBuilder::new("gitpkg", "1.0"),
        &sandbox.path().join("repo"),
    );
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "one"]);
    git(&repo, &["tag", "v1.0"]);
    let commit = run_stdout(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&repo),
    )
    .trim()
    .to_string();
    // A later commit the tag does not include.
    std::fs::write(repo.join("gitpkg/__init__.py"), "__version__ = 'later'\n").unwrap();
    git(&repo, &["commit", "--quiet", "-am", "two"]);

    let url = format!("git+{}@v1.0#egg=gitpkg", file_url(&repo));
    sandbox.install(&[&url]).success();
    assert_eq!(
        python(&venv, "import gitpkg; print(gitpkg.__version__)"),
        "1.0"
    );
    let recorded = direct_url(&venv, "gitpkg", "1.0");
    assert_eq!(recorded["vcs_info"]["vcs"], "git");
    assert_eq!(recorded["vcs_info"]["commit_id"], commit.as_str());
    assert_eq!(recorded["vcs_info"]["requested_revision"], "v1.0");
    assert_eq!(recorded["url"], file_url(&repo));
}

#[test]
fn an_editable_install_sees_source_edits_and_a_rerun_changes_nothing() {
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let project = project_dir(
        &SdistBuilder::new("proj", "0.1"),
        &sandbox.path().join("proj"),
    );

    let run = run_command(sandbox.install_command(&["-e", "."]).current_dir(&project)).success();
    assert_eq!(run.changes(), ["+ proj==0.1"]);
    assert_eq!(
        direct_url(&venv, "proj", "0.1"),
        serde_json::json!({
            "url": file_url(&project),
            "dir_info": {"editable": true},
        })
    );
    std::fs::write(project.join("proj/__init__.py"), "__version__ = 'edited'\n").unwrap();
    assert_eq!(
        python(&venv, "import proj; print(proj.__version__)"),
        "edited"
    );

    let again = run_command(sandbox.install_command(&["-e", "."]).current_dir(&project)).success();
    assert!(again.changes().is_empty(), "{}", again.stderr);
    again.assert_stderr_contains("Audited 1 package");

    // The same project, not editable: replaces the editable install.
    let plain = run_command(sandbox.install_command(&["."]).current_dir(&project)).success();
    assert_eq!(plain.changes(), ["+ proj==0.1", "- proj==0.1"]);
    assert_eq!(
        direct_url(&venv, "proj", "0.1")["dir_info"],
        serde_json::json!({})
    );
}

#[test]
fn a_failing_build_names_the_package_backend_output_and_log() {
    let server = IndexServer::start([SdistBuilder::new("broken", "0.2")
        .backend_fails("the compiler exploded")
        .build()]);
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let run = sandbox.install(&["-i", &server.url(), "broken"]).failure();
    run.assert_stderr_contains("failed to build broken==0.2");
    run.assert_stderr_contains("`testkit_backend`");
    run.assert_stderr_contains("the compiler exploded");
    let log = run
        .stderr
        .lines()
        .find_map(|line| line.trim().strip_prefix("full log: "))
        .unwrap_or_else(|| panic!("no log path in:\n{}", run.stderr));
    assert!(Path::new(log).is_file(), "{log} is kept");
    assert_installed(&sandbox.venv(), &[]);
}

#[test]
fn a_build_requirement_cycle_is_an_error_not_a_hang() {
    // `selfish` needs itself to build, and only its sdist exists.
    let server = IndexServer::start([SdistBuilder::new("selfish", "1.0")
        .build_requires("selfish")
        .build()]);
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let run = sandbox.install(&["-i", &server.url(), "selfish"]).failure();
    run.assert_stderr_contains("cannot install the build requirements of selfish==1.0");
    run.assert_stderr_contains("build dependency cycle");
    assert_installed(&sandbox.venv(), &[]);
}

#[test]
fn build_requirements_that_need_building_nest_only_a_few_levels() {
    // a needs b to build, b needs c, ... each only as an sdist.
    let names = ["nest-a", "nest-b", "nest-c", "nest-d", "nest-e", "nest-f"];
    let files: Vec<_> = names
        .iter()
        .zip(names.iter().skip(1).map(Some).chain([None]))
        .map(|(name, next)| {
            let sdist = SdistBuilder::new(name, "1.0");
            match next {
                Some(next) => sdist.build_requires(next),
                None => sdist,
            }
            .build()
        })
        .collect();
    let server = IndexServer::start(files);
    let sandbox = Sandbox::new();
    sandbox.create_venv();
    let run = sandbox.install(&["-i", &server.url(), "nest-a"]).failure();
    run.assert_stderr_contains("nested more than 3 levels deep");

    // Two levels are fine.
    let run = sandbox.install(&["-i", &server.url(), "nest-d"]).success();
    assert_eq!(run.changes(), ["+ nest-d==1.0"]);
}

/// A setuptools project (pyproject.toml with [project]) in `dir`. Its build requirement is
/// pip's default one, so it shares the build environment of sdists without pyproject.toml.
fn setuptools_project(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        format!(
            "[build-system]\nrequires = [\"setuptools>=40.8.0\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
             [project]\nname = \"{name}\"\nversion = \"0.7\"\ndependencies = [\"docopt==0.6.2\"]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join(name).join("__init__.py"), "VALUE = 'setuptools'\n").unwrap();
}

#[test]
fn pypi_an_sdist_only_package_and_a_setuptools_project_build_with_setuptools_from_pypi() {
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let project = sandbox.path().join("stproj");
    setuptools_project(&project, "stproj");
    // docopt publishes only an sdist with an old PKG-INFO: its metadata comes from the backend.
    let run = sandbox.install(&["./stproj"]).success();
    assert_eq!(run.changes(), ["+ docopt==0.6.2", "+ stproj==0.7"]);
    run.assert_stderr_line("Built docopt==0.6.2");
    assert_eq!(
        python(
            &venv,
            "import docopt, stproj; print(docopt.__version__, stproj.VALUE)"
        ),
        "0.6.2 setuptools"
    );
    // One build environment with setuptools served both builds.
    let envs = std::fs::read_dir(sandbox.cache().join("build-envs-v1"))
        .unwrap()
        .count();
    assert_eq!(envs, 1);

    // Editable with setuptools' PEP 660 hook.
    let run = sandbox.install(&["-e", "./stproj"]).success();
    assert_eq!(run.changes(), ["+ stproj==0.7", "- stproj==0.7"]);
    std::fs::write(project.join("stproj/__init__.py"), "VALUE = 'edited'\n").unwrap();
    assert_eq!(
        python(&venv, "import stproj; print(stproj.VALUE)"),
        "edited"
    );
}

#[test]
fn pypi_no_build_isolation_builds_in_the_target_environment() {
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let project = sandbox.path().join("nbi");
    setuptools_project(&project, "nbi");
    // Without setuptools in the target, the build cannot start.
    let run = sandbox
        .install(&["--no-build-isolation", "--no-deps", "./nbi"])
        .failure();
    run.assert_stderr_contains("setuptools");
    sandbox.install(&["setuptools", "wheel"]).success();
    let run = sandbox
        .install(&["--no-build-isolation", "--no-deps", "./nbi"])
        .success();
    assert_eq!(run.changes(), ["+ nbi==0.7"]);
    assert_eq!(python(&venv, "import nbi; print(nbi.VALUE)"), "setuptools");
    assert!(
        !sandbox.cache().join("build-envs-v1").exists(),
        "no isolated build environment was made"
    );
}

#[test]
fn an_editable_git_requirement_is_checked_out_into_the_venv_src_directory() {
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let repo = project_dir(
        &SdistBuilder::new("gitedit", "2.0"),
        &sandbox.path().join("repo"),
    );
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "one"]);
    sandbox.write(
        "requirements.txt",
        &format!("-e git+{}#egg=gitedit\n", file_url(&repo)),
    );

    let run = sandbox.install(&["-r", "requirements.txt"]).success();
    assert_eq!(run.changes(), ["+ gitedit==2.0"]);
    let checkout = venv.join("src/gitedit");
    assert_eq!(
        direct_url(&venv, "gitedit", "2.0"),
        serde_json::json!({"url": file_url(&checkout), "dir_info": {"editable": true}})
    );
    std::fs::write(
        checkout.join("gitedit/__init__.py"),
        "__version__ = 'mine'\n",
    )
    .unwrap();
    assert_eq!(
        python(&venv, "import gitedit; print(gitedit.__version__)"),
        "mine"
    );

    let again = sandbox.install(&["-r", "requirements.txt"]).success();
    assert!(again.changes().is_empty(), "{}", again.stderr);
}
