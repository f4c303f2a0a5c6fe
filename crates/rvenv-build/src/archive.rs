//! Unpacking a source distribution safely.
//!
//! An sdist is someone else's archive: every entry must land inside the destination. Paths with
//! `..` or a root are refused, nothing is written through a symlink the archive itself created,
//! links must point inside the tree (checked lexically when created and again, resolved, once
//! everything is unpacked), and hard links become copies of files already unpacked. Any refusal
//! names the archive and the entry, and removes what was unpacked.

use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use fs_err as fs;

use crate::error::{Error, Result};

/// The archive formats an sdist comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    TarGz,
    /// Older sdists on PyPI (before PEP 527 limited uploads to `.tar.gz` and `.zip`).
    TarBz2,
    Tar,
    Zip,
}

impl ArchiveFormat {
    /// The format named by a file's suffix (case-insensitive), if it is one of ours.
    pub fn from_path(path: &Path) -> Option<ArchiveFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Some(ArchiveFormat::TarGz)
        } else if name.ends_with(".tar.bz2") || name.ends_with(".tbz") {
            Some(ArchiveFormat::TarBz2)
        } else if name.ends_with(".tar") {
            Some(ArchiveFormat::Tar)
        } else if name.ends_with(".zip") {
            Some(ArchiveFormat::Zip)
        } else {
            None
        }
    }

    /// The file name without this format's suffix: `docopt-0.6.2.tar.gz` -> `docopt-0.6.2`.
    pub fn strip_suffix(self, filename: &str) -> &str {
        let lower = filename.to_ascii_lowercase();
        let suffixes: &[&str] = match self {
            ArchiveFormat::TarGz => &[".tar.gz", ".tgz"],
            ArchiveFormat::TarBz2 => &[".tar.bz2", ".tbz"],
            ArchiveFormat::Tar => &[".tar"],
            ArchiveFormat::Zip => &[".zip"],
        };
        suffixes
            .iter()
            .find(|suffix| lower.ends_with(*suffix))
            .map_or(filename, |suffix| {
                &filename[..filename.len() - suffix.len()]
            })
    }
}

/// Unpacks the sdist `archive` into `dest` (created if needed) and returns the project root: the
/// archive's single top-level directory, or `dest` itself when there is none.
pub fn unpack_sdist(archive: &Path, dest: &Path) -> Result<PathBuf> {
    let format = ArchiveFormat::from_path(archive).ok_or_else(|| Error::NotASource {
        path: archive.to_path_buf(),
    })?;
    fs::create_dir_all(dest)?;
    let mut unpacker = Unpacker {
        archive,
        dest,
        symlinks: Vec::new(),
    };
    let result = match format {
        ArchiveFormat::TarGz => {
            let file = fs::File::open(archive)?;
            unpacker.tar(flate2::read::GzDecoder::new(io::BufReader::new(file)))
        }
        ArchiveFormat::TarBz2 => {
            let file = fs::File::open(archive)?;
            unpacker.tar(bzip2::read::MultiBzDecoder::new(io::BufReader::new(file)))
        }
        ArchiveFormat::Tar => unpacker.tar(io::BufReader::new(fs::File::open(archive)?)),
        ArchiveFormat::Zip => unpacker.zip(),
    }
    .and_then(|()| unpacker.check_symlinks());
    if let Err(err) = result {
        let _ = fs::remove_dir_all(dest);
        return Err(err);
    }
    project_root(dest)
}

/// The single top-level directory of an unpacked tree, else the tree itself.
fn project_root(dest: &Path) -> Result<PathBuf> {
    let entries: Vec<_> = fs::read_dir(dest)?.collect::<io::Result<_>>()?;
    if let [only] = entries.as_slice() {
        if only.file_type()?.is_dir() {
            return Ok(only.path());
        }
    }
    Ok(dest.to_path_buf())
}

struct Unpacker<'a> {
    archive: &'a Path,
    dest: &'a Path,
    /// Symlinks created, relative to `dest`, to check once everything is unpacked.
    symlinks: Vec<PathBuf>,
}

