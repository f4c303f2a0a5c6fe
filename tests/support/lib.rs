//! Helpers for the end-to-end tests in tests/: where the built `rvenv` binary is, and a command
//! for it that cannot see the developer's own settings.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `rvenv` binary built alongside the running test (`target/<profile>/rvenv`).
///
/// `cargo test` at the workspace root builds it (the workspace's default members include
/// crates/rvenv); with `-p rvenv-e2e`, run `cargo build -p rvenv` first.
pub fn rvenv_bin() -> PathBuf {
    let test = std::env::current_exe().expect("the test binary knows its own path");
    // target/<profile>/deps/<test>-<hash>
    let profile_dir = test
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let bin = profile_dir.join(format!("rvenv{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p rvenv` first",
        bin.display()
    );
    bin
}

/// `rvenv` with `cache` as its cache directory and no VIRTUAL_ENV, RVENV_* or PIP_* variables
/// from the environment the tests run in.
pub fn rvenv(cache: &Path) -> Command {
    let mut command = Command::new(rvenv_bin());
    for (name, _) in std::env::vars_os() {
        let name_str = name.to_string_lossy();
        if name_str == "VIRTUAL_ENV"
            || name_str.starts_with("RVENV_")
            || name_str.starts_with("PIP_")
        {
            command.env_remove(&name);
        }
    }
    command.env("RVENV_CACHE_DIR", cache);
    command
}
