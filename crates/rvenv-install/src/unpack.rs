//! Unpacking a wheel archive into a directory, validating every entry on the way.
//!
//! Each entry streams straight to its file while its sha256 is computed, so checking RECORD
//! afterwards ([`UnpackedWheel::validate`]) needs no second read.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};

use fs_err::os::unix::fs::OpenOptionsExt;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zip::ZipArchive;

use crate::error::{Error, Result};

/// Limits that stop a malicious archive from filling the disk (a "zip bomb").
#[derive(Debug, Clone)]
pub struct UnpackLimits {
    /// Sum of all entries' uncompressed sizes.
    pub max_total_size: u64,
    /// Uncompressed size of any one entry.
    pub max_entry_size: u64,
    /// Largest uncompressed/compressed ratio accepted for entries above `ratio_threshold`.
    /// Deflate cannot honestly exceed about 1030:1; real files stay far below 500:1.
    pub max_ratio: u64,
    /// Entries smaller than this are never refused for their ratio.
    pub ratio_threshold: u64,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        UnpackLimits {
            max_total_size: 32 << 30,
            max_entry_size: 8 << 30,
            max_ratio: 500,
            ratio_threshold: 16 << 20,
        }
    }
}

/// A file of an unpacked wheel, as streamed out of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackedFile {
    pub size: u64,
    pub sha256: [u8; 32],
}

/// A wheel unpacked into a directory whose entries passed the path and size checks. Its
/// metadata and RECORD are not checked yet: [`UnpackedWheel::validate`] does that and yields the
/// [`crate::ValidatedWheel`] the installer accepts.
#[derive(Debug, Clone)]
pub struct UnpackedWheel {
    pub(crate) root: PathBuf,
    /// Where the files came from, for error messages (the archive, or the directory).
    pub(crate) origin: PathBuf,
    /// Every regular file, keyed by its `/`-separated path relative to `root`.
    pub(crate) files: BTreeMap<String, UnpackedFile>,
}

impl UnpackedWheel {
    /// The directory the wheel was unpacked into.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files with their sizes and digests, by relative path.
    pub fn files(&self) -> &BTreeMap<String, UnpackedFile> {
        &self.files
    }
}

/// Unpacks `archive` into `dest` with the default [`UnpackLimits`].
///
/// `dest` must not exist yet or be empty (a fresh temporary directory that the caller renames
/// into the cache once this and [`UnpackedWheel::validate`] succeed). On error `dest` is removed
/// entirely, so nothing of the wheel is left behind.
pub fn unpack_wheel(archive: &Path, dest: &Path) -> Result<UnpackedWheel> {
    unpack_wheel_with_limits(archive, dest, &UnpackLimits::default())
}

/// [`unpack_wheel`] with explicit limits.
pub fn unpack_wheel_with_limits(
    archive: &Path,
    dest: &Path,
    limits: &UnpackLimits,
) -> Result<UnpackedWheel> {
    let result = unpack_inner(archive, dest, limits);
    if result.is_err() {
        // Best effort: the error that got us here matters more than a failed cleanup.
        let _ = fs_err::remove_dir_all(dest);
    }
    result
}

fn unpack_inner(archive: &Path, dest: &Path, limits: &UnpackLimits) -> Result<UnpackedWheel> {
    // Most wheels are read into memory once: every thread then reads entries from one copy
    // and one parsed central directory, without a seek and a read call per entry.
    if fs_err::metadata(archive)?.len() <= IN_MEMORY_LIMIT {
        let bytes = fs_err::read(archive)?;
        let zip = ZipArchive::new(Cursor::new(bytes.as_slice())).map_err(|source| Error::Zip {
            wheel: archive.to_path_buf(),
            source,
        })?;
        return unpack_from(archive, dest, limits, &zip, || Ok(zip.clone()));
    }
    let zip = open_archive(archive)?;
    unpack_from(archive, dest, limits, &zip, || open_archive(archive))
}

/// Archives up to this size are unpacked from memory; larger ones (numpy, scipy, torch) are read
/// from their file, so that unpacking several at once does not hold them all in memory (a cold
/// install of ds.txt peaked at 530 MiB with a 256 MiB limit).
const IN_MEMORY_LIMIT: u64 = 16 << 20;

