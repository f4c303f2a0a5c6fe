//! `rvenv install` and `rvenv config`: arguments and settings in, then the [`Installer`]
//! pipeline (DESIGN.md's data flow, each step a library call).

mod build_env;
mod bytecode;
mod changes;
mod fast_path;
mod fetch;
mod index;
mod inputs;
mod installer;
mod report;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use rvenv_cache::Cache;
use rvenv_install::LinkMode;
use rvenv_resolve::Prereleases;
use rvenv_venv::Environment;

use crate::cli::InstallArgs;
use crate::output::Printer;
use crate::settings::{self, InstallSettings};
use installer::{Context, Installer, Request};

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    // The system's root certificates load while the environment, settings and requirements
    // are read, which takes less time than loading them.
    let roots = rvenv_index::SystemRoots::load_in_background();
    let printer = Printer::new(args.quiet, args.verbose);
    let cwd = std::env::current_dir().context("cannot read the current directory")?;

    let cache = open_cache(&args)?;
    let environment = target_environment(&args, cache.root())?;
    printer.status(format!(
        "Installing into {} ({})",
        environment.root.display(),
        environment.interpreter.display_name()
    ));
    let _lock = environment.lock()?;
    let settings = InstallSettings::resolve(&args, &env_var, Some(&environment.root))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let client = index::client(&settings, roots)?;
    // pip downloads requirements files named by URL (`-r https://...`) with its own session.
    let fetch = |url: &url::Url| {
        runtime
            .block_on(client.get_file(url))
            .map_err(|err| rvenv_index::error_chain(&err))
    };
    let inputs = inputs::gather(&args, &settings, &cwd, &environment, &fetch, &printer)?;
    let index = index::index_provider(&settings, &inputs, &cache, &environment, client)?;
    let context = Context {
        cache: Arc::new(cache),
        index,
        runtime: runtime.handle().clone(),
        link_mode: link_mode(&args)?,
        compile_bytecode: !args.no_compile,
        concurrent_downloads: settings.concurrent_downloads.value,
        prereleases: if settings.pre.value || inputs.txt.pre {
            Prereleases::Allow
        } else {
            Prereleases::IfNeededOrRequested
        },
        prefer_binary: settings.prefer_binary.value || inputs.txt.prefer_binary,
        no_build_isolation: args.no_build_isolation,
        max_parallel_builds: std::thread::available_parallelism().map_or(1, usize::from),
    };
    let request = Request {
        requirements: inputs.requirements,
        constraints: inputs.constraints,
        direct: inputs.direct,
        hashes: inputs.hashes,
        hash_mode: inputs.hash_mode,
        upgrade: args.upgrade,
        force_reinstall: args.force_reinstall,
        no_deps: args.no_deps,
        dry_run: args.dry_run,
        report: args.report.clone(),
    };
    let context = Arc::new(context);
    let installed = Installer::new(Arc::clone(&context), printer).install(&environment, &request);
    for skipped in context.index.skipped_locations() {
        printer.warn(format!(
            "skipped a location that could not be reached: {skipped}"
        ));
    }
    installed?;
    Ok(ExitCode::SUCCESS)
}

fn open_cache(args: &InstallArgs) -> anyhow::Result<Cache> {
    let no_cache = args.no_cache
        || env_var("RVENV_NO_CACHE").is_some_and(|v| settings::parse_bool(&v).unwrap_or(false));
    if no_cache {
        return Ok(Cache::temporary()?);
    }
    let dir = args
        .cache_dir
        .clone()
        .or_else(|| {
            env_var("RVENV_CACHE_DIR")
                .filter(|v| !v.is_empty())
                .map(Into::into)
        })
        .or_else(rvenv_venv::default_cache_dir)
        .context("cannot find a cache directory: set RVENV_CACHE_DIR or pass --cache-dir")?;
    Ok(Cache::open(dir)?)
}

/// `--venv`, VIRTUAL_ENV, the venv of the first python on PATH, `.venv` upward; or, with
/// `--system`, the base interpreter of the first python on PATH.
fn target_environment(
    args: &InstallArgs,
    cache_root: &std::path::Path,
) -> anyhow::Result<Environment> {
    if !args.system {
        return Ok(Environment::find(args.venv.as_deref(), Some(cache_root))?);
    }
    let interpreter =
        rvenv_venv::find_interpreter(&rvenv_venv::PythonRequest::Any, Some(cache_root))?;
    if let Some(message) = interpreter.externally_managed() {
        if !args.break_system_packages {
            bail!(
                "{} is externally managed (PEP 668): {}\nhint: create a virtual environment with `rvenv create .venv`, or pass --break-system-packages",
                interpreter.base_prefix.display(),
                message.trim()
            );
        }
    }
    Ok(Environment::for_system(interpreter))
}

fn link_mode(args: &InstallArgs) -> anyhow::Result<LinkMode> {
    let mode = args
        .link_mode
        .clone()
        .or_else(|| env_var("RVENV_LINK_MODE"));
    Ok(match mode.as_deref() {
        None | Some("clone") => LinkMode::Clone,
        Some("hardlink") => LinkMode::Hardlink,
        Some("copy") => LinkMode::Copy,
        Some(other) => bail!("invalid --link-mode {other:?}: expected clone, hardlink or copy"),
    })
}

/// Prints the effective settings and where each came from (credentials redacted).
pub fn config(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let venv = args
        .venv
        .clone()
        .or_else(|| std::env::var_os("VIRTUAL_ENV").map(Into::into));
    let settings = InstallSettings::resolve(&args, &env_var, venv.as_deref())?;
    let rows = settings.rows();
    let width = rows.iter().map(|row| row.0.len()).max().unwrap_or(0);
    for (name, value, source) in rows {
        println!("{name:<width$} = {value}  ({source})");
    }
    Ok(ExitCode::SUCCESS)
}
