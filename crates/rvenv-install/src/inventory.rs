//! What is installed: the `*.dist-info` directories of site-packages.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::wheel::parse_headers;

/// An installed distribution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstalledDist {
    /// `Name` from METADATA, as written there.
    pub name: String,
    /// `Version` from METADATA, as written there.
    pub version: String,
    /// Absolute path of the `.dist-info` directory.
    pub dist_info: PathBuf,
    /// A `REQUESTED` file exists (the user asked for it).
    pub requested: bool,
    /// The content of `direct_url.json`, if any.
    pub direct_url: Option<String>,
    /// The content of `INSTALLER` without the trailing newline (`pip`, `rvenv`, `uv`).
    pub installer: Option<String>,
    /// Every file written, filled by [`crate::install_wheel`]; empty when read from disk by
    /// [`installed_distributions`] (which does not read RECORD).
    pub installed_files: Vec<PathBuf>,
    /// The install linked the bytecode of the lib directory from the cache entry it was given
    /// ([`crate::InstallOptions::bytecode`]), so it needs no compiling. `false` when read from
    /// disk.
    pub linked_bytecode: bool,
}

/// Reads every `*.dist-info` directory of the given site-packages directories (missing
/// directories are skipped). Reads METADATA's headers, never RECORD. Sorted by directory name.
pub fn installed_distributions(site_packages: &[PathBuf]) -> Result<Vec<InstalledDist>> {
    let mut dist_infos = Vec::new();
    for dir in site_packages {
        let entries = match fs_err::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err.into()),
        };
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "dist-info") && path.is_dir() {
                dist_infos.push(path);
            }
        }
    }
    dist_infos.sort();
    dist_infos.dedup();
    dist_infos
        .par_iter()
        .map(|path| read_dist_info(path))
        .collect()
}

/// Reads one `.dist-info` directory.
pub fn read_dist_info(dist_info: &Path) -> Result<InstalledDist> {
    let invalid = |message: &str| Error::InvalidDistInfo {
        path: dist_info.to_path_buf(),
        message: message.to_string(),
    };
    let metadata = fs_err::read(dist_info.join("METADATA"))?;
    let metadata = String::from_utf8_lossy(&metadata);
    let headers = parse_headers(&metadata);
    let name = headers
        .get("name")
        .ok_or_else(|| invalid("METADATA has no Name"))?
        .clone();
    let version = headers
        .get("version")
        .ok_or_else(|| invalid("METADATA has no Version"))?
        .clone();
    Ok(InstalledDist {
        name,
        version,
        dist_info: dist_info.to_path_buf(),
        requested: dist_info.join("REQUESTED").is_file(),
        direct_url: read_optional(&dist_info.join("direct_url.json"))?,
        installer: read_optional(&dist_info.join("INSTALLER"))?.map(|s| s.trim().to_string()),
        installed_files: Vec::new(),
        linked_bytecode: false,
    })
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs_err::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dist_infos_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site-packages");
        let a = site.join("a_pkg-1.0.dist-info");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(
            a.join("METADATA"),
            "Metadata-Version: 2.1\nName: A.Pkg\nVersion: 1.0\n\nName: no\n",
        )
        .unwrap();
        std::fs::write(a.join("REQUESTED"), "").unwrap();
        std::fs::write(a.join("INSTALLER"), "pip\n").unwrap();
        std::fs::write(a.join("RECORD"), "garbage that must not be read,,,,\n").unwrap();
        let b = site.join("b-2.dist-info");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("METADATA"), "Name: b\nVersion: 2\n").unwrap();
        std::fs::write(b.join("direct_url.json"), "{\"url\": \"file:///b\"}").unwrap();
        std::fs::create_dir_all(site.join("pkg")).unwrap();

        let dists = installed_distributions(&[site.clone(), dir.path().join("missing")]).unwrap();
        assert_eq!(dists.len(), 2);
        assert_eq!(
            (dists[0].name.as_str(), dists[0].version.as_str()),
            ("A.Pkg", "1.0")
        );
        assert!(dists[0].requested);
        assert_eq!(dists[0].installer.as_deref(), Some("pip"));
        assert!(!dists[1].requested);
        assert_eq!(
            dists[1].direct_url.as_deref(),
            Some("{\"url\": \"file:///b\"}")
        );
    }

    #[test]
    fn broken_metadata_names_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad-1.dist-info");
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(bad.join("METADATA"), "Version: 1\n").unwrap();
        let err = installed_distributions(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(err.to_string().contains("bad-1.dist-info"), "{err}");
    }
}
