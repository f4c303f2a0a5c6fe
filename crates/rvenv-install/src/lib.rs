//! rvenv-install: puts wheels into a Python environment, the way pip does.
//!
//! - [`unpack_wheel`] unpacks an archive (path, size and zip-bomb checks while streaming);
//! - [`UnpackedWheel::validate`] / [`UnpackedWheel::open`] check WHEEL, METADATA and RECORD and
//!   yield a [`ValidatedWheel`], the only thing [`install_wheel`] accepts;
//! - [`unpack_and_validate`] also writes the entry's manifest, so that
//!   [`ValidatedWheel::open_trusted`] reopens a published cache entry by reading one file;
//! - [`install_wheel`] / [`install_wheels_parallel`] spread the files over a [`Scheme`]
//!   (linking from the unpacked copy, with the wheel's bytecode when the cache keeps it: see
//!   [`InstallOptions::bytecode`]), write launchers and metadata, and roll back on failure;
//! - [`compile_installed`] compiles bytecode in worker processes of the target interpreter;
//!   [`CompilerPool`] keeps such workers running to compile wheels as they arrive;
//! - [`uninstall`] removes a distribution by its RECORD; [`installed_distributions`] lists them;
//! - [`check_satisfied`] tells whether what is installed already satisfies the requirements (the
//!   no-network fast path); [`plan`] compares a resolution with what is installed.
//!
//! It does not choose, download or cache wheels.
//!
//! [`Scheme`]: rvenv_venv::Scheme

mod bytecode;
mod compile_pool;
mod destination;
mod entry_points;
mod error;
mod install;
mod inventory;
mod launcher;
mod link;
mod manifest;
mod plan;
mod record;
mod satisfy;
mod uninstall;
mod unpack;
mod wheel;

#[cfg(test)]
mod tests;

pub use bytecode::{
    add_to_record, compile_bytecode, compile_installed, compile_installed_matching,
    restore_bytecode, save_bytecode, write_bytecode_manifest, Compiled,
};
pub use compile_pool::{CompileJob, CompilerPool};
pub use entry_points::{parse_entry_points, EntryPoint, EntryPoints};
pub use error::{Error, Result};
pub use install::{install_wheel, install_wheels_parallel, InstallOptions, InstallTarget};
pub use inventory::{installed_distributions, read_dist_info, InstalledDist};
pub use link::LinkMode;
pub use plan::{plan, Plan};
pub use record::{parse_record, render_record, RecordEntry};
pub use satisfy::{check_satisfied, Unsatisfied};
pub use uninstall::{uninstall, Uninstalled};
pub use unpack::{
    unpack_wheel, unpack_wheel_with_limits, UnpackLimits, UnpackedFile, UnpackedWheel,
};
pub use wheel::{unpack_and_validate, ValidatedWheel, WheelFile};
