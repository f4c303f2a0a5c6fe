//! The install pipeline for one environment and one request, callable for the user's target
//! and, quietly, for build environments (their build requirements).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use pep508_rs::{ExtraName, PackageName, Requirement};
use rvenv_build::BuildIsolation;
use rvenv_cache::Cache;
use rvenv_index::IndexProvider;
use rvenv_install::{InstallOptions, InstallTarget, LinkMode};
use rvenv_resolve::{resolve, Origin, Prereleases, ResolveOptions, ResolveRequest, Upgrade};
use rvenv_sources::{BuildConfig, Builds, DirectDist, DirectRequest, SourceProvider};
use rvenv_venv::Environment;

use super::build_env::BuildEnvInstaller;
use super::{bytecode, changes, fast_path, fetch, inputs, report};
use crate::output::{human_duration, Printer};

/// What every install of one rvenv run shares: the cache, the indexes (pages and metadata
/// fetched once serve the target and the build environments alike) and the settings.
pub struct Context {
    pub cache: Arc<Cache>,
    pub index: IndexProvider,
    pub runtime: tokio::runtime::Handle,
    pub link_mode: LinkMode,
    pub compile_bytecode: bool,
    pub concurrent_downloads: usize,
    pub prereleases: Prereleases,
    pub prefer_binary: bool,
    /// `--no-build-isolation`: the target's own builds run in the target environment.
    pub no_build_isolation: bool,
    pub max_parallel_builds: usize,
}

/// A direct requirement with what the user wrote around it.
#[derive(Debug, Clone)]
pub struct DirectInput {
    pub request: DirectRequest,
    pub extras: Vec<ExtraName>,
    pub origin: Origin,
}

/// What to install.
#[derive(Debug, Default)]
pub struct Request {
    /// Named requirements whose markers hold for the target.
    pub requirements: Vec<(Requirement, Origin)>,
    pub constraints: Vec<(Requirement, Origin)>,
    /// URLs, paths, repositories and editables.
    pub direct: Vec<DirectInput>,
    /// In hash-checking mode: the hashes allowed for each package.
    pub hashes: HashMap<PackageName, Vec<rvenv_requirements::Hash>>,
    pub hash_mode: bool,
    pub upgrade: bool,
    pub force_reinstall: bool,
    pub no_deps: bool,
    pub dry_run: bool,
    /// `--report FILE`.
    pub report: Option<PathBuf>,
}

/// What an install changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub installed: usize,
    pub removed: usize,
    /// Packages found installed as required.
    pub unchanged: usize,
}

/// Runs the pipeline of DESIGN.md (fast path, resolve, plan, fetch and build, install,
/// bytecode) for environments of one interpreter family.
pub struct Installer {
    context: Arc<Context>,
    printer: Printer,
    /// 0 for the user's environment; n for build requirements n builds down.
    depth: usize,
    /// The build environments the enclosing installs are filling (empty at depth 0).
    envs_in_progress: Vec<PathBuf>,
}

impl Installer {
    pub fn new(context: Arc<Context>, printer: Printer) -> Installer {
        Installer {
            context,
            printer,
            depth: 0,
            envs_in_progress: Vec::new(),
        }
    }

    /// The installer of a build environment `depth` builds down: prints nothing.
    pub(super) fn nested(
        context: Arc<Context>,
        depth: usize,
        envs_in_progress: Vec<PathBuf>,
    ) -> Installer {
        Installer {
            context,
            printer: Printer::new(1, 0),
            depth,
            envs_in_progress,
        }
    }

