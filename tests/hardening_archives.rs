//! Hostile and broken wheels through `rvenv install`: each is refused with an error naming the
//! archive and the reason, the venv is left exactly as it was (names, sizes, mtimes), nothing
//! lands outside it, and the cache keeps no entry of the refused wheel nor any half-built one.
//!
//! (A wheel's `../` escape is in install_errors.rs; sdists whose tar escapes its root are
//! refused before any build, here once through the binary, in depth in rvenv-build's tests.)
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test hardening_archives`.

mod hardening;

use hardening::{assert_cache_consistent, assert_not_cached, Snapshot};
use rvenv_e2e::{assert_installed, Sandbox};
use rvenv_testkit::{BuiltFile, IndexServer, WheelBuilder};

/// A hostile wheel of the project `name` and the reason rvenv must give for refusing it.
struct Case {
    name: &'static str,
    wheel: BuiltFile,
    reason: String,
}

fn base(name: &str) -> WheelBuilder {
    WheelBuilder::new(name, "1.0").file(
        &format!("{}/__init__.py", name.replace('-', "_")),
        "print('hi')\n",
    )
}

fn cases(outside: &std::path::Path) -> Vec<Case> {
    let absolute = outside.join("absolute.txt");
    let truncated = base("truncated").build();
    let truncated = truncated.truncated(truncated.bytes.len() * 2 / 3);
    vec![
        Case {
            name: "absolute",
            wheel: base("absolute")
                .raw_entry(absolute.to_str().unwrap(), "gotcha\n")
                .build(),
            reason: format!("refusing unsafe entry `{}`", absolute.display()),
        },
        Case {
            name: "symlink",
            wheel: base("symlink")
                .symlink("symlink/passwd", "/etc/passwd")
                .build(),
            reason: "refusing unsafe entry `symlink/passwd`".into(),
        },
        Case {
            name: "symlink-up",
            wheel: base("symlink-up")
                .symlink("symlink_up/out", "../../../../..")
                .build(),
            reason: "refusing unsafe entry `symlink_up/out`".into(),
        },
        Case {
            name: "badhash",
            wheel: base("badhash").record_wrong_hash("badhash/__init__.py").build(),
            reason: "RECORD does not match `badhash/__init__.py`: sha256 is".into(),
        },
        Case {
            name: "unlisted",
            wheel: base("unlisted")
                .file("unlisted/extra.py", "x = 1\n")
                .record_omits("unlisted/extra.py")
                .build(),
            reason: "RECORD does not match `unlisted/extra.py`: the file is not listed in RECORD"
                .into(),
        },
        Case {
            name: "norecord",
            wheel: base("norecord").skip_record().build(),
            reason: "norecord-1.0.dist-info/RECORD is missing".into(),
        },
        Case {
            name: "duplicate",
            wheel: base("duplicate")
                .raw_entry("duplicate/__init__.py", "import os\n")
                .build(),
            reason: "lists a file name (in its central directory) more than once".into(),
        },
        Case {
            name: "script-python",
            wheel: base("script-python")
                .data_file("scripts", "python", "#!/bin/sh\necho pwned\n")
                .build(),
            reason: "refusing unsafe entry `script_python-1.0.data/scripts/python`: it would replace the environment's own interpreter".into(),
        },
        Case {
            name: "script-activate",
            wheel: base("script-activate")
                .data_file("scripts", "activate", "echo pwned\n")
                .build(),
            reason: "refusing unsafe entry `script_activate-1.0.data/scripts/activate`".into(),
        },
        Case {
            name: "launcher-python3",
            wheel: base("launcher-python3")
                .entry_point("console_scripts", "python3", "launcher_python3:main")
                .build(),
            reason: "refusing unsafe entry `python3 (entry point)`".into(),
        },
        Case {
            name: "data-pyvenv",
            wheel: base("data-pyvenv")
                .data_file("data", "pyvenv.cfg", "home = /tmp/evil\n")
                .build(),
            reason: "refusing unsafe entry `data_pyvenv-1.0.data/data/pyvenv.cfg`".into(),
        },
        Case {
            name: "data-bin-activate",
            wheel: base("data-bin-activate")
                .data_file("data", "bin/activate.fish", "echo pwned\n")
                .build(),
            reason: "refusing unsafe entry `data_bin_activate-1.0.data/data/bin/activate.fish`"
                .into(),
        },
        Case {
            name: "ratio-bomb",
            // 64 MiB of zeros deflate to about 64 KiB: past the 500:1 limit.
            wheel: base("ratio-bomb")
                .zeros_entry("ratio_bomb/zeros.bin", 64 << 20)
                .build(),
            reason: "refusing `ratio_bomb/zeros.bin`: compression ratio".into(),
        },
        Case {
            name: "declared-bomb",
            wheel: base("declared-bomb")
                .declared_size("declared_bomb/__init__.py", 4_000_000_000)
                .build(),
            reason: "refusing `declared_bomb/__init__.py`".into(),
        },
        Case {
            name: "declared-short",
            // Headers claiming less than the entry holds: inflating must stop at the claim.
            wheel: base("declared-short")
                .declared_size("declared_short/__init__.py", 3)
                .build(),
            reason: "declared_short/__init__.py".into(),
        },
        Case {
            name: "truncated",
            wheel: truncated,
            reason: "not a readable wheel (zip) archive, it may be truncated or corrupt".into(),
        },
    ]
}

#[test]
fn hostile_wheels_are_refused_and_leave_no_trace() {
    let outside = tempfile::tempdir().unwrap();
    let cases = cases(outside.path());
    let server = IndexServer::start(
        cases
            .iter()
            .map(|case| case.wheel.clone())
            .chain([WheelBuilder::new("good", "1.0").build()]),
    );
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let before = Snapshot::of(&venv);
    let home = Snapshot::of(&sandbox.home());
    for case in &cases {
        let run = sandbox
            .install(&["-i", &server.url(), "good", case.name])
            .failure();
        run.assert_stderr_line(&format!("error: {} was rejected", case.wheel.filename));
        run.assert_stderr_contains(&case.reason);
        // The cause names the archive: a path ending in its file name.
        assert!(
            run.stderr
                .lines()
                .any(|line| line.contains("caused by") && line.contains(&case.wheel.filename)),
            "{}: the cause does not name the archive:\n{}",
            case.name,
            run.stderr
        );
        before.assert_unchanged(&venv, case.name);
        assert_not_cached(&sandbox.cache(), &case.name.replace('_', "-"));
        assert_cache_consistent(&sandbox.cache());
    }
    home.assert_unchanged(&sandbox.home(), "home");
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "something was written outside the venv"
    );
    assert_installed(&venv, &[]);
    // The good wheel alone still installs, from the cache or the index.
    sandbox.install(&["-i", &server.url(), "good"]).success();
    assert_installed(&venv, &[("good", "1.0")]);
}

/// File names that promise another project or version than METADATA says: refused when the
/// metadata is read for resolving (from the PEP 658 file, or from the wheel itself).
#[test]
fn a_wheel_whose_name_disagrees_with_its_metadata_is_refused() {
    let renamed = base("renamed").metadata_name("requests").build();
    let older = base("older").filename("older-2.0-py3-none-any.whl").build();
    for no_metadata_file in [false, true] {
        let mut builder = IndexServer::builder().files([renamed.clone(), older.clone()]);
        if no_metadata_file {
            builder = builder.no_metadata();
        }
        let server = builder.start();
        let sandbox = Sandbox::new();
        let venv = sandbox.create_venv();
        let before = Snapshot::of(&venv);
        for (name, filename, says) in [
            (
                "renamed",
                &renamed.filename,
                "it describes requests 1.0, but the file name says renamed 1.0",
            ),
            (
                "older",
                &older.filename,
                "it describes older 1.0, but the file name says older 2.0",
            ),
        ] {
            let run = sandbox.install(&["-i", &server.url(), name]).failure();
            run.assert_stderr_contains(&format!("{}: {says}", server.file_url(filename)));
            before.assert_unchanged(&venv, name);
            assert_not_cached(&sandbox.cache(), name);
            assert_cache_consistent(&sandbox.cache());
        }
    }
}

/// Sdists are unpacked by rvenv-build before their build (its own tests cover every kind of
/// escape); through the binary, a tar whose entries leave the archive's root is refused naming
/// the archive and the entry, before any build, and nothing is written outside.
#[test]
fn an_sdist_escaping_its_root_is_refused_before_any_build() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("pwned.txt");
    let cases = [
        (
            "sdist-parent",
            rvenv_testkit::SdistBuilder::new("sdist-parent", "1.0")
                .raw_entry(
                    "../../../../../../../../../../tmp/rvenv-sdist-escape.txt",
                    "x",
                )
                .build(),
        ),
        (
            "sdist-symlink",
            rvenv_testkit::SdistBuilder::new("sdist-symlink", "1.0")
                .symlink("sdist_symlink-1.0/link", outside.path().to_str().unwrap())
                .raw_entry("sdist_symlink-1.0/link/pwned.txt", "x")
                .build(),
        ),
        (
            "sdist-hardlink",
            rvenv_testkit::SdistBuilder::new("sdist-hardlink", "1.0")
                .hardlink("sdist_hardlink-1.0/passwd", "/etc/passwd")
                .build(),
        ),
    ];
    let server = IndexServer::start(cases.iter().map(|(_, sdist)| sdist.clone()));
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let before = Snapshot::of(&venv);
    for (name, sdist) in &cases {
        let run = sandbox.install(&["-i", &server.url(), name]).failure();
        run.assert_stderr_contains(&sdist.filename);
        run.assert_stderr_contains("the archive may be malicious");
        assert!(!run.stderr.contains("Built "), "{}", run.stderr);
        before.assert_unchanged(&venv, name);
        assert_cache_consistent(&sandbox.cache());
    }
    assert!(!target.exists());
    assert!(!std::path::Path::new("/tmp/rvenv-sdist-escape.txt").exists());
    assert_installed(&venv, &[]);
}
