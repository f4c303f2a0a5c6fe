//! One requirement: a PEP 508 specifier, or (pip's extension) a bare URL, local path or VCS URL.
//!
//! The order of the checks is pip's: a known URL scheme makes a URL; else a word that looks like
//! a path (has `/` or starts with `.`) and names a directory makes a project directory; else an
//! archive file name (`.whl`, `.tar.gz`, ...) makes a local file; everything else is PEP 508.

use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{ExtraName, MarkerTree, PackageName, Requirement, VerbatimUrl, VersionOrUrl};
use url::Url;

/// What one requirement line (or command-line argument) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequirementSource {
    /// A PEP 508 requirement: name, extras, specifier or `name @ url`, marker.
    Named(Requirement),
    /// A URL or local path without a name in front of it.
    Unnamed(UnnamedRequirement),
}

impl RequirementSource {
    /// The project name, when it is known before building anything.
    pub fn name(&self) -> Option<&PackageName> {
        match self {
            RequirementSource::Named(requirement) => Some(&requirement.name),
            RequirementSource::Unnamed(unnamed) => unnamed.name.as_ref(),
        }
    }

    /// The marker (always true when none was written). Not evaluated here.
    pub fn marker(&self) -> &MarkerTree {
        match self {
            RequirementSource::Named(requirement) => &requirement.marker,
            RequirementSource::Unnamed(unnamed) => &unnamed.marker,
        }
    }
}

/// A bare URL, local file or directory, or VCS URL, as pip accepts in place of a requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnnamedRequirement {
    pub location: Location,
    /// `./project[dev]` or `#egg=name[dev]`.
    pub extras: Vec<ExtraName>,
    pub marker: MarkerTree,
    /// From `#egg=name`, or from the name part of a wheel's file name.
    pub name: Option<PackageName>,
    /// From `#subdirectory=dir`: where the project sits inside the archive or repository.
    pub subdirectory: Option<String>,
    /// The URL or path as written (after `${VAR}` expansion), without extras and marker.
    pub given: String,
}

/// Where an unnamed requirement or editable lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local archive or project directory, made absolute against the current directory.
    /// `file:` URLs end up here too. A file need not exist yet; a directory did when parsed.
    Path(PathBuf),
    /// A remote archive (`https://host/pkg-1.0-py3-none-any.whl`), fragment kept.
    Url(Url),
    /// A version-control URL (`git+https://host/repo.git@v1.0#egg=name`).
    Vcs(VcsUrl),
}

/// The version-control systems pip knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VcsKind {
    Git,
    Mercurial,
    Subversion,
    Bazaar,
}

impl VcsKind {
    fn from_prefix(prefix: &str) -> Option<Self> {
        match prefix.to_ascii_lowercase().as_str() {
            "git" => Some(VcsKind::Git),
            "hg" => Some(VcsKind::Mercurial),
            "svn" => Some(VcsKind::Subversion),
            "bzr" => Some(VcsKind::Bazaar),
            _ => None,
        }
    }
}

/// A VCS URL split into its parts: `git+https://host/repo.git@rev` is kind Git,
/// url `https://host/repo.git`, rev `rev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsUrl {
    pub kind: VcsKind,
    /// The transport URL, without the `git+` prefix, the `@rev` and the fragment.
    pub url: Url,
    /// A branch, tag or commit after the last `@` of the path.
    pub rev: Option<String>,
}

impl VcsUrl {
    /// Split `git+https://host/repo.git@rev#fragment`; `None` when it is not a VCS URL.
    pub fn parse(text: &str) -> Option<Result<VcsUrl, String>> {
        let (scheme, _) = split_scheme(text)?;
        let (vcs, _transport) = scheme.split_once('+')?;
        let kind = VcsKind::from_prefix(vcs)?;
        let without_prefix = &text[vcs.len() + 1..];
        let without_fragment = without_prefix
            .split_once('#')
            .map_or(without_prefix, |(url, _)| url);
        Some(match Url::parse(without_fragment) {
            Err(err) => Err(format!("invalid URL `{text}`: {err}")),
            Ok(mut url) => {
                let mut rev = None;
                if let Some((path, found)) = url.path().rsplit_once('@') {
                    let path = path.to_owned();
                    rev = Some(found.to_owned());
                    url.set_path(&path);
                }
                url.set_fragment(None);
                Ok(VcsUrl { kind, url, rev })
            }
        })
    }
}

