//! The destination the install core hands files to: it places them (link or write), remembers
//! everything it changed so a failed install can be undone, and collects the RECORD rows.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use fs_err::os::unix::fs::OpenOptionsExt;
use rayon::prelude::*;

use crate::error::Result;
use crate::link::Linker;
use crate::record::{entry_for_bytes, render_sorted, RecordEntry};

/// Files placed for one distribution, undone on [`Destination::rollback`].
pub(crate) struct Destination {
    /// The directory holding the `.dist-info`; RECORD paths are relative to it.
    record_base: PathBuf,
    linker: Arc<Linker>,
    /// Files we created, in order, with the index of their RECORD row.
    /// Keyed by the path's bytes: hashed in one go, where a `Path` hashes component by
    /// component (it showed in profiles of installs of thousands of files).
    written: HashMap<Vec<u8>, usize>,
    written_order: Vec<PathBuf>,
    /// Files that existed before and were moved aside: (original, moved-to).
    replaced: Vec<(PathBuf, PathBuf)>,
    created_dirs: Vec<PathBuf>,
    /// Directories known to exist, to save a `stat` per file.
    known_dirs: HashSet<Vec<u8>>,
    record: Vec<RecordEntry>,
    /// `(final, staging)`: files for the `.dist-info` are placed in `staging` until
    /// [`Destination::publish_dist_info`] renames it to `final`.
    dist_info: Option<(PathBuf, PathBuf)>,
    /// A `.dist-info` that was in the way of ours: (original, moved-to).
    replaced_dist_info: Option<(PathBuf, PathBuf)>,
}

impl Destination {
    #[cfg(test)]
    pub(crate) fn new(record_base: &Path, link_mode: crate::link::LinkMode) -> Self {
        Destination::with_linker(record_base, Arc::new(Linker::new(link_mode)))
    }

    /// A destination sharing `linker` (and so its fallbacks) with others.
    pub(crate) fn with_linker(record_base: &Path, linker: Arc<Linker>) -> Self {
        Destination {
            record_base: record_base.to_path_buf(),
            linker,
            written: HashMap::new(),
            written_order: Vec::new(),
            replaced: Vec::new(),
            created_dirs: Vec::new(),
            known_dirs: HashSet::new(),
            record: Vec::new(),
            dist_info: None,
            replaced_dist_info: None,
        }
    }

    /// Places every file meant for `dist_info` in `staging` instead (RECORD still names them
    /// by their final paths), until [`Destination::publish_dist_info`]. Tools find a
    /// distribution by its `.dist-info`, so it appears only once all its files are in place.
    pub(crate) fn stage_dist_info(&mut self, dist_info: &Path, staging: &Path) {
        self.dist_info = Some((dist_info.to_path_buf(), staging.to_path_buf()));
    }

    /// Renames the staged `.dist-info` into place, moving one that is in the way aside (kept
    /// until [`Destination::commit`], put back by [`Destination::rollback`]).
    pub(crate) fn publish_dist_info(&mut self) -> Result<()> {
        let Some((dist_info, staging)) = self.dist_info.take() else {
            return Ok(());
        };
        if fs_err::symlink_metadata(&dist_info).is_ok() {
            let name = dist_info.file_name().unwrap_or_default().to_string_lossy();
            let aside =
                dist_info.with_file_name(format!(".{name}.rvenv-replaced-{}", std::process::id()));
            fs_err::rename(&dist_info, &aside)?;
            self.replaced_dist_info = Some((dist_info.clone(), aside));
        }
        if let Err(err) = fs_err::rename(&staging, &dist_info) {
            self.dist_info = Some((dist_info, staging));
            return Err(err.into());
        }
        self.created_dirs.retain(|dir| dir != &staging);
        self.created_dirs.push(dist_info);
        Ok(())
    }

