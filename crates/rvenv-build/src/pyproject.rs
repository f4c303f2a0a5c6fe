//! `pyproject.toml`: the `[build-system]` table (PEP 517/518) and the static parts of `[project]`
//! (PEP 621).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use fs_err as fs;
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerTree, PackageName, Requirement};
use rvenv_resolve::parse_requirement;
use rvenv_resolve::CoreMetadata;
use serde::Deserialize;

use crate::error::{Error, Result};

/// How to build a source tree: what to install first and which backend to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSystem {
    /// `[build-system] requires`.
    pub requires: Vec<Requirement>,
    /// `build-backend`: `module` or `module:object`.
    pub backend: String,
    /// `backend-path`, resolved to absolute directories inside the source tree.
    pub backend_path: Vec<PathBuf>,
}

impl BuildSystem {
    /// What pip assumes for a project without `[build-system]`: setuptools' legacy backend, which
    /// runs `setup.py` as `setup.py bdist_wheel` would.
    pub fn legacy_setuptools() -> BuildSystem {
        BuildSystem {
            requires: vec![
                Requirement::from_str("setuptools>=40.8.0").expect("a valid requirement literal")
            ],
            backend: "setuptools.build_meta:__legacy__".to_string(),
            backend_path: Vec::new(),
        }
    }
}

/// What `pyproject.toml` says, as far as building goes.
#[derive(Debug, Clone)]
pub struct Pyproject {
    pub build_system: BuildSystem,
    /// The `[project]` table, when there is one.
    project: Option<ProjectTable>,
}

#[derive(Debug, Deserialize)]
struct PyprojectToml {
    #[serde(rename = "build-system")]
    build_system: Option<BuildSystemTable>,
    project: Option<ProjectTable>,
}

