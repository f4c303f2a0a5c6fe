//! Whole-crate tests against real interpreters and the real pip: what rvenv installs must be what
//! pip installs, and pip must be able to work with it.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rvenv_testkit::{BuiltFile, WheelBuilder};
use rvenv_venv::Scheme;

use crate::*;

mod cached_bytecode;

const BASE_PYTHON: &str = "/usr/bin/python3.11";

struct Venv {
    root: PathBuf,
    python: PathBuf,
    scheme: Scheme,
}

impl Venv {
    fn create(root: &Path) -> Venv {
        run_ok(
            Command::new(BASE_PYTHON)
                .args(["-m", "venv", "--without-pip"])
                .arg(root),
        );
        let root = root.to_path_buf();
        let site = root.join("lib/python3.11/site-packages");
        Venv {
            python: root.join("bin/python"),
            scheme: Scheme {
                purelib: site.clone(),
                platlib: site,
                scripts: root.join("bin"),
                data: root.clone(),
                include: root.join("include/site/python3.11"),
            },
            root,
        }
    }

    fn target(&self) -> InstallTarget {
        InstallTarget {
            scheme: self.scheme.clone(),
            python: self.python.clone(),
            python_version: (3, 11),
        }
    }

    fn site(&self) -> &Path {
        &self.scheme.purelib
    }

    /// Every file below the root: relative path -> (content with the root replaced, executable).
    fn files(&self) -> BTreeMap<String, (Vec<u8>, bool)> {
        let mut files = BTreeMap::new();
        let mut pending = vec![self.root.clone()];
        let root_text = self.root.to_string_lossy().into_owned();
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    pending.push(path);
                    continue;
                }
                let relative = path
                    .strip_prefix(&self.root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let content = if meta.is_symlink() {
                    Vec::new()
                } else {
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap())
                        .replace(&root_text, "<VENV>")
                        .into_bytes()
                };
                files.insert(relative, (content, meta.permissions().mode() & 0o111 != 0));
            }
        }
        files
    }

    fn python(&self, code: &str) -> Output {
        run_ok(Command::new(&self.python).args(["-c", code]))
    }
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"))
}

