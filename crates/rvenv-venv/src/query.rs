//! Asking an interpreter about itself: one run of the embedded `query.py`, cached on disk.
//!
//! The cache entry's name is a hash of the executable's path, its resolved path, size and mtime
//! (and of the script itself), so a replaced or upgraded interpreter is asked again and a warm
//! cache answers without starting Python.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

use fs_err as fs;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Interpreter};

const QUERY_SCRIPT: &str = include_str!("query.py");

/// What the script prints: an interpreter, or "too old for rvenv".
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "lowercase")]
enum Answer {
    Ok { interpreter: Box<Interpreter> },
    Unsupported { version: String },
}

impl Interpreter {
    /// Asks `executable` about itself, or reads the answer from `<cache_dir>/interpreters/`.
    ///
    /// Fails when the file is missing, Python cannot run, or it is older than 3.8.
    pub fn query(executable: &Path, cache_dir: Option<&Path>) -> Result<Interpreter, Error> {
        let executable = std::path::absolute(executable)?;
        let entry = match cache_dir {
            Some(dir) if !is_pyenv_shim(&executable) => Some(cache_entry(dir, &executable)?),
            // A pyenv shim runs whichever version pyenv selects today: never cache it.
            _ => {
                fs::metadata(&executable)?;
                None
            }
        };
        let cached = entry.as_deref().and_then(read_cached);
        let answer = match cached {
            Some(answer) => answer,
            None => {
                let answer = run_script(&executable)?;
                if let Some(entry) = &entry {
                    // The cache only saves time: a read-only or full disk must not fail the command.
                    let _ = write_cached(entry, &answer);
                }
                answer
            }
        };
        match answer {
            Answer::Ok { interpreter } => Ok(Interpreter {
                executable,
                ..*interpreter
            }),
            Answer::Unsupported { version } => Err(Error::Unsupported {
                executable,
                version,
            }),
        }
    }
}

/// `.../shims/python3`: a pyenv shim (a shell script choosing a version at run time).
pub(crate) fn is_pyenv_shim(path: &Path) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|name| name == "shims")
}

fn cache_entry(cache_dir: &Path, executable: &Path) -> Result<PathBuf, Error> {
    let metadata = fs::metadata(executable)?;
    let resolved = fs::canonicalize(executable)?;
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map(|since| since.as_nanos())
        .unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(QUERY_SCRIPT.as_bytes());
    hasher.update(executable.as_os_str().as_encoded_bytes());
    hasher.update([0]);
    hasher.update(resolved.as_os_str().as_encoded_bytes());
    hasher.update([0]);
    hasher.update(metadata.len().to_le_bytes());
    hasher.update(mtime.to_le_bytes());
    let digest = hasher.finalize();
    let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    Ok(cache_dir.join("interpreters").join(format!("{name}.json")))
}

