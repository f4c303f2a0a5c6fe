//! Source distributions built in memory: `<name>-<version>.tar.gz` (or `.zip`) with PKG-INFO.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use crate::built::{escape_name, BuiltFile};

/// The archive format of an sdist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum SdistFormat {
    #[default]
    TarGz,
    Zip,
}

/// The build backend named by the generated `pyproject.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Backend {
    /// `testkit_backend.py` in the sdist: standard library only, so builds work offline.
    InTree {
        /// What `get_requires_for_build_wheel` returns.
        dynamic_requires: Vec<String>,
        /// Every hook raises with this message.
        fail: Option<String>,
    },
    /// `setuptools.build_meta` with a `[project]` table (needs setuptools from an index).
    Setuptools,
}

/// An entry written verbatim into the archive, outside the `<name>-<version>/` root rules.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RawEntry {
    File { path: String, bytes: Vec<u8> },
    Symlink { path: String, target: String },
    Hardlink { path: String, target: String },
}

/// Builds an sdist in memory.
///
/// Without `.pyproject()` or `.setup_py()`, the sdist holds a package `<name>/__init__.py` setting
/// `__version__` and a `pyproject.toml` naming an in-tree build backend (`testkit_backend.py`,
/// standard library only), so any Python builds it offline into a pure wheel (PEP 517 and 660
/// hooks). `.setuptools()` generates a setuptools `pyproject.toml` instead.
#[derive(Debug, Clone)]
pub struct SdistBuilder {
    name: String,
    version: String,
    pyproject: Option<String>,
    setup_py: Option<String>,
    backend: Backend,
    build_requires: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
    raw_entries: Vec<RawEntry>,
    requires_dist: Vec<String>,
    requires_python: Option<String>,
    format: SdistFormat,
}

const IN_TREE_BACKEND: &str = include_str!("testkit_backend.py");

