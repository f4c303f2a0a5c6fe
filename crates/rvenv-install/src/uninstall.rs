//! Removing an installed distribution by its RECORD.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::install::STAGING_SUFFIX;
use crate::inventory::read_dist_info;
use crate::record::parse_record;

/// What [`uninstall`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uninstalled {
    pub name: String,
    pub version: String,
    /// Files removed (bytecode included, the `.dist-info` directory counted as one).
    pub removed: usize,
    /// RECORD entries that were already gone.
    pub missing: usize,
    /// RECORD entries left alone because they point outside the environment root.
    pub refused: Vec<String>,
}

/// What a `.dist-info` directory is renamed to while its distribution is being removed: no
/// longer a `.dist-info`, so importlib.metadata, pip and rvenv stop listing the distribution
/// before its first file goes. A process killed mid-way leaves it behind, and
/// [`finish_interrupted_removals`] completes the job.
pub(crate) const REMOVING_SUFFIX: &str = ".rvenv-removing";

/// Removes the distribution whose `.dist-info` is `dist_info`: every file its RECORD lists, the
/// `__pycache__` bytecode of removed `.py` files, the `.dist-info` itself, and directories left
/// empty. Nothing outside `venv_root` is ever touched: such RECORD entries are skipped and
/// listed in [`Uninstalled::refused`].
///
/// The `.dist-info` is first renamed aside (see [`REMOVING_SUFFIX`]), so a crash mid-way never
/// leaves a listed distribution with missing files.
pub fn uninstall(dist_info: &Path, venv_root: &Path) -> Result<Uninstalled> {
    let invalid = |message: String| Error::InvalidDistInfo {
        path: dist_info.to_path_buf(),
        message,
    };
    let root = venv_root.canonicalize()?;
    let dist_info = dist_info.canonicalize()?;
    if !dist_info.starts_with(&root) || dist_info == root {
        return Err(invalid(format!(
            "is outside the environment {}; refusing to uninstall it",
            root.display()
        )));
    }
    let site_packages = dist_info
        .parent()
        .ok_or_else(|| invalid("has no parent directory".into()))?
        .to_path_buf();
    let dist = read_dist_info(&dist_info)?;
    let record_path = dist_info.join("RECORD");
    let record = match fs_err::read_to_string(&record_path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(invalid(
                "has no RECORD, so its files are unknown; hint: remove it by hand".into(),
            ))
        }
        Err(err) => return Err(err.into()),
    };
    let entries = parse_record(&record).map_err(|message| invalid(format!("RECORD: {message}")))?;

    let mut removing = dist_info.clone().into_os_string();
    removing.push(REMOVING_SUFFIX);
    let removing = PathBuf::from(removing);
    fs_err::rename(&dist_info, &removing)?;
    let mut report = Uninstalled {
        name: dist.name,
        version: dist.version,
        ..Uninstalled::default()
    };
    remove_recorded(
        entries,
        &dist_info,
        &removing,
        &site_packages,
        &root,
        &mut report,
    )?;
    Ok(report)
}