    /// Where a file meant for `dest` is placed now: inside the staging directory while the
    /// `.dist-info` is not published.
    fn actual_path<'p>(&self, dest: &'p Path) -> Cow<'p, Path> {
        let Some((dist_info, staging)) = &self.dist_info else {
            return Cow::Borrowed(dest);
        };
        // Compared as bytes (called for every file): our paths are normalized.
        let prefix = dist_info.as_os_str().as_bytes();
        match dest.as_os_str().as_bytes().strip_prefix(prefix) {
            Some(rest) if rest.is_empty() || rest[0] == b'/' => {
                let mut actual = staging.as_os_str().as_bytes().to_vec();
                actual.extend_from_slice(rest);
                Cow::Owned(PathBuf::from(std::ffi::OsString::from_vec(actual)))
            }
            _ => Cow::Borrowed(dest),
        }
    }

    /// Links many files at once, the fast way: every directory they need is created first (each
    /// once, parents first), then the files are linked in parallel (a big wheel is spread over
    /// all cores). A file that cannot be linked straight away (a file in the way, a directory
    /// that could not be made in advance, a file this destination placed already) takes the
    /// careful path of [`Destination::link`]. The destinations must be distinct.
    ///
    /// Sources are relative to `source_root` (the unpacked wheel, or a bytecode entry). Hard
    /// links are made relative to handles of it and of the record base, opened once: the kernel
    /// then looks up a few path components per file instead of every one from `/`.
    ///
    /// Returns how many files were skipped because they could not be linked (only with
    /// [`Unlinkable::Skip`]).
    pub(crate) fn link_all(
        &mut self,
        source_root: &Path,
        items: Vec<LinkItem>,
        unlinkable: Unlinkable,
    ) -> Result<usize> {
        let source = |item: &LinkItem| source_root.join(item.source);
        // Files placed already (a `.pyc` the wheel ships, replaced by a cached one) are
        // replaced the careful way, which also updates their RECORD row.
        let (items, mut retry): (Vec<LinkItem>, Vec<LinkItem>) = if self.written.is_empty() {
            (items, Vec::new())
        } else {
            items
                .into_iter()
                .partition(|item| !self.is_written(&item.dest))
        };
        let actual: Vec<Cow<Path>> = items.iter().map(|i| self.actual_path(&i.dest)).collect();
        let handles = DirHandles::open(source_root, &self.record_base);
        let dirs = self.needed_dirs(&actual);
        self.make_dirs(dirs, handles.as_ref())?;

        let linker = &self.linker;
        let outcomes: Vec<std::io::Result<()>> = actual
            .par_iter()
            .zip(&items)
            .with_min_len(LINKS_PER_TASK)
            .map_init(Vec::new, |buffer, (actual, item)| {
                if linker.hardlinks() {
                    let fast = handles
                        .as_ref()
                        .and_then(|handles| handles.hard_link(item.source, actual, buffer));
                    match fast {
                        Some(Ok(())) => return Ok(()),
                        Some(Err(err))
                            if matches!(
                                err.kind(),
                                std::io::ErrorKind::NotFound | std::io::ErrorKind::AlreadyExists
                            ) =>
                        {
                            return Err(err)
                        }
                        // Not relative to the handles, or refused: the linker decides (it may
                        // fall back to copies, e.g. across filesystems).
                        _ => {}
                    }
                }
                linker.link(&source(item), actual)
            })
            .collect();
        drop(actual);

        let mut first_error = None;
        for (item, outcome) in items.into_iter().zip(outcomes) {
            match outcome {
                Ok(()) => self.remember_link(item),
                Err(err)
                    if unlinkable == Unlinkable::Skip
                        || matches!(
                            err.kind(),
                            std::io::ErrorKind::NotFound | std::io::ErrorKind::AlreadyExists
                        ) =>
                {
                    retry.push(item)
                }
                // Everything placed is remembered first, so a rollback removes it.
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        if let Some(err) = first_error {
            return Err(err.into());
        }
        let mut skipped = 0;
        for item in retry {
            let source = source(&item);
            let skip = unlinkable == Unlinkable::Skip;
            // Looked at before anything in the way is moved: a skipped file leaves it there.
            if skip && !fs_err::symlink_metadata(&source).is_ok_and(|meta| meta.is_file()) {
                skipped += 1;
                continue;
            }
            let actual = self.make_room(&item.dest)?;
            match self.linker.link(&source, &actual) {
                Ok(()) => self.remember_link(item),
                Err(_) if skip => skipped += 1,
                Err(err) => return Err(err.into()),
            }
        }
        Ok(skipped)
    }

    /// The parent directories of `files` with their ancestors inside the record base (where
    /// nearly every file goes), sorted so parents come first.
    fn needed_dirs<'p>(&self, files: &'p [Cow<Path>]) -> Vec<&'p Path> {
        let base = self.record_base.as_os_str().as_bytes();
        let mut dirs: BTreeSet<&[u8]> = BTreeSet::new();
        let mut previous: &[u8] = &[];
        for file in files {
            let bytes = file.as_os_str().as_bytes();
            let Some(slash) = bytes.iter().rposition(|&b| b == b'/') else {
                continue;
            };
            let parent = &bytes[..slash];
            if parent == previous {
                continue;
            }
            previous = parent;
            // Bytes compare like paths here: ours are normalized (no `//`, `.` or trailing `/`).
            let below_base = |dir: &[u8]| {
                dir.len() > base.len() && dir.starts_with(base) && dir[base.len()] == b'/'
            };
            if !below_base(parent) {
                // Outside the record base (scripts, data): its parent only, the careful way
                // takes care of the rest.
                if !parent.is_empty() && parent != base {
                    dirs.insert(parent);
                }
                continue;
            }
            let mut dir = parent;
            while below_base(dir) && dirs.insert(dir) {
                match dir.iter().rposition(|&b| b == b'/') {
                    Some(slash) => dir = &dir[..slash],
                    None => break,
                }
            }
        }
        dirs.into_iter()
            .map(|dir| Path::new(std::ffi::OsStr::from_bytes(dir)))
            .collect()
    }

    /// Creates `dirs` (sorted, parents first) where missing, remembering the ones made.
    fn make_dirs(&mut self, dirs: Vec<&Path>, handles: Option<&DirHandles>) -> Result<()> {
        let mut buffer = Vec::new();
        for dir in dirs {
            if self.known_dirs.contains(dir.as_os_str().as_bytes()) {
                continue;
            }
            let made = handles
                .and_then(|handles| handles.create_dir(dir, &mut buffer))
                .unwrap_or_else(|| std::fs::create_dir(dir));
            match made {
                Ok(()) => {
                    self.created_dirs.push(dir.to_path_buf());
                    self.known_dirs.insert(key(dir));
                }
                // A directory already (or a file: linking into it then fails and says so).
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    self.known_dirs.insert(key(dir));
                }
                // A parent outside the record base is missing: the careful way.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => self.create_dirs(dir)?,
                Err(err) => return Err(fs_err_io(err, "create directory", dir).into()),
            }
        }
        Ok(())
    }

    fn remember_link(&mut self, item: LinkItem) {
        let entry = RecordEntry {
            path: item.record_path,
            hash: item.hash,
            size: Some(item.size),
        };
        self.remember_owned(item.dest, entry);
    }

    /// Links `source` to `dest`, recording the hash and size the wheel's RECORD gave for it.
    pub(crate) fn link(&mut self, source: &Path, dest: &Path, hash: &str, size: u64) -> Result<()> {
        // Most files land where nothing is yet, in a directory that exists: link first and look
        // only when that fails (a missing directory, a file in the way). Saves a stat per file.
        let placed = !self.is_written(dest)
            && match self.linker.link(source, &self.actual_path(dest)) {
                Ok(()) => true,
                Err(err)
                    if matches!(
                        err.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::AlreadyExists
                    ) =>
                {
                    false
                }
                Err(err) => return Err(err.into()),
            };
        if !placed {
            let actual = self.make_room(dest)?;
            self.linker.link(source, &actual)?;
        }
        let entry = RecordEntry {
            path: self.record_path(dest),
            hash: hash.to_string(),
            size: Some(size),
        };
        self.remember(dest, entry);
        Ok(())
    }

    /// Writes new content to `dest` (rewritten scripts, launchers, metadata).
    pub(crate) fn write(&mut self, dest: &Path, content: &[u8], executable: bool) -> Result<()> {
        let (actual, mut file) = self.create(dest, executable)?;
        if let Err(err) = file.write_all(content) {
            // Not remembered yet, so rollback would not find it: a full disk leaves no stub.
            let _ = fs_err::remove_file(&actual);
            return Err(err.into());
        }
        let entry = entry_for_bytes(self.record_path(dest), content);
        self.remember(dest, entry);
        Ok(())
    }

    /// Writes RECORD at `dest` listing every placed file and itself (without hash and size).
    pub(crate) fn write_record(&mut self, dest: &Path) -> Result<()> {
        let itself = RecordEntry {
            path: self.record_path(dest),
            hash: String::new(),
            size: None,
        };
        let mut entries: Vec<&RecordEntry> = self.record.iter().chain([&itself]).collect();
        entries.sort_unstable();
        let text = render_sorted(entries.into_iter());
        let (actual, mut file) = self.create(dest, false)?;
        if let Err(err) = file.write_all(text.as_bytes()) {
            let _ = fs_err::remove_file(&actual);
            return Err(err.into());
        }
        self.written_order.push(dest.to_path_buf());
        Ok(())
    }

    /// Creates the new file for `dest`: straight away where nothing is in the way (the usual
    /// case, no `stat` first), else after [`Destination::make_room`]. Returns where it is.
    fn create(&mut self, dest: &Path, executable: bool) -> Result<(PathBuf, fs_err::File)> {
        let open = |path: &Path| {
            fs_err::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(if executable { 0o777 } else { 0o666 })
                .open(path)
        };
        if !self.is_written(dest) {
            let actual = self.actual_path(dest).into_owned();
            match open(&actual) {
                Ok(file) => return Ok((actual, file)),
                Err(err)
                    if matches!(
                        err.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::AlreadyExists
                    ) => {}
                Err(err) => return Err(err.into()),
            }
        }
        let actual = self.make_room(dest)?;
        let file = open(&actual)?;
        Ok((actual, file))
    }

    /// Keeps the changes: drops the moved-aside originals. Returns every file this destination
    /// created.
    pub(crate) fn commit(self) -> Vec<PathBuf> {
        for (_, aside) in &self.replaced {
            let _ = fs_err::remove_file(aside);
        }
        if let Some((_, aside)) = &self.replaced_dist_info {
            let _ = fs_err::remove_dir_all(aside);
        }
        self.written_order
    }

    /// Undoes everything: removes what we wrote, puts replaced files back, removes the
    /// directories we created (if empty). Returns the directories it made that are not empty
    /// (another install running alongside put files there).
    pub(crate) fn rollback(self) -> Vec<PathBuf> {
        for path in self.written_order.iter().rev() {
            let _ = fs_err::remove_file(self.actual_path(path));
        }
        for (original, aside) in self.replaced.iter().rev() {
            let _ = fs_err::rename(aside, original);
        }
        let mut left = Vec::new();
        for dir in self.created_dirs.iter().rev() {
            if std::fs::remove_dir(dir).is_err() && dir.is_dir() {
                left.push(dir.clone());
            }
        }
        if let Some((original, aside)) = &self.replaced_dist_info {
            let _ = fs_err::rename(aside, original);
        }
        left
    }

    fn remember(&mut self, dest: &Path, entry: RecordEntry) {
        match self.written.get(dest.as_os_str().as_bytes()) {
            Some(&index) => self.record[index] = entry,
            None => self.remember_owned(dest.to_path_buf(), entry),
        }
    }

    fn is_written(&self, dest: &Path) -> bool {
        self.written.contains_key(dest.as_os_str().as_bytes())
    }

    fn remember_owned(&mut self, dest: PathBuf, entry: RecordEntry) {
        match self.written.get(dest.as_os_str().as_bytes()) {
            Some(&index) => self.record[index] = entry,
            None => {
                self.written.insert(key(&dest), self.record.len());
                self.written_order.push(dest);
                self.record.push(entry);
            }
        }
    }

    /// Creates missing parent directories (remembering them) and moves an existing file at
    /// `dest` out of the way: ours from earlier in this install is removed, a foreign one is
    /// kept aside until commit, as pip overwrites files another distribution installed.
    /// Returns where the file goes now (see [`Destination::stage_dist_info`]).
    fn make_room(&mut self, dest: &Path) -> Result<PathBuf> {
        let own = self.is_written(dest);
        let dest = self.actual_path(dest).into_owned();
        if let Some(parent) = dest.parent() {
            self.create_dirs(parent)?;
        }
        self.move_aside(&dest, own)?;
        Ok(dest)
    }

    fn move_aside(&mut self, dest: &Path, own: bool) -> Result<()> {
        match fs_err::symlink_metadata(dest) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err.into()),
            Ok(meta) if meta.is_dir() => Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "cannot install file {}: a directory is in the way",
                    dest.display()
                ),
            )
            .into()),
            Ok(_) if own => Ok(fs_err::remove_file(dest)?),
            Ok(_) => {
                let name = dest.file_name().unwrap_or_default().to_string_lossy();
                let aside = dest.with_file_name(format!(
                    ".{name}.rvenv-replaced-{}-{}",
                    std::process::id(),
                    self.replaced.len()
                ));
                fs_err::rename(dest, &aside)?;
                self.replaced.push((dest.to_path_buf(), aside));
                Ok(())
            }
        }
    }

    fn create_dirs(&mut self, dir: &Path) -> Result<()> {
        if self.known_dirs.contains(dir.as_os_str().as_bytes()) {
            return Ok(());
        }
        let mut missing = Vec::new();
        let mut current = Some(dir);
        while let Some(path) = current {
            if path.is_dir() {
                break;
            }
            missing.push(path.to_path_buf());
            current = path.parent();
        }
        for path in missing.into_iter().rev() {
            match fs_err::create_dir(&path) {
                Ok(()) => self.created_dirs.push(path),
                // Another wheel installing in parallel made it first.
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err.into()),
            }
        }
        self.known_dirs.insert(key(dir));
        Ok(())
    }

    pub(crate) fn record_path(&self, path: &Path) -> String {
        relative_path(path, &self.record_base)
    }
}

