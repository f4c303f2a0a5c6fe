//! The index provider from the settings and what requirements files said: indexes,
//! find-links, strategy, and pip's format control.

use std::time::Duration;

use rvenv_cache::Cache;
use rvenv_index::{
    ClientOptions, FindLinks, IndexClient, IndexProvider, IndexSettings, SystemRoots,
};
use rvenv_resolve::{PackageSet, SelectOptions, Target};
use rvenv_venv::Environment;

use super::inputs;
use crate::settings::{IndexStrategy, InstallSettings};

/// The HTTP client for indexes, find-links and requirements files named by URL.
pub fn client(settings: &InstallSettings, roots: SystemRoots) -> anyhow::Result<IndexClient> {
    Ok(IndexClient::new(ClientOptions {
        read_timeout: Duration::from_secs(settings.timeout_secs.value),
        roots: Some(roots),
        ..ClientOptions::default()
    })?)
}

pub fn index_provider(
    settings: &InstallSettings,
    inputs: &inputs::Inputs,
    cache: &Cache,
    environment: &Environment,
    client: IndexClient,
) -> anyhow::Result<IndexProvider> {
    // Options written in requirements files act as pip's do: `-i` replaces the index,
    // `--extra-index-url` and `-f` add to it, `--no-index` turns indexes off.
    let index_url = inputs
        .txt
        .index_url
        .clone()
        .unwrap_or_else(|| settings.index_url.value.clone());
    let mut urls = vec![index_url];
    urls.extend(settings.extra_index_urls.value.iter().cloned());
    urls.extend(inputs.txt.extra_index_urls.iter().cloned());
    let no_index = settings.no_index.value || inputs.txt.no_index;
    let index_urls = if no_index {
        Vec::new()
    } else {
        urls.iter()
            .map(|url| parse_index_url(url))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let find_links = settings
        .find_links
        .value
        .iter()
        .chain(&inputs.txt.find_links)
        .map(|location| FindLinks::parse(location))
        .collect();
    let index_settings = IndexSettings {
        index_urls,
        find_links,
        strategy: match settings.index_strategy.value {
            IndexStrategy::BestMatch => rvenv_index::IndexStrategy::AllIndexes,
            IndexStrategy::FirstIndex => rvenv_index::IndexStrategy::FirstIndex,
        },
        offline: settings.offline.value,
        cache_dir: Some(cache.root().to_path_buf()),
    };
    let select = select_options(settings, inputs);
    Ok(IndexProvider::new(
        client,
        index_settings,
        Target::from_interpreter(&environment.interpreter),
        select,
    ))
}

pub fn parse_index_url(text: &str) -> anyhow::Result<url::Url> {
    let mut url = url::Url::parse(text).map_err(|err| {
        anyhow::anyhow!(
            "invalid index URL {:?}: {err}",
            rvenv_index::redact_str(text)
        )
    })?;
    // pip accepts `https://host/simple` and `https://host/simple/` alike.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// pip's format control: the command line and PIP_* first, then what files said.
pub fn select_options(settings: &InstallSettings, inputs: &inputs::Inputs) -> SelectOptions {
    let mut control = rvenv_requirements::FormatControl::default();
    for value in &settings.no_binary.value {
        let _ = control.apply(rvenv_requirements::BinaryOption::NoBinary, value);
    }
    for value in &settings.only_binary.value {
        let _ = control.apply(rvenv_requirements::BinaryOption::OnlyBinary, value);
    }
    for name in &inputs.txt.format_control.no_binary {
        let _ = control.apply(rvenv_requirements::BinaryOption::NoBinary, name);
    }
    for name in &inputs.txt.format_control.only_binary {
        let _ = control.apply(rvenv_requirements::BinaryOption::OnlyBinary, name);
    }
    SelectOptions {
        only_binary: package_set(&control.only_binary),
        no_binary: package_set(&control.no_binary),
    }
}

fn package_set(names: &std::collections::BTreeSet<String>) -> PackageSet {
    if names.contains(":all:") {
        return PackageSet::All;
    }
    if names.is_empty() {
        return PackageSet::None;
    }
    PackageSet::Some(names.iter().filter_map(|name| name.parse().ok()).collect())
}
