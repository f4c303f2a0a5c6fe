//! Checking an unpacked wheel: WHEEL, METADATA, RECORD and entry points.
//!
//! A [`ValidatedWheel`] can only be made here, after every check passed, so the installer never
//! sees an unchecked wheel.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use pep440_rs::Version;
use pep508_rs::PackageName;
use rayon::prelude::*;

use crate::entry_points::{parse_entry_points, EntryPoints};
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest};
use crate::record::{hash_file, parse_record, sha256_file};
use crate::unpack::{check_relative_path, UnpackedFile, UnpackedWheel};

/// A file of a validated wheel with its RECORD hash and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFile {
    /// `/`-separated path inside the wheel.
    pub path: String,
    /// `algorithm=digest` as in RECORD.
    pub hash: String,
    pub size: u64,
}

/// An unpacked wheel whose paths, WHEEL file, name, version and RECORD hashes were checked.
#[derive(Debug, Clone)]
pub struct ValidatedWheel {
    pub(crate) root: PathBuf,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) dist_info: String,
    pub(crate) root_is_purelib: bool,
    pub(crate) files: Vec<WheelFile>,
    pub(crate) entry_points: EntryPoints,
}

impl ValidatedWheel {
    /// The directory holding the unpacked files.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `Name` from METADATA, as written there.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// `Version` from METADATA, as written there.
    pub fn version(&self) -> &str {
        &self.version
    }
    /// The `.dist-info` directory name, e.g. `demo-1.0.dist-info`.
    pub fn dist_info_dir(&self) -> &str {
        &self.dist_info
    }
    /// WHEEL's `Root-Is-Purelib`.
    pub fn root_is_purelib(&self) -> bool {
        self.root_is_purelib
    }
    /// Every file of the wheel, RECORD itself excluded.
    pub fn files(&self) -> &[WheelFile] {
        &self.files
    }
    pub fn entry_points(&self) -> &EntryPoints {
        &self.entry_points
    }

    /// Re-opens a wheel directory that [`UnpackedWheel::validate`] accepted earlier (a published
    /// cache entry). With a manifest (written by [`unpack_and_validate`], or here the first time
    /// an entry without one is opened) that is one file read: the name and version are checked
    /// against it, the entry points parsed. Without one (or with an unusable one), every check
    /// is repeated except re-hashing file contents, comparing sizes only.
    pub fn open_trusted(dir: &Path, expected_name: &str, expected_version: &str) -> Result<Self> {
        if let Some(wheel) = manifest::read(dir)
            .and_then(|manifest| from_manifest(dir, manifest, expected_name, expected_version))
        {
            return Ok(wheel);
        }
        let sizes = walk(dir)?
            .into_iter()
            .map(|(path, (_, size))| (path, size))
            .collect();
        let wheel = validate(
            dir,
            dir,
            &Contents::Sizes(sizes),
            expected_name,
            expected_version,
        )?;
        // Best effort: a read-only cache is walked every time.
        let _ = wheel.write_manifest();
        Ok(wheel)
    }

    /// Writes the manifest [`ValidatedWheel::open_trusted`] reads into the wheel's directory,
    /// atomically. Only for a directory that is not changed afterwards (a cache entry).
    pub fn write_manifest(&self) -> Result<()> {
        manifest::write(&self.root, &self.manifest())?;
        Ok(())
    }

    fn manifest(&self) -> Manifest {
        Manifest {
            name: self.name.clone(),
            version: self.version.clone(),
            dist_info: self.dist_info.clone(),
            root_is_purelib: self.root_is_purelib,
            files: self.files.clone(),
        }
    }
}

