//! Wheels read back with the zip crate.

use std::io::Read;

use super::*;
use crate::BuiltFile;
use std::io::Cursor;

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

fn record_of(wheel: &BuiltFile, dist_info: &str) -> String {
    let entries = read_entries(&wheel.bytes);
    entry(&entries, &format!("{dist_info}/RECORD")).to_string()
}

#[test]
fn duplicate_entries_and_lying_sizes() {
    let wheel = WheelBuilder::new("dup", "1.0")
        .raw_entry("dup/__init__.py", "evil = True\n")
        .declared_size("dup-1.0.dist-info/METADATA", 3_000_000_000)
        .build();
    // Both __init__.py entries are there (the zip crate's reader only shows the last one).
    let entries_with_record = 5;
    assert_eq!(
        archive::tests::declared_entries(&wheel.bytes),
        entries_with_record
    );
    assert_eq!(
        entry(&read_entries(&wheel.bytes), "dup/__init__.py"),
        "evil = True\n"
    );
    let mut archive = zip::ZipArchive::new(Cursor::new(&wheel.bytes)).unwrap();
    let metadata = archive.by_name("dup-1.0.dist-info/METADATA").unwrap();
    assert_eq!(metadata.size(), 3_000_000_000);
    assert_eq!(metadata.compressed_size(), wheel.metadata.len() as u64);
}

#[test]
fn compression_ratio_bomb() {
    let size = 2 * 1024 * 1024;
    let wheel = WheelBuilder::new("bomb", "1.0")
        .zeros_entry("bomb/zeros.bin", size)
        .build();
    assert!(
        wheel.bytes.len() < size / 500,
        "{} bytes",
        wheel.bytes.len()
    );
    let mut archive = zip::ZipArchive::new(Cursor::new(&wheel.bytes)).unwrap();
    assert_eq!(
        archive.by_name("bomb/zeros.bin").unwrap().size(),
        size as u64
    );
}

#[test]
fn record_lies() {
    let wheel = WheelBuilder::new("liar", "1.0")
        .file("liar/a.py", "A = 1\n")
        .file("liar/b.py", "B = 2\n")
        .record_wrong_hash("liar/a.py")
        .record_omits("liar/b.py")
        .build();
    let record = record_of(&wheel, "liar-1.0.dist-info");
    let a_line = record
        .lines()
        .find(|l| l.starts_with("liar/a.py,"))
        .unwrap();
    assert_ne!(a_line, format!("liar/a.py,{},6", record_hash(b"A = 1\n")));
    assert!(a_line.ends_with(",6"), "same size, wrong hash: {a_line}");
    assert!(!record.contains("liar/b.py"));
    assert!(read_entries(&wheel.bytes)
        .iter()
        .any(|(n, _)| n == "liar/b.py"));
}

#[test]
fn truncated_wheels_do_not_open() {
    let wheel = WheelBuilder::new("cut", "1.0").build();
    let cut = wheel.truncated(wheel.bytes.len() / 2);
    assert_eq!(cut.filename, wheel.filename);
    assert_eq!(cut.sha256, crate::sha256_hex(&cut.bytes));
    assert!(zip::ZipArchive::new(Cursor::new(&cut.bytes)).is_err());
}
