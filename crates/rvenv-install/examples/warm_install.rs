//! Times the install phase of a warm-cache install: opening every published wheel entry of a
//! cache (`open_trusted`) and installing them all into a fresh scheme, repeated.
//!
//! `cargo run --release -p rvenv-install --example warm_install -- CACHE/wheels-v2 ROUNDS SCRATCH`
//! (SCRATCH on the cache's filesystem, so files are linked, not copied).

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use rvenv_install::{
    install_wheels_parallel, InstallOptions, InstallTarget, LinkMode, ValidatedWheel,
};
use rvenv_venv::Scheme;

fn entries(bucket: &Path) -> Vec<(PathBuf, String, String)> {
    let mut entries = Vec::new();
    for project in std::fs::read_dir(bucket).unwrap() {
        for entry in std::fs::read_dir(project.unwrap().path()).unwrap() {
            let entry = entry.unwrap().path();
            let dist_info = std::fs::read_dir(&entry)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .find(|name| name.ends_with(".dist-info"))
                .unwrap();
            let (name, version) = dist_info
                .trim_end_matches(".dist-info")
                .split_once('-')
                .unwrap();
            entries.push((entry, name.to_string(), version.to_string()));
        }
    }
    entries
}

/// User + system CPU time of the whole process so far, in ms.
fn cpu_ms() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bucket = PathBuf::from(&args[1]);
    let rounds: usize = args.get(2).map_or(20, |n| n.parse().unwrap());
    let entries = entries(&bucket);
    let scratch = args.get(3).map_or_else(std::env::temp_dir, PathBuf::from);
    let root = scratch.join(format!("warm-install-{}", std::process::id()));
    let (mut open_times, mut install_times) = (Vec::new(), Vec::new());
    let (mut open_cpu, mut install_cpu) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let _ = std::fs::remove_dir_all(&root);
        let site = root.join("lib/python3.11/site-packages");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        let target = InstallTarget {
            scheme: Scheme {
                purelib: site.clone(),
                platlib: site,
                scripts: root.join("bin"),
                data: root.clone(),
                include: root.join("include/site/python3.11"),
            },
            python: root.join("bin/python"),
            python_version: (3, 11),
        };
        let (started, cpu) = (Instant::now(), cpu_ms());
        let wheels: Vec<ValidatedWheel> = entries
            .par_iter()
            .map(|(dir, name, version)| ValidatedWheel::open_trusted(dir, name, version).unwrap())
            .collect();
        open_times.push(started.elapsed().as_secs_f64() * 1000.0);
        open_cpu.push(cpu_ms() - cpu);
        let options = InstallOptions {
            link_mode: LinkMode::Clone,
            ..InstallOptions::default()
        };
        let jobs: Vec<_> = wheels
            .iter()
            .map(|wheel| (wheel, options.clone()))
            .collect();
        let (started, cpu) = (Instant::now(), cpu_ms());
        install_wheels_parallel(&jobs, &target).unwrap();
        install_times.push(started.elapsed().as_secs_f64() * 1000.0);
        install_cpu.push(cpu_ms() - cpu);
    }
    let _ = std::fs::remove_dir_all(&root);
    for (label, mut times) in [
        ("open", open_times),
        ("open cpu", open_cpu),
        ("install", install_times),
        ("inst cpu", install_cpu),
    ] {
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{label:8} min {:6.2} ms  median {:6.2} ms  ({} rounds, {} wheels)",
            times[0],
            times[times.len() / 2],
            times.len(),
            entries.len()
        );
    }
}
