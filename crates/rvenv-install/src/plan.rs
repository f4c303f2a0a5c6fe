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
pub fn plan<'a>(resolution: &'a Resolution, installed: &[InstalledDist], reinstall: bool) -> Plan<'a> {
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
