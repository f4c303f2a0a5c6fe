//! The PEP 425 tags an interpreter accepts, best first.
//!
//! The order is the one pip uses (`packaging.tags.sys_tags()`), so that the wheel rvenv picks for a
//! version is the wheel pip would pick:
//!
//! 1. the interpreter's own ABI (`cp312-cp312-*`), then `abi3` and `none` for the same
//!    interpreter, then `abi3` of every older CPython 3.x down to 3.2, each over every platform;
//! 2. `py312-none-*`, `py3-none-*`, `py311-none-*` ... `py30-none-*` over every platform;
//! 3. `cp312-none-any`, then the same `pyXY` list with `none-any`.
//!
//! Platforms on Linux with glibc 2.N: `manylinux_2_N_arch` down to `manylinux_2_5` (2_17 on
//! architectures that never had older manylinux images), each legacy alias (`manylinux2014`,
//! `manylinux2010`, `manylinux1`) right after the version it stands for, then `linux_arch`; with
//! musl 1.N: `musllinux_1_N_arch` down to `musllinux_1_0`, then `linux_arch`.

use std::collections::HashMap;

use rvenv_venv::{Interpreter, Libc, Platform};

/// The tags of one interpreter in priority order, with a fast lookup of a tag's rank.
#[derive(Debug, Clone, Default)]
pub struct Tags {
    tags: Vec<(String, String, String)>,
    /// python -> abi -> platform -> rank (lower is better).
    ranks: HashMap<String, HashMap<String, HashMap<String, usize>>>,
}

/// What the tags of an interpreter depend on, separated from [`Interpreter`] so that tests can
/// describe interpreters in a line.
#[derive(Debug, Clone)]
pub struct TagInputs<'a> {
    /// `sys.implementation.name`: `cpython`, `pypy`, ...
    pub implementation: &'a str,
    /// `(major, minor)` of the Python language version.
    pub python: (u64, u64),
    /// `sys.abiflags`: `""`, `"t"`, `"d"`, `"m"`.
    pub abiflags: &'a str,
    /// `SOABI`, used for the ABI tag of interpreters other than CPython.
    pub soabi: Option<&'a str>,
    pub platform: &'a Platform,
    pub is_64bit: bool,
}

impl Tags {
    /// The tags `interpreter` accepts, in pip's order.
    pub fn from_interpreter(interpreter: &Interpreter) -> Tags {
        Tags::from_inputs(&TagInputs {
            implementation: &interpreter.implementation,
            python: interpreter.python_minor(),
            abiflags: &interpreter.abiflags,
            soabi: interpreter.soabi.as_deref(),
            platform: &interpreter.platform,
            is_64bit: interpreter.is_64bit,
        })
    }

    /// The tags for the described interpreter, in pip's order.
    pub fn from_inputs(inputs: &TagInputs<'_>) -> Tags {
        let platforms = platform_tags(inputs.platform, inputs.is_64bit);
        let mut tags = Vec::new();
        match inputs.implementation {
            "cpython" => cpython_tags(inputs, &platforms, &mut tags),
            _ => generic_tags(inputs, &platforms, &mut tags),
        }
        let interpreter = interpreter_tag(inputs);
        compatible_tags(inputs.python, &interpreter, &platforms, &mut tags);
        Tags::new(tags)
    }

    /// Tags given in priority order; a repeated tag keeps its first rank.
    pub fn new(tags: Vec<(String, String, String)>) -> Tags {
        let mut ranks: HashMap<String, HashMap<String, HashMap<String, usize>>> = HashMap::new();
        for (rank, (python, abi, platform)) in tags.iter().enumerate() {
            ranks
                .entry(python.clone())
                .or_default()
                .entry(abi.clone())
                .or_default()
                .entry(platform.clone())
                .or_insert(rank);
        }
        Tags { tags, ranks }
    }

