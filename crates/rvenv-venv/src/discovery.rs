//! Finding an interpreter for a `--python` request: on PATH, in pyenv's versions directory, and
//! in /usr/bin and /usr/local/bin.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;

use crate::{pyenv, Error, Interpreter};

/// What the user asked for with `--python`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonRequest {
    /// No request: the first `python3`/`python` on PATH.
    Any,
    /// `3`, `3.12`, `3.12.1`: the newest interpreter whose version starts with these parts.
    Version(Vec<u64>),
    /// `>=3.11,<3.13`: the newest interpreter inside the range.
    Specifier(VersionSpecifiers),
    /// `python3.12`: the first executable of that name.
    ExecutableName(String),
    /// `/usr/bin/python3.11`, `./venv/bin/python`, or a directory holding `bin/python3`.
    Path(PathBuf),
}

impl PythonRequest {
    pub fn parse(request: &str) -> Result<PythonRequest, Error> {
        let text = request.trim();
        let invalid = |reason: String| Error::InvalidRequest {
            request: request.to_string(),
            reason,
        };
        if text.is_empty() || text.eq_ignore_ascii_case("any") {
            return Ok(PythonRequest::Any);
        }
        if text.contains('/') || text.starts_with('.') || text.starts_with('~') {
            return Ok(PythonRequest::Path(expand_home(text)));
        }
        if text.starts_with(|c: char| c.is_ascii_digit()) {
            let parts = text
                .split('.')
                .map(u64::from_str)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| invalid("a version is up to three numbers, e.g. 3.12".into()))?;
            if parts.len() > 3 {
                return Err(invalid(
                    "a version is up to three numbers, e.g. 3.12".into(),
                ));
            }
            return Ok(PythonRequest::Version(parts));
        }
        if text.starts_with(['<', '>', '=', '!', '~']) {
            return VersionSpecifiers::from_str(text)
                .map(PythonRequest::Specifier)
                .map_err(|err| invalid(err.to_string()));
        }
        if text.chars().any(char::is_whitespace) {
            return Err(invalid(
                "expected a version, a specifier, an executable name or a path".into(),
            ));
        }
        Ok(PythonRequest::ExecutableName(text.to_string()))
    }

    /// Whether an interpreter's version fits a version or specifier request (others always fit).
    pub fn matches(&self, interpreter: &Interpreter) -> bool {
        let version = &interpreter.python_full_version;
        match self {
            PythonRequest::Version(parts) => parts
                .iter()
                .enumerate()
                .all(|(i, part)| version.release().get(i).copied().unwrap_or(0) == *part),
            PythonRequest::Specifier(specifiers) => specifiers.contains(&version.only_release()),
            _ => true,
        }
    }
}

impl fmt::Display for PythonRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PythonRequest::Any => f.write_str("python3 or python on PATH"),
            PythonRequest::Version(parts) => {
                let parts: Vec<String> = parts.iter().map(u64::to_string).collect();
                f.write_str(&parts.join("."))
            }
            PythonRequest::Specifier(specifiers) => write!(f, "{specifiers}"),
            PythonRequest::ExecutableName(name) => f.write_str(name),
            PythonRequest::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

fn expand_home(text: &str) -> PathBuf {
    match (text.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(text),
    }
}

/// Finds the interpreter `request` names and returns its base interpreter (an interpreter inside
/// a venv is followed to the one the venv was made from).
pub fn find_interpreter(
    request: &PythonRequest,
    cache_dir: Option<&Path>,
) -> Result<Interpreter, Error> {
    match request {
        PythonRequest::Path(path) => {
            let executable = if path.is_dir() {
                ["bin/python3", "bin/python", "python3", "python"]
                    .iter()
                    .map(|name| path.join(name))
                    .find(|candidate| candidate.is_file())
                    .unwrap_or_else(|| path.join("bin/python3"))
            } else {
                path.clone()
            };
            base_of(Interpreter::query(&executable, cache_dir)?, cache_dir)
        }
        PythonRequest::Any | PythonRequest::ExecutableName(_) => {
            let names: Vec<String> = match request {
                PythonRequest::ExecutableName(name) => vec![name.clone()],
                _ => vec!["python3".into(), "python".into()],
            };
            let mut report = Report::default();
            for (executable, source) in first_named(&names) {
                match Interpreter::query(&executable, cache_dir) {
                    Ok(interpreter) => return base_of(interpreter, cache_dir),
                    Err(err) => report.skipped(&executable, source, &err),
                }
            }
            if matches!(request, PythonRequest::Any) {
                // Nothing usable on PATH: take the newest from the usual places.
                if let Some(found) = newest(request, cache_dir, &mut report)? {
                    return Ok(found);
                }
            }
            Err(report.into_error(request))
        }
        PythonRequest::Version(_) | PythonRequest::Specifier(_) => {
            let mut report = Report::default();
            newest(request, cache_dir, &mut report)?.ok_or_else(|| report.into_error(request))
        }
    }
}

