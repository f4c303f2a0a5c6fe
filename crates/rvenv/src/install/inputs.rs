//! What the user asked for: requirements files, constraints and command-line requirements,
//! turned into the resolver's request for the target environment.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::bail;
use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement};
use rvenv_install::InstalledDist;
use rvenv_requirements::{Entry, RequirementSource, RequirementsTxt};
use rvenv_resolve::Origin;
use rvenv_venv::Environment;

use crate::cli::InstallArgs;
use crate::output::Printer;
use crate::settings::InstallSettings;

/// The resolver's inputs plus what the files said besides requirements.
pub struct Inputs {
    /// Requirements whose markers hold for the target, with where each was written.
    pub requirements: Vec<(Requirement, Origin)>,
    pub constraints: Vec<(Requirement, Origin)>,
    /// Index and format options written in the files (merged across files).
    pub txt: RequirementsTxt,
    /// In hash-checking mode: the hashes allowed for each package (any may match).
    pub hashes: HashMap<PackageName, Vec<rvenv_requirements::Hash>>,
    /// pip's hash-checking mode: --require-hashes, or any `--hash` in the files. Then every
    /// package to download needs a hash, dependencies included.
    pub hash_mode: bool,
}

pub fn gather(
    args: &InstallArgs,
    settings: &InstallSettings,
    cwd: &Path,
    environment: &Environment,
    printer: &Printer,
) -> anyhow::Result<Inputs> {
    let mut txt = RequirementsTxt::default();
    for path in &args.requirements {
        txt.merge(RequirementsTxt::parse(path, cwd)?);
    }
    for path in &settings.constraints.value {
        txt.merge(RequirementsTxt::parse_constraints(path, cwd)?);
    }
    for arg in &args.packages {
        let requirement = rvenv_requirements::parse_cli_requirement(arg, cwd)?;
        txt.requirements.push(Entry {
            requirement,
            hashes: Vec::new(),
            origin: rvenv_requirements::Origin {
                file: "command line".into(),
                line: 0,
            },
        });
    }
    if let Some(editable) = args.editables.first().map(String::as_str).or_else(|| {
        txt.editables
            .first()
            .map(|editable| editable.requirement.given.as_str())
    }) {
        bail!(
            "editable installs are not supported yet: -e {editable}\nhint: install the project's wheel instead, or use pip for editables until rvenv builds them"
        );
    }
    if args.requirements.is_empty() && args.packages.is_empty() && txt.requirements.is_empty() {
        bail!("nothing to install\nhint: name packages (`rvenv install fastapi`) or a requirements file (`rvenv install -r requirements.txt`)");
    }
    for warning in &txt.warnings {
        printer.warn(warning.to_string());
    }
    txt.check_hash_mode(settings.require_hashes.value)?;

    let markers = &environment.interpreter.markers;
    let mut requirements = Vec::new();
    let mut hashes: HashMap<PackageName, Vec<rvenv_requirements::Hash>> = HashMap::new();
    for entry in &txt.requirements {
        let origin = origin_of(entry);
        let requirement = match &entry.requirement {
            RequirementSource::Named(requirement) => requirement,
            RequirementSource::Unnamed(unnamed) => bail!(
                "{origin}: installing from a URL or local path is not supported yet: {}\nhint: put the file in a directory and pass it with --find-links, naming the package instead",
                unnamed.given
            ),
        };
        if !requirement.marker.evaluate(markers, &[]) {
            printer.detail(format!(
                "Skipping {requirement} ({origin}): its markers exclude this environment"
            ));
            continue;
        }
        if !entry.hashes.is_empty() {
            hashes
                .entry(requirement.name.clone())
                .or_default()
                .extend(entry.hashes.iter().cloned());
        }
        requirements.push((requirement.clone(), origin));
    }
    let mut constraints = Vec::new();
    for entry in &txt.constraints {
        if let RequirementSource::Named(requirement) = &entry.requirement {
            if !entry.hashes.is_empty() {
                hashes
                    .entry(requirement.name.clone())
                    .or_default()
                    .extend(entry.hashes.iter().cloned());
            }
            constraints.push((requirement.clone(), origin_of(entry)));
        }
    }
    let hash_mode = settings.require_hashes.value
        || txt.require_hashes.is_some()
        || txt
            .requirements
            .iter()
            .chain(&txt.constraints)
            .any(|entry| !entry.hashes.is_empty());
    Ok(Inputs {
        requirements,
        constraints,
        txt,
        hashes,
        hash_mode,
    })
}

fn origin_of(entry: &Entry) -> Origin {
    if entry.origin.line == 0 {
        Origin::from("command line")
    } else {
        Origin(entry.origin.to_string())
    }
}

/// Installed versions, which the resolver keeps when they satisfy (pip's only-if-needed).
pub fn preferences(installed: &[InstalledDist]) -> Vec<(PackageName, Version)> {
    installed
        .iter()
        .filter_map(|dist| {
            Some((
                PackageName::from_str(&dist.name).ok()?,
                Version::from_str(&dist.version).ok()?,
            ))
        })
        .collect()
}
