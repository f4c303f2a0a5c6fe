//! rvenv-requirements: pip's requirements-file format.
//!
//! Reads requirements files the way pip does (comments, `\` continuations, `${VAR}`, BOMs and
//! UTF-16, `-r`/`-c` includes, index options, `--hash`, editables, bare URLs and paths) into
//! [`RequirementsTxt`], with the file and line of everything, and errors that show the line and
//! say how to fix it. It also parses a requirement given on the command line
//! ([`parse_cli_requirement`]) and checks pip's hash-checking mode ([`RequirementsTxt::check_hash_mode`]).
//!
//! It does not evaluate markers (the caller knows the target interpreter) or download anything:
//! a requirements file named by an `http(s)://` URL is read through the [`FetchUrl`] the caller
//! gives to [`RequirementsTxt::parse_with`], and refused without one.

mod decode;
mod error;
mod format_control;
mod hash;
mod lines;
mod options;
mod parser;
mod requirement;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use error::{Error, HashOffender, LineError, Origin, Warning};
pub use format_control::{AllowedFormats, BinaryOption, FormatControl};
pub use hash::Hash;
pub use requirement::{Location, RequirementSource, UnnamedRequirement, VcsKind, VcsUrl};

/// Downloads a requirements file named by an `http://` or `https://` URL: its bytes, or why
/// they could not be read (the status, the connection error).
pub type FetchUrl<'a> = dyn Fn(&url::Url) -> Result<Vec<u8>, String> + 'a;

/// A requirement or constraint with its hashes and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub requirement: RequirementSource,
    /// From `--hash` on the same line; any of them may match.
    pub hashes: Vec<Hash>,
    pub origin: Origin,
}

/// A project to install in editable mode (`-e`): a local directory or a VCS URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editable {
    pub requirement: UnnamedRequirement,
    pub origin: Origin,
}

/// Everything read from one or more requirements files, includes merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequirementsTxt {
    pub requirements: Vec<Entry>,
    pub constraints: Vec<Entry>,
    pub editables: Vec<Editable>,
    /// `-i`/`--index-url`: the last one read wins.
    pub index_url: Option<String>,
    /// `--extra-index-url`, in order, without repeats.
    pub extra_index_urls: Vec<String>,
    pub no_index: bool,
    /// `-f`/`--find-links`: URLs as written; a path that exists relative to the file naming it
    /// is made absolute, other paths are kept as written (relative to the current directory).
    pub find_links: Vec<String>,
    pub trusted_hosts: Vec<String>,
    pub pre: bool,
    pub prefer_binary: bool,
    /// `--no-binary` and `--only-binary`.
    pub format_control: FormatControl,
    /// Where `--require-hashes` was written, if it was.
    pub require_hashes: Option<Origin>,
    /// Options that were read but are ignored, each with its file and line.
    pub warnings: Vec<Warning>,
}

impl RequirementsTxt {
    /// Read a requirements file and the files it includes. `-` reads standard input.
    /// Local paths and `-e` are relative to `cwd`; `-r`, `-c` and `-f` to the file naming them.
    pub fn parse(path: &Path, cwd: &Path) -> Result<Self, Error> {
        Self::parse_as(path, cwd, parser::FileKind::Requirements, None)
    }

    /// Read a constraints file (`-c` on the command line): its requirements become constraints.
    pub fn parse_constraints(path: &Path, cwd: &Path) -> Result<Self, Error> {
        Self::parse_as(path, cwd, parser::FileKind::Constraints, None)
    }

    /// [`RequirementsTxt::parse`], reading files named by URL (`-r https://...`, or `path`
    /// itself) with `fetch`, as pip does.
    pub fn parse_with(path: &Path, cwd: &Path, fetch: &FetchUrl<'_>) -> Result<Self, Error> {
        Self::parse_as(path, cwd, parser::FileKind::Requirements, Some(fetch))
    }

    /// [`RequirementsTxt::parse_constraints`], reading files named by URL with `fetch`.
    pub fn parse_constraints_with(
        path: &Path,
        cwd: &Path,
        fetch: &FetchUrl<'_>,
    ) -> Result<Self, Error> {
        Self::parse_as(path, cwd, parser::FileKind::Constraints, Some(fetch))
    }

