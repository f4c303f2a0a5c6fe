//! The install core: walks a validated wheel and decides where each file belongs; the
//! [`Destination`] places it.
//!
//! The binary distribution format's install steps:
//! > 1. Unpack. [...]
//! > 2. Spread.
//! >    a. Unpacked archive includes `distribution-1.0.dist-info/` and (if there is data)
//! >       `distribution-1.0.data/`.
//! >    b. Move each subtree of `distribution-1.0.data/` onto its destination path. Each
//! >       subdirectory of `distribution-1.0.data/` is a key into a dict of destination
//! >       directories, such as `distribution-1.0.data/(purelib|platlib|headers|scripts|data)`.
//! >    c. If applicable, update scripts starting with `#!python` to point to the correct
//! >       interpreter.
//! >    d. Update `distribution-1.0.dist-info/RECORD` with the installed paths.
//! >    e. Remove empty `distribution-1.0.data` directory.
//! >    f. Compile any installed .py to .pyc.
//!
//! Step 1 is [`crate::unpack_wheel`]; 2e never arises because `.data/` is never copied; 2f is
//! linking bytecode compiled earlier into the cache ([`InstallOptions::bytecode`]) with the
//! wheel's files, or else [`crate::compile_installed`], run once over all wheels.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use rvenv_venv::Scheme;

use crate::bytecode::link_cached_bytecode;
use crate::destination::{Destination, LinkItem, Unlinkable};
use crate::entry_points::EntryPoint;
use crate::error::{Error, Result};
use crate::inventory::InstalledDist;
use crate::launcher::{launcher, rewrite_python_shebang};
use crate::link::{LinkMode, Linker};
use crate::uninstall::finish_interrupted_removals;
use crate::wheel::{normalize_name, ValidatedWheel};

/// The environment to install into.
#[derive(Debug, Clone)]
pub struct InstallTarget {
    /// Absolute install paths.
    pub scheme: Scheme,
    /// The environment's interpreter (`<venv>/bin/python`), written into script shebangs.
    pub python: PathBuf,
    /// `(major, minor)` of that interpreter ([`rvenv_venv::Interpreter::python_minor`]): pip
    /// names its own launchers after it (`pip3.11`).
    pub python_version: (u64, u64),
}

/// How to install one wheel.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub link_mode: LinkMode,
    /// The user asked for this distribution (PEP 376 `REQUESTED`), not a dependency.
    pub requested: bool,
    /// PEP 610 `direct_url.json` content, for URL and path installs.
    pub direct_url: Option<String>,
    /// Written to `INSTALLER`, e.g. `rvenv`.
    pub installer: String,
    /// A bytecode cache entry of this wheel for the target interpreter (kept by
    /// [`crate::save_bytecode`] or [`crate::write_bytecode_manifest`]): its `.pyc` files are
    /// linked into the lib directory with the wheel's files and listed in RECORD. When the entry
    /// is missing or unusable, the install goes on without it and
    /// [`InstalledDist::linked_bytecode`] tells the caller to compile.
    pub bytecode: Option<PathBuf>,
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            link_mode: LinkMode::default(),
            requested: false,
            direct_url: None,
            installer: "rvenv".to_string(),
            bytecode: None,
        }
    }
}

/// Installs one wheel. On error everything written for it is removed again and files it
/// replaced are restored. Its `.dist-info` appears last, in one rename, so a crash part-way
/// never leaves a listed distribution with missing files.
pub fn install_wheel(
    wheel: &ValidatedWheel,
    target: &InstallTarget,
    options: &InstallOptions,
) -> Result<InstalledDist> {
    finish_removals_for(&[wheel], target)?;
    install_one(wheel, target, options, &Linkers::default())
}

/// One [`Linker`] per link mode, shared by the wheels of one install: a filesystem that refuses
/// clones is asked once, not once per wheel.
struct Linkers([Arc<Linker>; 3]);

impl Default for Linkers {
    fn default() -> Self {
        Linkers(
            [LinkMode::Clone, LinkMode::Hardlink, LinkMode::Copy]
                .map(|mode| Arc::new(Linker::new(mode))),
        )
    }
}

impl Linkers {
    fn get(&self, mode: LinkMode) -> Arc<Linker> {
        let index = match mode {
            LinkMode::Clone => 0,
            LinkMode::Hardlink => 1,
            LinkMode::Copy => 2,
        };
        Arc::clone(&self.0[index])
    }
}