fn run_ok(command: &mut Command) -> Output {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The real pip (from the `python3` on PATH) acting on `venv`.
fn pip(venv: &Venv, args: &[&str]) -> Output {
    run_ok(
        Command::new("python3")
            .args(["-m", "pip", "--disable-pip-version-check", "--python"])
            .arg(&venv.python)
            .args(args),
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Writes, unpacks and validates a built wheel below `work`.
/// A wheel that passes validation but fails to install: its `.data/bogus` has no place in the
/// scheme. For checking that an install with it leaves nothing behind.
fn unplaceable_wheel() -> BuiltFile {
    WheelBuilder::new("bad", "1.0")
        .file("bad/__init__.py", "")
        .data_file("bogus", "x.txt", "")
        .build()
}

fn validated(built: &BuiltFile, work: &Path) -> ValidatedWheel {
    let archive = built.write_to(work);
    let dest = work.join(format!("{}.unpacked", built.filename));
    unpack_and_validate(&archive, &dest, &built.name, &built.version).unwrap()
}

fn demo_wheel() -> WheelBuilder {
    WheelBuilder::new("Demo.Pkg", "1.0")
        .file(
            "demo_pkg/__init__.py",
            "import sys\n\ndef main():\n    print('hello from demo', sys.argv[1:])\n    return 3\n",
        )
        .file(
            "demo_pkg/sub/mod.py",
            "class App:\n    @staticmethod\n    def run():\n        print('gui run')\n",
        )
        .file("demo_pkg/data.json", "{}\n")
        .data_file(
            "scripts",
            "demo-script",
            "#!python\nimport sys\nprint('script ok', sys.executable)\n",
        )
        .data_file("scripts", "plain.sh", "#!/bin/sh\necho plain\n")
        .data_file("headers", "demo.h", "int demo;\n")
        .data_file("data", "share/demo/file.txt", "data\n")
        .data_file("purelib", "demo_extra.py", "X = 1\n")
        .entry_point("console_scripts", "demo", "demo_pkg:main")
        .entry_point("gui_scripts", "demo-gui", "demo_pkg.sub.mod:App.run [gui]")
}

fn record_of(venv: &Venv, dist_info: &str) -> BTreeMap<String, RecordEntry> {
    let text = std::fs::read_to_string(venv.site().join(dist_info).join("RECORD")).unwrap();
    parse_record(&text)
        .unwrap()
        .into_iter()
        .map(|entry| (entry.path.clone(), entry))
        .collect()
}

#[test]
fn installs_what_pip_installs_and_pip_can_use_it() {
    let work = tempfile::tempdir().unwrap();
    let built = demo_wheel().build();
    let archive = built.write_to(work.path());
    let ours = Venv::create(&work.path().join("ours/venv"));
    let theirs = Venv::create(&work.path().join("theirs/venv"));
    let fresh = ours.files();

    pip(
        &theirs,
        &[
            "install",
            "--no-deps",
            "--no-compile",
            archive.to_str().unwrap(),
        ],
    );
    let dist_info = "demo_pkg-1.0.dist-info";
    let direct_url =
        std::fs::read_to_string(theirs.site().join(dist_info).join("direct_url.json")).unwrap();
    let wheel = validated(&built, work.path());
    let options = InstallOptions {
        requested: true,
        direct_url: Some(direct_url),
        ..InstallOptions::default()
    };
    let installed = install_wheel(&wheel, &ours.target(), &options).unwrap();
    assert_eq!(
        (installed.name.as_str(), installed.version.as_str()),
        ("Demo.Pkg", "1.0")
    );

    // Same files, same content and executable bits, launchers and INSTALLER aside.
    let (our_files, their_files) = (ours.files(), theirs.files());
    assert_eq!(
        our_files.keys().collect::<Vec<_>>(),
        their_files.keys().collect::<Vec<_>>()
    );
    let launchers = ["bin/demo", "bin/demo-gui"];
    let installer = format!("lib/python3.11/site-packages/{dist_info}/INSTALLER");
    let record = format!("lib/python3.11/site-packages/{dist_info}/RECORD");
    for (path, (content, executable)) in &our_files {
        let (their_content, their_executable) = &their_files[path];
        assert_eq!(executable, their_executable, "executable bit of {path}");
        if !launchers.contains(&path.as_str()) && *path != installer && *path != record {
            assert_eq!(
                String::from_utf8_lossy(content),
                String::from_utf8_lossy(their_content),
                "{path}"
            );
        }
    }
    assert!(our_files.contains_key("include/site/python3.11/demo-pkg/demo.h"));
    assert!(our_files.contains_key("share/demo/file.txt"));
    assert_eq!(our_files[&installer].0, b"rvenv\n");

    // Same RECORD rows; hashes differ only where the content may: launchers, INSTALLER, and
    // the rewritten script (it holds the venv's path, compared above).
    let (our_record, their_record) = (record_of(&ours, dist_info), record_of(&theirs, dist_info));
    assert_eq!(
        our_record.keys().collect::<Vec<_>>(),
        their_record.keys().collect::<Vec<_>>()
    );
    for (path, entry) in &our_record {
        let differs = path.ends_with("/bin/demo")
            || path.ends_with("/bin/demo-gui")
            || path.ends_with("/bin/demo-script")
            || path.ends_with("/INSTALLER");
        if !differs {
            assert_eq!(entry, &their_record[path]);
        }
    }

    // The launchers and the rewritten script work like pip's.
    for (venv, label) in [(&ours, "ours"), (&theirs, "pip's")] {
        let output = run(Command::new(venv.root.join("bin/demo")).arg("x"));
        assert_eq!(output.status.code(), Some(3), "{label} launcher exit code");
        assert_eq!(stdout(&output), "hello from demo ['x']\n", "{label}");
        let output = run_ok(&mut Command::new(venv.root.join("bin/demo-gui")));
        assert_eq!(stdout(&output), "gui run\n");
    }
    let output = run_ok(&mut Command::new(ours.root.join("bin/demo-script")));
    assert_eq!(
        stdout(&output),
        format!("script ok {}\n", ours.python.display())
    );

    // Real tools read it.
    let listed = stdout(&pip(&ours, &["list", "--format=freeze"]));
    assert!(listed.contains("Demo.Pkg==1.0"), "{listed}");
    pip(&ours, &["check"]);
    let metadata = ours.python(
        "import importlib.metadata as m; d = m.distribution('demo-pkg'); \
         print(d.version, len(d.files), sorted(e.name for e in d.entry_points)); \
         print(all(f.hash is None or f.hash.value for f in d.files))",
    );
    assert_eq!(
        stdout(&metadata),
        format!("1.0 {} ['demo', 'demo-gui']\nTrue\n", our_record.len())
    );

    // Bytecode: pip with compilation records the same .pyc files.
    let compiled_by_pip = Venv::create(&work.path().join("compiled/venv"));
    pip(
        &compiled_by_pip,
        &["install", "--no-deps", archive.to_str().unwrap()],
    );
    let mut dists = vec![installed];
    let count = compile_installed(&ours.python, &mut dists).unwrap();
    assert_eq!(count, 3);
    let ours_paths: BTreeSet<String> = record_of(&ours, dist_info).into_keys().collect();
    let pips_paths: BTreeSet<String> = record_of(&compiled_by_pip, dist_info).into_keys().collect();
    assert_eq!(ours_paths, pips_paths);
    ours.python("import demo_pkg.sub.mod, demo_extra");

    // pip removes everything we installed.
    pip(&ours, &["uninstall", "-y", "demo-pkg"]);
    assert_eq!(
        ours.files().keys().collect::<Vec<_>>(),
        fresh.keys().collect::<Vec<_>>()
    );
}

#[test]
fn uninstall_removes_everything_installed_and_compiled() {
    let work = tempfile::tempdir().unwrap();
    let venv = Venv::create(&work.path().join("venv"));
    let fresh = venv.files();
    let wheel = validated(&demo_wheel().build(), work.path());
    let mut dists =
        vec![install_wheel(&wheel, &venv.target(), &InstallOptions::default()).unwrap()];
    compile_installed(&venv.python, &mut dists).unwrap();
    assert!(venv.site().join("demo_pkg/__pycache__").is_dir());

    let listed = installed_distributions(&[venv.site().to_path_buf()]).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].installer.as_deref(), Some("rvenv"));
    assert!(!listed[0].requested);

    let report = uninstall(&listed[0].dist_info, &venv.root).unwrap();
    assert!(
        report.refused.is_empty() && report.missing == 0,
        "{report:?}"
    );
    assert_eq!(
        venv.files().keys().collect::<Vec<_>>(),
        fresh.keys().collect::<Vec<_>>()
    );
    assert_eq!(std::fs::read_dir(venv.site()).unwrap().count(), 0);
    assert!(!venv.root.join("include/site/python3.11/demo-pkg").exists());
    assert!(!venv.root.join("share/demo").exists());
}

#[test]
fn platlib_wheels_and_data_keys_follow_the_scheme() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("prefix");
    let scheme = Scheme {
        purelib: root.join("pure"),
        platlib: root.join("plat"),
        scripts: root.join("bin"),
        data: root.join("data"),
        include: root.join("include"),
    };
    let built = WheelBuilder::new("native", "2.0")
        .tag("cp311-cp311-linux_x86_64")
        .file("native/__init__.py", "")
        .data_file("purelib", "pure_part.py", "")
        .data_file("platlib", "plat_part.py", "")
        .build();
    let wheel = validated(&built, work.path());
    assert!(!wheel.root_is_purelib());
    let target = InstallTarget {
        scheme,
        python: PathBuf::from("/venv/bin/python"),
        python_version: (3, 11),
    };
    let installed = install_wheel(&wheel, &target, &InstallOptions::default()).unwrap();
    assert_eq!(installed.dist_info, root.join("plat/native-2.0.dist-info"));
    assert!(root.join("plat/native/__init__.py").is_file());
    assert!(root.join("plat/plat_part.py").is_file());
    assert!(root.join("pure/pure_part.py").is_file());
    let record = std::fs::read_to_string(installed.dist_info.join("RECORD")).unwrap();
    assert!(record.contains("../pure/pure_part.py,sha256="), "{record}");
    assert!(record.contains("\nnative/__init__.py,sha256="), "{record}");
}

