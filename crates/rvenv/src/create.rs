//! `rvenv create`: settings from the command line, then rvenv-venv does the work.

use std::process::ExitCode;

use anyhow::Context;
use rvenv_venv::{
    create_venv, default_cache_dir, find_interpreter, CreateOptions, CreateOutcome, LinkMode,
    OnExisting, PythonRequest,
};

use crate::cli::CreateArgs;
use crate::output::Printer;

pub fn run(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let printer = Printer::new(u8::from(args.quiet), 0);
    if args.seed {
        // Fail before touching anything, so that no venv without pip is left behind.
        anyhow::bail!(
            "not yet supported: --seed needs the installer, which has not landed yet; \
             create without --seed for now"
        );
    }
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
        CreateOutcome::Created => {
            printer.status(format!("Created {prefix} ({described})"));
            printer.status(format!("Activate it with: . {prefix}/bin/activate"));
        }
        CreateOutcome::AlreadyExisted => {
            printer.status(format!(
                "{prefix} already is a virtual environment ({described}); nothing to do"
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
