//! A built distribution file and the small helpers shared by the builders.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A wheel or sdist built in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltFile {
    /// The file name, e.g. `my_package-1.0-py3-none-any.whl`.
    pub filename: String,
    /// The whole archive.
    pub bytes: Vec<u8>,
    /// The archive's sha256, lowercase hex.
    pub sha256: String,
    /// The core metadata text (METADATA of a wheel, PKG-INFO of an sdist).
    pub metadata: String,
    /// The project name as given to the builder (not normalized).
    pub name: String,
    /// The version as given to the builder.
    pub version: String,
}

impl BuiltFile {
    pub(crate) fn new(
        filename: String,
        bytes: Vec<u8>,
        metadata: String,
        name: &str,
        version: &str,
    ) -> Self {
        let sha256 = sha256_hex(&bytes);
        Self {
            filename,
            bytes,
            sha256,
            metadata,
            name: name.to_string(),
            version: version.to_string(),
        }
    }

    /// The PEP 503 normalized project name (`my-package`).
    pub fn normalized_name(&self) -> String {
        normalize_name(&self.name)
    }

    /// The archive's size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Whether this is a wheel (by its file name).
    pub fn is_wheel(&self) -> bool {
        self.filename.ends_with(".whl")
    }

    /// The sha256 of [`BuiltFile::metadata`], lowercase hex (what PEP 658 indexes announce).
    pub fn metadata_sha256(&self) -> String {
        sha256_hex(self.metadata.as_bytes())
    }

    /// The same file cut to its first `len` bytes (a truncated download or archive), with the
    /// hash of what is left.
    pub fn truncated(&self, len: usize) -> BuiltFile {
        let bytes = self.bytes[..len.min(self.bytes.len())].to_vec();
        BuiltFile::new(
            self.filename.clone(),
            bytes,
            self.metadata.clone(),
            &self.name,
            &self.version,
        )
    }

    /// Writes the archive into `dir` under its file name and returns the path.
    ///
    /// Panics if the file cannot be written.
    pub fn write_to(&self, dir: impl AsRef<Path>) -> PathBuf {
        let path = dir.as_ref().join(&self.filename);
        if let Err(err) = fs_err::write(&path, &self.bytes) {
            panic!("rvenv-testkit: cannot write {}: {err}", self.filename);
        }
        path
    }
}

/// Writes every file into `dir` (created if missing), as a `--find-links` directory.
///
/// Panics if a file cannot be written.
pub fn write_find_links_dir(dir: impl AsRef<Path>, files: &[BuiltFile]) -> Vec<PathBuf> {
    let dir = dir.as_ref();
    if let Err(err) = fs_err::create_dir_all(dir) {
        panic!("rvenv-testkit: cannot create the find-links directory: {err}");
    }
    files.iter().map(|file| file.write_to(dir)).collect()
}

/// PEP 503 name normalization: lowercase, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                out.push('-');
            }
            in_separator_run = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_separator_run = false;
        }
    }
    out
}

/// The name as it appears in wheel and sdist file names and in `.dist-info` directories:
/// normalized, with `_` instead of `-` (binary distribution format, PEP 625).
pub(crate) fn escape_name(name: &str) -> String {
    normalize_name(name).replace('-', "_")
}

/// sha256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_names_like_pep_503() {
        assert_eq!(normalize_name("My-Package"), "my-package");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("A__b-._C"), "a-b-c");
        assert_eq!(escape_name("My-Package"), "my_package");
    }

    #[test]
    fn hashes_in_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
