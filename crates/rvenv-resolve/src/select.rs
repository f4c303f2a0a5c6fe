//! Which of a project's files a target interpreter can use, and the best one for each version.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::types::{Candidate, Candidates, DistFile, FileKind};
use crate::wheel_filename::{BuildTag, SdistFilename, WheelFilename};

/// What the target can run: its tags in priority order and its Python version.
#[derive(Debug, Clone)]
pub struct Target {
    /// PEP 425 tags, best first, as `(python, abi, platform)` strings (e.g. `("cp311", "cp311",
    /// "manylinux_2_17_x86_64")`).
    pub tags: Vec<(String, String, String)>,
    /// The full Python version, checked against Requires-Python.
    pub python_full_version: Version,
}

impl Target {
    /// The tags and Python version of `interpreter`.
    pub fn from_interpreter(interpreter: &rvenv_venv::Interpreter) -> Target {
        Target {
            tags: crate::tags::Tags::from_interpreter(interpreter).into_vec(),
            python_full_version: interpreter.python_full_version.clone(),
        }
    }
}

/// pip's `--only-binary` / `--no-binary` for one package set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PackageSet {
    #[default]
    None,
    All,
    Some(Vec<PackageName>),
}

impl PackageSet {
    fn names(&self, name: &PackageName) -> bool {
        matches!(self, PackageSet::Some(names) if names.contains(name))
    }
}

/// Options that decide which files are usable.
#[derive(Debug, Clone, Default)]
pub struct SelectOptions {
    pub only_binary: PackageSet,
    pub no_binary: PackageSet,
}

impl SelectOptions {
    /// Which kinds of files may be used for `name`, as pip decides it: a package named in a set
    /// wins over `:all:`, and `--only-binary` wins over `--no-binary` at the same level.
    pub fn allowed(&self, name: &PackageName) -> (bool, bool) {
        let (wheels, sdists) = if self.only_binary.names(name) {
            (true, false)
        } else if self.no_binary.names(name) {
            (false, true)
        } else if self.only_binary == PackageSet::All {
            (true, false)
        } else if self.no_binary == PackageSet::All {
            (false, true)
        } else {
            (true, true)
        };
        (wheels, sdists)
    }
}

/// Groups `files` by version and keeps, for each version, the best file the target can use (the
/// wheel with the highest-priority tag, else the sdist). Versions with no usable file go to
/// `Candidates::unusable` with a one-line reason. Pre-releases and yanked files are kept: the
/// resolver decides about those. Newest version first.
///
/// Files whose names are not valid wheel or sdist names of `name` are ignored, as pip does.
pub fn select_candidates(
    name: &PackageName,
    files: Vec<DistFile>,
    target: &Target,
    options: &SelectOptions,
) -> Candidates {
    let priorities: HashMap<(&str, &str, &str), usize> = target
        .tags
        .iter()
        .enumerate()
        .rev() // the first occurrence of a duplicated tag wins
        .map(|(index, (py, abi, plat))| ((py.as_str(), abi.as_str(), plat.as_str()), index))
        .collect();
    // Requires-Python is compared with the release only (3.13.0rc1 counts as 3.13.0), as pip does.
    let python = target.python_full_version.only_release();
    let (wheels_allowed, sdists_allowed) = options.allowed(name);

    let mut by_version: BTreeMap<Version, VersionFiles> = BTreeMap::new();
    for file in files {
        let parsed = match file.kind {
            FileKind::Wheel => WheelFilename::parse(&file.filename)
                .ok()
                .filter(|wheel| &wheel.name == name)
                .map(|wheel| (wheel.version.clone(), Some(wheel))),
            FileKind::Sdist => SdistFilename::parse(&file.filename, name)
                .ok()
                .map(|sdist| (sdist.version, None)),
        };
        let Some((version, wheel)) = parsed else {
            continue;
        };
        by_version
            .entry(version)
            .or_default()
            .add(file, wheel, &python, &priorities);
    }

    let mut candidates = Candidates::default();
    for (version, files) in by_version.into_iter().rev() {
        match files.choose(wheels_allowed, sdists_allowed) {
            Some(file) => candidates.versions.push(Candidate {
                name: name.clone(),
                version,
                file,
            }),
            None => {
                let reason =
                    files.why_unusable(name, &version, target, wheels_allowed, sdists_allowed);
                candidates.unusable.push((version, reason));
            }
        }
    }
    candidates
}

/// The files of one version, sorted into what the target can use and what it cannot.
#[derive(Default)]
struct VersionFiles {
    /// Usable wheels with their sort key: (not yanked, -priority, build tag).
    wheels: Vec<(WheelKey, DistFile)>,
    sdists: Vec<DistFile>,
    /// Wheels whose tags do not fit the target.
    incompatible_wheels: Vec<WheelFilename>,
    /// The Requires-Python of files excluded by it.
    excluded_by_python: BTreeSet<String>,
}

