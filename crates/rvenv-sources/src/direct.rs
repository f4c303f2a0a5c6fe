//! Requirements that name their distribution directly: a wheel or sdist file or URL, a project
//! directory, a git repository, an editable project. Each is looked at before resolving (name,
//! version and metadata), so the resolver sees it as a package with exactly one candidate.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;
use rvenv_cache::Bucket;
use rvenv_install::InstalledDist;
use rvenv_requirements::{Location, UnnamedRequirement, VcsUrl};
use rvenv_resolve::{Candidate, CoreMetadata, DistFile, FileKind, WheelFilename};
use url::Url;

use crate::builds::{open_entry, read_unpacked_metadata, Buildable, Builds, PreparedWheel};
use crate::direct_url::DirectUrl;
use crate::error::{Error, Result};
use crate::hashes::{check_hashes, sha256_of};

/// A requirement naming a file, URL, directory or repository instead of index versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectRequest {
    pub location: Location,
    /// From `name @ url`, `#egg=` or a wheel's file name; else known after reading metadata.
    pub name: Option<PackageName>,
    /// `#subdirectory=`: where the project sits in the repository or directory.
    pub subdirectory: Option<String>,
    /// `-e`: a PEP 660 editable install of a project directory.
    pub editable: bool,
    /// `--hash` values: the archive must match one.
    pub hashes: Vec<rvenv_requirements::Hash>,
    /// The URL or path as written, for messages.
    pub given: String,
}

impl DirectRequest {
    /// A bare URL or path (`./dist/app.whl`, `git+https://...#egg=app`), or with `editable` the
    /// value of `-e`.
    pub fn from_unnamed(
        requirement: &UnnamedRequirement,
        editable: bool,
        hashes: Vec<rvenv_requirements::Hash>,
    ) -> DirectRequest {
        DirectRequest {
            location: requirement.location.clone(),
            name: requirement.name.clone(),
            subdirectory: requirement.subdirectory.clone(),
            editable,
            hashes,
            given: requirement.given.clone(),
        }
    }

    /// `name @ url` (PEP 508): `url` may be `https:`, `file:` or `git+...`.
    pub fn from_url(
        name: &PackageName,
        url: &Url,
        hashes: Vec<rvenv_requirements::Hash>,
    ) -> Result<DirectRequest> {
        let text = url.as_str();
        let subdirectory = fragment_value(url, "subdirectory");
        let location = if let Some(vcs) = VcsUrl::parse(text) {
            Location::Vcs(vcs.map_err(|reason| Error::Unsupported {
                given: text.to_string(),
                reason,
            })?)
        } else if url.scheme() == "file" {
            let path = url.to_file_path().map_err(|()| Error::Unsupported {
                given: text.to_string(),
                reason: "not a local path".to_string(),
            })?;
            Location::Path(path)
        } else {
            Location::Url(url.clone())
        };
        Ok(DirectRequest {
            location,
            name: Some(name.clone()),
            subdirectory,
            editable: false,
            hashes,
            given: format!("{name} @ {}", rvenv_index::redact_url(url)),
        })
    }

