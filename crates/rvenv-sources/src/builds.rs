//! Source trees to metadata and wheels: sdists downloaded once into the cache (keyed by their
//! sha256), wheels built from them published under the cache's `built` bucket (keyed by the
//! sdist's hash and the interpreter), so a later run or another environment neither downloads
//! nor builds again. Plain directories are built every time (their files may change); git
//! checkouts are keyed by commit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pep508_rs::PackageName;
use rvenv_build::{
    built_wheel_cache_key, BuildEnvironments, BuildIsolation, BuildOptions,
    BuildRequirementsInstaller, SourceBuild,
};
use rvenv_cache::{Bucket, Cache};
use rvenv_index::IndexProvider;
use rvenv_install::ValidatedWheel;
use rvenv_resolve::{CoreMetadata, DistFile};
use rvenv_venv::Interpreter;
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use crate::direct_url::DirectUrl;
use crate::error::{Error, Result};
use crate::hashes::{check_hashes, sha256_file};

/// How and where to build.
pub struct BuildConfig {
    pub cache: Arc<Cache>,
    /// Downloads go through its client (credentials, proxies, retries).
    pub index: IndexProvider,
    /// The target's interpreter: wheels are built for it.
    pub interpreter: Interpreter,
    pub isolation: BuildIsolation,
    /// Installs build requirements into isolated build environments.
    pub installer: Arc<dyn BuildRequirementsInstaller>,
    /// At most this many builds at once (the core count).
    pub max_parallel_builds: usize,
    /// In hash-checking mode: the `--hash` values allowed for each package.
    pub user_hashes: HashMap<PackageName, Vec<rvenv_requirements::Hash>>,
    /// Where `-e git+...` projects are checked out (`<venv>/src`); `None` refuses them.
    pub editable_src: Option<PathBuf>,
    /// Build environments being filled by the installs this one is nested in: building into one
    /// of them again would wait for itself.
    pub envs_in_progress: Vec<PathBuf>,
}

/// A wheel ready to install.
#[derive(Debug)]
pub struct PreparedWheel {
    pub wheel: ValidatedWheel,
    /// Built by this call (not found in the cache).
    pub built: bool,
    /// PEP 610 `direct_url.json`, for URL, path and VCS requirements.
    pub direct_url: Option<DirectUrl>,
    /// Keeps an uncached wheel (a directory's build, an editable) until it is installed.
    pub(crate) _scratch: Option<tempfile::TempDir>,
}

impl PreparedWheel {
    /// A wheel from the cache (an index wheel the caller fetched itself).
    pub fn cached(wheel: ValidatedWheel) -> PreparedWheel {
        prepared(wheel, false, None)
    }
}

/// Something to build: an sdist file or a project directory.
pub(crate) struct Buildable {
    pub(crate) path: PathBuf,
    /// The key of its wheels in the `built` bucket (sdist sha256, `git-<commit>`); `None` for a
    /// plain directory, whose files may change.
    pub(crate) cache_key: Option<String>,
    build: Mutex<Option<Arc<SourceBuild>>>,
}

impl Buildable {
    pub(crate) fn new(path: PathBuf, cache_key: Option<String>) -> Self {
        Buildable {
            path,
            cache_key,
            build: Mutex::new(None),
        }
    }
}

type SdistCell = Arc<OnceCell<Result<Arc<Buildable>, Arc<Error>>>>;

/// Builds from source, sharing work between the resolver (metadata) and the installer (wheels).
/// Cheap to clone.
#[derive(Clone)]
pub struct Builds {
    inner: Arc<Inner>,
}

struct Inner {
    config: BuildConfig,
    slots: Arc<Semaphore>,
    sdists: Mutex<HashMap<Url, SdistCell>>,
}

impl Builds {
    pub fn new(config: BuildConfig) -> Builds {
        let slots = Arc::new(Semaphore::new(config.max_parallel_builds.max(1)));
        Builds {
            inner: Arc::new(Inner {
                config,
                slots,
                sdists: Mutex::default(),
            }),
        }
    }

    pub fn config(&self) -> &BuildConfig {
        &self.inner.config
    }

    pub(crate) fn cache(&self) -> &Cache {
        &self.inner.config.cache
    }

    /// The sdist `file` in the cache: downloaded once, checked against the index's hash and
    /// the `allowed` ones (the user's `--hash` values). Concurrent calls for one URL share the
    /// download.
    pub(crate) async fn sdist(
        &self,
        file: &DistFile,
        allowed: Option<&[rvenv_requirements::Hash]>,
    ) -> Result<Arc<Buildable>> {
        let cell = {
            let mut map = self
                .inner
                .sdists
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(map.entry(file.url.clone()).or_default())
        };
        cell.get_or_init(|| async {
            self.fetch_sdist(file, allowed)
                .await
                .map(Arc::new)
                .map_err(Arc::new)
        })
        .await
        .clone()
        .map_err(Error::Shared)
    }

