//! Installs given a bytecode cache entry ([`InstallOptions::bytecode`]): the `.pyc` files are
//! linked with the wheel's files, listed once in RECORD, rolled back with the rest, and a broken
//! entry never fails the install.

use std::os::unix::fs::MetadataExt;

use super::*;

/// The `.pyc` paths (relative to the lib directory) of the entries built below.
const PYCS: [&str; 3] = [
    "demo_pkg/__pycache__/__init__.cpython-311.pyc",
    "demo_pkg/sub/__pycache__/mod.cpython-311.pyc",
    "__pycache__/demo_extra.cpython-311.pyc",
];

/// A bytecode entry as `write_bytecode_manifest` leaves it, with made-up `.pyc` content.
fn fake_entry(dir: &Path, files: &[&str]) -> PathBuf {
    for file in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("cached bytecode of {file}")).unwrap();
    }
    let listed: Vec<String> = files.iter().map(|file| file.to_string()).collect();
    assert_eq!(write_bytecode_manifest(dir, &listed).unwrap(), files.len());
    dir.to_path_buf()
}

fn with_bytecode(entry: &Path) -> InstallOptions {
    InstallOptions {
        link_mode: LinkMode::Hardlink,
        bytecode: Some(entry.to_path_buf()),
        ..InstallOptions::default()
    }
}

/// How many rows of the RECORD of `dist_info` name `path`.
fn rows_naming(venv: &Venv, dist_info: &str, path: &str) -> usize {
    let text = std::fs::read_to_string(venv.site().join(dist_info).join("RECORD")).unwrap();
    parse_record(&text)
        .unwrap()
        .iter()
        .filter(|row| row.path == path)
        .count()
}

/// Bytecode compiled once and kept (as the binary does on a cold install) is linked into a
/// second environment by the install itself: the same RECORD rows as compiling in place gave,
/// each once, files shared with the cache, and Python accepts them without recompiling. The
/// uninstall by RECORD then removes them.
#[test]
fn an_install_given_cached_bytecode_links_it_and_lists_it_in_record() {
    let work = tempfile::tempdir().unwrap();
    let wheel = validated(&demo_wheel().build(), work.path());
    let first = Venv::create(&work.path().join("first"));
    let options = InstallOptions {
        link_mode: LinkMode::Hardlink,
        ..InstallOptions::default()
    };
    let mut compiled = vec![install_wheel(&wheel, &first.target(), &options).unwrap()];
    assert!(!compiled[0].linked_bytecode);
    compile_installed(&first.python, &mut compiled).unwrap();
    let entry = work.path().join("entry");
    assert_eq!(save_bytecode(&compiled[0], &entry).unwrap(), PYCS.len());
    let pyc_rows = |venv: &Venv| -> BTreeMap<String, RecordEntry> {
        record_of(venv, "demo_pkg-1.0.dist-info")
            .into_iter()
            .filter(|(path, _)| path.ends_with(".pyc"))
            .collect()
    };

    let second = Venv::create(&work.path().join("second"));
    let installed = install_wheels_parallel(&[(&wheel, with_bytecode(&entry))], &second.target())
        .unwrap()
        .remove(0);
    assert!(installed.linked_bytecode);
    assert_eq!(pyc_rows(&second), pyc_rows(&first));
    assert_eq!(pyc_rows(&second).len(), PYCS.len());
    for pyc in PYCS {
        let placed = second.site().join(pyc);
        assert!(installed.installed_files.contains(&placed), "{pyc}");
        assert_eq!(
            std::fs::metadata(&placed).unwrap().ino(),
            std::fs::metadata(entry.join(pyc)).unwrap().ino(),
            "{pyc} is not the cached file"
        );
        assert_eq!(rows_naming(&second, "demo_pkg-1.0.dist-info", pyc), 1);
    }
    let before = second.files();
    second.python("import demo_pkg, demo_pkg.sub.mod, demo_extra");
    same_files(&second.files(), &before);
    for pyc in PYCS {
        assert_eq!(
            std::fs::metadata(second.site().join(pyc)).unwrap().ino(),
            std::fs::metadata(entry.join(pyc)).unwrap().ino(),
            "importing recompiled {pyc}"
        );
    }

    let report = uninstall(&installed.dist_info, &second.root).unwrap();
    assert!(
        report.refused.is_empty() && report.missing == 0,
        "{report:?}"
    );
    assert_eq!(std::fs::read_dir(second.site()).unwrap().count(), 0);
}

