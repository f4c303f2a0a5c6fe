//! [`IndexProvider`]: the resolver's view of the configured indexes and find-links locations.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use pep508_rs::PackageName;
use reqwest::StatusCode;
use rvenv_resolve::select::{select_candidates, SelectOptions, Target};
use rvenv_resolve::{
    parse_metadata, Candidate, Candidates, CoreMetadata, DistFile, FileKind, Provider,
    ProviderError, Resolution,
};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use url::Url;

use crate::cache::Cache;
use crate::client::{download_body, hex, IndexClient};
use crate::error::IndexError;
use crate::filename::file_belongs_to;
use crate::filter::FileFilter;
use crate::find_links::{list_files, FindLinks};
use crate::pages::{fetch_project_page, IndexLocation, PageFetch};
use crate::redact::redact_url;
use crate::remote_zip::{metadata_by_ranges, metadata_from_wheel_file, RangeOutcome};
use crate::stored::StoredResolution;
use crate::unreachable::{is_unreachable, Skipped};

/// How files from several indexes are combined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IndexStrategy {
    /// pip's behaviour: files from every index; the best version wins wherever it is.
    #[default]
    AllIndexes,
    /// Only the first index (in the given order) that has the project at all; protects against
    /// dependency confusion.
    FirstIndex,
}

/// Where packages come from.
#[derive(Debug, Clone)]
pub struct IndexSettings {
    /// `--index-url` first, then every `--extra-index-url`. Empty means `--no-index`.
    /// URLs may carry credentials (`https://user:password@host/simple`).
    pub index_urls: Vec<Url>,
    pub find_links: Vec<FindLinks>,
    pub strategy: IndexStrategy,
    /// Use cached pages only, whatever their age; never touch the network.
    pub offline: bool,
    /// rvenv's cache directory; `None` disables the HTTP and metadata caches.
    pub cache_dir: Option<PathBuf>,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            index_urls: vec![Url::parse("https://pypi.org/simple/").expect("valid URL")],
            find_links: Vec::new(),
            strategy: IndexStrategy::AllIndexes,
            offline: false,
            cache_dir: None,
        }
    }
}

type Shared<T> = Arc<OnceCell<Result<Arc<T>, ProviderError>>>;

/// Serves candidates and metadata from indexes and find-links. Cheap to clone; concurrent
/// requests for the same project or file share one fetch.
#[derive(Clone)]
pub struct IndexProvider {
    inner: Arc<ProviderInner>,
}

struct ProviderInner {
    client: IndexClient,
    indexes: Vec<IndexLocation>,
    find_links: Vec<FindLinks>,
    strategy: IndexStrategy,
    offline: bool,
    cache: Option<Cache>,
    cache_dir: Option<PathBuf>,
    target: Target,
    /// The target's tags, to skip the files of a page it cannot use.
    filter: FileFilter,
    /// Names the target in the candidates cache's keys.
    target_key: String,
    select_options: SelectOptions,
    candidates: Mutex<HashMap<PackageName, Shared<Candidates>>>,
    /// The candidates key of each project answered, for [`Provider::keep_resolution`].
    answered_keys: Mutex<HashMap<PackageName, String>>,
    /// Pages fetched to check a kept resolution that did not hold, for `candidates`.
    fetched_pages: Mutex<HashMap<PackageName, Vec<PageFetch>>>,
    metadata: Mutex<HashMap<Url, Shared<CoreMetadata>>>,
    find_links_files: OnceCell<Result<Arc<Vec<DistFile>>, ProviderError>>,
    /// Indexes and find-links locations that could not be reached, looked past as pip does.
    skipped: Skipped,
    /// Wheels downloaded whole (when range requests were refused), by URL.
    downloads: Mutex<HashMap<Url, PathBuf>>,
    download_dir: Mutex<Option<tempfile::TempDir>>,
}