#[test]
fn launchers_work_from_a_path_with_spaces() {
    let work = tempfile::tempdir().unwrap();
    let venv = Venv::create(&work.path().join("with space/venv"));
    let wheel = validated(&demo_wheel().build(), work.path());
    install_wheel(&wheel, &venv.target(), &InstallOptions::default()).unwrap();
    let launcher = std::fs::read_to_string(venv.root.join("bin/demo")).unwrap();
    assert!(launcher.starts_with("#!/bin/sh\n"), "{launcher}");
    let output = run(Command::new(venv.root.join("bin/demo")).args(["a b"]));
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(stdout(&output), "hello from demo ['a b']\n");
    let output = run_ok(&mut Command::new(venv.root.join("bin/demo-script")));
    assert!(stdout(&output).starts_with("script ok"));
}

#[test]
fn link_modes_share_or_copy_files() {
    use std::os::unix::fs::MetadataExt;
    let work = tempfile::tempdir().unwrap();
    let wheel = validated(&demo_wheel().build(), work.path());
    let cached = std::fs::metadata(wheel.root().join("demo_pkg/__init__.py")).unwrap();
    for (mode, shared) in [(LinkMode::Hardlink, true), (LinkMode::Copy, false)] {
        let venv = Venv::create(&work.path().join(format!("{mode:?}")));
        let options = InstallOptions {
            link_mode: mode,
            ..InstallOptions::default()
        };
        install_wheel(&wheel, &venv.target(), &options).unwrap();
        let installed = std::fs::metadata(venv.site().join("demo_pkg/__init__.py")).unwrap();
        assert_eq!(installed.ino() == cached.ino(), shared, "{mode:?}");
        // The rewritten script is never a link into the cache.
        let script = std::fs::metadata(venv.root.join("bin/demo-script")).unwrap();
        let cached_script =
            std::fs::metadata(wheel.root().join("demo_pkg-1.0.data/scripts/demo-script")).unwrap();
        assert_ne!(script.ino(), cached_script.ino());
    }
}

