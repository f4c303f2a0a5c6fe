//! `--hash=sha256:...` values and pip's hash-checking mode.

use std::fmt;

use pep508_rs::pep440_rs::Operator;
use pep508_rs::VersionOrUrl;

use crate::error::HashOffender;
use crate::requirement::{Location, RequirementSource};
use crate::{Entry, Error, RequirementsTxt};

/// A hash a downloaded file must match.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash {
    /// `sha256`, `sha384` or `sha512` (the ones pip allows).
    pub algorithm: String,
    /// Lower-case hex digest.
    pub digest: String,
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.digest)
    }
}

impl Hash {
    /// Parse the value of `--hash`: `algorithm:hexdigest`.
    pub fn parse(value: &str) -> Result<Hash, String> {
        let Some((algorithm, digest)) = value.split_once(':') else {
            return Err(format!(
                "--hash={value} has no algorithm; write it as --hash=sha256:<64 hex digits>"
            ));
        };
        let algorithm = algorithm.to_ascii_lowercase();
        let hex_len = match algorithm.as_str() {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => {
                return Err(format!(
                    "hash algorithm `{algorithm}` is not allowed; use sha256, sha384 or sha512"
                ))
            }
        };
        if digest.len() != hex_len || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "a {algorithm} digest is {hex_len} hex digits, but `{digest}` is not"
            ));
        }
        Ok(Hash {
            algorithm,
            digest: digest.to_ascii_lowercase(),
        })
    }
}

/// Why hash-checking mode is on, if it is.
fn hash_mode_reason(requirements: &RequirementsTxt, flag: bool) -> Option<String> {
    if flag {
        return Some("--require-hashes was given".to_owned());
    }
    if let Some(origin) = &requirements.require_hashes {
        return Some(format!("{origin} says --require-hashes"));
    }
    requirements
        .requirements
        .iter()
        .chain(&requirements.constraints)
        .find(|entry| !entry.hashes.is_empty())
        .map(|entry| format!("{} has --hash", entry.origin))
}

/// pip's rule: in hash-checking mode every requirement is pinned (`==`/`===` to one version, or
/// a URL) and carries at least one hash; editables, directories and VCS URLs cannot be hashed.
pub(crate) fn check_hash_mode(requirements: &RequirementsTxt, flag: bool) -> Result<(), Error> {
    let Some(reason) = hash_mode_reason(requirements, flag) else {
        return Ok(());
    };
    let mut offenders = Vec::new();
    for entry in &requirements.requirements {
        let mut problems = Vec::new();
        if let Some(problem) = unhashable(entry) {
            problems.push(problem);
        } else {
            if let Some(problem) = not_pinned(&entry.requirement) {
                problems.push(problem);
            }
            if entry.hashes.is_empty() {
                problems.push("has no --hash".to_owned());
            }
        }
        if !problems.is_empty() {
            offenders.push(HashOffender {
                origin: entry.origin.clone(),
                requirement: display_requirement(&entry.requirement),
                problem: problems.join(" and "),
            });
        }
    }
    for editable in &requirements.editables {
        offenders.push(HashOffender {
            origin: editable.origin.clone(),
            requirement: format!("-e {}", editable.requirement.given),
            problem: "is editable, and an editable has no single file to hash".to_owned(),
        });
    }
    if offenders.is_empty() {
        Ok(())
    } else {
        Err(Error::HashChecking { reason, offenders })
    }
}

fn display_requirement(source: &RequirementSource) -> String {
    match source {
        RequirementSource::Named(requirement) => requirement.to_string(),
        RequirementSource::Unnamed(unnamed) => unnamed.given.clone(),
    }
}

fn unhashable(entry: &Entry) -> Option<String> {
    match &entry.requirement {
        RequirementSource::Unnamed(unnamed) => match &unnamed.location {
            Location::Path(path) if path.is_dir() => {
                Some("is a directory, and a directory cannot be hashed".to_owned())
            }
            Location::Vcs(_) => Some("is a VCS URL, and a repository cannot be hashed".to_owned()),
            _ => None,
        },
        RequirementSource::Named(requirement) => match &requirement.version_or_url {
            Some(VersionOrUrl::Url(url)) => {
                let is_dir =
                    url.scheme() == "file" && url.to_file_path().is_ok_and(|path| path.is_dir());
                let is_vcs = url.scheme().contains('+');
                if is_dir {
                    Some("is a directory, and a directory cannot be hashed".to_owned())
                } else if is_vcs {
                    Some("is a VCS URL, and a repository cannot be hashed".to_owned())
                } else {
                    None
                }
            }
            _ => None,
        },
    }
}

fn not_pinned(source: &RequirementSource) -> Option<String> {
    let RequirementSource::Named(requirement) = source else {
        return None; // A URL or file names one artifact.
    };
    match &requirement.version_or_url {
        Some(VersionOrUrl::Url(_)) => None,
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
            match specifiers.iter().collect::<Vec<_>>().as_slice() {
                [single] if matches!(single.operator(), Operator::Equal | Operator::ExactEqual) => {
                    None
                }
                [single] if *single.operator() == Operator::EqualStar => Some(format!(
                    "is not pinned (`{single}` is a range of versions, not one)"
                )),
                _ => Some("is not pinned with `==`".to_owned()),
            }
        }
        None => Some("is not pinned with `==`".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_hashes() {
        let digest = "A".repeat(64);
        let hash = Hash::parse(&format!("sha256:{digest}")).unwrap();
        assert_eq!(hash.to_string(), format!("sha256:{}", "a".repeat(64)));
        assert!(Hash::parse(&format!("sha512:{}", "0".repeat(128))).is_ok());
        assert_eq!(
            Hash::parse("abc").unwrap_err(),
            "--hash=abc has no algorithm; write it as --hash=sha256:<64 hex digits>"
        );
        assert_eq!(
            Hash::parse("md5:abc").unwrap_err(),
            "hash algorithm `md5` is not allowed; use sha256, sha384 or sha512"
        );
        assert_eq!(
            Hash::parse("sha256:abc").unwrap_err(),
            "a sha256 digest is 64 hex digits, but `abc` is not"
        );
        assert!(Hash::parse(&format!("sha256:{}", "g".repeat(64))).is_err());
    }
}
