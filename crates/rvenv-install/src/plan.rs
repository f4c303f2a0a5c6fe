//! What to change in an environment to reach a resolution.

use std::collections::HashMap;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;
use rvenv_resolve::{Resolution, ResolvedPackage};

use crate::inventory::InstalledDist;

/// The changes: distributions to install (with the installed versions they replace) and how
/// many resolved packages are already installed as resolved.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub install: Vec<&'a ResolvedPackage>,
    /// Installed distributions to remove first: other versions of what is installed, or the same
    /// version with `reinstall`.
    pub remove: Vec<InstalledDist>,
    pub unchanged: usize,
}

/// Compares `resolution` with `installed`. With `reinstall`, every resolved package is
/// installed again (pip's --force-reinstall).
pub fn plan<'a>(
    resolution: &'a Resolution,
    installed: &[InstalledDist],
    reinstall: bool,
) -> Plan<'a> {
    let installed_by_name: HashMap<PackageName, &InstalledDist> = installed
        .iter()
        .filter_map(|dist| Some((PackageName::from_str(&dist.name).ok()?, dist)))
        .collect();
    let mut plan = Plan::default();
    for package in &resolution.packages {
        match installed_by_name.get(&package.name) {
            Some(dist) if !reinstall && same_version(&dist.version, &package.version) => {
                plan.unchanged += 1;
            }
            Some(dist) => {
                plan.remove.push((*dist).clone());
                plan.install.push(package);
            }
            None => plan.install.push(package),
        }
    }
    plan
}

fn same_version(installed: &str, resolved: &Version) -> bool {
    Version::from_str(installed).is_ok_and(|version| &version == resolved)
}

#[cfg(test)]
mod tests {
    use rvenv_resolve::{Candidate, DistFile, FileKind};

    use super::*;

    fn resolved(name: &str, version: &str) -> ResolvedPackage {
        let name = PackageName::from_str(name).unwrap();
        let version = Version::from_str(version).unwrap();
        let filename = format!("{name}-{version}-py3-none-any.whl");
        let file = DistFile {
            url: url::Url::parse(&format!("https://files.example/{filename}")).unwrap(),
            filename,
            kind: FileKind::Wheel,
            hashes: Vec::new(),
            size: None,
            requires_python: None,
            yanked: None,
            has_metadata_file: false,
            metadata_hashes: Vec::new(),
        };
        ResolvedPackage {
            candidate: Candidate {
                name: name.clone(),
                version: version.clone(),
                file,
            },
            name,
            version,
            requested: true,
            extras: Vec::new(),
            required_by: Vec::new(),
        }
    }

    fn installed(name: &str, version: &str) -> InstalledDist {
        InstalledDist {
            name: name.to_string(),
            version: version.to_string(),
            dist_info: format!("/venv/site-packages/{name}-{version}.dist-info").into(),
            requested: false,
            direct_url: None,
            installer: None,
            installed_files: Vec::new(),
            linked_bytecode: false,
        }
    }

    #[test]
    fn keeps_same_versions_replaces_others_installs_new() {
        let resolution = Resolution {
            packages: vec![
                resolved("a", "1.0"),
                resolved("b", "2.0"),
                resolved("c", "1.0"),
            ],
        };
        let present = [
            installed("A", "1.0.0"),
            installed("b", "1.0"),
            installed("z", "9"),
        ];
        let plan = plan(&resolution, &present, false);
        assert_eq!(
            plan.unchanged, 1,
            "a 1.0.0 equals 1.0 and its name normalizes"
        );
        let installs: Vec<String> = plan
            .install
            .iter()
            .map(|p| format!("{}=={}", p.name, p.version))
            .collect();
        assert_eq!(installs, ["b==2.0", "c==1.0"]);
        assert_eq!(plan.remove, vec![installed("b", "1.0")]);

        let forced = super::plan(&resolution, &present, true);
        assert_eq!(forced.install.len(), 3);
        assert_eq!(forced.remove.len(), 2);
    }
}