    /// The rank of a tag (0 is the best), or `None` when the interpreter cannot use it.
    pub fn priority(&self, python: &str, abi: &str, platform: &str) -> Option<usize> {
        self.ranks.get(python)?.get(abi)?.get(platform).copied()
    }

    /// The tags, best first.
    pub fn as_slice(&self) -> &[(String, String, String)] {
        &self.tags
    }

    pub fn into_vec(self) -> Vec<(String, String, String)> {
        self.tags
    }

    pub fn len(&self) -> usize {
        self.tags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }
}

fn nodot((major, minor): (u64, u64)) -> String {
    format!("{major}{minor}")
}

/// `cp312`, `pp310`: the implementation's short name and the language version.
fn interpreter_tag(inputs: &TagInputs<'_>) -> String {
    let short = match inputs.implementation {
        "cpython" => "cp",
        "pypy" => "pp",
        "ironpython" => "ip",
        "jython" => "jy",
        other => other,
    };
    format!("{short}{}", nodot(inputs.python))
}

fn push_all(
    tags: &mut Vec<(String, String, String)>,
    python: &str,
    abi: &str,
    platforms: &[String],
) {
    for platform in platforms {
        tags.push((python.to_string(), abi.to_string(), platform.clone()));
    }
}

fn cpython_tags(
    inputs: &TagInputs<'_>,
    platforms: &[String],
    tags: &mut Vec<(String, String, String)>,
) {
    let interpreter = interpreter_tag(inputs);
    let free_threaded = inputs.abiflags.contains('t');
    // `sys.abiflags` already spells the ABI's suffix (`m` before 3.8, `t`, `d`); a debug build also
    // loads extensions built for the same ABI without `d`.
    let mut abis = vec![format!("{interpreter}{}", inputs.abiflags)];
    if inputs.abiflags.contains('d') && inputs.python >= (3, 8) {
        abis.push(format!(
            "{interpreter}{}",
            if free_threaded { "t" } else { "" }
        ));
    }
    for abi in &abis {
        push_all(tags, &interpreter, abi, platforms);
    }
    let abi3 = inputs.python >= (3, 2) && !free_threaded;
    if abi3 {
        push_all(tags, &interpreter, "abi3", platforms);
    }
    push_all(tags, &interpreter, "none", platforms);
    if abi3 {
        let (major, minor) = inputs.python;
        for older in (2..minor).rev() {
            push_all(
                tags,
                &format!("cp{}", nodot((major, older))),
                "abi3",
                platforms,
            );
        }
    }
}

/// Interpreters other than CPython: their ABI from SOABI (`pypy310-pp73-...` gives
/// `pypy310_pp73`), then `none`.
fn generic_tags(
    inputs: &TagInputs<'_>,
    platforms: &[String],
    tags: &mut Vec<(String, String, String)>,
) {
    let interpreter = interpreter_tag(inputs);
    let mut abis = Vec::new();
    if let Some(soabi) = inputs.soabi.filter(|soabi| !soabi.is_empty()) {
        let parts: Vec<&str> = soabi.split('-').collect();
        let abi = if soabi.starts_with("pypy") || soabi.starts_with("graalpy") {
            parts.iter().take(2).copied().collect::<Vec<_>>().join("_")
        } else {
            soabi.to_string()
        };
        abis.push(abi.replace(['.', '-'], "_"));
    }
    if !abis.iter().any(|abi| abi == "none") {
        abis.push("none".to_string());
    }
    for abi in &abis {
        push_all(tags, &interpreter, abi, platforms);
    }
}

/// `pyXY-none-<platform>` and the `any` tags every interpreter of this language version accepts.
fn compatible_tags(
    python: (u64, u64),
    interpreter: &str,
    platforms: &[String],
    tags: &mut Vec<(String, String, String)>,
) {
    let (major, minor) = python;
    let mut versions = vec![format!("py{major}{minor}"), format!("py{major}")];
    versions.extend((0..minor).rev().map(|older| format!("py{major}{older}")));
    for version in &versions {
        push_all(tags, version, "none", platforms);
    }
    tags.push((interpreter.to_string(), "none".into(), "any".into()));
    for version in &versions {
        tags.push((version.clone(), "none".into(), "any".into()));
    }
}

