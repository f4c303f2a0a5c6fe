//! Concurrent `rvenv install` runs: four processes into four venvs sharing one cache, started at
//! the same moment, round after round (the cache emptied between rounds, so they race to
//! download and publish the same wheels); and two processes into the same venv, which take
//! turns and both succeed. After every round the cache holds only whole entries.
//!
//! Build the binary first: `cargo build -p rvenv && cargo test -p rvenv-e2e --test hardening_concurrency`.

mod hardening;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use hardening::assert_cache_consistent;
use rvenv_e2e::{installed, run, Run, Sandbox, TEST_PYTHON};
use rvenv_testkit::{BuiltFile, IndexServer, WheelBuilder};

const PROJECTS: [&str; 8] = [
    "apple", "banana", "cherry", "damson", "elder", "fig", "grape", "hazel",
];

fn packages() -> Vec<BuiltFile> {
    let mut built = Vec::new();
    for name in PROJECTS {
        for version in ["1.0", "2.0"] {
            let mut wheel = WheelBuilder::new(name, version)
                .entry_point("console_scripts", name, &format!("{name}:main"))
                .file(&format!("{name}/__init__.py"), "def main():\n    pass\n");
            for module in 0..10 {
                wheel = wheel.file(&format!("{name}/m{module}.py"), format!("X = {module}\n"));
            }
            built.push(wheel.build());
        }
    }
    built
}

/// Runs every command at the same moment (threads released together), to the end.
fn run_together(commands: Vec<std::process::Command>) -> Vec<Run> {
    let barrier = Arc::new(Barrier::new(commands.len()));
    let threads: Vec<_> = commands
        .into_iter()
        .map(|mut command| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                run(&mut command)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect()
}

fn create_venv(sandbox: &Sandbox, name: &str) -> PathBuf {
    run(sandbox
        .command()
        .args(["create", name, "--python", TEST_PYTHON]))
    .success();
    sandbox.path().join(name)
}

fn empty_wheel_cache(cache: &Path) {
    for bucket in ["wheels-v2", "bytecode-v2"] {
        let _ = std::fs::remove_dir_all(cache.join(bucket));
    }
}

#[test]
fn four_processes_four_venvs_one_cache_twenty_rounds() {
    let rounds = 20;
    let server = IndexServer::start(packages());
    let index = server.url();
    let sandbox = Sandbox::new();
    let venvs: Vec<PathBuf> = (0..4)
        .map(|i| create_venv(&sandbox, &format!("venv{i}")))
        .collect();
    let started = Instant::now();
    for round in 0..rounds {
        empty_wheel_cache(&sandbox.cache());
        // Venv i wants four projects starting at 2i (overlapping its neighbours'), at a
        // version that changes every other round, so rounds also replace what is installed.
        let version = if round % 4 < 2 { "1.0" } else { "2.0" };
        let sets: Vec<Vec<String>> = (0..4)
            .map(|i| {
                (0..4)
                    .map(|k| format!("{}=={version}", PROJECTS[(2 * i + k) % PROJECTS.len()]))
                    .collect()
            })
            .collect();
        let commands = venvs
            .iter()
            .zip(&sets)
            .map(|(venv, set)| {
                let mut command = sandbox.command();
                command
                    .arg("install")
                    .arg("--venv")
                    .arg(venv)
                    .args(["-i", &index]);
                // Bytecode (a cache bucket of its own) in every fourth round only.
                if round % 4 != 3 {
                    command.arg("--no-compile");
                }
                command.args(set);
                command
            })
            .collect();
        for (i, run) in run_together(commands).into_iter().enumerate() {
            assert_eq!(
                run.status,
                Some(0),
                "round {round}, venv{i}:\n{}",
                run.stderr
            );
        }
        for (venv, set) in venvs.iter().zip(&sets) {
            let now = installed(venv);
            for pin in set {
                let (name, version) = pin.split_once("==").unwrap();
                assert_eq!(
                    now.get(name).map(String::as_str),
                    Some(version),
                    "round {round}"
                );
            }
        }
        assert_cache_consistent(&sandbox.cache());
    }
    eprintln!(
        "{rounds} rounds of 4 concurrent installs in {:?}",
        started.elapsed()
    );
}

#[test]
fn two_processes_into_one_venv_take_turns_and_install_the_union() {
    let server = IndexServer::start(packages());
    let index = server.url();
    let sandbox = Sandbox::new();
    let venv = sandbox.create_venv();
    for round in 0..6 {
        empty_wheel_cache(&sandbox.cache());
        let version = if round % 2 == 0 { "1.0" } else { "2.0" };
        let halves: [Vec<String>; 2] = [
            PROJECTS[..4]
                .iter()
                .map(|name| format!("{name}=={version}"))
                .collect(),
            PROJECTS[4..]
                .iter()
                .map(|name| format!("{name}=={version}"))
                .collect(),
        ];
        let commands = halves
            .iter()
            .map(|half| {
                let mut command = sandbox.install_command(&["-i", &index, "--no-compile"]);
                command.args(half);
                command
            })
            .collect();
        for run in run_together(commands) {
            assert_eq!(run.status, Some(0), "round {round}:\n{}", run.stderr);
        }
        let now = installed(&venv);
        assert_eq!(now.len(), PROJECTS.len(), "round {round}: {now:?}");
        assert!(now.values().all(|v| v == version), "round {round}: {now:?}");
        // Every launcher of the union is there and runs.
        for name in PROJECTS {
            assert!(
                venv.join("bin").join(name).is_file(),
                "round {round}: bin/{name}"
            );
        }
        assert_cache_consistent(&sandbox.cache());
    }
}
