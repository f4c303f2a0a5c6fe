//! Requests to the [`Provider`], each made once, most of them before the solver asks.
//!
//! Every request runs as its own tokio task, so it progresses while the solver thinks. Whenever
//! a package becomes known, its versions are requested, then the metadata of the version the
//! solver will most likely pick, then the same for that version's dependencies, and so on down
//! the graph: the solver usually finds what it needs already there, and the requests of a wide
//! graph overlap instead of running one after another.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::{BoxFuture, FutureExt, Shared};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{MarkerEnvironment, PackageName, VersionOrUrl};
use tokio::runtime::Handle;

use crate::types::{Candidate, Candidates, CoreMetadata, Provider, ProviderError};

type Pending<T> = Shared<BoxFuture<'static, Result<T, ProviderError>>>;
/// A release: name and version.
type ReleaseKey = (PackageName, Version);

/// What guides the guess of which version the solver will pick.
pub(crate) struct Hints {
    pub markers: MarkerEnvironment,
    /// Installed versions the solver keeps when they satisfy.
    pub preferences: HashMap<PackageName, Version>,
    /// With `--no-deps` nothing below the requested packages is fetched.
    pub follow_dependencies: bool,
}

/// The memoized requests of one resolution.
pub(crate) struct Fetcher {
    provider: Arc<dyn Provider>,
    runtime: Handle,
    hints: Hints,
    candidates: Mutex<HashMap<PackageName, Pending<Arc<Candidates>>>>,
    metadata: Mutex<HashMap<ReleaseKey, Pending<Arc<CoreMetadata>>>>,
    /// Packages whose prefetch chain has started.
    prefetched: Mutex<HashSet<PackageName>>,
    /// Packages whose versions the solver asked for (prefetches alone do not count).
    consulted: Mutex<BTreeSet<PackageName>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps stay consistent even if a holder panicked: entries are inserted whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `future` as its own task and lets any number of waiters share its result.
fn spawn_shared<T: Clone + Send + Sync + 'static>(
    runtime: &Handle,
    future: BoxFuture<'static, Result<T, ProviderError>>,
) -> Pending<T> {
    let task = runtime.spawn(future);
    async move {
        task.await
            .unwrap_or_else(|err| Err(ProviderError::new(format!("a request task failed: {err}"))))
    }
    .boxed()
    .shared()
}

impl Fetcher {
    pub(crate) fn new(provider: Arc<dyn Provider>, runtime: Handle, hints: Hints) -> Arc<Fetcher> {
        Arc::new(Fetcher {
            provider,
            runtime,
            hints,
            candidates: Mutex::default(),
            metadata: Mutex::default(),
            prefetched: Mutex::default(),
            consulted: Mutex::default(),
        })
    }

    fn candidates(&self, name: &PackageName) -> Pending<Arc<Candidates>> {
        lock(&self.candidates)
            .entry(name.clone())
            .or_insert_with(|| spawn_shared(&self.runtime, self.provider.candidates(name)))
            .clone()
    }

    fn metadata(&self, candidate: &Candidate) -> Pending<Arc<CoreMetadata>> {
        let key = (candidate.name.clone(), candidate.version.clone());
        lock(&self.metadata)
            .entry(key)
            .or_insert_with(|| spawn_shared(&self.runtime, self.provider.metadata(candidate)))
            .clone()
    }

    /// Every project whose versions the solver asked for, sorted: what its answer depends on.
    pub(crate) fn consulted_projects(&self) -> Vec<PackageName> {
        lock(&self.consulted).iter().cloned().collect()
    }

    /// Starts fetching `name`'s versions, for a project the solver will likely need. The
    /// request runs as its own task; the solver finds its result when it asks.
    pub(crate) fn request_candidates(&self, name: &PackageName) {
        drop(self.candidates(name));
    }

    /// The versions of `name`, waiting for them if needed (from the solver's thread only).
    pub(crate) fn wait_candidates(
        &self,
        name: &PackageName,
    ) -> Result<Arc<Candidates>, ProviderError> {
        lock(&self.consulted).insert(name.clone());
        self.runtime.block_on(self.candidates(name))
    }

    /// The metadata of `candidate`, waiting for it if needed (from the solver's thread only).
    pub(crate) fn wait_metadata(
        &self,
        candidate: &Candidate,
    ) -> Result<Arc<CoreMetadata>, ProviderError> {
        self.runtime.block_on(self.metadata(candidate))
    }

    /// Starts fetching `name`'s versions and, in the background, the metadata of the version
    /// that most likely satisfies `specifiers`, then recursively its dependencies. Once per name.
    pub(crate) fn prefetch(
        self: &Arc<Self>,
        name: &PackageName,
        specifiers: Option<&VersionSpecifiers>,
    ) {
        if !lock(&self.prefetched).insert(name.clone()) {
            return;
        }
        let candidates = self.candidates(name);
        let fetcher = Arc::clone(self);
        let specifiers = specifiers.cloned();
        let name = name.clone();
        self.runtime.spawn(async move {
            let Ok(candidates) = candidates.await else {
                return; // the solver reports it when it asks
            };
            let Some(candidate) = fetcher.likely_version(&name, &candidates, specifiers.as_ref())
            else {
                return;
            };
            let metadata = fetcher.metadata(candidate);
            if !fetcher.hints.follow_dependencies {
                return;
            }
            let Ok(metadata) = metadata.await else {
                return;
            };
            for requirement in &metadata.requires_dist {
                // Extras are not known here; the solver fetches what they add when it gets there.
                if !requirement.evaluate_markers(&fetcher.hints.markers, &[]) {
                    continue;
                }
                let specifiers = match &requirement.version_or_url {
                    Some(VersionOrUrl::VersionSpecifier(specifiers)) => Some(specifiers),
                    Some(VersionOrUrl::Url(_)) => continue,
                    None => None,
                };
                fetcher.prefetch(&requirement.name, specifiers);
            }
        });
    }

    /// The installed version when it satisfies, else the newest final release that does, else
    /// the newest version that does.
    fn likely_version<'c>(
        &self,
        name: &PackageName,
        candidates: &'c Candidates,
        specifiers: Option<&VersionSpecifiers>,
    ) -> Option<&'c Candidate> {
        let satisfies = |candidate: &&Candidate| {
            specifiers.is_none_or(|specifiers| specifiers.contains(&candidate.version))
        };
        let preferred = self.hints.preferences.get(name);
        let mut matching = candidates.versions.iter().filter(satisfies);
        candidates
            .versions
            .iter()
            .filter(satisfies)
            .find(|candidate| Some(&candidate.version) == preferred)
            .or_else(|| {
                candidates
                    .versions
                    .iter()
                    .filter(satisfies)
                    .find(|candidate| !candidate.version.any_prerelease() && !candidate.is_yanked())
            })
            .or_else(|| matching.next())
    }
}