/// A `.pyc` the wheel ships at the path of a cached one is replaced by the cached one, and
/// RECORD lists it once, with the cached file's hash.
#[test]
fn a_cached_pyc_replaces_one_the_wheel_ships() {
    let work = tempfile::tempdir().unwrap();
    let shipped = "demo_pkg/__pycache__/__init__.cpython-311.pyc";
    let wheel = validated(
        &demo_wheel().file(shipped, "shipped bytecode").build(),
        work.path(),
    );
    let entry = fake_entry(&work.path().join("entry"), &PYCS);
    let venv = Venv::create(&work.path().join("venv"));
    let installed = install_wheel(&wheel, &venv.target(), &with_bytecode(&entry)).unwrap();
    assert!(installed.linked_bytecode);
    assert_eq!(
        std::fs::read_to_string(venv.site().join(shipped)).unwrap(),
        format!("cached bytecode of {shipped}")
    );
    assert_eq!(rows_naming(&venv, "demo_pkg-1.0.dist-info", shipped), 1);
    let (sha256, size) = crate::record::sha256_file(&entry.join(shipped)).unwrap();
    let expected = RecordEntry::new(shipped.to_string(), &sha256, size);
    assert_eq!(
        record_of(&venv, "demo_pkg-1.0.dist-info")[shipped],
        expected
    );
}

/// A missing, unreadable or invalid entry installs the wheel without bytecode and says so
/// (`linked_bytecode` is false: the caller compiles); an entry with a file missing or
/// unlinkable links the others and says so too.
#[test]
fn broken_bytecode_entries_never_fail_the_install() {
    let work = tempfile::tempdir().unwrap();
    let wheel = validated(&demo_wheel().build(), work.path());
    let manifest = |dir: &Path, text: &str| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("RECORD.pyc"), text).unwrap();
        dir.to_path_buf()
    };
    let escaping = fake_entry(&work.path().join("escaping"), &PYCS);
    manifest(&escaping, "../../../escaped.pyc,sha256=AAAA,4\r\n");
    let sizeless = fake_entry(&work.path().join("unsized"), &PYCS);
    manifest(&sizeless, &format!("{},sha256=AAAA,\r\n", PYCS[0]));
    let incomplete = fake_entry(&work.path().join("incomplete"), &PYCS);
    std::fs::remove_file(incomplete.join(PYCS[1])).unwrap();
    let broken = [
        work.path().join("absent"),
        manifest(&work.path().join("garbled"), "a,b\r\n"),
        manifest(
            &work.path().join("empty-part"),
            "demo_pkg//x.pyc,sha256=AAAA,4\r\n",
        ),
        escaping,
        sizeless,
    ];
    for entry in &broken {
        let venv = Venv::create(&work.path().join("venv"));
        let installed = install_wheel(&wheel, &venv.target(), &with_bytecode(entry)).unwrap();
        assert!(!installed.linked_bytecode, "{}", entry.display());
        let record = record_of(&venv, "demo_pkg-1.0.dist-info");
        assert!(
            !record.keys().any(|path| path.ends_with(".pyc")),
            "{}: {record:?}",
            entry.display()
        );
        assert!(!venv.root.join("escaped.pyc").exists());
        assert!(!venv.site().join("demo_pkg/__pycache__").exists());
        std::fs::remove_dir_all(&venv.root).unwrap();
    }

    // A file that cannot be linked (here a directory where a `.pyc` should be) is skipped too.
    let unlinkable = fake_entry(&work.path().join("unlinkable"), &PYCS);
    std::fs::remove_file(unlinkable.join(PYCS[1])).unwrap();
    std::fs::create_dir(unlinkable.join(PYCS[1])).unwrap();
    for entry in [incomplete, unlinkable] {
        let venv = Venv::create(&work.path().join("venv"));
        let installed = install_wheel(&wheel, &venv.target(), &with_bytecode(&entry)).unwrap();
        assert!(!installed.linked_bytecode);
        let record = record_of(&venv, "demo_pkg-1.0.dist-info");
        for (index, pyc) in PYCS.iter().enumerate() {
            let linked = index != 1;
            assert_eq!(record.contains_key(*pyc), linked, "{pyc}");
            assert_eq!(venv.site().join(pyc).is_file(), linked, "{pyc}");
        }
        assert!(!venv.site().join(PYCS[1]).exists());
        std::fs::remove_dir_all(&venv.root).unwrap();
    }
}