#[test]
fn failed_installs_leave_nothing_behind() {
    let work = tempfile::tempdir().unwrap();
    let venv = Venv::create(&work.path().join("venv"));
    std::fs::create_dir_all(venv.site()).unwrap();
    std::fs::write(venv.site().join("shared.py"), "original\n").unwrap();
    let before = venv.files();

    let good = validated(&WheelBuilder::new("good", "1.0").build(), work.path());
    let bad = validated(
        &WheelBuilder::new("bad", "1.0")
            .file("shared.py", "overwritten\n")
            .file("bad/__init__.py", "")
            .data_file("scripts", "bad-tool", "#!python\n")
            .data_file("bogus", "x.txt", "")
            .build(),
        work.path(),
    );
    let err = install_wheel(&bad, &venv.target(), &InstallOptions::default()).unwrap_err();
    assert!(err.to_string().contains("bad-1.0.data/bogus"), "{err}");
    assert_eq!(venv.files(), before);

    let options = InstallOptions::default();
    let both = [(&good, options.clone()), (&bad, options.clone())];
    assert!(install_wheels_parallel(&both, &venv.target()).is_err());
    assert_eq!(venv.files(), before);

    let other = validated(&WheelBuilder::new("other", "1.0").build(), work.path());
    let installed = install_wheels_parallel(
        &[(&good, options.clone()), (&other, options)],
        &venv.target(),
    )
    .unwrap();
    assert_eq!(installed.len(), 2);
    let names: Vec<String> = installed_distributions(&[venv.site().to_path_buf()])
        .unwrap()
        .into_iter()
        .map(|dist| dist.name)
        .collect();
    assert_eq!(names, ["good", "other"]);
}

/// What a process killed with SIGKILL leaves: a staged `.dist-info` of an install and a
/// half-done removal. Neither is listed as installed; installing the project again finishes
/// the removal (old files gone, new ones kept) and drops the stale staging directory.
#[test]
fn leftovers_of_a_killed_run_are_invisible_and_cleared_by_the_next_install() {
    let work = tempfile::tempdir().unwrap();
    let venv = Venv::create(&work.path().join("venv"));
    let v1 = WheelBuilder::new("demo", "1.0")
        .file("demo/__init__.py", "V = 1\n")
        .file("demo/old_only.py", "")
        .data_file("scripts", "demo-old", "#!/bin/sh\n");
    let v1 = validated(&v1.build(), work.path());
    let dist = install_wheel(&v1, &venv.target(), &InstallOptions::default()).unwrap();

    // Killed mid-uninstall: the `.dist-info` was renamed aside, one file already removed.
    let removing = venv.site().join("demo-1.0.dist-info.rvenv-removing");
    std::fs::rename(&dist.dist_info, &removing).unwrap();
    std::fs::remove_file(venv.site().join("demo/__init__.py")).unwrap();
    // Killed mid-install of 3.0 (not what the rerun installs): a staged `.dist-info`.
    let staging = venv.site().join("demo-3.0.dist-info.rvenv-partial");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("METADATA"), "Name: demo\nVersion: 3.0\n").unwrap();
    assert!(installed_distributions(&[venv.site().to_path_buf()])
        .unwrap()
        .is_empty());
    let listed = venv.python("import importlib.metadata as m; print(len(list(m.distributions())))");
    assert_eq!(stdout(&listed).trim(), "0");

    let v2 = WheelBuilder::new("demo", "2.0").file("demo/__init__.py", "V = 2\n");
    let v2 = validated(&v2.build(), work.path());
    install_wheels_parallel(&[(&v2, InstallOptions::default())], &venv.target()).unwrap();
    assert!(!removing.exists() && !staging.exists());
    assert!(!venv.site().join("demo/old_only.py").exists());
    assert!(!venv.root.join("bin/demo-old").exists());
    assert_eq!(
        std::fs::read_to_string(venv.site().join("demo/__init__.py")).unwrap(),
        "V = 2\n"
    );
    let names: Vec<(String, String)> = installed_distributions(&[venv.site().to_path_buf()])
        .unwrap()
        .into_iter()
        .map(|dist| (dist.name, dist.version))
        .collect();
    assert_eq!(names, [("demo".to_string(), "2.0".to_string())]);
    // An uninstall leaves nothing of it either, the renamed `.dist-info` included.
    uninstall(&venv.site().join("demo-2.0.dist-info"), &venv.root).unwrap();
    let left: Vec<_> = std::fs::read_dir(venv.site()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Builds a wheel whose RECORD is the computed one passed through `edit`.
fn with_record(builder: WheelBuilder, edit: impl Fn(String) -> String) -> BuiltFile {
    let built = builder.clone().build();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(built.bytes)).unwrap();
    let mut record = String::new();
    std::io::Read::read_to_string(
        &mut zip
            .by_name(&format!("{}/RECORD", builder.dist_info_dir()))
            .unwrap(),
        &mut record,
    )
    .unwrap();
    builder.record_override(&edit(record)).build()
}

