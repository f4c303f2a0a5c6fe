//! Whether what is installed already satisfies a set of requirements, with their dependencies:
//! the check behind the fast path (`Audited N packages`), which must not touch the network.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement, VersionOrUrl};

use crate::inventory::InstalledDist;

/// Why the installed set does not satisfy the requirements; the first reason found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsatisfied(pub String);

/// Checks `requirements` (and every dependency of what they name, transitively, with extras)
/// against `installed`, for the environment described by `markers`. `constraints` must hold for
/// every installed package they name that is needed. Requirements with a URL are never satisfied
/// here (their source may have changed). Returns the number of distributions checked.
pub fn check_satisfied(
    requirements: &[Requirement],
    constraints: &[Requirement],
    installed: &[InstalledDist],
    markers: &MarkerEnvironment,
) -> Result<usize, Unsatisfied> {
    let by_name: HashMap<PackageName, &InstalledDist> = installed
        .iter()
        .filter_map(|dist| Some((PackageName::from_str(&dist.name).ok()?, dist)))
        .collect();
    let mut queue: VecDeque<(Requirement, Vec<ExtraName>, String)> = requirements
        .iter()
        .map(|requirement| (requirement.clone(), Vec::new(), "you asked for".to_string()))
        .collect();
    // (package, extra) pairs whose dependencies were queued already.
    let mut expanded: HashSet<(PackageName, Option<ExtraName>)> = HashSet::new();
    let mut checked: HashSet<PackageName> = HashSet::new();

    while let Some((requirement, active_extras, requested_by)) = queue.pop_front() {
        if !requirement.marker.evaluate(markers, &active_extras) {
            continue;
        }
        let name = &requirement.name;
        let Some(dist) = by_name.get(name) else {
            return Err(Unsatisfied(format!(
                "{name} is not installed ({requested_by} {requirement})"
            )));
        };
        let version = Version::from_str(&dist.version).map_err(|_| {
            Unsatisfied(format!(
                "{name} has an unreadable version {:?}",
                dist.version
            ))
        })?;
        match &requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specifiers)) if !specifiers.contains(&version) => {
                return Err(Unsatisfied(format!(
                    "{name} {version} is installed but {requested_by} {requirement}"
                )));
            }
            Some(VersionOrUrl::Url(_)) => {
                return Err(Unsatisfied(format!("{name} is requested by URL")));
            }
            _ => {}
        }
        if checked.insert(name.clone()) {
            for constraint in constraints.iter().filter(|c| &c.name == name) {
                if !constraint.marker.evaluate(markers, &[]) {
                    continue;
                }
                if let Some(VersionOrUrl::VersionSpecifier(specifiers)) = &constraint.version_or_url
                {
                    if !specifiers.contains(&version) {
                        return Err(Unsatisfied(format!(
                            "{name} {version} is installed but the constraint {constraint} excludes it"
                        )));
                    }
                }
            }
        }
        let wanted: Vec<Option<ExtraName>> = std::iter::once(None)
            .chain(requirement.extras.iter().cloned().map(Some))
            .filter(|key| !expanded.contains(&(name.clone(), key.clone())))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let metadata = read_metadata(&dist.dist_info)?;
        for extra in wanted {
            if let Some(extra) = &extra {
                if !metadata.provides_extras.is_empty() && !metadata.provides_extras.contains(extra)
                {
                    // pip warns and installs without the unknown extra; so is it satisfied.
                    expanded.insert((name.clone(), Some(extra.clone())));
                    continue;
                }
            }
            let active: Vec<ExtraName> = extra.iter().cloned().collect();
            for dependency in &metadata.requires_dist {
                queue.push_back((
                    dependency.clone(),
                    active.clone(),
                    format!("{name} {version} requires"),
                ));
            }
            expanded.insert((name.clone(), extra));
        }
    }
    Ok(checked.len())
}

fn read_metadata(dist_info: &Path) -> Result<rvenv_resolve::CoreMetadata, Unsatisfied> {
    let path = dist_info.join("METADATA");
    let bytes = fs_err::read(&path).map_err(|err| Unsatisfied(err.to_string()))?;
    rvenv_resolve::parse_metadata(&bytes)
        .map_err(|err| Unsatisfied(format!("{}: {err}", path.display())))
}