/// When another wheel of the same install fails, the linked bytecode goes with the rest: no
/// `.pyc` and no `__pycache__` is left, and a `.pyc` that was in the way is put back.
#[test]
fn a_failed_install_leaves_no_cached_bytecode_behind() {
    let work = tempfile::tempdir().unwrap();
    let venv = Venv::create(&work.path().join("venv"));
    let foreign = venv.site().join(PYCS[0]);
    std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
    std::fs::write(&foreign, "someone else's bytecode").unwrap();
    let before = venv.files();

    let good = validated(&demo_wheel().build(), work.path());
    let bad = validated(&unplaceable_wheel(), work.path());
    let entry = fake_entry(&work.path().join("entry"), &PYCS);
    let jobs = [
        (&good, with_bytecode(&entry)),
        (&bad, InstallOptions::default()),
    ];
    assert!(install_wheels_parallel(&jobs, &venv.target()).is_err());
    same_files(&venv.files(), &before);
    assert!(!venv.site().join("demo_pkg/sub/__pycache__").exists());
    assert!(!venv.site().join("__pycache__").exists());

    // Without the failing wheel the cached file replaces the one in the way.
    install_wheels_parallel(&jobs[..1], &venv.target()).unwrap();
    assert_eq!(
        std::fs::read_to_string(&foreign).unwrap(),
        format!("cached bytecode of {}", PYCS[0])
    );
}

/// `restore_bytecode` (for wheels installed before their entry was kept) refuses the entries
/// the install skips, and takes back what it placed when an entry is missing a file.
#[test]
fn restoring_a_broken_entry_fails_and_places_nothing() {
    let work = tempfile::tempdir().unwrap();
    let wheel = validated(&demo_wheel().build(), work.path());
    let venv = Venv::create(&work.path().join("venv"));
    let mut dist = install_wheel(&wheel, &venv.target(), &InstallOptions::default()).unwrap();
    let record_before = record_of(&venv, "demo_pkg-1.0.dist-info");

    let absent = work.path().join("absent");
    assert!(!restore_bytecode(&mut dist, &absent, LinkMode::Hardlink).unwrap());
    let incomplete = fake_entry(&work.path().join("incomplete"), &PYCS);
    // The last in the manifest's order: the others are placed first, then taken back.
    std::fs::remove_file(incomplete.join(PYCS[1])).unwrap();
    assert!(restore_bytecode(&mut dist, &incomplete, LinkMode::Hardlink).is_err());
    let escaping = fake_entry(&work.path().join("escaping"), &PYCS);
    std::fs::write(escaping.join("RECORD.pyc"), "../x.pyc,sha256=AAAA,4\r\n").unwrap();
    let err = restore_bytecode(&mut dist, &escaping, LinkMode::Hardlink).unwrap_err();
    assert!(err.to_string().contains("../x.pyc"), "{err}");

    for pyc in PYCS {
        assert!(!venv.site().join(pyc).exists(), "{pyc}");
    }
    assert_eq!(record_of(&venv, "demo_pkg-1.0.dist-info"), record_before);
    assert!(!dist
        .installed_files
        .iter()
        .any(|file| file.extension().is_some_and(|ext| ext == "pyc")));
}