fn read_cached(entry: &Path) -> Option<Answer> {
    let bytes = std::fs::read(entry).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes to a temporary file next to the entry, then renames it into place, so a reader never
/// sees half an entry.
fn write_cached(entry: &Path, answer: &Answer) -> Result<(), Error> {
    let dir = entry.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    let json = serde_json::to_vec(answer).map_err(std::io::Error::from)?;
    temp.write_all(&json)?;
    temp.persist(entry).map_err(|err| err.error)?;
    Ok(())
}

fn run_script(executable: &Path) -> Result<Answer, Error> {
    // -E -s: ignore PYTHON* variables and the user's site-packages; -B: write no bytecode under the
    // base prefix. Not -I, which Python 2 rejects before it could say it is unsupported. Running
    // in `/` keeps a stray json.py in the working directory from shadowing the stdlib.
    let run = || {
        Command::new(executable)
            .args(["-E", "-s", "-B", "-c", QUERY_SCRIPT])
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
    };
    let mut output = run();
    // "Text file busy": a freshly written binary whose descriptor another process (forked
    // between our write and its exec) still holds for a moment.
    for _ in 0..3 {
        match &output {
            Err(err) if err.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                output = run();
            }
            _ => break,
        }
    }
    let output = output.map_err(|source| Error::QuerySpawn {
        executable: executable.to_path_buf(),
        source,
    })?;
    if !output.status.success() {
        return Err(Error::QueryFailed {
            executable: executable.to_path_buf(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    serde_json::from_slice(&output.stdout).map_err(|source| Error::QueryOutput {
        executable: executable.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pyenv_python(minor: &str) -> Option<PathBuf> {
        let versions = Path::new(&std::env::var("HOME").ok()?).join(".pyenv/versions");
        let mut found: Vec<PathBuf> = std::fs::read_dir(versions)
            .ok()?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with(&format!("{minor}.")))
            })
            .collect();
        found.sort();
        Some(found.pop()?.join("bin/python3"))
    }

    #[test]
    fn queries_the_system_python() {
        let python = Path::new("/usr/bin/python3");
        let interpreter = Interpreter::query(python, None).unwrap();
        assert_eq!(interpreter.executable, python);
        assert_eq!(interpreter.implementation, "cpython");
        assert!(interpreter.base_executable.is_absolute());
        assert_eq!(
            interpreter.base_executable,
            std::fs::canonicalize(python).unwrap()
        );
        let (major, minor) = interpreter.python_minor();
        assert_eq!(major, 3);
        assert_eq!(
            interpreter.venv_scheme.purelib,
            PathBuf::from(format!("lib/python3.{minor}/site-packages"))
        );
        assert_eq!(interpreter.venv_scheme.scripts, PathBuf::from("bin"));
        assert_eq!(interpreter.venv_scheme.data, PathBuf::from(""));
        assert!(matches!(
            interpreter.platform.libc,
            Some(crate::Libc::Glibc { major: 2, .. })
        ));
        assert_eq!(
            interpreter.markers.python_full_version().version,
            interpreter.python_full_version
        );
        assert!(!interpreter.is_venv);
    }

    #[test]
    fn a_warm_cache_answers_without_python_and_a_new_mtime_invalidates_it() {
        let Some(real) = pyenv_python("3.12") else {
            return;
        };
        let cache = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        // A copy we may touch; its RUNPATH/prefix still point at the pyenv install.
        let python = bin.path().join("python3");
        std::fs::copy(&real, &python).unwrap();

        let first = Interpreter::query(&python, Some(cache.path())).unwrap();
        let entries: Vec<_> = std::fs::read_dir(cache.path().join("interpreters"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(entries.len(), 1);

        // Doctor the entry: if the second query reads it, Python was not asked again.
        let doctored = std::fs::read_to_string(&entries[0])
            .unwrap()
            .replace("\"cpython\"", "\"from-the-cache\"");
        std::fs::write(&entries[0], doctored).unwrap();
        let second = Interpreter::query(&python, Some(cache.path())).unwrap();
        assert_eq!(second.implementation, "from-the-cache");
        assert_eq!(second.python_full_version, first.python_full_version);

        {
            // Closed before Python runs: an executable open for writing cannot be started.
            let file = std::fs::File::options().write(true).open(&python).unwrap();
            file.set_modified(UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
                .unwrap();
        }
        let third = Interpreter::query(&python, Some(cache.path())).unwrap();
        assert_eq!(third.implementation, "cpython");
    }

    #[test]
    fn a_venv_python_reports_its_base() {
        let Some(python) = pyenv_python("3.11") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("venv");
        let status = Command::new(&python)
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(status.success());
        let interpreter = Interpreter::query(&venv.join("bin/python"), None).unwrap();
        assert!(interpreter.is_venv);
        assert_eq!(interpreter.prefix, venv);
        assert_eq!(
            interpreter.base_executable,
            std::fs::canonicalize(&python).unwrap()
        );
    }

    #[test]
    fn python_2_is_unsupported_not_broken() {
        let Some(python) = pyenv_python("2.7").map(|p| p.with_file_name("python")) else {
            return;
        };
        let cache = tempfile::tempdir().unwrap();
        for _ in 0..2 {
            let err = Interpreter::query(&python, Some(cache.path())).unwrap_err();
            assert!(
                matches!(&err, Error::Unsupported { version, .. } if version.starts_with("2.7")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_missing_executable_is_an_io_error_naming_it() {
        let err = Interpreter::query(Path::new("/nonexistent/python3"), None).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/python3"), "{err}");
    }
}
