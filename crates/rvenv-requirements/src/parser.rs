//! Reading files: includes, cycles, and what each logical line means.

use std::path::{Path, PathBuf};

use url::Url;

use crate::decode::decode;
use crate::error::{Error, LineError, Origin, Warning};
use crate::format_control::BinaryOption;
use crate::hash::Hash;
use crate::lines::{logical_lines, LogicalLine};
use crate::options::{parse_options, OptionName, ParsedOption};
use crate::requirement::{normalize, parse_editable, parse_requirement, RequirementSource};
use crate::{Editable, Entry, FetchUrl, RequirementsTxt};

/// Whether a file's requirements are things to install or constraints on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Requirements,
    Constraints,
}

pub(crate) struct Parser<'a> {
    cwd: PathBuf,
    env: &'a dyn Fn(&str) -> Option<String>,
    /// Reads `http(s)://` files; without it they are refused.
    fetch: Option<&'a FetchUrl<'a>>,
    /// The files being read, outermost first (as named, and canonical for comparison).
    stack: Vec<(PathBuf, PathBuf)>,
    out: RequirementsTxt,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(cwd: &Path, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        let cwd = if cwd.is_absolute() {
            cwd.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|dir| dir.join(cwd))
                .unwrap_or_else(|_| cwd.to_path_buf())
        };
        Parser {
            cwd: normalize(&cwd),
            env,
            fetch: None,
            stack: Vec::new(),
            out: RequirementsTxt::default(),
        }
    }

    pub(crate) fn with_fetch(mut self, fetch: &'a FetchUrl<'a>) -> Self {
        self.fetch = Some(fetch);
        self
    }

    pub(crate) fn finish(self) -> RequirementsTxt {
        self.out
    }

    /// Read `path` (relative to the current directory unless absolute).
    pub(crate) fn parse_file(
        &mut self,
        path: &Path,
        kind: FileKind,
        included_from: Option<Origin>,
    ) -> Result<(), Error> {
        if let Some(url) = remote_url(path) {
            return self.parse_url(&url, kind, included_from);
        }
        let full = normalize(&self.cwd.join(path));
        let canonical = fs_err::canonicalize(&full).unwrap_or_else(|_| full.clone());
        self.check_cycle(&canonical, path, &included_from)?;
        let bytes = std::fs::read(&full).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            included_from,
            source,
        })?;
        self.stack.push((path.to_path_buf(), canonical));
        let result = self.parse_bytes(&bytes, path, kind);
        self.stack.pop();
        result
    }

    /// An include cycle error when the file known as `key` (its canonical path, or its URL) is
    /// being read already; `named` is how the including line names it.
    fn check_cycle(
        &self,
        key: &Path,
        named: &Path,
        included_from: &Option<Origin>,
    ) -> Result<(), Error> {
        let Some(start) = self.stack.iter().position(|(_, seen)| seen == key) else {
            return Ok(());
        };
        let mut chain: Vec<PathBuf> = self.stack[start..]
            .iter()
            .map(|(named, _)| named.clone())
            .collect();
        chain.push(named.to_path_buf());
        Err(Error::IncludeCycle {
            origin: included_from.clone().unwrap_or_else(|| Origin {
                file: named.to_path_buf(),
                line: 0,
            }),
            path: named.to_path_buf(),
            chain,
        })
    }

    /// Read a file named by an `http://` or `https://` URL, as pip does. Its name in messages
    /// is the URL, and relative `-r`/`-c` in it are relative to the URL.
    fn parse_url(
        &mut self,
        url: &Url,
        kind: FileKind,
        included_from: Option<Origin>,
    ) -> Result<(), Error> {
        // Credentials stay out of messages; the caller's fetcher keeps them for the host.
        let mut shown = url.clone();
        let _ = shown.set_password(None);
        let _ = shown.set_username("");
        let name = PathBuf::from(shown.as_str());
        self.check_cycle(&name, &name, &included_from)?;
        let Some(fetch) = self.fetch else {
            return Err(Error::Fetch {
                url: shown.to_string(),
                included_from,
                message: "this caller does not download requirements files".to_owned(),
                hint: "download it first and name the local copy".to_owned(),
            });
        };
        let bytes = fetch(url).map_err(|message| Error::Fetch {
            url: shown.to_string(),
            included_from: included_from.clone(),
            message,
            hint: "check the URL, or download the file and name the local copy".to_owned(),
        })?;
        self.stack.push((name.clone(), name.clone()));
        let result = self
            .parse_bytes(&bytes, &name, kind)
            .map_err(|err| hint_html_body(err, &bytes));
        self.stack.pop();
        result
    }

    pub(crate) fn parse_bytes(
        &mut self,
        bytes: &[u8],
        path: &Path,
        kind: FileKind,
    ) -> Result<(), Error> {
        let content = decode(bytes).map_err(|err| Error::Decode {
            path: path.to_path_buf(),
            message: err.message,
        })?;
        self.parse_text(&content, path, kind)
    }

    pub(crate) fn parse_text(
        &mut self,
        content: &str,
        path: &Path,
        kind: FileKind,
    ) -> Result<(), Error> {
        for line in logical_lines(content, self.env) {
            self.parse_line(&line, path, kind)?;
        }
        Ok(())
    }

    /// The directory that `-r`, `-c` and `-f` in `path` are relative to.
    fn include_dir(&self, path: &Path) -> PathBuf {
        if path == Path::new("-") {
            return PathBuf::new();
        }
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    fn parse_line(&mut self, line: &LogicalLine, path: &Path, kind: FileKind) -> Result<(), Error> {
        let origin = Origin {
            file: path.to_path_buf(),
            line: line.number,
        };
        let error = |message: String, offset: Option<usize>, hint: Option<String>| -> Error {
            // A column only makes sense when no variable changed the line's length.
            let column = offset
                .filter(|_| line.written == line.text)
                .and_then(|offset| line.text.get(..offset))
                .map(|before| before.chars().count() + 1);
            Error::from(LineError {
                origin: Some(origin.clone()),
                text: line.written.clone(),
                column,
                message,
                hint,
            })
        };

        let (args, options_text) = split_args_options(&line.text);
        let parsed =
            parse_options(options_text).map_err(|err| error(err.message, None, err.hint))?;
        let options_offset = line.text.len() - options_text.len();
        for word in &parsed.leftover {
            self.warn(&origin, format!("`{word}` after the options is ignored"));
        }

        if !args.is_empty() {
            let source = parse_requirement(args, &self.cwd)
                .map_err(|err| error(err.message, err.offset, err.hint))?;
            let mut hashes = Vec::new();
            for option in &parsed.options {
                match option.name {
                    OptionName::Hash => {
                        let value = option.value.as_deref().unwrap_or_default();
                        let hash = Hash::parse(value).map_err(|message| {
                            error(
                                message,
                                Some(options_offset + option_offset(options_text, value)),
                                None,
                            )
                        })?;
                        if !hashes.contains(&hash) {
                            hashes.push(hash);
                        }
                    }
                    name if name.is_per_requirement() => self.warn(
                        &origin,
                        format!(
                            "{} is ignored: rvenv does not pass options to build backends",
                            option.written
                        ),
                    ),
                    _ => self.warn(
                        &origin,
                        format!(
                            "{} is ignored on a requirement line; put it on a line of its own",
                            option.written
                        ),
                    ),
                }
            }
            let entry = Entry {
                requirement: source,
                hashes,
                origin: origin.clone(),
            };
            match kind {
                FileKind::Requirements => self.out.requirements.push(entry),
                FileKind::Constraints => {
                    if let RequirementSource::Unnamed(unnamed) = &entry.requirement {
                        return Err(error(
                            format!(
                                "a constraint needs a package name, but `{}` has none",
                                unnamed.given
                            ),
                            None,
                            Some("write constraints as `name==version` or `name @ url`".to_owned()),
                        ));
                    }
                    self.out.constraints.push(entry);
                }
            }
            return Ok(());
        }

        for option in &parsed.options {
            self.apply_option(option, &origin, path, kind)
                .map_err(|err| match err {
                    ApplyError::Line(message, hint) => error(message, None, hint),
                    ApplyError::Nested(nested) => nested,
                })?;
        }
        Ok(())
    }

    fn warn(&mut self, origin: &Origin, message: String) {
        self.out.warnings.push(Warning {
            origin: origin.clone(),
            message,
        });
    }

    /// Apply an option found on a line without a requirement.
    fn apply_option(
        &mut self,
        option: &ParsedOption,
        origin: &Origin,
        path: &Path,
        kind: FileKind,
    ) -> Result<(), ApplyError> {
        let value = option.value.clone().unwrap_or_default();
        match option.name {
            OptionName::Requirement | OptionName::Constraint => {
                let nested_kind = if option.name == OptionName::Constraint {
                    FileKind::Constraints
                } else {
                    FileKind::Requirements
                };
                self.include(&value, nested_kind, origin, path)?;
            }
            OptionName::Editable => {
                if kind == FileKind::Constraints {
                    return Err(ApplyError::Line(
                        format!(
                            "editable requirements are not allowed as constraints (`-e {value}`)"
                        ),
                        Some("move it to a requirements file".to_owned()),
                    ));
                }
                let requirement =
                    parse_editable(&value, &self.cwd).map_err(|err| (err.message, err.hint))?;
                self.out.editables.push(Editable {
                    requirement,
                    origin: origin.clone(),
                });
            }
            OptionName::IndexUrl => self.out.index_url = Some(value),
            OptionName::ExtraIndexUrl => {
                if !self.out.extra_index_urls.contains(&value) {
                    self.out.extra_index_urls.push(value);
                }
            }
            OptionName::NoIndex => self.out.no_index = true,
            OptionName::FindLinks => {
                let relative = normalize(&self.cwd.join(self.include_dir(path)).join(&value));
                let is_url = value.contains("://") || value.starts_with("file:");
                let link = if !is_url && relative.exists() {
                    relative.display().to_string()
                } else {
                    value
                };
                self.out.find_links.push(link);
            }
            OptionName::NoBinary | OptionName::OnlyBinary => {
                if value.starts_with('-') {
                    return Err(ApplyError::Line(
                        format!("{} needs a value, found `{value}`", option.written),
                        None,
                    ));
                }
                let which = if option.name == OptionName::NoBinary {
                    BinaryOption::NoBinary
                } else {
                    BinaryOption::OnlyBinary
                };
                self.out
                    .format_control
                    .apply(which, &value)
                    .map_err(|message| {
                        (
                            message,
                            Some("use package names, `:all:` or `:none:`".to_owned()),
                        )
                    })?;
            }
            OptionName::PreferBinary => self.out.prefer_binary = true,
            OptionName::RequireHashes => {
                if self.out.require_hashes.is_none() {
                    self.out.require_hashes = Some(origin.clone());
                }
            }
            OptionName::Pre => self.out.pre = true,
            OptionName::TrustedHost => self.out.trusted_hosts.push(value),
            OptionName::UseFeature => {
                self.warn(origin, format!("--use-feature={value} is ignored by rvenv"))
            }
            OptionName::Hash
            | OptionName::GlobalOption
            | OptionName::InstallOption
            | OptionName::ConfigSettings => self.warn(
                origin,
                format!(
                    "{} is ignored: it applies to a requirement on the same line",
                    option.written
                ),
            ),
        }
        Ok(())
    }

    fn include(
        &mut self,
        value: &str,
        kind: FileKind,
        origin: &Origin,
        path: &Path,
    ) -> Result<(), ApplyError> {
        if let Some(url) = remote_url(Path::new(value)) {
            return self
                .parse_url(&url, kind, Some(origin.clone()))
                .map_err(ApplyError::Nested);
        }
        // pip joins a relative name to the URL of a downloaded file that names it.
        if let Some(base) = remote_url(path) {
            if !Path::new(value).is_absolute() && !value.starts_with("file:") {
                let url = base.join(value).map_err(|err| {
                    ApplyError::Line(format!("cannot join `{value}` to `{base}`: {err}"), None)
                })?;
                return self
                    .parse_url(&url, kind, Some(origin.clone()))
                    .map_err(ApplyError::Nested);
            }
        }
        let value = value
            .strip_prefix("file://")
            .or_else(|| value.strip_prefix("file:"))
            .unwrap_or(value);
        let nested = self.include_dir(path).join(value);
        self.parse_file(&nested, kind, Some(origin.clone()))
            .map_err(ApplyError::Nested)
    }
}