    /// Installs `request` into `environment`. The caller holds the environment's lock.
    pub fn install(&self, environment: &Environment, request: &Request) -> anyhow::Result<Outcome> {
        let started = Instant::now();
        let printer = &self.printer;
        let installed = rvenv_install::installed_distributions(&environment.site_packages())?;

        // The fast path: everything asked for is installed, with its dependencies. No network.
        // Hash-checking mode checks what is downloaded; as in pip, installed pins satisfy it.
        if !request.upgrade && !request.force_reinstall {
            match fast_path::check(request, &installed, &environment.interpreter.markers) {
                Ok(count) => {
                    if let Some(path) = &request.report {
                        report::write_nothing_to_install(path, environment)?;
                    }
                    printer.status(format!(
                        "Audited {count} package{} in {}",
                        plural(count),
                        human_duration(started.elapsed())
                    ));
                    return Ok(Outcome {
                        unchanged: count,
                        ..Outcome::default()
                    });
                }
                Err(reason) => printer.detail(format!("Resolving: {reason}")),
            }
        }

        let builds = Builds::new(self.build_config(environment, request));
        let direct = self.prepare_direct(&builds, request)?;
        let provider = SourceProvider::new(self.context.index.clone(), builds, direct.dists);
        let resolve_request = ResolveRequest {
            requirements: request
                .requirements
                .iter()
                .cloned()
                .chain(direct.requirements)
                .collect(),
            constraints: request.constraints.clone(),
            // The resolver drops the preferences of the packages it upgrades.
            preferences: inputs::preferences(&installed),
        };
        let options = ResolveOptions {
            prereleases: self.context.prereleases,
            no_deps: request.no_deps,
            // pip's default upgrade strategy, only-if-needed: `-U` upgrades what was asked for;
            // its dependencies change only when the new versions need them to.
            upgrade: if request.upgrade {
                Upgrade::Packages(
                    resolve_request
                        .requirements
                        .iter()
                        .map(|(requirement, _)| requirement.name.clone())
                        .collect(),
                )
            } else {
                Upgrade::None
            },
            prefer_binary: self.context.prefer_binary,
        };
        let resolving = Instant::now();
        let resolution = self
            .context
            .runtime
            .block_on(resolve(
                &resolve_request,
                Arc::new(provider.clone()),
                &environment.interpreter.markers,
                &options,
            ))
            .map_err(anyhow::Error::new)?;
        printer.status(format!(
            "Resolved {} package{} in {}",
            resolution.packages.len(),
            plural(resolution.packages.len()),
            human_duration(resolving.elapsed())
        ));

        let mut plan = rvenv_install::plan(&resolution, &installed, request.force_reinstall);
        changes::reinstall_changed_direct(&mut plan, &resolution, &provider, &installed);
        if request.hash_mode {
            fetch::require_hashes_for_all(&plan.install, &request.hashes, &provider)?;
        }
        if let Some(path) = &request.report {
            report::write(
                path,
                &resolution,
                &provider,
                &self.context.runtime,
                environment,
            )?;
        }
        if request.dry_run {
            changes::print(printer, &plan, "Would install", "Would uninstall");
            printer.status("Dry run: nothing was changed");
            return Ok(Outcome::default());
        }
        if plan.install.is_empty() {
            printer.status(format!(
                "Audited {} package{} in {}",
                plan.unchanged,
                plural(plan.unchanged),
                human_duration(started.elapsed())
            ));
            return Ok(Outcome {
                unchanged: plan.unchanged,
                ..Outcome::default()
            });
        }

        let fetching = Instant::now();
        // Each wheel's bytecode is compiled into the cache as soon as the wheel is there, while
        // other wheels download; installing then links the `.pyc` files.
        let precompiler = self
            .context
            .compile_bytecode
            .then(|| bytecode::Precompiler::start(&self.context.cache, environment));
        let wheels = self.context.runtime.block_on(fetch::fetch_all(
            &plan.install,
            &provider,
            &self.context.cache,
            &request.hashes,
            self.context.concurrent_downloads,
            precompiler.as_ref(),
            printer,
        ))?;
        printer.detail(format!(
            "Prepared {} wheels in {}",
            wheels.len(),
            human_duration(fetching.elapsed())
        ));

        let installing = Instant::now();
        for dist in &plan.remove {
            rvenv_install::uninstall(&dist.dist_info, &environment.root)
                .with_context(|| format!("cannot uninstall {} {}", dist.name, dist.version))?;
        }
        let target = InstallTarget {
            scheme: environment.scheme.clone(),
            python: environment.python.clone(),
            python_version: environment.interpreter.python_minor(),
        };
        let jobs: Vec<_> = wheels
            .iter()
            .zip(&plan.install)
            .map(|(prepared, package)| {
                let options = InstallOptions {
                    link_mode: self.context.link_mode,
                    requested: package.requested,
                    direct_url: prepared
                        .direct_url
                        .as_ref()
                        .map(|direct_url| direct_url.to_json().to_string()),
                    bytecode: if self.context.compile_bytecode {
                        bytecode::cached_entry(&self.context.cache, environment, &prepared.wheel)
                    } else {
                        None
                    },
                    ..InstallOptions::default()
                };
                (&prepared.wheel, options)
            })
            .collect();
        let mut installed_now = rvenv_install::install_wheels_parallel(&jobs, &target)?;
        if let Some(precompiler) = &precompiler {
            let waiting = Instant::now();
            let kept = precompiler.finish();
            printer.detail(format!(
                "Compiled the bytecode of {kept} wheel{} while preparing ({} spent waiting for it)",
                plural(kept),
                human_duration(waiting.elapsed())
            ));
        }
        if self.context.compile_bytecode {
            let validated: Vec<_> = wheels
                .iter()
                .map(|prepared| prepared.wheel.clone())
                .collect();
            bytecode::compile(
                &self.context.cache,
                environment,
                &validated,
                &mut installed_now,
                self.context.link_mode,
                precompiler.as_ref(),
            )?;
        }
        changes::print(printer, &plan, "Installed", "Uninstalled");
        printer.status(format!(
            "Installed {} package{} in {} (total {})",
            plan.install.len(),
            plural(plan.install.len()),
            human_duration(installing.elapsed()),
            human_duration(started.elapsed())
        ));
        Ok(Outcome {
            installed: plan.install.len(),
            removed: plan.remove.len(),
            unchanged: plan.unchanged,
        })
    }

