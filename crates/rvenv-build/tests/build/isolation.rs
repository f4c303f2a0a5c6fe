//! Build environments: cached by interpreter and requirement set, or none at all.

use rvenv_build::{build_env_key, BuildIsolation, BuildOptions, SourceBuild};
use rvenv_testkit::SdistBuilder;

use crate::support::*;

#[test]
fn build_environments_are_reused_across_projects_with_the_same_requirements() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let installer = PipInstaller::default();
    let build_one = |name: &str, requires: &[&str]| {
        let mut builder = SdistBuilder::new(name, "1.0");
        for requirement in requires {
            builder = builder.build_requires(requirement);
        }
        let sdist = builder.write_to(dir.path());
        let build = SourceBuild::new(&sdist, interpreter(), &cache).unwrap();
        build
            .build_wheel(&installer, &dir.path().join("out"))
            .unwrap()
    };
    build_one("first", &["six", "idna"]);
    assert_eq!(installer.calls(), 1);
    // The same set in another order, with a duplicate: the same environment.
    build_one("second", &["idna", "six", "six"]);
    assert_eq!(installer.calls(), 1);
    build_one("third", &["six"]);
    assert_eq!(installer.calls(), 2);
    let envs: Vec<_> = fs_err::read_dir(cache.join("build-envs-v1"))
        .unwrap()
        .collect();
    assert_eq!(envs.len(), 2);

    let six = pep508_rs::Requirement::from_str("six").unwrap();
    let key = build_env_key(interpreter(), &[six]);
    let marker = cache
        .join("build-envs-v1")
        .join(&key)
        .join(".rvenv-build-env.json");
    assert!(fs_err::read_to_string(marker).unwrap().contains("\"six\""));
}

#[test]
fn without_isolation_the_given_environment_builds() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv(dir.path());
    let sdist = SdistBuilder::new("shared-build", "1.0")
        .build_requires("something-never-installed")
        .write_to(dir.path());
    let options = BuildOptions {
        isolation: BuildIsolation::Shared(Box::new(env.clone())),
    };
    let cache = dir.path().join("cache");
    let build = SourceBuild::with_options(&sdist, interpreter(), &cache, options).unwrap();
    let wheel = build
        .build_wheel(&NoInstaller, &dir.path().join("out"))
        .unwrap();
    assert_eq!(
        wheel.file_name().unwrap(),
        "shared_build-1.0-py3-none-any.whl"
    );
    assert!(!cache.join("build-envs-v1").exists());
}

use std::str::FromStr;
