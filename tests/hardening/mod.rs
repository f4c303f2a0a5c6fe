//! Helpers shared by the hardening tests (tests/hardening_*.rs): snapshots of a directory tree
//! and checks that rvenv's cache holds only whole, valid entries.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Every path below a directory with its kind, size and modification time: two snapshots are
/// equal when nothing was added, removed or rewritten. rvenv's own lock file is left out, and
/// directories count by name only: their mtimes move whenever an entry comes and goes, as in
/// an install that was rolled back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(pub BTreeMap<String, (char, u64, SystemTime)>);

impl Snapshot {
    pub fn of(root: &Path) -> Snapshot {
        let mut found = BTreeMap::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            {
                let path = entry.unwrap().path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                let name = path.strip_prefix(root).unwrap().display().to_string();
                if name == ".rvenv.lock" {
                    continue;
                }
                let kind = if meta.is_dir() {
                    pending.push(path);
                    'd'
                } else if meta.is_symlink() {
                    'l'
                } else {
                    'f'
                };
                let size = if kind == 'f' { meta.len() } else { 0 };
                let modified = if kind == 'd' {
                    SystemTime::UNIX_EPOCH
                } else {
                    meta.modified().unwrap()
                };
                found.insert(name, (kind, size, modified));
            }
        }
        Snapshot(found)
    }

    /// Panics with the paths that differ.
    #[track_caller]
    pub fn assert_unchanged(&self, root: &Path, context: &str) {
        let now = Snapshot::of(root);
        if &now == self {
            return;
        }
        let mut diff = Vec::new();
        for (path, before) in &self.0 {
            match now.0.get(path) {
                None => diff.push(format!("removed {path}")),
                Some(after) if after != before => diff.push(format!("changed {path}")),
                Some(_) => {}
            }
        }
        for path in now.0.keys().filter(|path| !self.0.contains_key(*path)) {
            diff.push(format!("added {path}"));
        }
        panic!(
            "{context}: {} changed:\n{}",
            root.display(),
            diff.join("\n")
        );
    }
}

/// The published entries of the unpacked-wheel bucket: `wheels-v2/<name>/<entry>`.
pub fn wheel_entries(cache: &Path) -> Vec<PathBuf> {
    let bucket = cache.join("wheels-v2");
    let Ok(names) = std::fs::read_dir(&bucket) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for name in names {
        let name = name.unwrap().path();
        for entry in std::fs::read_dir(&name).unwrap() {
            entries.push(entry.unwrap().path());
        }
    }
    entries.sort();
    entries
}

/// Panics unless the cache has nothing half-built: the staging area is empty, and every
/// published wheel entry passes rvenv's full validation (RECORD hashes re-computed).
#[track_caller]
pub fn assert_cache_consistent(cache: &Path) {
    let staging = cache.join(".tmp");
    if let Ok(leftovers) = std::fs::read_dir(&staging) {
        let leftovers: Vec<_> = leftovers.map(|e| e.unwrap().file_name()).collect();
        assert!(
            leftovers.is_empty(),
            "left in {}: {leftovers:?}",
            staging.display()
        );
    }
    assert_published_entries_valid(cache);
}

/// Panics unless every published wheel entry passes rvenv's full validation.
#[track_caller]
pub fn assert_published_entries_valid(cache: &Path) {
    for entry in wheel_entries(cache) {
        let (name, version) = entry_name_version(&entry);
        if let Err(err) = rvenv_install::UnpackedWheel::open(&entry, &name, &version) {
            panic!(
                "cache entry {} is not a whole wheel: {err}",
                entry.display()
            );
        }
    }
}

/// Name and version of a wheel entry from its `.dist-info` directory.
fn entry_name_version(entry: &Path) -> (String, String) {
    let dist_info = std::fs::read_dir(entry)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|name| name.ends_with(".dist-info"))
        .unwrap_or_else(|| panic!("cache entry {} has no .dist-info", entry.display()));
    let stem = dist_info.trim_end_matches(".dist-info");
    let (name, version) = stem
        .split_once('-')
        .unwrap_or_else(|| panic!("odd .dist-info {dist_info}"));
    (name.to_string(), version.to_string())
}

/// Panics unless no published wheel entry exists for the project `name` (normalized).
#[track_caller]
pub fn assert_not_cached(cache: &Path, name: &str) {
    let dir = cache.join("wheels-v2").join(name);
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(entries.is_empty(), "{name} is in the cache: {entries:?}");
}
