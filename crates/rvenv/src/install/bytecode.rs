//! Bytecode for the installed packages, compiled once per wheel and interpreter: a warm install
//! links the cached `.pyc` files instead of starting Python to compile them again.
//!
//! A wheel whose bytecode is in the cache when it is installed gets it with its own files, in
//! the install's link pass ([`cached_entry`] names the entry to give the install). On a cold
//! install the [`Precompiler`] compiles each wheel into the bytecode cache as soon as the wheel
//! is in the cache, while other wheels still download, so that [`compile`] then only links the
//! `.pyc` files of the wheels installed before their entry was ready.
//!
//! The precompiler compiles the cached source files: a `.pyc` records its source's mtime and
//! size, and the installer links files keeping their mtime, so it is valid for the installed
//! file; the code objects are given the installed path (`co_filename`), so the `.pyc` is the one
//! compiling in place would write.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;
use rvenv_cache::{Bucket, Cache};
use rvenv_install::{CompileJob, CompilerPool, InstalledDist, LinkMode, ValidatedWheel};
use rvenv_venv::{Environment, Scheme};

/// Gives every distribution in `installed` (installed from the wheel at the same index of
/// `wheels`) its bytecode, unless the install linked it already: from the cache when kept
/// there, else compiled now and kept (also when the cache entry is broken).
/// The cache keeps the bytecode of the lib directory only: `.py` files installed elsewhere
/// (scripts, data) are compiled when the wheel's bytecode is not cached yet, with
/// `precompiler`'s workers when given.
pub fn compile(
    cache: &Cache,
    environment: &Environment,
    wheels: &[ValidatedWheel],
    installed: &mut [InstalledDist],
    link_mode: LinkMode,
    precompiler: Option<&Precompiler>,
) -> anyhow::Result<()> {
    let interpreter = interpreter_key(environment);
    // Per distribution: compile every `.py` (Some(entry to keep them in)), or only those
    // outside the lib directory (None).
    let mut to_compile: Vec<(usize, Option<Option<PathBuf>>)> = Vec::new();
    for (index, (wheel, dist)) in wheels.iter().zip(installed.iter_mut()).enumerate() {
        let entry = bytecode_entry(cache, wheel, &interpreter);
        // A broken entry only costs compiling again.
        let restored = dist.linked_bytecode
            || entry.as_deref().is_some_and(|dir| {
                rvenv_install::restore_bytecode(dist, dir, link_mode).unwrap_or(false)
            });
        let compiled_now = || match (&entry, precompiler) {
            (Some(entry), Some(precompiler)) => precompiler.compiled(entry),
            _ => false,
        };
        if !restored {
            to_compile.push((index, Some(entry)));
        } else if compiled_now()
            && dist
                .installed_files
                .iter()
                .any(|file| is_source(file) && outside_lib(dist, file))
        {
            to_compile.push((index, None));
        }
    }
    if to_compile.is_empty() {
        return Ok(());
    }
    let mut compiling: Vec<InstalledDist> = to_compile
        .iter()
        .map(|(index, _)| std::mem::take(&mut installed[*index]))
        .collect();
    let every: Vec<bool> = to_compile.iter().map(|(_, keep)| keep.is_some()).collect();
    let libs: Vec<PathBuf> = compiling
        .iter()
        .map(|dist| lib_dir(dist).to_path_buf())
        .collect();
    let compiled = rvenv_install::compile_installed_matching(
        &environment.python,
        precompiler.and_then(|precompiler| precompiler.shared.pool.get()),
        &mut compiling,
        |index, file| every[index] || !file.starts_with(&libs[index]),
    )
    .map(|_| ())
    .context("cannot compile bytecode");
    for ((index, keep), dist) in to_compile.into_iter().zip(compiling) {
        if let Some(Some(dir)) = keep {
            // A cache that cannot be written only costs speed next time.
            let _ = keep_compiled(cache, &dist, &dir);
        }
        installed[index] = dist;
    }
    compiled
}

