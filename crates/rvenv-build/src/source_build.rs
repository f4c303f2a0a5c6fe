//! One source tree (an sdist or a project directory) and the builds made from it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};

use fs_err as fs;
use rvenv_resolve::CoreMetadata;
use rvenv_venv::{Environment, Interpreter};

use crate::archive::{unpack_sdist, ArchiveFormat};
use crate::build_env::{normalized, BuildEnvironments, BuildRequirementsInstaller};
use crate::error::{Error, Result};
use crate::frontend::{Frontend, Hook, HookEnv};
use crate::pyproject::{BuildSystem, Pyproject};

/// Where the build backend runs.
#[derive(Debug, Clone, Default)]
pub enum BuildIsolation {
    /// In a cached build environment holding exactly the build requirements (PEP 518).
    #[default]
    Isolated,
    /// In this environment as it is (`--no-build-isolation`): the build requirements must
    /// already be installed there; nothing is installed for the build.
    Shared(Box<Environment>),
}

/// How to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub isolation: BuildIsolation,
}

/// What was given to build from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// An sdist, unpacked into scratch space.
    Archive(PathBuf),
    /// A project directory, built in place.
    Directory,
}

/// A source tree ready to give metadata and to be built into wheels and editables.
///
/// Creating one reads files only (an sdist is unpacked into scratch space under the cache); Python
/// starts only when static metadata is not enough or a wheel is built.
#[derive(Debug)]
pub struct SourceBuild {
    source: Source,
    source_dir: PathBuf,
    pyproject: Pyproject,
    interpreter: Interpreter,
    envs: BuildEnvironments,
    isolation: BuildIsolation,
    frontend: Frontend,
    state: Mutex<State>,
    _scratch: tempfile::TempDir,
}

/// What earlier steps left for later ones.
#[derive(Debug, Default)]
struct State {
    wheel_env: Option<HookEnv>,
    editable_env: Option<HookEnv>,
    /// The `.dist-info` directory from `prepare_metadata_for_build_wheel`.
    metadata_dir: Option<PathBuf>,
    /// A wheel built (into scratch space) only to read its metadata.
    built_wheel: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BuildKind {
    Wheel,
    Editable,
}

impl SourceBuild {
    /// Prepares `source` (an sdist file or a project directory) for `interpreter` (the target's
    /// base interpreter, or any interpreter of the right version), with caches under `cache_dir`.
    pub fn new(source: &Path, interpreter: &Interpreter, cache_dir: &Path) -> Result<SourceBuild> {
        SourceBuild::with_options(source, interpreter, cache_dir, BuildOptions::default())
    }

    pub fn with_options(
        source: &Path,
        interpreter: &Interpreter,
        cache_dir: &Path,
        options: BuildOptions,
    ) -> Result<SourceBuild> {
        let cache = rvenv_cache::Cache::open(cache_dir)?;
        let tmp = cache.root().join(".tmp");
        fs::create_dir_all(&tmp)?;
        let scratch = tempfile::Builder::new().prefix("build-").tempdir_in(&tmp)?;
        let source = std::path::absolute(source)?;
        let (kind, source_dir) = if source.is_dir() {
            (Source::Directory, source.clone())
        } else if source.is_file() && ArchiveFormat::from_path(&source).is_some() {
            let root = unpack_sdist(&source, &scratch.path().join("src"))?;
            (Source::Archive(source.clone()), root)
        } else {
            return Err(Error::NotASource { path: source });
        };
        let pyproject = Pyproject::read(&source_dir)?;
        let package = package_label(&kind, &source_dir, &pyproject);
        let frontend = Frontend {
            source_dir: source_dir.clone(),
            build_system: pyproject.build_system.clone(),
            package,
            work_dir: scratch.path().join("frontend"),
            log: scratch.path().join("build.log"),
            failed_logs_dir: cache.root().join("build-logs"),
        };
        Ok(SourceBuild {
            source: kind,
            source_dir,
            pyproject,
            interpreter: interpreter.clone(),
            envs: BuildEnvironments::new(cache),
            isolation: options.isolation,
            frontend,
            state: Mutex::new(State::default()),
            _scratch: scratch,
        })
    }

    /// The project root: the given directory, or the sdist's unpacked top directory.
    pub fn source_dir(&self) -> &Path {
        &self.source_dir
    }

