//! The backend sees the caller's compiler environment (on Nix, CC, CFLAGS, LDFLAGS and
//! LD_LIBRARY_PATH carry the toolchain), the build venv first on PATH, and no PYTHONPATH.
//!
//! A binary of its own with one test, because it sets process environment variables.

use std::path::PathBuf;

use rvenv_build::SourceBuild;
use rvenv_venv::Interpreter;

struct Never;

impl rvenv_build::BuildRequirementsInstaller for Never {
    fn install(
        &self,
        _venv: &rvenv_venv::Environment,
        _requirements: &[pep508_rs::Requirement],
    ) -> Result<(), String> {
        panic!("no build requirements here");
    }
}

#[test]
fn compiler_variables_pass_through_and_pythonpath_does_not() {
    std::env::set_var("CC", "rvenv-test-cc");
    std::env::set_var("CFLAGS", "-DRVENV_TEST=1");
    std::env::set_var("LDFLAGS", "-L/rvenv/test/lib");
    std::env::set_var("LD_LIBRARY_PATH", "/rvenv/test/ld");
    std::env::set_var("PYTHONPATH", "/rvenv/leaked");

    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("envcheck");
    fs_err::create_dir_all(project.join("_build")).unwrap();
    fs_err::write(
        project.join("pyproject.toml"),
        "[build-system]\nrequires = []\nbuild-backend = \"envback\"\nbackend-path = [\"_build\"]\n",
    )
    .unwrap();
    fs_err::write(
        project.join("_build/envback.py"),
        "import os, sys\n\
         def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    \
         names = ['CC', 'CFLAGS', 'LDFLAGS', 'LD_LIBRARY_PATH', 'PYTHONPATH']\n    \
         seen = ' '.join('%s=%s' % (n, os.environ.get(n)) for n in names)\n    \
         first = os.environ['PATH'].split(os.pathsep)[0]\n    \
         raise RuntimeError('%s PATH0=%s PREFIX=%s' % (seen, first, sys.prefix))\n",
    )
    .unwrap();

    let python = PathBuf::from("/usr/bin/python3");
    let interpreter = Interpreter::query(&python, None).unwrap();
    let cache = dir.path().join("cache");
    let build = SourceBuild::new(&project, &interpreter, &cache).unwrap();
    let message = build
        .build_wheel(&Never, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("CC=rvenv-test-cc CFLAGS=-DRVENV_TEST=1 LDFLAGS=-L/rvenv/test/lib LD_LIBRARY_PATH=/rvenv/test/ld PYTHONPATH=None"),
        "{message}"
    );
    let envs = cache.join("build-envs-v1");
    let env = fs_err::read_dir(&envs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        message.contains(&format!("PATH0={}", env.join("bin").display())),
        "{message}"
    );
    assert!(
        message.contains(&format!("PREFIX={}", env.display())),
        "{message}"
    );
}
