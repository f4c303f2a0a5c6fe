//! Sdists read back with the tar and zip crates; the in-tree backend run by python3.

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
fn setuptools_sdist_as_tar_gz() {
    let sdist = SdistBuilder::new("My.Pkg", "0.3")
        .setuptools()
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
    assert!(entries[1]
        .1
        .contains("build-backend = \"setuptools.build_meta\""));
    assert!(entries[1].1.contains("dependencies = [\"six>=1\"]\n"));
    assert!(entries[1].1.contains("requires-python = \">=3.8\"\n"));
}

#[test]
fn default_sdist_names_the_in_tree_backend() {
    let sdist = SdistBuilder::new("pkg", "1.0")
        .build_requires("flit_core")
        .backend_requires("wheel-helper>=1")
        .build();
    let entries = tar_entries(&sdist.bytes);
    let paths: Vec<&str> = entries.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "pkg-1.0/PKG-INFO",
            "pkg-1.0/pyproject.toml",
            "pkg-1.0/testkit_backend.py",
            "pkg-1.0/testkit_backend.json",
            "pkg-1.0/pkg/__init__.py"
        ]
    );
    assert_eq!(
        entries[1].1,
        "[build-system]\nrequires = [\"flit_core\"]\nbuild-backend = \"testkit_backend\"\nbackend-path = [\".\"]\n"
    );
    assert_eq!(
        entries[3].1,
        r#"{"fail":null,"requires":["wheel-helper>=1"]}"#
    );
}

#[test]
fn hostile_tar_entries_are_written_verbatim() {
    let sdist = SdistBuilder::new("evil", "1.0")
        .raw_entry("../outside.txt", "x")
        .raw_entry("/etc/evil", "y")
        .symlink("evil-1.0/link", "../../etc/passwd")
        .hardlink("evil-1.0/hard", "/etc/shadow")
        .build();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(sdist.bytes.as_slice()));
    let found: Vec<(String, tar::EntryType, Option<String>)> = archive
        .entries()
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let header = entry.header();
            let path = String::from_utf8(header.path_bytes().into_owned()).unwrap();
            let link = header
                .link_name_bytes()
                .map(|l| String::from_utf8(l.into_owned()).unwrap());
            (path, header.entry_type(), link)
        })
        .collect();
    let tail = &found[found.len() - 4..];
    assert_eq!(
        tail[0],
        ("../outside.txt".to_string(), tar::EntryType::Regular, None)
    );
    assert_eq!(tail[1].0, "/etc/evil");
    assert_eq!(
        tail[2],
        (
            "evil-1.0/link".to_string(),
            tar::EntryType::Symlink,
            Some("../../etc/passwd".to_string())
        )
    );
    assert_eq!(tail[3].1, tar::EntryType::Link);
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
/// Runs a hook of the in-tree backend with python3 in the unpacked sdist; None without python3.
fn run_hook(sdist: &BuiltFile, hook: &str) -> Option<(bool, String, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(sdist.bytes.as_slice()))
        .unpack(dir.path())
        .unwrap();
    let tree = dir.path().join(sdist.filename.trim_end_matches(".tar.gz"));
    let out = dir.path().join("out");
    fs_err::create_dir(&out).unwrap();
    let script = format!("import sys, testkit_backend as b; print(b.{hook}(sys.argv[1]))");
    let output = std::process::Command::new("python3")
        .args(["-B", "-c", &script])
        .arg(&out)
        .current_dir(&tree)
        .output();
    let Ok(output) = output else {
        eprintln!("python3 not found: skipping the backend test");
        return None;
    };
    let text = String::from_utf8_lossy(if output.status.success() {
        &output.stdout
    } else {
        &output.stderr
    });
    Some((output.status.success(), text.trim().to_string(), dir))
}

#[test]
fn in_tree_backend_builds_a_valid_wheel() {
    let sdist = SdistBuilder::new("Built.Pkg", "1.2")
        .requires_dist("six")
        .file("built_pkg/__init__.py", "X = 1\n")
        .file("built_pkg/data/info.txt", "data\n")
        .build();
    let Some((ok, filename, dir)) = run_hook(&sdist, "build_wheel") else {
        return;
    };
    assert!(ok, "{filename}");
    assert_eq!(filename, "built_pkg-1.2-py3-none-any.whl");
    let bytes = fs_err::read(dir.path().join("out").join(&filename)).unwrap();
    let mut wheel = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = wheel
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "built_pkg-1.2.dist-info/METADATA",
            "built_pkg-1.2.dist-info/RECORD",
            "built_pkg-1.2.dist-info/WHEEL",
            "built_pkg/__init__.py",
            "built_pkg/data/info.txt"
        ]
    );
    let mut metadata = String::new();
    wheel
        .by_name("built_pkg-1.2.dist-info/METADATA")
        .unwrap()
        .read_to_string(&mut metadata)
        .unwrap();
    assert_eq!(metadata, sdist.metadata);
    let mut record = String::new();
    wheel
        .by_name("built_pkg-1.2.dist-info/RECORD")
        .unwrap()
        .read_to_string(&mut record)
        .unwrap();
    let init_line = format!(
        "built_pkg/__init__.py,{},6",
        crate::wheel::record_hash(b"X = 1\n")
    );
    assert!(record.lines().any(|line| line == init_line), "{record}");
}

#[test]
fn in_tree_backend_fails_when_asked() {
    let sdist = SdistBuilder::new("broken", "1.0")
        .backend_fails("no compiler here")
        .build();
    let Some((ok, stderr, _dir)) = run_hook(&sdist, "build_wheel") else {
        return;
    };
    assert!(!ok);
    assert!(
        stderr.contains("testkit backend, build_wheel: no compiler here"),
        "{stderr}"
    );
}
