//! Git sources (`git+https://`, `git+ssh://`, `git+file://` with `@rev` and `#subdirectory=`),
//! fetched with the system git.
//!
//! Each repository has a bare database in the cache that fetches only what is asked for; each
//! resolved commit has a checkout (with its `.git`, which setuptools-scm and friends read for the
//! version), published once complete. A full commit hash that is already checked out needs no
//! network at all; a branch or tag costs one `git ls-remote`.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use fs_err as fs;
use rvenv_requirements::{VcsKind, VcsUrl};

use crate::error::{Error, Result};

/// A checked-out commit of a git repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCheckout {
    /// The URL git fetched from (without `git+`, `@rev` and the fragment).
    pub url: String,
    /// The revision the requirement asked for (`@rev`), if any: for direct_url.json's
    /// `requested_revision`.
    pub requested_revision: Option<String>,
    /// The full commit hash it resolved to: direct_url.json's `commit_id`.
    pub commit: String,
    /// The root of the checkout.
    pub checkout: PathBuf,
    /// The directory to build: the checkout, or its `subdirectory`.
    pub source_dir: PathBuf,
}

/// Fetches `vcs` at its revision into the cache under `cache_dir` and returns the checkout.
/// `subdirectory` is the URL's `#subdirectory=` fragment.
pub fn fetch_git(
    vcs: &VcsUrl,
    subdirectory: Option<&str>,
    cache_dir: &Path,
) -> Result<GitCheckout> {
    if vcs.kind != VcsKind::Git {
        return Err(Error::UnsupportedVcs {
            kind: format!("{:?}", vcs.kind).to_lowercase(),
            url: redact(vcs.url.as_str()),
        });
    }
    let url = vcs.url.as_str().to_string();
    let rev = vcs.rev.as_deref();
    let cache = rvenv_cache::Cache::open(cache_dir)?;
    let root = cache.root().join("git-v1");

    let listed_commit = match rev {
        Some(rev) if is_full_hash(rev) => Some(rev.to_ascii_lowercase()),
        _ => resolve_remote(&url, rev)?,
    };
    let checkout_of = |commit: &str| root.join("checkouts").join(commit);
    if let Some(commit) = &listed_commit {
        if checkout_of(commit).is_dir() {
            return finish(&url, rev, commit, checkout_of(commit), subdirectory);
        }
    }

    let db = root.join("db").join(rvenv_cache::safe_key(&url));
    let _lock = cache.lock(&format!("git-{}", rvenv_cache::safe_key(&url)))?;
    if !db.join("HEAD").is_file() {
        fs::create_dir_all(&db)?;
        git(
            &url,
            None,
            [
                OsStr::new("init"),
                OsStr::new("--bare"),
                OsStr::new("--quiet"),
                db.as_os_str(),
            ],
        )?;
    }
    let commit = match &listed_commit {
        Some(commit) => {
            if !has_commit(&db, commit) {
                fetch(&db, &url, &[commit.as_str()])?;
            }
            commit.clone()
        }
        // A short hash or a ref ls-remote does not list: fetch branches and tags, then look.
        None => {
            fetch(
                &db,
                &url,
                &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
            )?;
            let rev = rev.unwrap_or("HEAD");
            rev_parse(&db, &format!("{rev}^{{commit}}")).ok_or_else(|| {
                Error::GitRevisionNotFound {
                    url: redact(&url),
                    rev: rev.to_string(),
                }
            })?
        }
    };
    // Keep the commit reachable in the database so a local clone carries it.
    git(
        &url,
        Some(&db),
        ["update-ref", &format!("refs/rvenv/{commit}"), &commit],
    )?;

    let dest = checkout_of(&commit);
    if !dest.is_dir() {
        let staging = cache.staging_dir()?;
        let work = staging.path().to_path_buf();
        git(
            &url,
            None,
            [
                OsStr::new("clone"),
                OsStr::new("--quiet"),
                OsStr::new("--no-checkout"),
                db.as_os_str(),
                work.as_os_str(),
            ],
        )?;
        git(
            &url,
            Some(&work),
            ["checkout", "--quiet", "--detach", &commit],
        )?;
        // Submodule URLs may be relative to the real remote, not to our database.
        git(&url, Some(&work), ["remote", "set-url", "origin", &url])?;
        if work.join(".gitmodules").is_file() {
            git(
                &url,
                Some(&work),
                [
                    "-c",
                    "protocol.file.allow=always",
                    "submodule",
                    "update",
                    "--init",
                    "--recursive",
                    "--quiet",
                ],
            )?;
        }
        cache.publish(staging, &dest)?;
    }
    finish(&url, rev, &commit, dest, subdirectory)
}