#[cfg(test)]
mod tests {
    use pep508_rs::MarkerEnvironmentBuilder;

    use super::*;

    fn markers() -> MarkerEnvironment {
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.11.7",
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "6.1.0",
            platform_system: "Linux",
            platform_version: "#1 SMP",
            python_full_version: "3.11.7",
            python_version: "3.11",
            sys_platform: "linux",
        })
        .unwrap()
    }

    /// A site-packages with the given `(name, version, requires_dist)` distributions.
    fn site(dists: &[(&str, &str, &[&str])]) -> (tempfile::TempDir, Vec<InstalledDist>) {
        let dir = tempfile::tempdir().unwrap();
        let mut installed = Vec::new();
        for (name, version, requires) in dists {
            let dist_info = dir.path().join(format!("{name}-{version}.dist-info"));
            fs_err::create_dir_all(&dist_info).unwrap();
            let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
            for requirement in *requires {
                metadata.push_str(&format!("Requires-Dist: {requirement}\n"));
            }
            if requires.iter().any(|r| r.contains("extra ==")) {
                metadata.push_str("Provides-Extra: fast\n");
            }
            fs_err::write(dist_info.join("METADATA"), metadata).unwrap();
            installed.push(InstalledDist {
                name: name.to_string(),
                version: version.to_string(),
                dist_info,
                requested: false,
                direct_url: None,
                installer: None,
                installed_files: Vec::new(),
                linked_bytecode: false,
            });
        }
        (dir, installed)
    }

    fn reqs(texts: &[&str]) -> Vec<Requirement> {
        texts
            .iter()
            .map(|t| Requirement::from_str(t).unwrap())
            .collect()
    }

    #[test]
    fn satisfied_with_transitive_dependencies_and_extras() {
        let (_dir, installed) = site(&[
            (
                "app",
                "1.0",
                &[
                    "lib>=2",
                    "speedup; extra == 'fast'",
                    "winonly; sys_platform == 'win32'",
                ],
            ),
            ("lib", "2.1", &[]),
            ("speedup", "0.3", &[]),
        ]);
        let count = check_satisfied(&reqs(&["app[fast]"]), &[], &installed, &markers()).unwrap();
        assert_eq!(count, 3);
    }

    #[test]
    fn a_missing_dependency_or_wrong_version_is_reported() {
        let (_dir, installed) = site(&[("app", "1.0", &["lib>=2"]), ("lib", "1.5", &[])]);
        let err = check_satisfied(&reqs(&["app"]), &[], &installed, &markers()).unwrap_err();
        assert_eq!(err.0, "lib 1.5 is installed but app 1.0 requires lib>=2");

        let (_dir, installed) = site(&[("app", "1.0", &["lib"])]);
        let err = check_satisfied(&reqs(&["app"]), &[], &installed, &markers()).unwrap_err();
        assert_eq!(err.0, "lib is not installed (app 1.0 requires lib)");

        let (_dir, installed) = site(&[("app", "1.0", &[])]);
        let err = check_satisfied(&reqs(&["app==2.0"]), &[], &installed, &markers()).unwrap_err();
        assert_eq!(err.0, "app 1.0 is installed but you asked for app==2.0");
    }

    #[test]
    fn extras_only_pull_their_dependencies_when_requested() {
        let (_dir, installed) = site(&[("app", "1.0", &["speedup; extra == 'fast'"])]);
        assert_eq!(
            check_satisfied(&reqs(&["app"]), &[], &installed, &markers()),
            Ok(1)
        );
        assert!(check_satisfied(&reqs(&["app[fast]"]), &[], &installed, &markers()).is_err());
    }

    #[test]
    fn requirements_for_other_platforms_are_skipped_and_constraints_apply() {
        let (_dir, installed) = site(&[("lib", "1.0", &[])]);
        let requirements = reqs(&["pywin32; sys_platform == 'win32'", "lib"]);
        assert_eq!(
            check_satisfied(&requirements, &[], &installed, &markers()),
            Ok(1)
        );
        let err =
            check_satisfied(&requirements, &reqs(&["lib>1"]), &installed, &markers()).unwrap_err();
        assert_eq!(
            err.0,
            "lib 1.0 is installed but the constraint lib>1 excludes it"
        );
    }
}