/// The URL of a file named `http://...` or `https://...` (any case), if `path` is one.
fn remote_url(path: &Path) -> Option<Url> {
    let text = path.to_str()?;
    let scheme = text.split_once("://")?.0;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    Url::parse(text).ok()
}

/// A URL that answers with a web page (an index page, a GitHub "blob" view) fails on its first
/// line; say so, since the line alone (`<!DOCTYPE html>`) does not.
fn hint_html_body(err: Error, body: &[u8]) -> Error {
    let start = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let start = start.trim_start_matches('\u{feff}').trim_start();
    let is_html = start.starts_with("<!doctype html") || start.starts_with("<html");
    match err {
        Error::Line(mut line) if is_html && line.hint.is_none() => {
            line.hint = Some(
                "the URL answered with an HTML page, not a requirements file; use the URL of the raw file"
                    .to_owned(),
            );
            Error::Line(line)
        }
        other => other,
    }
}

/// Why an option line failed: a problem on the line itself, or an error from an included file
/// (which names its own file and line).
enum ApplyError {
    Line(String, Option<String>),
    Nested(Error),
}

impl From<(String, Option<String>)> for ApplyError {
    fn from((message, hint): (String, Option<String>)) -> Self {
        ApplyError::Line(message, hint)
    }
}

/// pip's split of a line: the requirement is every word before the first one starting with `-`.
fn split_args_options(text: &str) -> (&str, &str) {
    let mut offset = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        if word.starts_with('-') {
            return (text[..offset].trim(), &text[offset..]);
        }
        offset += word.len();
    }
    (text.trim(), "")
}

/// Where `value` sits in the option text (for a column), or 0.
fn option_offset(options_text: &str, value: &str) -> usize {
    options_text.find(value).unwrap_or(0)
}
