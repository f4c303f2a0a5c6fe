//! Requirements that name their distribution directly: a wheel or sdist file or URL, a project
//! directory, a git repository, an editable project. Each is looked at before resolving (name,
//! version and metadata), so the resolver sees it as a package with exactly one candidate.

use std::path::Path;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;
use rvenv_cache::Bucket;
use rvenv_requirements::Location;
use rvenv_resolve::{Candidate, CoreMetadata, DistFile, FileKind, WheelFilename};
use url::Url;

use crate::builds::{open_entry, read_unpacked_metadata, Buildable, Builds, PreparedWheel};
use crate::direct_url::DirectUrl;
use crate::editable_git::editable_checkout;
use crate::error::{Error, Result};
use crate::hashes::check_hashes;
use crate::request::{fragment_value, without_fragment, DirectRequest};

/// A direct requirement after looking at it: what it is and how to get its wheel.
#[derive(Debug)]
pub struct DirectDist {
    pub name: PackageName,
    pub version: Version,
    pub metadata: Arc<CoreMetadata>,
    pub direct_url: DirectUrl,
    pub request: DirectRequest,
    source: DirectSource,
    url: Url,
}

enum DirectSource {
    /// A wheel, unpacked into the cache.
    Wheel(rvenv_install::ValidatedWheel),
    Build(Arc<Buildable>),
    Editable(Arc<Buildable>),
}

impl std::fmt::Debug for DirectSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectSource::Wheel(wheel) => write!(f, "Wheel({})", wheel.root().display()),
            DirectSource::Build(build) => write!(f, "Build({})", build.path.display()),
            DirectSource::Editable(build) => write!(f, "Editable({})", build.path.display()),
        }
    }
}

impl DirectDist {
    /// The one candidate the resolver gets for this package.
    pub fn candidate(&self) -> Candidate {
        let kind = match self.source {
            DirectSource::Wheel(_) => FileKind::Wheel,
            _ => FileKind::Sdist,
        };
        Candidate {
            name: self.name.clone(),
            version: self.version.clone(),
            file: DistFile {
                filename: self.request.given.clone(),
                kind,
                url: self.url.clone(),
                hashes: Vec::new(),
                size: None,
                requires_python: None,
                yanked: None,
                has_metadata_file: false,
                metadata_hashes: Vec::new(),
            },
        }
    }

    pub fn is_editable(&self) -> bool {
        self.request.editable
    }
}

impl Builds {
    /// Looks at a direct requirement: downloads or reads the archive, fetches the repository,
    /// and reads the metadata (building it when it is not static).
    pub async fn prepare_direct(&self, request: &DirectRequest) -> Result<DirectDist> {
        let unsupported = |reason: &str| Error::Unsupported {
            given: request.given.clone(),
            reason: reason.to_string(),
        };
        let (source, url, direct_url) = match &request.location {
            Location::Path(path) if path.is_dir() => {
                let dir = request.project_dir(path);
                let url =
                    Url::from_file_path(&dir).map_err(|()| unsupported("not an absolute path"))?;
                let buildable = Arc::new(Buildable::new(dir.clone(), None));
                let source = if request.editable {
                    DirectSource::Editable(buildable)
                } else {
                    DirectSource::Build(buildable)
                };
                (source, url, DirectUrl::dir(&dir, request.editable))
            }
            _ if request.editable && !matches!(request.location, Location::Vcs(_)) => {
                return Err(unsupported(
                    "only a project directory can be installed as editable",
                ))
            }
            Location::Path(path) => {
                if !path.is_file() {
                    return Err(unsupported("no such file or directory"));
                }
                let url =
                    Url::from_file_path(path).map_err(|()| unsupported("not an absolute path"))?;
                return self.prepare_archive(request, url).await;
            }
            Location::Url(url) => return self.prepare_archive(request, url.clone()).await,
            Location::Vcs(vcs) if request.editable => {
                return self.prepare_editable_git(request, vcs).await;
            }
            Location::Vcs(vcs) => {
                let (vcs, subdirectory) = (vcs.clone(), request.subdirectory.clone());
                let cache_root = self.cache().root().to_path_buf();
                let checkout = tokio::task::spawn_blocking(move || {
                    rvenv_build::fetch_git(&vcs, subdirectory.as_deref(), &cache_root)
                })
                .await??;
                let key = match &request.subdirectory {
                    None => format!("git-{}", checkout.commit),
                    Some(sub) => format!("git-{}-{}", checkout.commit, short_hash(sub)),
                };
                let buildable = Arc::new(Buildable::new(checkout.source_dir.clone(), Some(key)));
                let Location::Vcs(vcs) = &request.location else {
                    unreachable!("matched above")
                };
                let direct_url = DirectUrl::git(
                    &vcs.url,
                    &checkout.commit,
                    checkout.requested_revision.clone(),
                    request.subdirectory.clone(),
                );
                (DirectSource::Build(buildable), vcs.url.clone(), direct_url)
            }
        };
        let buildable = match &source {
            DirectSource::Build(buildable) | DirectSource::Editable(buildable) => buildable,
            DirectSource::Wheel(_) => unreachable!("wheels return above"),
        };
        let metadata = self.metadata(buildable).await?;
        finish(request, metadata, direct_url, source, url)
    }

