//! `rvenv create`: settings from the command line, then rvenv-venv does the work.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use anyhow::Context;
use rvenv_venv::{
    create_venv, default_cache_dir, find_interpreter, CreateOptions, CreateOutcome, LinkMode,
    OnExisting, PythonRequest,
};

use crate::cli::{Cli, Command, CreateArgs};
use crate::output::Printer;

pub fn run(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let printer = Printer::new(u8::from(args.quiet), 0);
    let cache_dir = args.cache_dir.clone().or_else(default_cache_dir);
    let request = PythonRequest::parse(args.python.as_deref().unwrap_or(""))?;
    let interpreter = find_interpreter(&request, cache_dir.as_deref())
        .context("could not find a base interpreter")?;
    let options = CreateOptions {
        prompt: args.prompt.clone(),
        system_site_packages: args.system_site_packages,
        link: if args.copies {
            LinkMode::Copy
        } else {
            LinkMode::Symlink
        },
        on_existing: if args.clear {
            OnExisting::Clear
        } else {
            OnExisting::Reuse
        },
    };
    let outcome = create_venv(&args.prefix, &interpreter, &options)
        .with_context(|| format!("could not create {}", args.prefix.display()))?;
    let prefix = args.prefix.display();
    let described = format!(
        "{}, base {}",
        interpreter.display_name(),
        interpreter.base_executable.display()
    );
    match outcome {
        CreateOutcome::Created => printer.status(format!("Created {prefix} ({described})")),
        CreateOutcome::AlreadyExisted => printer.status(format!(
            "{prefix} already is a virtual environment ({described}); nothing to do"
        )),
    }
    if args.seed {
        if let Err(err) = seed_pip(&args, &interpreter) {
            // Nothing half-done: a venv this run made without the pip it was asked for goes.
            if outcome == CreateOutcome::Created {
                let _ = fs_err::remove_dir_all(&args.prefix);
            }
            return Err(err.context(format!("could not install pip into {prefix}")));
        }
    }
    if outcome == CreateOutcome::Created {
        printer.status(format!("Activate it with: . {prefix}/bin/activate"));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--seed`: installs pip with rvenv's own installer. Like `python -m venv`, it takes the pip
/// wheel bundled with the base interpreter (ensurepip's, or Debian's python-wheels) when there is
/// one, so seeding needs no network; otherwise pip comes from the configured index.
fn seed_pip(args: &CreateArgs, interpreter: &rvenv_venv::Interpreter) -> anyhow::Result<()> {
    let mut argv: Vec<OsString> = ["rvenv", "install", "pip", "--venv"]
        .map(OsString::from)
        .into();
    argv.push(args.prefix.clone().into_os_string());
    let bundled = [
        interpreter.stdlib.join("ensurepip").join("_bundled"),
        PathBuf::from("/usr/share/python-wheels"),
    ]
    .into_iter()
    .find(|dir| has_pip_wheel(dir));
    if let Some(dir) = bundled {
        argv.extend([
            "--no-index".into(),
            "--find-links".into(),
            dir.into_os_string(),
        ]);
    }
    if let Some(cache_dir) = &args.cache_dir {
        argv.extend(["--cache-dir".into(), cache_dir.clone().into_os_string()]);
    }
    if args.quiet {
        argv.push("--quiet".into());
    }
    let Command::Install(install_args) = Cli::try_parse_from(argv)?.command else {
        unreachable!("the argument list names the install command");
    };
    crate::install::run(install_args).map(|_| ())
}

fn has_pip_wheel(dir: &Path) -> bool {
    fs_err::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("pip-") && name.ends_with(".whl")
        })
    })
}
