//! Calling a build backend's hooks through the embedded frontend script, one process per hook
//! (as PEP 517 expects: a backend may keep state in its module, and a crash stays contained).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fs_err as fs;
use serde::Deserialize;

use crate::error::{Error, HookFailure, Result};
use crate::pyproject::BuildSystem;

const FRONTEND_SCRIPT: &str = include_str!("frontend.py");

/// How many lines of the backend's output a build error shows.
const TAIL_LINES: usize = 30;

/// The PEP 517/660 hooks rvenv calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    GetRequiresForBuildWheel,
    PrepareMetadataForBuildWheel,
    BuildWheel,
    GetRequiresForBuildEditable,
    BuildEditable,
}

impl Hook {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Hook::GetRequiresForBuildWheel => "get_requires_for_build_wheel",
            Hook::PrepareMetadataForBuildWheel => "prepare_metadata_for_build_wheel",
            Hook::BuildWheel => "build_wheel",
            Hook::GetRequiresForBuildEditable => "get_requires_for_build_editable",
            Hook::BuildEditable => "build_editable",
        }
    }
}

/// What a hook gave back.
#[derive(Debug)]
pub(crate) enum HookOutput {
    Value(serde_json::Value),
    /// The backend does not define the hook; PEP 517 says what to do instead.
    Missing,
}

#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Outcome {
    Ok {
        value: serde_json::Value,
    },
    Missing,
    Error {
        message: String,
        #[serde(default)]
        traceback: String,
    },
}

/// Where and how hooks run for one source tree.
#[derive(Debug)]
pub(crate) struct Frontend {
    pub source_dir: PathBuf,
    pub build_system: BuildSystem,
    /// `name==version` (or the best name known) for messages.
    pub package: String,
    /// Scratch space: the script, requests and results.
    pub work_dir: PathBuf,
    /// The backend's output of every hook, appended.
    pub log: PathBuf,
    /// Where a failed build's log is kept after the scratch space is gone.
    pub failed_logs_dir: PathBuf,
}

/// The Python to run hooks with, and whether it is an isolated build environment.
#[derive(Debug, Clone)]
pub(crate) struct HookEnv {
    pub python: PathBuf,
    /// The build venv's scripts directory, put first on PATH (backends run tools such as cython
    /// or ninja installed as build requirements). `None` when building without isolation.
    pub isolated_scripts: Option<PathBuf>,
}

impl Frontend {
    /// Calls `hook` with `args` in `env`.
    pub(crate) fn call(
        &self,
        env: &HookEnv,
        hook: Hook,
        args: Vec<serde_json::Value>,
    ) -> Result<HookOutput> {
        fs::create_dir_all(&self.work_dir)?;
        let script = self.work_dir.join("rvenv_build_frontend.py");
        if !script.is_file() {
            fs::write(&script, FRONTEND_SCRIPT)?;
        }
        let request_path = self.work_dir.join(format!("{}.request.json", hook.name()));
        let result_path = self.work_dir.join(format!("{}.result.json", hook.name()));
        let _ = fs::remove_file(&result_path);
        let request = serde_json::json!({
            "backend": self.build_system.backend,
            "backend_path": self.build_system.backend_path,
            "hook": hook.name(),
            "args": args,
            "result": result_path,
        });
        fs::write(&request_path, request.to_string())?;

        let mut log = fs::File::options()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let start = log.metadata()?.len();
        writeln!(
            log,
            "==> {} ({}) in {}",
            hook.name(),
            self.build_system.backend,
            self.source_dir.display()
        )?;
        let mut command = Command::new(&env.python);
        command
            .arg(&script)
            .arg(&request_path)
            .current_dir(&self.source_dir)
            .stdin(Stdio::null())
            .stdout(log.file().try_clone()?)
            .stderr(log.file().try_clone()?)
            .env("PYTHONUNBUFFERED", "1");
        if let Some(scripts) = &env.isolated_scripts {
            // Isolation: nothing from the user's PYTHONPATH or user site leaks into the build.
            // Everything else (CC, CFLAGS, LDFLAGS, LD_LIBRARY_PATH, ...) passes through.
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut dirs = vec![scripts.clone()];
            dirs.extend(std::env::split_paths(&path));
            command
                .env(
                    "PATH",
                    std::env::join_paths(dirs).map_err(std::io::Error::other)?,
                )
                .env_remove("PYTHONPATH")
                .env("PYTHONNOUSERSITE", "1");
        }
        let status = command.status().map_err(|source| Error::SpawnPython {
            package: self.package.clone(),
            python: env.python.clone(),
            source,
        })?;
        let outcome = fs::read(&result_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Outcome>(&bytes).ok());
        match outcome {
            Some(Outcome::Ok { value }) => Ok(HookOutput::Value(value)),
            Some(Outcome::Missing) => Ok(HookOutput::Missing),
            Some(Outcome::Error { message, traceback }) => {
                if !traceback.is_empty() {
                    writeln!(log, "--- the hook raised ---\n{}", traceback.trim_end())?;
                }
                // The backend's own output explains a failure best; its traceback, when it
                // printed nothing.
                let output = read_from(&self.log, start);
                let hook_output = output.split("--- the hook raised ---").next().unwrap_or("");
                let shown = if hook_output.lines().count() > 1 {
                    hook_output
                } else {
                    traceback.as_str()
                };
                Err(self.failure_with_tail(hook, message, last_lines(shown, TAIL_LINES)))
            }
            None => Err(self.failure(
                hook,
                format!("the frontend process ended with {status} without a result"),
            )),
        }
    }