/// A path as the key of `written` and `known_dirs`.
fn key(path: &Path) -> Vec<u8> {
    path.as_os_str().as_bytes().to_vec()
}

/// How many links one parallel task makes at least: small wheels stay on one thread.
const LINKS_PER_TASK: usize = 128;

/// Open handles of the two directories most paths of a wheel's install are below: the
/// unpacked wheel (sources) and the record base (destinations, with its path as bytes followed
/// by `/` to recognise the paths below it).
struct DirHandles {
    source: std::fs::File,
    dest: std::fs::File,
    dest_prefix: Vec<u8>,
}

impl DirHandles {
    /// `None` when either directory cannot be opened: every path then goes the plain way.
    fn open(source_root: &Path, dest_root: &Path) -> Option<DirHandles> {
        let prefix = |dir: &Path| {
            let mut bytes = dir.as_os_str().as_bytes().to_vec();
            bytes.push(b'/');
            bytes
        };
        Some(DirHandles {
            source: std::fs::File::open(source_root).ok()?,
            dest: std::fs::File::open(dest_root).ok()?,
            dest_prefix: prefix(dest_root),
        })
    }

    /// Appends `path` relative to the directory whose `prefix` is given, NUL-terminated, to
    /// `buffer`; `None` when it is not below it (or holds a NUL, which no wheel path does).
    fn relative(prefix: &[u8], path: &Path, buffer: &mut Vec<u8>) -> Option<()> {
        let relative = path.as_os_str().as_bytes().strip_prefix(prefix)?;
        if relative.is_empty() || relative.contains(&0) {
            return None;
        }
        buffer.extend_from_slice(relative);
        buffer.push(0);
        Some(())
    }

