//! Build requirements installed by rvenv's own pipeline into isolated build environments.

use std::path::PathBuf;
use std::sync::Arc;

use pep508_rs::Requirement;
use rvenv_build::BuildRequirementsInstaller;
use rvenv_resolve::Origin;
use rvenv_venv::Environment;

use super::installer::{Context, Installer, Request};

/// How many builds may nest: a build requirement that itself has to be built from source, whose
/// build requirements have to be built, ... Real projects need one or two levels; more is a
/// cycle (setuptools built from source needs setuptools) or a --no-binary that went too far.
const MAX_BUILD_DEPTH: usize = 3;

/// Installs build requirements with the same cache, indexes and settings as the user's install.
pub struct BuildEnvInstaller {
    context: Arc<Context>,
    /// The depth of the installs this one makes (1: build requirements of the user's packages).
    depth: usize,
    envs_in_progress: Vec<PathBuf>,
}

impl BuildEnvInstaller {
    pub fn new(context: Arc<Context>, depth: usize, envs_in_progress: Vec<PathBuf>) -> Self {
        BuildEnvInstaller {
            context,
            depth,
            envs_in_progress,
        }
    }
}

impl BuildRequirementsInstaller for BuildEnvInstaller {
    fn install(&self, venv: &Environment, requirements: &[Requirement]) -> Result<(), String> {
        if self.depth > MAX_BUILD_DEPTH {
            return Err(format!(
                "building them needs builds nested more than {MAX_BUILD_DEPTH} levels deep \
                 (build requirements that must themselves be built from source); hint: allow \
                 wheels for build requirements (check --no-binary)"
            ));
        }
        let mut envs_in_progress = self.envs_in_progress.clone();
        envs_in_progress.push(venv.root.clone());
        let installer = Installer::nested(Arc::clone(&self.context), self.depth, envs_in_progress);
        let request = Request {
            requirements: requirements
                .iter()
                .map(|requirement| (requirement.clone(), Origin::from("build requirement")))
                .collect(),
            ..Request::default()
        };
        installer
            .install(venv, &request)
            .map(|_| ())
            .map_err(|err| error_text(&err))
    }
}

/// The error and its causes on one line, each text once.
fn error_text(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
