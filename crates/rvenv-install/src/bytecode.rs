//! Compiling installed `.py` files to `__pycache__/*.pyc` with the target interpreter, in
//! parallel worker processes, as pip does after installing (timestamp-based `.pyc`, or checked
//! hashes when `SOURCE_DATE_EPOCH` is set: `py_compile`'s default, which pip also gets).

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::compile_pool::{CompileJob, CompilerPool};
use crate::destination::{relative_path, Destination, LinkItem, Unlinkable};
use crate::error::{Error, Result};
use crate::inventory::InstalledDist;
use crate::link::{LinkMode, Linker};
use crate::record::{parse_record, render_record, sha256_file, RecordEntry};

/// A compiled source file and the bytecode file written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    pub source: PathBuf,
    pub pyc: PathBuf,
}

/// Compiles `files` with `python` in as many worker processes as there are cores (a
/// [`CompilerPool`] for this call). Returns the files that compiled; the others (and paths a
/// worker cannot be given: with a tab or a newline) are skipped without error.
pub fn compile_bytecode(python: &Path, files: &[PathBuf]) -> Result<Vec<Compiled>> {
    let files: Vec<PathBuf> = files
        .iter()
        .filter(|file| {
            !file
                .as_os_str()
                .as_bytes()
                .iter()
                .any(|&b| b == b'\t' || b == b'\n')
        })
        .cloned()
        .collect();
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let workers = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(files.len().div_ceil(16));
    let pool = CompilerPool::start(python, workers);
    let compiled = compile_in_place(&pool, &files);
    pool.close();
    compiled
}

/// Compiles the `.py` files the given installs wrote and adds each `.pyc` to its
/// distribution's RECORD (and `installed_files`), as pip records them. Returns how many
/// files were compiled.
pub fn compile_installed(python: &Path, dists: &mut [InstalledDist]) -> Result<usize> {
    compile_installed_matching(python, None, dists, |_, _| true)
}

/// [`compile_installed`] for the `.py` files for which `wanted(index of the distribution in
/// dists, file)` holds, on `pool`'s running workers when given (processes of `python` are
/// started otherwise, or when the pool fails).
pub fn compile_installed_matching(
    python: &Path,
    pool: Option<&CompilerPool>,
    dists: &mut [InstalledDist],
    wanted: impl Fn(usize, &Path) -> bool,
) -> Result<usize> {
    let mut owner = HashMap::new();
    let mut sources = Vec::new();
    for (index, dist) in dists.iter().enumerate() {
        for file in &dist.installed_files {
            if file.extension().is_some_and(|ext| ext == "py") && wanted(index, file) {
                owner.insert(file.clone(), index);
                sources.push(file.clone());
            }
        }
    }
    let pooled = pool.and_then(|pool| compile_in_place(pool, &sources).ok());
    let compiled = match pooled {
        Some(compiled) => compiled,
        None => compile_bytecode(python, &sources)?,
    };
    let mut per_dist: Vec<Vec<&Compiled>> = vec![Vec::new(); dists.len()];
    for item in &compiled {
        if let Some(&index) = owner.get(&item.source) {
            per_dist[index].push(item);
        }
    }
    for (dist, items) in dists.iter_mut().zip(per_dist) {
        if items.is_empty() {
            continue;
        }
        let pycs: Vec<PathBuf> = items.iter().map(|item| item.pyc.clone()).collect();
        add_to_record(&dist.dist_info, &pycs)?;
        dist.installed_files.extend(pycs);
    }
    Ok(compiled.len())
}

/// Compiles `sources` beside themselves (`__pycache__`), as [`compile_bytecode`] does.
fn compile_in_place(pool: &CompilerPool, sources: &[PathBuf]) -> Result<Vec<Compiled>> {
    let jobs: Vec<CompileJob> = sources
        .iter()
        .map(|source| CompileJob {
            source: source.clone(),
            installed: source.clone(),
            pyc_dir: source.parent().unwrap_or(Path::new("")).join("__pycache__"),
        })
        .collect();
    let written = pool.compile(&jobs)?;
    Ok(jobs
        .into_iter()
        .zip(written)
        .filter_map(|(job, pyc)| {
            pyc.map(|pyc| Compiled {
                source: job.source,
                pyc,
            })
        })
        .collect())
}