/// A killed earlier run may have left removals of these projects half-done: finish them
/// before their new files go in.
fn finish_removals_for(wheels: &[&ValidatedWheel], target: &InstallTarget) -> Result<()> {
    let names: Vec<&str> = wheels.iter().map(|wheel| wheel.name.as_str()).collect();
    let scheme = &target.scheme;
    finish_interrupted_removals(&scheme.purelib, &names, &scheme.data)?;
    if scheme.platlib != scheme.purelib {
        finish_interrupted_removals(&scheme.platlib, &names, &scheme.data)?;
    }
    Ok(())
}

fn install_one(
    wheel: &ValidatedWheel,
    target: &InstallTarget,
    options: &InstallOptions,
    linkers: &Linkers,
) -> Result<InstalledDist> {
    let (dist, destination) = install_uncommitted(wheel, target, options, linkers)?;
    Ok(commit(dist, destination))
}

/// Commits an install and lists the files it wrote in `dist`.
fn commit(dist: InstalledDist, destination: Destination) -> InstalledDist {
    InstalledDist {
        installed_files: destination.commit(),
        ..dist
    }
}

/// Installs one wheel and returns what it did, not yet committed: files it replaced are kept
/// aside until [`Destination::commit`], so [`Destination::rollback`] can still undo it all. On
/// error it is rolled back already.
fn install_uncommitted(
    wheel: &ValidatedWheel,
    target: &InstallTarget,
    options: &InstallOptions,
    linkers: &Linkers,
) -> Result<(InstalledDist, Destination)> {
    // > Root-Is-Purelib: true [...] the root of the archive is installed into purelib; otherwise
    // > into platlib. The .dist-info directory goes with the root.
    let lib_dir = if wheel.root_is_purelib {
        &target.scheme.purelib
    } else {
        &target.scheme.platlib
    };
    // A killed earlier run may have left a staged `.dist-info` of this very wheel.
    let dist_info = lib_dir.join(&wheel.dist_info);
    let staging = lib_dir.join(format!("{}{STAGING_SUFFIX}", wheel.dist_info));
    if fs_err::symlink_metadata(&staging).is_ok() {
        fs_err::remove_dir_all(&staging)?;
    }
    let mut destination = Destination::with_linker(lib_dir, linkers.get(options.link_mode));
    destination.stage_dist_info(&dist_info, &staging);
    let spread = spread(wheel, target, options, lib_dir, &mut destination)
        .and_then(|dist| destination.publish_dist_info().map(|()| dist));
    match spread {
        Ok(dist) => Ok((dist, destination)),
        Err(err) => {
            destination.rollback();
            Err(err)
        }
    }
}

/// The `.dist-info` of a wheel being installed is built under this name (not a `.dist-info`,
/// so no tool lists the distribution) and renamed into place once every file is there.
pub(crate) const STAGING_SUFFIX: &str = ".rvenv-partial";

/// Installs many wheels in parallel (across wheels, and across the files of a big wheel). If
/// any fails, the ones that succeeded are rolled back too (their files removed, files they
/// replaced put back), so the environment is left as it was; the first error is returned.
pub fn install_wheels_parallel(
    wheels: &[(&ValidatedWheel, InstallOptions)],
    target: &InstallTarget,
) -> Result<Vec<InstalledDist>> {
    let all: Vec<&ValidatedWheel> = wheels.iter().map(|(wheel, _)| *wheel).collect();
    finish_removals_for(&all, target)?;
    let linkers = Linkers::default();
    let results: Vec<Result<(InstalledDist, Destination)>> = wheels
        .par_iter()
        .map(|(wheel, options)| install_uncommitted(wheel, target, options, &linkers))
        .collect();
    if results.iter().all(Result::is_ok) {
        let mut installed = Vec::with_capacity(results.len());
        for (dist, destination) in results.into_iter().flatten() {
            installed.push(commit(dist, destination));
        }
        return Ok(installed);
    }
    let mut first_error = None;
    let mut left_dirs = Vec::new();
    for result in results.into_iter().rev() {
        match result {
            Ok((_, destination)) => left_dirs.extend(destination.rollback()),
            Err(err) => first_error = Some(err),
        }
    }
    // A directory one wheel made may have held another's files when it was rolled back.
    left_dirs.sort_by_key(|dir| std::cmp::Reverse(dir.components().count()));
    for dir in left_dirs {
        let _ = fs_err::remove_dir(dir);
    }
    Err(first_error.unwrap_or_else(|| std::io::Error::other("install failed").into()))
}

