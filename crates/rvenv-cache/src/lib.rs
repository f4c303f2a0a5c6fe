//! rvenv's shared cache directory.
//!
//! Several rvenv processes may use one cache at the same time (a CI cache mount shared by parallel
//! builds), so every entry is built in a temporary directory inside the cache and published with one
//! `rename`: a reader sees a whole entry or none. Locks only serialize the *building* of the same
//! entry, so two processes don't download the same wheel twice; readers never lock.
//!
//! This crate knows the layout and the publication protocol; what goes into an entry (a download,
//! an unpacked wheel, compiled bytecode) is the caller's business. Two libraries keep their own
//! subdirectories of the same root: rvenv-venv (`interpreters/`) and rvenv-index (`simple-v3/`,
//! `candidates-v2/`, `resolved-v1/`, `resolutions-v1/`, `metadata-v1/`).

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The version of the on-disk layout; bumped when an entry's format changes (v2: unpacked
/// wheels carry a `.rvenv-manifest`, which rvenv before it would refuse as a file RECORD does
/// not list, so the two versions must not share entries).
const LAYOUT: &str = "v2";

/// The staging area: entries are built here and renamed into their bucket.
const STAGING: &str = ".tmp";

/// How old a staging entry must be to count as abandoned (see [`Cache::open`]).
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot use the cache directory {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl Error {
    fn io(path: &Path, source: io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The kinds of entries, each in its own directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Unpacked wheels, keyed by the archive's sha256.
    Wheels,
    /// Wheels built from source distributions.
    Built,
    /// Compiled bytecode of an unpacked wheel, per interpreter.
    Bytecode,
}

impl Bucket {
    fn dir_name(self) -> &'static str {
        match self {
            Bucket::Wheels => "wheels",
            Bucket::Built => "built",
            Bucket::Bytecode => "bytecode",
        }
    }
}

/// An open cache directory. With [`Cache::temporary`] it lives as long as this value.
#[derive(Debug)]
pub struct Cache {
    root: PathBuf,
    _temporary: Option<tempfile::TempDir>,
}

impl Cache {
    /// Opens (creating if needed) the cache at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, Error> {
        let root = root.into();
        fs_err::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
        // Tell backup tools (and `tar --exclude-caches`) that this directory is a cache.
        let tag = root.join("CACHEDIR.TAG");
        if !tag.exists() {
            let text = "Signature: 8a477f597d28d172789f06886806bc55\n# This is rvenv's cache.\n";
            // Losing a race with another process writing the same text is harmless.
            let _ = fs_err::write(&tag, text);
        }
        let root = fs_err::canonicalize(&root).map_err(|e| Error::io(&root, e))?;
        let cache = Cache {
            root,
            _temporary: None,
        };
        cache.remove_stale_staging(STALE_AFTER);
        Ok(cache)
    }

    /// Removes what processes that died without cleaning up (kill -9, power loss) left in the
    /// staging area: entries untouched for `age`. A live process's entry is minutes or hours old,
    /// so a day is a safe margin. Best effort.
    fn remove_stale_staging(&self, age: std::time::Duration) {
        let Ok(entries) = fs_err::read_dir(self.root.join(STAGING)) else {
            return;
        };
        let now = std::time::SystemTime::now();
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .is_ok_and(|modified| now.duration_since(modified).is_ok_and(|d| d > age));
            if stale {
                let _ = fs_err::remove_dir_all(entry.path());
            }
        }
    }

    /// A fresh cache in a temporary directory, removed when the value is dropped (`--no-cache`).
    pub fn temporary() -> Result<Self, Error> {
        let dir = tempfile::Builder::new()
            .prefix("rvenv-cache-")
            .tempdir()
            .map_err(|e| Error::io(&std::env::temp_dir(), e))?;
        let mut cache = Cache::open(dir.path())?;
        cache._temporary = Some(dir);
        Ok(cache)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of one bucket, e.g. `<root>/wheels-v2`.
    pub fn bucket(&self, bucket: Bucket) -> PathBuf {
        self.root.join(format!("{}-{LAYOUT}", bucket.dir_name()))
    }

    /// Where the entry `key` of `bucket` lives once published. `key` is a relative path made of
    /// file-name-safe parts (see [`safe_key`]).
    pub fn entry(&self, bucket: Bucket, key: &str) -> PathBuf {
        self.bucket(bucket).join(key)
    }

    /// A temporary directory on the cache's filesystem, to build an entry in before [`publish`].
    /// It is removed on drop unless published.
    ///
    /// [`publish`]: Cache::publish
    pub fn staging_dir(&self) -> Result<tempfile::TempDir, Error> {
        let tmp = self.staging_root();
        fs_err::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        tempfile::Builder::new()
            .prefix("entry-")
            .tempdir_in(&tmp)
            .map_err(|e| Error::io(&tmp, e))
    }

    /// The directory holding staging entries (`<root>/.tmp`), for others that build files in
    /// the cache outside [`Cache::staging_dir`]: what is left there a day later is removed.
    pub fn staging_root(&self) -> PathBuf {
        self.root.join(STAGING)
    }

    /// Moves a fully built `staged` directory to `dest` in one rename. When another process
    /// published `dest` first, its entry wins and ours is dropped: both are complete and equal.
    pub fn publish(&self, staged: tempfile::TempDir, dest: &Path) -> Result<(), Error> {
        if let Some(parent) = dest.parent() {
            fs_err::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let staged_path = staged.keep();
        match std::fs::rename(&staged_path, dest) {
            Ok(()) => Ok(()),
            Err(_) if dest.is_dir() => {
                let _ = fs_err::remove_dir_all(&staged_path);
                Ok(())
            }
            Err(err) => {
                let _ = fs_err::remove_dir_all(&staged_path);
                Err(Error::io(dest, err))
            }
        }
    }

    /// Writes a file entry atomically (temporary file in the same directory, then rename).
    pub fn write_file(&self, dest: &Path, contents: &[u8]) -> Result<(), Error> {
        write_atomic(dest, contents)
    }

    /// Takes an exclusive lock named `key` (blocking), held until the guard drops. Used so that
    /// two processes building the same entry take turns; the second then finds it published.
    pub fn lock(&self, key: &str) -> Result<CacheLock, Error> {
        let dir = self.root.join(".locks");
        fs_err::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!("{}.lock", safe_key(key)));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        file.lock().map_err(|e| Error::io(&path, e))?;
        Ok(CacheLock { _file: file })
    }
}