/// A wheel from its directory's manifest, or `None` when the manifest does not fit the
/// expectations (the walk then finds out what is wrong and says so).
fn from_manifest(
    dir: &Path,
    manifest: Manifest,
    expected_name: &str,
    expected_version: &str,
) -> Option<ValidatedWheel> {
    let dir_name = manifest.dist_info.strip_suffix(".dist-info")?;
    let dir_dist_name = dir_name.split('-').next().unwrap_or_default();
    if !same_name(&manifest.name, expected_name)
        || !same_version(&manifest.version, expected_version)
        || !same_name(dir_dist_name, expected_name)
    {
        return None;
    }
    let entry_points_path = format!("{}/entry_points.txt", manifest.dist_info);
    let entry_points = if manifest.files.iter().any(|f| f.path == entry_points_path) {
        let text = std::fs::read_to_string(dir.join(&entry_points_path)).ok()?;
        parse_entry_points(&text).ok()?
    } else {
        EntryPoints::default()
    };
    check_environment_files(dir, dir_name, &manifest.files, &entry_points).ok()?;
    Some(ValidatedWheel {
        root: dir.to_path_buf(),
        name: manifest.name,
        version: manifest.version,
        dist_info: manifest.dist_info,
        root_is_purelib: manifest.root_is_purelib,
        files: manifest.files,
        entry_points,
    })
}

impl UnpackedWheel {
    /// Checks this freshly unpacked wheel against `expected_name` and `expected_version` (from
    /// its file name) using the digests computed while unpacking.
    pub fn validate(&self, expected_name: &str, expected_version: &str) -> Result<ValidatedWheel> {
        validate(
            &self.root,
            &self.origin,
            &Contents::Digests(&self.files),
            expected_name,
            expected_version,
        )
    }

    /// Opens an unpacked wheel directory and checks it fully, hashing every file.
    pub fn open(dir: &Path, expected_name: &str, expected_version: &str) -> Result<ValidatedWheel> {
        let files = walk(dir)?
            .into_par_iter()
            .map(|(path, (full, _))| {
                let (sha256, size) = sha256_file(&full)?;
                Ok((path, UnpackedFile { size, sha256 }))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        validate(
            dir,
            dir,
            &Contents::Digests(&files),
            expected_name,
            expected_version,
        )
    }
}

/// Unpacks `archive` into `dest` and validates it: the one call a cache needs before publishing
/// `dest`. On any error `dest` is removed, so nothing of a bad wheel is left behind.
pub fn unpack_and_validate(
    archive: &Path,
    dest: &Path,
    expected_name: &str,
    expected_version: &str,
) -> Result<ValidatedWheel> {
    let unpacked = crate::unpack::unpack_wheel(archive, dest)?;
    let wheel = unpacked
        .validate(expected_name, expected_version)
        .inspect_err(|_| {
            let _ = fs_err::remove_dir_all(dest);
        })?;
    // Best effort: without a manifest, opening the entry walks it.
    let _ = wheel.write_manifest();
    Ok(wheel)
}

/// What we know about the files on disk.
enum Contents<'a> {
    Digests(&'a BTreeMap<String, UnpackedFile>),
    Sizes(BTreeMap<String, u64>),
}

impl Contents<'_> {
    fn paths(&self) -> Vec<&String> {
        match self {
            Contents::Digests(files) => files.keys().collect(),
            Contents::Sizes(files) => files.keys().collect(),
        }
    }
    fn size(&self, path: &str) -> Option<u64> {
        match self {
            Contents::Digests(files) => files.get(path).map(|file| file.size),
            Contents::Sizes(files) => files.get(path).copied(),
        }
    }
}

fn validate(
    root: &Path,
    origin: &Path,
    contents: &Contents,
    expected_name: &str,
    expected_version: &str,
) -> Result<ValidatedWheel> {
    let invalid = |message: String| Error::InvalidWheel {
        wheel: origin.to_path_buf(),
        message,
    };

    // The manifest's name is ours: a wheel shipping one could pass off a forged manifest.
    if let Some(path) = contents
        .paths()
        .into_iter()
        .find(|path| manifest::is_manifest_name(path.split('/').next().unwrap_or_default()))
    {
        return Err(Error::UnsafeEntry {
            wheel: origin.to_path_buf(),
            entry: path.clone(),
            reason: "the name is reserved for rvenv's cache manifest",
        });
    }

    // > `{distribution}-{version}.dist-info/` contains metadata.
    let dist_infos: BTreeSet<&str> = contents
        .paths()
        .iter()
        .filter_map(|path| path.split_once('/').map(|(top, _)| top))
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    let dist_info = match dist_infos.len() {
        1 => dist_infos
            .into_iter()
            .next()
            .unwrap_or_default()
            .to_string(),
        0 => return Err(invalid("no `.dist-info` directory found".into())),
        _ => {
            return Err(invalid(format!(
                "more than one `.dist-info` directory: {}",
                dist_infos.into_iter().collect::<Vec<_>>().join(", ")
            )))
        }
    };
    let read = |name: &str| -> Result<Option<String>> {
        let path = root.join(&dist_info).join(name);
        match fs_err::read(&path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| invalid(format!("{dist_info}/{name} is not UTF-8"))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err.into()),
        }
    };

