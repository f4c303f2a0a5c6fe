//! `rvenv install` and `rvenv config`.

use std::process::ExitCode;

use crate::cli::InstallArgs;
use crate::settings::InstallSettings;

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub fn run(_args: InstallArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rvenv install` is not implemented yet")
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
