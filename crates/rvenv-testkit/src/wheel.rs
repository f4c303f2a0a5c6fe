//! Wheels built in memory, following the binary distribution format (PEP 427 and its successors).

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::built::{escape_name, BuiltFile};

/// How the wheel's entries are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    Deflated,
    Stored,
}

/// What RECORD will contain.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RecordMode {
    /// Computed from the archive's entries.
    Computed,
    /// No RECORD at all.
    Missing,
    /// This text, verbatim.
    Override(String),
}

#[derive(Debug, Clone)]
struct Entry {
    path: String,
    bytes: Vec<u8>,
    mode: u32,
    symlink: bool,
}

/// Builds a wheel in memory.
///
/// ```
/// let wheel = rvenv_testkit::WheelBuilder::new("My-Package", "1.0")
///     .requires_dist("requests>=2; extra == 'http'")
///     .provides_extra("http")
///     .entry_point("console_scripts", "mycmd", "my_package:main")
///     .build();
/// assert_eq!(wheel.filename, "my_package-1.0-py3-none-any.whl");
/// ```
#[derive(Debug, Clone)]
pub struct WheelBuilder {
    name: String,
    version: String,
    tag: String,
    build_tag: Option<String>,
    requires_dist: Vec<String>,
    provides_extra: Vec<String>,
    requires_python: Option<String>,
    metadata_lines: Vec<String>,
    metadata_name: Option<String>,
    metadata_override: Option<String>,
    wheel_override: Option<String>,
    files: Vec<Entry>,
    data_files: Vec<Entry>,
    raw_entries: Vec<Entry>,
    entry_points: Vec<(String, String, String)>,
    root_is_purelib: Option<bool>,
    record: RecordMode,
    filename_override: Option<String>,
    compression: Compression,
}