    // WHEEL: "Wheel-Version is the version number of the Wheel specification. [...] A wheel
    // installer should [...] fail if Wheel-Version has a greater major version".
    let wheel_text =
        read("WHEEL")?.ok_or_else(|| invalid(format!("{dist_info}/WHEEL is missing")))?;
    let wheel = parse_headers(&wheel_text);
    let wheel_version = wheel
        .get("wheel-version")
        .ok_or_else(|| invalid(format!("{dist_info}/WHEEL has no Wheel-Version")))?;
    if wheel_version.split('.').next() != Some("1") {
        return Err(invalid(format!(
            "unsupported Wheel-Version {wheel_version}; only 1.x is supported"
        )));
    }
    let root_is_purelib = wheel
        .get("root-is-purelib")
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));

    // METADATA's name and version must be what the file name promised.
    let metadata_text =
        read("METADATA")?.ok_or_else(|| invalid(format!("{dist_info}/METADATA is missing")))?;
    let metadata = parse_headers(&metadata_text);
    let name = metadata
        .get("name")
        .ok_or_else(|| invalid(format!("{dist_info}/METADATA has no Name")))?
        .clone();
    let version = metadata
        .get("version")
        .ok_or_else(|| invalid(format!("{dist_info}/METADATA has no Version")))?
        .clone();
    let dir_name = dist_info.trim_end_matches(".dist-info");
    let dir_dist_name = dir_name.split('-').next().unwrap_or_default();
    let mismatch = |found: String| Error::NameMismatch {
        wheel: origin.to_path_buf(),
        expected: format!("{expected_name} {expected_version}"),
        found,
    };
    if !same_name(&name, expected_name) || !same_version(&version, expected_version) {
        return Err(mismatch(format!("{name} {version} (METADATA)")));
    }
    if !same_name(dir_dist_name, expected_name) {
        return Err(mismatch(format!("{dist_info} (directory)")));
    }

    let files = check_record(root, origin, contents, &dist_info, read("RECORD")?)?;

    let entry_points = match read("entry_points.txt")? {
        Some(text) => parse_entry_points(&text).map_err(|(entry, reason)| Error::EntryPoint {
            wheel: origin.to_path_buf(),
            entry,
            reason,
        })?,
        None => EntryPoints::default(),
    };
    check_environment_files(origin, dir_name, &files, &entry_points)?;

    Ok(ValidatedWheel {
        root: root.to_path_buf(),
        name,
        version,
        dist_info,
        root_is_purelib,
        files,
        entry_points,
    })
}