    /// `-e git+URL#egg=name`: fetched into the cache, checked out into the editable source
    /// directory, and installed editable from there (as pip does; the recorded source is that
    /// directory).
    async fn prepare_editable_git(
        &self,
        request: &DirectRequest,
        vcs: &rvenv_requirements::VcsUrl,
    ) -> Result<DirectDist> {
        let unsupported = |reason: &str| Error::Unsupported {
            given: request.given.clone(),
            reason: reason.to_string(),
        };
        let src = self.config().editable_src.clone().ok_or_else(|| {
            unsupported("an editable install from git needs a directory to check it out in")
        })?;
        let name = request
            .name
            .clone()
            .ok_or_else(|| unsupported("name the project with #egg=NAME"))?;
        let dest = src.join(name.as_ref());
        let (vcs, cache_root) = (vcs.clone(), self.cache().root().to_path_buf());
        let checkout_dest = dest.clone();
        tokio::task::spawn_blocking(move || {
            let checkout = rvenv_build::fetch_git(&vcs, None, &cache_root)?;
            editable_checkout(
                &checkout.checkout,
                &checkout.commit,
                &checkout.url,
                &checkout_dest,
            )
        })
        .await??;
        let dir = request.project_dir(&dest);
        let url = Url::from_file_path(&dir).map_err(|()| unsupported("not an absolute path"))?;
        let buildable = Arc::new(Buildable::new(dir.clone(), None));
        let metadata = self.metadata(&buildable).await?;
        finish(
            request,
            metadata,
            DirectUrl::dir(&dir, true),
            DirectSource::Editable(buildable),
            url,
        )
    }

    /// A wheel or sdist file, local or remote.
    async fn prepare_archive(&self, request: &DirectRequest, url: Url) -> Result<DirectDist> {
        if request.subdirectory.is_some() {
            return Err(Error::Unsupported {
                given: request.given.clone(),
                reason: "#subdirectory= is supported for directories and git only".to_string(),
            });
        }
        let download_url = without_fragment(&url);
        let filename = download_url
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .map(percent_decode)
            .unwrap_or_default();
        let mut hashes = Vec::new();
        if let Some(digest) = fragment_value(&url, "sha256") {
            hashes.push(rvenv_resolve::Hash {
                algorithm: "sha256".to_string(),
                digest: digest.to_ascii_lowercase(),
            });
        }
        let is_wheel = filename.ends_with(".whl");
        let file = DistFile {
            filename: filename.clone(),
            kind: if is_wheel {
                FileKind::Wheel
            } else {
                FileKind::Sdist
            },
            url: download_url.clone(),
            hashes,
            size: None,
            requires_python: None,
            yanked: None,
            has_metadata_file: false,
            metadata_hashes: Vec::new(),
        };
        if is_wheel {
            return self.prepare_wheel(request, file).await;
        }
        if rvenv_build::ArchiveFormat::from_path(Path::new(&filename)).is_none() {
            return Err(Error::Unsupported {
                given: request.given.clone(),
                reason: "not a wheel (.whl) or a source distribution (.tar.gz, .zip)".to_string(),
            });
        }
        let allowed = (!request.hashes.is_empty()).then_some(request.hashes.as_slice());
        let buildable = self.sdist(&file, allowed).await?;
        let sha256 = buildable.cache_key.clone();
        let metadata = self.metadata(&buildable).await?;
        let direct_url = DirectUrl::archive(&download_url, sha256, None);
        finish(
            request,
            metadata,
            direct_url,
            DirectSource::Build(buildable),
            download_url,
        )
    }