    async fn fetch_sdist(
        &self,
        file: &DistFile,
        allowed: Option<&[rvenv_requirements::Hash]>,
    ) -> Result<Buildable> {
        let filename = safe_filename(&file.filename)?;
        let index_sha256 = file
            .hashes
            .iter()
            .find(|hash| hash.algorithm == "sha256")
            .map(|hash| hash.digest.to_ascii_lowercase());
        if let (Some(allowed), Some(digest)) = (allowed, &index_sha256) {
            check_hashes(filename, allowed, digest)?;
        }
        if let Some(digest) = &index_sha256 {
            let archive = self.sdist_dir(digest).join(filename);
            if archive.is_file() {
                return Ok(Buildable::new(archive, Some(digest.clone())));
            }
        }
        let (staging, _archive, digest) = self.download(file).await?;
        if let Some(allowed) = allowed {
            check_hashes(filename, allowed, &digest)?;
        }
        let dest = self.sdist_dir(&digest);
        self.cache().publish(staging, &dest)?;
        Ok(Buildable::new(dest.join(filename), Some(digest)))
    }

    fn sdist_dir(&self, sha256: &str) -> PathBuf {
        self.cache()
            .entry(Bucket::Built, &format!("{sha256}/sdist"))
    }

    /// Downloads `file` into a fresh staging directory (the file alone in it); returns the
    /// directory, the file and its sha256.
    pub(crate) async fn download(
        &self,
        file: &DistFile,
    ) -> Result<(tempfile::TempDir, PathBuf, String)> {
        let filename = safe_filename(&file.filename)?;
        let staging = self.cache().staging_dir()?;
        let dest = staging.path().join(filename);
        let digest = self
            .inner
            .config
            .index
            .client()
            .download(file, &dest)
            .await
            .map_err(|source| Error::Download {
                file: rvenv_index::redact_url(&file.url),
                source,
            })?;
        Ok((staging, dest, digest))
    }

    /// Where the wheel built from `buildable` for this interpreter is published.
    fn built_entry(&self, buildable: &Buildable) -> Option<PathBuf> {
        let key = buildable.cache_key.as_ref()?;
        Some(self.cache().entry(
            Bucket::Built,
            &built_wheel_cache_key(key, &self.inner.config.interpreter),
        ))
    }