/// Every file must be listed in RECORD with a matching hash and size, and every listed file must
/// exist: stricter than pip, which only reads RECORD to rewrite it.
fn check_record(
    root: &Path,
    origin: &Path,
    contents: &Contents,
    dist_info: &str,
    record: Option<String>,
) -> Result<Vec<WheelFile>> {
    let record_path = format!("{dist_info}/RECORD");
    let text = record.ok_or_else(|| Error::InvalidWheel {
        wheel: origin.to_path_buf(),
        message: format!("{record_path} is missing"),
    })?;
    let mismatch = |file: &str, message: String| Error::RecordMismatch {
        wheel: origin.to_path_buf(),
        file: file.to_string(),
        message,
    };
    let entries = parse_record(&text).map_err(|message| mismatch(&record_path, message))?;
    // RECORD cannot hash itself; its signatures are unhashed too.
    let unhashed = |path: &str| {
        path == record_path
            || path == format!("{record_path}.jws")
            || path == format!("{record_path}.p7s")
    };
    let mut listed = BTreeMap::new();
    for entry in entries {
        if entry.path.ends_with('/') {
            continue;
        }
        check_relative_path(&entry.path).map_err(|reason| Error::UnsafeEntry {
            wheel: origin.to_path_buf(),
            entry: format!("{} (in RECORD)", entry.path),
            reason,
        })?;
        listed.insert(entry.path.clone(), entry);
    }

    let mut files = Vec::new();
    for path in contents.paths() {
        if *path == record_path {
            continue;
        }
        let entry = listed
            .remove(path.as_str())
            .ok_or_else(|| mismatch(path, "the file is not listed in RECORD".into()))?;
        let size = contents.size(path).unwrap_or_default();
        if entry.size.is_some_and(|recorded| recorded != size) {
            return Err(mismatch(
                path,
                format!(
                    "size is {size}, RECORD says {}",
                    entry.size.unwrap_or_default()
                ),
            ));
        }
        if entry.hash.is_empty() && unhashed(path) {
            files.push(WheelFile {
                path: path.clone(),
                hash: String::new(),
                size,
            });
            continue;
        }
        let Some((algorithm, expected)) = entry.hash.split_once('=') else {
            return Err(mismatch(
                path,
                format!("RECORD has no usable hash: `{}`", entry.hash),
            ));
        };
        let actual = match (contents, algorithm) {
            (Contents::Digests(digests), "sha256") => {
                Some(URL_SAFE_NO_PAD.encode(digests[path].sha256))
            }
            (Contents::Digests(_), _) => hash_file(&root.join(path), algorithm)?.map(|(h, _)| h),
            (Contents::Sizes(_), _) => Some(expected.to_string()),
        };
        match actual {
            None => {
                return Err(mismatch(
                    path,
                    format!("unsupported hash algorithm `{algorithm}`"),
                ))
            }
            Some(actual) if actual != expected => {
                return Err(mismatch(
                    path,
                    format!("{algorithm} is {actual}, RECORD says {expected}"),
                ))
            }
            Some(_) => {}
        }
        files.push(WheelFile {
            path: path.clone(),
            hash: entry.hash,
            size,
        });
    }
    if let Some(missing) = listed.keys().find(|path| !unhashed(path)) {
        return Err(mismatch(
            missing,
            "listed in RECORD but not in the wheel".into(),
        ));
    }
    Ok(files)
}

/// A wheel must not replace the files that make a directory a virtual environment: its
/// interpreter links, its activation scripts, its `pyvenv.cfg`. Scripts (`.data/scripts/` and
/// launchers) go to `bin/`, and `.data/data/` to the environment's root, so both are checked.
fn check_environment_files(
    origin: &Path,
    data_prefix: &str,
    files: &[WheelFile],
    entry_points: &EntryPoints,
) -> Result<()> {
    let refuse = |entry: String| Error::UnsafeEntry {
        wheel: origin.to_path_buf(),
        entry,
        reason: "it would replace the environment's own interpreter, activation script or \
                 pyvenv.cfg",
    };
    let scripts = format!("{data_prefix}.data/scripts/");
    let data = format!("{data_prefix}.data/data/");
    for file in files {
        let reserved = match file.path.strip_prefix(&scripts) {
            Some(name) => is_environment_script(name),
            None => file.path.strip_prefix(&data).is_some_and(|path| {
                path == "pyvenv.cfg" || path.strip_prefix("bin/").is_some_and(is_environment_script)
            }),
        };
        if reserved {
            return Err(refuse(file.path.clone()));
        }
    }
    let launchers = entry_points
        .console_scripts
        .iter()
        .chain(&entry_points.gui_scripts);
    if let Some(entry) = launchers
        .into_iter()
        .find(|e| is_environment_script(&e.name))
    {
        return Err(refuse(format!("{} (entry point)", entry.name)));
    }
    Ok(())
}