fn spread(
    wheel: &ValidatedWheel,
    target: &InstallTarget,
    options: &InstallOptions,
    lib_dir: &Path,
    destination: &mut Destination,
) -> Result<InstalledDist> {
    let scheme = &target.scheme;
    let data_dir = format!("{}.data", wheel.dist_info.trim_end_matches(".dist-info"));
    let invalid = |message: String| Error::InvalidWheel {
        wheel: wheel.root.clone(),
        message,
    };

    // Where each file goes. Most are linked together by `link_all`; scripts whose shebang is
    // rewritten, and files that land where another file of the wheel does too, are placed one
    // by one afterwards, in the wheel's order, so the last one wins as before.
    let mut links: Vec<(usize, LinkItem)> = Vec::with_capacity(wheel.files.len());
    let mut writes: Vec<(usize, PathBuf, Vec<u8>)> = Vec::new();
    let mut mapped = 0;
    for (index, file) in wheel.files.iter().enumerate() {
        let Some(inside_data) = file
            .path
            .strip_prefix(&data_dir)
            .and_then(|p| p.strip_prefix('/'))
        else {
            links.push((
                index,
                LinkItem {
                    source: &file.path,
                    dest: lib_dir.join(&file.path),
                    record_path: file.path.clone(),
                    hash: file.hash.clone(),
                    size: file.size,
                },
            ));
            continue;
        };
        let Some((key, relative)) = inside_data.split_once('/') else {
            return Err(invalid(format!(
                "`{}` must be inside a scheme directory (purelib, platlib, scripts, headers, data)",
                file.path
            )));
        };
        mapped += 1;
        let dest = match key {
            "purelib" => scheme.purelib.join(relative),
            "platlib" => scheme.platlib.join(relative),
            "data" => scheme.data.join(relative),
            // pip puts a distribution's headers in a directory named after it.
            "headers" => scheme
                .include
                .join(normalize_name(&wheel.name))
                .join(relative),
            "scripts" => {
                let dest = scheme.scripts.join(relative);
                let content = fs_err::read(wheel.root.join(&file.path))?;
                if let Some(rewritten) = rewrite_python_shebang(&content, &target.python) {
                    writes.push((index, dest, rewritten));
                    continue;
                }
                dest
            }
            other => {
                return Err(invalid(format!(
                    "unknown directory `{data_dir}/{other}` (expected purelib, platlib, scripts, \
                     headers or data)"
                )))
            }
        };
        links.push((
            index,
            LinkItem {
                source: &file.path,
                record_path: destination.record_path(&dest),
                dest,
                hash: file.hash.clone(),
                size: file.size,
            },
        ));
    }

    // Paths inside the wheel are distinct, so only files mapped out of `.data/` can meet.
    let mut one_by_one: Vec<(usize, Placement)> = Vec::new();
    if mapped > 0 {
        let mut seen: HashMap<&Path, usize> = HashMap::new();
        for dest in links
            .iter()
            .map(|(_, item)| item.dest.as_path())
            .chain(writes.iter().map(|(_, dest, _)| dest.as_path()))
        {
            *seen.entry(dest).or_default() += 1;
        }
        let shared: HashSet<PathBuf> = seen
            .into_iter()
            .filter(|(_, count)| *count > 1)
            .map(|(dest, _)| dest.to_path_buf())
            .collect();
        if !shared.is_empty() {
            let (apart, together): (Vec<_>, Vec<_>) = links
                .into_iter()
                .partition(|(_, item)| shared.contains(&item.dest));
            links = together;
            one_by_one.extend(
                apart
                    .into_iter()
                    .map(|(i, item)| (i, Placement::Link(item))),
            );
        }
    }
    one_by_one.extend(
        writes
            .into_iter()
            .map(|(i, dest, content)| (i, Placement::Write(dest, content))),
    );
    one_by_one.sort_by_key(|(index, _)| *index);

    destination.link_all(
        &wheel.root,
        links.into_iter().map(|(_, item)| item).collect(),
        Unlinkable::Fail,
    )?;
    for (_, placement) in one_by_one {
        match placement {
            Placement::Link(item) => {
                let source = wheel.root.join(item.source);
                destination.link(&source, &item.dest, &item.hash, item.size)?
            }
            Placement::Write(dest, content) => destination.write(&dest, &content, true)?,
        }
    }

    // 2f, when the bytecode is in the cache already: after the wheel's files, so a kept `.pyc`
    // replaces one the wheel ships, as compiling in place would.
    let linked_bytecode = match &options.bytecode {
        Some(cached) => link_cached_bytecode(cached, lib_dir, destination)?,
        None => false,
    };

    let entry_points = &wheel.entry_points;
    let console_scripts = versioned_launchers(&entry_points.console_scripts, target.python_version);
    for entry in console_scripts.iter().chain(&entry_points.gui_scripts) {
        let text = launcher(&target.python, entry);
        destination.write(&scheme.scripts.join(&entry.name), text.as_bytes(), true)?;
    }

    // PEP 376 / 610 metadata, then RECORD listing everything.
    let dist_info = lib_dir.join(&wheel.dist_info);
    destination.write(
        &dist_info.join("INSTALLER"),
        format!("{}\n", options.installer).as_bytes(),
        false,
    )?;
    if options.requested {
        destination.write(&dist_info.join("REQUESTED"), b"", false)?;
    }
    if let Some(direct_url) = &options.direct_url {
        destination.write(
            &dist_info.join("direct_url.json"),
            direct_url.as_bytes(),
            false,
        )?;
    }
    destination.write_record(&dist_info.join("RECORD"))?;

    Ok(InstalledDist {
        name: wheel.name.clone(),
        version: wheel.version.clone(),
        dist_info,
        requested: options.requested,
        direct_url: options.direct_url.clone(),
        installer: Some(options.installer.clone()),
        installed_files: Vec::new(),
        linked_bytecode,
    })
}