#[derive(Debug, Deserialize)]
struct BuildSystemTable {
    requires: Option<Vec<String>>,
    #[serde(rename = "build-backend")]
    build_backend: Option<String>,
    #[serde(rename = "backend-path")]
    backend_path: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
struct ProjectTable {
    name: Option<String>,
    version: Option<String>,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
    dependencies: Option<Vec<String>>,
    #[serde(rename = "optional-dependencies")]
    optional_dependencies: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    dynamic: Vec<String>,
}

impl Pyproject {
    /// Reads `<source_dir>/pyproject.toml`; without one, or without `[build-system]`, the build
    /// system is [`BuildSystem::legacy_setuptools`] (then `setup.py` must exist).
    pub fn read(source_dir: &Path) -> Result<Pyproject> {
        let path = source_dir.join("pyproject.toml");
        if !path.is_file() {
            if !source_dir.join("setup.py").is_file() {
                return Err(Error::NotAProject {
                    dir: source_dir.to_path_buf(),
                });
            }
            return Ok(Pyproject {
                build_system: BuildSystem::legacy_setuptools(),
                project: None,
            });
        }
        let invalid = |reason: String| Error::InvalidPyproject {
            path: path.clone(),
            reason,
        };
        let text = fs::read_to_string(&path)?;
        let parsed: PyprojectToml =
            toml::from_str(&text).map_err(|err| invalid(err.to_string()))?;
        let build_system = match parsed.build_system {
            None => BuildSystem::legacy_setuptools(),
            Some(table) => {
                // PEP 518: a [build-system] table must list its requirements.
                let requires = table.requires.ok_or_else(|| {
                    invalid(
                        "[build-system] has no `requires` list (PEP 518 makes it mandatory)".into(),
                    )
                })?;
                let requires = requires
                    .iter()
                    .map(|text| {
                        // Guarded parse: pep508_rs panics on some malformed names.
                        parse_requirement(text).map_err(|err| {
                            invalid(format!(
                                "invalid [build-system] requirement `{text}`: {err}"
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let backend_path = table
                    .backend_path
                    .unwrap_or_default()
                    .iter()
                    .map(|entry| backend_path_entry(source_dir, entry).map_err(&invalid))
                    .collect::<Result<Vec<_>>>()?;
                match table.build_backend {
                    Some(backend) => BuildSystem {
                        requires,
                        backend,
                        backend_path,
                    },
                    // PEP 517: without build-backend, fall back to running setup.py as before.
                    None => BuildSystem {
                        requires,
                        ..BuildSystem::legacy_setuptools()
                    },
                }
            }
        };
        Ok(Pyproject {
            build_system,
            project: parsed.project,
        })
    }

    /// `[project] name` and `version` when both are given statically.
    pub fn name_and_version(&self) -> Option<(String, String)> {
        let project = self.project.as_ref()?;
        let version = project
            .version
            .clone()
            .filter(|_| !project.is_dynamic("version"))?;
        Some((project.name.clone()?, version))
    }

    /// `[project] name`, even when the version is dynamic.
    pub fn name(&self) -> Option<&str> {
        self.project.as_ref()?.name.as_deref()
    }

    /// PEP 621 metadata, when `[project]` gives everything the resolver needs without running the
    /// backend: a name and a version, dependencies, optional dependencies and requires-python,
    /// none of them listed in `dynamic`. `Err` when the table is there and static but invalid.
    pub fn static_metadata(&self, path: &Path) -> Result<Option<CoreMetadata>> {
        let Some(project) = &self.project else {
            return Ok(None);
        };
        let dynamic = [
            "version",
            "dependencies",
            "optional-dependencies",
            "requires-python",
        ];
        if dynamic.iter().any(|field| project.is_dynamic(field)) {
            return Ok(None);
        }
        let (Some(name), Some(version)) = (&project.name, &project.version) else {
            return Ok(None);
        };
        let invalid = |reason: String| Error::InvalidPyproject {
            path: path.to_path_buf(),
            reason,
        };
        let name = PackageName::from_str(name)
            .map_err(|err| invalid(format!("invalid [project] name `{name}`: {err}")))?;
        let version = Version::from_str(version)
            .map_err(|err| invalid(format!("invalid [project] version `{version}`: {err}")))?;
        let requires_python = project
            .requires_python
            .as_deref()
            .map(|text| {
                VersionSpecifiers::from_str(text)
                    .map_err(|err| invalid(format!("invalid requires-python `{text}`: {err}")))
            })
            .transpose()?;
        let parse = |text: &String| {
            parse_requirement(text)
                .map_err(|err| invalid(format!("invalid dependency `{text}`: {err}")))
        };
        let mut requires_dist = project
            .dependencies
            .iter()
            .flatten()
            .map(parse)
            .collect::<Result<Vec<_>>>()?;
        let mut provides_extras = Vec::new();
        for (extra, requirements) in project.optional_dependencies.iter().flatten() {
            let extra = ExtraName::from_str(extra)
                .map_err(|err| invalid(format!("invalid extra name `{extra}`: {err}")))?;
            let marker = MarkerTree::from_str(&format!("extra == \"{extra}\""))
                .map_err(|err| invalid(format!("extra `{extra}`: {err}")))?;
            for text in requirements {
                let mut requirement = parse(text)?;
                requirement.marker.and(marker.clone());
                requires_dist.push(requirement);
            }
            provides_extras.push(extra);
        }
        Ok(Some(CoreMetadata {
            name,
            version,
            requires_dist,
            requires_python,
            provides_extras,
        }))
    }
}

impl ProjectTable {
    fn is_dynamic(&self, field: &str) -> bool {
        self.dynamic.iter().any(|entry| entry == field)
    }
}

/// A `backend-path` entry as an absolute directory; PEP 517 requires it to stay in the tree.
fn backend_path_entry(source_dir: &Path, entry: &str) -> std::result::Result<PathBuf, String> {
    let relative = Path::new(entry);
    let mut depth = 0usize;
    for component in relative.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => depth -= 1,
            _ => {
                return Err(format!(
                    "backend-path entry `{entry}` leaves the source tree (PEP 517 requires it to stay inside)"
                ))
            }
        }
    }
    let joined = source_dir.join(relative);
    // A symlinked directory could still point elsewhere.
    if let (Ok(resolved), Ok(root)) = (fs::canonicalize(&joined), fs::canonicalize(source_dir)) {
        if !resolved.starts_with(&root) {
            return Err(format!(
                "backend-path entry `{entry}` resolves to {}, outside the source tree",
                resolved.display()
            ));
        }
    }
    std::path::absolute(joined).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(toml: &str) -> Result<(tempfile::TempDir, Pyproject)> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("pyproject.toml"), toml).unwrap();
        Pyproject::read(dir.path()).map(|pyproject| (dir, pyproject))
    }

    #[test]
    fn without_build_system_pip_defaults_apply() {
        let (_dir, pyproject) = read("[tool.black]\nline-length = 100\n").unwrap();
        assert_eq!(pyproject.build_system, BuildSystem::legacy_setuptools());
        assert_eq!(
            pyproject.build_system.requires[0].to_string(),
            "setuptools>=40.8.0"
        );
    }

    #[test]
    fn without_pyproject_setup_py_means_legacy_setuptools() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("setup.py"), "").unwrap();
        let pyproject = Pyproject::read(dir.path()).unwrap();
        assert_eq!(
            pyproject.build_system.backend,
            "setuptools.build_meta:__legacy__"
        );
        let empty = tempfile::tempdir().unwrap();
        let err = Pyproject::read(empty.path()).unwrap_err();
        assert!(err
            .to_string()
            .contains("neither pyproject.toml nor setup.py"));
    }

