//! `rvenv create`.

use std::process::ExitCode;

use crate::cli::CreateArgs;

pub fn run(_args: CreateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rvenv create` is not implemented yet")
}