/// The platform tags of an OS and architecture, best first.
fn platform_tags(platform: &Platform, is_64bit: bool) -> Vec<String> {
    let arch = platform.arch.to_ascii_lowercase();
    match platform.os.as_str() {
        "linux" => linux_platforms(&arch, platform.libc, is_64bit),
        "win32" | "windows" => vec![match (arch.as_str(), is_64bit) {
            ("arm64" | "aarch64", _) => "win_arm64".to_string(),
            ("amd64" | "x86_64", true) => "win_amd64".to_string(),
            _ => "win32".to_string(),
        }],
        // The interpreter does not report the macOS release: assume the oldest one each
        // architecture's wheels target, so no chosen wheel needs a newer macOS than the machine's.
        "darwin" | "macos" => match arch.as_str() {
            "arm64" | "aarch64" => mac_platforms((11, 0), "arm64"),
            _ => mac_platforms((10, 12), "x86_64"),
        },
        os => vec![format!("{os}_{arch}").replace(['.', '-', ' '], "_")],
    }
}

fn linux_platforms(arch: &str, libc: Option<Libc>, is_64bit: bool) -> Vec<String> {
    // A 32-bit interpreter on a 64-bit kernel reports the kernel's machine.
    let arch = match (arch, is_64bit) {
        ("x86_64", false) => "i686",
        ("aarch64", false) => "armv8l",
        (arch, _) => arch,
    };
    let archs: &[&str] = if arch == "armv8l" {
        &["armv8l", "armv7l"]
    } else {
        &[arch]
    };
    let mut platforms = Vec::new();
    match libc {
        Some(Libc::Glibc { major, minor }) => {
            for arch in archs {
                manylinux_platforms(arch, (major, minor), &mut platforms);
            }
        }
        Some(Libc::Musl { major, minor }) => {
            for minor in (0..=minor).rev() {
                for arch in archs {
                    platforms.push(format!("musllinux_{major}_{minor}_{arch}"));
                }
            }
        }
        None => {}
    }
    platforms.extend(archs.iter().map(|arch| format!("linux_{arch}")));
    platforms
}

/// The newest glibc 2.x minor when glibc 3 came out; glibc 3 does not exist yet.
const LAST_GLIBC_2_MINOR: u16 = 255;

fn manylinux_platforms(arch: &str, (major, minor): (u16, u16), out: &mut Vec<String>) {
    const MANYLINUX_ARCHS: &[&str] = &[
        "x86_64",
        "i686",
        "aarch64",
        "armv7l",
        "ppc64",
        "ppc64le",
        "s390x",
        "riscv64",
        "loongarch64",
    ];
    if !MANYLINUX_ARCHS.contains(&arch) || major < 2 {
        return;
    }
    // PEP 600: the oldest images were glibc 2.5 (x86) and 2.17 (the others).
    let oldest = if matches!(arch, "x86_64" | "i686") {
        5
    } else {
        17
    };
    let mut series = vec![(major, minor)];
    series.extend(
        (2..major)
            .rev()
            .map(|older| (older, if older == 2 { LAST_GLIBC_2_MINOR } else { 0 })),
    );
    for (major, newest) in series {
        let lowest = if major == 2 { oldest } else { 0 };
        for minor in (lowest..=newest).rev() {
            out.push(format!("manylinux_{major}_{minor}_{arch}"));
            let legacy = match (major, minor) {
                (2, 17) => Some("manylinux2014"),
                (2, 12) if matches!(arch, "x86_64" | "i686") => Some("manylinux2010"),
                (2, 5) if matches!(arch, "x86_64" | "i686") => Some("manylinux1"),
                _ => None,
            };
            if let Some(legacy) = legacy {
                if legacy != "manylinux2014"
                    || matches!(
                        arch,
                        "x86_64" | "i686" | "aarch64" | "armv7l" | "ppc64" | "ppc64le" | "s390x"
                    )
                {
                    out.push(format!("{legacy}_{arch}"));
                }
            }
        }
    }
}