fn base_of(interpreter: Interpreter, cache_dir: Option<&Path>) -> Result<Interpreter, Error> {
    if interpreter.is_venv {
        Interpreter::query(&interpreter.base_executable, cache_dir)
    } else {
        Ok(interpreter)
    }
}

/// Every candidate that fits `request`; the newest wins, the first found among equals.
fn newest(
    request: &PythonRequest,
    cache_dir: Option<&Path>,
    report: &mut Report,
) -> Result<Option<Interpreter>, Error> {
    let mut best: Option<Interpreter> = None;
    for (executable, source) in candidates(request) {
        let interpreter = match Interpreter::query(&executable, cache_dir) {
            Ok(interpreter) => interpreter,
            Err(err) => {
                report.skipped(&executable, source, &err);
                continue;
            }
        };
        report.found(&interpreter, source);
        if request.matches(&interpreter)
            && best
                .as_ref()
                .is_none_or(|best| interpreter.python_full_version > best.python_full_version)
        {
            best = Some(interpreter);
        }
    }
    best.map(|best| base_of(best, cache_dir)).transpose()
}

/// PATH directories in order; a pyenv shims directory stands for the version pyenv selects.
fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default()
}

/// The first executable of each PATH directory called one of `names` (in order), then the same
/// names in the usual install places.
fn first_named(names: &[String]) -> Vec<(PathBuf, &'static str)> {
    let mut found = Vec::new();
    for dir in path_dirs() {
        for name in names {
            let candidate = dir.join(name);
            if !candidate.is_file() {
                continue;
            }
            if crate::query::is_pyenv_shim(&candidate) {
                // `system` (or an unknown version) means: whatever comes later on PATH.
                if let Some(real) = pyenv::resolve_shim(&candidate) {
                    found.push((real, "PATH, via pyenv"));
                }
                continue;
            }
            found.push((candidate, "PATH"));
        }
    }
    found
}

/// Everything that might be a Python 3: `python3.X`, `python3`, `python` in each PATH directory
/// (pyenv shims skipped: their versions are listed from pyenv's versions directory), pyenv's
/// versions, /usr/bin and /usr/local/bin. Duplicates (same resolved file) are dropped.
fn candidates(request: &PythonRequest) -> Vec<(PathBuf, &'static str)> {
    let mut places: Vec<(PathBuf, &'static str)> = path_dirs()
        .into_iter()
        .filter(|dir| dir.file_name().is_none_or(|name| name != "shims"))
        .map(|dir| (dir, "PATH"))
        .collect();
    places.extend(
        pyenv::version_bin_dirs()
            .into_iter()
            .map(|dir| (dir, "pyenv")),
    );
    places.push(("/usr/local/bin".into(), "/usr/local/bin"));
    places.push(("/usr/bin".into(), "/usr/bin"));

    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for (dir, source) in places {
        for name in python_names_in(&dir, request) {
            let candidate = dir.join(name);
            let Ok(resolved) = std::fs::canonicalize(&candidate) else {
                continue;
            };
            if resolved.is_file() && seen.insert(resolved) {
                found.push((candidate, source));
            }
        }
    }
    found
}

/// `python3.X` entries of `dir` (newest first, those a version request rules out skipped
/// without asking them), then `python3`, `python`.
fn python_names_in(dir: &Path, request: &PythonRequest) -> Vec<String> {
    let mut versioned: Vec<(u64, String)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| {
            let minor = name.strip_prefix("python3.")?.parse::<u64>().ok()?;
            Some((minor, name))
        })
        .filter(|(minor, _)| match request {
            PythonRequest::Version(parts) => {
                parts[0] == 3 && parts.get(1).is_none_or(|wanted| wanted == minor)
            }
            _ => true,
        })
        .collect();
    versioned.sort_by_key(|(minor, _)| std::cmp::Reverse(*minor));
    let mut names: Vec<String> = versioned.into_iter().map(|(_, name)| name).collect();
    names.extend(["python3".to_string(), "python".to_string()]);
    names
}

