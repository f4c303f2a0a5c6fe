//! Source distributions built in memory: `<name>-<version>.tar.gz` (or `.zip`) with PKG-INFO.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use crate::built::{escape_name, BuiltFile};

/// The archive format of an sdist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SdistFormat {
    #[default]
    TarGz,
    Zip,
}

/// Builds an sdist in memory.
///
/// Without `.pyproject()` or `.setup_py()`, the sdist holds a `pyproject.toml` using setuptools
/// with a `[project]` table, and a package `<name>/__init__.py` setting `__version__`.
#[derive(Debug, Clone)]
pub struct SdistBuilder {
    name: String,
    version: String,
    pyproject: Option<String>,
    setup_py: Option<String>,
    files: Vec<(String, Vec<u8>)>,
    requires_dist: Vec<String>,
    requires_python: Option<String>,
    format: SdistFormat,
}

impl SdistBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            pyproject: None,
            setup_py: None,
            files: Vec::new(),
            requires_dist: Vec::new(),
            requires_python: None,
            format: SdistFormat::TarGz,
        }
    }

    /// The `pyproject.toml` text.
    pub fn pyproject(mut self, toml: &str) -> Self {
        self.pyproject = Some(toml.to_string());
        self
    }

    /// The `setup.py` text.
    pub fn setup_py(mut self, text: &str) -> Self {
        self.setup_py = Some(text.to_string());
        self
    }

    /// Any file, relative to the sdist's top directory.
    pub fn file(mut self, path: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.files.push((path.to_string(), bytes.as_ref().to_vec()));
        self
    }

    /// A `Requires-Dist` line in PKG-INFO (and a dependency in the default pyproject.toml).
    pub fn requires_dist(mut self, requirement: &str) -> Self {
        self.requires_dist.push(requirement.to_string());
        self
    }

    /// `Requires-Python` in PKG-INFO (and in the default pyproject.toml).
    pub fn requires_python(mut self, specifiers: &str) -> Self {
        self.requires_python = Some(specifiers.to_string());
        self
    }

    /// Writes a `.zip` sdist instead of a `.tar.gz`.
    pub fn zip(mut self) -> Self {
        self.format = SdistFormat::Zip;
        self
    }

    /// `<name>-<version>`, the top directory and file stem (PEP 625).
    pub fn stem(&self) -> String {
        format!("{}-{}", escape_name(&self.name), self.version)
    }

    /// The PKG-INFO text (Metadata-Version 2.2).
    pub fn pkg_info(&self) -> String {
        let mut text = format!(
            "Metadata-Version: 2.2\nName: {}\nVersion: {}\n",
            self.name, self.version
        );
        if let Some(requires_python) = &self.requires_python {
            text.push_str(&format!("Requires-Python: {requires_python}\n"));
        }
        for requirement in &self.requires_dist {
            text.push_str(&format!("Requires-Dist: {requirement}\n"));
        }
        text
    }

    fn default_pyproject(&self) -> String {
        let dependencies: Vec<String> = self.requires_dist.iter().map(|r| toml_string(r)).collect();
        let mut text = format!(
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
             [project]\nname = {}\nversion = {}\ndependencies = [{}]\n",
            toml_string(&self.name),
            toml_string(&self.version),
            dependencies.join(", ")
        );
        if let Some(requires_python) = &self.requires_python {
            text.push_str(&format!(
                "requires-python = {}\n",
                toml_string(requires_python)
            ));
        }
        text
    }

    /// Every file, relative to the top directory, in archive order.
    fn entries(&self) -> Vec<(String, Vec<u8>)> {
        let mut entries = vec![("PKG-INFO".to_string(), self.pkg_info().into_bytes())];
        let pyproject = match (&self.pyproject, &self.setup_py) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(_)) => None,
            (None, None) => Some(self.default_pyproject()),
        };
        if let Some(text) = pyproject {
            entries.push(("pyproject.toml".to_string(), text.into_bytes()));
        }
        if let Some(text) = &self.setup_py {
            entries.push(("setup.py".to_string(), text.clone().into_bytes()));
        }
        if self.files.is_empty() {
            let init = format!("__version__ = \"{}\"\n", self.version);
            entries.push((
                format!("{}/__init__.py", escape_name(&self.name)),
                init.into_bytes(),
            ));
        }
        entries.extend(self.files.iter().cloned());
        entries
    }

    /// Builds the archive. Panics if writing it fails (it cannot, in memory).
    pub fn build(&self) -> BuiltFile {
        let stem = self.stem();
        let entries = self.entries();
        let (filename, bytes) = match self.format {
            SdistFormat::TarGz => (format!("{stem}.tar.gz"), write_tar_gz(&stem, &entries)),
            SdistFormat::Zip => (
                format!("{stem}.zip"),
                write_zip(&stem, &entries).map_err(std::io::Error::other),
            ),
        };
        let bytes =
            bytes.unwrap_or_else(|err| panic!("rvenv-testkit: cannot build {filename}: {err}"));
        BuiltFile::new(filename, bytes, self.pkg_info(), &self.name, &self.version)
    }

    /// Builds the sdist and writes it into `dir`; returns its path.
    pub fn write_to(&self, dir: impl AsRef<Path>) -> PathBuf {
        self.build().write_to(dir)
    }
}