type WheelKey = (bool, std::cmp::Reverse<usize>, Option<BuildTag>);

impl VersionFiles {
    fn add(
        &mut self,
        file: DistFile,
        wheel: Option<WheelFilename>,
        python: &Version,
        priorities: &HashMap<(&str, &str, &str), usize>,
    ) {
        if let Some(requires_python) = &file.requires_python {
            if !requires_python.contains(python) {
                self.excluded_by_python.insert(requires_python.to_string());
                return;
            }
        }
        match wheel {
            None => self.sdists.push(file),
            Some(wheel) => match wheel.tags().filter_map(|tag| priorities.get(&tag)).min() {
                Some(&priority) => {
                    let key = (
                        file.yanked.is_none(),
                        std::cmp::Reverse(priority),
                        wheel.build.clone(),
                    );
                    self.wheels.push((key, file));
                }
                None => self.incompatible_wheels.push(wheel),
            },
        }
    }

    /// The best usable file: a non-yanked one before a yanked one, then a wheel (best tag, then
    /// highest build tag) before an sdist.
    fn choose(&self, wheels_allowed: bool, sdists_allowed: bool) -> Option<DistFile> {
        let wheel = wheels_allowed
            .then(|| self.wheels.iter().max_by(|a, b| a.0.cmp(&b.0)))
            .flatten();
        let sdist = sdists_allowed
            .then(|| {
                let mut sdists = self.sdists.iter();
                sdists
                    .clone()
                    .find(|file| file.yanked.is_none())
                    .or_else(|| sdists.next())
            })
            .flatten();
        match (wheel, sdist) {
            (Some((key, _)), Some(sdist)) if !key.0 && sdist.yanked.is_none() => {
                Some(sdist.clone())
            }
            (Some((_, wheel)), _) => Some(wheel.clone()),
            (None, sdist) => sdist.cloned(),
        }
    }

    /// One line saying what the target needed and what this version offers.
    fn why_unusable(
        &self,
        name: &PackageName,
        version: &Version,
        target: &Target,
        wheels_allowed: bool,
        sdists_allowed: bool,
    ) -> String {
        let has_files = !self.wheels.is_empty()
            || !self.sdists.is_empty()
            || !self.incompatible_wheels.is_empty();
        if !has_files {
            let requires: Vec<&str> = self.excluded_by_python.iter().map(String::as_str).collect();
            return format!(
                "{name} {version} requires Python {} (the target is Python {})",
                requires.join(" or "),
                target.python_full_version
            );
        }
        if !wheels_allowed && !self.wheels.is_empty() {
            return format!("{name} {version} has only wheels, and --no-binary excludes them");
        }
        let needed = target
            .tags
            .first()
            .map(|(py, abi, plat)| format!("{py}-{abi}-{plat}"))
            .unwrap_or_else(|| "this interpreter".to_string());
        let wheels = if self.incompatible_wheels.is_empty() {
            "no wheels".to_string()
        } else {
            format!(
                "wheels: {}",
                summarize_wheels(&self.incompatible_wheels, target)
            )
        };
        let sdist = if self.sdists.is_empty() {
            "no sdist"
        } else {
            debug_assert!(!sdists_allowed);
            "the sdist is excluded by --only-binary"
        };
        format!("{name} {version} has no wheel for {needed} ({wheels}); {sdist}")
    }
}

/// What the incompatible wheels offer, short: the platforms when some wheel fits the target's
/// Python and ABI (`cp38: win_amd64, macosx_11_0_arm64`), else the Python tags (`cp310..cp313`).
fn summarize_wheels(wheels: &[WheelFilename], target: &Target) -> String {
    let interpreters: BTreeSet<(&str, &str)> = target
        .tags
        .iter()
        .map(|(py, abi, _)| (py.as_str(), abi.as_str()))
        .collect();
    let mut fitting_platforms = BTreeSet::new();
    let mut fitting_pythons = BTreeSet::new();
    let mut pythons = BTreeSet::new();
    for wheel in wheels {
        for (py, abi, plat) in wheel.tags() {
            pythons.insert(PythonTag(py.to_string()));
            if interpreters.contains(&(py, abi)) {
                fitting_pythons.insert(PythonTag(py.to_string()));
                fitting_platforms.insert(plat.to_string());
            }
        }
    }
    if fitting_platforms.is_empty() {
        compress(pythons.into_iter().map(|tag| tag.0).collect())
    } else {
        let pythons: Vec<String> = fitting_pythons.into_iter().map(|tag| tag.0).collect();
        let platforms: Vec<String> = fitting_platforms.into_iter().collect();
        format!("{} for {}", pythons.join(", "), compress(platforms))
    }
}