/// Adds (or updates) RECORD rows with the sha256 and size of `files`.
pub fn add_to_record(dist_info: &Path, files: &[PathBuf]) -> Result<()> {
    let base = dist_info.parent().unwrap_or(dist_info);
    let rows = files
        .iter()
        .map(|file| {
            let (sha256, size) = sha256_file(file)?;
            Ok(RecordEntry::new(relative_path(file, base), &sha256, size))
        })
        .collect::<Result<Vec<_>>>()?;
    add_rows_to_record(dist_info, rows)
}

/// Adds (or replaces, by path) `rows` in the RECORD of `dist_info`.
fn add_rows_to_record(dist_info: &Path, rows: Vec<RecordEntry>) -> Result<()> {
    let record_path = dist_info.join("RECORD");
    let text = fs_err::read_to_string(&record_path)?;
    let mut entries = parse_record(&text).map_err(|message| Error::InvalidDistInfo {
        path: dist_info.to_path_buf(),
        message: format!("RECORD: {message}"),
    })?;
    let replaced: std::collections::HashSet<&str> =
        rows.iter().map(|row| row.path.as_str()).collect();
    entries.retain(|existing| !replaced.contains(existing.path.as_str()));
    entries.extend(rows);
    let rendered = render_record(&mut entries);
    let temporary = dist_info.join(".RECORD.rvenv-tmp");
    fs_err::write(&temporary, rendered)?;
    fs_err::rename(&temporary, &record_path)?;
    Ok(())
}

/// The list of files in a bytecode cache entry, in RECORD's format (paths relative to the
/// distribution's lib directory, with hashes), so restoring needs no hashing.
const BYTECODE_MANIFEST: &str = "RECORD.pyc";

/// Keeps the bytecode that [`compile_installed`] wrote for `dist` in `dest` (a staging directory
/// the caller publishes), laid out as in the lib directory, with a manifest of RECORD rows.
///
/// A `.pyc` records its source's mtime and size; the installer gives every installed file its
/// cached source's mtime, so the kept bytecode stays valid in any environment installed from the
/// same unpacked wheel. (Python fixes `co_filename` when it loads a `.pyc` from another path.)
pub fn save_bytecode(dist: &InstalledDist, dest: &Path) -> Result<usize> {
    let base = dist.dist_info.parent().unwrap_or(&dist.dist_info);
    let mut kept = Vec::new();
    for pyc in dist
        .installed_files
        .iter()
        .filter(|file| file.extension().is_some_and(|ext| ext == "pyc"))
    {
        let relative = relative_path(pyc, base);
        // Bytecode of scripts or headers outside the lib directory is not worth keeping.
        if relative.starts_with("../") {
            continue;
        }
        let target = dest.join(&relative);
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::copy(pyc, &target)?;
        kept.push(relative);
    }
    write_bytecode_manifest(dest, &kept)
}

/// Writes the manifest [`restore_bytecode`] reads into `dest`, a bytecode entry being staged
/// whose `.pyc` files are already in place at `relative` (`/`-separated paths from the lib
/// directory). Returns how many files it lists.
pub fn write_bytecode_manifest(dest: &Path, relative: &[String]) -> Result<usize> {
    let mut rows = relative
        .iter()
        .map(|relative| {
            let (sha256, size) = sha256_file(&dest.join(relative))?;
            Ok(RecordEntry::new(relative.clone(), &sha256, size))
        })
        .collect::<Result<Vec<_>>>()?;
    fs_err::write(dest.join(BYTECODE_MANIFEST), render_record(&mut rows))?;
    Ok(rows.len())
}

