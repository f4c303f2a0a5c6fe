//! `-e git+URL#egg=name`: the project is checked out where it can be edited (pip's
//! `<venv>/src/<name>`), not in the cache, and installed editable from there.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};

/// Puts `commit` at `dest`: a clone of the cache's checkout `source` on first use, else the
/// existing clone moved to `commit` (uncommitted edits there make git refuse, as they should).
/// `origin` then points at `url`, the repository's real location.
pub(crate) fn editable_checkout(source: &Path, commit: &str, url: &str, dest: &Path) -> Result<()> {
    if dest.join(".git").exists() {
        git(
            Some(dest),
            [
                OsStr::new("fetch"),
                OsStr::new("--quiet"),
                source.as_os_str(),
                OsStr::new(commit),
            ],
        )?;
    } else {
        if let Some(parent) = dest.parent() {
            fs_err::create_dir_all(parent)?;
        }
        git(
            None,
            [
                OsStr::new("clone"),
                OsStr::new("--quiet"),
                OsStr::new("--no-checkout"),
                source.as_os_str(),
                dest.as_os_str(),
            ],
        )?;
    }
    git(
        Some(dest),
        ["checkout", "--quiet", "--detach", commit].map(OsStr::new),
    )?;
    git(
        Some(dest),
        ["remote", "set-url", "origin", url].map(OsStr::new),
    )?;
    Ok(())
}

fn git<'a>(dir: Option<&Path>, args: impl IntoIterator<Item = &'a OsStr>) -> Result<()> {
    let args: Vec<&OsStr> = args.into_iter().collect();
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let shown = args
        .iter()
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let output = command
        .args(&args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|err| Error::EditableCheckout {
            command: format!("git {shown}"),
            message: err.to_string(),
        })?;
    if !output.status.success() {
        return Err(Error::EditableCheckout {
            command: format!("git {shown}"),
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn clones_once_then_moves_the_clone_to_another_commit() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        fs_err::create_dir_all(&repo).unwrap();
        run(&repo, &["init", "--quiet"]);
        fs_err::write(repo.join("f"), "one").unwrap();
        run(&repo, &["add", "f"]);
        run(&repo, &["commit", "--quiet", "-m", "one"]);
        let first = run(&repo, &["rev-parse", "HEAD"]);
        fs_err::write(repo.join("f"), "two").unwrap();
        run(&repo, &["commit", "--quiet", "-am", "two"]);
        let second = run(&repo, &["rev-parse", "HEAD"]);

        let dest = dir.path().join("src/app");
        editable_checkout(&repo, &first, "https://host/app.git", &dest).unwrap();
        assert_eq!(fs_err::read_to_string(dest.join("f")).unwrap(), "one");
        assert_eq!(
            run(&dest, &["remote", "get-url", "origin"]),
            "https://host/app.git"
        );
        editable_checkout(&repo, &second, "https://host/app.git", &dest).unwrap();
        assert_eq!(fs_err::read_to_string(dest.join("f")).unwrap(), "two");
        assert_eq!(run(&dest, &["rev-parse", "HEAD"]), second);
    }
}