impl IndexProvider {
    pub fn new(
        client: IndexClient,
        settings: IndexSettings,
        target: Target,
        select_options: SelectOptions,
    ) -> IndexProvider {
        let indexes = settings
            .index_urls
            .iter()
            .map(|url| IndexLocation::new(&client, url))
            .collect();
        IndexProvider {
            inner: Arc::new(ProviderInner {
                indexes,
                find_links: settings.find_links,
                strategy: settings.strategy,
                offline: settings.offline,
                cache: settings.cache_dir.as_deref().map(Cache::new),
                cache_dir: settings.cache_dir,
                filter: FileFilter::new(&target),
                target_key: hex(&Sha256::digest(format!("{target:?}"))),
                target,
                select_options,
                client,
                candidates: Mutex::default(),
                answered_keys: Mutex::default(),
                fetched_pages: Mutex::default(),
                metadata: Mutex::default(),
                find_links_files: OnceCell::new(),
                skipped: Skipped::default(),
                downloads: Mutex::default(),
                download_dir: Mutex::default(),
            }),
        }
    }

    /// The client (for downloads with the same credentials and pool).
    pub fn client(&self) -> &IndexClient {
        &self.inner.client
    }

    /// Every wheel and sdist of `name` on the configured indexes and find-links locations,
    /// before any selection for the target.
    pub async fn files(&self, name: &PackageName) -> Result<Vec<DistFile>, IndexError> {
        self.inner.files(name, None).await
    }

    /// A wheel this provider downloaded whole while reading its metadata (the server did not
    /// honour range requests): reuse it instead of downloading again. The file lives in a
    /// temporary directory that is removed when the last clone of the provider is dropped.
    pub fn downloaded_file(&self, url: &Url) -> Option<PathBuf> {
        self.inner.downloads.lock().ok()?.get(url).cloned()
    }

    /// The indexes and find-links locations skipped because they could not be reached, each
    /// as `location: why`, for the caller to warn about (pip does the same).
    pub fn skipped_locations(&self) -> Vec<String> {
        self.inner.skipped.messages()
    }
}

impl IndexProvider {
    /// Names a set of requested projects on this provider's indexes and find-links locations.
    fn recall_key(&self, roots: &[PackageName]) -> String {
        let mut hasher = Sha256::new();
        for location in &self.inner.indexes {
            hasher.update(format!("index {}\n", location.url));
        }
        for location in &self.inner.find_links {
            hasher.update(format!("find-links {}\n", location.display()));
        }
        for name in roots {
            hasher.update(format!("{name}\n"));
        }
        hex(&hasher.finalize())[..32].to_string()
    }
}

impl Provider for IndexProvider {
    /// Only projects whose cached pages are fresh or carry validators: asking for those ahead
    /// costs a conditional request each, and saves a round trip per level of the graph. Pages
    /// without validators come whole each time; fetching them all at once only makes the ones
    /// needed first share the bandwidth with the rest.
    fn recall(&self, roots: &[PackageName]) -> Vec<PackageName> {
        let Some(cache) = &self.inner.cache else {
            return Vec::new();
        };
        let Some(names) = cache.read_recalled(&self.recall_key(roots)) else {
            return Vec::new();
        };
        names
            .into_iter()
            .filter(|name| {
                self.inner.indexes.iter().all(|location| {
                    cache
                        .read_page_header(&location.url, name)
                        .is_some_and(|header| header.is_cheap_to_revalidate())
                })
            })
            .collect()
    }

    fn remember(&self, roots: &[PackageName], resolved: &[PackageName]) {
        if let Some(cache) = &self.inner.cache {
            // Only a hint for the next run: failing to keep it costs nothing else.
            let _ = cache.write_recalled(&self.recall_key(roots), resolved);
        }
    }

