//! What an install changes: direct requirements against what is installed, and the lines that
//! report the changes.

use std::str::FromStr;

use pep508_rs::PackageName;
use rvenv_install::{InstalledDist, Plan};
use rvenv_resolve::Resolution;
use rvenv_sources::{DirectUrl, SourceProvider};

use super::installer::plural;
use crate::output::Printer;

/// The plan keeps an installed version equal to the resolved one; for a direct requirement
/// that is not enough: it is reinstalled unless it came from the same source (an editable of
/// the same directory, the same archive, the same commit). Editable and non-editable installs
/// never stand for each other.
pub fn reinstall_changed_direct<'a>(
    plan: &mut Plan<'a>,
    resolution: &'a Resolution,
    provider: &SourceProvider,
    installed: &[InstalledDist],
) {
    for package in &resolution.packages {
        let Some(direct) = provider.direct(package) else {
            continue;
        };
        if plan
            .install
            .iter()
            .any(|planned| planned.name == package.name)
        {
            continue;
        }
        let Some(dist) = installed
            .iter()
            .find(|dist| PackageName::from_str(&dist.name).is_ok_and(|name| name == package.name))
        else {
            continue;
        };
        let same = dist
            .direct_url
            .as_deref()
            .and_then(DirectUrl::parse)
            .is_some_and(|found| direct.direct_url.same_source(&found));
        if !same {
            plan.remove.push(dist.clone());
            plan.install.push(package);
            plan.unchanged = plan.unchanged.saturating_sub(1);
        }
    }
}

/// One line per change, as `- old==1.0` and `+ new==2.0`, sorted by name.
pub fn print(printer: &Printer, plan: &Plan<'_>, added: &str, removed: &str) {
    if !plan.remove.is_empty() {
        printer.detail(format!(
            "{removed} {} package{}",
            plan.remove.len(),
            plural(plan.remove.len())
        ));
    }
    if !plan.install.is_empty() {
        printer.detail(format!(
            "{added} {} package{}",
            plan.install.len(),
            plural(plan.install.len())
        ));
    }
    let mut lines: Vec<(String, char, String)> = plan
        .remove
        .iter()
        .map(|dist| {
            (
                dist.name.to_lowercase(),
                '-',
                format!("{}=={}", dist.name, dist.version),
            )
        })
        .chain(plan.install.iter().map(|package| {
            (
                package.name.to_string(),
                '+',
                format!("{}=={}", package.name, package.version),
            )
        }))
        .collect();
    lines.sort();
    for (_, sign, text) in lines {
        printer.status(format!(" {sign} {text}"));
    }
}