/// The bytecode cache entry of `wheel` for `environment`'s interpreter, to give the install
/// ([`rvenv_install::InstallOptions::bytecode`]); `None` for wheels that are no cache entry.
pub fn cached_entry(
    cache: &Cache,
    environment: &Environment,
    wheel: &ValidatedWheel,
) -> Option<PathBuf> {
    bytecode_entry(cache, wheel, &interpreter_key(environment))
}

fn keep_compiled(cache: &Cache, dist: &InstalledDist, dir: &Path) -> anyhow::Result<()> {
    let staged = cache.staging_dir()?;
    rvenv_install::save_bytecode(dist, staged.path())?;
    cache.publish(staged, dir)?;
    Ok(())
}

fn is_source(file: &Path) -> bool {
    file.extension().is_some_and(|ext| ext == "py")
}

/// Whether `file` lies outside the lib directory of `dist`.
fn outside_lib(dist: &InstalledDist, file: &Path) -> bool {
    !file.starts_with(lib_dir(dist))
}

/// The directory holding `dist`'s `.dist-info`.
fn lib_dir(dist: &InstalledDist) -> &Path {
    dist.dist_info.parent().unwrap_or(&dist.dist_info)
}

/// Where the bytecode of `wheel` for `interpreter` is kept. Only published cache entries have a
/// stable name to keep it under: downloaded wheels, and wheels built from sdists or commits
/// (not directories or editables).
fn bytecode_entry(cache: &Cache, wheel: &ValidatedWheel, interpreter: &str) -> Option<PathBuf> {
    let key = if let Ok(key) = wheel.root().strip_prefix(cache.bucket(Bucket::Wheels)) {
        key.display().to_string()
    } else {
        let key = wheel
            .root()
            .strip_prefix(cache.bucket(Bucket::Built))
            .ok()?;
        format!("built/{}", key.display())
    };
    Some(cache.entry(Bucket::Bytecode, &format!("{key}/{interpreter}")))
}

/// Bytecode depends on the interpreter's version (the magic number) and on how it is checked:
/// with SOURCE_DATE_EPOCH set, Python writes hash-checked `.pyc` files instead of timestamped ones.
fn interpreter_key(environment: &Environment) -> String {
    let interpreter = &environment.interpreter;
    let checked = if std::env::var_os("SOURCE_DATE_EPOCH").is_some() {
        "-hash"
    } else {
        ""
    };
    format!(
        "{}-{}{checked}",
        interpreter.implementation, interpreter.python_full_version
    )
}

