//! PEP 660 editables: the installed project follows edits to its source.

use rvenv_build::{Error, SourceBuild};
use rvenv_testkit::SdistBuilder;

use crate::support::*;

#[test]
fn setuptools_editable_sees_a_source_edit() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("editable-demo");
    write_tree(
        &project,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
                 [project]\nname = \"editable-demo\"\nversion = \"0.1\"\n\n\
                 [tool.setuptools]\npackages = [\"edpkg\"]\n",
            ),
            ("edpkg/__init__.py", "VALUE = 1\n"),
        ],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    let wheel = build
        .build_editable(pip(), &dir.path().join("out"))
        .unwrap();
    assert_eq!(
        wheel.file_name().unwrap(),
        "editable_demo-0.1-0.editable-py3-none-any.whl"
    );

    let env = venv(dir.path());
    install_wheel(&env, &wheel);
    let code = "import edpkg; print(edpkg.VALUE, edpkg.__file__)";
    let before = run_python(&env, code);
    let source = project.join("edpkg/__init__.py");
    assert_eq!(before, format!("1 {}", source.display()));
    fs_err::write(&source, "VALUE = 2\n").unwrap();
    assert!(run_python(&env, code).starts_with("2 "));
}

#[test]
fn hatchling_editable_uses_a_pth_file() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("hatch-edit");
    write_tree(
        &project,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n\
                 [project]\nname = \"hatch-edit\"\nversion = \"3.0\"\n\n\
                 [tool.hatch.build.targets.wheel]\npackages = [\"src/hatch_edit\"]\n",
            ),
            ("src/hatch_edit/__init__.py", "WHO = 'before'\n"),
        ],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    let wheel = build
        .build_editable(pip(), &dir.path().join("out"))
        .unwrap();
    assert!(wheel_files(&wheel)
        .iter()
        .any(|file| file.ends_with(".pth")));
    let env = venv(dir.path());
    install_wheel(&env, &wheel);
    assert_eq!(
        run_python(&env, "import hatch_edit; print(hatch_edit.WHO)"),
        "before"
    );
    fs_err::write(
        project.join("src/hatch_edit/__init__.py"),
        "WHO = 'after'\n",
    )
    .unwrap();
    assert_eq!(
        run_python(&env, "import hatch_edit; print(hatch_edit.WHO)"),
        "after"
    );
}

#[test]
fn an_sdist_cannot_be_editable() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("not-editable", "1.0").write_to(dir.path());
    let build = SourceBuild::new(&sdist, interpreter(), shared_cache()).unwrap();
    let err = build
        .build_editable(&NoInstaller, &dir.path().join("out"))
        .unwrap_err();
    assert!(matches!(err, Error::EditableFromArchive { .. }), "{err}");
    assert!(err.to_string().contains("not-editable==1.0"), "{err}");
}

#[test]
fn a_backend_without_build_editable_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("old-backend");
    write_tree(
        &project,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = []\nbuild-backend = \"oldback\"\nbackend-path = [\"_build\"]\n",
            ),
            ("_build/oldback.py", "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    raise RuntimeError('not called')\n"),
        ],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    let err = build
        .build_editable(&NoInstaller, &dir.path().join("out"))
        .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, Error::EditableUnsupported { .. }),
        "{message}"
    );
    assert!(
        message.contains("`oldback`") && message.contains("PEP 660"),
        "{message}"
    );
}
