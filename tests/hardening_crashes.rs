//! Crashes and full disks during `rvenv install`.
//!
//! - kill -9 at random moments (seeded, so a failure can be replayed): whatever importlib.metadata
//!   then lists is whole (every file its RECORD names exists), and running the install again
//!   completes it;
//! - a full file system (a 2 MiB tmpfs, when the test may mount one) as the venv or as the
//!   cache: an error that says so, and nothing half-written.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test hardening_crashes`.

mod hardening;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hardening::{assert_cache_consistent, assert_published_entries_valid, Snapshot};
use rvenv_e2e::{installed, Sandbox};
use rvenv_testkit::{BuiltFile, IndexServer, WheelBuilder};

/// A small deterministic generator (xorshift64*), so a failing trial can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

const PROJECTS: [&str; 6] = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"];

/// Two versions of each project, with different file sets (so upgrades remove files), modules,
/// a data file and a console script each; `alpha` needs `bravo`.
fn packages() -> Vec<BuiltFile> {
    let mut built = Vec::new();
    for name in PROJECTS {
        for version in ["1.0", "2.0"] {
            let mut wheel = WheelBuilder::new(name, version)
                .entry_point(
                    "console_scripts",
                    &format!("{name}-cli"),
                    &format!("{name}:main"),
                )
                .file(
                    &format!("{name}/__init__.py"),
                    format!("VERSION = {version:?}\ndef main():\n    print(VERSION)\n"),
                )
                .data_file("data", &format!("share/{name}/notes.txt"), version);
            for module in 0..40 {
                wheel = wheel.file(
                    &format!("{name}/mod_{module}_v{}.py", &version[..1]),
                    format!("X = {module}\n").repeat(50),
                );
            }
            if name == "alpha" {
                wheel = wheel.requires_dist("bravo");
            }
            built.push(wheel.build());
        }
    }
    built
}

/// Every distribution importlib.metadata finds, and what is wrong with it: no METADATA name,
/// no RECORD, or files RECORD names that are missing.
const CHECK_INSTALLED: &str = r#"
import importlib.metadata, json, os
problems = []
for dist in importlib.metadata.distributions():
    name = dist.metadata["Name"] if dist.metadata is not None else None
    where = str(getattr(dist, "_path", "?"))
    if not name:
        problems.append(f"{where}: no METADATA name")
        continue
    files = dist.files
    if files is None:
        problems.append(f"{name}: no RECORD")
        continue
    for file in files:
        if not os.path.exists(file.locate()):
            problems.append(f"{name}: {file} is missing")
print(json.dumps(problems))
"#;

