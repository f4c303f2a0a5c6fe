//! Bytecode for the installed packages, compiled once per wheel and interpreter: a warm install
//! links the cached `.pyc` files instead of starting Python to compile them again.

use anyhow::Context;
use rvenv_cache::{Bucket, Cache};
use rvenv_install::{InstalledDist, LinkMode, ValidatedWheel};
use rvenv_venv::Environment;

/// Gives every distribution in `installed` (installed from the wheel at the same index of
/// `wheels`) its bytecode: from the cache when kept there, else compiled now and kept.
pub fn compile(
    cache: &Cache,
    environment: &Environment,
    wheels: &[ValidatedWheel],
    installed: &mut [InstalledDist],
    link_mode: LinkMode,
) -> anyhow::Result<()> {
    let interpreter = interpreter_key(environment);
    let wheels_dir = cache.bucket(Bucket::Wheels);
    let built_dir = cache.bucket(Bucket::Built);
    let mut to_compile = Vec::new();
    for (index, (wheel, dist)) in wheels.iter().zip(installed.iter_mut()).enumerate() {
        // Only published cache entries have a stable name to keep bytecode under: downloaded
        // wheels, and wheels built from sdists or commits (not directories or editables).
        let key = match (
            wheel.root().strip_prefix(&wheels_dir),
            wheel.root().strip_prefix(&built_dir),
        ) {
            (Ok(key), _) => Some(key.display().to_string()),
            (_, Ok(key)) => Some(format!("built/{}", key.display())),
            _ => None,
        };
        let entry = key.map(|key| cache.entry(Bucket::Bytecode, &format!("{key}/{interpreter}")));
        let restored = match &entry {
            Some(dir) => rvenv_install::restore_bytecode(dist, dir, link_mode)
                .with_context(|| format!("cannot link the cached bytecode of {}", dist.name))?,
            None => false,
        };
        if !restored {
            to_compile.push((index, entry));
        }
    }
    if to_compile.is_empty() {
        return Ok(());
    }
    let mut compiling: Vec<InstalledDist> = to_compile
        .iter()
        .map(|(index, _)| std::mem::take(&mut installed[*index]))
        .collect();
    let compiled = rvenv_install::compile_installed(&environment.python, &mut compiling)
        .context("cannot compile bytecode");
    for ((index, entry), dist) in to_compile.into_iter().zip(compiling) {
        if let Some(dir) = entry {
            // A cache that cannot be written only costs speed next time.
            let _ = keep(cache, &dist, &dir);
        }
        installed[index] = dist;
    }
    compiled.map(|_| ())
}

fn keep(cache: &Cache, dist: &InstalledDist, dir: &std::path::Path) -> anyhow::Result<()> {
    let staged = cache.staging_dir()?;
    rvenv_install::save_bytecode(dist, staged.path())?;
    cache.publish(staged, dir)?;
    Ok(())
}

/// Bytecode depends on the interpreter's version (the magic number) and on how it is checked:
/// with SOURCE_DATE_EPOCH set, Python writes hash-checked `.pyc` files instead of timestamped ones.
fn interpreter_key(environment: &Environment) -> String {
    let interpreter = &environment.interpreter;
    let checked = if std::env::var_os("SOURCE_DATE_EPOCH").is_some() {
        "-hash"
    } else {
        ""
    };
    format!(
        "{}-{}{checked}",
        interpreter.implementation, interpreter.python_full_version
    )
}