/// Unpacks `zip` (read from `archive`); `reopen` gives each thread its own handle.
fn unpack_from<R: Read + Seek>(
    archive: &Path,
    dest: &Path,
    limits: &UnpackLimits,
    zip: &ZipArchive<R>,
    reopen: impl Fn() -> Result<ZipArchive<R>> + Sync,
) -> Result<UnpackedWheel> {
    if zip.has_duplicate_names() {
        return Err(Error::DuplicateEntry {
            wheel: archive.to_path_buf(),
            entry: "a file name (in its central directory)".to_string(),
        });
    }
    fs_err::create_dir_all(dest)?;
    if fs_err::read_dir(dest)?.next().is_some() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("unpack destination {} is not empty", dest.display()),
        )));
    }

    // First every entry's name and declared sizes are checked, from the central directory alone,
    // so a hostile archive is refused before anything is inflated.
    let plan = plan_entries(archive, zip, limits)?;
    // Each directory once, parents first (the set is sorted).
    let mut directories: BTreeSet<String> = plan_directories(zip).into_iter().collect();
    for entry in &plan {
        if let Some((parent, _)) = entry.relative.rsplit_once('/') {
            directories.insert(parent.to_string());
        }
    }
    for dir in &directories {
        fs_err::create_dir_all(dest.join(dir))?;
    }

    // Then the files are inflated, in parallel batches each with its own archive handle.
    let total: u64 = plan.iter().map(|entry| entry.declared).sum();
    let batches = if total >= PARALLEL_THRESHOLD {
        rayon::current_num_threads().clamp(1, plan.len().max(1))
    } else {
        1
    };
    let chunk = plan.len().div_ceil(batches).max(1);
    let extracted: Vec<Result<Vec<(String, UnpackedFile)>>> = plan
        .par_chunks(chunk)
        .map(|entries| {
            let mut zip = reopen()?;
            let mut buffer = vec![0u8; 64 * 1024];
            entries
                .iter()
                .map(|entry| extract_entry(archive, &mut zip, entry, dest, &mut buffer))
                .collect()
        })
        .collect();
    let mut files = BTreeMap::new();
    for batch in extracted {
        files.extend(batch?);
    }
    Ok(UnpackedWheel {
        root: dest.to_path_buf(),
        origin: archive.to_path_buf(),
        files,
    })
}

/// Below this many uncompressed bytes one thread unpacks faster than several.
const PARALLEL_THRESHOLD: u64 = 8 << 20;

fn open_archive(archive: &Path) -> Result<ZipArchive<std::io::BufReader<fs_err::File>>> {
    let file = fs_err::File::open(archive)?;
    ZipArchive::new(std::io::BufReader::new(file)).map_err(|source| Error::Zip {
        wheel: archive.to_path_buf(),
        source,
    })
}

/// A file entry that passed the checks.
struct PlannedEntry {
    index: usize,
    name: String,
    relative: String,
    declared: u64,
    executable: bool,
}

fn plan_entries<R: Read + Seek>(
    archive: &Path,
    zip: &ZipArchive<R>,
    limits: &UnpackLimits,
) -> Result<Vec<PlannedEntry>> {
    let mut plan = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut total: u64 = 0;
    for index in 0..zip.len() {
        let entry = zip.by_index_data(index).map_err(|source| Error::Zip {
            wheel: archive.to_path_buf(),
            source,
        })?;
        let name = entry.name().map_err(|source| Error::Zip {
            wheel: archive.to_path_buf(),
            source,
        })?;
        let unsafe_entry = |reason| Error::UnsafeEntry {
            wheel: archive.to_path_buf(),
            entry: name.to_string(),
            reason,
        };
        if entry.is_symlink() {
            return Err(unsafe_entry("symbolic links are not allowed in wheels"));
        }
        let relative = name.strip_suffix('/').unwrap_or(&name);
        check_relative_path(relative).map_err(unsafe_entry)?;
        if entry.is_dir() {
            continue;
        }
        if !seen.insert(relative.to_string()) {
            return Err(Error::DuplicateEntry {
                wheel: archive.to_path_buf(),
                entry: format!("`{name}`"),
            });
        }
        let declared = entry.size();
        let too_large = |reason: String| Error::TooLarge {
            wheel: archive.to_path_buf(),
            entry: name.to_string(),
            reason,
        };
        if declared > limits.max_entry_size {
            return Err(too_large(format!(
                "{declared} bytes uncompressed, the limit is {}",
                limits.max_entry_size
            )));
        }
        total = total.saturating_add(declared);
        if total > limits.max_total_size {
            return Err(too_large(format!(
                "the archive unpacks to more than {} bytes",
                limits.max_total_size
            )));
        }
        let ratio = declared / entry.compressed_size().max(1);
        if declared >= limits.ratio_threshold && ratio > limits.max_ratio {
            return Err(too_large(format!(
                "compression ratio {ratio}:1 exceeds {}:1",
                limits.max_ratio
            )));
        }
        plan.push(PlannedEntry {
            index,
            name: name.to_string(),
            relative: relative.to_string(),
            declared,
            executable: entry.unix_mode().is_some_and(|mode| mode & 0o111 != 0)
                || is_data_script(relative),
        });
    }
    Ok(plan)
}