impl WheelBuilder {
    /// A wheel for project `name` at `version`, tagged `py3-none-any`.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            tag: "py3-none-any".to_string(),
            build_tag: None,
            requires_dist: Vec::new(),
            provides_extra: Vec::new(),
            requires_python: None,
            metadata_lines: Vec::new(),
            metadata_name: None,
            metadata_override: None,
            wheel_override: None,
            files: Vec::new(),
            data_files: Vec::new(),
            raw_entries: Vec::new(),
            entry_points: Vec::new(),
            root_is_purelib: None,
            record: RecordMode::Computed,
            filename_override: None,
            compression: Compression::default(),
        }
    }

    /// The compressed tag set, e.g. `cp311-cp311-manylinux_2_17_x86_64` or `py2.py3-none-any`.
    pub fn tag(mut self, tag: &str) -> Self {
        self.tag = tag.to_string();
        self
    }

    /// The optional build tag (`1` in `pkg-1.0-1-py3-none-any.whl`).
    pub fn build_tag(mut self, build: &str) -> Self {
        self.build_tag = Some(build.to_string());
        self
    }

    /// A `Requires-Dist` line (PEP 508).
    pub fn requires_dist(mut self, requirement: &str) -> Self {
        self.requires_dist.push(requirement.to_string());
        self
    }

    /// A `Provides-Extra` line.
    pub fn provides_extra(mut self, extra: &str) -> Self {
        self.provides_extra.push(extra.to_string());
        self
    }

    /// The `Requires-Python` line.
    pub fn requires_python(mut self, specifiers: &str) -> Self {
        self.requires_python = Some(specifiers.to_string());
        self
    }

    /// Any other METADATA header line, e.g. `Summary: A test package`.
    pub fn metadata_line(mut self, line: &str) -> Self {
        self.metadata_lines.push(line.to_string());
        self
    }

    /// Writes this `Name:` into METADATA instead of the project name (a wheel whose file name
    /// disagrees with its metadata).
    pub fn metadata_name(mut self, name: &str) -> Self {
        self.metadata_name = Some(name.to_string());
        self
    }

    /// Replaces the whole METADATA text.
    pub fn metadata_override(mut self, text: &str) -> Self {
        self.metadata_override = Some(text.to_string());
        self
    }

    /// Replaces the whole WHEEL text (e.g. `Wheel-Version: 2.0`).
    pub fn wheel_file_override(mut self, text: &str) -> Self {
        self.wheel_override = Some(text.to_string());
        self
    }

    /// A file at the root of the wheel. Without any, the wheel holds `<name>/__init__.py`
    /// setting `__version__`.
    pub fn file(mut self, path: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.files.push(Entry {
            path: path.to_string(),
            bytes: bytes.as_ref().to_vec(),
            mode: 0o644,
            symlink: false,
        });
        self
    }

    /// A file in `<name>-<version>.data/<scheme>/<path>`; `scheme` is one of `scripts`, `data`,
    /// `headers`, `purelib`, `platlib` (not checked, so a test can use a bad one).
    pub fn data_file(mut self, scheme: &str, path: &str, bytes: impl AsRef<[u8]>) -> Self {
        let mode = if scheme == "scripts" { 0o755 } else { 0o644 };
        let path = format!("{}/{scheme}/{path}", self.data_dir());
        self.data_files.push(Entry {
            path,
            bytes: bytes.as_ref().to_vec(),
            mode,
            symlink: false,
        });
        self
    }

    /// An entry point, e.g. `("console_scripts", "mycmd", "mypkg:main")`.
    pub fn entry_point(mut self, group: &str, name: &str, target: &str) -> Self {
        self.entry_points
            .push((group.to_string(), name.to_string(), target.to_string()));
        self
    }

    /// `Root-Is-Purelib` in WHEEL; by default true exactly when the platform tag is `any`.
    pub fn root_is_purelib(mut self, purelib: bool) -> Self {
        self.root_is_purelib = Some(purelib);
        self
    }

    /// An entry written verbatim (any path, `../x` and `/abs` included), listed in RECORD.
    pub fn raw_entry(mut self, path: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.raw_entries.push(Entry {
            path: path.to_string(),
            bytes: bytes.as_ref().to_vec(),
            mode: 0o644,
            symlink: false,
        });
        self
    }

    /// A symlink entry at `path` pointing to `target`, listed in RECORD.
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.raw_entries.push(Entry {
            path: path.to_string(),
            bytes: target.as_bytes().to_vec(),
            mode: 0o777,
            symlink: true,
        });
        self
    }

    /// Leaves RECORD out of the wheel.
    pub fn skip_record(mut self) -> Self {
        self.record = RecordMode::Missing;
        self
    }

    /// Writes this text as RECORD instead of the computed one.
    pub fn record_override(mut self, text: &str) -> Self {
        self.record = RecordMode::Override(text.to_string());
        self
    }

    /// Uses this file name instead of the one derived from name, version and tag.
    pub fn filename(mut self, filename: &str) -> Self {
        self.filename_override = Some(filename.to_string());
        self
    }

    /// How entries are compressed (deflated by default).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// `<name>-<version>.dist-info`
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", escape_name(&self.name), self.version)
    }

    /// `<name>-<version>.data`
    pub fn data_dir(&self) -> String {
        format!("{}-{}.data", escape_name(&self.name), self.version)
    }

    /// The wheel's file name: `{name}-{version}(-{build})?-{tag}.whl`.
    pub fn wheel_filename(&self) -> String {
        if let Some(filename) = &self.filename_override {
            return filename.clone();
        }
        let build = self
            .build_tag
            .as_ref()
            .map(|b| format!("-{b}"))
            .unwrap_or_default();
        format!(
            "{}-{}{build}-{}.whl",
            escape_name(&self.name),
            self.version,
            self.tag
        )
    }

    /// The METADATA text this wheel will hold.
    pub fn metadata_text(&self) -> String {
        if let Some(text) = &self.metadata_override {
            return text.clone();
        }
        let name = self.metadata_name.as_deref().unwrap_or(&self.name);
        let mut text = format!(
            "Metadata-Version: 2.1\nName: {name}\nVersion: {}\n",
            self.version
        );
        for line in &self.metadata_lines {
            text.push_str(&format!("{line}\n"));
        }
        if let Some(requires_python) = &self.requires_python {
            text.push_str(&format!("Requires-Python: {requires_python}\n"));
        }
        for requirement in &self.requires_dist {
            text.push_str(&format!("Requires-Dist: {requirement}\n"));
        }
        for extra in &self.provides_extra {
            text.push_str(&format!("Provides-Extra: {extra}\n"));
        }
        text
    }

    fn wheel_text(&self) -> String {
        if let Some(text) = &self.wheel_override {
            return text.clone();
        }
        let purelib = self
            .root_is_purelib
            .unwrap_or_else(|| self.tag.ends_with("-any"));
        let mut text =
            format!("Wheel-Version: 1.0\nGenerator: rvenv-testkit\nRoot-Is-Purelib: {purelib}\n");
        for tag in expand_tags(&self.tag) {
            text.push_str(&format!("Tag: {tag}\n"));
        }
        if let Some(build) = &self.build_tag {
            text.push_str(&format!("Build: {build}\n"));
        }
        text
    }

    fn entry_points_text(&self) -> Option<String> {
        if self.entry_points.is_empty() {
            return None;
        }
        let mut groups: Vec<&str> = Vec::new();
        for (group, _, _) in &self.entry_points {
            if !groups.contains(&group.as_str()) {
                groups.push(group);
            }
        }
        let mut text = String::new();
        for group in groups {
            text.push_str(&format!("[{group}]\n"));
            for (_, name, target) in self.entry_points.iter().filter(|(g, _, _)| g == group) {
                text.push_str(&format!("{name} = {target}\n"));
            }
            text.push('\n');
        }
        Some(text)
    }

    /// Every entry in archive order, without RECORD.
    fn entries(&self) -> Vec<Entry> {
        let mut entries = self.files.clone();
        if entries.is_empty() {
            let module = escape_name(&self.name);
            let init = format!("__version__ = \"{}\"\n", self.version);
            entries.push(Entry {
                path: format!("{module}/__init__.py"),
                bytes: init.into_bytes(),
                mode: 0o644,
                symlink: false,
            });
        }
        entries.extend(self.data_files.iter().cloned());
        entries.extend(self.raw_entries.iter().cloned());
        let dist_info = self.dist_info_dir();
        let meta = |name: &str, text: String| Entry {
            path: format!("{dist_info}/{name}"),
            bytes: text.into_bytes(),
            mode: 0o644,
            symlink: false,
        };
        let mut dist_info_entries = vec![
            meta("METADATA", self.metadata_text()),
            meta("WHEEL", self.wheel_text()),
        ];
        if let Some(text) = self.entry_points_text() {
            dist_info_entries.push(meta("entry_points.txt", text));
        }
        entries.extend(dist_info_entries);
        entries
    }

    /// Builds the wheel. Panics if the zip writer refuses an entry (e.g. a duplicate name).
    pub fn build(&self) -> BuiltFile {
        let mut entries = self.entries();
        let record_path = format!("{}/RECORD", self.dist_info_dir());
        match &self.record {
            RecordMode::Computed => {
                let text = record_text(&entries, &record_path);
                entries.push(Entry {
                    path: record_path,
                    bytes: text.into_bytes(),
                    mode: 0o644,
                    symlink: false,
                });
            }
            RecordMode::Override(text) => {
                entries.push(Entry {
                    path: record_path,
                    bytes: text.clone().into_bytes(),
                    mode: 0o644,
                    symlink: false,
                });
            }
            RecordMode::Missing => {}
        }
        let filename = self.wheel_filename();
        let bytes = write_zip(&entries, self.compression)
            .unwrap_or_else(|err| panic!("rvenv-testkit: cannot build {filename}: {err}"));
        BuiltFile::new(
            filename,
            bytes,
            self.metadata_text(),
            &self.name,
            &self.version,
        )
    }

    /// Builds the wheel and writes it into `dir`; returns its path.
    pub fn write_to(&self, dir: impl AsRef<Path>) -> PathBuf {
        self.build().write_to(dir)
    }
}

