//! A requirement naming its distribution directly, as written, and whether what is installed
//! already came from it (the no-network fast path).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::PackageName;
use rvenv_install::InstalledDist;
use rvenv_requirements::{Location, UnnamedRequirement, VcsUrl};
use url::Url;

use crate::direct_url::{DirectInfo, DirectUrl};
use crate::error::{Error, Result};
use crate::hashes::sha256_file;

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
                let sha256 = sha256_file(path).ok()?;
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
                            DirectInfo::Archive {
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

    pub(crate) fn project_dir(&self, path: &Path) -> PathBuf {
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

/// `key=value` from a URL fragment such as `#sha256=...&subdirectory=sub`.
pub(crate) fn fragment_value(url: &Url, key: &str) -> Option<String> {
    url.fragment()?.split('&').find_map(|pair| {
        let (found, value) = pair.split_once('=')?;
        (found == key && !value.is_empty()).then(|| value.to_string())
    })
}

pub(crate) fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

fn is_full_commit(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
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
            Some(sha256_file(&archive).unwrap()),
            None,
        ))];
        assert!(request.installed_match(&installed).is_some());
        fs_err::write(&archive, b"two").unwrap();
        assert!(request.installed_match(&installed).is_none());
    }
}
