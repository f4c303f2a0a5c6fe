//! git+file:// repositories made in the test: tags, branches, full hashes, subdirectories.

use std::path::Path;

use rvenv_build::{fetch_git, unpack_sdist, Error, SourceBuild};
use rvenv_requirements::VcsUrl;
use rvenv_testkit::SdistBuilder;

use crate::support::*;

/// A repository whose root is the testkit project `git-demo` (in-tree backend, builds offline)
/// and whose `sub/` holds a second project; tagged `v1.0` at version 1.0, then moved on to 2.0 on
/// `main`. Returns the repository and the tagged commit.
fn repository(dir: &Path) -> (std::path::PathBuf, String) {
    let repo = dir.join("repo");
    fs_err::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    let place = |builder: SdistBuilder, into: &Path| {
        let scratch = tempfile::tempdir().unwrap();
        let archive = builder.write_to(scratch.path());
        let root = unpack_sdist(&archive, &scratch.path().join("x")).unwrap();
        for entry in fs_err::read_dir(&root).unwrap() {
            let entry = entry.unwrap();
            let dest = into.join(entry.file_name());
            let _ = fs_err::remove_dir_all(&dest);
            fs_err::create_dir_all(into).unwrap();
            copy_tree(&entry.path(), &dest);
        }
    };
    place(SdistBuilder::new("git-demo", "1.0"), &repo);
    place(SdistBuilder::new("git-sub", "0.5"), &repo.join("sub"));
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "one"]);
    git(&repo, &["tag", "-a", "v1.0", "-m", "release 1.0"]);
    let tagged = git(&repo, &["rev-parse", "HEAD"]);
    place(SdistBuilder::new("git-demo", "2.0"), &repo);
    git(&repo, &["commit", "--quiet", "-am", "two"]);
    (repo, tagged)
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        fs_err::create_dir_all(to).unwrap();
        for entry in fs_err::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        fs_err::copy(from, to).unwrap();
    }
}

fn vcs(url: &str) -> VcsUrl {
    VcsUrl::parse(url).unwrap().unwrap()
}

fn version_in(dir: &Path) -> String {
    let text = fs_err::read_to_string(dir.join("PKG-INFO")).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("Version: "))
        .unwrap()
        .to_string()
}

#[test]
fn a_tag_a_branch_head_and_a_full_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, tagged) = repository(dir.path());
    let cache = dir.path().join("cache");
    let url = format!("git+file://{}", repo.display());

    let at_tag = fetch_git(&vcs(&format!("{url}@v1.0")), None, &cache).unwrap();
    assert_eq!(
        at_tag.commit, tagged,
        "an annotated tag resolves to its commit"
    );
    assert_eq!(at_tag.requested_revision.as_deref(), Some("v1.0"));
    assert_eq!(at_tag.url, format!("file://{}", repo.display()));
    assert_eq!(version_in(&at_tag.source_dir), "1.0");
    // The checkout keeps its .git for tools that read versions from it.
    assert!(at_tag.checkout.join(".git").exists());

    let head = git(&repo, &["rev-parse", "HEAD"]);
    let at_main = fetch_git(&vcs(&format!("{url}@main")), None, &cache).unwrap();
    let default = fetch_git(&vcs(&url), None, &cache).unwrap();
    assert_eq!(at_main.commit, head);
    assert_eq!(default.commit, head);
    assert_eq!(version_in(&default.source_dir), "2.0");

    let short = &tagged[..10];
    let by_short_hash = fetch_git(&vcs(&format!("{url}@{short}")), None, &cache).unwrap();
    assert_eq!(by_short_hash.commit, tagged);
    assert_eq!(by_short_hash.checkout, at_tag.checkout);

    // A full hash already checked out needs no repository at all.
    fs_err::remove_dir_all(&repo).unwrap();
    let offline = fetch_git(&vcs(&format!("{url}@{tagged}")), None, &cache).unwrap();
    assert_eq!(offline.checkout, at_tag.checkout);
}

#[test]
fn a_subdirectory_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, _) = repository(dir.path());
    let cache = dir.path().join("cache");
    let url = vcs(&format!("git+file://{}@v1.0", repo.display()));
    let checkout = fetch_git(&url, Some("sub"), &cache).unwrap();
    assert_eq!(checkout.source_dir, checkout.checkout.join("sub"));
    let build = SourceBuild::new(&checkout.source_dir, interpreter(), shared_cache()).unwrap();
    let wheel = build
        .build_wheel(&NoInstaller, &dir.path().join("out"))
        .unwrap();
    assert_eq!(wheel.file_name().unwrap(), "git_sub-0.5-py3-none-any.whl");

    let err = fetch_git(&url, Some("../escape"), &cache).unwrap_err();
    assert!(err.to_string().contains("leaves the repository"), "{err}");
    let err = fetch_git(&url, Some("missing"), &cache).unwrap_err();
    assert!(
        err.to_string().contains("`missing` does not exist"),
        "{err}"
    );
}

#[test]
fn unknown_revisions_and_repositories() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, _) = repository(dir.path());
    let cache = dir.path().join("cache");
    let err = fetch_git(
        &vcs(&format!("git+file://{}@nope", repo.display())),
        None,
        &cache,
    )
    .unwrap_err();
    assert!(matches!(err, Error::GitRevisionNotFound { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("no branch, tag or commit named `nope`"),
        "{err}"
    );

    let missing = dir.path().join("no-repo");
    let err = fetch_git(
        &vcs(&format!("git+file://{}", missing.display())),
        None,
        &cache,
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("git ls-remote") && message.contains("no-repo"),
        "{message}"
    );

    let err = fetch_git(&vcs("hg+https://example.com/repo"), None, &cache).unwrap_err();
    assert!(err.to_string().contains("only git is supported"), "{err}");
}