/// `py2.py3-none-any` -> `py2-none-any`, `py3-none-any`.
fn expand_tags(compressed: &str) -> Vec<String> {
    let parts: Vec<&str> = compressed.splitn(3, '-').collect();
    let [python, abi, platform] = parts.as_slice() else {
        return vec![compressed.to_string()];
    };
    let mut tags = Vec::new();
    for p in python.split('.') {
        for a in abi.split('.') {
            for plat in platform.split('.') {
                tags.push(format!("{p}-{a}-{plat}"));
            }
        }
    }
    tags
}

/// A RECORD entry's hash: `sha256=` and the urlsafe base64 digest without padding.
pub(crate) fn record_hash(bytes: &[u8]) -> String {
    format!("sha256={}", URL_SAFE_NO_PAD.encode(Sha256::digest(bytes)))
}

fn record_text(entries: &[Entry], record_path: &str) -> String {
    let mut text = String::new();
    for entry in entries {
        text.push_str(&format!(
            "{},{},{}\n",
            csv_field(&entry.path),
            record_hash(&entry.bytes),
            entry.bytes.len()
        ));
    }
    text.push_str(&format!("{},,\n", csv_field(record_path)));
    text
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn write_zip(entries: &[Entry], compression: Compression) -> zip::result::ZipResult<Vec<u8>> {
    let method = match compression {
        Compression::Deflated => CompressionMethod::Deflated,
        Compression::Stored => CompressionMethod::Stored,
    };
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for entry in entries {
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .unix_permissions(entry.mode);
        if entry.symlink {
            zip.add_symlink(
                entry.path.as_str(),
                String::from_utf8_lossy(&entry.bytes),
                options,
            )?;
        } else {
            zip.start_file(entry.path.as_str(), options)?;
            zip.write_all(&entry.bytes)?;
        }
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn read_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut content = Vec::new();
                file.read_to_end(&mut content).unwrap();
                (file.name().unwrap().into_owned(), content)
            })
            .collect()
    }

    fn entry<'a>(entries: &'a [(String, Vec<u8>)], path: &str) -> &'a str {
        let (_, bytes) = entries
            .iter()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("no {path}"));
        std::str::from_utf8(bytes).unwrap()
    }

    #[test]
    fn default_wheel_is_complete_and_record_matches() {
        let wheel = WheelBuilder::new("My-Package", "1.0").build();
        assert_eq!(wheel.filename, "my_package-1.0-py3-none-any.whl");
        assert_eq!(wheel.sha256, crate::sha256_hex(&wheel.bytes));
        let entries = read_entries(&wheel.bytes);
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "my_package/__init__.py",
                "my_package-1.0.dist-info/METADATA",
                "my_package-1.0.dist-info/WHEEL",
                "my_package-1.0.dist-info/RECORD"
            ]
        );
        assert_eq!(
            entry(&entries, "my_package/__init__.py"),
            "__version__ = \"1.0\"\n"
        );
        let metadata = entry(&entries, "my_package-1.0.dist-info/METADATA");
        assert_eq!(metadata, wheel.metadata);
        assert!(metadata.starts_with("Metadata-Version: 2.1\nName: My-Package\nVersion: 1.0\n"));
        let wheel_file = entry(&entries, "my_package-1.0.dist-info/WHEEL");
        assert!(wheel_file.contains("Root-Is-Purelib: true\n"));
        assert!(wheel_file.contains("Tag: py3-none-any\n"));

        // Every RECORD line but its own matches the entry's real hash and size.
        let record = entry(&entries, "my_package-1.0.dist-info/RECORD");
        let lines: Vec<&str> = record.lines().collect();
        assert_eq!(lines.len(), entries.len());
        for line in &lines[..lines.len() - 1] {
            let fields: Vec<&str> = line.split(',').collect();
            let content = entries
                .iter()
                .find(|(n, _)| n == fields[0])
                .unwrap()
                .1
                .as_slice();
            let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(content));
            assert_eq!(fields[1], format!("sha256={digest}"));
            assert!(!fields[1].ends_with('='));
            assert_eq!(fields[2], content.len().to_string());
        }
        assert_eq!(lines.last().unwrap(), &"my_package-1.0.dist-info/RECORD,,");
    }

    #[test]
    fn metadata_entry_points_data_and_platform_tags() {
        let wheel = WheelBuilder::new("pkg.name", "2.0rc1")
            .tag("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64")
            .build_tag("1")
            .requires_python(">=3.8")
            .requires_dist("requests>=2; extra == 'http'")
            .provides_extra("http")
            .metadata_line("Summary: A test")
            .file("pkg_name/core.py", "X = 1\n")
            .data_file("scripts", "tool", "#!python\nprint(1)\n")
            .entry_point("console_scripts", "mycmd", "pkg_name.core:main")
            .entry_point("gui_scripts", "mygui", "pkg_name.core:gui")
            .entry_point("console_scripts", "other", "pkg_name.core:other")
            .build();
        assert_eq!(
            wheel.filename,
            "pkg_name-2.0rc1-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        );
        let entries = read_entries(&wheel.bytes);
        assert!(
            entries.iter().all(|(n, _)| n != "pkg_name/__init__.py"),
            "no default module with .file()"
        );
        assert_eq!(
            entry(&entries, "pkg_name-2.0rc1.data/scripts/tool"),
            "#!python\nprint(1)\n"
        );
        let wheel_file = entry(&entries, "pkg_name-2.0rc1.dist-info/WHEEL");
        assert!(wheel_file.contains("Root-Is-Purelib: false\n"));
        assert!(wheel_file.contains(
            "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n"
        ));
        assert!(wheel_file.contains("Build: 1\n"));
        assert_eq!(
            entry(&entries, "pkg_name-2.0rc1.dist-info/entry_points.txt"),
            "[console_scripts]\nmycmd = pkg_name.core:main\nother = pkg_name.core:other\n\n[gui_scripts]\nmygui = pkg_name.core:gui\n\n"
        );
        assert_eq!(
            wheel.metadata,
            "Metadata-Version: 2.1\nName: pkg.name\nVersion: 2.0rc1\nSummary: A test\nRequires-Python: >=3.8\n\
             Requires-Dist: requests>=2; extra == 'http'\nProvides-Extra: http\n"
        );
    }

    #[test]
    fn escape_hatches_for_broken_wheels() {
        let wheel = WheelBuilder::new("evil", "1.0")
            .raw_entry("../escape.txt", "x")
            .symlink("evil/link", "/etc/passwd")
            .metadata_name("other")
            .record_override("nothing,,\n")
            .build();
        let entries = read_entries(&wheel.bytes);
        assert!(entries.iter().any(|(n, _)| n == "../escape.txt"));
        assert_eq!(entry(&entries, "evil-1.0.dist-info/RECORD"), "nothing,,\n");
        assert!(wheel.metadata.contains("Name: other\n"));

        let no_record = WheelBuilder::new("evil", "1.0")
            .skip_record()
            .compression(Compression::Stored)
            .build();
        assert!(read_entries(&no_record.bytes)
            .iter()
            .all(|(n, _)| !n.ends_with("RECORD")));
    }

    #[test]
    fn csv_quotes_paths_with_commas() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn expands_compressed_tag_sets() {
        assert_eq!(
            expand_tags("py2.py3-none-any"),
            ["py2-none-any", "py3-none-any"]
        );
    }
}
