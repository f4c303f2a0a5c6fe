//! Static metadata is read without starting Python: the interpreter here is a path that does not
//! exist, and the installer panics if called.

use std::path::PathBuf;

use rvenv_build::{Error, SourceBuild};
use rvenv_testkit::SdistBuilder;
use rvenv_venv::Interpreter;

use crate::support::*;

fn bogus_interpreter() -> Interpreter {
    let mut interpreter = interpreter().clone();
    interpreter.executable = PathBuf::from("/nonexistent/bin/python3");
    interpreter.base_executable = PathBuf::from("/nonexistent/bin/python3");
    interpreter
}

#[test]
fn pkg_info_2_2_of_an_sdist() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("static-sdist", "3.1")
        .requires_dist("requests>=2; python_version >= '3.8'")
        .requires_python(">=3.8")
        .write_to(dir.path());
    let build = SourceBuild::new(&sdist, &bogus_interpreter(), &dir.path().join("cache")).unwrap();
    let metadata = build.metadata(&NoInstaller).unwrap();
    assert_eq!(metadata.name.as_ref(), "static-sdist");
    assert_eq!(metadata.version.to_string(), "3.1");
    assert_eq!(metadata.requires_python.unwrap().to_string(), ">=3.8");
    assert_eq!(metadata.requires_dist.len(), 1);
}

#[test]
fn pep_621_project_table_of_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    write_tree(
        &project,
        &[(
            "pyproject.toml",
            "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n\
             [project]\nname = \"pep621\"\nversion = \"0.2\"\ndependencies = [\"attrs\"]\n\
             [project.optional-dependencies]\ntest = [\"pytest\"]\n",
        )],
    );
    let build =
        SourceBuild::new(&project, &bogus_interpreter(), &dir.path().join("cache")).unwrap();
    let metadata = build.metadata(&NoInstaller).unwrap();
    assert_eq!(metadata.name.as_ref(), "pep621");
    assert_eq!(metadata.provides_extras[0].as_ref(), "test");
    assert_eq!(metadata.requires_dist.len(), 2);
}

#[test]
fn dynamic_metadata_needs_python() {
    // The same bogus interpreter proves the static cases above never started it: here the
    // metadata is dynamic (Metadata-Version 2.1), so rvenv must run the backend and fails to.
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("dynamic-sdist", "1.0")
        .file(
            "PKG-INFO",
            "Metadata-Version: 2.1\nName: dynamic-sdist\nVersion: 1.0\n",
        )
        .file("dynamic_sdist/__init__.py", "")
        .write_to(dir.path());
    let build = SourceBuild::new(&sdist, &bogus_interpreter(), &dir.path().join("cache")).unwrap();
    assert!(build.static_metadata().unwrap().is_none());
    let err = build.metadata(&NoInstaller).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CreateBuildEnv { .. } | Error::SpawnPython { .. }
        ),
        "{err}"
    );
}
