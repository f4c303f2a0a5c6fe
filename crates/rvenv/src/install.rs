//! `rvenv install`.

use std::process::ExitCode;

use crate::cli::InstallArgs;

pub fn run(_args: InstallArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rvenv install` is not implemented yet")
}