/// The rows of a bytecode entry's manifest, read and checked: every path is relative to the lib
/// directory and stays inside it (no `..`, `.` or empty parts), and every row has a size.
pub(crate) struct CachedBytecode {
    rows: Vec<RecordEntry>,
}

impl CachedBytecode {
    /// Reads the manifest of the entry `cached`; `None` when there is none (not compiled yet).
    pub(crate) fn read(cached: &Path) -> Result<Option<CachedBytecode>> {
        let manifest = match fs_err::read_to_string(cached.join(BYTECODE_MANIFEST)) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let invalid = |message: String| Error::InvalidDistInfo {
            path: cached.join(BYTECODE_MANIFEST),
            message: format!("bytecode manifest: {message}"),
        };
        let rows = parse_record(&manifest).map_err(invalid)?;
        for row in &rows {
            if row
                .path
                .split('/')
                .any(|part| part == ".." || part == "." || part.is_empty())
            {
                return Err(invalid(format!("names {:?}", row.path)));
            }
            if row.size.is_none() {
                return Err(invalid(format!("no size for {:?}", row.path)));
            }
        }
        Ok(Some(CachedBytecode { rows }))
    }
}

/// Links the bytecode kept in the entry `cached` into `lib_dir` through `destination`, with the
/// wheel's own files: each `.pyc` is listed in the RECORD the destination writes, and undone
/// with the rest on rollback. A kept `.pyc` replaces one the wheel itself ships at its path.
///
/// Returns whether every file of the entry is in place. An entry that is missing, unreadable or
/// invalid links nothing; a file of it that is missing or cannot be linked is skipped: either
/// way the caller compiles instead (the install does not fail for a broken cache).
pub(crate) fn link_cached_bytecode(
    cached: &Path,
    lib_dir: &Path,
    destination: &mut Destination,
) -> Result<bool> {
    let Ok(Some(bytecode)) = CachedBytecode::read(cached) else {
        return Ok(false);
    };
    // A wheel without sources has an empty entry: nothing to open directories for.
    if bytecode.rows.is_empty() {
        return Ok(true);
    }
    let items = bytecode
        .rows
        .iter()
        .map(|row| LinkItem {
            source: &row.path,
            dest: lib_dir.join(&row.path),
            record_path: row.path.clone(),
            hash: row.hash.clone(),
            size: row.size.unwrap_or_default(),
        })
        .collect();
    let skipped = destination.link_all(cached, items, Unlinkable::Skip)?;
    Ok(skipped == 0)
}

/// Places the bytecode kept by [`save_bytecode`] in `cached` into `dist`'s lib directory and adds
/// it to RECORD and `installed_files`. Returns `false`, changing nothing, when `cached` holds no
/// entry. On error, the files it placed are removed again.
///
/// This is for a distribution installed before its entry was kept; an install given the entry
/// ([`crate::InstallOptions::bytecode`]) links it itself.
pub fn restore_bytecode(
    dist: &mut InstalledDist,
    cached: &Path,
    link_mode: LinkMode,
) -> Result<bool> {
    let Some(bytecode) = CachedBytecode::read(cached)? else {
        return Ok(false);
    };
    let base = dist
        .dist_info
        .parent()
        .unwrap_or(&dist.dist_info)
        .to_path_buf();
    let linker = Linker::new(link_mode);
    let mut placed = Vec::with_capacity(bytecode.rows.len());
    let mut place = |row: &RecordEntry| -> Result<()> {
        let target = base.join(&row.path);
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent)?;
        }
        match fs_err::remove_file(&target) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
            _ => {}
        }
        linker.link(&cached.join(&row.path), &target)?;
        placed.push(target);
        Ok(())
    };
    let linked = bytecode.rows.iter().try_for_each(&mut place);
    if let Err(err) = linked.and_then(|()| add_rows_to_record(&dist.dist_info, bytecode.rows)) {
        for file in &placed {
            let _ = fs_err::remove_file(file);
        }
        return Err(err);
    }
    dist.installed_files.extend(placed);
    Ok(true)
}