    /// `linkat(2)` of `source` (relative to the source root) to `dest` relative to the handles;
    /// `None` when `dest` is not below the destination root.
    fn hard_link(
        &self,
        source: &str,
        dest: &Path,
        buffer: &mut Vec<u8>,
    ) -> Option<std::io::Result<()>> {
        if source.is_empty() || source.contains('\0') {
            return None;
        }
        buffer.clear();
        buffer.extend_from_slice(source.as_bytes());
        buffer.push(0);
        let dest_start = buffer.len();
        Self::relative(&self.dest_prefix, dest, buffer)?;
        // SAFETY: both pointers are to NUL-terminated strings in `buffer`, alive for the call;
        // the descriptors are open directories owned by `self`.
        let result = unsafe {
            libc::linkat(
                self.source.as_raw_fd(),
                buffer.as_ptr().cast(),
                self.dest.as_raw_fd(),
                buffer[dest_start..].as_ptr().cast(),
                0,
            )
        };
        Some(if result == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        })
    }

    /// `mkdirat(2)` relative to the destination handle; `None` when `dir` is not below it.
    fn create_dir(&self, dir: &Path, buffer: &mut Vec<u8>) -> Option<std::io::Result<()>> {
        buffer.clear();
        Self::relative(&self.dest_prefix, dir, buffer)?;
        // SAFETY: a NUL-terminated string in `buffer`, alive for the call; an open directory.
        let result = unsafe { libc::mkdirat(self.dest.as_raw_fd(), buffer.as_ptr().cast(), 0o777) };
        Some(if result == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        })
    }
}

