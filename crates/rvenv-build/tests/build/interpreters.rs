//! The embedded frontend script runs on the oldest and the newest Python installed here.

use std::path::PathBuf;

use rvenv_build::SourceBuild;
use rvenv_testkit::SdistBuilder;
use rvenv_venv::Interpreter;

use crate::support::*;

#[test]
fn the_in_tree_backend_builds_on_old_and_new_pythons() {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let mut pythons: Vec<PathBuf> = fs_err::read_dir(home.join(".pyenv/versions"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    let name = path.file_name().unwrap().to_string_lossy().to_string();
                    name.starts_with("3.8.") || name.starts_with("3.13.")
                })
                .map(|path| path.join("bin/python3"))
                .filter(|python| python.is_file())
                .collect()
        })
        .unwrap_or_default();
    if pythons.is_empty() {
        pythons.push(python());
    }
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("everywhere", "1.0").write_to(dir.path());
    for python in pythons {
        let interpreter = Interpreter::query(&python, Some(shared_cache())).unwrap();
        let build = SourceBuild::new(&sdist, &interpreter, shared_cache()).unwrap();
        let out = dir.path().join(interpreter.version_triple());
        let wheel = build
            .build_wheel(&NoInstaller, &out)
            .unwrap_or_else(|err| panic!("{}: {err}", python.display()));
        assert_eq!(
            wheel.file_name().unwrap(),
            "everywhere-1.0-py3-none-any.whl"
        );
    }
}