    fn build_config(&self, environment: &Environment, request: &Request) -> BuildConfig {
        let isolation = if self.context.no_build_isolation && self.depth == 0 {
            BuildIsolation::Shared(Box::new(environment.clone()))
        } else {
            BuildIsolation::Isolated
        };
        BuildConfig {
            cache: Arc::clone(&self.context.cache),
            index: self.context.index.clone(),
            interpreter: environment.interpreter.clone(),
            isolation,
            installer: Arc::new(BuildEnvInstaller::new(
                Arc::clone(&self.context),
                self.depth + 1,
                self.envs_in_progress.clone(),
            )),
            max_parallel_builds: self.context.max_parallel_builds,
            user_hashes: request.hashes.clone(),
            editable_src: (self.depth == 0).then(|| editable_src(environment)),
            envs_in_progress: self.envs_in_progress.clone(),
        }
    }

    /// Looks at every direct requirement (in parallel; builds only where metadata is not
    /// static) and turns each into a named requirement for the resolver.
    fn prepare_direct(&self, builds: &Builds, request: &Request) -> anyhow::Result<PreparedDirect> {
        let mut prepared = PreparedDirect::default();
        if request.direct.is_empty() {
            return Ok(prepared);
        }
        let results = self.context.runtime.block_on(futures::future::join_all(
            request
                .direct
                .iter()
                .map(|input| builds.prepare_direct(&input.request)),
        ));
        let mut by_name: HashMap<PackageName, usize> = HashMap::new();
        for (input, result) in request.direct.iter().zip(results) {
            let dist = result.map_err(anyhow::Error::new).with_context(|| {
                format!("cannot install {} ({})", input.request.given, input.origin)
            })?;
            prepared.requirements.push((
                Requirement {
                    name: dist.name.clone(),
                    extras: input.extras.clone(),
                    version_or_url: None,
                    marker: pep508_rs::MarkerTree::TRUE,
                    origin: None,
                },
                input.origin.clone(),
            ));
            match by_name.get(&dist.name) {
                Some(&index) => {
                    let other: &DirectDist = &prepared.dists[index];
                    anyhow::ensure!(
                        other.direct_url == dist.direct_url,
                        "{} is requested from two places: {} and {} ({})",
                        dist.name,
                        other.request.given,
                        dist.request.given,
                        input.origin
                    );
                }
                None => {
                    by_name.insert(dist.name.clone(), prepared.dists.len());
                    prepared.dists.push(dist);
                }
            }
        }
        Ok(prepared)
    }
}

/// Where `-e git+...` projects are checked out, as pip does: `<venv>/src`, or `./src` when
/// installing into a system interpreter (never under its prefix).
fn editable_src(environment: &Environment) -> PathBuf {
    if environment.root.join("pyvenv.cfg").is_file() {
        environment.root.join("src")
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("."))
            .join("src")
    }
}

#[derive(Default)]
struct PreparedDirect {
    dists: Vec<DirectDist>,
    requirements: Vec<(Requirement, Origin)>,
}

pub(super) fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}
