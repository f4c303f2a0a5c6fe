//! Tests of the client and provider against local servers (the testkit's index, and a tiny
//! scripted server for exact HTTP exchanges).

mod auth;
mod cache;
mod indexes;
mod metadata;
mod network;
mod pypi;

use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;
use rvenv_resolve::select::{SelectOptions, Target};
use rvenv_resolve::{Candidate, Candidates, Provider};
use url::Url;

use crate::{ClientOptions, IndexClient, IndexProvider, IndexSettings, IndexStrategy, Netrc};

pub fn client() -> IndexClient {
    client_with_netrc(None)
}

pub fn client_with_netrc(netrc: Option<Netrc>) -> IndexClient {
    let options = ClientOptions {
        read_timeout: std::time::Duration::from_secs(10),
        ..ClientOptions::default()
    };
    IndexClient::with_netrc(options, netrc).unwrap()
}

pub fn target() -> Target {
    Target {
        tags: vec![("py3".into(), "none".into(), "any".into())],
        python_full_version: Version::from_str("3.11.4").unwrap(),
    }
}

pub fn name(text: &str) -> PackageName {
    PackageName::from_str(text).unwrap()
}

pub fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

pub fn settings(indexes: &[String], cache: Option<&Path>) -> IndexSettings {
    IndexSettings {
        index_urls: indexes.iter().map(|text| url(text)).collect(),
        find_links: Vec::new(),
        strategy: IndexStrategy::AllIndexes,
        offline: false,
        cache_dir: cache.map(Path::to_path_buf),
    }
}

pub fn provider(client: IndexClient, settings: IndexSettings) -> IndexProvider {
    IndexProvider::new(client, settings, target(), SelectOptions::default())
}

pub async fn candidates(provider: &IndexProvider, project: &str) -> Result<Candidates, String> {
    provider
        .candidates(&name(project))
        .await
        .map(|candidates| (*candidates).clone())
        .map_err(|err| err.to_string())
}

pub fn versions(candidates: &Candidates) -> Vec<String> {
    candidates
        .versions
        .iter()
        .map(|candidate| candidate.version.to_string())
        .collect()
}

pub async fn first_candidate(provider: &IndexProvider, project: &str) -> Candidate {
    candidates(provider, project).await.unwrap().versions[0].clone()
}