    /// The installed distribution that already is what this request asks for, found without
    /// network: the same editable directory, the same archive (by hash when one is known), the
    /// same commit when the request names a full commit. A plain directory never matches.
    pub fn installed_match<'a>(&self, installed: &'a [InstalledDist]) -> Option<&'a InstalledDist> {
        let wanted = match &self.location {
            Location::Path(path) if path.is_dir() => {
                if !self.editable {
                    return None;
                }
                DirectUrl::dir(&self.project_dir(path), true)
            }
            Location::Path(path) => {
                let sha256 = sha256_of(path).ok()?;
                let url = Url::from_file_path(path).ok()?;
                DirectUrl::archive(&url, Some(sha256), None)
            }
            Location::Url(url) => {
                let sha256 = self.known_sha256(url);
                return installed.iter().find(|dist| {
                    let Some(found) = dist.direct_url.as_deref().and_then(DirectUrl::parse) else {
                        return false;
                    };
                    let same_url =
                        found.url == DirectUrl::archive(&without_fragment(url), None, None).url;
                    let same_hash = match (&sha256, &found.info) {
                        (None, _) => true,
                        (
                            Some(ours),
                            crate::DirectInfo::Archive {
                                sha256: Some(theirs),
                            },
                        ) => ours.eq_ignore_ascii_case(theirs),
                        _ => false,
                    };
                    same_url && same_hash && !found.is_editable()
                });
            }
            Location::Vcs(vcs) => {
                let commit = vcs.rev.as_deref().filter(|rev| is_full_commit(rev))?;
                DirectUrl::git(&vcs.url, commit, None, self.subdirectory.clone())
            }
        };
        installed.iter().find(|dist| {
            dist.direct_url
                .as_deref()
                .and_then(DirectUrl::parse)
                .is_some_and(|found| wanted.same_source(&found))
        })
    }

    fn project_dir(&self, path: &Path) -> PathBuf {
        match &self.subdirectory {
            Some(sub) => path.join(sub),
            None => path.to_path_buf(),
        }
    }

    /// The sha256 the archive must have: from `#sha256=` or a single sha256 `--hash`.
    fn known_sha256(&self, url: &Url) -> Option<String> {
        fragment_value(url, "sha256").or_else(|| match self.hashes.as_slice() {
            [hash] if hash.algorithm == "sha256" => Some(hash.digest.clone()),
            _ => None,
        })
    }
}

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
            Location::Vcs(vcs) => {
                if request.editable {
                    return Err(unsupported(
                        "editable installs from git are not supported yet; hint: clone the \
                         repository and install it with `-e ./path`",
                    ));
                }
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

/// `key=value` from a URL fragment such as `#sha256=...&subdirectory=sub`.
fn fragment_value(url: &Url, key: &str) -> Option<String> {
    url.fragment()?.split('&').find_map(|pair| {
        let (found, value) = pair.split_once('=')?;
        (found == key && !value.is_empty()).then(|| value.to_string())
    })
}

fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

fn is_full_commit(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
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

impl FromStr for DirectRequest {
    type Err = Error;

    /// A direct requirement as written on a command line (for tests and tools).
    fn from_str(text: &str) -> Result<Self> {
        let cwd = std::env::current_dir()?;
        match rvenv_requirements::parse_cli_requirement(text, &cwd).map_err(|err| {
            Error::Unsupported {
                given: text.to_string(),
                reason: err.to_string(),
            }
        })? {
            rvenv_requirements::RequirementSource::Unnamed(unnamed) => {
                Ok(DirectRequest::from_unnamed(&unnamed, false, Vec::new()))
            }
            rvenv_requirements::RequirementSource::Named(requirement) => {
                match &requirement.version_or_url {
                    Some(pep508_rs::VersionOrUrl::Url(url)) => {
                        DirectRequest::from_url(&requirement.name, url, Vec::new())
                    }
                    _ => Err(Error::Unsupported {
                        given: text.to_string(),
                        reason: "not a URL or path requirement".to_string(),
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_requirements_become_locations() {
        let name = PackageName::from_str("app").unwrap();
        let git = Url::parse("git+https://host/repo.git@v1#subdirectory=pkg").unwrap();
        let request = DirectRequest::from_url(&name, &git, Vec::new()).unwrap();
        let Location::Vcs(vcs) = &request.location else {
            panic!("{request:?}")
        };
        assert_eq!(vcs.url.as_str(), "https://host/repo.git");
        assert_eq!(vcs.rev.as_deref(), Some("v1"));
        assert_eq!(request.subdirectory.as_deref(), Some("pkg"));

        let file = Url::parse("file:///w/app-1.0.tar.gz").unwrap();
        let request = DirectRequest::from_url(&name, &file, Vec::new()).unwrap();
        assert_eq!(request.location, Location::Path("/w/app-1.0.tar.gz".into()));

        let https = Url::parse("https://u:p@h/app-1.0-py3-none-any.whl#sha256=AB").unwrap();
        let request = DirectRequest::from_url(&name, &https, Vec::new()).unwrap();
        assert!(matches!(request.location, Location::Url(_)));
        assert!(!request.given.contains(":p@"), "{}", request.given);
        assert_eq!(fragment_value(&https, "sha256").as_deref(), Some("AB"));
    }

    #[test]
    fn percent_escapes_in_file_names_are_decoded() {
        assert_eq!(
            percent_decode("app-1.0%2Blocal.tar.gz"),
            "app-1.0+local.tar.gz"
        );
        assert_eq!(percent_decode("odd%2"), "odd%2");
        assert_eq!(percent_decode("plain.whl"), "plain.whl");
    }

    fn installed_with(direct_url: &DirectUrl) -> InstalledDist {
        InstalledDist {
            name: "app".into(),
            version: "1.0".into(),
            direct_url: Some(direct_url.to_json().to_string()),
            ..InstalledDist::default()
        }
    }

    #[test]
    fn installed_editables_match_only_editable_requests_of_the_same_directory() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("app");
        fs_err::create_dir_all(&project).unwrap();
        let request = |editable| DirectRequest {
            location: Location::Path(project.clone()),
            name: None,
            subdirectory: None,
            editable,
            hashes: Vec::new(),
            given: ".".into(),
        };
        let editable = [installed_with(&DirectUrl::dir(&project, true))];
        let plain = [installed_with(&DirectUrl::dir(&project, false))];
        assert!(request(true).installed_match(&editable).is_some());
        assert!(request(true).installed_match(&plain).is_none());
        assert!(request(false).installed_match(&plain).is_none());
        assert!(request(false).installed_match(&editable).is_none());
    }

    #[test]
    fn installed_archives_match_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("app-1.0.tar.gz");
        fs_err::write(&archive, b"one").unwrap();
        let request = DirectRequest {
            location: Location::Path(archive.clone()),
            name: None,
            subdirectory: None,
            editable: false,
            hashes: Vec::new(),
            given: "app-1.0.tar.gz".into(),
        };
        let url = Url::from_file_path(&archive).unwrap();
        let installed = [installed_with(&DirectUrl::archive(
            &url,
            Some(sha256_of(&archive).unwrap()),
            None,
        ))];
        assert!(request.installed_match(&installed).is_some());
        fs_err::write(&archive, b"two").unwrap();
        assert!(request.installed_match(&installed).is_none());
    }
}