/// The commit `rev` names on the remote (`HEAD` when `None`), by `git ls-remote`: a tag (peeled to
/// its commit), a branch, or a full ref name. `None` when the remote does not list it (a short
/// hash, say).
pub fn resolve_remote(url: &str, rev: Option<&str>) -> Result<Option<String>> {
    let output = git(url, None, ["ls-remote", url])?;
    let refs: Vec<(&str, &str)> = output
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .collect();
    let find = |name: &str| {
        refs.iter()
            .find(|(_, reference)| *reference == name)
            .map(|(hash, _)| hash.to_string())
    };
    let Some(rev) = rev else {
        return Ok(find("HEAD"));
    };
    Ok(find(&format!("refs/tags/{rev}^{{}}"))
        .or_else(|| find(&format!("refs/tags/{rev}")))
        .or_else(|| find(&format!("refs/heads/{rev}")))
        .or_else(|| find(rev)))
}

fn finish(
    url: &str,
    rev: Option<&str>,
    commit: &str,
    checkout: PathBuf,
    subdirectory: Option<&str>,
) -> Result<GitCheckout> {
    let source_dir = match subdirectory {
        None => checkout.clone(),
        Some(sub) => {
            let fail = |reason| Error::Subdirectory {
                subdirectory: sub.to_string(),
                root: checkout.clone(),
                reason,
            };
            if !Path::new(sub)
                .components()
                .all(|part| matches!(part, Component::Normal(_) | Component::CurDir))
            {
                return Err(fail("leaves the repository"));
            }
            let dir = checkout.join(sub);
            if !dir.is_dir() {
                return Err(fail("does not exist"));
            }
            dir
        }
    };
    Ok(GitCheckout {
        url: url.to_string(),
        requested_revision: rev.map(str::to_string),
        commit: commit.to_string(),
        checkout,
        source_dir,
    })
}

fn is_full_hash(rev: &str) -> bool {
    matches!(rev.len(), 40 | 64) && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

fn has_commit(db: &Path, commit: &str) -> bool {
    rev_parse(db, &format!("{commit}^{{commit}}")).is_some()
}

fn rev_parse(db: &Path, spec: &str) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(db)
        .args(["rev-parse", "--verify", "--quiet", spec])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let hash = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.success() && !hash.is_empty()).then_some(hash)
}

fn fetch(db: &Path, url: &str, refspecs: &[&str]) -> Result<()> {
    let mut args = vec!["fetch", "--quiet", "--force", "--no-tags", url];
    args.extend_from_slice(refspecs);
    git(url, Some(db), args)?;
    Ok(())
}

/// Runs git (in `dir`, if given) without prompts; its stdout, or an error with its stderr.
fn git<I, S>(url: &str, dir: Option<&Path>, args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args
        .into_iter()
        .map(|arg| arg.as_ref().to_os_string())
        .collect();
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    command
        .args(&args)
        .stdin(Stdio::null())
        // Never ask for a password or a host key: fail instead, with git's message.
        .env("GIT_TERMINAL_PROMPT", "0");
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    let redacted = redact(url);
    let shown = format!(
        "git {}",
        args.iter()
            .map(|arg| arg.to_string_lossy().replace(url, &redacted))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let output = command.output().map_err(|source| Error::GitMissing {
        command: shown.clone(),
        source,
    })?;
    if !output.status.success() {
        return Err(Error::Git {
            url: redacted.clone(),
            command: shown,
            stderr: String::from_utf8_lossy(&output.stderr)
                .trim()
                .replace(url, &redacted),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}
