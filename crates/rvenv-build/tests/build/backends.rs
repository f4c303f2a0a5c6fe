//! Building with the common backends, their requirements installed from PyPI.

use std::process::Command;

use rvenv_build::SourceBuild;
use rvenv_testkit::SdistBuilder;

use crate::support::*;

#[test]
fn setuptools_with_pyproject_prepares_metadata_then_builds() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    write_tree(
        &project,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
                 [project]\nname = \"st-demo\"\nversion = \"1.4\"\ndynamic = [\"dependencies\"]\n\n\
                 [tool.setuptools.dynamic]\ndependencies = {file = [\"requirements.in\"]}\n",
            ),
            ("requirements.in", "six>=1.16\n"),
            ("st_demo/__init__.py", "VALUE = 'setuptools'\n"),
        ],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    assert_eq!(build.package(), "st-demo==1.4");
    assert!(
        build.static_metadata().unwrap().is_none(),
        "dependencies are dynamic"
    );
    let metadata = build.metadata(pip()).unwrap();
    assert_eq!(metadata.name.as_ref(), "st-demo");
    assert_eq!(metadata.version.to_string(), "1.4");
    assert_eq!(metadata.requires_dist[0].to_string(), "six>=1.16");

    let out = dir.path().join("out");
    let wheel = build.build_wheel(pip(), &out).unwrap();
    assert_eq!(wheel, out.join("st_demo-1.4-py3-none-any.whl"));
    assert!(wheel_files(&wheel).contains(&"st_demo/__init__.py".to_string()));
    // Nothing but the wheel is left in the output directory.
    assert_eq!(fs_err::read_dir(&out).unwrap().count(), 1);
}

#[test]
fn legacy_setup_py_without_pyproject() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("legacy");
    write_tree(
        &project,
        &[
            (
                "setup.py",
                "from setuptools import setup\n\
                 setup(name='legacy-demo', version='0.3', py_modules=['legacy_demo'],\n      install_requires=['six'])\n",
            ),
            ("legacy_demo.py", "ANSWER = 42\n"),
        ],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    assert_eq!(
        build.build_system().backend,
        "setuptools.build_meta:__legacy__"
    );
    let metadata = build.metadata(pip()).unwrap();
    assert_eq!(metadata.name.as_ref(), "legacy-demo");
    assert_eq!(metadata.requires_dist[0].to_string(), "six");
    let wheel = build.build_wheel(pip(), &dir.path().join("out")).unwrap();
    assert_eq!(
        wheel.file_name().unwrap(),
        "legacy_demo-0.3-py3-none-any.whl"
    );

    let env = venv(dir.path());
    install_wheel(&env, &wheel);
    assert_eq!(
        run_python(&env, "import legacy_demo; print(legacy_demo.ANSWER)"),
        "42"
    );
}

#[test]
fn flit_core_builds_from_an_sdist() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("flit-demo", "2.0")
        .pyproject(
            "[build-system]\nrequires = [\"flit_core>=3.4,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n\n\
             [project]\nname = \"flit_demo\"\nversion = \"2.0\"\ndescription = \"A demo\"\n\
             dependencies = [\"idna\"]\n",
        )
        .file("flit_demo/__init__.py", "\"\"\"Flit demo.\"\"\"\nWHO = 'flit'\n")
        .write_to(dir.path());
    let build = SourceBuild::new(&sdist, interpreter(), shared_cache()).unwrap();
    assert_eq!(build.package(), "flit_demo==2.0");
    let wheel = build.build_wheel(pip(), &dir.path().join("out")).unwrap();
    assert_eq!(
        wheel.file_name().unwrap(),
        "flit_demo-2.0-py2.py3-none-any.whl"
    );
    let env = venv(dir.path());
    install_wheel(&env, &wheel);
    assert_eq!(
        run_python(&env, "import flit_demo; print(flit_demo.WHO)"),
        "flit"
    );
}