/// Directory entries (already checked by [`plan_entries`]), so empty directories survive.
fn plan_directories<R: Read + Seek>(zip: &ZipArchive<R>) -> Vec<String> {
    (0..zip.len())
        .filter_map(|index| zip.by_index_data(index).ok())
        .filter(|entry| entry.is_dir())
        .filter_map(|entry| {
            entry
                .name()
                .ok()
                .map(|name| name.trim_end_matches('/').to_string())
        })
        .collect()
}

/// Streams one entry to its file, hashing it, never writing more than it declared.
fn extract_entry<R: Read + Seek>(
    archive: &Path,
    zip: &mut ZipArchive<R>,
    planned: &PlannedEntry,
    dest: &Path,
    buffer: &mut [u8],
) -> Result<(String, UnpackedFile)> {
    let name = &planned.name;
    let mut entry = zip.by_index(planned.index).map_err(|source| Error::Zip {
        wheel: archive.to_path_buf(),
        source,
    })?;
    let mut out = fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if planned.executable { 0o777 } else { 0o666 })
        .open(dest.join(&planned.relative))?;
    let declared = planned.declared;
    let mut limited = (&mut entry).take(declared.saturating_add(1));
    let mut hasher = Sha256::new();
    let mut written: u64 = 0;
    loop {
        let read = limited.read(buffer).map_err(|err| Error::InvalidWheel {
            wheel: archive.to_path_buf(),
            message: format!("cannot read `{name}` from the archive: {err}"),
        })?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        out.write_all(&buffer[..read])?;
        written += read as u64;
    }
    if written != declared {
        return Err(Error::TooLarge {
            wheel: archive.to_path_buf(),
            entry: name.clone(),
            reason: format!(
                "it holds {}{written} bytes but declares {declared}",
                if written > declared { "at least " } else { "" }
            ),
        });
    }
    let file = UnpackedFile {
        size: written,
        sha256: hasher.finalize().into(),
    };
    Ok((planned.relative.clone(), file))
}

/// Files in `<name>.data/scripts/` become executables; the spec says installers "may need to add
/// the +x bit to these files if the archive was created on Windows".
fn is_data_script(relative: &str) -> bool {
    let mut parts = relative.splitn(3, '/');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(top), Some("scripts"), Some(_)) if top.ends_with(".data")
    )
}

/// Checks that a `/`-separated archive path stays inside the directory it is unpacked into.
pub(crate) fn check_relative_path(path: &str) -> std::result::Result<(), &'static str> {
    if path.is_empty() {
        return Err("empty path");
    }
    if path.starts_with('/') {
        return Err("absolute paths are not allowed");
    }
    if path.contains('\\') {
        return Err("backslashes (Windows separators) are not allowed in paths");
    }
    if path.contains('\0') {
        return Err("NUL bytes are not allowed in paths");
    }
    if path.as_bytes().get(1) == Some(&b':') {
        return Err("drive-letter paths are not allowed");
    }
    for component in path.split('/') {
        match component {
            ".." => return Err("`..` would leave the destination directory"),
            "" | "." => return Err("empty or `.` path components are not allowed"),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_checks() {
        assert!(check_relative_path("pkg/__init__.py").is_ok());
        assert!(check_relative_path("pkg-1.0.data/scripts/x").is_ok());
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            "C:/x",
            "a\\b",
            "",
        ] {
            assert!(check_relative_path(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn data_scripts_are_recognised() {
        assert!(is_data_script("a-1.data/scripts/tool"));
        assert!(is_data_script("a-1.data/scripts/sub/tool"));
        assert!(!is_data_script("a-1.data/purelib/tool"));
        assert!(!is_data_script("pkg/scripts/tool"));
    }
}
