//! The manifest of a validated wheel directory: what [`crate::ValidatedWheel::open_trusted`]
//! would learn by walking the directory and reading WHEEL, METADATA and RECORD, in one file.
//!
//! A cache entry is immutable once published, so its manifest is written once (before the entry
//! is published by [`crate::unpack_and_validate`], or the first time an older entry is walked)
//! and read on every warm install instead of a `stat` per file. It lives inside the entry as
//! [`MANIFEST`], a name no wheel may use at its root; the directory walk skips it.
//!
//! Format (version 1): `Key: value` headers, a blank line, then one RECORD-style CSV row
//! (`path,hash,size`) per file of the wheel. `files` counts the rows, so a damaged file is
//! noticed; anything unexpected makes [`read`] return `None` and the caller walks instead.

use std::io::Write;
use std::path::Path;

use crate::record::{parse_record, render_record, RecordEntry};
use crate::unpack::check_relative_path;
use crate::wheel::WheelFile;

/// The manifest's file name at the root of a wheel directory.
pub(crate) const MANIFEST: &str = ".rvenv-manifest";

const FORMAT: &str = "1";

/// What a manifest holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub name: String,
    pub version: String,
    pub dist_info: String,
    pub root_is_purelib: bool,
    pub files: Vec<WheelFile>,
}

/// Whether a root-level name is the manifest or one of its temporary files.
pub(crate) fn is_manifest_name(name: &str) -> bool {
    name.starts_with(MANIFEST)
}

/// The manifest's text; `None` when a value cannot be written on one header line.
pub(crate) fn render(manifest: &Manifest) -> Option<String> {
    let headers = [
        ("rvenv-wheel-manifest", FORMAT),
        ("name", &manifest.name),
        ("version", &manifest.version),
        ("dist-info", &manifest.dist_info),
        (
            "root-is-purelib",
            if manifest.root_is_purelib {
                "true"
            } else {
                "false"
            },
        ),
        ("files", &manifest.files.len().to_string()),
    ];
    let mut text = String::new();
    for (key, value) in headers {
        if value.is_empty() || value.contains(['\r', '\n']) || value.trim() != value {
            return None;
        }
        text.push_str(key);
        text.push_str(": ");
        text.push_str(value);
        text.push('\n');
    }
    text.push('\n');
    let mut rows: Vec<RecordEntry> = manifest
        .files
        .iter()
        .map(|file| RecordEntry {
            path: file.path.clone(),
            hash: file.hash.clone(),
            size: Some(file.size),
        })
        .collect();
    text.push_str(&render_record(&mut rows));
    Some(text)
}

/// Parses a manifest's text; `None` for anything but a whole, well-formed version-1 manifest.
pub(crate) fn parse(text: &str) -> Option<Manifest> {
    let (head, body) = text.split_once("\n\n")?;
    let mut lines = head.lines();
    let mut header = |key: &str| -> Option<&str> {
        let (found, value) = lines.next()?.split_once(": ")?;
        (found == key && !value.is_empty()).then_some(value)
    };
    if header("rvenv-wheel-manifest")? != FORMAT {
        return None;
    }
    let name = header("name")?.to_string();
    let version = header("version")?.to_string();
    let dist_info = header("dist-info")?.to_string();
    let root_is_purelib = match header("root-is-purelib")? {
        "true" => true,
        "false" => false,
        _ => return None,
    };
    let count: usize = header("files")?.parse().ok()?;
    if lines.next().is_some()
        || dist_info.contains('/')
        || check_relative_path(&dist_info).is_err()
        || !dist_info.ends_with(".dist-info")
    {
        return None;
    }
    let rows = parse_record(body).ok()?;
    if rows.len() != count {
        return None;
    }
    let mut files = Vec::with_capacity(rows.len());
    for row in rows {
        // The paths are joined to install directories: never trust them blindly.
        if check_relative_path(&row.path).is_err() || is_manifest_name(&row.path) {
            return None;
        }
        files.push(WheelFile {
            path: row.path,
            hash: row.hash,
            size: row.size?,
        });
    }
    Some(Manifest {
        name,
        version,
        dist_info,
        root_is_purelib,
        files,
    })
}

/// Reads the manifest of the wheel directory `dir`; `None` when it is missing or unusable.
pub(crate) fn read(dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
    parse(&text)
}

/// Writes the manifest into `dir` atomically (a temporary file renamed into place), so a reader
/// sees the whole manifest or none. Returns `Ok(false)` when the wheel cannot be described by a
/// manifest (odd characters in a header value); readers then walk the directory.
pub(crate) fn write(dir: &Path, manifest: &Manifest) -> std::io::Result<bool> {
    let Some(text) = render(manifest) else {
        return Ok(false);
    };
    let mut file = tempfile::Builder::new()
        .prefix(&format!("{MANIFEST}-"))
        .tempfile_in(dir)?;
    file.write_all(text.as_bytes())?;
    file.persist(dir.join(MANIFEST)).map_err(|err| err.error)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            name: "Demo.Pkg".into(),
            version: "1.0".into(),
            dist_info: "demo_pkg-1.0.dist-info".into(),
            root_is_purelib: true,
            files: vec![
                WheelFile {
                    path: "demo_pkg/__init__.py".into(),
                    hash: "sha256=abc".into(),
                    size: 12,
                },
                WheelFile {
                    path: "demo_pkg/odd,name.py".into(),
                    hash: "sha256=def".into(),
                    size: 0,
                },
            ],
        }
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).is_none());
        assert!(write(dir.path(), &sample()).unwrap());
        assert_eq!(read(dir.path()).unwrap(), sample());
        // Only the manifest is left: the temporary file was renamed.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [MANIFEST]);
    }

    #[test]
    fn damaged_manifests_are_refused() {
        let text = render(&sample()).unwrap();
        assert!(parse(&text).is_some());
        // Cut short: a row is missing.
        let cut = &text[..text.trim_end().rfind('\n').unwrap() + 1];
        assert!(parse(cut).is_none());
        // An unknown format version, a bad flag, a path leaving the directory.
        assert!(parse(&text.replace("manifest: 1", "manifest: 2")).is_none());
        assert!(parse(&text.replace("purelib: true", "purelib: yes")).is_none());
        assert!(parse(&text.replace("demo_pkg/__init__.py", "../evil.py")).is_none());
        assert!(parse(&text.replace("dist-info: demo_pkg", "dist-info: ../demo_pkg")).is_none());
        assert!(parse("").is_none());
        assert!(parse("garbage\n\n").is_none());
    }

    #[test]
    fn values_that_do_not_fit_a_line_are_not_written() {
        let mut manifest = sample();
        manifest.version = "1.0\nfiles: 0".into();
        assert!(render(&manifest).is_none());
        let dir = tempfile::tempdir().unwrap();
        assert!(!write(dir.path(), &manifest).unwrap());
        assert!(!dir.path().join(MANIFEST).exists());
    }
}