#[test]
fn hatchling_builds_a_wheel() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("hatch-demo");
    write_tree(
        &project,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n\
                 [project]\nname = \"hatch-demo\"\ndynamic = [\"version\"]\n\n\
                 [tool.hatch.version]\npath = \"hatch_demo/__init__.py\"\n",
            ),
            ("hatch_demo/__init__.py", "__version__ = '0.9.1'\n"),
        ],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    // The version is dynamic: hatchling has prepare_metadata_for_build_wheel? Either way we get it.
    let metadata = build.metadata(pip()).unwrap();
    assert_eq!(metadata.version.to_string(), "0.9.1");
    let wheel = build.build_wheel(pip(), &dir.path().join("out")).unwrap();
    assert_eq!(
        wheel.file_name().unwrap(),
        "hatch_demo-0.9.1-py2.py3-none-any.whl"
    );
}

#[test]
fn in_tree_backend_via_backend_path_with_dynamic_requirements() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("in-tree", "1.0")
        .backend_requires("six")
        .write_to(dir.path());
    // A cache of its own, so the installer's calls are this test's alone.
    let cache = dir.path().join("cache");
    let installer = PipInstaller::default();
    let build = SourceBuild::new(&sdist, interpreter(), &cache).unwrap();
    assert_eq!(build.build_system().backend, "testkit_backend");
    assert_eq!(
        build.build_system().backend_path,
        [build.source_dir().to_path_buf()]
    );
    let wheel = build
        .build_wheel(&installer, &dir.path().join("out"))
        .unwrap();
    assert_eq!(wheel.file_name().unwrap(), "in_tree-1.0-py3-none-any.whl");
    // No static requirements (nothing to install), then get_requires_for_build_wheel asked for six.
    assert_eq!(
        *installer.installed.lock().unwrap(),
        [vec!["six".to_string()]]
    );
}

#[test]
fn a_c_extension_compiled_by_gcc() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("cext");
    write_tree(
        &project,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n",
            ),
            (
                "setup.py",
                "from setuptools import setup, Extension\n\
                 setup(name='cext-demo', version='1.0', packages=['cext'],\n      \
                 ext_modules=[Extension('cext._speed', ['cext/_speed.c'])])\n",
            ),
            ("cext/__init__.py", "from ._speed import add\n"),
            (
                "cext/_speed.c",
                "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n\n\
                 static PyObject *add(PyObject *self, PyObject *args) {\n    long a, b;\n    \
                 if (!PyArg_ParseTuple(args, \"ll\", &a, &b)) return NULL;\n    return PyLong_FromLong(a + b);\n}\n\n\
                 static PyMethodDef methods[] = {{\"add\", add, METH_VARARGS, \"Add.\"}, {NULL, NULL, 0, NULL}};\n\
                 static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, \"_speed\", NULL, -1, methods};\n\
                 PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }\n",
            ),
        ],
    );
    let build = SourceBuild::new(&project, interpreter(), shared_cache()).unwrap();
    let wheel = build.build_wheel(pip(), &dir.path().join("out")).unwrap();
    let name = wheel.file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("cext_demo-1.0-cp311-cp311-linux_"),
        "{name}"
    );
    assert!(wheel_files(&wheel)
        .iter()
        .any(|file| file.starts_with("cext/_speed.cpython-311")));
    let env = venv(dir.path());
    install_wheel(&env, &wheel);
    assert_eq!(
        run_python(&env, "import cext; print(cext.add(40, 2))"),
        "42"
    );
}

#[test]
fn docopt_sdist_from_pypi() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(python())
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
        ])
        .args(["docopt==0.6.2", "-d"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let sdist = dir.path().join("docopt-0.6.2.tar.gz");
    let build = SourceBuild::new(&sdist, interpreter(), shared_cache()).unwrap();
    assert_eq!(build.package(), "docopt==0.6.2");
    // Its PKG-INFO is Metadata-Version 1.1: not static, so setuptools prepares the metadata.
    assert!(build.static_metadata().unwrap().is_none());
    let metadata = build.metadata(pip()).unwrap();
    assert_eq!(
        (
            metadata.name.as_ref(),
            metadata.version.to_string().as_str()
        ),
        ("docopt", "0.6.2")
    );
    let wheel = build.build_wheel(pip(), &dir.path().join("out")).unwrap();
    assert_eq!(
        wheel.file_name().unwrap(),
        "docopt-0.6.2-py2.py3-none-any.whl"
    );
    let env = venv(dir.path());
    install_wheel(&env, &wheel);
    let parsed = run_python(
        &env,
        "from docopt import docopt; print(docopt('Usage: prog <x>', argv=['7'])['<x>'])",
    );
    assert_eq!(parsed, "7");
}