/// A problem with one requirement, before it is placed in a file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequirementError {
    pub(crate) message: String,
    /// Byte offset of the problem in the requirement text.
    pub(crate) offset: Option<usize>,
    pub(crate) hint: Option<String>,
}

impl RequirementError {
    fn new(message: impl Into<String>) -> Self {
        RequirementError {
            message: message.into(),
            offset: None,
            hint: None,
        }
    }

    fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Parse one requirement as pip reads it from a file or the command line.
/// Paths are relative to `cwd`, which must be absolute.
pub(crate) fn parse_requirement(
    text: &str,
    cwd: &Path,
) -> Result<RequirementSource, RequirementError> {
    let text = text.trim();
    if let Some(hint) = shell_command_hint(text) {
        return Err(
            RequirementError::new("this is a shell command, not a requirement").with_hint(hint),
        );
    }
    if is_url(text) {
        let (head, marker) = split_url_marker(text);
        return parse_unnamed_url(head, marker, cwd).map(RequirementSource::Unnamed);
    }
    let (head, marker) = match text.split_once(';') {
        Some((head, marker)) => (head.trim(), Some(marker)),
        None => (text, None),
    };
    let (path_text, extras) = split_path_extras(head);
    let looks_like_path = looks_like_path(head);
    if looks_like_path && !path_text.is_empty() && cwd.join(path_text).is_dir() {
        let path = normalize(&cwd.join(path_text));
        check_installable_dir(&path, head)?;
        return unnamed(Location::Path(path), path_text, extras, marker, None);
    }
    if is_archive(path_text) && !is_named_url_requirement(head) {
        let name = wheel_name(path_text)?;
        return unnamed(
            Location::Path(normalize(&cwd.join(path_text))),
            path_text,
            extras,
            marker,
            name,
        );
    }
    parse_named(text, looks_like_path).map(RequirementSource::Named)
}

/// Parse the value of `-e`: a local project directory or a VCS URL with `#egg=name`.
pub(crate) fn parse_editable(
    text: &str,
    cwd: &Path,
) -> Result<UnnamedRequirement, RequirementError> {
    let text = text.trim();
    let (path_text, extras) = split_path_extras(text);
    let not_editable = || {
        RequirementError::new(format!(
            "`{text}` is not a valid editable requirement: it is neither a local project directory nor a VCS URL"
        ))
        .with_hint("use a path (`-e .`, `-e ./backend`) or a VCS URL (`-e git+https://host/repo.git#egg=name`)")
    };
    if path_text.is_empty() {
        return Err(not_editable());
    }
    if cwd.join(path_text).is_dir() {
        let path = normalize(&cwd.join(path_text));
        check_installable_dir(&path, text)?;
        let source = unnamed(Location::Path(path), path_text, extras, None, None)?;
        return Ok(into_unnamed(source));
    }
    if has_file_scheme(path_text) {
        let path = file_url_path(path_text, cwd)?;
        if !path.is_dir() {
            return Err(RequirementError::new(format!(
                "`{text}` is not a directory; -e needs a project directory"
            )));
        }
        check_installable_dir(&path, text)?;
        return Ok(into_unnamed(unnamed(
            Location::Path(path),
            path_text,
            extras,
            None,
            None,
        )?));
    }
    // pip lets `-e git://host/repo` stand for `git+git://host/repo`.
    let with_prefix = match split_scheme(text) {
        Some((scheme, _)) if VcsKind::from_prefix(scheme).is_some() => format!("{scheme}+{text}"),
        _ => text.to_owned(),
    };
    match VcsUrl::parse(&with_prefix) {
        Some(Ok(vcs)) => {
            let fragment = Fragment::parse(&with_prefix)?;
            if fragment.name.is_none() {
                return Err(RequirementError::new(format!(
                    "cannot tell the project name of the editable `{text}`"
                ))
                .with_hint(format!("name it with #egg=, e.g. `-e {text}#egg=NAME`")));
            }
            Ok(UnnamedRequirement {
                location: Location::Vcs(vcs),
                extras: fragment.extras,
                marker: MarkerTree::TRUE,
                name: fragment.name,
                subdirectory: fragment.subdirectory,
                given: text.to_owned(),
            })
        }
        Some(Err(message)) => Err(RequirementError::new(message)),
        None if looks_like_path(text) => Err(RequirementError::new(format!(
            "`{text}` is not a valid editable requirement: the directory `{}` does not exist",
            cwd.join(path_text).display()
        ))),
        None => Err(not_editable()),
    }
}

fn into_unnamed(source: RequirementSource) -> UnnamedRequirement {
    match source {
        RequirementSource::Unnamed(unnamed) => unnamed,
        // `unnamed()` only builds the unnamed variant.
        RequirementSource::Named(_) => unreachable!("unnamed() returned a named requirement"),
    }
}

fn unnamed(
    location: Location,
    given: &str,
    extras: &str,
    marker: Option<&str>,
    name: Option<PackageName>,
) -> Result<RequirementSource, RequirementError> {
    Ok(RequirementSource::Unnamed(UnnamedRequirement {
        location,
        extras: parse_extras(extras)?,
        marker: parse_marker(marker)?,
        name,
        subdirectory: None,
        given: given.to_owned(),
    }))
}

fn parse_unnamed_url(
    head: &str,
    marker: Option<&str>,
    cwd: &Path,
) -> Result<UnnamedRequirement, RequirementError> {
    let fragment = Fragment::parse(head)?;
    let without_fragment = head.split_once('#').map_or(head, |(url, _)| url);
    let location = if has_file_scheme(without_fragment) {
        Location::Path(file_url_path(without_fragment, cwd)?)
    } else if let Some(vcs) = VcsUrl::parse(head) {
        Location::Vcs(vcs.map_err(RequirementError::new)?)
    } else {
        Location::Url(
            Url::parse(head)
                .map_err(|err| RequirementError::new(format!("invalid URL `{head}`: {err}")))?,
        )
    };
    let name = match fragment.name {
        Some(name) => Some(name),
        None if !matches!(location, Location::Vcs(_)) => {
            let file_name = without_fragment.rsplit('/').next().unwrap_or_default();
            wheel_name(file_name)?
        }
        None => None,
    };
    Ok(UnnamedRequirement {
        location,
        extras: fragment.extras,
        marker: parse_marker(marker)?,
        name,
        subdirectory: fragment.subdirectory,
        given: head.to_owned(),
    })
}

/// The parts of a URL fragment pip reads: `#egg=name[extras]&subdirectory=dir`.
#[derive(Default)]
struct Fragment {
    name: Option<PackageName>,
    extras: Vec<ExtraName>,
    subdirectory: Option<String>,
}

impl Fragment {
    fn parse(url: &str) -> Result<Fragment, RequirementError> {
        let mut fragment = Fragment::default();
        let Some((_, text)) = url.split_once('#') else {
            return Ok(fragment);
        };
        for pair in text.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "egg" if !value.is_empty() => {
                    let (name, extras) = split_path_extras(value);
                    let name = PackageName::from_str(name).map_err(|err| {
                        RequirementError::new(format!(
                            "invalid project name in `#egg={value}`: {err}"
                        ))
                    })?;
                    fragment.name = Some(name);
                    fragment.extras = parse_extras(extras)?;
                }
                "subdirectory" if !value.is_empty() => {
                    fragment.subdirectory = Some(value.to_owned())
                }
                _ => {}
            }
        }
        Ok(fragment)
    }
}

