//! Isolated build environments (PEP 518), cached and shared between builds.
//!
//! A build environment is a venv of the target's base interpreter holding exactly a set of build
//! requirements. Building a second project with the same requirements reuses it, so a
//! requirements file full of setuptools sdists installs setuptools once. The entry for a key is
//! created under a lock and marked complete last: a venv's scripts hold its absolute path, so it is
//! built where it will stay, and an entry without the marker (a crash mid-way) is rebuilt.

use std::path::{Path, PathBuf};

use fs_err as fs;
use pep508_rs::Requirement;
use rvenv_venv::{create_venv, CreateOptions, Environment, Interpreter, OnExisting};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Installs build requirements into a build environment. The binary implements it with its own
/// resolver and installer; tests may call pip.
pub trait BuildRequirementsInstaller: Send + Sync {
    /// Installs `requirements` (and their dependencies) into `venv`. The message of an `Err` is
    /// shown to the user after "cannot install the build requirements of <package>".
    fn install(
        &self,
        venv: &rvenv_venv::Environment,
        requirements: &[Requirement],
    ) -> Result<(), String>;
}

/// The marker written into a build environment once its requirements are installed.
const READY_MARKER: &str = ".rvenv-build-env.json";

/// The build environments under one cache directory.
#[derive(Debug)]
pub struct BuildEnvironments {
    cache: rvenv_cache::Cache,
}

impl BuildEnvironments {
    pub fn new(cache: rvenv_cache::Cache) -> Self {
        BuildEnvironments { cache }
    }

    /// The directory holding every build environment.
    pub fn root(&self) -> PathBuf {
        self.cache.root().join("build-envs-v1")
    }

    /// The environment with exactly `requirements` for `interpreter`, created (and its
    /// requirements installed by `installer`) when no complete one exists yet.
    pub fn get_or_create(
        &self,
        interpreter: &Interpreter,
        requirements: &[Requirement],
        installer: &dyn BuildRequirementsInstaller,
        package: &str,
    ) -> Result<Environment> {
        let requirements = normalized(requirements);
        let key = build_env_key(interpreter, &requirements);
        let root = self.root().join(&key);
        if root.join(READY_MARKER).is_file() {
            return Ok(environment_at(&root, interpreter));
        }
        let _lock = self.cache.lock(&format!("build-env-{key}"))?;
        // Another process may have finished it while we waited.
        if root.join(READY_MARKER).is_file() {
            return Ok(environment_at(&root, interpreter));
        }
        if root.exists() {
            fs::remove_dir_all(&root)?;
        }
        let options = CreateOptions {
            prompt: Some(format!("build-{key}")),
            on_existing: OnExisting::Clear,
            ..CreateOptions::default()
        };
        create_venv(&root, interpreter, &options).map_err(|source| Error::CreateBuildEnv {
            path: root.clone(),
            source,
        })?;
        let env = environment_at(&root, interpreter);
        if !requirements.is_empty() {
            if let Err(message) = installer.install(&env, &requirements) {
                let _ = fs::remove_dir_all(&root);
                return Err(Error::InstallBuildRequirements {
                    package: package.to_string(),
                    requirements: display_list(&requirements),
                    message,
                });
            }
        }
        let marker = serde_json::json!({
            "interpreter": interpreter.base_executable,
            "python": interpreter.python_full_version.to_string(),
            "requirements": requirements.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        rvenv_cache::write_atomic(&root.join(READY_MARKER), marker.to_string().as_bytes())?;
        Ok(env)
    }
}

/// An [`Environment`] for a venv rvenv made at `root`, without starting Python again.
fn environment_at(root: &Path, interpreter: &Interpreter) -> Environment {
    Environment {
        root: root.to_path_buf(),
        interpreter: interpreter.clone(),
        scheme: interpreter.venv_scheme.under(root),
        python: root.join(&interpreter.venv_scheme.scripts).join("python"),
    }
}

/// The requirements sorted by their text with duplicates removed, so the order in
/// `pyproject.toml` does not matter.
pub(crate) fn normalized(requirements: &[Requirement]) -> Vec<Requirement> {
    let mut sorted: Vec<(String, Requirement)> = requirements
        .iter()
        .map(|requirement| (requirement.to_string(), requirement.clone()))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.dedup_by(|a, b| a.0 == b.0);
    sorted
        .into_iter()
        .map(|(_, requirement)| requirement)
        .collect()
}

/// The cache key of a build environment: the base interpreter and its version, and the sorted
/// requirement set.
pub fn build_env_key(interpreter: &Interpreter, requirements: &[Requirement]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(interpreter.base_executable.to_string_lossy().as_bytes());
    hasher.update(b"\0");
    hasher.update(interpreter.implementation.as_bytes());
    hasher.update(b"\0");
    hasher.update(interpreter.python_full_version.to_string().as_bytes());
    for requirement in normalized(requirements) {
        hasher.update(b"\0");
        hasher.update(requirement.to_string().as_bytes());
    }
    let digest = hasher.finalize();
    let (major, minor) = interpreter.python_minor();
    let hash: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}{major}.{minor}-{hash}", interpreter.implementation)
}

pub(crate) fn display_list(requirements: &[Requirement]) -> String {
    if requirements.is_empty() {
        return "none".to_string();
    }
    requirements
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
