//! Wheel and source-distribution file names.
//!
//! Wheels (PEP 427, PEP 491): `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`, where
//! each tag part may be a compressed set joined by dots (`py2.py3`). Source distributions:
//! `{name}-{version}.tar.gz` (or `.zip` and the older archive suffixes pip still accepts); names in
//! old sdists may contain `-`, so they are split with the help of the known project name.

use std::fmt;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

/// A file name that is not a valid wheel or sdist name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{filename}` is not a valid {kind} file name: {reason}")]
pub struct FilenameError {
    pub filename: String,
    pub kind: &'static str,
    pub reason: String,
}

impl FilenameError {
    fn wheel(filename: &str, reason: impl Into<String>) -> Self {
        FilenameError {
            filename: filename.to_string(),
            kind: "wheel",
            reason: reason.into(),
        }
    }

    fn sdist(filename: &str, reason: impl Into<String>) -> Self {
        FilenameError {
            filename: filename.to_string(),
            kind: "source distribution",
            reason: reason.into(),
        }
    }
}

/// The parts of a wheel file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFilename {
    pub name: PackageName,
    pub version: Version,
    /// The optional build tag: a number followed by an optional string, compared in that order.
    pub build: Option<BuildTag>,
    /// Python tags (`cp311`, `py3`), the compressed set expanded.
    pub python: Vec<String>,
    /// ABI tags (`cp311`, `abi3`, `none`).
    pub abi: Vec<String>,
    /// Platform tags (`manylinux_2_17_x86_64`, `any`).
    pub platform: Vec<String>,
}

/// A wheel's build tag, e.g. `1` or `2b`; sorts by number, then by the rest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BuildTag {
    pub number: u64,
    pub rest: String,
}

impl WheelFilename {
    /// Parses `filename` (the last path segment, not a URL).
    pub fn parse(filename: &str) -> Result<Self, FilenameError> {
        let stem = filename
            .strip_suffix(".whl")
            .ok_or_else(|| FilenameError::wheel(filename, "it does not end in `.whl`"))?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, python, abi, platform) = match parts.as_slice() {
            [name, version, python, abi, platform] => (name, version, None, python, abi, platform),
            [name, version, build, python, abi, platform] => {
                (name, version, Some(build), python, abi, platform)
            }
            _ => {
                return Err(FilenameError::wheel(
                    filename,
                    "expected name-version(-build)-python-abi-platform",
                ))
            }
        };
        let name = PackageName::from_str(name)
            .map_err(|err| FilenameError::wheel(filename, format!("bad name: {err}")))?;
        let version = Version::from_str(version)
            .map_err(|err| FilenameError::wheel(filename, format!("bad version: {err}")))?;
        let build = build
            .map(|build| {
                parse_build_tag(build).ok_or_else(|| {
                    FilenameError::wheel(
                        filename,
                        format!("build tag `{build}` must start with a digit"),
                    )
                })
            })
            .transpose()?;
        let split = |set: &str| -> Vec<String> { set.split('.').map(str::to_string).collect() };
        Ok(WheelFilename {
            name,
            version,
            build,
            python: split(python),
            abi: split(abi),
            platform: split(platform),
        })
    }

    /// Every `(python, abi, platform)` tag the wheel declares (the product of the compressed sets).
    pub fn tags(&self) -> impl Iterator<Item = (&str, &str, &str)> + '_ {
        self.python.iter().flat_map(move |python| {
            self.abi.iter().flat_map(move |abi| {
                self.platform
                    .iter()
                    .map(move |platform| (python.as_str(), abi.as_str(), platform.as_str()))
            })
        })
    }
}

impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name.as_dist_info_name(), self.version)?;
        if let Some(build) = &self.build {
            write!(f, "-{}{}", build.number, build.rest)?;
        }
        write!(
            f,
            "-{}-{}-{}.whl",
            self.python.join("."),
            self.abi.join("."),
            self.platform.join(".")
        )
    }
}

fn parse_build_tag(build: &str) -> Option<BuildTag> {
    let digits = build.len() - build.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let number = build[..digits].parse().ok()?;
    Some(BuildTag {
        number,
        rest: build[digits..].to_string(),
    })
}

/// The archive suffixes pip accepts for source distributions, longest first.
const SDIST_SUFFIXES: &[&str] = &[
    ".tar.gz",
    ".tar.bz2",
    ".tar.xz",
    ".tar.lz",
    ".tar.lzma",
    ".tgz",
    ".tbz",
    ".txz",
    ".tlz",
    ".tar",
    ".zip",
];