/// A file placed on its own, after the ones linked together.
enum Placement<'a> {
    Link(LinkItem<'a>),
    /// A script with its `#!python` line rewritten.
    Write(PathBuf, Vec<u8>),
}

/// pip's special case for its own launchers (and old setuptools' `easy_install`): whatever
/// versioned names the wheel carries are replaced by ones for the target interpreter, so
/// installing pip into a 3.11 venv gives `pip`, `pip3` and `pip3.11`.
fn versioned_launchers(entries: &[EntryPoint], (major, minor): (u64, u64)) -> Vec<EntryPoint> {
    let is_versioned = |name: &str, prefix: &str, separator: &str| {
        name.strip_prefix(prefix).is_some_and(|rest| {
            let rest = rest.strip_prefix(separator).unwrap_or(rest);
            rest.is_empty()
                || rest
                    .split('.')
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    let has_pip = entries.iter().any(|entry| entry.name == "pip");
    let has_easy_install = entries.iter().any(|entry| entry.name == "easy_install");
    let mut launchers: Vec<EntryPoint> = entries
        .iter()
        .filter(|entry| {
            let replaced = (has_pip && is_versioned(&entry.name, "pip", ""))
                || (has_easy_install && is_versioned(&entry.name, "easy_install", "-"));
            !replaced
        })
        .cloned()
        .collect();
    let renamed = |entry: &EntryPoint, name: String| EntryPoint {
        name,
        ..entry.clone()
    };
    if let Some(pip) = entries.iter().find(|entry| entry.name == "pip") {
        launchers.push(pip.clone());
        launchers.push(renamed(pip, format!("pip{major}")));
        launchers.push(renamed(pip, format!("pip{major}.{minor}")));
    }
    if let Some(easy_install) = entries.iter().find(|entry| entry.name == "easy_install") {
        launchers.push(easy_install.clone());
        launchers.push(renamed(
            easy_install,
            format!("easy_install-{major}.{minor}"),
        ));
    }
    launchers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> EntryPoint {
        EntryPoint {
            name: name.into(),
            module: "m".into(),
            object: "f".into(),
        }
    }

    #[test]
    fn pip_launchers_follow_the_target_version() {
        let names = |entries: &[&str]| {
            let entries: Vec<EntryPoint> = entries.iter().map(|name| entry(name)).collect();
            let mut names: Vec<String> = versioned_launchers(&entries, (3, 11))
                .into_iter()
                .map(|e| e.name)
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            names(&["pip", "pip3", "pip3.12"]),
            ["pip", "pip3", "pip3.11"]
        );
        assert_eq!(
            names(&["pip", "pipx-tool"]),
            ["pip", "pip3", "pip3.11", "pipx-tool"]
        );
        assert_eq!(names(&["pip3.8", "tool"]), ["pip3.8", "tool"]);
        assert_eq!(
            names(&["easy_install", "easy_install-3.6"]),
            ["easy_install", "easy_install-3.11"]
        );
    }
}