#[test]
fn bad_wheels_are_refused_naming_wheel_and_reason() {
    let work = tempfile::tempdir().unwrap();
    let base = || WheelBuilder::new("demo", "1.0").file("demo/__init__.py", "print('hi')\n");

    let built = base().build();
    let truncated = built.truncated(built.bytes.len() / 2);
    // `print('hi')\n` is 12 bytes; RECORD claims 13.
    let size_lie = with_record(base(), |record| record.replacen(",12\n", ",13\n", 1));

    let cases: Vec<(&str, BuiltFile, &str, &str)> = vec![
        (
            "parent",
            base().raw_entry("../evil.py", "x").build(),
            "demo",
            "`..` would leave",
        ),
        (
            "absolute",
            base().raw_entry("/tmp/evil.py", "x").build(),
            "demo",
            "absolute paths",
        ),
        (
            "symlink",
            base().symlink("demo/link", "/etc/passwd").build(),
            "demo",
            "symbolic links",
        ),
        (
            "hash",
            base().record_wrong_hash("demo/__init__.py").build(),
            "demo",
            "sha256 is",
        ),
        ("size", size_lie, "demo", "size is 12, RECORD says 13"),
        (
            "unlisted",
            base().record_omits("demo/__init__.py").build(),
            "demo",
            "not listed in RECORD",
        ),
        (
            "no record",
            base().skip_record().build(),
            "demo",
            "RECORD is missing",
        ),
        ("name", base().build(), "other", "other 1.0 was requested"),
        (
            "metadata name",
            base().metadata_name("evil").build(),
            "demo",
            "evil 1.0 (METADATA)",
        ),
        (
            "wheel version",
            base()
                .wheel_file_override("Wheel-Version: 2.0\nRoot-Is-Purelib: true\n")
                .build(),
            "demo",
            "unsupported Wheel-Version 2.0",
        ),
        (
            "entry point",
            base()
                .entry_point("console_scripts", "x", "demo:main; import os")
                .build(),
            "demo",
            "invalid entry point",
        ),
        ("truncated", truncated, "demo", "truncated or corrupt"),
        (
            "duplicate",
            base().raw_entry("demo/__init__.py", "again").build(),
            "demo",
            "more than once",
        ),
        (
            "bomb",
            base().zeros_entry("demo/zeros.bin", 32 << 20).build(),
            "demo",
            "compression ratio",
        ),
        (
            "declared bomb",
            base()
                .declared_size("demo/__init__.py", 4_000_000_000)
                .build(),
            "demo",
            "compression ratio",
        ),
        (
            "script named python",
            base().data_file("scripts", "python", "#!/bin/sh\n").build(),
            "demo",
            "environment's own interpreter",
        ),
        (
            "launcher named activate",
            base()
                .entry_point("console_scripts", "activate", "demo:main")
                .build(),
            "demo",
            "activate (entry point)",
        ),
        (
            "data file over pyvenv.cfg",
            base()
                .data_file("data", "pyvenv.cfg", "home = /evil\n")
                .build(),
            "demo",
            "pyvenv.cfg",
        ),
        (
            "declared too small",
            base().declared_size("demo/__init__.py", 3).build(),
            "demo",
            "demo/__init__.py",
        ),
    ];
    for (label, built, expected_name, reason) in cases {
        let archive = built.write_to(work.path());
        let dest = work.path().join(format!("unpacked-{label}"));
        let err = unpack_and_validate(&archive, &dest, expected_name, "1.0").unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&built.filename), "{label}: {message}");
        assert!(message.contains(reason), "{label}: {message}");
        assert!(!dest.exists(), "{label}: left {}", dest.display());
        assert!(!work.path().join("evil.py").exists() && !Path::new("/tmp/evil.py").exists());
        std::fs::remove_file(archive).unwrap();
    }
}