/// An exclusive lock on a cache key; released on drop.
#[derive(Debug)]
pub struct CacheLock {
    _file: std::fs::File,
}

/// Writes `contents` to `dest` through a temporary file in the same directory and a rename, so a
/// reader never sees a partial file.
pub fn write_atomic(dest: &Path, contents: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let parent = dest.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(|e| Error::io(parent, e))?;
    tmp.write_all(contents).map_err(|e| Error::io(dest, e))?;
    tmp.persist(dest).map_err(|e| Error::io(dest, e.error))?;
    Ok(())
}

/// A file-name-safe key for arbitrary text (a URL, a path): a readable prefix and a hash.
pub fn safe_key(text: &str) -> String {
    let readable: String = text
        .chars()
        .rev()
        .take(40)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let digest = Sha256::digest(text.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hash}", readable.trim_matches('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_is_all_or_nothing_and_first_writer_wins() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path().join("c")).unwrap();
        let dest = cache.entry(Bucket::Wheels, "abc");

        let first = cache.staging_dir().unwrap();
        fs_err::write(first.path().join("a.txt"), "first").unwrap();
        let second = cache.staging_dir().unwrap();
        fs_err::write(second.path().join("a.txt"), "second").unwrap();
        assert!(!dest.exists());

        cache.publish(first, &dest).unwrap();
        cache.publish(second, &dest).unwrap();
        assert_eq!(fs_err::read_to_string(dest.join("a.txt")).unwrap(), "first");
        // Nothing is left behind in the staging area.
        let leftovers = fs_err::read_dir(cache.root().join(".tmp")).unwrap().count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn dropped_staging_dir_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let staged = cache.staging_dir().unwrap();
        fs_err::write(staged.path().join("partial"), "x").unwrap();
        drop(staged);
        assert_eq!(
            fs_err::read_dir(cache.root().join(".tmp")).unwrap().count(),
            0
        );
    }

    #[test]
    fn abandoned_staging_entries_are_removed_when_a_day_old() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let abandoned = cache.staging_dir().unwrap().keep();
        fs_err::write(abandoned.join("half.whl"), "x").unwrap();
        let recent = cache.staging_dir().unwrap().keep();
        let two_days_ago =
            std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 24 * 60 * 60);
        std::fs::File::open(&abandoned)
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();

        drop(Cache::open(dir.path()).unwrap());
        assert!(!abandoned.exists());
        assert!(
            recent.exists(),
            "a recent entry may belong to a live process"
        );
    }

    #[test]
    fn safe_keys_are_distinct_and_file_name_safe() {
        let a = safe_key("https://user:pw@example.com/simple/");
        let b = safe_key("https://example.com/simple/");
        assert_ne!(a, b);
        assert!(!a.contains('/') && !a.contains(':'));
    }

    #[test]
    fn temporary_cache_is_removed_on_drop() {
        let cache = Cache::temporary().unwrap();
        let root = cache.root().to_path_buf();
        assert!(root.join("CACHEDIR.TAG").exists());
        drop(cache);
        assert!(!root.exists());
    }

    #[test]
    fn lock_is_exclusive_across_handles() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let guard = cache.lock("numpy-2.0").unwrap();
        let path = cache
            .root()
            .join(".locks")
            .join(format!("{}.lock", safe_key("numpy-2.0")));
        let other = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        assert!(other.try_lock().is_err());
        drop(guard);
        assert!(other.try_lock().is_ok());
    }
}