/// The names a venv's `bin/` holds of its own: `python`, `python3`, `python3.12`, `pythonw`,
/// `pypy3` and the activation scripts (exact names: `activate-global-python-argcomplete` is a
/// real tool).
fn is_environment_script(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let activation = matches!(
        lower.as_str(),
        "activate"
            | "activate.csh"
            | "activate.fish"
            | "activate.nu"
            | "activate.ps1"
            | "activate.bat"
            | "activate_this.py"
            | "deactivate.bat"
            | "deactivate.nu"
    );
    let interpreter = ["python", "pypy"].iter().any(|stem| {
        lower.strip_prefix(stem).is_some_and(|rest| {
            let rest = rest.strip_prefix('w').unwrap_or(rest);
            let rest = rest.strip_suffix('t').unwrap_or(rest);
            rest.split('.')
                .all(|part| part.bytes().all(|b| b.is_ascii_digit()))
                && !rest.starts_with('.')
                && !rest.ends_with('.')
                && !rest.contains("..")
        })
    });
    activation || interpreter
}

/// `Key: value` headers (email style, as in WHEEL and METADATA) up to the first blank line,
/// keyed in lower case; the first occurrence wins.
pub(crate) fn parse_headers(text: &str) -> BTreeMap<String, String> {
    let mut headers = BTreeMap::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            headers
                .entry(key.trim().to_ascii_lowercase())
                .or_insert_with(|| value.trim().to_string());
        }
    }
    headers
}

/// PEP 503 normalized equality (`Foo.Bar` == `foo-bar` == `foo_bar`).
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    normalize_name(a) == normalize_name(b)
}

pub(crate) fn normalize_name(name: &str) -> String {
    PackageName::new(name.to_string())
        .map(|name| name.to_string())
        .unwrap_or_else(|_| name.to_ascii_lowercase())
}

/// PEP 440 equality (`1.0` == `1.0.0`), falling back to text equality for invalid versions.
fn same_version(a: &str, b: &str) -> bool {
    match (Version::from_str(a), Version::from_str(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Every regular file below `dir` by `/`-separated relative path, with its size. Symlinks and
/// other special files are refused: an unpacked wheel never has them.
fn walk(dir: &Path) -> Result<BTreeMap<String, (PathBuf, u64)>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs_err::read_dir(&current)? {
            let entry = entry?;
            let path = entry.path();
            let file_type = entry.file_type()?;
            let relative = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            if current == dir && manifest::is_manifest_name(&relative) {
                // Ours, not the wheel's (see `crate::manifest`).
                continue;
            } else if file_type.is_dir() {
                pending.push(path);
            } else if file_type.is_file() {
                let size = entry.metadata()?.len();
                files.insert(relative, (path, size));
            } else {
                return Err(Error::UnsafeEntry {
                    wheel: dir.to_path_buf(),
                    entry: relative,
                    reason: "only regular files and directories are allowed",
                });
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_compare_normalized() {
        assert!(same_name("Foo.Bar_baz", "foo-bar-baz"));
        assert!(!same_name("foo", "foo2"));
        assert!(same_version("1.0", "1.0.0"));
        assert!(!same_version("1.0", "1.0.1"));
    }

    #[test]
    fn environment_scripts_are_recognised_by_exact_name() {
        for name in [
            "python",
            "python3",
            "python3.12",
            "python3.13t",
            "pythonw",
            "pypy3",
            "activate",
            "Activate.ps1",
            "activate.fish",
            "activate_this.py",
        ] {
            assert!(is_environment_script(name), "{name}");
        }
        for name in [
            "python-tool",
            "pythonista",
            "python3.",
            "activate-global-python-argcomplete",
            "pip",
            "ipython",
        ] {
            assert!(!is_environment_script(name), "{name}");
        }
    }

    #[test]
    fn headers_stop_at_body() {
        let headers = parse_headers("Name: A\nVersion: 1\n\nName: body\n");
        assert_eq!(headers["name"], "A");
        assert_eq!(headers.len(), 2);
    }
}
