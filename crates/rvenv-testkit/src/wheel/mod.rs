//! Wheels built in memory, following the binary distribution format (PEP 427 and its successors).

mod archive;

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::built::{escape_name, BuiltFile};
use archive::{write_raw_zip, write_zip, Entry};

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
    declared_sizes: Vec<(String, u32)>,
    record_wrong_hashes: Vec<String>,
    record_omitted: Vec<String>,
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
            declared_sizes: Vec::new(),
            record_wrong_hashes: Vec::new(),
            record_omitted: Vec::new(),
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
        self.files
            .push(Entry::file(path.to_string(), bytes.as_ref(), 0o644));
        self
    }

    /// A file in `<name>-<version>.data/<scheme>/<path>`; `scheme` is one of `scripts`, `data`,
    /// `headers`, `purelib`, `platlib` (not checked, so a test can use a bad one).
    pub fn data_file(mut self, scheme: &str, path: &str, bytes: impl AsRef<[u8]>) -> Self {
        let mode = if scheme == "scripts" { 0o755 } else { 0o644 };
        let path = format!("{}/{scheme}/{path}", self.data_dir());
        self.data_files
            .push(Entry::file(path, bytes.as_ref(), mode));
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
    /// A path already in the wheel makes a duplicate entry.
    pub fn raw_entry(mut self, path: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.raw_entries
            .push(Entry::file(path.to_string(), bytes.as_ref(), 0o644));
        self
    }

    /// A symlink entry at `path` pointing to `target`, listed in RECORD.
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.raw_entries
            .push(Entry::symlink(path.to_string(), target));
        self
    }

    /// A file of `size` zero bytes, deflated: a tiny entry that inflates to a huge one
    /// (a compression-ratio bomb; about 1000:1).
    pub fn zeros_entry(mut self, path: &str, size: usize) -> Self {
        self.raw_entries
            .push(Entry::file(path.to_string(), vec![0; size], 0o644));
        self
    }

    /// Makes the zip headers claim `size` uncompressed bytes for `path` (a declared-size bomb
    /// when far above the real size).
    pub fn declared_size(mut self, path: &str, size: u32) -> Self {
        self.declared_sizes.push((path.to_string(), size));
        self
    }

    /// Lists `path` in RECORD with the hash of other content (same size): a RECORD that does
    /// not match the file.
    pub fn record_wrong_hash(mut self, path: &str) -> Self {
        self.record_wrong_hashes.push(path.to_string());
        self
    }

    /// Leaves `path` out of RECORD although it is in the wheel.
    pub fn record_omits(mut self, path: &str) -> Self {
        self.record_omitted.push(path.to_string());
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
            entries.push(Entry::file(format!("{module}/__init__.py"), init, 0o644));
        }
        entries.extend(self.data_files.iter().cloned());
        entries.extend(self.raw_entries.iter().cloned());
        let dist_info = self.dist_info_dir();
        let meta =
            |name: &str, text: String| Entry::file(format!("{dist_info}/{name}"), text, 0o644);
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

    /// The RECORD text for these entries, with the requested lies.
    fn record_text(&self, entries: &[Entry], record_path: &str) -> String {
        let mut text = String::new();
        for entry in entries
            .iter()
            .filter(|e| !self.record_omitted.contains(&e.path))
        {
            let hash = if self.record_wrong_hashes.contains(&entry.path) {
                let mut other = entry.bytes.clone();
                other.push(b'!');
                record_hash(&other)
            } else {
                record_hash(&entry.bytes)
            };
            let line = format!("{},{hash},{}\n", csv_field(&entry.path), entry.bytes.len());
            text.push_str(&line);
        }
        text.push_str(&format!("{},,\n", csv_field(record_path)));
        text
    }

    /// Builds the wheel. Wheels with duplicate names or lying sizes are written without the
    /// zip crate (stored entries); others with it. Panics if the zip crate refuses an entry.
    pub fn build(&self) -> BuiltFile {
        let mut entries = self.entries();
        let record_path = format!("{}/RECORD", self.dist_info_dir());
        let record = match &self.record {
            RecordMode::Computed => Some(self.record_text(&entries, &record_path)),
            RecordMode::Override(text) => Some(text.clone()),
            RecordMode::Missing => None,
        };
        if let Some(text) = record {
            entries.push(Entry::file(record_path, text, 0o644));
        }
        for entry in &mut entries {
            let declared = self
                .declared_sizes
                .iter()
                .find(|(path, _)| *path == entry.path);
            entry.declared_size = declared.map(|(_, size)| *size);
        }
        let has_duplicates = entries.iter().enumerate().any(|(i, entry)| {
            entries[..i]
                .iter()
                .any(|earlier| earlier.path == entry.path)
        });
        let filename = self.wheel_filename();
        let bytes = if has_duplicates || !self.declared_sizes.is_empty() {
            write_raw_zip(&entries)
        } else {
            write_zip(&entries, self.compression)
                .unwrap_or_else(|err| panic!("rvenv-testkit: cannot build {filename}: {err}"))
        };
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

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests;
