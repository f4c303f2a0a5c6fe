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
//! [`crate::compile_installed`], run once over all wheels.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rvenv_venv::Scheme;

use crate::destination::Destination;
use crate::entry_points::EntryPoint;
use crate::error::{Error, Result};
use crate::inventory::InstalledDist;
use crate::launcher::{launcher, rewrite_python_shebang};
use crate::link::LinkMode;
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
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            link_mode: LinkMode::default(),
            requested: false,
            direct_url: None,
            installer: "rvenv".to_string(),
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
    install_one(wheel, target, options)
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
) -> Result<InstalledDist> {
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
    let mut destination = Destination::new(lib_dir, options.link_mode);
    destination.stage_dist_info(&dist_info, &staging);
    let spread = spread(wheel, target, options, lib_dir, &mut destination)
        .and_then(|dist| destination.publish_dist_info().map(|()| dist));
    match spread {
        Ok(dist) => {
            let installed_files = destination.written_files();
            destination.commit();
            Ok(InstalledDist {
                installed_files,
                ..dist
            })
        }
        Err(err) => {
            destination.rollback();
            Err(err)
        }
    }
}

/// The `.dist-info` of a wheel being installed is built under this name (not a `.dist-info`,
/// so no tool lists the distribution) and renamed into place once every file is there.
pub(crate) const STAGING_SUFFIX: &str = ".rvenv-partial";

/// Installs many wheels in parallel. If any fails, the ones that succeeded are uninstalled again,
/// so the environment is left as it was; the first error is returned.
pub fn install_wheels_parallel(
    wheels: &[(&ValidatedWheel, InstallOptions)],
    target: &InstallTarget,
) -> Result<Vec<InstalledDist>> {
    let all: Vec<&ValidatedWheel> = wheels.iter().map(|(wheel, _)| *wheel).collect();
    finish_removals_for(&all, target)?;
    let results: Vec<Result<InstalledDist>> = wheels
        .par_iter()
        .map(|(wheel, options)| install_one(wheel, target, options))
        .collect();
    if results.iter().all(Result::is_ok) {
        return results.into_iter().collect();
    }
    let mut first_error = None;
    for result in results {
        match result {
            Ok(dist) => {
                // The `.dist-info` first: never a listed distribution with files missing.
                let _ = fs_err::remove_dir_all(&dist.dist_info);
                for file in dist.installed_files.iter().rev() {
                    let _ = fs_err::remove_file(file);
                    remove_empty_parents(file, &target.scheme);
                }
            }
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| std::io::Error::other("install failed").into()))
}

/// Removes the directories above `file` that are left empty, up to (not including) the
/// scheme's own directories.
fn remove_empty_parents(file: &Path, scheme: &Scheme) {
    let stops = [
        &scheme.purelib,
        &scheme.platlib,
        &scheme.scripts,
        &scheme.data,
        &scheme.include,
    ];
    let mut dir = file.parent();
    while let Some(current) = dir {
        if stops.iter().any(|stop| current == stop.as_path()) || !current.starts_with(&scheme.data)
        {
            break;
        }
        if fs_err::remove_dir(current).is_err() {
            break;
        }
        dir = current.parent();
    }
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

    for file in &wheel.files {
        let source = wheel.root.join(&file.path);
        let Some(inside_data) = file
            .path
            .strip_prefix(&data_dir)
            .and_then(|p| p.strip_prefix('/'))
        else {
            destination.link(&source, &lib_dir.join(&file.path), &file.hash, file.size)?;
            continue;
        };
        let Some((key, relative)) = inside_data.split_once('/') else {
            return Err(invalid(format!(
                "`{}` must be inside a scheme directory (purelib, platlib, scripts, headers, data)",
                file.path
            )));
        };
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
                let content = fs_err::read(&source)?;
                match rewrite_python_shebang(&content, &target.python) {
                    Some(rewritten) => destination.write(&dest, &rewritten, true)?,
                    None => destination.link(&source, &dest, &file.hash, file.size)?,
                }
                continue;
            }
            other => {
                return Err(invalid(format!(
                    "unknown directory `{data_dir}/{other}` (expected purelib, platlib, scripts, \
                     headers or data)"
                )))
            }
        };
        destination.link(&source, &dest, &file.hash, file.size)?;
    }

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
    })
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