/// Completes removals a killed process left half-done in `lib_dir`: every
/// `<dist>.dist-info.rvenv-removing` directory of one of the projects `names` (normalized
/// comparison) has the files its RECORD lists removed, then goes itself. Called before those
/// projects are installed again, so the new files are not the ones removed. Staged
/// `.dist-info` directories of theirs that a killed install left (any version) go too.
pub(crate) fn finish_interrupted_removals(
    lib_dir: &Path,
    names: &[&str],
    venv_root: &Path,
) -> Result<()> {
    let entries = match fs_err::read_dir(lib_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err.into()),
    };
    for entry in entries {
        let entry = entry?;
        // Cheap test first: site-packages can hold thousands of entries.
        let file_name = entry.file_name();
        let bytes = file_name.as_encoded_bytes();
        let staged = bytes.ends_with(STAGING_SUFFIX.as_bytes());
        if !staged && !bytes.ends_with(REMOVING_SUFFIX.as_bytes()) {
            continue;
        }
        let removing = entry.path();
        let file_name = file_name.to_string_lossy();
        let Some(dist_info_name) = file_name
            .strip_suffix(REMOVING_SUFFIX)
            .or_else(|| file_name.strip_suffix(STAGING_SUFFIX))
        else {
            continue;
        };
        let Some(stem) = dist_info_name.strip_suffix(".dist-info") else {
            continue;
        };
        let project = stem.split('-').next().unwrap_or_default();
        if !names
            .iter()
            .any(|name| crate::wheel::same_name(project, name))
        {
            continue;
        }
        if staged {
            fs_err::remove_dir_all(&removing)?;
            continue;
        }
        let root = venv_root.canonicalize()?;
        let site_packages = lib_dir.canonicalize()?;
        let dist_info = site_packages.join(dist_info_name);
        let entries = match fs_err::read_to_string(removing.join("RECORD")) {
            Ok(text) => parse_record(&text).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let mut report = Uninstalled::default();
        remove_recorded(
            entries,
            &dist_info,
            &removing,
            &site_packages,
            &root,
            &mut report,
        )?;
    }
    Ok(())
}

/// Removes the files RECORD listed (those of the renamed `.dist-info` excepted), their bytecode,
/// the renamed directory `removing`, and directories left empty.
fn remove_recorded(
    entries: Vec<crate::record::RecordEntry>,
    dist_info: &Path,
    removing: &Path,
    site_packages: &Path,
    root: &Path,
    report: &mut Uninstalled,
) -> Result<()> {
    let mut touched_dirs = BTreeSet::new();
    let mut sources = Vec::new();
    for entry in entries {
        let path = normalize(&site_packages.join(&entry.path));
        if path.starts_with(dist_info) {
            continue;
        }
        if !is_safely_inside(&path, root) {
            report.refused.push(entry.path);
            continue;
        }
        match fs_err::remove_file(&path) {
            Ok(()) => report.removed += 1,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => report.missing += 1,
            Err(err) => return Err(err.into()),
        }
        if let Some(parent) = path.parent() {
            touched_dirs.insert(parent.to_path_buf());
            if path.extension().is_some_and(|ext| ext == "py") {
                sources.push(path);
            }
        }
    }
    // After the RECORD pass, so recorded `.pyc` files count as removed, not missing.
    for source in sources {
        report.removed += remove_bytecode(&source)?;
        if let Some(parent) = source.parent() {
            touched_dirs.insert(parent.join("__pycache__"));
        }
    }
    fs_err::remove_dir_all(removing)?;
    report.removed += 1;
    remove_empty_dirs(touched_dirs, site_packages, root);
    Ok(())
}

