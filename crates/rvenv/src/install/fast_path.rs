//! The no-network fast path: is everything asked for already installed, with its dependencies?

use std::str::FromStr;

use pep508_rs::{MarkerEnvironment, PackageName, Requirement};
use rvenv_install::InstalledDist;

use super::installer::Request;

/// The number of distributions checked when `request` is satisfied by `installed`, else why not.
/// A direct requirement counts only when an installed distribution came from the same source
/// (an editable from the same directory, the same archive, the same commit); then its
/// dependencies are checked like any other's.
pub fn check(
    request: &Request,
    installed: &[InstalledDist],
    markers: &MarkerEnvironment,
) -> Result<usize, String> {
    let mut requirements: Vec<Requirement> = request
        .requirements
        .iter()
        .map(|(requirement, _)| requirement.clone())
        .collect();
    for input in &request.direct {
        let dist = input.request.installed_match(installed).ok_or_else(|| {
            format!(
                "{} is not installed from the same source",
                input.request.given
            )
        })?;
        let name = PackageName::from_str(&dist.name).map_err(|err| err.to_string())?;
        requirements.push(Requirement {
            name,
            extras: input.extras.clone(),
            version_or_url: None,
            marker: pep508_rs::MarkerTree::TRUE,
            origin: None,
        });
    }
    let constraints: Vec<Requirement> = request
        .constraints
        .iter()
        .map(|(requirement, _)| requirement.clone())
        .collect();
    rvenv_install::check_satisfied(&requirements, &constraints, installed, markers)
        .map_err(|reason| reason.0)
}