    /// The core metadata: from the wheel built earlier when there is one, else from the
    /// source (static when possible, else the backend's hooks).
    pub(crate) async fn metadata(&self, buildable: &Arc<Buildable>) -> Result<CoreMetadata> {
        if let Some(entry) = self.built_entry(buildable).filter(|entry| entry.is_dir()) {
            return read_unpacked_metadata(&entry);
        }
        let permit = self.slot().await?;
        let builds = self.clone();
        let buildable = Arc::clone(buildable);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let build = builds.source_build(&buildable)?;
            if build.static_metadata()?.is_none() {
                builds.check_cycle(&build)?;
            }
            Ok(build.metadata(builds.inner.config.installer.as_ref())?)
        })
        .await?
    }

    /// A wheel of `buildable` for `name` `version`: the cached one, or built now (and cached when
    /// the source has a cache key).
    pub(crate) async fn wheel(
        &self,
        buildable: &Arc<Buildable>,
        name: &str,
        version: &str,
    ) -> Result<PreparedWheel> {
        let entry = self.built_entry(buildable);
        if let Some(entry) = entry.as_ref().filter(|entry| entry.is_dir()) {
            return Ok(prepared(open_entry(entry, name, version)?, false, None));
        }
        let permit = self.slot().await?;
        let builds = self.clone();
        let buildable = Arc::clone(buildable);
        let (name, version) = (name.to_string(), version.to_string());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let build = builds.source_build(&buildable)?;
            // Before the lock: a build nested in itself would wait for that lock forever.
            builds.check_cycle(&build)?;
            let _lock = match &entry {
                Some(entry) => {
                    let lock = builds.cache().lock(&entry.to_string_lossy())?;
                    if entry.is_dir() {
                        return Ok(prepared(open_entry(entry, &name, &version)?, false, None));
                    }
                    Some(lock)
                }
                None => None,
            };
            let out = builds.cache().staging_dir()?;
            let wheel_file =
                build.build_wheel(builds.inner.config.installer.as_ref(), out.path())?;
            builds.unpack(&wheel_file, entry.as_deref(), &name, &version)
        })
        .await?
    }

    /// A PEP 660 editable wheel of the project directory `buildable` (never cached: it is
    /// cheap and points at the directory).
    pub(crate) async fn editable(
        &self,
        buildable: &Arc<Buildable>,
        name: &str,
        version: &str,
    ) -> Result<PreparedWheel> {
        let permit = self.slot().await?;
        let builds = self.clone();
        let buildable = Arc::clone(buildable);
        let (name, version) = (name.to_string(), version.to_string());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let build = builds.source_build(&buildable)?;
            builds.check_cycle(&build)?;
            let out = builds.cache().staging_dir()?;
            let wheel_file =
                build.build_editable(builds.inner.config.installer.as_ref(), out.path())?;
            builds.unpack(&wheel_file, None, &name, &version)
        })
        .await?
    }

    /// Unpacks and validates a built wheel: published at `entry`, or kept in scratch space.
    fn unpack(
        &self,
        wheel_file: &Path,
        entry: Option<&Path>,
        name: &str,
        version: &str,
    ) -> Result<PreparedWheel> {
        let staged = self.cache().staging_dir()?;
        let file = wheel_file
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let wheel = rvenv_install::unpack_and_validate(wheel_file, staged.path(), name, version)
            .map_err(|source| Error::InvalidWheel {
                file: file.clone(),
                source,
            })?;
        match entry {
            Some(entry) => {
                self.cache().publish(staged, entry)?;
                Ok(prepared(open_entry(entry, name, version)?, true, None))
            }
            None => Ok(PreparedWheel {
                wheel,
                built: true,
                direct_url: None,
                _scratch: Some(staged),
            }),
        }
    }

    async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        Arc::clone(&self.inner.slots)
            .acquire_owned()
            .await
            .map_err(|err| Error::Task(err.to_string()))
    }

    /// The [`SourceBuild`] of `buildable`, made on first use (unpacking an sdist) and shared by
    /// the metadata and wheel steps, so a backend's prepared metadata is reused by its build.
    fn source_build(&self, buildable: &Buildable) -> Result<Arc<SourceBuild>> {
        let mut slot = buildable
            .build
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(build) = slot.as_ref() {
            return Ok(Arc::clone(build));
        }
        let config = &self.inner.config;
        let build = Arc::new(SourceBuild::with_options(
            &buildable.path,
            &config.interpreter,
            config.cache.root(),
            BuildOptions {
                isolation: config.isolation.clone(),
            },
        )?);
        *slot = Some(Arc::clone(&build));
        Ok(build)
    }

    /// Refuses a build whose build environment is one the enclosing installs are still filling.
    fn check_cycle(&self, build: &SourceBuild) -> Result<()> {
        let config = &self.inner.config;
        if !matches!(config.isolation, BuildIsolation::Isolated)
            || config.envs_in_progress.is_empty()
        {
            return Ok(());
        }
        let requires = &build.build_system().requires;
        let key = rvenv_build::build_env_key(&config.interpreter, requires);
        let root = BuildEnvironments::new(Cache::open(config.cache.root())?).root();
        if config.envs_in_progress.contains(&root.join(key)) {
            return Err(Error::BuildCycle {
                package: build.package().to_string(),
                requirements: requires
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(())
    }

    /// The sha256 of a local file, for cache keys of local archives.
    pub(crate) async fn file_sha256(&self, path: &Path) -> Result<String> {
        let path = path.to_path_buf();
        Ok(tokio::task::spawn_blocking(move || sha256_file(&path)).await??)
    }
}

fn prepared(wheel: ValidatedWheel, built: bool, direct_url: Option<DirectUrl>) -> PreparedWheel {
    PreparedWheel {
        wheel,
        built,
        direct_url,
        _scratch: None,
    }
}

pub(crate) fn open_entry(entry: &Path, name: &str, version: &str) -> Result<ValidatedWheel> {
    ValidatedWheel::open_trusted(entry, name, version).map_err(|source| Error::InvalidWheel {
        file: entry.display().to_string(),
        source,
    })
}

/// The METADATA of an unpacked wheel directory.
pub(crate) fn read_unpacked_metadata(dir: &Path) -> Result<CoreMetadata> {
    let mut dist_infos = fs_err::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "dist-info"));
    let Some(dist_info) = dist_infos.next() else {
        return Err(Error::Metadata {
            path: dir.to_path_buf(),
            reason: "no .dist-info directory".to_string(),
        });
    };
    let path = dist_info.join("METADATA");
    let bytes = fs_err::read(&path)?;
    rvenv_resolve::parse_metadata(&bytes).map_err(|reason| Error::Metadata { path, reason })
}

/// A file name from an index or URL, used as a path component: refuse anything else.
fn safe_filename(filename: &str) -> Result<&str> {
    let plain = !filename.is_empty()
        && !filename.contains(['/', '\\'])
        && filename != "."
        && filename != "..";
    if plain {
        Ok(filename)
    } else {
        Err(Error::Unsupported {
            given: filename.to_string(),
            reason: "not a plain file name".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_must_be_plain() {
        assert!(safe_filename("docopt-0.6.2.tar.gz").is_ok());
        for bad in ["", ".", "..", "../x.tar.gz", "a/b.whl", "a\\b.whl"] {
            assert!(safe_filename(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn metadata_is_read_from_an_unpacked_wheel() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_unpacked_metadata(dir.path()).is_err());
        let dist_info = dir.path().join("demo-1.0.dist-info");
        fs_err::create_dir_all(&dist_info).unwrap();
        fs_err::write(
            dist_info.join("METADATA"),
            "Metadata-Version: 2.1\nName: Demo\nVersion: 1.0\nRequires-Dist: lib>=2\n",
        )
        .unwrap();
        let metadata = read_unpacked_metadata(dir.path()).unwrap();
        assert_eq!(metadata.name.to_string(), "demo");
        assert_eq!(metadata.requires_dist.len(), 1);
    }
}