    #[test]
    fn reads_build_system_with_backend_path() {
        let (dir, pyproject) = read(
            "[build-system]\nrequires = [\"flit_core >=3.2,<4\"]\nbuild-backend = \"backend:impl\"\nbackend-path = [\"_build\", \".\"]\n",
        )
        .unwrap();
        let system = pyproject.build_system;
        assert_eq!(system.backend, "backend:impl");
        assert_eq!(system.requires[0].name.as_ref(), "flit-core");
        assert_eq!(
            system.backend_path,
            [dir.path().join("_build"), dir.path().to_path_buf()]
        );
    }

    #[test]
    fn refuses_backend_path_outside_the_tree() {
        let err = read("[build-system]\nrequires = []\nbuild-backend = \"b\"\nbackend-path = [\"../elsewhere\"]\n")
            .unwrap_err();
        assert!(err.to_string().contains("leaves the source tree"), "{err}");
        let err = read(
            "[build-system]\nrequires = []\nbuild-backend = \"b\"\nbackend-path = [\"/abs\"]\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("`/abs`"), "{err}");
    }

    #[test]
    fn requires_is_mandatory_and_checked() {
        let err = read("[build-system]\nbuild-backend = \"b\"\n").unwrap_err();
        assert!(err.to_string().contains("no `requires`"), "{err}");
        let err = read("[build-system]\nrequires = [\"not a req!\"]\n").unwrap_err();
        assert!(err.to_string().contains("`not a req!`"), "{err}");
        let err = read("[build-system\n").unwrap_err();
        assert!(err.to_string().contains("pyproject.toml"), "{err}");
    }

    #[test]
    fn static_project_metadata_with_extras() {
        let (dir, pyproject) = read(
            "[project]\nname = \"Demo.Pkg\"\nversion = \"1.2\"\nrequires-python = \">=3.8\"\n\
             dependencies = [\"requests>=2\"]\n\
             [project.optional-dependencies]\nSocks = [\"pysocks; os_name == 'posix'\"]\n",
        )
        .unwrap();
        let metadata = pyproject
            .static_metadata(&dir.path().join("pyproject.toml"))
            .unwrap()
            .unwrap();
        assert_eq!(metadata.name.as_ref(), "demo-pkg");
        assert_eq!(metadata.version.to_string(), "1.2");
        assert_eq!(metadata.requires_python.unwrap().to_string(), ">=3.8");
        assert_eq!(metadata.provides_extras[0].as_ref(), "socks");
        let requires: Vec<String> = metadata
            .requires_dist
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(requires[0], "requests>=2");
        assert!(requires[1].starts_with("pysocks ; "), "{}", requires[1]);
        assert!(
            requires[1].contains("os_name == 'posix'") && requires[1].contains("extra == 'socks'"),
            "{}",
            requires[1]
        );
    }

    #[test]
    fn dynamic_fields_disable_static_metadata() {
        for dynamic in [
            "version",
            "dependencies",
            "optional-dependencies",
            "requires-python",
        ] {
            let (dir, pyproject) = read(&format!(
                "[project]\nname = \"x\"\nversion = \"1\"\ndynamic = [\"{dynamic}\"]\n"
            ))
            .unwrap();
            let path = dir.path().join("pyproject.toml");
            assert!(
                pyproject.static_metadata(&path).unwrap().is_none(),
                "{dynamic}"
            );
        }
        let (dir, pyproject) = read("[project]\nname = \"x\"\ndynamic = [\"version\"]\n").unwrap();
        assert!(pyproject
            .static_metadata(&dir.path().join("pyproject.toml"))
            .unwrap()
            .is_none());
        assert_eq!(pyproject.name(), Some("x"));
        assert_eq!(pyproject.name_and_version(), None);
    }

    #[test]
    fn static_but_invalid_metadata_is_an_error() {
        let (dir, pyproject) =
            read("[project]\nname = \"x\"\nversion = \"1\"\ndependencies = [\"bad req!\"]\n")
                .unwrap();
        let err = pyproject
            .static_metadata(&dir.path().join("pyproject.toml"))
            .unwrap_err();
        assert!(err.to_string().contains("`bad req!`"), "{err}");
    }

    /// pep508_rs panics on some malformed names; a downloaded sdist must not crash rvenv.
    #[test]
    fn requirements_that_would_crash_the_parser_are_errors() {
        let err = read("[build-system]\nrequires = [\"lib..>=1\"]\nbuild-backend = \"b\"\n")
            .expect_err("refused");
        assert!(err.to_string().contains("`lib..>=1`"), "{err}");
        let (dir, pyproject) =
            read("[project]\nname = \"x\"\nversion = \"1\"\ndependencies = [\"lib..>=1\"]\n")
                .unwrap();
        let err = pyproject
            .static_metadata(&dir.path().join("pyproject.toml"))
            .unwrap_err();
        assert!(err.to_string().contains("`lib..>=1`"), "{err}");
    }
}