fn parse_named(text: &str, looks_like_path: bool) -> Result<Requirement, RequirementError> {
    let parsed = check_name_endings(text)
        .and_then(|()| check_marker_ascii(text, text.find(';')))
        .and_then(|()| {
            Requirement::<Url>::from_str(text).map_err(|err| {
                let message = err.message.to_string();
                RequirementError {
                    hint: named_hint(text, &message),
                    offset: (err.start <= text.len()).then_some(err.start),
                    message,
                }
            })
        })
        .map_err(|err| {
            if looks_like_path {
                RequirementError::new(format!(
                    "`{text}` looks like a path, but no such file or directory exists"
                ))
                .with_hint("paths are relative to the current directory; check the spelling")
            } else {
                err
            }
        })?;
    if parsed.version_or_url.is_none() && parsed.extras.is_empty() {
        let bare = text.split(';').next().unwrap_or(text).trim();
        let lower = bare.to_ascii_lowercase();
        if lower.ends_with(".txt") || lower.ends_with(".in") {
            return Err(RequirementError::new(format!(
                "`{bare}` looks like a requirements file, not a package"
            ))
            .with_hint(format!("to include it, write `-r {bare}`")));
        }
    }
    Ok(Requirement {
        name: parsed.name,
        extras: parsed.extras,
        version_or_url: parsed
            .version_or_url
            .map(|version_or_url| match version_or_url {
                VersionOrUrl::VersionSpecifier(specifiers) => {
                    VersionOrUrl::VersionSpecifier(specifiers)
                }
                VersionOrUrl::Url(url) => {
                    let given = url.to_string();
                    VersionOrUrl::Url(VerbatimUrl::from_url(url).with_given(given))
                }
            }),
        marker: parsed.marker,
        origin: None,
    })
}

