//! Wheels into the cache: each resolved wheel is downloaded once (hash checked while streaming),
//! unpacked and validated in a staging directory, and published with one rename; later runs, for
//! any environment, open the published entry without hashing it again. Sdists and direct
//! requirements go to rvenv-sources, which builds (or finds built) their wheels.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use futures::stream::{self, StreamExt, TryStreamExt};
use pep508_rs::PackageName;
use rvenv_cache::{Bucket, Cache};
use rvenv_index::IndexProvider;
use rvenv_install::ValidatedWheel;
use rvenv_resolve::ResolvedPackage;
use rvenv_sources::{check_hashes, PreparedWheel, SourceProvider};

use super::bytecode::Precompiler;
use crate::output::{human_bytes, Printer};

/// Makes every wheel of `packages` available as a validated, unpacked cache entry, at most
/// `concurrency` downloads at a time: index wheels downloaded, sdists and direct requirements
/// built (or taken from the cache of built wheels). The result is in the order of `packages`.
/// Each wheel is handed to `precompiler` as soon as it is ready.
pub async fn fetch_all(
    packages: &[&ResolvedPackage],
    provider: &SourceProvider,
    cache: &Cache,
    user_hashes: &HashMap<PackageName, Vec<rvenv_requirements::Hash>>,
    concurrency: usize,
    precompiler: Option<&Precompiler>,
    printer: &Printer,
) -> anyhow::Result<Vec<PreparedWheel>> {
    let progress = printer.progress("Preparing", packages.len() as u64, true);
    // The largest first (builds, of unknown size, before all): they take longest to download
    // and unpack, and started last they would finish alone. Completions are taken in any
    // order, so that one slow file never holds back the start of the others.
    let mut order: Vec<usize> = (0..packages.len()).collect();
    order.sort_by_key(|&index| {
        let package = packages[index];
        let size = if provider.needs_source(package) {
            u64::MAX
        } else {
            package.candidate.file.size.unwrap_or(0)
        };
        std::cmp::Reverse(size)
    });
    let mut prepared: Vec<(usize, PreparedWheel)> = stream::iter(order)
        .map(|index| {
            let progress = &progress;
            let package = packages[index];
            async move {
                if provider.needs_source(package) {
                    let prepared = provider.wheel(package).await.map_err(anyhow::Error::new)?;
                    let line = format!("{}=={}", package.name, package.version);
                    if prepared.built {
                        progress.step(format!("Built {line}"));
                    } else {
                        progress.step_detail(format!("Cached {line}"));
                    }
                    if let Some(precompiler) = precompiler {
                        precompiler.submit(&prepared.wheel);
                    }
                    return Ok((index, prepared));
                }
                let (wheel, downloaded) = fetch_one(
                    package,
                    provider.index(),
                    cache,
                    user_hashes.get(&package.name),
                )
                .await?;
                if let Some(precompiler) = precompiler {
                    precompiler.submit(&wheel);
                }
                match downloaded {
                    Some(bytes) => progress.step(format!(
                        "Downloaded {} ({})",
                        package.candidate.file.filename,
                        human_bytes(bytes)
                    )),
                    None => {
                        progress.step_detail(format!("Cached {}", package.candidate.file.filename))
                    }
                }
                Ok::<_, anyhow::Error>((index, PreparedWheel::cached(wheel)))
            }
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    progress.finish();
    prepared.sort_by_key(|(index, _)| *index);
    Ok(prepared.into_iter().map(|(_, wheel)| wheel).collect())
}

/// One wheel: from the cache when published, else downloaded, unpacked and published.
/// Returns the wheel and, when it was downloaded, its size.
async fn fetch_one(
    package: &ResolvedPackage,
    provider: &IndexProvider,
    cache: &Cache,
    user_hashes: Option<&Vec<rvenv_requirements::Hash>>,
) -> anyhow::Result<(ValidatedWheel, Option<u64>)> {
    let file = &package.candidate.file;
    let name = package.name.to_string();
    let version = package.version.to_string();
    let index_sha256 = file
        .hashes
        .iter()
        .find(|hash| hash.algorithm == "sha256")
        .map(|hash| hash.digest.clone());
    if let (Some(allowed), Some(digest)) = (user_hashes, &index_sha256) {
        check_hashes(&file.filename, allowed, digest)?;
    }
    // An entry is trusted by its key: the archive's sha256 as the index states it, or as it was
    // checked against the user's `--hash` when published. Without either, the URL names the
    // entry (index files are immutable); not in hash-checking mode, where it must be verified.
    let entry_for = |digest: &str| {
        cache.entry(
            Bucket::Wheels,
            &format!(
                "{name}/{}-{}",
                stem(&file.filename),
                &digest[..16.min(digest.len())]
            ),
        )
    };
    let url_entry = || {
        cache.entry(
            Bucket::Wheels,
            &format!("{name}/{}", rvenv_cache::safe_key(file.url.as_str())),
        )
    };
    let known: Vec<PathBuf> = match (&index_sha256, user_hashes) {
        (Some(digest), _) => vec![entry_for(digest)],
        (None, Some(allowed)) => allowed
            .iter()
            .filter(|hash| hash.algorithm == "sha256")
            .map(|hash| entry_for(&hash.digest))
            .collect(),
        (None, None) => vec![url_entry()],
    };
    // Inline, not on the blocking pool: a published entry opens from its manifest in a few
    // system calls, and a warm install asks for every wheel at once (a thread each, else).
    if let Some(wheel) = open_published(&known, &name, &version)? {
        return Ok((wheel, None));
    }

    // Another rvenv may be building the same entry: take turns, then look again.
    let lock_key = format!("{name}/{}", rvenv_cache::safe_key(file.url.as_str()));
    let cache_root = cache.root().to_path_buf();
    let lock = tokio::task::spawn_blocking(move || {
        rvenv_cache::Cache::open(cache_root).and_then(|cache| cache.lock(&lock_key))
    })
    .await??;
    if let Some(wheel) = open_cached(&known, &name, &version).await? {
        return Ok((wheel, None));
    }

    let download_dir = cache.staging_dir()?;
    let (archive, digest): (PathBuf, Option<String>) = match provider.downloaded_file(&file.url) {
        // Downloaded whole while resolving, checked against the index's hash if it gave one.
        Some(path) => (path, None),
        None => {
            let dest = download_dir.path().join(&file.filename);
            let digest = provider
                .client()
                .download(file, &dest)
                .await
                .with_context(|| format!("cannot download {}", file.filename))?;
            (dest, Some(digest))
        }
    };
    let entry = match (&index_sha256, user_hashes) {
        (Some(digest), _) => entry_for(digest),
        (None, Some(allowed)) => {
            let digest = match digest {
                Some(digest) => digest,
                None => {
                    let path = archive.clone();
                    tokio::task::spawn_blocking(move || rvenv_sources::sha256_file(&path)).await??
                }
            };
            check_hashes(&file.filename, allowed, &digest)?;
            entry_for(&digest)
        }
        (None, None) => url_entry(),
    };
    let size = fs_err::metadata(&archive).map(|m| m.len()).unwrap_or(0);
    let staged = cache.staging_dir()?;
    let (name_b, version_b) = (name.clone(), version.clone());
    // The unpacking owns its staging directory: when another wheel fails and this fetch is
    // dropped, the unpacking still runs to its end, then removes the directory (it would
    // otherwise write into one removed under it, and leave it behind in the cache).
    let unpacked = tokio::task::spawn_blocking(move || {
        rvenv_install::unpack_and_validate(&archive, staged.path(), &name_b, &version_b)
            .map(|_| staged)
    });
    let staged = unpacked
        .await?
        .with_context(|| format!("{} was rejected", file.filename))?;
    cache.publish(staged, &entry)?;
    drop(lock);
    let wheel = ValidatedWheel::open_trusted(&entry, &name, &version)?;
    Ok((wheel, Some(size)))
}

/// The first of `entries` that is published, opened.
async fn open_cached(
    entries: &[PathBuf],
    name: &str,
    version: &str,
) -> anyhow::Result<Option<ValidatedWheel>> {
    let entries = entries.to_vec();
    let (name, version) = (name.to_string(), version.to_string());
    tokio::task::spawn_blocking(move || open_published(&entries, &name, &version)).await?
}

fn open_published(
    entries: &[PathBuf],
    name: &str,
    version: &str,
) -> anyhow::Result<Option<ValidatedWheel>> {
    let wheel = entries
        .iter()
        .find(|entry| entry.is_dir())
        .map(|entry| ValidatedWheel::open_trusted(entry, name, version))
        .transpose()?;
    Ok(wheel)
}

/// In hash-checking mode every package to download needs a `--hash`, dependencies the files do
/// not name included (as in pip): the error lists each with the line to add where the index
/// gives its hash.
pub fn require_hashes_for_all(
    packages: &[&ResolvedPackage],
    user_hashes: &HashMap<PackageName, Vec<rvenv_requirements::Hash>>,
    provider: &SourceProvider,
) -> anyhow::Result<()> {
    let missing: Vec<String> = packages
        .iter()
        .filter(|package| match provider.direct(package) {
            Some(direct) => direct.request.hashes.is_empty(),
            None => !user_hashes.contains_key(&package.name),
        })
        .map(|package| {
            if let Some(direct) = provider.direct(package) {
                return format!(
                    "  {}  # a URL or path: add --hash=sha256:<digest> (a directory or repository cannot be checked)",
                    direct.request.given
                );
            }
            let pin = format!("{}=={}", package.name, package.version);
            let line = match package
                .candidate
                .file
                .hashes
                .iter()
                .find(|hash| hash.algorithm == "sha256")
            {
                Some(hash) => format!("{pin} --hash=sha256:{}", hash.digest),
                None => format!(
                    "{pin} (the index gives no hash for {})",
                    package.candidate.file.filename
                ),
            };
            let required_by: Vec<String> = package
                .required_by
                .iter()
                .filter_map(|by| match by {
                    rvenv_resolve::RequiredBy::Package { name, version, .. } => {
                        Some(format!("{name} {version}"))
                    }
                    rvenv_resolve::RequiredBy::User { .. } => None,
                })
                .collect();
            if required_by.is_empty() {
                format!("  {line}")
            } else {
                format!("  {line}  # required by {}", required_by.join(", "))
            }
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "hash-checking mode is on, so every package to install needs a --hash; {} {} none:\n{}\nhint: add these lines to the requirements file (pip-compile --generate-hashes writes them all)",
        missing.len(),
        if missing.len() == 1 { "has" } else { "have" },
        missing.join("\n")
    )
}

fn stem(filename: &str) -> &str {
    filename.strip_suffix(".whl").unwrap_or(filename)
}
