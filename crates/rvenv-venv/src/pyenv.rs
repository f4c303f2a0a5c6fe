//! pyenv, read without running it: its versions directory and which version a shim would run.

use std::path::{Path, PathBuf};

/// `$PYENV_ROOT` or `~/.pyenv`.
fn root() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os("PYENV_ROOT").filter(|root| !root.is_empty()) {
        return Some(PathBuf::from(root));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pyenv"))
}

/// `<root>/versions/*/bin`, sorted by name.
pub(crate) fn version_bin_dirs() -> Vec<PathBuf> {
    let Some(versions) = root().map(|root| root.join("versions")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(versions)
        .into_iter()
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The real executable a pyenv shim (`<root>/shims/<name>`) would run, following pyenv's own
/// order: `PYENV_VERSION`, a `.python-version` file from the working directory upward, then
/// `<root>/version`. `None` for the `system` version (the caller looks further along PATH).
pub(crate) fn resolve_shim(shim: &Path) -> Option<PathBuf> {
    let name = shim.file_name()?;
    let root = shim.parent()?.parent()?;
    selected_versions(root)
        .into_iter()
        .take_while(|version| version != "system")
        .map(|version| root.join("versions").join(version).join("bin").join(name))
        .find(|candidate| candidate.is_file())
}

fn selected_versions(root: &Path) -> Vec<String> {
    if let Ok(versions) = std::env::var("PYENV_VERSION") {
        if !versions.trim().is_empty() {
            return versions.split(':').map(|v| v.trim().to_string()).collect();
        }
    }
    let local = std::env::current_dir().ok().and_then(|cwd| {
        cwd.ancestors()
            .map(|dir| dir.join(".python-version"))
            .find(|file| file.is_file())
    });
    let file = local.unwrap_or_else(|| root.join("version"));
    let versions: Vec<String> = std::fs::read_to_string(file)
        .unwrap_or_default()
        .split_whitespace()
        .filter(|word| !word.starts_with('#'))
        .map(str::to_string)
        .collect();
    if versions.is_empty() {
        vec!["system".to_string()]
    } else {
        versions
    }
}