/// Names and extras must end with a letter or digit. pep508_rs panics on `name-==1` and
/// `name[extra-]` instead of reporting them, so they are caught here first.
fn check_name_endings(text: &str) -> Result<(), RequirementError> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let bad_end = |word: &str, offset: usize, what: &str| -> Result<(), RequirementError> {
        match word.chars().last() {
            Some('-' | '_' | '.') => Err(RequirementError {
                message: format!("{what} `{word}` must end with a letter or digit"),
                offset: Some(offset + word.len() - 1),
                hint: None,
            }),
            _ => Ok(()),
        }
    };
    let start = text.len() - text.trim_start().len();
    if !text[start..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Ok(()); // pep508_rs reports a bad first character itself.
    }
    let name_len = text[start..]
        .find(|c: char| !is_name_char(c))
        .unwrap_or(text.len() - start);
    bad_end(&text[start..start + name_len], start, "package name")?;
    let after_name = start + name_len;
    let rest = &text[after_name..];
    let Some(open) = rest
        .trim_start()
        .strip_prefix('[')
        .map(|_| after_name + rest.len() - rest.trim_start().len())
    else {
        return Ok(());
    };
    let close = text[open..]
        .find(']')
        .map_or(text.len(), |close| open + close);
    let mut offset = open + 1;
    for item in text[open + 1..close].split(',') {
        let trimmed_start = offset + item.len() - item.trim_start().len();
        let word_len = text[trimmed_start..]
            .find(|c: char| !is_name_char(c))
            .unwrap_or(text.len() - trimmed_start);
        bad_end(
            &text[trimmed_start..trimmed_start + word_len],
            trimmed_start,
            "extra name",
        )?;
        offset += item.len() + 1;
    }
    Ok(())
}

/// Hints for common mistakes in PEP 508 requirements.
fn named_hint(text: &str, message: &str) -> Option<String> {
    if message.contains("wildcard") {
        return Some(
            "a `.*` wildcard works only with `==` and `!=` (`==1.0.*`); with other operators drop it (`>=1.0`)"
                .to_owned(),
        );
    }
    let head = text.split(';').next().unwrap_or(text);
    let is_url_requirement = head.contains('@') || head.contains("://");
    if let Some(index) = head.find('=').filter(|_| !is_url_requirement) {
        let before = head[..index].chars().last();
        let after = head[index + 1..].chars().next();
        if !matches!(before, Some('=' | '<' | '>' | '!' | '~')) && after != Some('=') {
            return Some(format!(
                "`=` is not an operator; to pin a version write `{}=={}`",
                head[..index].trim(),
                head[index + 1..].trim()
            ));
        }
    }
    if message.contains("Expected one of")
        && head.split_whitespace().count() > 1
        && !head.contains(['<', '>', '=', '~', '!', '@', '('])
    {
        return Some("write one requirement per line".to_owned());
    }
    None
}