    /// Each project the kept resolution consulted is asked for its pages (all at once, each a
    /// conditional request when the page has validators); the resolution holds if every
    /// project's candidates key is the one it had.
    fn kept_resolution(&self, request: &str) -> BoxFuture<'static, Option<Resolution>> {
        let inner = Arc::clone(&self.inner);
        let request = request.to_string();
        async move {
            let kept = inner
                .cache
                .as_ref()?
                .read_resolution(&inner.resolution_key(&request))?;
            let checks = kept.projects.iter().map(|(name, key)| {
                let inner = &inner;
                async move {
                    let Ok(name) = PackageName::from_str(name) else {
                        return false;
                    };
                    inner.current_candidates_key(&name).await.ok().as_ref() == Some(key)
                }
            });
            if !join_all(checks).await.into_iter().all(|holds| holds) {
                return None;
            }
            // Nothing will parse those pages: let them go (from PyPI, megabytes).
            lock(&inner.fetched_pages).clear();
            kept.into_resolution()
        }
        .boxed()
    }

    fn keep_resolution(&self, request: &str, consulted: &[PackageName], resolution: &Resolution) {
        let Some(cache) = &self.inner.cache else {
            return;
        };
        let answered = lock(&self.inner.answered_keys);
        // Every project consulted must have been answered here, with a key.
        let Some(projects) = consulted
            .iter()
            .map(|name| Some((name.to_string(), answered.get(name)?.clone())))
            .collect::<Option<Vec<_>>>()
        else {
            return;
        };
        drop(answered);
        let stored = StoredResolution::new(projects, resolution);
        // Only saves work next time: failing to keep it costs nothing else.
        let _ = cache.write_resolution(&self.inner.resolution_key(request), &stored);
    }

    fn candidates(
        &self,
        name: &PackageName,
    ) -> BoxFuture<'static, Result<Arc<Candidates>, ProviderError>> {
        let inner = Arc::clone(&self.inner);
        let name = name.clone();
        async move {
            let cell = shared_cell(&inner.candidates, &name);
            cell.get_or_init(|| async { Ok(Arc::new(inner.candidates(&name).await?)) })
                .await
                .clone()
        }
        .boxed()
    }

    fn metadata(
        &self,
        candidate: &Candidate,
    ) -> BoxFuture<'static, Result<Arc<CoreMetadata>, ProviderError>> {
        let inner = Arc::clone(&self.inner);
        let candidate = candidate.clone();
        async move {
            let cell = shared_cell(&inner.metadata, &candidate.file.url);
            cell.get_or_init(|| async { Ok(Arc::new(inner.metadata(&candidate).await?)) })
                .await
                .clone()
        }
        .boxed()
    }
}

