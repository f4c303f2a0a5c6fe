//! pip's installation report (`--report FILE`, format version 1), so tools that read pip's report
//! read rvenv's.

use std::path::Path;

use anyhow::Context;
use rvenv_resolve::{Provider, Resolution};
use rvenv_sources::SourceProvider;
use rvenv_venv::Environment;
use serde_json::{json, Map, Value};

/// Writes the report for `resolution` (every resolved package, as pip lists what it would
/// install) to `path`, or to standard output when `path` is `-`.
pub fn write(
    path: &Path,
    resolution: &Resolution,
    provider: &SourceProvider,
    runtime: &tokio::runtime::Handle,
    environment: &Environment,
) -> anyhow::Result<()> {
    let mut install = Vec::new();
    for package in &resolution.packages {
        // Memoized by the provider: the resolver fetched every one of these already.
        let metadata = runtime
            .block_on(provider.metadata(&package.candidate))
            .with_context(|| {
                format!(
                    "cannot read the metadata of {} {}",
                    package.name, package.version
                )
            })?;
        let file = &package.candidate.file;
        let hashes: Map<String, Value> = file
            .hashes
            .iter()
            .map(|hash| (hash.algorithm.clone(), Value::from(hash.digest.clone())))
            .collect();
        let mut archive_info = Map::new();
        if let Some(hash) = file.hashes.iter().find(|hash| hash.algorithm == "sha256") {
            archive_info.insert("hash".into(), format!("sha256={}", hash.digest).into());
        }
        archive_info.insert("hashes".into(), Value::Object(hashes));
        let mut metadata_json = Map::new();
        metadata_json.insert("metadata_version".into(), "2.1".into());
        metadata_json.insert("name".into(), metadata.name.to_string().into());
        metadata_json.insert("version".into(), metadata.version.to_string().into());
        if !metadata.requires_dist.is_empty() {
            let requires: Vec<Value> = metadata
                .requires_dist
                .iter()
                .map(|r| r.to_string().into())
                .collect();
            metadata_json.insert("requires_dist".into(), requires.into());
        }
        if let Some(requires_python) = &metadata.requires_python {
            metadata_json.insert("requires_python".into(), requires_python.to_string().into());
        }
        if !metadata.provides_extras.is_empty() {
            let extras: Vec<Value> = metadata
                .provides_extras
                .iter()
                .map(|e| e.to_string().into())
                .collect();
            metadata_json.insert("provides_extra".into(), extras.into());
        }
        let direct = provider.direct(package);
        let download_info = match direct {
            Some(direct) => direct.direct_url.to_json(),
            None => json!({
                "url": rvenv_index::strip_credentials(&file.url).to_string(),
                "archive_info": archive_info,
            }),
        };
        install.push(json!({
            "download_info": download_info,
            "is_direct": direct.is_some(),
            "is_yanked": file.yanked.is_some(),
            "requested": package.requested,
            "requested_extras": package.extras.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "metadata": metadata_json,
        }));
    }
    write_install_list(path, install, environment)
}

/// Writes a report that installs nothing, as pip's when everything asked for is installed
/// already (or every requirement's markers exclude it).
pub fn write_nothing_to_install(path: &Path, environment: &Environment) -> anyhow::Result<()> {
    write_install_list(path, Vec::new(), environment)
}

fn write_install_list(
    path: &Path,
    install: Vec<Value>,
    environment: &Environment,
) -> anyhow::Result<()> {
    let report = json!({
        "version": "1",
        "pip_version": format!("rvenv {}", env!("CARGO_PKG_VERSION")),
        "install": install,
        "environment": serde_json::to_value(&environment.interpreter.markers)?,
    });
    let text = serde_json::to_string_pretty(&report)? + "\n";
    if path == Path::new("-") {
        print!("{text}");
    } else {
        fs_err::write(path, text)?;
    }
    Ok(())
}