fn shell_command_hint(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let rest = match words.as_slice() {
        ["pip" | "pip3", "install", rest @ ..] => rest,
        ["python" | "python3", "-m", "pip", "install", rest @ ..] => rest,
        _ => return None,
    };
    Some(if rest.is_empty() {
        "remove this line".to_owned()
    } else {
        format!(
            "write just the requirements, one per line: `{}`",
            rest.join("`, `")
        )
    })
}

fn parse_extras(extras: &str) -> Result<Vec<ExtraName>, RequirementError> {
    let Some(inner) = extras.strip_prefix('[').and_then(|e| e.strip_suffix(']')) else {
        return Ok(Vec::new());
    };
    inner
        .split(',')
        .map(str::trim)
        .filter(|extra| !extra.is_empty())
        .map(|extra| {
            ExtraName::from_str(extra)
                .map_err(|err| RequirementError::new(format!("invalid extra `{extra}`: {err}")))
        })
        .collect()
}

/// Deeper parentheses than any real marker; pep508_rs parses them recursively.
const MAX_MARKER_DEPTH: usize = 32;

/// Markers are ASCII (names, operators, quoted versions). pep508_rs can panic on some non-ASCII
/// text in a marker, and recurses once per `(`, so it never sees either.
fn check_marker_ascii(text: &str, marker_start: Option<usize>) -> Result<(), RequirementError> {
    let Some(start) = marker_start else {
        return Ok(());
    };
    let mut depth = 0usize;
    for (index, c) in text[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_MARKER_DEPTH {
            return Err(RequirementError {
                message: format!("markers may nest parentheses at most {MAX_MARKER_DEPTH} deep"),
                offset: Some(start + index),
                hint: None,
            });
        }
    }
    match text[start..].char_indices().find(|(_, c)| !c.is_ascii()) {
        Some((index, c)) => Err(RequirementError {
            message: format!("markers may only contain ASCII characters, found `{c}`"),
            offset: Some(start + index),
            hint: None,
        }),
        None => Ok(()),
    }
}

fn parse_marker(marker: Option<&str>) -> Result<MarkerTree, RequirementError> {
    let Some(marker) = marker.map(str::trim).filter(|m| !m.is_empty()) else {
        return Ok(MarkerTree::TRUE);
    };
    check_marker_ascii(marker, Some(0)).map_err(|err| RequirementError {
        offset: None,
        ..err
    })?;
    MarkerTree::parse_str::<Url>(marker)
        .map_err(|err| RequirementError::new(format!("invalid marker `{marker}`: {}", err.message)))
}

/// Split `path[extra1,extra2]` into the path and `[extra1,extra2]` (brackets kept).
fn split_path_extras(text: &str) -> (&str, &str) {
    if let Some(open) = text.strip_suffix(']').and_then(|t| t.rfind('[')) {
        let inner = &text[open + 1..text.len() - 1];
        if open > 0 && !inner.is_empty() && !inner.contains(']') {
            return (&text[..open], &text[open..]);
        }
    }
    (text, "")
}

/// For URLs the marker must be set off by whitespace (`url ; marker` or `url; marker`), since
/// `;` may be part of a URL.
fn split_url_marker(text: &str) -> (&str, Option<&str>) {
    for (index, _) in text.match_indices(';') {
        let before = text[..index].chars().last();
        let after = text[index + 1..].chars().next();
        if before.is_some_and(char::is_whitespace) || after.is_some_and(char::is_whitespace) {
            return (text[..index].trim(), Some(&text[index + 1..]));
        }
    }
    (text, None)
}

fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| (scheme, &text[colon + 1..]))
}

/// A URL pip recognises in place of a requirement: http(s), ftp, file, or `vcs+transport`.
fn is_url(text: &str) -> bool {
    let Some((scheme, _)) = split_scheme(text) else {
        return false;
    };
    let scheme = scheme.to_ascii_lowercase();
    matches!(scheme.as_str(), "http" | "https" | "file" | "ftp")
        || scheme
            .split_once('+')
            .is_some_and(|(vcs, _)| VcsKind::from_prefix(vcs).is_some())
}

fn has_file_scheme(text: &str) -> bool {
    text.get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:"))
}

fn looks_like_path(text: &str) -> bool {
    text.contains('/') || text.starts_with('.')
}

/// `name @ https://host/name-1.0.whl` ends in an archive name but is a PEP 508 requirement.
fn is_named_url_requirement(text: &str) -> bool {
    text.split_once('@')
        .is_some_and(|(before, _)| !looks_like_path(before))
}

/// The archive suffixes pip installs from.
fn is_archive(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [
        ".whl",
        ".zip",
        ".tar.gz",
        ".tgz",
        ".tar",
        ".tar.bz2",
        ".tbz",
        ".tar.xz",
        ".txz",
        ".tlz",
        ".tar.lz",
        ".tar.lzma",
    ]
    .iter()
    .any(|suffix| lower.ends_with(suffix) && lower.len() > suffix.len())
}

/// The project name of a wheel file name (`name-version[-build]-python-abi-platform.whl`);
/// `None` when it is not a wheel, an error when it is a wheel with a malformed name.
fn wheel_name(file_name: &str) -> Result<Option<PackageName>, RequirementError> {
    let file_name = file_name.rsplit('/').next().unwrap_or(file_name);
    let Some(stem) = file_name
        .strip_suffix(".whl")
        .or_else(|| file_name.strip_suffix(".WHL"))
    else {
        return Ok(None);
    };
    let parts: Vec<&str> = stem.split('-').collect();
    let invalid = || {
        RequirementError::new(format!("`{file_name}` is not a valid wheel file name"))
            .with_hint("wheel names look like `name-1.0-py3-none-any.whl`")
    };
    if !(5..=6).contains(&parts.len()) || parts.iter().any(|part| part.is_empty()) {
        return Err(invalid());
    }
    PackageName::from_str(parts[0])
        .map(Some)
        .map_err(|_| invalid())
}

fn check_installable_dir(path: &Path, written: &str) -> Result<(), RequirementError> {
    if path.join("pyproject.toml").is_file() || path.join("setup.py").is_file() {
        return Ok(());
    }
    Err(RequirementError::new(format!(
        "directory `{written}` is not installable: it has neither setup.py nor pyproject.toml"
    ))
    .with_hint("point at the project's root directory"))
}

/// The local path of a `file:` URL; relative ones (`file:../x`) are relative to `cwd`.
fn file_url_path(url: &str, cwd: &Path) -> Result<PathBuf, RequirementError> {
    let rest = &url[5..];
    let absolute = rest
        .strip_prefix("//localhost")
        .filter(|r| r.starts_with('/'))
        .unwrap_or(rest);
    let absolute = absolute.strip_prefix("//").unwrap_or(absolute);
    if !absolute.starts_with('/') {
        return Ok(normalize(&cwd.join(absolute)));
    }
    let parsed = Url::parse(&format!("file://{absolute}"))
        .map_err(|err| RequirementError::new(format!("invalid URL `{url}`: {err}")))?;
    parsed
        .to_file_path()
        .map(|path| normalize(&path))
        .map_err(|()| RequirementError::new(format!("`{url}` is not a local file path")))
}

/// Make a path absolute-looking without touching the file system (`a/./b/../c` is `a/c`).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                // `/..` is `/`; a relative path keeps leading `..`s.
                let at_root = out.parent().is_none() && out.has_root();
                if !at_root && !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}
