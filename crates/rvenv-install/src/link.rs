//! Placing a cached file into an environment: reflink, hardlink or copy.

use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

/// How files get from the unpacked wheel (the cache) into the environment. Each mode falls back
/// silently to the next when the filesystem refuses it (`Clone` -> `Hardlink` -> `Copy`), e.g.
/// when the cache is on another mount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LinkMode {
    /// Copy-on-write clone (reflink): independent files that share blocks until written.
    #[default]
    Clone,
    /// Hard links: the venv and the cache share the files.
    Hardlink,
    /// Plain copies.
    Copy,
}

impl LinkMode {
    fn index(self) -> u8 {
        match self {
            LinkMode::Clone => 0,
            LinkMode::Hardlink => 1,
            LinkMode::Copy => 2,
        }
    }
    fn from_index(index: u8) -> Self {
        match index {
            0 => LinkMode::Clone,
            1 => LinkMode::Hardlink,
            _ => LinkMode::Copy,
        }
    }
}

/// Links files with the requested mode, remembering the first fallback so a filesystem that
/// refuses clones is asked only once. Safe to share between threads.
#[derive(Debug)]
pub(crate) struct Linker {
    effective: AtomicU8,
}

impl Linker {
    pub(crate) fn new(mode: LinkMode) -> Self {
        Linker {
            effective: AtomicU8::new(mode.index()),
        }
    }

    /// Whether this linker makes hard links now (asked for, or fallen back to).
    pub(crate) fn hardlinks(&self) -> bool {
        self.effective.load(Ordering::Relaxed) == LinkMode::Hardlink.index()
    }

    /// Places `source` at `dest`, which must not exist. File modes follow the source.
    pub(crate) fn link(&self, source: &Path, dest: &Path) -> std::io::Result<()> {
        let mut mode = LinkMode::from_index(self.effective.load(Ordering::Relaxed));
        loop {
            let attempt = match mode {
                LinkMode::Clone => reflink_copy::reflink(source, dest),
                LinkMode::Hardlink => fs_err::hard_link(source, dest),
                LinkMode::Copy => {
                    copy_new(source, dest)?;
                    keep_modified_time(source, dest);
                    return Ok(());
                }
            };
            match attempt {
                Ok(()) => {
                    if mode == LinkMode::Clone {
                        keep_modified_time(source, dest);
                    }
                    return Ok(());
                }
                // Not the filesystem's fault (a file in the way, a missing directory): falling
                // back would not help, and the caller may fix it and try again.
                Err(err)
                    if matches!(
                        err.kind(),
                        std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotFound
                    ) =>
                {
                    return Err(err)
                }
                Err(_) => {
                    mode = LinkMode::from_index(mode.index() + 1);
                    self.effective.fetch_max(mode.index(), Ordering::Relaxed);
                }
            }
        }
    }
}

/// Copies `source` to a new file `dest`: like a link, a file in the way is an `AlreadyExists`
/// error, never overwritten (the caller moves it aside first, so that a rollback can put it
/// back). Permissions follow the source.
fn copy_new(source: &Path, dest: &Path) -> std::io::Result<()> {
    let (mut from, _) = fs_err::File::open(source)?.into_parts();
    let permissions = from.metadata()?.permissions();
    let (mut to, _) = fs_err::File::create_new(dest)?.into_parts();
    let copied = std::io::copy(&mut from, &mut to).and_then(|_| to.set_permissions(permissions));
    if let Err(err) = copied {
        // A copy cut short (a full disk) must not stay behind half-written.
        drop(to);
        let _ = std::fs::remove_file(dest);
        let message = format!(
            "failed to copy {} to {}: {err}",
            source.display(),
            dest.display()
        );
        return Err(std::io::Error::new(err.kind(), message));
    }
    Ok(())
}

/// Gives a cloned or copied file its source's modification time, as a hard link has it: cached
/// bytecode records the source's mtime, and Python only trusts a `.pyc` whose recorded mtime
/// matches. Best effort: a file we cannot open for writing keeps its own time (Python then
/// recompiles that one module at import).
fn keep_modified_time(source: &Path, dest: &Path) {
    let Ok(modified) = std::fs::metadata(source).and_then(|meta| meta.modified()) else {
        return;
    };
    if let Ok(file) = std::fs::File::options().write(true).open(dest) {
        let _ = file.set_modified(modified);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn every_mode_places_content_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        std::fs::write(&source, b"content").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        std::fs::File::options()
            .write(true)
            .open(&source)
            .unwrap()
            .set_modified(old)
            .unwrap();
        std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o755)).unwrap();
        for (index, mode) in [LinkMode::Clone, LinkMode::Hardlink, LinkMode::Copy]
            .into_iter()
            .enumerate()
        {
            let dest = dir.path().join(format!("dest{index}"));
            Linker::new(mode).link(&source, &dest).unwrap();
            assert_eq!(std::fs::read(&dest).unwrap(), b"content");
            assert_eq!(std::fs::metadata(&dest).unwrap().mode() & 0o777, 0o755);
        }
        let linked = std::fs::metadata(dir.path().join("dest1")).unwrap();
        assert_eq!(linked.ino(), std::fs::metadata(&source).unwrap().ino());
        let copied = std::fs::metadata(dir.path().join("dest2")).unwrap();
        assert_ne!(copied.ino(), std::fs::metadata(&source).unwrap().ino());
        for index in 0..3 {
            let placed = std::fs::metadata(dir.path().join(format!("dest{index}"))).unwrap();
            let original = std::fs::metadata(&source).unwrap();
            assert_eq!(
                placed.modified().unwrap(),
                original.modified().unwrap(),
                "dest{index}"
            );
        }
    }

    #[test]
    fn existing_destination_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        std::fs::write(&source, b"new").unwrap();
        let dest = dir.path().join("dest");
        std::fs::write(&dest, b"old").unwrap();
        for mode in [LinkMode::Clone, LinkMode::Hardlink, LinkMode::Copy] {
            let err = Linker::new(mode).link(&source, &dest).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists, "{mode:?}");
            assert_eq!(std::fs::read(&dest).unwrap(), b"old", "{mode:?}");
        }
    }
}