#[test]
fn unpack_limits_and_executable_bits() {
    let work = tempfile::tempdir().unwrap();
    let built = demo_wheel()
        .file("demo_pkg/big.txt", "x".repeat(3000))
        .build();
    let archive = built.write_to(work.path());
    let limits = UnpackLimits {
        max_total_size: 2000,
        ..UnpackLimits::default()
    };
    let err = unpack_wheel_with_limits(&archive, &work.path().join("a"), &limits).unwrap_err();
    assert!(err.to_string().contains("more than 2000 bytes"), "{err}");
    assert!(!work.path().join("a").exists());

    let unpacked = unpack_wheel(&archive, &work.path().join("b")).unwrap();
    let mode = |path: &str| {
        std::fs::metadata(unpacked.root().join(path))
            .unwrap()
            .permissions()
            .mode()
            & 0o111
    };
    assert_ne!(mode("demo_pkg-1.0.data/scripts/plain.sh"), 0);
    assert_eq!(mode("demo_pkg/__init__.py"), 0);
    // Re-opening the directory re-checks everything, the trusted way only sizes.
    let full = UnpackedWheel::open(unpacked.root(), "demo-pkg", "1.0").unwrap();
    assert_eq!(full.files().len(), unpacked.files().len() - 1);
    std::fs::write(unpacked.root().join("demo_pkg/__init__.py"), "tampered!").unwrap();
    let err = UnpackedWheel::open(unpacked.root(), "demo-pkg", "1.0").unwrap_err();
    assert!(err.to_string().contains("demo_pkg/__init__.py"), "{err}");
    assert!(ValidatedWheel::open_trusted(unpacked.root(), "demo-pkg", "1.0").is_err());
}

