//! `rvenv install` and `rvenv config`: the steps of DESIGN.md's data flow, each a library call.

mod bytecode;
mod fetch;
mod inputs;
mod report;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rvenv_cache::Cache;
use rvenv_index::{ClientOptions, FindLinks, IndexClient, IndexProvider, IndexSettings};
use rvenv_install::{InstallOptions, InstallTarget, LinkMode};
use rvenv_resolve::{
    resolve, PackageSet, Prereleases, ResolveOptions, ResolveRequest, SelectOptions, Target,
    Upgrade,
};
use rvenv_venv::Environment;

use crate::cli::InstallArgs;
use crate::output::{human_duration, Printer};
use crate::settings::{self, IndexStrategy, InstallSettings};

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
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

    let inputs = inputs::gather(&args, &settings, &cwd, &environment, &printer)?;
    let installed = rvenv_install::installed_distributions(&environment.site_packages())?;

    // The fast path: everything asked for is installed, with its dependencies. No network.
    // Hash-checking mode checks what is downloaded; as in pip, installed pins satisfy it.
    if !args.upgrade && !args.force_reinstall {
        let requirements: Vec<_> = inputs.requirements.iter().map(|(r, _)| r.clone()).collect();
        let constraints: Vec<_> = inputs.constraints.iter().map(|(r, _)| r.clone()).collect();
        match rvenv_install::check_satisfied(
            &requirements,
            &constraints,
            &installed,
            &environment.interpreter.markers,
        ) {
            Ok(count) => {
                printer.status(format!(
                    "Audited {count} package{} in {}",
                    plural(count),
                    human_duration(started.elapsed())
                ));
                return Ok(ExitCode::SUCCESS);
            }
            Err(reason) => printer.detail(format!("Resolving: {}", reason.0)),
        }
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let provider = index_provider(&settings, &inputs, &cache, &environment)?;
    let request = ResolveRequest {
        requirements: inputs.requirements.clone(),
        constraints: inputs.constraints.clone(),
        // The resolver drops the preferences of the packages it upgrades.
        preferences: inputs::preferences(&installed),
    };
    let options = ResolveOptions {
        prereleases: if settings.pre.value || inputs.txt.pre {
            Prereleases::Allow
        } else {
            Prereleases::IfNeededOrRequested
        },
        no_deps: args.no_deps,
        // pip's default upgrade strategy, only-if-needed: `-U` upgrades what was asked for;
        // its dependencies change only when the new versions need them to.
        upgrade: if args.upgrade {
            Upgrade::Packages(
                inputs
                    .requirements
                    .iter()
                    .map(|(requirement, _)| requirement.name.clone())
                    .collect(),
            )
        } else {
            Upgrade::None
        },
        prefer_binary: settings.prefer_binary.value || inputs.txt.prefer_binary,
    };
    let resolving = Instant::now();
    let resolution = runtime
        .block_on(resolve(
            &request,
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

    let plan = rvenv_install::plan(&resolution, &installed, args.force_reinstall);
    if inputs.hash_mode {
        fetch::require_hashes_for_all(&plan.install, &inputs.hashes)?;
    }
    if let Some(path) = &args.report {
        report::write(path, &resolution, &provider, &runtime, &environment)?;
    }
    if args.dry_run {
        print_changes(&printer, &plan, "Would install", "Would uninstall");
        printer.status("Dry run: nothing was changed");
        return Ok(ExitCode::SUCCESS);
    }
    if plan.install.is_empty() {
        printer.status(format!(
            "Audited {} package{} in {}",
            plan.unchanged,
            plural(plan.unchanged),
            human_duration(started.elapsed())
        ));
        return Ok(ExitCode::SUCCESS);
    }

    let fetching = Instant::now();
    let wheels = runtime.block_on(fetch::fetch_all(
        &plan.install,
        &provider,
        &cache,
        &inputs.hashes,
        settings.concurrent_downloads.value,
        &printer,
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
    let link_mode = link_mode(&args)?;
    let jobs: Vec<_> = wheels
        .iter()
        .zip(&plan.install)
        .map(|(wheel, package)| {
            let options = InstallOptions {
                link_mode,
                requested: package.requested,
                ..InstallOptions::default()
            };
            (wheel, options)
        })
        .collect();
    let mut installed_now = rvenv_install::install_wheels_parallel(&jobs, &target)?;
    if !args.no_compile {
        bytecode::compile(&cache, &environment, &wheels, &mut installed_now, link_mode)?;
    }
    print_changes(&printer, &plan, "Installed", "Uninstalled");
    printer.status(format!(
        "Installed {} package{} in {} (total {})",
        plan.install.len(),
        plural(plan.install.len()),
        human_duration(installing.elapsed()),
        human_duration(started.elapsed())
    ));
    Ok(ExitCode::SUCCESS)
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// One line per change, as `- old==1.0` and `+ new==2.0`, sorted by name.
fn print_changes(printer: &Printer, plan: &rvenv_install::Plan<'_>, added: &str, removed: &str) {
    if !plan.remove.is_empty() {
        printer.detail(format!(
            "{removed} {} package{}",
            plan.remove.len(),
            plural(plan.remove.len())
        ));
    }
    if !plan.install.is_empty() {
        printer.detail(format!(
            "{added} {} package{}",
            plan.install.len(),
            plural(plan.install.len())
        ));
    }
    let mut lines: Vec<(String, char, String)> = plan
        .remove
        .iter()
        .map(|dist| {
            (
                dist.name.to_lowercase(),
                '-',
                format!("{}=={}", dist.name, dist.version),
            )
        })
        .chain(plan.install.iter().map(|package| {
            (
                package.name.to_string(),
                '+',
                format!("{}=={}", package.name, package.version),
            )
        }))
        .collect();
    lines.sort();
    for (_, sign, text) in lines {
        printer.status(format!(" {sign} {text}"));
    }
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

fn index_provider(
    settings: &InstallSettings,
    inputs: &inputs::Inputs,
    cache: &Cache,
    environment: &Environment,
) -> anyhow::Result<IndexProvider> {
    let client = IndexClient::new(ClientOptions {
        read_timeout: Duration::from_secs(settings.timeout_secs.value),
        ..ClientOptions::default()
    })?;
    // Options written in requirements files act as pip's do: `-i` replaces the index,
    // `--extra-index-url` and `-f` add to it, `--no-index` turns indexes off.
    let index_url = inputs
        .txt
        .index_url
        .clone()
        .unwrap_or_else(|| settings.index_url.value.clone());
    let mut urls = vec![index_url];
    urls.extend(settings.extra_index_urls.value.iter().cloned());
    urls.extend(inputs.txt.extra_index_urls.iter().cloned());
    let no_index = settings.no_index.value || inputs.txt.no_index;
    let index_urls = if no_index {
        Vec::new()
    } else {
        urls.iter()
            .map(|url| parse_index_url(url))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let find_links = settings
        .find_links
        .value
        .iter()
        .chain(&inputs.txt.find_links)
        .map(|location| FindLinks::parse(location))
        .collect();
    let index_settings = IndexSettings {
        index_urls,
        find_links,
        strategy: match settings.index_strategy.value {
            IndexStrategy::BestMatch => rvenv_index::IndexStrategy::AllIndexes,
            IndexStrategy::FirstIndex => rvenv_index::IndexStrategy::FirstIndex,
        },
        offline: settings.offline.value,
        cache_dir: Some(cache.root().to_path_buf()),
    };
    let select = select_options(settings, inputs);
    Ok(IndexProvider::new(
        client,
        index_settings,
        Target::from_interpreter(&environment.interpreter),
        select,
    ))
}

fn parse_index_url(text: &str) -> anyhow::Result<url::Url> {
    let mut url = url::Url::parse(text).map_err(|err| {
        anyhow::anyhow!(
            "invalid index URL {:?}: {err}",
            rvenv_index::redact_str(text)
        )
    })?;
    // pip accepts `https://host/simple` and `https://host/simple/` alike.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// pip's format control: the command line and PIP_* first, then what files said.
fn select_options(settings: &InstallSettings, inputs: &inputs::Inputs) -> SelectOptions {
    let mut control = rvenv_requirements::FormatControl::default();
    for value in &settings.no_binary.value {
        let _ = control.apply(rvenv_requirements::BinaryOption::NoBinary, value);
    }
    for value in &settings.only_binary.value {
        let _ = control.apply(rvenv_requirements::BinaryOption::OnlyBinary, value);
    }
    for name in &inputs.txt.format_control.no_binary {
        let _ = control.apply(rvenv_requirements::BinaryOption::NoBinary, name);
    }
    for name in &inputs.txt.format_control.only_binary {
        let _ = control.apply(rvenv_requirements::BinaryOption::OnlyBinary, name);
    }
    SelectOptions {
        only_binary: package_set(&control.only_binary),
        no_binary: package_set(&control.no_binary),
    }
}

fn package_set(names: &std::collections::BTreeSet<String>) -> PackageSet {
    if names.contains(":all:") {
        return PackageSet::All;
    }
    if names.is_empty() {
        return PackageSet::None;
    }
    PackageSet::Some(names.iter().filter_map(|name| name.parse().ok()).collect())
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