    /// Calls a hook that must return a file name (build_wheel, build_editable,
    /// prepare_metadata_for_build_wheel): `None` when the backend lacks the hook.
    pub(crate) fn call_for_name(
        &self,
        env: &HookEnv,
        hook: Hook,
        args: Vec<serde_json::Value>,
    ) -> Result<Option<String>> {
        match self.call(env, hook, args)? {
            HookOutput::Missing => Ok(None),
            HookOutput::Value(serde_json::Value::String(name)) => Ok(Some(name)),
            HookOutput::Value(other) => {
                Err(self.failure(hook, format!("it returned {other} instead of a file name")))
            }
        }
    }

    /// Calls a `get_requires_for_build_*` hook: the extra requirements, none when it is missing.
    pub(crate) fn call_for_requires(&self, env: &HookEnv, hook: Hook) -> Result<Vec<String>> {
        match self.call(env, hook, vec![serde_json::Value::Null])? {
            HookOutput::Missing => Ok(Vec::new()),
            HookOutput::Value(serde_json::Value::Array(items)) => Ok(items
                .into_iter()
                .map(|item| match item {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                })
                .collect()),
            HookOutput::Value(other) => Err(self.failure(
                hook,
                format!("it returned {other} instead of a list of requirements"),
            )),
        }
    }

    /// A build failure naming the package, backend and hook, with the output's tail and a kept log.
    pub(crate) fn failure(&self, hook: Hook, cause: String) -> Error {
        let tail = last_lines(&read_from(&self.log, 0), TAIL_LINES);
        self.failure_with_tail(hook, cause, tail)
    }

    fn failure_with_tail(&self, hook: Hook, cause: String, tail: String) -> Error {
        Error::HookFailed(Box::new(HookFailure {
            package: self.package.clone(),
            backend: self.build_system.backend.clone(),
            hook: hook.name(),
            cause,
            tail,
            log: self.keep_log(),
        }))
    }

    /// Copies the log out of the scratch space into the cache's log directory.
    fn keep_log(&self) -> PathBuf {
        let kept = fs::create_dir_all(&self.failed_logs_dir)
            .and_then(|()| {
                let prefix: String = self
                    .package
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "._-=".contains(c) {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                tempfile::Builder::new()
                    .prefix(&format!("{prefix}-"))
                    .suffix(".log")
                    .tempfile_in(&self.failed_logs_dir)
                    .map_err(std::io::Error::other)
            })
            .and_then(|file| {
                let (_, path) = file.keep().map_err(|err| err.error)?;
                fs::copy(&self.log, &path)?;
                Ok(path)
            });
        kept.unwrap_or_else(|_| self.log.clone())
    }
}

/// A file's text from byte `offset` on (empty when it cannot be read).
fn read_from(path: &Path, offset: u64) -> String {
    let Ok(bytes) = fs::read(path) else {
        return String::new();
    };
    let offset = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    String::from_utf8_lossy(&bytes[offset..]).into_owned()
}

/// The last `count` non-empty-at-the-end lines of `text`.
fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().map(str::trim_end).collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        fs::write(&path, text).unwrap();
        let tail = last_lines(&read_from(&path, 0), 30);
        assert!(tail.starts_with("line 21\n"), "{tail}");
        assert!(tail.ends_with("line 50"), "{tail}");
        assert_eq!(
            last_lines(&read_from(&path, 7), 100).lines().next(),
            Some("line 2")
        );
        assert_eq!(read_from(&dir.path().join("missing"), 0), "");
    }
}