/// What discovery saw, for the error when nothing fits.
#[derive(Default)]
struct Report {
    lines: Vec<String>,
}

impl Report {
    fn found(&mut self, interpreter: &Interpreter, source: &str) {
        self.lines.push(format!(
            "  found {} at {} ({source})",
            interpreter.display_name(),
            interpreter.executable.display()
        ));
    }

    fn skipped(&mut self, executable: &Path, source: &str, err: &Error) {
        let reason = match err {
            Error::Unsupported { version, .. } => format!("Python {version} is too old"),
            other => other
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        self.lines.push(format!(
            "  skipped {} ({source}): {reason}",
            executable.display()
        ));
    }

    fn into_error(self, request: &PythonRequest) -> Error {
        let found = if self.lines.is_empty() {
            "  no Python found on PATH, in pyenv's versions, /usr/bin or /usr/local/bin".to_string()
        } else {
            self.lines.join("\n")
        };
        Error::NoInterpreterFound {
            request: request.to_string(),
            found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_request() {
        assert_eq!(PythonRequest::parse("").unwrap(), PythonRequest::Any);
        assert_eq!(
            PythonRequest::parse("3").unwrap(),
            PythonRequest::Version(vec![3])
        );
        assert_eq!(
            PythonRequest::parse("3.12.1").unwrap(),
            PythonRequest::Version(vec![3, 12, 1])
        );
        assert!(matches!(
            PythonRequest::parse(">=3.11,<3.13").unwrap(),
            PythonRequest::Specifier(_)
        ));
        assert_eq!(
            PythonRequest::parse("python3.12").unwrap(),
            PythonRequest::ExecutableName("python3.12".into())
        );
        assert_eq!(
            PythonRequest::parse("/usr/bin/python3").unwrap(),
            PythonRequest::Path("/usr/bin/python3".into())
        );
        assert_eq!(
            PythonRequest::parse("./venv/bin/python").unwrap(),
            PythonRequest::Path("./venv/bin/python".into())
        );
        assert!(PythonRequest::parse("3.x").is_err());
        assert!(PythonRequest::parse("3.1.2.3").is_err());
        assert!(PythonRequest::parse(">=three").is_err());
    }

    #[test]
    fn finds_the_newest_for_a_version_and_honours_specifiers() {
        let any3 = find_interpreter(&PythonRequest::parse("3").unwrap(), None).unwrap();
        let ranged = find_interpreter(&PythonRequest::parse(">=3.9,<3.12").unwrap(), None).unwrap();
        assert!(ranged.python_minor().1 >= 9 && ranged.python_minor().1 < 12);
        assert!(any3.python_full_version >= ranged.python_full_version);
        let exact = find_interpreter(&PythonRequest::parse("3.11").unwrap(), None).unwrap();
        assert_eq!(exact.python_minor(), (3, 11));
    }

    #[test]
    fn a_venv_interpreter_is_followed_to_its_base() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("v");
        let status = std::process::Command::new("/usr/bin/python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(status.success());
        let request = PythonRequest::Path(venv.join("bin/python"));
        let found = find_interpreter(&request, None).unwrap();
        assert!(!found.is_venv);
        assert_eq!(
            found.base_executable,
            std::fs::canonicalize("/usr/bin/python3").unwrap()
        );
    }

    #[test]
    fn no_match_lists_what_was_found() {
        let err = find_interpreter(&PythonRequest::parse("3.99").unwrap(), None).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("no Python interpreter matches `3.99`"),
            "{message}"
        );
        assert!(message.contains("found CPython"), "{message}");
    }
}