    pub fn build_system(&self) -> &BuildSystem {
        &self.pyproject.build_system
    }

    /// `name==version` when known without building, else the best name known; used in messages.
    pub fn package(&self) -> &str {
        &self.frontend.package
    }

    /// The metadata when it can be read without running the backend: an sdist's PKG-INFO with
    /// Metadata-Version 2.2+ and no dynamic Requires-Dist/Requires-Python (PEP 643), or a
    /// `[project]` table with no dynamic version, dependencies or requires-python (PEP 621).
    pub fn static_metadata(&self) -> Result<Option<CoreMetadata>> {
        if matches!(self.source, Source::Archive(_)) {
            let pkg_info = self.source_dir.join("PKG-INFO");
            if let Ok(text) = fs::read_to_string(&pkg_info) {
                if rvenv_resolve::pkg_info_is_static(&text) {
                    return rvenv_resolve::parse_metadata(text.as_bytes())
                        .map(Some)
                        .map_err(|reason| Error::InvalidMetadata {
                            package: self.package().to_string(),
                            path: pkg_info,
                            reason,
                        });
                }
            }
        }
        self.pyproject
            .static_metadata(&self.source_dir.join("pyproject.toml"))
    }

    /// The core metadata: static if possible, else from `prepare_metadata_for_build_wheel`, else
    /// (a backend without that hook) by building the wheel and reading it; that wheel is then
    /// reused by [`SourceBuild::build_wheel`].
    pub fn metadata(&self, installer: &dyn BuildRequirementsInstaller) -> Result<CoreMetadata> {
        if let Some(metadata) = self.static_metadata()? {
            return Ok(metadata);
        }
        let mut state = self.lock_state();
        if let Some(dist_info) = &state.metadata_dir {
            return self.read_metadata_file(&dist_info.join("METADATA"));
        }
        if let Some(wheel) = &state.built_wheel {
            return self.read_wheel_metadata(wheel);
        }
        let env = self.hook_env(&mut state, BuildKind::Wheel, installer)?;
        let metadata_root = self.frontend.work_dir.join("metadata");
        fs::create_dir_all(&metadata_root)?;
        let prepared = self.frontend.call_for_name(
            &env,
            Hook::PrepareMetadataForBuildWheel,
            vec![path_value(&metadata_root), serde_json::Value::Null],
        )?;
        match prepared {
            Some(name) => {
                let dist_info = metadata_root.join(&name);
                let metadata = self.read_metadata_file(&dist_info.join("METADATA"))?;
                state.metadata_dir = Some(dist_info);
                Ok(metadata)
            }
            None => {
                // PEP 517: without prepare_metadata_for_build_wheel, build the wheel and look.
                let wheel_dir = self.frontend.work_dir.join("wheel");
                let wheel = self.run_build(&env, Hook::BuildWheel, &wheel_dir, None)?;
                let metadata = self.read_wheel_metadata(&wheel)?;
                state.built_wheel = Some(wheel);
                Ok(metadata)
            }
        }
    }

    /// Builds a wheel into `out_dir` (created if needed) and returns its path. The file appears
    /// there complete or not at all.
    pub fn build_wheel(
        &self,
        installer: &dyn BuildRequirementsInstaller,
        out_dir: &Path,
    ) -> Result<PathBuf> {
        let mut state = self.lock_state();
        if let Some(wheel) = &state.built_wheel {
            return publish_copy(wheel, out_dir);
        }
        let env = self.hook_env(&mut state, BuildKind::Wheel, installer)?;
        let metadata_dir = state.metadata_dir.clone();
        self.run_build(&env, Hook::BuildWheel, out_dir, metadata_dir.as_deref())
    }