/// macOS platforms for a release and architecture, newest first, each with the binary formats
/// that contain the architecture (`arm64`, `universal2`; `x86_64`, `intel`, `fat64`, ...).
pub fn mac_platforms((major, minor): (u16, u16), arch: &str) -> Vec<String> {
    let formats: &[&str] = match arch {
        "arm64" => &["arm64", "universal2"],
        "x86_64" => &[
            "x86_64",
            "intel",
            "fat64",
            "fat32",
            "universal2",
            "universal",
        ],
        _ => &[],
    };
    let mut platforms = Vec::new();
    let mut push = |major: u16, minor: u16, formats: &[&str]| {
        for format in formats {
            platforms.push(format!("macosx_{major}_{minor}_{format}"));
        }
    };
    if major >= 11 {
        for major in (11..=major).rev() {
            push(major, 0, formats);
        }
    }
    // Since macOS 11 only the major version counts. Intel Macs also run wheels for 10.x; Apple
    // silicon Macs run the universal2 ones.
    let newest_10 = if major >= 11 { 16 } else { minor };
    if major == 10 || arch == "x86_64" {
        for minor in (4..=newest_10).rev() {
            push(10, minor, formats);
        }
    } else if arch == "arm64" {
        for minor in (4..=newest_10).rev() {
            push(10, minor, &["universal2"]);
        }
    }
    platforms
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    use super::*;

    fn linux(arch: &str, libc: Option<Libc>) -> Platform {
        Platform {
            os: "linux".into(),
            arch: arch.into(),
            libc,
        }
    }

    fn tags_for(
        implementation: &str,
        python: (u64, u64),
        abiflags: &str,
        platform: &Platform,
    ) -> Vec<String> {
        let inputs = TagInputs {
            implementation,
            python,
            abiflags,
            soabi: None,
            platform,
            is_64bit: true,
        };
        Tags::from_inputs(&inputs)
            .into_vec()
            .into_iter()
            .map(|(py, abi, plat)| format!("{py}-{abi}-{plat}"))
            .collect()
    }

    #[test]
    fn cpython_on_glibc_in_pip_order() {
        let platform = linux(
            "x86_64",
            Some(Libc::Glibc {
                major: 2,
                minor: 36,
            }),
        );
        let tags = tags_for("cpython", (3, 12), "", &platform);
        // 36 platforms: manylinux_2_36 .. 2_5, three aliases, linux_x86_64.
        assert_eq!(
            &tags[..3],
            [
                "cp312-cp312-manylinux_2_36_x86_64",
                "cp312-cp312-manylinux_2_35_x86_64",
                "cp312-cp312-manylinux_2_34_x86_64",
            ]
        );
        assert_eq!(tags[19], "cp312-cp312-manylinux_2_17_x86_64");
        assert_eq!(tags[20], "cp312-cp312-manylinux2014_x86_64");
        assert_eq!(tags[26], "cp312-cp312-manylinux2010_x86_64");
        assert_eq!(tags[34], "cp312-cp312-manylinux1_x86_64");
        assert_eq!(tags[35], "cp312-cp312-linux_x86_64");
        assert_eq!(tags[36], "cp312-abi3-manylinux_2_36_x86_64");
        assert_eq!(tags[72], "cp312-none-manylinux_2_36_x86_64");
        assert_eq!(tags[108], "cp311-abi3-manylinux_2_36_x86_64");
        assert_eq!(tags.len(), 986 + 1);
        let tail: Vec<&str> = tags[tags.len() - 4..].iter().map(String::as_str).collect();
        assert_eq!(
            tail,
            [
                "py33-none-any",
                "py32-none-any",
                "py31-none-any",
                "py30-none-any"
            ]
        );
        assert!(tags.contains(&"cp312-none-any".to_string()));
    }

    #[test]
    fn aarch64_has_no_manylinux_older_than_2_17() {
        let platform = linux(
            "aarch64",
            Some(Libc::Glibc {
                major: 2,
                minor: 28,
            }),
        );
        let tags = tags_for("cpython", (3, 11), "", &platform);
        let platforms: Vec<&str> = tags
            .iter()
            .filter(|tag| tag.starts_with("cp311-cp311-"))
            .map(|tag| &tag["cp311-cp311-".len()..])
            .collect();
        assert_eq!(platforms.first(), Some(&"manylinux_2_28_aarch64"));
        assert_eq!(
            &platforms[platforms.len() - 3..],
            [
                "manylinux_2_17_aarch64",
                "manylinux2014_aarch64",
                "linux_aarch64"
            ]
        );
    }

    #[test]
    fn musl_and_free_threaded() {
        let platform = linux("x86_64", Some(Libc::Musl { major: 1, minor: 2 }));
        let tags = tags_for("cpython", (3, 13), "t", &platform);
        assert_eq!(
            &tags[..5],
            [
                "cp313-cp313t-musllinux_1_2_x86_64",
                "cp313-cp313t-musllinux_1_1_x86_64",
                "cp313-cp313t-musllinux_1_0_x86_64",
                "cp313-cp313t-linux_x86_64",
                "cp313-none-musllinux_1_2_x86_64",
            ]
        );
        assert!(
            !tags.iter().any(|tag| tag.contains("abi3")),
            "free-threaded builds have no abi3"
        );
    }

    #[test]
    fn pypy_uses_its_soabi() {
        let platform = linux(
            "x86_64",
            Some(Libc::Glibc {
                major: 2,
                minor: 17,
            }),
        );
        let inputs = TagInputs {
            implementation: "pypy",
            python: (3, 10),
            abiflags: "",
            soabi: Some("pypy310-pp73-x86_64-linux-gnu"),
            platform: &platform,
            is_64bit: true,
        };
        let tags = Tags::from_inputs(&inputs);
        assert_eq!(
            tags.priority("pp310", "pypy310_pp73", "manylinux_2_17_x86_64"),
            Some(0)
        );
        assert_eq!(
            tags.priority("pp310", "pypy310_pp73", "manylinux2014_x86_64"),
            Some(1)
        );
        assert!(tags.priority("pp310", "none", "any").is_some());
        assert!(tags
            .priority("cp310", "abi3", "manylinux2014_x86_64")
            .is_none());
        let any = tags.priority("py3", "none", "any").unwrap();
        assert!(tags.priority("pp310", "none", "any").unwrap() < any);
    }

    #[test]
    fn priority_is_the_index() {
        let platform = linux(
            "x86_64",
            Some(Libc::Glibc {
                major: 2,
                minor: 31,
            }),
        );
        let inputs = TagInputs {
            implementation: "cpython",
            python: (3, 9),
            abiflags: "",
            soabi: None,
            platform: &platform,
            is_64bit: true,
        };
        let tags = Tags::from_inputs(&inputs);
        for (index, (py, abi, plat)) in tags.as_slice().iter().enumerate() {
            assert_eq!(tags.priority(py, abi, plat), Some(index));
        }
        assert_eq!(tags.priority("cp39", "cp39", "manylinux_2_32_x86_64"), None);
        assert_eq!(tags.priority("cp310", "cp310", "linux_x86_64"), None);
    }

    #[test]
    fn windows_and_macos() {
        let windows = Platform {
            os: "win32".into(),
            arch: "AMD64".into(),
            libc: None,
        };
        let tags = tags_for("cpython", (3, 11), "", &windows);
        assert_eq!(
            &tags[..3],
            [
                "cp311-cp311-win_amd64",
                "cp311-abi3-win_amd64",
                "cp311-none-win_amd64"
            ]
        );
        let mac = mac_platforms((13, 0), "arm64");
        assert_eq!(
            &mac[..4],
            [
                "macosx_13_0_arm64",
                "macosx_13_0_universal2",
                "macosx_12_0_arm64",
                "macosx_12_0_universal2"
            ]
        );
        assert!(mac.contains(&"macosx_10_9_universal2".to_string()));
        assert!(!mac.contains(&"macosx_10_9_arm64".to_string()));
        let mac = mac_platforms((10, 15), "x86_64");
        assert_eq!(&mac[..2], ["macosx_10_15_x86_64", "macosx_10_15_intel"]);
        assert_eq!(
            mac.last().map(String::as_str),
            Some("macosx_10_4_universal")
        );
    }

    /// Asks a real interpreter for its facts and pip's `sys_tags()`, compares with ours.
    const PROBE: &str = r#"
import os, platform, sys, sysconfig
from pip._vendor.packaging.tags import sys_tags
libc = os.confstr("CS_GNU_LIBC_VERSION").split()
print(sys.implementation.name, sys.version_info[0], sys.version_info[1], repr(sys.abiflags),
      sysconfig.get_config_var("SOABI"), platform.machine(), libc[0] or "-", libc[1] or "-",
      sys.maxsize > 2**32)
for tag in sys_tags():
    print(tag)
"#;

    #[test]
    fn same_order_as_pip_on_real_interpreters() {
        let Some(home) = std::env::var_os("HOME") else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(PathBuf::from(home).join(".pyenv/versions")) else {
            return;
        };
        let mut compared = 0;
        for entry in entries.flatten() {
            let python = entry.path().join("bin/python");
            let Ok(output) = Command::new(&python).args(["-c", PROBE]).output() else {
                continue;
            };
            if !output.status.success() {
                continue; // no pip, or a Python too old for this probe
            }
            let stdout = String::from_utf8(output.stdout).unwrap();
            let mut lines = stdout.lines();
            let facts: Vec<&str> = lines.next().unwrap().split(' ').collect();
            let expected: Vec<&str> = lines.collect();
            let libc = match (facts[6], facts[7].split_once('.')) {
                ("glibc", Some((major, minor))) => Some(Libc::Glibc {
                    major: major.parse().unwrap(),
                    minor: minor.parse().unwrap(),
                }),
                _ => None,
            };
            let platform = linux(facts[5], libc);
            let abiflags = facts[3].trim_matches('\'');
            let inputs = TagInputs {
                implementation: facts[0],
                python: (facts[1].parse().unwrap(), facts[2].parse().unwrap()),
                abiflags,
                soabi: Some(facts[4]),
                platform: &platform,
                is_64bit: facts[8] == "True",
            };
            let interpreter_any = format!("cp{}{}-none-any", facts[1], facts[2]);
            let ours: Vec<String> = Tags::from_inputs(&inputs)
                .into_vec()
                .into_iter()
                .map(|(py, abi, plat)| format!("{py}-{abi}-{plat}"))
                // pip before 24 did not list `cpXY-none-any` yet.
                .filter(|tag| *tag != interpreter_any || expected.contains(&tag.as_str()))
                .collect();
            let first_difference = ours
                .iter()
                .zip(&expected)
                .position(|(ours, theirs)| ours != theirs);
            assert_eq!(
                (first_difference, ours.len()),
                (None, expected.len()),
                "{}: ours {:?}, pip's {:?}",
                python.display(),
                first_difference.map(|i| &ours[i]),
                first_difference.map(|i| expected[i]),
            );
            compared += 1;
        }
        eprintln!("compared the tags of {compared} interpreters with pip's");
    }
}
