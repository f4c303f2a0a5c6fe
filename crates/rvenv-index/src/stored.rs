//! A project's candidates for one target, as kept in the cache (`candidates-v2/`): what
//! parsing a page and choosing files produced, stored under a key that names everything it
//! was computed from (the pages' contents, find-links files, target and options). A warm run
//! whose pages are unchanged reads this instead of parsing pages of megabytes again.
//!
//! On disk: one JSON document per project (the latest key only), written atomically.

use std::collections::HashMap;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName};
use rvenv_resolve::{
    Candidate, Candidates, DistFile, FileKind, Hash, Origin, RequiredBy, Resolution,
    ResolvedPackage,
};
use serde::{Deserialize, Serialize};
use url::Url;

/// Bump when the stored shape or the way candidates are chosen changes (v2: Requires-Python
/// read as pip reads it, so `>=3.7,` restricts instead of being ignored; `.tar.bz2` sdists).
pub(crate) const FORMAT: &str = "candidates-v2";

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredCandidates {
    key: String,
    versions: Vec<StoredCandidate>,
    unusable: Vec<(String, String)>,
}

#[derive(Serialize, Deserialize)]
struct StoredCandidate {
    version: String,
    filename: String,
    wheel: bool,
    url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requires_python: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    yanked: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    metadata_file: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    metadata_hashes: Vec<(String, String)>,
}

impl StoredCandidates {
    pub fn new(key: &str, candidates: &Candidates) -> StoredCandidates {
        StoredCandidates {
            key: key.to_string(),
            versions: candidates
                .versions
                .iter()
                .map(|candidate| StoredCandidate::new(&candidate.version, &candidate.file))
                .collect(),
            unusable: candidates
                .unusable
                .iter()
                .map(|(version, reason)| (version.to_string(), reason.clone()))
                .collect(),
        }
    }

    /// The candidates, when stored under `key`; `None` for another key or anything that does
    /// not parse back (an entry of another version of rvenv counts as missing).
    pub fn into_candidates(self, key: &str, name: &PackageName) -> Option<Candidates> {
        if self.key != key {
            return None;
        }
        // Most files of a project share a handful of Requires-Python values.
        let mut specifiers = HashMap::new();
        let mut versions = Vec::with_capacity(self.versions.len());
        for stored in self.versions {
            let (version, file) = stored.into_file(&mut specifiers)?;
            versions.push(Candidate {
                name: name.clone(),
                version,
                file,
            });
        }
        let mut unusable = Vec::with_capacity(self.unusable.len());
        for (version, reason) in self.unusable {
            unusable.push((Version::from_str(&version).ok()?, reason));
        }
        Some(Candidates { versions, unusable })
    }
}

impl StoredCandidate {
    /// The version and its file; `None` if something does not parse back. `specifiers`
    /// shares the Requires-Python values parsed so far.
    fn into_file(
        self,
        specifiers: &mut HashMap<String, VersionSpecifiers>,
    ) -> Option<(Version, DistFile)> {
        let version = Version::from_str(&self.version).ok()?;
        let requires_python = match self.requires_python {
            None => None,
            Some(text) => Some(match specifiers.get(&text) {
                Some(parsed) => parsed.clone(),
                None => {
                    let parsed = VersionSpecifiers::from_str(&text).ok()?;
                    specifiers.insert(text, parsed.clone());
                    parsed
                }
            }),
        };
        let file = DistFile {
            filename: self.filename,
            kind: if self.wheel {
                FileKind::Wheel
            } else {
                FileKind::Sdist
            },
            url: Url::parse(&self.url).ok()?,
            hashes: from_pairs(self.hashes),
            size: self.size,
            requires_python,
            yanked: self.yanked,
            has_metadata_file: self.metadata_file,
            metadata_hashes: from_pairs(self.metadata_hashes),
        };
        Some((version, file))
    }

    fn new(version: &Version, file: &DistFile) -> StoredCandidate {
        StoredCandidate {
            version: version.to_string(),
            filename: file.filename.clone(),
            wheel: file.kind == FileKind::Wheel,
            url: file.url.to_string(),
            hashes: to_pairs(&file.hashes),
            size: file.size,
            requires_python: file.requires_python.as_ref().map(ToString::to_string),
            yanked: file.yanked.clone(),
            metadata_file: file.has_metadata_file,
            metadata_hashes: to_pairs(&file.metadata_hashes),
        }
    }
}

/// A resolution as kept in the cache (`resolutions-v1/`), with the candidates key of every
/// project it consulted: it is reused only while each of them still has that key.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredResolution {
    /// Name and candidates key, for every project whose versions the resolution asked for.
    pub projects: Vec<(String, String)>,
    packages: Vec<StoredPackage>,
}

#[derive(Serialize, Deserialize)]
struct StoredPackage {
    name: String,
    requested: bool,
    extras: Vec<String>,
    required_by: Vec<StoredRequiredBy>,
    candidate: StoredCandidate,
}

#[derive(Serialize, Deserialize)]
enum StoredRequiredBy {
    User {
        requirement: String,
        origin: String,
    },
    Package {
        name: String,
        version: String,
        extra: Option<String>,
        requirement: String,
    },
}