/// The wheels bundled with the `python3` on PATH (`ensurepip`): real-world wheels, no network.
fn bundled_wheels() -> Vec<PathBuf> {
    let output = run_ok(Command::new("python3").args([
        "-c",
        "import ensurepip, os; print(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled'))",
    ]));
    let dir = PathBuf::from(stdout(&output).trim());
    let wheels: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("no bundled wheels in {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .collect();
    assert!(!wheels.is_empty(), "no wheels in {}", dir.display());
    wheels
}

#[test]
fn real_wheels_install_like_pip_with_bytecode() {
    let work = tempfile::tempdir().unwrap();
    let ours = Venv::create(&work.path().join("ours/venv"));
    let theirs = Venv::create(&work.path().join("theirs/venv"));
    let mut dists = Vec::new();
    for archive in bundled_wheels() {
        let file_name = archive.file_name().unwrap().to_string_lossy().into_owned();
        let parts: Vec<&str> = file_name.split('-').collect();
        let dest = work.path().join(&file_name);
        let wheel = unpack_and_validate(&archive, &dest, parts[0], parts[1]).unwrap();
        let options = InstallOptions {
            requested: true,
            ..InstallOptions::default()
        };
        dists.push(install_wheel(&wheel, &ours.target(), &options).unwrap());
        pip(
            &theirs,
            &["install", "--no-deps", archive.to_str().unwrap()],
        );
    }
    compile_installed(&ours.python, &mut dists).unwrap();

    let differs = |path: &str| {
        path.contains("/bin/") || path.ends_with("/INSTALLER") || path.ends_with("direct_url.json")
    };
    let (our_files, their_files) = (ours.files(), theirs.files());
    let keys = |files: &BTreeMap<String, (Vec<u8>, bool)>| -> BTreeSet<String> {
        files
            .keys()
            .filter(|path| !path.ends_with("direct_url.json"))
            .cloned()
            .collect()
    };
    assert_eq!(keys(&our_files), keys(&their_files));
    for dist in &dists {
        let dist_info = dist
            .dist_info
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let (our_record, their_record) =
            (record_of(&ours, &dist_info), record_of(&theirs, &dist_info));
        let paths = |record: &BTreeMap<String, RecordEntry>| -> BTreeSet<String> {
            record
                .keys()
                .filter(|path| !path.ends_with("direct_url.json"))
                .cloned()
                .collect()
        };
        assert_eq!(paths(&our_record), paths(&their_record), "{dist_info}");
        for (path, entry) in &our_record {
            // Bytecode embeds the source's mtime; everything else must hash the same.
            if !differs(path) && !path.ends_with(".pyc") {
                assert_eq!(entry, &their_record[path], "{dist_info}");
            }
        }
    }
    let version = run_ok(Command::new(ours.root.join("bin/pip")).arg("--version"));
    assert!(
        stdout(&version).contains(&ours.site().display().to_string()),
        "{}",
        stdout(&version)
    );
    let version = run_ok(Command::new(ours.root.join("bin/pip3.11")).arg("--version"));
    assert!(stdout(&version).starts_with("pip "));
    // The installed pip works on its own environment.
    let listed = run_ok(Command::new(&ours.python).args(["-m", "pip", "list", "--format=freeze"]));
    assert!(stdout(&listed).contains("pip=="), "{}", stdout(&listed));
}

#[test]
fn large_wheels_unpack_in_parallel_and_verify() {
    let work = tempfile::tempdir().unwrap();
    // Incompressible content, above the parallel threshold.
    let mut state: u64 = 0x9e3779b97f4a7c15;
    let mut builder = WheelBuilder::new("bulk", "1.0").file("bulk/__init__.py", "");
    for index in 0..40 {
        let content: Vec<u8> = (0..300_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        builder = builder.file(&format!("bulk/part{index}.bin"), content);
    }
    let wheel = validated(&builder.build(), work.path());
    assert_eq!(wheel.files().len(), 41 + 2); // + METADATA, WHEEL
    let full = UnpackedWheel::open(wheel.root(), "bulk", "1.0").unwrap();
    assert_eq!(full.files(), wheel.files());
}

/// A wheel big enough for the parallel link path (many files in nested directories), with
/// every kind of `.data/` file and launchers.
fn big_demo_wheel() -> WheelBuilder {
    let mut builder = demo_wheel();
    for index in 0..300 {
        builder = builder.file(
            &format!("demo_pkg/data/d{}/e{}/f{index}.txt", index % 7, index % 3),
            format!("file {index}\n"),
        );
    }
    builder
}

fn same_wheel(a: &ValidatedWheel, b: &ValidatedWheel) {
    assert_eq!(a.root(), b.root());
    assert_eq!(a.name(), b.name());
    assert_eq!(a.version(), b.version());
    assert_eq!(a.dist_info_dir(), b.dist_info_dir());
    assert_eq!(a.root_is_purelib(), b.root_is_purelib());
    assert_eq!(a.files(), b.files());
    assert_eq!(a.entry_points(), b.entry_points());
}

#[test]
fn the_manifest_opens_an_entry_as_the_walk_does_and_bad_ones_fall_back() {
    let work = tempfile::tempdir().unwrap();
    let unpacked = validated(&big_demo_wheel().build(), work.path());
    let dir = unpacked.root().to_path_buf();
    let manifest = dir.join(".rvenv-manifest");
    assert!(
        manifest.is_file(),
        "unpack_and_validate writes the manifest"
    );
    let manifest_text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        manifest_text.contains("demo_pkg/data/d6/e2/f300.txt")
            || manifest_text.contains("f299.txt")
    );

    let from_manifest = ValidatedWheel::open_trusted(&dir, "demo-pkg", "1.0").unwrap();
    same_wheel(&from_manifest, &unpacked);
    // The full check ignores the manifest: it is not part of the wheel.
    let full = UnpackedWheel::open(&dir, "demo-pkg", "1.0").unwrap();
    same_wheel(&full, &unpacked);

    // Missing: the walk, which writes it again.
    std::fs::remove_file(&manifest).unwrap();
    same_wheel(
        &ValidatedWheel::open_trusted(&dir, "demo-pkg", "1.0").unwrap(),
        &unpacked,
    );
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), manifest_text);

    // Cut short, or garbage: the walk again, and a good manifest replaces the bad one.
    for bad in [&manifest_text[..manifest_text.len() / 2], "garbage"] {
        std::fs::write(&manifest, bad).unwrap();
        same_wheel(
            &ValidatedWheel::open_trusted(&dir, "demo-pkg", "1.0").unwrap(),
            &unpacked,
        );
        assert_eq!(std::fs::read_to_string(&manifest).unwrap(), manifest_text);
    }

    // A manifest naming another project is not believed: the walk says what is there.
    std::fs::write(
        &manifest,
        manifest_text.replace("name: Demo.Pkg", "name: other"),
    )
    .unwrap();
    same_wheel(
        &ValidatedWheel::open_trusted(&dir, "demo-pkg", "1.0").unwrap(),
        &unpacked,
    );
    let err = ValidatedWheel::open_trusted(&dir, "other", "1.0").unwrap_err();
    assert!(matches!(err, Error::NameMismatch { .. }), "{err}");

    // Leftover temporary manifests (a killed writer) are not wheel files either.
    std::fs::write(dir.join(".rvenv-manifest-abc123"), "partial").unwrap();
    std::fs::remove_file(&manifest).unwrap();
    same_wheel(
        &ValidatedWheel::open_trusted(&dir, "demo-pkg", "1.0").unwrap(),
        &unpacked,
    );
    UnpackedWheel::open(&dir, "demo-pkg", "1.0").unwrap();
}