/// The parts of a source distribution's file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdistFilename {
    pub name: PackageName,
    pub version: Version,
    /// The archive suffix, e.g. `.tar.gz`.
    pub extension: &'static str,
}

impl SdistFilename {
    /// Parses `filename` as an sdist of `project`: the name part is the prefix (up to a `-`) that
    /// normalizes to `project`, the rest is the version. `python-dateutil-2.8.2.tar.gz` and
    /// `python_dateutil-2.8.2.tar.gz` both give version 2.8.2 of `python-dateutil`.
    pub fn parse(filename: &str, project: &PackageName) -> Result<Self, FilenameError> {
        let (stem, extension) = SDIST_SUFFIXES
            .iter()
            .find_map(|suffix| {
                let stem = strip_suffix_ignore_case(filename, suffix)?;
                Some((stem, *suffix))
            })
            .ok_or_else(|| {
                FilenameError::sdist(filename, "it does not end in `.tar.gz` or `.zip`")
            })?;
        for (dash, _) in stem.match_indices('-') {
            let (name, version) = (&stem[..dash], &stem[dash + 1..]);
            if PackageName::from_str(name).is_ok_and(|name| &name == project) {
                let version = Version::from_str(version)
                    .map_err(|err| FilenameError::sdist(filename, format!("bad version: {err}")))?;
                return Ok(SdistFilename {
                    name: project.clone(),
                    version,
                    extension,
                });
            }
        }
        Err(FilenameError::sdist(
            filename,
            format!("it does not start with `{project}-`"),
        ))
    }
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let tail = text.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    #[test]
    fn wheel_with_compressed_tags() {
        let wheel = WheelFilename::parse("six-1.16.0-py2.py3-none-any.whl").unwrap();
        assert_eq!(wheel.name, name("six"));
        assert_eq!(wheel.version, Version::from_str("1.16.0").unwrap());
        assert_eq!(wheel.build, None);
        let tags: Vec<_> = wheel.tags().collect();
        assert_eq!(tags, [("py2", "none", "any"), ("py3", "none", "any")]);
    }

    #[test]
    fn wheel_with_build_tag_and_many_platforms() {
        let wheel = WheelFilename::parse(
            "numpy-1.26.4-1b-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(
            wheel.build,
            Some(BuildTag {
                number: 1,
                rest: "b".into()
            })
        );
        assert_eq!(
            wheel.platform,
            ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
        );
        assert_eq!(wheel.tags().count(), 2);
        assert_eq!(
            wheel.to_string(),
            "numpy-1.26.4-1b-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        );
    }

    #[test]
    fn wheel_name_is_normalized() {
        let wheel = WheelFilename::parse("Foo_Bar-2.0-py3-none-any.whl").unwrap();
        assert_eq!(wheel.name, name("foo-bar"));
    }

    #[test]
    fn bad_wheels_are_rejected() {
        for bad in [
            "six-1.16.0-py3-none.whl",
            "six-1.16.0.tar.gz",
            "six-notaversion-py3-none-any.whl",
            "six-1.0-x-py3-none-any.whl",
            "a-b-1.0-1-py3-none-any-extra.whl",
        ] {
            assert!(WheelFilename::parse(bad).is_err(), "{bad}");
        }
        let err = WheelFilename::parse("six-1.16.0-py3-none.whl").unwrap_err();
        assert!(err.to_string().contains("six-1.16.0-py3-none.whl"), "{err}");
    }

    #[test]
    fn sdist_with_dashes_in_name() {
        let project = name("python-dateutil");
        let sdist = SdistFilename::parse("python-dateutil-2.8.2.tar.gz", &project).unwrap();
        assert_eq!(sdist.version, Version::from_str("2.8.2").unwrap());
        assert_eq!(sdist.extension, ".tar.gz");
        let sdist = SdistFilename::parse("python_dateutil-2.9.0.post0.zip", &project).unwrap();
        assert_eq!(sdist.version, Version::from_str("2.9.0.post0").unwrap());
        assert_eq!(sdist.extension, ".zip");
    }

    #[test]
    fn sdist_of_another_project_is_rejected() {
        let project = name("foo");
        assert!(SdistFilename::parse("foobar-1.0.tar.gz", &project).is_err());
        assert!(SdistFilename::parse("foo-1.0.exe", &project).is_err());
        assert!(SdistFilename::parse("foo-bar.tar.gz", &project).is_err());
        let sdist = SdistFilename::parse("Foo-1.0.TAR.GZ", &project).unwrap();
        assert_eq!(sdist.version, Version::from_str("1.0").unwrap());
    }
}