impl StoredResolution {
    pub fn new(projects: Vec<(String, String)>, resolution: &Resolution) -> StoredResolution {
        let packages = resolution
            .packages
            .iter()
            .map(|package| StoredPackage {
                name: package.name.to_string(),
                requested: package.requested,
                extras: package.extras.iter().map(ToString::to_string).collect(),
                required_by: package
                    .required_by
                    .iter()
                    .map(|required_by| match required_by {
                        RequiredBy::User {
                            requirement,
                            origin,
                        } => StoredRequiredBy::User {
                            requirement: requirement.clone(),
                            origin: origin.0.clone(),
                        },
                        RequiredBy::Package {
                            name,
                            version,
                            extra,
                            requirement,
                        } => StoredRequiredBy::Package {
                            name: name.to_string(),
                            version: version.to_string(),
                            extra: extra.as_ref().map(ToString::to_string),
                            requirement: requirement.clone(),
                        },
                    })
                    .collect(),
                candidate: StoredCandidate::new(
                    &package.candidate.version,
                    &package.candidate.file,
                ),
            })
            .collect();
        StoredResolution { projects, packages }
    }

    /// The resolution; `None` if anything does not parse back.
    pub fn into_resolution(self) -> Option<Resolution> {
        let mut specifiers = HashMap::new();
        let mut packages = Vec::with_capacity(self.packages.len());
        for stored in self.packages {
            let name = PackageName::from_str(&stored.name).ok()?;
            let (version, file) = stored.candidate.into_file(&mut specifiers)?;
            let extras = stored
                .extras
                .iter()
                .map(|extra| ExtraName::from_str(extra).ok())
                .collect::<Option<Vec<_>>>()?;
            let mut required_by = Vec::with_capacity(stored.required_by.len());
            for reason in stored.required_by {
                required_by.push(match reason {
                    StoredRequiredBy::User {
                        requirement,
                        origin,
                    } => RequiredBy::User {
                        requirement,
                        origin: Origin(origin),
                    },
                    StoredRequiredBy::Package {
                        name,
                        version,
                        extra,
                        requirement,
                    } => RequiredBy::Package {
                        name: PackageName::from_str(&name).ok()?,
                        version: Version::from_str(&version).ok()?,
                        extra: match extra {
                            Some(extra) => Some(ExtraName::from_str(&extra).ok()?),
                            None => None,
                        },
                        requirement,
                    },
                });
            }
            packages.push(ResolvedPackage {
                name: name.clone(),
                version: version.clone(),
                candidate: Candidate {
                    name,
                    version,
                    file,
                },
                requested: stored.requested,
                extras,
                required_by,
            });
        }
        Some(Resolution { packages })
    }
}

fn to_pairs(hashes: &[Hash]) -> Vec<(String, String)> {
    hashes
        .iter()
        .map(|hash| (hash.algorithm.clone(), hash.digest.clone()))
        .collect()
}

fn from_pairs(pairs: Vec<(String, String)>) -> Vec<Hash> {
    pairs
        .into_iter()
        .map(|(algorithm, digest)| Hash { algorithm, digest })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates() -> Candidates {
        let name = PackageName::from_str("demo").unwrap();
        let file = |filename: &str, kind| DistFile {
            filename: filename.to_string(),
            kind,
            url: Url::parse(&format!("https://files.example.com/x/{filename}")).unwrap(),
            hashes: vec![Hash {
                algorithm: "sha256".into(),
                digest: "ab".repeat(32),
            }],
            size: Some(1234),
            requires_python: Some(VersionSpecifiers::from_str(">=3.8, !=3.9.*").unwrap()),
            yanked: None,
            has_metadata_file: true,
            metadata_hashes: vec![Hash {
                algorithm: "sha256".into(),
                digest: "cd".repeat(32),
            }],
        };
        let mut sdist = file("demo-1.0rc1.tar.gz", FileKind::Sdist);
        sdist.yanked = Some("broken".into());
        sdist.requires_python = None;
        sdist.size = None;
        sdist.hashes.clear();
        sdist.has_metadata_file = false;
        sdist.metadata_hashes.clear();
        Candidates {
            versions: vec![
                Candidate {
                    name: name.clone(),
                    version: Version::from_str("2.0.post1").unwrap(),
                    file: file("demo-2.0.post1-py3-none-any.whl", FileKind::Wheel),
                },
                Candidate {
                    name,
                    version: Version::from_str("1.0rc1").unwrap(),
                    file: sdist,
                },
            ],
            unusable: vec![(
                Version::from_str("0.9").unwrap(),
                "has no wheel for cp311".into(),
            )],
        }
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let name = PackageName::from_str("demo").unwrap();
        let original = candidates();
        let json = serde_json::to_vec(&StoredCandidates::new("k1", &original)).unwrap();
        let stored: StoredCandidates = serde_json::from_slice(&json).unwrap();
        let back = stored.into_candidates("k1", &name).unwrap();
        assert_eq!(back.versions, original.versions);
        assert_eq!(back.unusable, original.unusable);
    }

    #[test]
    fn another_key_or_a_bad_value_is_a_miss() {
        let name = PackageName::from_str("demo").unwrap();
        let stored = StoredCandidates::new("k1", &candidates());
        assert!(stored.into_candidates("k2", &name).is_none());

        let mut stored = StoredCandidates::new("k1", &candidates());
        stored.versions[0].url = "not a url".into();
        assert!(stored.into_candidates("k1", &name).is_none());
    }
}
