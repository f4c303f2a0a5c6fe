//! What the user asked for: requirements files, constraints, command-line requirements and
//! editables, turned into the request for the target environment.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::{bail, Context};
use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement, VersionOrUrl};
use rvenv_install::InstalledDist;
use rvenv_requirements::{Entry, FetchUrl, RequirementSource, RequirementsTxt};
use rvenv_resolve::Origin;
use rvenv_sources::DirectRequest;
use rvenv_venv::Environment;

use super::installer::DirectInput;
use crate::cli::InstallArgs;
use crate::output::Printer;
use crate::settings::InstallSettings;

/// The resolver's inputs plus what the files said besides requirements.
pub struct Inputs {
    /// Requirements whose markers hold for the target, with where each was written.
    pub requirements: Vec<(Requirement, Origin)>,
    pub constraints: Vec<(Requirement, Origin)>,
    /// URLs, paths, repositories and editables whose markers hold.
    pub direct: Vec<DirectInput>,
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
    fetch: &FetchUrl<'_>,
    printer: &Printer,
) -> anyhow::Result<Inputs> {
    let mut txt = RequirementsTxt::default();
    for path in &args.requirements {
        txt.merge(RequirementsTxt::parse_with(path, cwd, fetch)?);
    }
    for path in &settings.constraints.value {
        txt.merge(RequirementsTxt::parse_constraints_with(path, cwd, fetch)?);
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
    for arg in &args.editables {
        let requirement = rvenv_requirements::parse_cli_editable(arg, cwd)?;
        txt.editables.push(rvenv_requirements::Editable {
            requirement,
            origin: rvenv_requirements::Origin {
                file: "command line".into(),
                line: 0,
            },
        });
    }
    if args.requirements.is_empty()
        && args.packages.is_empty()
        && txt.requirements.is_empty()
        && txt.editables.is_empty()
    {
        bail!("nothing to install\nhint: name packages (`rvenv install fastapi`) or a requirements file (`rvenv install -r requirements.txt`)");
    }
    for warning in &txt.warnings {
        printer.warn(warning.to_string());
    }
    txt.check_hash_mode(settings.require_hashes.value)?;

    let markers = &environment.interpreter.markers;
    let mut requirements = Vec::new();
    let mut direct = Vec::new();
    let mut hashes: HashMap<PackageName, Vec<rvenv_requirements::Hash>> = HashMap::new();
    for entry in &txt.requirements {
        let origin = origin_of(&entry.origin);
        if !entry.requirement.marker().evaluate(markers, &[]) {
            printer.detail(format!(
                "Skipping {} ({origin}): its markers exclude this environment",
                entry_text(&entry.requirement)
            ));
            continue;
        }
        let requirement = match &entry.requirement {
            RequirementSource::Named(requirement) => requirement,
            RequirementSource::Unnamed(unnamed) => {
                direct.push(DirectInput {
                    request: DirectRequest::from_unnamed(unnamed, false, entry.hashes.clone()),
                    extras: unnamed.extras.clone(),
                    origin,
                });
                continue;
            }
        };
        if let Some(VersionOrUrl::Url(url)) = &requirement.version_or_url {
            let request = DirectRequest::from_url(&requirement.name, url, entry.hashes.clone())
                .with_context(|| format!("{origin}: {requirement}"))?;
            direct.push(DirectInput {
                request,
                extras: requirement.extras.clone(),
                origin,
            });
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
    for editable in &txt.editables {
        direct.push(DirectInput {
            request: DirectRequest::from_unnamed(&editable.requirement, true, Vec::new()),
            extras: editable.requirement.extras.clone(),
            origin: origin_of(&editable.origin),
        });
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
            constraints.push((requirement.clone(), origin_of(&entry.origin)));
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
        direct,
        txt,
        hashes,
        hash_mode,
    })
}

fn origin_of(origin: &rvenv_requirements::Origin) -> Origin {
    if origin.line == 0 {
        Origin::from("command line")
    } else {
        Origin(origin.to_string())
    }
}

fn entry_text(requirement: &RequirementSource) -> String {
    match requirement {
        RequirementSource::Named(requirement) => requirement.to_string(),
        RequirementSource::Unnamed(unnamed) => unnamed.given.clone(),
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
