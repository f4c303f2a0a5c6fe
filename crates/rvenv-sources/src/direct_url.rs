//! PEP 610 `direct_url.json`: where a distribution installed from a URL or path came from.

use std::path::Path;

use serde_json::{json, Map, Value};
use url::Url;

/// The content of `direct_url.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectUrl {
    /// Credentials stripped (PEP 610), except the conventional `git@` of ssh URLs.
    pub url: String,
    /// `#subdirectory=`: where the project sits inside the archive or repository.
    pub subdirectory: Option<String>,
    pub info: DirectInfo,
}

/// What kind of source the URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectInfo {
    /// A wheel or sdist file; `sha256` of the archive when known.
    Archive { sha256: Option<String> },
    /// A local project directory.
    Dir { editable: bool },
    /// A version-control checkout.
    Vcs {
        vcs: String,
        commit_id: String,
        requested_revision: Option<String>,
    },
}

impl DirectUrl {
    pub fn archive(url: &Url, sha256: Option<String>, subdirectory: Option<String>) -> Self {
        DirectUrl {
            url: without_credentials(url),
            subdirectory,
            info: DirectInfo::Archive { sha256 },
        }
    }

    pub fn dir(path: &Path, editable: bool) -> Self {
        DirectUrl {
            url: file_url(path),
            subdirectory: None,
            info: DirectInfo::Dir { editable },
        }
    }

    pub fn git(
        url: &Url,
        commit_id: &str,
        requested_revision: Option<String>,
        subdirectory: Option<String>,
    ) -> Self {
        DirectUrl {
            url: without_credentials(url),
            subdirectory,
            info: DirectInfo::Vcs {
                vcs: "git".to_string(),
                commit_id: commit_id.to_string(),
                requested_revision,
            },
        }
    }

    pub fn is_editable(&self) -> bool {
        matches!(self.info, DirectInfo::Dir { editable: true })
    }

    /// The JSON object pip writes.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("url".into(), self.url.clone().into());
        if let Some(subdirectory) = &self.subdirectory {
            object.insert("subdirectory".into(), subdirectory.clone().into());
        }
        let (key, info) = match &self.info {
            DirectInfo::Archive { sha256 } => (
                "archive_info",
                match sha256 {
                    Some(digest) => json!({
                        "hash": format!("sha256={digest}"),
                        "hashes": { "sha256": digest },
                    }),
                    None => json!({}),
                },
            ),
            DirectInfo::Dir { editable } => (
                "dir_info",
                if *editable {
                    json!({ "editable": true })
                } else {
                    json!({})
                },
            ),
            DirectInfo::Vcs {
                vcs,
                commit_id,
                requested_revision,
            } => {
                let mut vcs_info = Map::new();
                vcs_info.insert("vcs".into(), vcs.clone().into());
                vcs_info.insert("commit_id".into(), commit_id.clone().into());
                if let Some(revision) = requested_revision {
                    vcs_info.insert("requested_revision".into(), revision.clone().into());
                }
                ("vcs_info", Value::Object(vcs_info))
            }
        };
        object.insert(key.into(), info);
        Value::Object(object)
    }

    /// Reads a `direct_url.json` text; `None` when it is not one (pip would not trust it either).
    pub fn parse(text: &str) -> Option<DirectUrl> {
        let value: Value = serde_json::from_str(text).ok()?;
        let url = value.get("url")?.as_str()?.to_string();
        let subdirectory = value
            .get("subdirectory")
            .and_then(Value::as_str)
            .map(str::to_string);
        let info = if let Some(archive) = value.get("archive_info") {
            let sha256 = archive
                .get("hashes")
                .and_then(|hashes| hashes.get("sha256"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    archive
                        .get("hash")
                        .and_then(Value::as_str)
                        .and_then(|hash| hash.strip_prefix("sha256="))
                        .map(str::to_string)
                });
            DirectInfo::Archive { sha256 }
        } else if let Some(dir) = value.get("dir_info") {
            DirectInfo::Dir {
                editable: dir.get("editable").and_then(Value::as_bool) == Some(true),
            }
        } else {
            let vcs = value.get("vcs_info")?;
            DirectInfo::Vcs {
                vcs: vcs.get("vcs")?.as_str()?.to_string(),
                commit_id: vcs.get("commit_id")?.as_str()?.to_string(),
                requested_revision: vcs
                    .get("requested_revision")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }
        };
        Some(DirectUrl {
            url,
            subdirectory,
            info,
        })
    }

    /// Whether an installed distribution described by `installed` came from the same source, so
    /// installing this one again would change nothing. A plain (non-editable) directory never
    /// counts: its files may have changed since.
    pub fn same_source(&self, installed: &DirectUrl) -> bool {
        if self.url != installed.url || self.subdirectory != installed.subdirectory {
            return false;
        }
        match (&self.info, &installed.info) {
            (DirectInfo::Archive { sha256: ours }, DirectInfo::Archive { sha256: theirs }) => {
                match (ours, theirs) {
                    (Some(ours), Some(theirs)) => ours.eq_ignore_ascii_case(theirs),
                    _ => false,
                }
            }
            (DirectInfo::Dir { editable: true }, DirectInfo::Dir { editable: true }) => true,
            (
                DirectInfo::Vcs {
                    commit_id: ours, ..
                },
                DirectInfo::Vcs {
                    commit_id: theirs, ..
                },
            ) => ours == theirs,
            _ => false,
        }
    }
}