impl SdistBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            pyproject: None,
            setup_py: None,
            backend: Backend::InTree {
                dynamic_requires: Vec::new(),
                fail: None,
            },
            build_requires: Vec::new(),
            files: Vec::new(),
            raw_entries: Vec::new(),
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

    /// Generates a setuptools `pyproject.toml` (with a `[project]` table) instead of the in-tree
    /// backend; building it needs setuptools from an index.
    pub fn setuptools(mut self) -> Self {
        self.backend = Backend::Setuptools;
        self
    }

    /// A `[build-system] requires` entry of the generated `pyproject.toml`.
    pub fn build_requires(mut self, requirement: &str) -> Self {
        self.build_requires.push(requirement.to_string());
        self
    }

    /// A requirement the in-tree backend's `get_requires_for_build_wheel` returns.
    pub fn backend_requires(mut self, requirement: &str) -> Self {
        if let Backend::InTree {
            dynamic_requires, ..
        } = &mut self.backend
        {
            dynamic_requires.push(requirement.to_string());
        }
        self
    }

    /// Makes every hook of the in-tree backend raise with this message (a failing build).
    pub fn backend_fails(mut self, message: &str) -> Self {
        if let Backend::InTree { fail, .. } = &mut self.backend {
            *fail = Some(message.to_string());
        }
        self
    }

    /// A file at `path` relative to the archive's root (not the `<name>-<version>/` directory),
    /// written verbatim: `../x` and `/abs` included.
    pub fn raw_entry(mut self, path: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.raw_entries.push(RawEntry::File {
            path: path.to_string(),
            bytes: bytes.as_ref().to_vec(),
        });
        self
    }

    /// A symlink entry (tar only) at `path` relative to the archive's root.
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.raw_entries.push(RawEntry::Symlink {
            path: path.to_string(),
            target: target.to_string(),
        });
        self
    }

    /// A hard link entry (tar only) at `path` relative to the archive's root.
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.raw_entries.push(RawEntry::Hardlink {
            path: path.to_string(),
            target: target.to_string(),
        });
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
        match &self.backend {
            Backend::InTree { .. } => format!(
                "[build-system]\nrequires = [{}]\nbuild-backend = \"testkit_backend\"\nbackend-path = [\".\"]\n",
                toml_list(&self.build_requires)
            ),
            Backend::Setuptools => {
                let mut requires = vec!["setuptools>=61".to_string()];
                requires.extend(self.build_requires.iter().cloned());
                let mut text = format!(
                    "[build-system]\nrequires = [{}]\nbuild-backend = \"setuptools.build_meta\"\n\n\
                     [project]\nname = {}\nversion = {}\ndependencies = [{}]\n",
                    toml_list(&requires),
                    toml_string(&self.name),
                    toml_string(&self.version),
                    toml_list(&self.requires_dist)
                );
                if let Some(requires_python) = &self.requires_python {
                    text.push_str(&format!("requires-python = {}\n", toml_string(requires_python)));
                }
                text
            }
        }
    }

    /// The in-tree backend's files, when the generated `pyproject.toml` names it.
    fn backend_files(&self) -> Vec<(String, Vec<u8>)> {
        let Backend::InTree {
            dynamic_requires,
            fail,
        } = &self.backend
        else {
            return Vec::new();
        };
        if self.pyproject.is_some() || self.setup_py.is_some() {
            return Vec::new();
        }
        let config = serde_json::json!({ "requires": dynamic_requires, "fail": fail });
        vec![
            (
                "testkit_backend.py".to_string(),
                IN_TREE_BACKEND.as_bytes().to_vec(),
            ),
            (
                "testkit_backend.json".to_string(),
                config.to_string().into_bytes(),
            ),
        ]
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
        entries.extend(self.backend_files());
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
            SdistFormat::TarGz => (
                format!("{stem}.tar.gz"),
                write_tar_gz(&stem, &entries, &self.raw_entries),
            ),
            SdistFormat::Zip => (
                format!("{stem}.zip"),
                write_zip(&stem, &entries, &self.raw_entries).map_err(std::io::Error::other),
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

/// A TOML array of basic strings (without the brackets).
fn toml_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| toml_string(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A TOML basic string.
fn toml_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn write_tar_gz(
    stem: &str,
    entries: &[(String, Vec<u8>)],
    raw: &[RawEntry],
) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (path, bytes) in entries {
        let mut header = tar_header(tar::EntryType::Regular, bytes.len(), 0o644);
        tar.append_data(&mut header, format!("{stem}/{path}"), bytes.as_slice())?;
    }
    for entry in raw {
        let (header, bytes) = match entry {
            RawEntry::File { path, bytes } => (
                raw_tar_header(tar::EntryType::Regular, path, None, bytes.len())?,
                bytes,
            ),
            RawEntry::Symlink { path, target } => (
                raw_tar_header(tar::EntryType::Symlink, path, Some(target), 0)?,
                &Vec::new(),
            ),
            RawEntry::Hardlink { path, target } => (
                raw_tar_header(tar::EntryType::Link, path, Some(target), 0)?,
                &Vec::new(),
            ),
        };
        tar.append(&header, bytes.as_slice())?;
    }
    tar.into_inner()?.finish()
}

fn tar_header(kind: tar::EntryType, size: usize, mode: u32) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size as u64);
    header.set_mode(mode);
    header.set_mtime(0);
    header
}

/// A header whose name is written byte for byte, bypassing the tar crate's path checks
/// (which refuse `..` and absolute paths, exactly what hostile sdists need).
fn raw_tar_header(
    kind: tar::EntryType,
    path: &str,
    link: Option<&String>,
    size: usize,
) -> std::io::Result<tar::Header> {
    let mut header = tar_header(kind, size, if link.is_some() { 0o777 } else { 0o644 });
    let name = &mut header.as_old_mut().name;
    if path.len() > name.len() {
        return Err(std::io::Error::other(format!(
            "raw tar path longer than {} bytes: {path}",
            name.len()
        )));
    }
    name[..path.len()].copy_from_slice(path.as_bytes());
    if let Some(target) = link {
        header.set_link_name_literal(target)?;
    }
    header.set_cksum();
    Ok(header)
}

fn write_zip(
    stem: &str,
    entries: &[(String, Vec<u8>)],
    raw: &[RawEntry],
) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (path, bytes) in entries {
        zip.start_file(format!("{stem}/{path}"), SimpleFileOptions::default())?;
        zip.write_all(bytes)?;
    }
    for entry in raw {
        match entry {
            RawEntry::File { path, bytes } => {
                zip.start_file(path.as_str(), SimpleFileOptions::default())?;
                zip.write_all(bytes)?;
            }
            RawEntry::Symlink { path, target } | RawEntry::Hardlink { path, target } => {
                zip.add_symlink(path.as_str(), target.as_str(), SimpleFileOptions::default())?;
            }
        }
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests;