/// Compiles wheels into the bytecode cache in the background, on worker processes of the target
/// interpreter started once. Best effort: a wheel whose bytecode could not be kept this way is
/// compiled by [`compile`] after it is installed, as without a precompiler.
pub struct Precompiler {
    shared: Arc<Shared>,
    tasks: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

struct Shared {
    /// Started with the first wheel to compile: a warm install starts no interpreter.
    pool: OnceLock<CompilerPool>,
    python: PathBuf,
    cache: Arc<Cache>,
    interpreter: String,
    scheme: Scheme,
    /// The bytecode entries published by this precompiler.
    published: Mutex<HashSet<PathBuf>>,
}

impl Precompiler {
    /// A precompiler for `environment`; its workers start with the first wheel to compile.
    pub fn start(cache: &Arc<Cache>, environment: &Environment) -> Precompiler {
        Precompiler {
            shared: Arc::new(Shared {
                pool: OnceLock::new(),
                python: environment.python.clone(),
                cache: Arc::clone(cache),
                interpreter: interpreter_key(environment),
                scheme: environment.scheme.clone(),
                published: Mutex::new(HashSet::new()),
            }),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Queues `wheel` (just published in the cache, or found there) for compilation, unless its
    /// bytecode is kept already or it is not a cache entry.
    pub fn submit(&self, wheel: &ValidatedWheel) {
        let shared = &self.shared;
        let Some(entry) = bytecode_entry(&shared.cache, wheel, &shared.interpreter) else {
            return;
        };
        if entry.is_dir() {
            return;
        }
        let (shared, wheel) = (Arc::clone(shared), wheel.clone());
        let task = std::thread::spawn(move || {
            // Best effort, see the type's documentation.
            let _ = shared.precompile(&wheel, &entry);
        });
        self.lock_tasks().push(task);
    }

    /// Whether this precompiler published the bytecode entry `entry`.
    fn compiled(&self, entry: &Path) -> bool {
        self.shared
            .published
            .lock()
            .is_ok_and(|published| published.contains(entry))
    }

    /// Waits until every submitted wheel is compiled (or given up). Returns how many wheels'
    /// bytecode it has kept.
    pub fn finish(&self) -> usize {
        let tasks = std::mem::take(&mut *self.lock_tasks());
        for task in tasks {
            let _ = task.join();
        }
        self.shared
            .published
            .lock()
            .map_or(0, |published| published.len())
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, Vec<std::thread::JoinHandle<()>>> {
        self.tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Precompiler {
    /// On an early return (a failed download), pending work is dropped and staged entries are
    /// removed before the process goes on.
    fn drop(&mut self) {
        if let Some(pool) = self.shared.pool.get() {
            pool.close();
        }
        for task in std::mem::take(&mut *self.lock_tasks()) {
            let _ = task.join();
        }
    }
}

impl Shared {
    fn precompile(&self, wheel: &ValidatedWheel, entry: &Path) -> anyhow::Result<()> {
        let staged = self.cache.staging_dir()?;
        let jobs = compile_jobs(wheel, &self.scheme, staged.path());
        // A wheel without sources gets an empty entry: later installs need not look again.
        let compiled = if jobs.is_empty() {
            Vec::new()
        } else {
            let pool = self.pool.get_or_init(|| {
                let workers = std::thread::available_parallelism()
                    .map(usize::from)
                    .unwrap_or(1);
                // This returns at once; the processes start in the background.
                CompilerPool::start(&self.python, workers)
            });
            pool.compile(&jobs)?
        };
        let kept: Vec<String> = compiled
            .iter()
            .flatten()
            .filter_map(|pyc| pyc.strip_prefix(staged.path()).ok())
            .filter_map(|relative| relative.to_str().map(str::to_string))
            .collect();
        rvenv_install::write_bytecode_manifest(staged.path(), &kept)?;
        self.cache.publish(staged, entry)?;
        if let Ok(mut published) = self.published.lock() {
            published.insert(entry.to_path_buf());
        }
        Ok(())
    }
}

/// The `.py` files `wheel` installs into its lib directory (the one holding its `.dist-info`,
/// which is what the cache keeps bytecode of), each to be compiled from its cached copy into
/// `staged`, laid out as in the lib directory.
fn compile_jobs(wheel: &ValidatedWheel, scheme: &Scheme, staged: &Path) -> Vec<CompileJob> {
    let lib_dir = if wheel.root_is_purelib() {
        &scheme.purelib
    } else {
        &scheme.platlib
    };
    let data_dir = format!(
        "{}.data/",
        wheel.dist_info_dir().trim_end_matches(".dist-info")
    );
    // By place in the lib directory: when two files of the wheel land on one path, the last
    // one is installed, so it is the one compiled.
    let mut sources: BTreeMap<String, &str> = BTreeMap::new();
    for file in wheel.files() {
        if !is_source(Path::new(&file.path)) {
            continue;
        }
        let relative = match file.path.strip_prefix(&data_dir) {
            None => file.path.as_str(),
            Some(inside) => {
                let Some((key, relative)) = inside.split_once('/') else {
                    continue;
                };
                let dir = match key {
                    "purelib" => &scheme.purelib,
                    "platlib" => &scheme.platlib,
                    _ => continue,
                };
                if dir != lib_dir {
                    continue;
                }
                relative
            }
        };
        sources.insert(relative.to_string(), &file.path);
    }
    sources
        .into_iter()
        .map(|(relative, path)| {
            let relative = Path::new(&relative);
            let parent = relative.parent().unwrap_or(Path::new(""));
            CompileJob {
                source: wheel.root().join(path),
                installed: lib_dir.join(relative),
                pyc_dir: staged.join(parent).join("__pycache__"),
            }
        })
        .collect()
}
