//! `--system`: installing into a base interpreter's own prefix, which PEP 668 may forbid.

use std::path::Path;

use rvenv_e2e::{run, Sandbox};

#[test]
fn an_externally_managed_interpreter_is_refused_without_break_system_packages() {
    // Debian's interpreter carries the marker; elsewhere there is nothing to test.
    if !Path::new("/usr/lib/python3.11/EXTERNALLY-MANAGED").is_file() {
        eprintln!("skipped: /usr/bin/python3.11 is not marked externally managed here");
        return;
    }
    let sandbox = Sandbox::new();
    let stdlib_before = std::fs::read_dir("/usr/lib/python3.11").unwrap().count();
    let result = run(sandbox
        .command()
        .args([
            "install",
            "--system",
            "six",
            "--index-url",
            "http://127.0.0.1:9/simple",
        ])
        .env("PATH", "/usr/bin:/bin"))
    .failure();
    result.assert_stderr_contains("is externally managed (PEP 668)");
    result.assert_stderr_contains("--break-system-packages");
    // Refused before any lock file or package was written.
    assert!(!Path::new("/usr/lib/python3/dist-packages/.rvenv.lock").exists());
    assert_eq!(
        std::fs::read_dir("/usr/lib/python3.11").unwrap().count(),
        stdlib_before
    );
}
