//! The command line, as clap parses it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "rvenv",
    version,
    about = "A fast virtual-environment manager and package installer for Python"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a virtual environment.
    Create(CreateArgs),
    /// Install packages into a virtual environment.
    Install(InstallArgs),
    /// Print the effective install settings and where each came from.
    Config(InstallArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Where to create the environment.
    #[arg(default_value = ".venv")]
    pub prefix: PathBuf,
    /// The base interpreter: a version (3.12), a specifier (>=3.11,<3.13), a name (python3.12) or a path.
    #[arg(short, long, env = "RVENV_PYTHON")]
    pub python: Option<String>,
    /// The prompt shown by the activation scripts (default: the directory's name).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Give the environment access to the base interpreter's site-packages.
    #[arg(long)]
    pub system_site_packages: bool,
    /// Copy the interpreter instead of symlinking it.
    #[arg(long)]
    pub copies: bool,
    /// Remove an existing environment at PREFIX first.
    #[arg(long)]
    pub clear: bool,
    /// Install pip into the new environment.
    #[arg(long)]
    pub seed: bool,
    /// Where rvenv keeps its cache.
    #[arg(long, env = "RVENV_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Packages to install (PEP 508 requirements, URLs, or paths).
    pub packages: Vec<String>,
    /// Install from the given requirements file (repeatable; `-` reads standard input).
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirements: Vec<PathBuf>,
    /// Constrain versions with the given constraints file (repeatable).
    #[arg(short = 'c', long = "constraint", value_name = "FILE")]
    pub constraints: Vec<PathBuf>,
    /// Install a project in editable mode from a local path.
    #[arg(short = 'e', long = "editable", value_name = "PATH")]
    pub editables: Vec<String>,
    /// The base URL of the package index (default: https://pypi.org/simple).
    #[arg(short = 'i', long)]
    pub index_url: Option<String>,
    /// Extra package index URLs (repeatable).
    #[arg(long)]
    pub extra_index_url: Vec<String>,
    /// Ignore package indexes; use --find-links only.
    #[arg(long)]
    pub no_index: bool,
    /// A directory or HTML page to look for archives in (repeatable).
    #[arg(short = 'f', long)]
    pub find_links: Vec<String>,
    /// Include pre-release and development versions.
    #[arg(long)]
    pub pre: bool,
    /// Do not use source distributions for these packages (`:all:`, `:none:`, or names).
    #[arg(long, value_name = "FORMAT_CONTROL")]
    pub only_binary: Vec<String>,
    /// Do not use wheels for these packages (`:all:`, `:none:`, or names).
    #[arg(long, value_name = "FORMAT_CONTROL")]
    pub no_binary: Vec<String>,
    /// Prefer older wheels over newer source distributions.
    #[arg(long)]
    pub prefer_binary: bool,
    /// Require a hash for every requirement.
    #[arg(long)]
    pub require_hashes: bool,
    /// Do not install dependencies.
    #[arg(long)]
    pub no_deps: bool,
    /// Upgrade packages to the newest allowed versions.
    #[arg(short = 'U', long)]
    pub upgrade: bool,
    /// Reinstall packages even when they are up to date.
    #[arg(long)]
    pub force_reinstall: bool,
    /// Show what would be installed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write pip's installation report (JSON) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// The virtual environment to install into.
    #[arg(long, value_name = "PATH")]
    pub venv: Option<PathBuf>,
    /// Where rvenv keeps its cache (default: $XDG_CACHE_HOME/rvenv or ~/.cache/rvenv).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Use a temporary cache, removed at exit.
    #[arg(long)]
    pub no_cache: bool,
    /// Resolve and install from the cache alone; no network.
    #[arg(long)]
    pub offline: bool,
    /// How to use several indexes: best-match (pip's: the best version across all) or first-index.
    #[arg(long, value_name = "STRATEGY")]
    pub index_strategy: Option<String>,
    /// Mark this host as trusted (plain HTTP allowed) (repeatable).
    #[arg(long, value_name = "HOST")]
    pub trusted_host: Vec<String>,
    /// The network read timeout in seconds (default 30).
    #[arg(long, visible_alias = "default-timeout", value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// How files are placed into the environment: clone (reflink), hardlink or copy.
    #[arg(long, value_name = "MODE")]
    pub link_mode: Option<String>,
    /// Install into the interpreter found on PATH even though it is not a virtual environment.
    #[arg(long)]
    pub system: bool,
    /// With --system: install even where the interpreter is marked externally managed (PEP 668).
    #[arg(long)]
    pub break_system_packages: bool,
    /// Do not compile bytecode.
    #[arg(long)]
    pub no_compile: bool,
    /// Build source distributions in the target environment instead of isolated build
    /// environments; their build requirements must be installed there already.
    #[arg(long)]
    pub no_build_isolation: bool,
    /// Print less (repeat for even less).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// Print more (repeat for even more).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}