    async fn prepare_wheel(&self, request: &DirectRequest, file: DistFile) -> Result<DirectDist> {
        let parsed = WheelFilename::parse(&file.filename).map_err(|err| Error::Unsupported {
            given: request.given.clone(),
            reason: err.to_string(),
        })?;
        let tags = rvenv_resolve::Tags::from_interpreter(&self.config().interpreter);
        if !parsed
            .tags()
            .any(|(py, abi, plat)| tags.priority(py, abi, plat).is_some())
        {
            return Err(Error::Unsupported {
                given: request.given.clone(),
                reason: format!(
                    "{} is not a supported wheel for this Python and platform",
                    file.filename
                ),
            });
        }
        // A local wheel is read in place; a remote one is downloaded first.
        let (scratch, archive, sha256) = if file.url.scheme() == "file" {
            let path = file.url.to_file_path().map_err(|()| Error::Unsupported {
                given: request.given.clone(),
                reason: "not a local path".to_string(),
            })?;
            let sha256 = self.file_sha256(&path).await?;
            (None, path, sha256)
        } else {
            let (staging, path, sha256) = self.download(&file).await?;
            (Some(staging), path, sha256)
        };
        if !request.hashes.is_empty() {
            check_hashes(&file.filename, &request.hashes, &sha256)?;
        }
        let (name, version) = (parsed.name.to_string(), parsed.version.to_string());
        let stem = file.filename.trim_end_matches(".whl");
        let entry = self
            .cache()
            .entry(Bucket::Wheels, &format!("{name}/{stem}-{}", &sha256[..16]));
        let builds = self.clone();
        let filename = file.filename.clone();
        let wheel = tokio::task::spawn_blocking(move || {
            if !entry.is_dir() {
                let staged = builds.cache().staging_dir()?;
                rvenv_install::unpack_and_validate(&archive, staged.path(), &name, &version)
                    .map_err(|source| Error::InvalidWheel {
                        file: filename.clone(),
                        source,
                    })?;
                builds.cache().publish(staged, &entry)?;
            }
            drop(scratch);
            let wheel = open_entry(&entry, &name, &version)?;
            let metadata = read_unpacked_metadata(&entry)?;
            Ok::<_, Error>((wheel, metadata))
        })
        .await??;
        let (wheel, metadata) = wheel;
        let direct_url = DirectUrl::archive(&file.url, Some(sha256), None);
        finish(
            request,
            metadata,
            direct_url,
            DirectSource::Wheel(wheel),
            file.url,
        )
    }

    /// The wheel of a prepared direct requirement, with its `direct_url.json`.
    pub async fn direct_wheel(&self, dist: &DirectDist) -> Result<PreparedWheel> {
        let (name, version) = (dist.name.to_string(), dist.version.to_string());
        let mut prepared = match &dist.source {
            DirectSource::Wheel(wheel) => PreparedWheel {
                wheel: wheel.clone(),
                built: false,
                direct_url: None,
                _scratch: None,
            },
            DirectSource::Build(buildable) => self.wheel(buildable, &name, &version).await?,
            DirectSource::Editable(buildable) => self.editable(buildable, &name, &version).await?,
        };
        prepared.direct_url = Some(dist.direct_url.clone());
        Ok(prepared)
    }
}

fn finish(
    request: &DirectRequest,
    metadata: CoreMetadata,
    direct_url: DirectUrl,
    source: DirectSource,
    url: Url,
) -> Result<DirectDist> {
    if let Some(expected) = &request.name {
        if expected != &metadata.name {
            return Err(Error::NameMismatch {
                given: request.given.clone(),
                expected: expected.to_string(),
                found: metadata.name.to_string(),
                found_version: metadata.version.to_string(),
            });
        }
    }
    Ok(DirectDist {
        name: metadata.name.clone(),
        version: metadata.version.clone(),
        metadata: Arc::new(metadata),
        direct_url,
        request: request.clone(),
        source,
        url,
    })
}

fn short_hash(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())[..6]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `%2B` and friends in a URL's last segment, as file names on disk have them.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_in_file_names_are_decoded() {
        assert_eq!(
            percent_decode("app-1.0%2Blocal.tar.gz"),
            "app-1.0+local.tar.gz"
        );
        assert_eq!(percent_decode("odd%2"), "odd%2");
        assert_eq!(percent_decode("plain.whl"), "plain.whl");
    }
}