    fn parse_as(
        path: &Path,
        cwd: &Path,
        kind: parser::FileKind,
        fetch: Option<&FetchUrl<'_>>,
    ) -> Result<Self, Error> {
        let env = process_env;
        let mut parser = parser::Parser::new(cwd, &env);
        if let Some(fetch) = fetch {
            parser = parser.with_fetch(fetch);
        }
        if path == Path::new("-") {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|source| Error::Read {
                    path: PathBuf::from("-"),
                    included_from: None,
                    source,
                })?;
            parser.parse_bytes(&bytes, path, kind)?;
        } else {
            parser.parse_file(path, kind, None)?;
        }
        Ok(parser.finish())
    }

    /// Read a requirements file from `reader` (standard input, say); it is called `-` in messages
    /// and its includes are relative to `cwd`.
    pub fn parse_reader(mut reader: impl Read, cwd: &Path) -> Result<Self, Error> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Read {
                path: PathBuf::from("-"),
                included_from: None,
                source,
            })?;
        let env = process_env;
        let mut parser = parser::Parser::new(cwd, &env);
        parser.parse_bytes(&bytes, Path::new("-"), parser::FileKind::Requirements)?;
        Ok(parser.finish())
    }

    /// Parse `content` as if it were the file `origin` (used in messages and for includes).
    pub fn parse_str(content: &str, origin: &Path, cwd: &Path) -> Result<Self, Error> {
        let env = process_env;
        let mut parser = parser::Parser::new(cwd, &env);
        parser.parse_text(content, origin, parser::FileKind::Requirements)?;
        Ok(parser.finish())
    }

    /// Add what another set of files said: lists are appended, flags combined, a later index
    /// URL replaces an earlier one.
    pub fn merge(&mut self, other: RequirementsTxt) {
        self.requirements.extend(other.requirements);
        self.constraints.extend(other.constraints);
        self.editables.extend(other.editables);
        if other.index_url.is_some() {
            self.index_url = other.index_url;
        }
        for url in other.extra_index_urls {
            if !self.extra_index_urls.contains(&url) {
                self.extra_index_urls.push(url);
            }
        }
        self.no_index |= other.no_index;
        self.find_links.extend(other.find_links);
        self.trusted_hosts.extend(other.trusted_hosts);
        self.pre |= other.pre;
        self.prefer_binary |= other.prefer_binary;
        for name in other.format_control.no_binary {
            let _ = self.format_control.apply(BinaryOption::NoBinary, &name);
        }
        for name in other.format_control.only_binary {
            let _ = self.format_control.apply(BinaryOption::OnlyBinary, &name);
        }
        self.require_hashes = self.require_hashes.take().or(other.require_hashes);
        self.warnings.extend(other.warnings);
    }

    /// pip's hash-checking mode: on when `require_hashes_flag` is set, a file says
    /// `--require-hashes`, or any requirement has `--hash`. Then every requirement must be
    /// pinned with `==` and have a hash; the error lists every one that is not.
    pub fn check_hash_mode(&self, require_hashes_flag: bool) -> Result<(), Error> {
        hash::check_hash_mode(self, require_hashes_flag)
    }
}

/// Parse one requirement from the command line (`fastapi`, `'uvicorn[standard]>=0.30'`,
/// `./wheels/foo-1.0-py3-none-any.whl`, a URL). Paths are relative to `cwd`.
pub fn parse_cli_requirement(arg: &str, cwd: &Path) -> Result<RequirementSource, Error> {
    requirement::parse_requirement(arg, cwd).map_err(|err| cli_error(arg, err))
}

/// Parse the value of `-e` from the command line: a project directory or a VCS URL.
pub fn parse_cli_editable(arg: &str, cwd: &Path) -> Result<UnnamedRequirement, Error> {
    requirement::parse_editable(arg, cwd).map_err(|err| cli_error(arg, err))
}

fn cli_error(arg: &str, err: requirement::RequirementError) -> Error {
    Error::from(LineError {
        origin: None,
        text: arg.to_owned(),
        column: None,
        message: err.message,
        hint: err.hint,
    })
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests;