    /// Builds an editable wheel (PEP 660) into `out_dir` and returns its path. Only a project
    /// directory can be built as editable; the backend must have `build_editable`.
    pub fn build_editable(
        &self,
        installer: &dyn BuildRequirementsInstaller,
        out_dir: &Path,
    ) -> Result<PathBuf> {
        if let Source::Archive(archive) = &self.source {
            return Err(Error::EditableFromArchive {
                package: self.package().to_string(),
                archive: archive.clone(),
            });
        }
        let mut state = self.lock_state();
        let env = self.hook_env(&mut state, BuildKind::Editable, installer)?;
        self.run_build(&env, Hook::BuildEditable, out_dir, None)
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // A panic in another thread mid-build leaves nothing inconsistent worth refusing over.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Calls a build hook with a staging directory inside `out_dir`, checks the result and moves
    /// it into `out_dir`.
    fn run_build(
        &self,
        env: &HookEnv,
        hook: Hook,
        out_dir: &Path,
        metadata_dir: Option<&Path>,
    ) -> Result<PathBuf> {
        fs::create_dir_all(out_dir)?;
        let staging = tempfile::Builder::new()
            .prefix(".rvenv-build-")
            .tempdir_in(out_dir)?;
        let staging_path = std::path::absolute(staging.path())?;
        let args = vec![
            path_value(&staging_path),
            serde_json::Value::Null,
            metadata_dir.map_or(serde_json::Value::Null, path_value),
        ];
        let name = match self.frontend.call_for_name(env, hook, args)? {
            Some(name) => name,
            None if hook == Hook::BuildEditable => {
                return Err(Error::EditableUnsupported {
                    package: self.package().to_string(),
                    backend: self.build_system().backend.clone(),
                })
            }
            None => {
                return Err(self
                    .frontend
                    .failure(hook, "the backend has no build_wheel hook".to_string()))
            }
        };
        let built = staging_path.join(&name);
        let plain_name = Path::new(&name)
            .file_name()
            .is_some_and(|file| file == name.as_str());
        if !plain_name || !name.ends_with(".whl") || !built.is_file() {
            return Err(Error::MissingOutput {
                package: self.package().to_string(),
                backend: self.build_system().backend.clone(),
                hook: hook.name(),
                name,
                path: built,
            });
        }
        let dest = out_dir.join(&name);
        fs::rename(&built, &dest)?;
        Ok(dest)
    }

    /// The Python to run hooks with, creating the build environment on first use: the static
    /// build requirements, then whatever `get_requires_for_build_*` adds.
    fn hook_env(
        &self,
        state: &mut State,
        kind: BuildKind,
        installer: &dyn BuildRequirementsInstaller,
    ) -> Result<HookEnv> {
        let slot = match kind {
            BuildKind::Wheel => &mut state.wheel_env,
            BuildKind::Editable => &mut state.editable_env,
        };
        if let Some(env) = slot {
            return Ok(env.clone());
        }
        let env = match &self.isolation {
            BuildIsolation::Shared(env) => HookEnv {
                python: env.python.clone(),
                isolated_scripts: None,
            },
            BuildIsolation::Isolated => self.isolated_env(kind, installer)?,
        };
        *slot = Some(env.clone());
        Ok(env)
    }

    fn isolated_env(
        &self,
        kind: BuildKind,
        installer: &dyn BuildRequirementsInstaller,
    ) -> Result<HookEnv> {
        let requires = &self.build_system().requires;
        let base =
            self.envs
                .get_or_create(&self.interpreter, requires, installer, self.package())?;
        let base = hook_env_of(&base);
        let hook = match kind {
            BuildKind::Wheel => Hook::GetRequiresForBuildWheel,
            BuildKind::Editable => Hook::GetRequiresForBuildEditable,
        };
        let extra = self.frontend.call_for_requires(&base, hook)?;
        let mut all = requires.clone();
        for text in extra {
            let requirement = rvenv_resolve::parse_requirement(&text).map_err(|err| {
                Error::InvalidBuildRequirement {
                    package: self.package().to_string(),
                    backend: self.build_system().backend.clone(),
                    hook: hook.name(),
                    requirement: text.clone(),
                    reason: err.to_string(),
                }
            })?;
            all.push(requirement);
        }
        if normalized(&all) == normalized(requires) {
            return Ok(base);
        }
        let env = self
            .envs
            .get_or_create(&self.interpreter, &all, installer, self.package())?;
        Ok(hook_env_of(&env))
    }

    fn read_metadata_file(&self, path: &Path) -> Result<CoreMetadata> {
        let bytes = fs::read(path)?;
        rvenv_resolve::parse_metadata(&bytes).map_err(|reason| Error::InvalidMetadata {
            package: self.package().to_string(),
            path: path.to_path_buf(),
            reason,
        })
    }

    /// The METADATA of a wheel: `<name>-<version>.dist-info/METADATA` at the top of the archive.
    fn read_wheel_metadata(&self, wheel: &Path) -> Result<CoreMetadata> {
        let invalid = |reason: String| Error::InvalidMetadata {
            package: self.package().to_string(),
            path: wheel.to_path_buf(),
            reason,
        };
        let file = fs::File::open(wheel)?;
        let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|err| invalid(err.to_string()))?;
        let name = archive
            .file_names()
            .filter_map(Result::ok)
            .find(|name| {
                name.split_once('/')
                    .is_some_and(|(dir, file)| dir.ends_with(".dist-info") && file == "METADATA")
            })
            .map(|name| name.into_owned())
            .ok_or_else(|| invalid("the wheel has no .dist-info/METADATA".to_string()))?;
        let mut bytes = Vec::new();
        archive
            .by_name(&name)
            .map_err(|err| invalid(err.to_string()))?
            .read_to_end(&mut bytes)?;
        rvenv_resolve::parse_metadata(&bytes).map_err(invalid)
    }
}

fn hook_env_of(env: &Environment) -> HookEnv {
    HookEnv {
        python: env.python.clone(),
        isolated_scripts: Some(env.scheme.scripts.clone()),
    }
}

fn path_value(path: &Path) -> serde_json::Value {
    serde_json::Value::String(path.to_string_lossy().into_owned())
}

/// Copies `file` into `out_dir` through a temporary name, so it appears there complete.
fn publish_copy(file: &Path, out_dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(out_dir)?;
    let name = file.file_name().unwrap_or_default();
    let dest = out_dir.join(name);
    let staging = tempfile::Builder::new()
        .prefix(".rvenv-build-")
        .tempdir_in(out_dir)?;
    let staged = staging.path().join(name);
    fs::copy(file, &staged)?;
    fs::rename(&staged, &dest)?;
    Ok(dest)
}

/// The package as far as it is known without building: `name==version` from pyproject.toml, the
/// sdist's PKG-INFO or its file name; else a name and where it comes from.
fn package_label(source: &Source, source_dir: &Path, pyproject: &Pyproject) -> String {
    if let Some((name, version)) = pyproject.name_and_version() {
        return format!("{name}=={version}");
    }
    if let Source::Archive(archive) = source {
        if let Ok(text) = fs::read_to_string(source_dir.join("PKG-INFO")) {
            let headers = rvenv_resolve::parse_headers(&text);
            let field = |wanted: &str| {
                headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
                    .map(|(_, value)| value.clone())
            };
            if let (Some(name), Some(version)) = (field("Name"), field("Version")) {
                return format!("{name}=={version}");
            }
        }
        let filename = archive
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = ArchiveFormat::from_path(archive)
            .map_or(filename.as_str(), |format| format.strip_suffix(&filename));
        return match stem.rsplit_once('-') {
            Some((name, version)) if pep440_rs::Version::from_str(version).is_ok() => {
                format!("{name}=={version}")
            }
            _ => stem.to_string(),
        };
    }
    let name = pyproject.name().map(str::to_string).unwrap_or_else(|| {
        source_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    format!("{name} ({})", source_dir.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_can_run_on_worker_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<SourceBuild>();
        send_sync::<crate::Error>();
    }

    #[test]
    fn labels_prefer_pyproject_then_pkg_info_then_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("setup.py"), "").unwrap();
        let archive = Source::Archive(PathBuf::from("/x/Foo_Bar-1.0rc1.tar.gz"));
        let legacy = Pyproject::read(&src).unwrap();
        assert_eq!(package_label(&archive, &src, &legacy), "Foo_Bar==1.0rc1");

        fs::write(
            src.join("PKG-INFO"),
            "Metadata-Version: 1.0\nName: foo-bar\nVersion: 1.0\n",
        )
        .unwrap();
        assert_eq!(package_label(&archive, &src, &legacy), "foo-bar==1.0");

        fs::write(
            src.join("pyproject.toml"),
            "[project]\nname = \"fb\"\nversion = \"2\"\n",
        )
        .unwrap();
        let pyproject = Pyproject::read(&src).unwrap();
        assert_eq!(package_label(&archive, &src, &pyproject), "fb==2");

        let label = package_label(&Source::Directory, &src, &legacy);
        assert_eq!(label, format!("src ({})", src.display()));
    }
}