/// `a, b, c` for a few items, `first..last` (with the count) for many.
fn compress(items: Vec<String>) -> String {
    match items.as_slice() {
        [first, .., last] if items.len() > 4 => format!("{first}..{last}, {} in all", items.len()),
        _ => items.join(", "),
    }
}

/// A Python tag ordered by interpreter, then by version number (`cp39` before `cp310`).
#[derive(PartialEq, Eq)]
struct PythonTag(String);

impl Ord for PythonTag {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for PythonTag {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PythonTag {
    fn key(&self) -> (&str, u64, &str) {
        let tag = self.0.as_str();
        let letters = tag.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = &tag[letters.len()..];
        // cp3X: major 3, minor X; a number alone keeps its order.
        let number = if digits.len() > 1 {
            let (major, minor) = digits.split_at(1);
            major.parse::<u64>().unwrap_or(0) * 1000 + minor.parse::<u64>().unwrap_or(0)
        } else {
            digits.parse::<u64>().unwrap_or(0) * 1000
        };
        (letters, number, tag)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pep440_rs::VersionSpecifiers;

    use super::*;

    fn target(py: &str, platforms: &[&str]) -> Target {
        let cp = "cp38".to_string();
        let mut tags = Vec::new();
        for plat in platforms {
            tags.push((cp.clone(), cp.clone(), plat.to_string()));
        }
        for plat in platforms {
            tags.push((cp.clone(), "abi3".to_string(), plat.to_string()));
        }
        tags.push(("py3".into(), "none".into(), "any".into()));
        Target {
            tags,
            python_full_version: Version::from_str(py).unwrap(),
        }
    }

    fn file(filename: &str) -> DistFile {
        let kind = if filename.ends_with(".whl") {
            FileKind::Wheel
        } else {
            FileKind::Sdist
        };
        DistFile {
            filename: filename.to_string(),
            kind,
            url: format!("https://files.example/{filename}").parse().unwrap(),
            hashes: vec![],
            size: None,
            requires_python: None,
            yanked: None,
            has_metadata_file: false,
            metadata_hashes: Vec::new(),
        }
    }

    fn requiring(filename: &str, requires_python: &str) -> DistFile {
        DistFile {
            requires_python: Some(VersionSpecifiers::from_str(requires_python).unwrap()),
            ..file(filename)
        }
    }

    fn name(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    fn chosen(candidates: &Candidates) -> Vec<(String, String)> {
        candidates
            .versions
            .iter()
            .map(|c| (c.version.to_string(), c.file.filename.clone()))
            .collect()
    }

    const LINUX: &[&str] = &[
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
        "linux_x86_64",
    ];

    #[test]
    fn best_wheel_per_version_newest_first() {
        let files = vec![
            file("pkg-1.0.tar.gz"),
            file("pkg-1.0-py3-none-any.whl"),
            file("pkg-1.0-cp38-cp38-linux_x86_64.whl"),
            file("pkg-1.0-cp38-cp38-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
            file("pkg-1.0-cp38-abi3-manylinux_2_17_x86_64.whl"),
            file("pkg-2.0-py3-none-any.whl"),
            file("pkg-2.0-cp38-cp38-win_amd64.whl"),
            file("pkg-0.5.tar.gz"),
        ];
        let candidates = select_candidates(
            &name("pkg"),
            files,
            &target("3.8.18", LINUX),
            &SelectOptions::default(),
        );
        assert_eq!(
            chosen(&candidates),
            [
                ("2.0".into(), "pkg-2.0-py3-none-any.whl".into()),
                (
                    "1.0".into(),
                    "pkg-1.0-cp38-cp38-manylinux_2_17_x86_64.manylinux2014_x86_64.whl".into()
                ),
                ("0.5".into(), "pkg-0.5.tar.gz".into()),
            ]
        );
        assert!(candidates.unusable.is_empty());
    }

    #[test]
    fn higher_build_tag_wins_and_yanked_file_loses() {
        let mut yanked = file("pkg-1.0-2-cp38-cp38-linux_x86_64.whl");
        yanked.yanked = Some(String::new());
        let files = vec![
            file("pkg-1.0-cp38-cp38-linux_x86_64.whl"),
            file("pkg-1.0-1-cp38-cp38-linux_x86_64.whl"),
            yanked,
        ];
        let candidates = select_candidates(
            &name("pkg"),
            files,
            &target("3.8.18", LINUX),
            &SelectOptions::default(),
        );
        assert_eq!(
            chosen(&candidates),
            [("1.0".into(), "pkg-1.0-1-cp38-cp38-linux_x86_64.whl".into())]
        );
    }

    #[test]
    fn requires_python_filters_files() {
        let files = vec![
            requiring("pkg-2.0-py3-none-any.whl", ">=3.10"),
            requiring("pkg-2.0.tar.gz", ">=3.10"),
            requiring("pkg-1.5-py3-none-any.whl", ">=3.7"),
            // a release candidate of the target counts as its release
            requiring("pkg-1.4-py3-none-any.whl", ">=3.8.18"),
        ];
        let candidates = select_candidates(
            &name("pkg"),
            files,
            &target("3.8.18rc1", LINUX),
            &SelectOptions::default(),
        );
        let versions: Vec<_> = chosen(&candidates).into_iter().map(|c| c.0).collect();
        assert_eq!(versions, ["1.5", "1.4"]);
        assert_eq!(
            candidates.unusable,
            [(
                Version::from_str("2.0").unwrap(),
                "pkg 2.0 requires Python >=3.10 (the target is Python 3.8.18rc1)".to_string()
            )]
        );
    }

    #[test]
    fn no_wheel_for_the_target_is_explained() {
        let files = vec![
            file("numpy-2.3.0-cp310-cp310-manylinux_2_17_x86_64.whl"),
            file("numpy-2.3.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
            file("numpy-2.3.0-cp312-cp312-manylinux_2_17_x86_64.whl"),
            file("numpy-2.3.0-cp313-cp313-manylinux_2_17_x86_64.whl"),
            file("numpy-2.3.0-cp39-cp39-manylinux_2_17_x86_64.whl"),
            file("numpy-1.24.4-cp38-cp38-win_amd64.whl"),
            file("numpy-1.24.4-cp38-cp38-macosx_11_0_arm64.whl"),
        ];
        let options = SelectOptions {
            only_binary: PackageSet::All,
            ..SelectOptions::default()
        };
        let candidates =
            select_candidates(&name("numpy"), files, &target("3.8.18", LINUX), &options);
        assert!(candidates.versions.is_empty());
        let reasons: Vec<_> = candidates.unusable.iter().map(|u| u.1.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "numpy 2.3.0 has no wheel for cp38-cp38-manylinux_2_17_x86_64 \
                 (wheels: cp39..cp313, 5 in all); no sdist",
                "numpy 1.24.4 has no wheel for cp38-cp38-manylinux_2_17_x86_64 \
                 (wheels: cp38 for macosx_11_0_arm64, win_amd64); no sdist",
            ]
        );
    }

    #[test]
    fn binary_options() {
        let files = || {
            vec![
                file("pkg-1.0-py3-none-any.whl"),
                file("pkg-1.0.tar.gz"),
                file("pkg-0.9.tar.gz"),
                file("pkg-0.8-py3-none-any.whl"),
            ]
        };
        let target = target("3.11.4", LINUX);
        let select = |options: SelectOptions| {
            let candidates = select_candidates(&name("pkg"), files(), &target, &options);
            let chosen: Vec<_> = chosen(&candidates).into_iter().map(|c| c.1).collect();
            let unusable: Vec<_> = candidates.unusable.into_iter().map(|u| u.1).collect();
            (chosen, unusable)
        };
        let (chosen, unusable) = select(SelectOptions {
            only_binary: PackageSet::All,
            ..Default::default()
        });
        assert_eq!(
            chosen,
            ["pkg-1.0-py3-none-any.whl", "pkg-0.8-py3-none-any.whl"]
        );
        assert_eq!(
            unusable,
            [
                "pkg 0.9 has no wheel for cp38-cp38-manylinux_2_17_x86_64 (no wheels); \
              the sdist is excluded by --only-binary"
            ]
        );

        let (chosen, unusable) = select(SelectOptions {
            no_binary: PackageSet::Some(vec![name("pkg")]),
            ..Default::default()
        });
        assert_eq!(chosen, ["pkg-1.0.tar.gz", "pkg-0.9.tar.gz"]);
        assert_eq!(
            unusable,
            ["pkg 0.8 has only wheels, and --no-binary excludes them"]
        );

        // A package named in --no-binary wins over --only-binary :all:.
        let (chosen, _) = select(SelectOptions {
            only_binary: PackageSet::All,
            no_binary: PackageSet::Some(vec![name("pkg")]),
        });
        assert_eq!(chosen, ["pkg-1.0.tar.gz", "pkg-0.9.tar.gz"]);
    }

    #[test]
    fn files_of_other_projects_and_bad_names_are_ignored() {
        let files = vec![
            file("other-1.0-py3-none-any.whl"),
            file("pkg-latest.tar.gz"),
            file("pkg-1.0-py3-none-any.whl"),
        ];
        let candidates = select_candidates(
            &name("pkg"),
            files,
            &target("3.8.18", LINUX),
            &SelectOptions::default(),
        );
        assert_eq!(
            chosen(&candidates),
            [("1.0".into(), "pkg-1.0-py3-none-any.whl".into())]
        );
    }
}