#[track_caller]
fn assert_installed_dists_are_whole(venv: &Path, context: &str) {
    let output = Command::new(venv.join("bin/python"))
        .args(["-c", CHECK_INSTALLED])
        .output()
        .expect("run the venv's python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let problems: Vec<String> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(problems.is_empty(), "{context}: {problems:#?}");
}

#[test]
fn kill_9_at_random_moments_leaves_whole_distributions_and_a_rerun_completes() {
    let trials: u64 = std::env::var("RVENV_KILL_TRIALS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("RVENV_KILL_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0x5eed_1234);
    let server = IndexServer::start(packages());
    let index = server.url();
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let mut rng = Rng(seed);
    let mut span = 0;

    // How long replacing every project takes here, to spread the kills over it.
    let pins = |version: &str| -> Vec<String> {
        PROJECTS
            .iter()
            .map(|name| format!("{name}=={version}"))
            .collect()
    };
    for version in ["1.0", "2.0"] {
        let mut args: Vec<&str> = vec!["-i", &index, "--no-compile"];
        let wanted = pins(version);
        args.extend(wanted.iter().map(String::as_str));
        let started = Instant::now();
        sandbox.install(&args).success();
        span = started.elapsed().as_millis() as u64;
    }
    let budget = Instant::now();

    let mut killed_midway = 0;
    for trial in 0..trials {
        // Every project at a random version: about half of them are replaced. Every fifth
        // trial starts from an empty cache, so kills also land in downloads and publication.
        let wanted: Vec<String> = PROJECTS
            .iter()
            .map(|name| format!("{name}=={}.0", 1 + rng.below(2)))
            .collect();
        if trial % 5 == 0 {
            let _ = std::fs::remove_dir_all(sandbox.cache().join("wheels-v2"));
            let _ = std::fs::remove_dir_all(sandbox.cache().join("bytecode-v2"));
        }
        // Bytecode compilation (a rewrite of RECORD) in every fourth trial only: it is the
        // slow part, and the kills should land in the file operations.
        let mut args: Vec<&str> = vec!["-i", &index];
        if trial % 4 != 0 {
            args.push("--no-compile");
        }
        args.extend(wanted.iter().map(String::as_str));
        let delay = Duration::from_millis(rng.below(span + 1));
        let context = format!("trial {trial} (seed {seed:#x}), kill after {delay:?}, {wanted:?}");

        let mut child = sandbox
            .install_command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        child.wait().unwrap();
        if !finished {
            killed_midway += 1;
        }
        assert_installed_dists_are_whole(&venv, &context);

        let rerun = sandbox.install(&args);
        assert_eq!(
            rerun.status,
            Some(0),
            "{context}: rerun failed:\n{}",
            rerun.stderr
        );
        assert_installed_dists_are_whole(&venv, &format!("{context}, after the rerun"));
        let now = installed(&venv);
        for pin in &wanted {
            let (name, version) = pin.split_once("==").unwrap();
            assert_eq!(
                now.get(name).map(String::as_str),
                Some(version),
                "{context}"
            );
        }
        // Published cache entries are whole (staging leftovers of the killed run aside).
        assert_published_entries_valid(&sandbox.cache());
    }
    // Most kills must have hit a running install, or the test measures nothing.
    assert!(
        killed_midway * 4 >= trials,
        "only {killed_midway} of {trials} kills hit a running install"
    );
    // What the killed runs left in the staging area: never read, removed a day later.
    let leftovers = std::fs::read_dir(sandbox.cache().join(".tmp"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    let stray: Vec<String> = std::fs::read_dir(sandbox.cache())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("downloads-"))
        .collect();
    assert!(
        stray.is_empty(),
        "downloads outside the staging area: {stray:?}"
    );
    eprintln!(
        "{trials} kills ({killed_midway} mid-install) over a {span} ms install in {:?}; \
         {leftovers} staging entries left by killed runs",
        budget.elapsed()
    );
}

/// A tmpfs of `size` mounted at `dir` for the life of the value; `None` (after saying why)
/// when this process may not mount (tests not run as root, or in a container without the
/// capability).
struct SmallDisk {
    dir: std::path::PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output();
        match output {
            Ok(output) if output.status.success() => Some(SmallDisk {
                dir: dir.to_path_buf(),
            }),
            Ok(output) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs ({})",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(err) => {
                eprintln!("skipped: cannot run mount: {err}");
                None
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// A wheel with 3 MiB of incompressible data (no zip bomb, just too big for the disk).
fn big_wheel() -> BuiltFile {
    let mut rng = Rng(42);
    let data: Vec<u8> = (0..3 << 20).map(|_| rng.next() as u8).collect();
    WheelBuilder::new("big", "1.0")
        .file("big/__init__.py", "")
        .file("big/blob.bin", data)
        .build()
}

#[test]
fn a_full_disk_under_the_venv_fails_clearly_and_changes_nothing() {
    let server = IndexServer::start([big_wheel(), WheelBuilder::new("small", "1.0").build()]);
    let sandbox = Sandbox::new();
    let Some(_disk) = SmallDisk::mount(&sandbox.path().join("small-disk"), "2m") else {
        return;
    };
    let venv = sandbox.path().join("small-disk/venv");
    rvenv_e2e::run(sandbox.command().args([
        "create",
        venv.to_str().unwrap(),
        "--python",
        rvenv_e2e::TEST_PYTHON,
    ]))
    .success();
    let before = Snapshot::of(&venv);
    let run = rvenv_e2e::run(sandbox.command().args([
        "install",
        "--venv",
        venv.to_str().unwrap(),
        "-i",
        &server.url(),
        "small",
        "big",
    ]))
    .failure();
    run.assert_stderr_contains("No space left on device");
    before.assert_unchanged(&venv, "full venv disk");
    assert_cache_consistent(&sandbox.cache());
    // Once there is room (here: without the big one), installs work again.
    rvenv_e2e::run(sandbox.command().args([
        "install",
        "--venv",
        venv.to_str().unwrap(),
        "-i",
        &server.url(),
        "small",
    ]))
    .success();
    assert_eq!(installed(&venv).len(), 1);
}

#[test]
fn a_full_disk_under_the_cache_fails_clearly_and_leaves_no_partial_entry() {
    let server = IndexServer::start([big_wheel(), WheelBuilder::new("small", "1.0").build()]);
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    let Some(_disk) = SmallDisk::mount(&sandbox.path().join("small-cache"), "2m") else {
        return;
    };
    let cache = sandbox.path().join("small-cache/cache");
    let before = Snapshot::of(&venv);
    let mut command = sandbox.install_command(&["-i", &server.url(), "small", "big"]);
    command.env("RVENV_CACHE_DIR", &cache);
    let run = rvenv_e2e::run(&mut command).failure();
    run.assert_stderr_contains("No space left on device");
    before.assert_unchanged(&venv, "full cache disk");
    assert_cache_consistent(&cache);
    hardening::assert_not_cached(&cache, "big");
}