/// The digest of each page's body, in index order (`None` where there is no page).
fn page_digests(pages: &[PageFetch]) -> impl Iterator<Item = Option<&str>> {
    pages.iter().map(|page| match page {
        PageFetch::Page(body) => Some(body.digest.as_str()),
        PageFetch::NotFound | PageFetch::NotCached => None,
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned map only means another task panicked while inserting; the map is still valid.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn shared_cell<K: std::hash::Hash + Eq + Clone, T>(
    map: &Mutex<HashMap<K, Shared<T>>>,
    key: &K,
) -> Shared<T> {
    let mut map = lock(map);
    Arc::clone(map.entry(key.clone()).or_default())
}

impl ProviderInner {
    /// The files of `name` on every location; with a filter, only those that can matter for
    /// its target (see [`crate::simple::parse_page_filtered`]).
    async fn files(
        &self,
        name: &PackageName,
        filter: Option<&FileFilter>,
    ) -> Result<Vec<DistFile>, IndexError> {
        let pages = self.pages(name).await?;
        let find_links = self.find_links_files().await?;
        Ok(self.parse_files(name, &pages, &find_links, filter)?.0)
    }

    /// `name`'s candidates for the target. Unless a page changed since the last run (or the
    /// target, options or find-links files did), they come from the candidates cache and no
    /// page is parsed.
    async fn candidates(&self, name: &PackageName) -> Result<Candidates, IndexError> {
        let fetched = lock(&self.fetched_pages).remove(name);
        let pages = match fetched {
            Some(pages) => pages,
            None => self.pages(name).await?,
        };
        let find_links = self.find_links_files().await?;
        let cache = self.cache.as_ref();
        let key = self.candidates_key(name, page_digests(&pages), &find_links);
        if let Some(candidates) = cache.and_then(|cache| cache.read_candidates(name, &key)) {
            lock(&self.answered_keys).insert(name.clone(), key);
            return Ok(candidates);
        }
        let (files, parsed_digests) =
            self.parse_files(name, &pages, &find_links, Some(&self.filter))?;
        let candidates = select_candidates(name, files, &self.target, &self.select_options);
        // Kept only under the key of what was parsed: a cached page that another process
        // replaced meanwhile was parsed in its new version.
        let parsed_key = self.candidates_key(
            name,
            parsed_digests.iter().map(Option::as_deref),
            &find_links,
        );
        if let (Some(cache), true) = (cache, parsed_key == key) {
            let _ = cache.write_candidates(name, &key, &candidates);
        }
        lock(&self.answered_keys).insert(name.clone(), parsed_key);
        Ok(candidates)
    }

    /// The key `name`'s candidates would have now: its pages are fetched (revalidated) and
    /// kept for [`ProviderInner::candidates`], which then needs no request.
    async fn current_candidates_key(&self, name: &PackageName) -> Result<String, IndexError> {
        let pages = self.pages(name).await?;
        let find_links = self.find_links_files().await?;
        let key = self.candidates_key(name, page_digests(&pages), &find_links);
        lock(&self.fetched_pages).insert(name.clone(), pages);
        Ok(key)
    }

    /// Names a request (see [`Provider::kept_resolution`]) on these indexes, for this target
    /// and these options.
    fn resolution_key(&self, request: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update("resolutions-v1\n");
        hasher.update(request);
        for location in &self.indexes {
            hasher.update(format!("index {}\n", location.url));
        }
        for location in &self.find_links {
            hasher.update(format!("find-links {}\n", location.display()));
        }
        hasher.update(format!("{} {:?}\n", self.target_key, self.select_options));
        hex(&hasher.finalize())
    }

    /// Names everything `name`'s candidates are computed from: the pages' contents (by
    /// digest, in index order), the find-links files of the project, the target and the
    /// binary options that apply to the project.
    fn candidates_key<'a>(
        &self,
        name: &PackageName,
        page_digests: impl Iterator<Item = Option<&'a str>>,
        find_links: &[DistFile],
    ) -> String {
        let mut hasher = Sha256::new();
        hasher.update(crate::stored::FORMAT);
        hasher.update(env!("CARGO_PKG_VERSION"));
        hasher.update(&self.target_key);
        hasher.update(format!("{:?}\n", self.select_options.allowed(name)));
        for (location, digest) in self.indexes.iter().zip(page_digests) {
            hasher.update(format!("{} {}\n", location.url, digest.unwrap_or("-")));
        }
        for file in find_links
            .iter()
            .filter(|file| file_belongs_to(&file.filename, name))
        {
            hasher.update(format!("{file:?}\n"));
        }
        hex(&hasher.finalize())
    }

    /// `name`'s pages on the indexes: every index's, or with [`IndexStrategy::FirstIndex`], up
    /// to the first index that has the project. In index order, one per index asked: an index
    /// that could not be reached (and is skipped) counts as not having the project, so that
    /// the candidates key still pairs each index with its own page.
    async fn pages(&self, name: &PackageName) -> Result<Vec<PageFetch>, IndexError> {
        let fetch = |location| {
            fetch_project_page(
                &self.client,
                self.cache.as_ref(),
                location,
                name,
                self.offline,
            )
        };
        let mut pages = Vec::with_capacity(self.indexes.len());
        let mut unreachable = Vec::new();
        match self.strategy {
            IndexStrategy::FirstIndex => {
                for location in &self.indexes {
                    match fetch(location).await {
                        Ok(page) => {
                            let found = matches!(page, PageFetch::Page(_));
                            pages.push(page);
                            if found {
                                break;
                            }
                        }
                        Err(err) if is_unreachable(&err) => {
                            pages.push(PageFetch::NotFound);
                            unreachable.push((location, err));
                        }
                        Err(err) => return Err(err),
                    }
                }
            }
            IndexStrategy::AllIndexes => {
                let fetched = join_all(self.indexes.iter().map(fetch)).await;
                for (location, page) in self.indexes.iter().zip(fetched) {
                    match page {
                        Ok(page) => pages.push(page),
                        Err(err) if is_unreachable(&err) => {
                            pages.push(PageFetch::NotFound);
                            unreachable.push((location, err));
                        }
                        Err(err) => return Err(err),
                    }
                }
            }
        }
        // Skip what could not be reached while something else can answer; with nothing else
        // to look at, the failure is the answer.
        if pages.len() == unreachable.len() && self.find_links.is_empty() {
            if let Some((_, err)) = unreachable.into_iter().next() {
                return Err(err);
            }
        } else {
            for (location, err) in &unreachable {
                self.skipped.record(&location.display, err);
            }
        }
        Ok(pages)
    }

    /// The files of `name` on its pages and find-links locations, and the digest of each
    /// page's body as parsed (`None` where the index has no page).
    fn parse_files(
        &self,
        name: &PackageName,
        pages: &[PageFetch],
        find_links: &[DistFile],
        filter: Option<&FileFilter>,
    ) -> Result<(Vec<DistFile>, Vec<Option<String>>), IndexError> {
        let mut files = Vec::new();
        let mut digests = Vec::with_capacity(pages.len());
        let mut found = false;
        let mut not_cached = false;
        for page in pages {
            match page {
                PageFetch::Page(page) => {
                    let parsed = page.files(filter)?;
                    files.extend(parsed.files);
                    digests.push(Some(parsed.digest));
                    found = true;
                }
                PageFetch::NotFound => digests.push(None),
                PageFetch::NotCached => {
                    not_cached = true;
                    digests.push(None);
                }
            }
        }
        for file in find_links {
            if file_belongs_to(&file.filename, name) {
                files.push(file.clone());
                found = true;
            }
        }
        if !found {
            if not_cached {
                return Err(IndexError::NotCached {
                    name: name.to_string(),
                });
            }
            return Err(IndexError::NotFound {
                name: name.to_string(),
                locations: self.locations(),
            });
        }
        // Index pages may list foreign files; the same URL may come from two places.
        let mut seen = HashSet::new();
        files.retain(|file| file_belongs_to(&file.filename, name) && seen.insert(file.url.clone()));
        if files.is_empty() {
            return Err(IndexError::NoFiles {
                name: name.to_string(),
                locations: self.locations(),
            });
        }
        Ok((files, digests))
    }

    fn locations(&self) -> String {
        let mut places: Vec<String> = self
            .indexes
            .iter()
            .map(|location| location.display.clone())
            .collect();
        places.extend(
            self.find_links
                .iter()
                .map(|location| format!("find-links {}", location.display())),
        );
        if places.is_empty() {
            "any index (--no-index is set and no --find-links was given)".to_string()
        } else {
            places.join(", ") + &self.skipped.note()
        }
    }

    async fn find_links_files(&self) -> Result<Arc<Vec<DistFile>>, IndexError> {
        if self.find_links.is_empty() {
            return Ok(Arc::default());
        }
        let files = self
            .find_links_files
            .get_or_init(|| async {
                let mut all = Vec::new();
                for location in &self.find_links {
                    match list_files(&self.client, location, self.offline).await {
                        Ok(files) => all.extend(files),
                        // pip ignores a find-links path that does not exist.
                        Err(err @ IndexError::Io(_))
                            if matches!(location, FindLinks::Path(path) if !path.exists()) =>
                        {
                            self.skipped.record(&location.display(), &err)
                        }
                        Err(err) if is_unreachable(&err) => {
                            self.skipped.record(&location.display(), &err)
                        }
                        Err(err) => return Err(err.into()),
                    }
                }
                Ok(Arc::new(all))
            })
            .await;
        files
            .clone()
            .map_err(|err| IndexError::Shared(err.to_string()))
    }

    async fn metadata(&self, candidate: &Candidate) -> Result<CoreMetadata, IndexError> {
        let file = &candidate.file;
        let is_local = file.url.scheme() == "file";
        let cached = if is_local {
            None
        } else {
            self.cache
                .as_ref()
                .and_then(|cache| cache.read_metadata(file))
        };
        let bytes = match cached {
            Some(bytes) => bytes,
            None => {
                let bytes = self.fetch_metadata(candidate).await?;
                if let (Some(cache), false) = (&self.cache, is_local) {
                    // Best effort: a read-only cache must not fail the resolution.
                    let _ = cache.write_metadata(file, &bytes);
                }
                bytes
            }
        };
        let metadata = parse_metadata(&bytes).map_err(|message| IndexError::Metadata {
            file: redact_url(&file.url),
            message,
        })?;
        if metadata.name != candidate.name || metadata.version != candidate.version {
            return Err(IndexError::Metadata {
                file: redact_url(&file.url),
                message: format!(
                    "it describes {} {}, but the file name says {} {}",
                    metadata.name, metadata.version, candidate.name, candidate.version
                ),
            });
        }
        Ok(metadata)
    }

    async fn fetch_metadata(&self, candidate: &Candidate) -> Result<Vec<u8>, IndexError> {
        let file = &candidate.file;
        if file.kind == FileKind::Sdist {
            return Err(IndexError::SdistMetadata {
                name: candidate.name.to_string(),
                file: file.filename.clone(),
            });
        }
        if file.url.scheme() == "file" {
            let path = file.url.to_file_path().map_err(|()| IndexError::Metadata {
                file: file.url.to_string(),
                message: "not a local path".into(),
            })?;
            return read_wheel_metadata(path, file.filename.clone()).await;
        }
        if let Some(path) = self.downloaded(&file.url) {
            return read_wheel_metadata(path, file.filename.clone()).await;
        }
        if self.offline {
            return Err(IndexError::NotCached {
                name: format!("{} {} (metadata)", candidate.name, candidate.version),
            });
        }
        if file.has_metadata_file {
            let mut url = file.url.clone();
            url.set_path(&format!("{}.metadata", file.url.path()));
            let response = self.client.get_bytes(&url, Default::default()).await?;
            match response.status {
                status if status.is_success() => {
                    check_metadata_hash(file, &url, &response.body)?;
                    return Ok(response.body);
                }
                // The index promised a metadata file it does not have: read the wheel instead.
                StatusCode::NOT_FOUND => {}
                status => return Err(self.client.status_error(&response.url, status)),
            }
        }
        match metadata_by_ranges(&self.client, &file.url, &file.filename).await {
            Ok(RangeOutcome::Metadata(bytes)) => Ok(bytes),
            Ok(RangeOutcome::WholeFile(streaming)) => {
                let path = self.download_path(file)?;
                download_body(*streaming, file, &path).await?;
                self.record_download(file, &path);
                read_wheel_metadata(path, file.filename.clone()).await
            }
            Ok(RangeOutcome::Unsatisfiable) | Err(IndexError::RemoteZip { .. }) => {
                let path = self.download_path(file)?;
                self.client.download(file, &path).await?;
                self.record_download(file, &path);
                read_wheel_metadata(path, file.filename.clone()).await
            }
            Err(err) => Err(err),
        }
    }

    fn downloaded(&self, url: &Url) -> Option<PathBuf> {
        self.downloads.lock().ok()?.get(url).cloned()
    }

    fn record_download(&self, file: &DistFile, path: &std::path::Path) {
        if let Ok(mut downloads) = self.downloads.lock() {
            downloads.insert(file.url.clone(), path.to_path_buf());
        }
    }

    /// `<temp dir>/<hash of the URL>/<filename>`; the temp dir sits in the cache dir when there
    /// is one (same file system as the wheel cache, so the installer can move files in).
    fn download_path(&self, file: &DistFile) -> Result<PathBuf, IndexError> {
        let mut dir = self
            .download_dir
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if dir.is_none() {
            let builder = tempfile::Builder::new().prefix("downloads-").to_owned();
            // In the cache's staging area when possible (rvenv-cache removes what a killed
            // process left there); a read-only cache dir falls back to $TMPDIR.
            let in_cache = self.cache_dir.as_ref().and_then(|cache_dir| {
                let staging = cache_dir.join(".tmp");
                fs_err::create_dir_all(&staging).ok()?;
                builder.tempdir_in(staging).ok()
            });
            let created = match in_cache {
                Some(created) => created,
                None => builder.tempdir()?,
            };
            *dir = Some(created);
        }
        let root = dir.as_ref().expect("created above").path();
        let key = &hex(&Sha256::digest(file.url.as_str().as_bytes()))[..16];
        Ok(root.join(key).join(&file.filename))
    }
}

async fn read_wheel_metadata(path: PathBuf, filename: String) -> Result<Vec<u8>, IndexError> {
    tokio::task::spawn_blocking(move || metadata_from_wheel_file(&path, &filename))
        .await
        .map_err(|err| IndexError::Io(std::io::Error::other(err)))?
}

/// PEP 658: the index may give the sha256 of a metadata file; a file that does not match is an
/// error, as for any download (a flipped byte could change a dependency unnoticed).
fn check_metadata_hash(file: &DistFile, url: &Url, body: &[u8]) -> Result<(), IndexError> {
    let Some(expected) = file
        .metadata_hashes
        .iter()
        .find(|hash| hash.algorithm == "sha256")
    else {
        return Ok(());
    };
    let actual = hex(&Sha256::digest(body));
    if expected.digest.eq_ignore_ascii_case(&actual) {
        return Ok(());
    }
    Err(IndexError::HashMismatch {
        url: redact_url(url),
        expected: expected.digest.clone(),
        actual,
    })
}
