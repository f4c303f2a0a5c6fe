//! Failing builds: the message names the package, the backend and the hook, shows the tail of
//! the backend's output and where the whole log is kept.

use rvenv_build::{Error, SourceBuild};
use rvenv_testkit::SdistBuilder;

use crate::support::*;

#[test]
fn a_failing_backend_names_package_backend_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("fail-demo", "1.0")
        .backend_fails("deliberate failure for the test")
        .write_to(dir.path());
    let build = SourceBuild::new(&sdist, interpreter(), shared_cache()).unwrap();
    let out = dir.path().join("out");
    let err = build.build_wheel(&NoInstaller, &out).unwrap_err();
    let message = err.to_string();
    let Error::HookFailed(failure) = &err else {
        panic!("{message}");
    };
    let log = &failure.log;
    assert_eq!(failure.hook, "build_wheel");
    assert_eq!(failure.package, "fail-demo==1.0");
    assert!(
        message.starts_with(
            "failed to build fail-demo==1.0: the build backend `testkit_backend` failed in build_wheel \
             (RuntimeError: testkit backend, build_wheel: deliberate failure for the test)"
        ),
        "{message}"
    );
    // The backend printed nothing, so the tail is its traceback.
    assert!(message.contains("testkit_backend.py"), "{message}");
    assert!(
        message.ends_with(&format!("full log: {}", log.display())),
        "{message}"
    );
    // The log outlives the build's scratch space.
    drop(build);
    let text = fs_err::read_to_string(log).unwrap();
    assert!(text.contains("==> build_wheel (testkit_backend)"), "{text}");
    assert!(
        text.contains("--- the hook raised ---\nTraceback"),
        "{text}"
    );
    // Nothing half-built is left in the output directory.
    assert!(!out.exists() || fs_err::read_dir(&out).unwrap().count() == 0);
}

#[test]
fn a_compile_error_shows_the_compilers_message() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("broken-c");
    write_tree(
        &project,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
                 [project]\nname = \"broken-c\"\nversion = \"0.1\"\n",
            ),
            (
                "setup.py",
                "from setuptools import setup, Extension\nsetup(ext_modules=[Extension('broken', ['broken.c'])])\n",
            ),
            ("broken.c", "this is not C;\n"),
        ],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    let err = build
        .build_wheel(pip(), &dir.path().join("out"))
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("failed to build broken-c==0.1: the build backend `setuptools.build_meta` failed in build_wheel"), "{message}");
    assert!(message.contains("broken.c:1"), "{message}");
    assert!(message.contains("error"), "{message}");
    // The tail is at most 30 lines of output.
    let tail = message.split("last lines of its output:\n").nth(1).unwrap();
    let tail_lines = tail.split("\n\nfull log: ").next().unwrap().lines().count();
    assert!(tail_lines <= 30, "{tail_lines} lines");
}

#[test]
fn a_missing_backend_module() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("nobackend");
    write_tree(
        &project,
        &[(
            "pyproject.toml",
            "[build-system]\nrequires = []\nbuild-backend = \"no_such_backend_xyz\"\n\n[project]\nname = \"nobackend\"\nversion = \"1\"\n",
        )],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    let message = build
        .build_wheel(&NoInstaller, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("cannot import the build backend module 'no_such_backend_xyz'"),
        "{message}"
    );
    assert!(message.contains("nobackend==1"), "{message}");
}

#[test]
fn an_in_tree_backend_must_come_from_backend_path() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shadow");
    // `json` is found in the standard library, not in backend-path: PEP 517 says refuse.
    write_tree(
        &project,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = []\nbuild-backend = \"json\"\nbackend-path = [\"_build\"]\n",
            ),
            ("_build/.keep", ""),
        ],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    let message = build
        .build_wheel(&NoInstaller, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("not from its backend-path"), "{message}");
}

#[test]
fn build_requirements_that_cannot_be_installed() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("needs-missing", "1.0")
        .build_requires("rvenv-no-such-package-for-tests==1.0")
        .write_to(dir.path());
    let cache = dir.path().join("cache");
    let build = SourceBuild::new(&sdist, interpreter(), &cache).unwrap();
    let message = build
        .build_wheel(pip(), &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("cannot install the build requirements of needs-missing==1.0 (rvenv-no-such-package-for-tests==1.0): "),
        "{message}"
    );
    // The half-made environment is gone: the next attempt starts afresh.
    let envs = cache.join("build-envs-v1");
    let left = fs_err::read_dir(&envs).map(|dir| dir.count()).unwrap_or(0);
    assert_eq!(left, 0);
}