#[test]
fn a_wheel_cannot_ship_a_manifest_of_its_own() {
    let work = tempfile::tempdir().unwrap();
    for name in [".rvenv-manifest", ".rvenv-manifest-x/evil.py"] {
        let built = WheelBuilder::new("sneaky", "1.0")
            .file("sneaky/__init__.py", "")
            .file(name, "rvenv-wheel-manifest: 1\n")
            .build();
        let archive = built.write_to(work.path());
        let dest = work.path().join("sneaky.unpacked");
        let err = unpack_and_validate(&archive, &dest, "sneaky", "1.0").unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
        assert!(!dest.exists());
    }
}

/// RECORD as installed lists every installed file with the sha256 and size of what is on disk,
/// whether the wheel was opened from its manifest or by walking it; both installs are equal.
#[test]
fn installs_from_the_manifest_equal_installs_from_the_walk() {
    let work = tempfile::tempdir().unwrap();
    let wheel = validated(&big_demo_wheel().build(), work.path());
    let from_manifest = ValidatedWheel::open_trusted(wheel.root(), "demo-pkg", "1.0").unwrap();
    std::fs::remove_file(wheel.root().join(".rvenv-manifest")).unwrap();
    let walked = ValidatedWheel::open_trusted(wheel.root(), "demo-pkg", "1.0").unwrap();

    let mut trees = Vec::new();
    for opened in [&from_manifest, &walked] {
        // The same path both times: launchers and RECORD name it.
        let _ = std::fs::remove_dir_all(work.path().join("venv"));
        let venv = Venv::create(&work.path().join("venv"));
        let options = InstallOptions {
            link_mode: LinkMode::Hardlink,
            requested: true,
            ..InstallOptions::default()
        };
        let installed = install_wheels_parallel(&[(opened, options)], &venv.target()).unwrap();
        let record = record_of(&venv, "demo_pkg-1.0.dist-info");
        // Every installed file is listed, with its real hash and size.
        let mut listed = BTreeSet::new();
        for (path, entry) in &record {
            let file = venv.site().join(path);
            listed.insert(std::fs::canonicalize(&file).unwrap());
            if entry.hash.is_empty() {
                assert_eq!(path, "demo_pkg-1.0.dist-info/RECORD");
                continue;
            }
            let content = std::fs::read(&file).unwrap();
            let expected = RecordEntry::new(
                path.clone(),
                &sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&content))
                    .into(),
                content.len() as u64,
            );
            assert_eq!(entry, &expected, "{path}");
        }
        let written: BTreeSet<PathBuf> = installed[0]
            .installed_files
            .iter()
            .map(|file| std::fs::canonicalize(file).unwrap())
            .collect();
        assert_eq!(listed, written);
        // 300 data files, 16 others: 6 of the package, 4 scripts and launchers, a header, a
        // data file, WHEEL, METADATA, entry_points.txt, INSTALLER, REQUESTED, RECORD.
        assert_eq!(record.len(), 300 + 16);
        trees.push(venv.files());
    }
    same_files(&trees[0], &trees[1]);
}

/// Like `assert_eq!` on two trees from `Venv::files`, naming the paths that differ.
#[track_caller]
fn same_files(a: &BTreeMap<String, (Vec<u8>, bool)>, b: &BTreeMap<String, (Vec<u8>, bool)>) {
    let differ: Vec<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|path| a.get(*path) != b.get(*path))
        .collect();
    assert!(differ.is_empty(), "these differ: {differ:?}");
}

/// A big wheel over a tree where some directories exist and a file of another distribution is
/// in the way: the parallel path takes the careful way for those, and a failure rolls it all
/// back.
#[test]
fn parallel_links_handle_files_in_the_way_and_roll_back() {
    let work = tempfile::tempdir().unwrap();
    let venv = Venv::create(&work.path().join("venv"));
    let shared = venv.site().join("demo_pkg/data/d1/e1");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("f1.txt"), "someone else's\n").unwrap();
    let before = venv.files();

    let good = validated(&big_demo_wheel().build(), work.path());
    let bad = validated(&unplaceable_wheel(), work.path());
    let options = InstallOptions::default();
    let both = [(&good, options.clone()), (&bad, options.clone())];
    assert!(install_wheels_parallel(&both, &venv.target()).is_err());
    same_files(&venv.files(), &before);

    install_wheels_parallel(&[(&good, options)], &venv.target()).unwrap();
    assert_eq!(
        std::fs::read_to_string(shared.join("f1.txt")).unwrap(),
        "file 1\n"
    );
    assert!(venv.site().join("demo_pkg/data/d6/e2/f20.txt").is_file());
    let record = record_of(&venv, "demo_pkg-1.0.dist-info");
    assert!(record.contains_key("demo_pkg/data/d1/e1/f1.txt"));
}