/// `file:///abs/path` for a local path.
pub fn file_url(path: &Path) -> String {
    match Url::from_file_path(path) {
        Ok(url) => url.to_string(),
        Err(()) => format!("file://{}", path.display()),
    }
}

/// PEP 610: credentials must not be stored, except `git@` of ssh URLs (not a secret).
fn without_credentials(url: &Url) -> String {
    let keep_user = url.scheme() == "ssh" && url.username() == "git" && url.password().is_none();
    if keep_user {
        return url.to_string();
    }
    rvenv_index::strip_credentials(url).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_dir_and_vcs_render_as_pip_writes_them() {
        let url = Url::parse("https://user:secret@files.example/app-1.0.tar.gz").unwrap();
        let archive = DirectUrl::archive(&url, Some("ab12".into()), None);
        assert_eq!(
            archive.to_json(),
            json!({
                "url": "https://files.example/app-1.0.tar.gz",
                "archive_info": {"hash": "sha256=ab12", "hashes": {"sha256": "ab12"}},
            })
        );
        assert_eq!(
            DirectUrl::dir(Path::new("/src/app"), true).to_json(),
            json!({"url": "file:///src/app", "dir_info": {"editable": true}})
        );
        assert_eq!(
            DirectUrl::dir(Path::new("/src/app"), false).to_json(),
            json!({"url": "file:///src/app", "dir_info": {}})
        );
        let repo = Url::parse("ssh://git@host/repo.git").unwrap();
        let git = DirectUrl::git(&repo, "c0ffee", Some("v1".into()), Some("sub".into()));
        assert_eq!(
            git.to_json(),
            json!({
                "url": "ssh://git@host/repo.git",
                "subdirectory": "sub",
                "vcs_info": {"vcs": "git", "commit_id": "c0ffee", "requested_revision": "v1"},
            })
        );
    }

    #[test]
    fn parse_reads_back_what_to_json_wrote() {
        for direct in [
            DirectUrl::dir(Path::new("/a b/app"), true),
            DirectUrl::archive(
                &Url::parse("file:///w/app-1.0-py3-none-any.whl").unwrap(),
                Some("ff".into()),
                None,
            ),
            DirectUrl::git(
                &Url::parse("https://host/r.git").unwrap(),
                "abc",
                None,
                None,
            ),
        ] {
            let text = direct.to_json().to_string();
            assert_eq!(DirectUrl::parse(&text), Some(direct));
        }
        assert_eq!(DirectUrl::parse("{}"), None);
        assert_eq!(DirectUrl::parse("not json"), None);
    }

    #[test]
    fn same_source_needs_the_same_url_and_content_and_never_a_plain_directory() {
        let editable = DirectUrl::dir(Path::new("/src/app"), true);
        let plain = DirectUrl::dir(Path::new("/src/app"), false);
        assert!(editable.same_source(&editable));
        assert!(!plain.same_source(&plain), "a directory may have changed");
        assert!(!editable.same_source(&plain));
        assert!(!plain.same_source(&editable));
        assert!(!editable.same_source(&DirectUrl::dir(Path::new("/src/other"), true)));

        let url = Url::parse("https://h/app-1.0.tar.gz").unwrap();
        let one = DirectUrl::archive(&url, Some("aa".into()), None);
        assert!(one.same_source(&DirectUrl::archive(&url, Some("AA".into()), None)));
        assert!(!one.same_source(&DirectUrl::archive(&url, Some("bb".into()), None)));
        assert!(!one.same_source(&DirectUrl::archive(&url, None, None)));

        let repo = Url::parse("https://h/r.git").unwrap();
        let at = |commit: &str| DirectUrl::git(&repo, commit, Some("main".into()), None);
        assert!(at("1").same_source(&at("1")));
        assert!(!at("1").same_source(&at("2")));
    }
}