/// Removes `__pycache__/<stem>.*.pyc` next to a removed `.py` file.
fn remove_bytecode(source: &Path) -> Result<usize> {
    let (Some(parent), Some(stem)) = (source.parent(), source.file_stem()) else {
        return Ok(0);
    };
    let prefix = format!("{}.", stem.to_string_lossy());
    let cache = parent.join("__pycache__");
    let entries = match fs_err::read_dir(&cache) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(err.into()),
    };
    let mut removed = 0;
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        // `<stem>.<cache tag>.pyc` or `<stem>.<cache tag>.opt-N.pyc`; the cache tag
        // (`cpython-311`) has no dots, so `a.b.cpython-311.pyc` (of `a.b.py`) is not ours.
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let parts: Vec<&str> = rest.split('.').collect();
        let ours = match parts.as_slice() {
            [tag, "pyc"] => !tag.is_empty(),
            [tag, opt, "pyc"] => !tag.is_empty() && opt.starts_with("opt-"),
            _ => false,
        };
        if ours {
            fs_err::remove_file(cache.join(&name))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes directories that held removed files once they are empty, deepest first. Inside
/// site-packages empty parents go too (namespace packages), up to site-packages itself; elsewhere
/// (`bin`, `share`, `include`) only the directories that held files, as pip does. Neither the
/// root nor its direct children are ever removed.
fn remove_empty_dirs(dirs: BTreeSet<PathBuf>, site_packages: &Path, root: &Path) {
    let mut candidates: Vec<PathBuf> = dirs.into_iter().collect();
    candidates.sort_by_key(|dir| std::cmp::Reverse(dir.components().count()));
    for dir in candidates {
        let mut current = dir;
        loop {
            // Never the environment's own top-level directories (`bin`, `lib`, `include`).
            if current == site_packages
                || current.parent() == Some(root)
                || !current.starts_with(root)
            {
                break;
            }
            if fs_err::remove_dir(&current).is_err() {
                break;
            }
            match current.parent() {
                Some(parent) if current.starts_with(site_packages) => {
                    current = parent.to_path_buf();
                }
                _ => break,
            }
        }
    }
}

/// True when `path` (normalized) is strictly below `root` and its parent directory, with all
/// symlinks resolved, is too: a symlinked directory cannot lead a removal out of the venv.
fn is_safely_inside(path: &Path, root: &Path) -> bool {
    if !path.starts_with(root) || path == root {
        return false;
    }
    match path.parent().map(Path::canonicalize) {
        Some(Ok(parent)) => parent.starts_with(root),
        // The directory is gone: nothing to remove there anyway.
        _ => true,
    }
}

/// Resolves `.` and `..` lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, content: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    #[test]
    fn removes_recorded_files_bytecode_and_empty_dirs_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("venv");
        let site = root.join("lib/python3.11/site-packages");
        let info = site.join("demo-1.0.dist-info");
        write(&info.join("METADATA"), "Name: demo\nVersion: 1.0\n");
        write(&site.join("demo/__init__.py"), "");
        write(&site.join("demo/__pycache__/__init__.cpython-311.pyc"), "");
        write(&site.join("ns/inner/mod.py"), "");
        write(&site.join("other/keep.py"), "");
        write(&root.join("bin/demo"), "");
        write(&root.join("share/demo/f.txt"), "");
        write(&dir.path().join("outside.txt"), "precious");
        write(
            &info.join("RECORD"),
            "demo/__init__.py,,\nns/inner/mod.py,,\n../../../bin/demo,,\n\
             ../../../share/demo/f.txt,,\n../../../../outside.txt,,\n/etc/passwd,,\n\
             gone.py,,\ndemo-1.0.dist-info/RECORD,,\n",
        );

        let report = uninstall(&info, &root).unwrap();
        assert_eq!(report.name, "demo");
        assert_eq!(
            report.refused,
            vec!["../../../../outside.txt", "/etc/passwd"]
        );
        assert_eq!(report.missing, 1);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("outside.txt")).unwrap(),
            "precious"
        );
        assert!(!site.join("demo").exists());
        assert!(!site.join("ns").exists());
        assert!(!info.exists());
        assert!(site.join("other/keep.py").exists());
        assert!(!root.join("bin/demo").exists() && root.join("bin").exists());
        assert!(!root.join("share/demo").exists() && root.join("share").exists());
        assert!(site.exists());
    }

    #[test]
    fn refuses_to_follow_a_symlinked_directory_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("venv");
        let site = root.join("site-packages");
        let info = site.join("evil-1.dist-info");
        write(&info.join("METADATA"), "Name: evil\nVersion: 1\n");
        write(&dir.path().join("elsewhere/victim.txt"), "precious");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), site.join("link")).unwrap();
        write(&info.join("RECORD"), "link/victim.txt,,\n");

        let report = uninstall(&info, &root).unwrap();
        assert_eq!(report.refused, vec!["link/victim.txt"]);
        assert!(dir.path().join("elsewhere/victim.txt").exists());
    }

    #[test]
    fn missing_record_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let info = dir.path().join("x-1.dist-info");
        write(&info.join("METADATA"), "Name: x\nVersion: 1\n");
        let err = uninstall(&info, dir.path()).unwrap_err();
        assert!(err.to_string().contains("no RECORD"), "{err}");
        assert!(info.exists());
    }
}