impl Unpacker<'_> {
    fn unsafe_entry(&self, entry: &Path, reason: impl Into<String>) -> Error {
        Error::UnsafeArchive {
            archive: self.archive.to_path_buf(),
            entry: entry.display().to_string(),
            reason: reason.into(),
        }
    }

    fn read_error(&self, source: io::Error) -> Error {
        Error::Archive {
            archive: self.archive.to_path_buf(),
            source,
        }
    }

    fn tar(&mut self, reader: impl Read) -> Result<()> {
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().map_err(|e| self.read_error(e))? {
            let mut entry = entry.map_err(|e| self.read_error(e))?;
            let raw_path = entry.path().map_err(|e| self.read_error(e))?.into_owned();
            let kind = entry.header().entry_type();
            let path = match kind {
                tar::EntryType::Regular
                | tar::EntryType::Continuous
                | tar::EntryType::Directory
                | tar::EntryType::Symlink
                | tar::EntryType::Link => self.checked_path(&raw_path)?,
                // Global pax headers, devices, fifos: nothing a source tree needs.
                _ => continue,
            };
            let Some(path) = path else { continue };
            let link_target = |entry: &tar::Entry<'_, _>| -> Result<PathBuf> {
                entry
                    .link_name()
                    .map_err(|e| self.read_error(e))?
                    .map(|target| target.into_owned())
                    .ok_or_else(|| self.unsafe_entry(&raw_path, "is a link without a target"))
            };
            match kind {
                tar::EntryType::Directory => self.create_dir(&path)?,
                tar::EntryType::Symlink => {
                    let target = link_target(&entry)?;
                    self.create_symlink(&path, &target)?;
                }
                tar::EntryType::Link => {
                    let target = link_target(&entry)?;
                    self.copy_hard_link(&path, &target)?;
                }
                _ => {
                    let mode = entry.header().mode().unwrap_or(0o644);
                    self.write_file(&path, &mut entry, mode)?;
                }
            }
        }
        Ok(())
    }

    fn zip(&mut self) -> Result<()> {
        let file = fs::File::open(self.archive)?;
        let mut archive = zip::ZipArchive::new(io::BufReader::new(file))
            .map_err(|e| self.read_error(io::Error::other(e)))?;
        for index in 0..archive.len() {
            let mut entry = archive
                .by_index(index)
                .map_err(|e| self.read_error(io::Error::other(e)))?;
            let raw_path = PathBuf::from(
                entry
                    .name()
                    .map_err(|e| self.read_error(io::Error::other(e)))?
                    .into_owned(),
            );
            let Some(path) = self.checked_path(&raw_path)? else {
                continue;
            };
            if entry.is_dir() {
                self.create_dir(&path)?;
            } else if entry.is_symlink() {
                let mut target = String::new();
                entry
                    .read_to_string(&mut target)
                    .map_err(|e| self.read_error(e))?;
                self.create_symlink(&path, Path::new(&target))?;
            } else {
                let mode = entry.unix_mode().unwrap_or(0o644);
                self.write_file(&path, &mut entry, mode)?;
            }
        }
        Ok(())
    }

    /// The entry's path relative to `dest`, or `None` for the archive root itself (`./`).
    fn checked_path(&self, raw: &Path) -> Result<Option<PathBuf>> {
        let mut path = PathBuf::new();
        for component in raw.components() {
            match component {
                Component::Normal(part) => path.push(part),
                Component::CurDir => {}
                Component::ParentDir => return Err(self.unsafe_entry(raw, "contains `..`")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.unsafe_entry(raw, "is an absolute path"))
                }
            }
        }
        if path.as_os_str().is_empty() {
            return Ok(None);
        }
        // Writing through a symlink made by an earlier entry could land anywhere.
        let mut ancestor = self.dest.to_path_buf();
        let parts: Vec<_> = path.components().collect();
        for part in &parts[..parts.len() - 1] {
            ancestor.push(part);
            if is_symlink(&ancestor) {
                return Err(self.unsafe_entry(
                    raw,
                    format!(
                        "goes through the symlink `{}`",
                        relative(self.dest, &ancestor)
                    ),
                ));
            }
        }
        Ok(Some(path))
    }

    fn create_dir(&self, path: &Path) -> Result<()> {
        let full = self.dest.join(path);
        if is_symlink(&full) {
            fs::remove_file(&full)?;
        }
        fs::create_dir_all(full)?;
        Ok(())
    }

    fn write_file(&self, path: &Path, contents: &mut impl Read, mode: u32) -> Result<()> {
        let full = self.dest.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        // A duplicate entry replaces the earlier file; never write through a link.
        if std::fs::symlink_metadata(&full).is_ok_and(|meta| !meta.is_dir()) {
            fs::remove_file(&full)?;
        }
        let mut file = fs::File::create(&full)?;
        io::copy(contents, &mut file).map_err(|e| self.read_error(e))?;
        set_executable(&full, mode & 0o111 != 0)?;
        Ok(())
    }

    fn create_symlink(&mut self, path: &Path, target: &Path) -> Result<()> {
        if !link_stays_inside(path, target) {
            return Err(self.unsafe_entry(
                path,
                format!("is a link to `{}`, outside the archive", target.display()),
            ));
        }
        let full = self.dest.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        if std::fs::symlink_metadata(&full).is_ok() {
            fs::remove_file(&full)?;
        }
        symlink(target, &full)?;
        self.symlinks.push(path.to_path_buf());
        Ok(())
    }

    /// A hard link becomes a copy of a regular file unpacked before it.
    fn copy_hard_link(&self, path: &Path, target: &Path) -> Result<()> {
        let Some(target_rel) = self.checked_path(target)? else {
            return Err(self.unsafe_entry(path, "is a hard link to the archive root"));
        };
        let source = self.dest.join(&target_rel);
        match std::fs::symlink_metadata(&source) {
            Ok(meta) if meta.is_file() => {}
            _ => {
                return Err(self.unsafe_entry(
                    path,
                    format!(
                        "is a hard link to `{}`, which is not a file unpacked before it",
                        target.display()
                    ),
                ))
            }
        }
        let full = self.dest.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        if std::fs::symlink_metadata(&full).is_ok() {
            fs::remove_file(&full)?;
        }
        fs::copy(&source, &full)?;
        Ok(())
    }

    /// Links through other links can escape even when each looks fine on its own: resolve them all.
    fn check_symlinks(&self) -> Result<()> {
        let root = fs::canonicalize(self.dest)?;
        for link in &self.symlinks {
            let full = self.dest.join(link);
            if let Ok(resolved) = std::fs::canonicalize(&full) {
                if !resolved.starts_with(&root) {
                    return Err(self.unsafe_entry(
                        link,
                        format!("resolves to {}, outside the archive", resolved.display()),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Whether `target`, read relative to the directory holding `link`, stays inside the tree.
fn link_stays_inside(link: &Path, target: &Path) -> bool {
    let mut depth = link.components().count().saturating_sub(1);
    for component in target.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink())
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    fs::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    fs::os::windows::fs::symlink_file(target, link)
}

#[cfg(unix)]
fn set_executable(path: &Path, executable: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path, _executable: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvenv_testkit::SdistBuilder;

    fn unpack(builder: SdistBuilder) -> (tempfile::TempDir, Result<PathBuf>, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let archive = builder.write_to(dir.path());
        let dest = dir.path().join("out");
        let result = unpack_sdist(&archive, &dest);
        (dir, result, dest)
    }

    #[test]
    fn unpacks_a_tar_gz_and_finds_the_single_top_directory() {
        let (_dir, root, _) =
            unpack(SdistBuilder::new("demo-pkg", "1.0").file("demo_pkg/x.py", "X = 1\n"));
        let root = root.unwrap();
        assert_eq!(root.file_name().unwrap(), "demo_pkg-1.0");
        assert!(root.join("PKG-INFO").is_file());
        assert_eq!(
            fs::read_to_string(root.join("demo_pkg/x.py")).unwrap(),
            "X = 1\n"
        );
    }

    #[test]
    fn unpacks_a_tar_bz2() {
        // The testkit writes `.tar.gz`: the same tar, compressed with bzip2 instead.
        let built = SdistBuilder::new("old-pkg", "0.5.3")
            .file("old_pkg/x.py", "X = 1\n")
            .build();
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(built.bytes.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        io::Write::write_all(&mut encoder, &tar).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("old_pkg-0.5.3.tar.bz2");
        fs::write(&archive, encoder.finish().unwrap()).unwrap();

        assert_eq!(
            ArchiveFormat::from_path(&archive),
            Some(ArchiveFormat::TarBz2)
        );
        assert_eq!(
            ArchiveFormat::TarBz2.strip_suffix("old_pkg-0.5.3.tar.bz2"),
            "old_pkg-0.5.3"
        );
        let root = unpack_sdist(&archive, &dir.path().join("out")).unwrap();
        assert_eq!(root.file_name().unwrap(), "old_pkg-0.5.3");
        assert_eq!(
            fs::read_to_string(root.join("old_pkg/x.py")).unwrap(),
            "X = 1\n"
        );
    }

    #[test]
    fn unpacks_a_zip() {
        let (_dir, root, _) = unpack(SdistBuilder::new("zipped", "2.0").zip());
        let root = root.unwrap();
        assert_eq!(root.file_name().unwrap(), "zipped-2.0");
        assert!(root.join("pyproject.toml").is_file());
    }

    #[test]
    fn refuses_parent_dir_entries_and_cleans_up() {
        let (_dir, result, dest) =
            unpack(SdistBuilder::new("evil", "1.0").raw_entry("../escape.txt", "x"));
        let message = result.unwrap_err().to_string();
        assert!(message.contains("evil-1.0.tar.gz"), "{message}");
        assert!(
            message.contains("`../escape.txt` contains `..`"),
            "{message}"
        );
        assert!(!dest.exists());
    }

    #[test]
    fn refuses_absolute_entries_in_zips() {
        let (_dir, result, _) = unpack(
            SdistBuilder::new("evil", "1.0")
                .zip()
                .raw_entry("/tmp/abs.txt", "x"),
        );
        let message = result.unwrap_err().to_string();
        assert!(message.contains("evil-1.0.zip"), "{message}");
        assert!(message.contains("absolute"), "{message}");
    }

    #[test]
    fn refuses_symlinks_out_of_the_tree() {
        let (_dir, result, _) =
            unpack(SdistBuilder::new("evil", "1.0").symlink("evil-1.0/passwd", "/etc/passwd"));
        let message = result.unwrap_err().to_string();
        assert!(message.contains("outside the archive"), "{message}");

        let (_dir, result, _) =
            unpack(SdistBuilder::new("evil", "1.0").symlink("evil-1.0/up", "../.."));
        assert!(result.unwrap_err().to_string().contains("outside"));
    }

    #[test]
    fn refuses_writing_through_a_symlink() {
        let builder = SdistBuilder::new("evil", "1.0")
            .symlink("evil-1.0/here", ".")
            .raw_entry("evil-1.0/here/file.txt", "x");
        let (_dir, result, _) = unpack(builder);
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("goes through the symlink `evil-1.0/here`"),
            "{message}"
        );
    }

    #[test]
    fn refuses_links_that_escape_through_other_links() {
        // Each looks harmless lexically; together `b` resolves to the archive's parent.
        let builder = SdistBuilder::new("evil", "1.0")
            .symlink("evil-1.0/a", ".")
            .symlink("evil-1.0/b", "a/../..");
        let (_dir, result, _) = unpack(builder);
        assert!(result
            .unwrap_err()
            .to_string()
            .contains("outside the archive"));
    }

    #[test]
    fn keeps_links_inside_the_tree_and_copies_hard_links() {
        let builder = SdistBuilder::new("fine", "1.0")
            .symlink("fine-1.0/alias.py", "fine/__init__.py")
            .hardlink("fine-1.0/copy.py", "fine-1.0/fine/__init__.py");
        let (_dir, root, _) = unpack(builder);
        let root = root.unwrap();
        assert!(fs::symlink_metadata(root.join("alias.py"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_to_string(root.join("copy.py")).unwrap(),
            "__version__ = \"1.0\"\n"
        );
    }

    #[test]
    fn refuses_hard_links_to_files_outside() {
        let builder = SdistBuilder::new("evil", "1.0").hardlink("evil-1.0/shadow", "/etc/shadow");
        let (_dir, result, _) = unpack(builder);
        assert!(result.unwrap_err().to_string().contains("absolute"));
    }

    #[test]
    fn several_top_level_entries_make_the_root_the_project() {
        let builder = SdistBuilder::new("flat", "1.0").raw_entry("setup.py", "");
        let (_dir, root, dest) = unpack(builder);
        assert_eq!(root.unwrap(), dest);
    }

    #[test]
    fn names_suffixes() {
        assert_eq!(
            ArchiveFormat::from_path(Path::new("a-1.TAR.GZ")),
            Some(ArchiveFormat::TarGz)
        );
        assert_eq!(ArchiveFormat::from_path(Path::new("a-1.whl")), None);
        assert_eq!(
            ArchiveFormat::TarGz.strip_suffix("docopt-0.6.2.tar.gz"),
            "docopt-0.6.2"
        );
        assert_eq!(ArchiveFormat::Zip.strip_suffix("x-1.ZIP"), "x-1");
    }
}
