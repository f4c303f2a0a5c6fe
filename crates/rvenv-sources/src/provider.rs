//! [`SourceProvider`]: the index provider, plus what it cannot do itself: metadata of sdists
//! (read or built) and the single candidate of each direct requirement.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use pep508_rs::PackageName;
use rvenv_index::IndexProvider;
use rvenv_resolve::{
    Candidate, Candidates, CoreMetadata, FileKind, Provider, ProviderError, Resolution,
    ResolvedPackage,
};

use crate::builds::{Builds, PreparedWheel};
use crate::direct::DirectDist;
use crate::error::{Error, Result};

/// The resolver's provider when sources may need building. Cheap to clone.
#[derive(Clone)]
pub struct SourceProvider {
    inner: Arc<Inner>,
}

struct Inner {
    index: IndexProvider,
    builds: Builds,
    direct: HashMap<PackageName, Arc<DirectDist>>,
}

impl SourceProvider {
    /// `direct` are the prepared direct requirements: each is the only candidate of its name.
    pub fn new(index: IndexProvider, builds: Builds, direct: Vec<DirectDist>) -> SourceProvider {
        let direct = direct
            .into_iter()
            .map(|dist| (dist.name.clone(), Arc::new(dist)))
            .collect();
        SourceProvider {
            inner: Arc::new(Inner {
                index,
                builds,
                direct,
            }),
        }
    }

    pub fn index(&self) -> &IndexProvider {
        &self.inner.index
    }

    pub fn builds(&self) -> &Builds {
        &self.inner.builds
    }

    /// The direct requirement that `package` was resolved to, if it is one.
    pub fn direct(&self, package: &ResolvedPackage) -> Option<&DirectDist> {
        self.inner
            .direct
            .get(&package.name)
            .filter(|dist| dist.candidate() == package.candidate)
            .map(AsRef::as_ref)
    }

    /// Whether `package` needs more than downloading an index wheel: a build, or a direct
    /// requirement's wheel.
    pub fn needs_source(&self, package: &ResolvedPackage) -> bool {
        self.direct(package).is_some() || package.candidate.file.kind == FileKind::Sdist
    }

    /// The wheel of a package for which [`SourceProvider::needs_source`] holds: a direct
    /// requirement's (with its `direct_url.json`), or the one built from an index sdist.
    pub async fn wheel(&self, package: &ResolvedPackage) -> Result<PreparedWheel> {
        if let Some(dist) = self.direct(package) {
            return self.inner.builds.direct_wheel(dist).await;
        }
        let builds = &self.inner.builds;
        let candidate = &package.candidate;
        let allowed = builds.config().user_hashes.get(&candidate.name);
        let buildable = builds
            .sdist(&candidate.file, allowed.map(Vec::as_slice))
            .await?;
        builds
            .wheel(
                &buildable,
                candidate.name.as_ref(),
                &candidate.version.to_string(),
            )
            .await
    }
}

fn provider_error(err: &Error) -> ProviderError {
    ProviderError::new(rvenv_index::error_chain(err))
}

impl Provider for SourceProvider {
    fn recall(&self, roots: &[PackageName]) -> Vec<PackageName> {
        self.inner.index.recall(roots)
    }

    fn remember(&self, roots: &[PackageName], resolved: &[PackageName]) {
        self.inner.index.remember(roots, resolved);
    }

    /// Not with direct requirements: a local directory or URL can change with nothing on an
    /// index telling. (The index keeps only resolutions whose every project it answered.)
    fn kept_resolution(&self, request: &str) -> BoxFuture<'static, Option<Resolution>> {
        if !self.inner.direct.is_empty() {
            return futures::future::ready(None).boxed();
        }
        self.inner.index.kept_resolution(request)
    }

    fn keep_resolution(&self, request: &str, consulted: &[PackageName], resolution: &Resolution) {
        if self.inner.direct.is_empty() {
            self.inner
                .index
                .keep_resolution(request, consulted, resolution);
        }
    }

    fn candidates(
        &self,
        name: &PackageName,
    ) -> BoxFuture<'static, Result<Arc<Candidates>, ProviderError>> {
        if let Some(dist) = self.inner.direct.get(name) {
            let candidates = Candidates {
                versions: vec![dist.candidate()],
                unusable: Vec::new(),
            };
            return futures::future::ready(Ok(Arc::new(candidates))).boxed();
        }
        self.inner.index.candidates(name)
    }

    fn metadata(
        &self,
        candidate: &Candidate,
    ) -> BoxFuture<'static, Result<Arc<CoreMetadata>, ProviderError>> {
        if let Some(dist) = self.inner.direct.get(&candidate.name) {
            if dist.candidate() == *candidate {
                return futures::future::ready(Ok(Arc::clone(&dist.metadata))).boxed();
            }
        }
        if candidate.file.kind != FileKind::Sdist {
            return self.inner.index.metadata(candidate);
        }
        let builds = self.inner.builds.clone();
        let candidate = candidate.clone();
        async move {
            let allowed = builds.config().user_hashes.get(&candidate.name);
            let buildable = builds
                .sdist(&candidate.file, allowed.map(Vec::as_slice))
                .await
                .map_err(|err| provider_error(&err))?;
            let metadata = builds
                .metadata(&buildable)
                .await
                .map_err(|err| provider_error(&err))?;
            if metadata.name != candidate.name || metadata.version != candidate.version {
                return Err(ProviderError::new(format!(
                    "{} describes {} {}, but its file name says {} {}",
                    candidate.file.filename,
                    metadata.name,
                    metadata.version,
                    candidate.name,
                    candidate.version
                )));
            }
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}