/// What [`Destination::link_all`] does about a file it cannot link (its source is missing or
/// unreadable, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unlinkable {
    /// Fail: the file is part of what is installed (a wheel's file).
    Fail,
    /// Skip the file and go on: the caller can do without it (a cached `.pyc`, compiled
    /// instead). A missing source leaves what was at the destination there.
    Skip,
}

/// A file for [`Destination::link_all`]: where from, where to, and its RECORD row.
#[derive(Debug)]
pub(crate) struct LinkItem<'a> {
    /// `/`-separated, relative to the `source_root` of `link_all`.
    pub source: &'a str,
    pub dest: PathBuf,
    /// `dest` as RECORD names it (relative to the record base).
    pub record_path: String,
    /// The hash and size the wheel's RECORD gives.
    pub hash: String,
    pub size: u64,
}

/// An IO error that names the operation and the path, as fs-err's do.
fn fs_err_io(err: std::io::Error, operation: &str, path: &Path) -> std::io::Error {
    std::io::Error::new(
        err.kind(),
        format!("failed to {operation} `{}`: {err}", path.display()),
    )
}

/// `path` relative to `base` (both absolute, already normalized), `/`-separated, with `..` where
/// `path` is outside `base`: how RECORD names scripts (`../../../bin/tool`).
pub(crate) fn relative_path(path: &Path, base: &Path) -> String {
    if let Some(relative) = path.strip_prefix(base).ok().and_then(Path::to_str) {
        return relative.to_string();
    }
    let path: Vec<Component> = path.components().collect();
    let base: Vec<Component> = base.components().collect();
    let common = path
        .iter()
        .zip(base.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = vec!["..".to_string(); base.len() - common];
    parts.extend(
        path[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::LinkMode;

    #[test]
    fn relative_paths_climb_out_of_site_packages() {
        let base = Path::new("/v/lib/python3.11/site-packages");
        assert_eq!(
            relative_path(Path::new("/v/bin/tool"), base),
            "../../../bin/tool"
        );
        assert_eq!(
            relative_path(Path::new("/v/lib/python3.11/site-packages/a/b.py"), base),
            "a/b.py"
        );
    }

    #[test]
    fn rollback_restores_the_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("site");
        std::fs::create_dir(&base).unwrap();
        std::fs::write(base.join("shared.py"), b"old").unwrap();
        let source = dir.path().join("source");
        std::fs::write(&source, b"new").unwrap();

        let mut destination = Destination::new(&base, LinkMode::Copy);
        destination
            .link(&source, &base.join("pkg/sub/mod.py"), "sha256=x", 3)
            .unwrap();
        destination
            .write(&base.join("shared.py"), b"replaced", false)
            .unwrap();
        assert_eq!(std::fs::read(base.join("shared.py")).unwrap(), b"replaced");
        destination.rollback();

        assert_eq!(std::fs::read(base.join("shared.py")).unwrap(), b"old");
        assert!(!base.join("pkg").exists());
        assert_eq!(std::fs::read_dir(&base).unwrap().count(), 1);
    }

    #[test]
    fn linking_over_a_file_moves_it_aside_and_keeps_the_link_mode() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("site");
        std::fs::create_dir(&base).unwrap();
        std::fs::write(base.join("shared.py"), b"old").unwrap();
        let source = dir.path().join("source");
        std::fs::write(&source, b"new").unwrap();

        let mut destination = Destination::new(&base, LinkMode::Hardlink);
        // A missing directory, then a file in the way: both are fixed and linked.
        destination
            .link(&source, &base.join("pkg/mod.py"), "sha256=x", 3)
            .unwrap();
        destination
            .link(&source, &base.join("shared.py"), "sha256=x", 3)
            .unwrap();
        use std::os::unix::fs::MetadataExt;
        let inode = std::fs::metadata(&source).unwrap().ino();
        // Still hard links: a missing directory is no reason to fall back to copies.
        assert_eq!(
            std::fs::metadata(base.join("pkg/mod.py")).unwrap().ino(),
            inode
        );
        assert_eq!(
            std::fs::metadata(base.join("shared.py")).unwrap().ino(),
            inode
        );
        destination.rollback();
        assert_eq!(std::fs::read(base.join("shared.py")).unwrap(), b"old");
        assert!(!base.join("pkg").exists());
    }

    /// Copies are placed as links are: a file of another distribution in the way is moved
    /// aside, never overwritten, so that a rollback restores it.
    #[test]
    fn copying_over_a_file_keeps_it_for_the_rollback() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("site");
        let wheel = dir.path().join("wheel");
        std::fs::create_dir_all(base.join("pkg")).unwrap();
        std::fs::create_dir_all(wheel.join("pkg")).unwrap();
        std::fs::write(base.join("pkg/shared.py"), b"another distribution's").unwrap();
        std::fs::write(wheel.join("pkg/shared.py"), b"new").unwrap();

        let mut destination = Destination::new(&base, LinkMode::Copy);
        let item = LinkItem {
            source: "pkg/shared.py",
            dest: base.join("pkg/shared.py"),
            record_path: "pkg/shared.py".into(),
            hash: "sha256=x".into(),
            size: 3,
        };
        destination
            .link_all(&wheel, vec![item], Unlinkable::Fail)
            .unwrap();
        assert_eq!(std::fs::read(base.join("pkg/shared.py")).unwrap(), b"new");
        destination.rollback();
        assert_eq!(
            std::fs::read(base.join("pkg/shared.py")).unwrap(),
            b"another distribution's"
        );
    }

    #[test]
    fn record_lists_each_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        let mut destination = Destination::new(base, LinkMode::Copy);
        destination.write(&base.join("a.py"), b"1", false).unwrap();
        destination.write(&base.join("a.py"), b"22", false).unwrap();
        destination
            .write_record(&base.join("x.dist-info/RECORD"))
            .unwrap();
        let text = std::fs::read_to_string(base.join("x.dist-info/RECORD")).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 2, "{text}");
        assert!(rows[0].starts_with("a.py,sha256=") && rows[0].ends_with(",2"));
        assert_eq!(rows[1], "x.dist-info/RECORD,,");
        destination.commit();
        assert_eq!(std::fs::read(base.join("a.py")).unwrap(), b"22");
    }
}