/// A TOML basic string.
fn toml_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn write_tar_gz(stem: &str, entries: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (path, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{stem}/{path}"), bytes.as_slice())?;
    }
    tar.into_inner()?.finish()
}

fn write_zip(stem: &str, entries: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (path, bytes) in entries {
        zip.start_file(format!("{stem}/{path}"), SimpleFileOptions::default())?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn tar_entries(bytes: &[u8]) -> Vec<(String, String)> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let path = entry.path().unwrap().to_string_lossy().into_owned();
                let mut text = String::new();
                entry.read_to_string(&mut text).unwrap();
                (path, text)
            })
            .collect()
    }

    #[test]
    fn tar_gz_sdist_with_default_pyproject() {
        let sdist = SdistBuilder::new("My.Pkg", "0.3")
            .requires_dist("six>=1")
            .requires_python(">=3.8")
            .build();
        assert_eq!(sdist.filename, "my_pkg-0.3.tar.gz");
        assert_eq!(
            sdist.metadata,
            "Metadata-Version: 2.2\nName: My.Pkg\nVersion: 0.3\nRequires-Python: >=3.8\nRequires-Dist: six>=1\n"
        );
        let entries = tar_entries(&sdist.bytes);
        let paths: Vec<&str> = entries.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "my_pkg-0.3/PKG-INFO",
                "my_pkg-0.3/pyproject.toml",
                "my_pkg-0.3/my_pkg/__init__.py"
            ]
        );
        assert_eq!(entries[0].1, sdist.metadata);
        assert!(entries[1].1.contains("dependencies = [\"six>=1\"]\n"));
        assert!(entries[1].1.contains("requires-python = \">=3.8\"\n"));
    }

    #[test]
    fn setup_py_sdist_as_zip() {
        let sdist = SdistBuilder::new("legacy", "1.0")
            .setup_py("from setuptools import setup\nsetup()\n")
            .zip()
            .build();
        assert_eq!(sdist.filename, "legacy-1.0.zip");
        let mut archive = zip::ZipArchive::new(Cursor::new(&sdist.bytes)).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        assert!(names.contains(&"legacy-1.0/setup.py".to_string()));
        assert!(!names.contains(&"legacy-1.0/pyproject.toml".to_string()));
        let mut pkg_info = String::new();
        archive
            .by_name("legacy-1.0/PKG-INFO")
            .unwrap()
            .read_to_string(&mut pkg_info)
            .unwrap();
        assert_eq!(pkg_info, sdist.metadata);
    }
}
