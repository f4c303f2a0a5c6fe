//! Errors and warnings, each naming the file and line it comes from.

use std::fmt;
use std::path::PathBuf;

/// Where something was written: a file (or `-` for standard input) and a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Something pip accepts that rvenv reads but ignores (an option it does not act on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// A problem on one line of a requirements file (or in one command-line argument).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// `None` for a requirement given on the command line.
    pub origin: Option<Origin>,
    /// The line as written (comment removed, before `${VAR}` expansion).
    pub text: String,
    /// 1-based column in `text` of the offending part, when known.
    pub column: Option<usize>,
    /// What is wrong, in plain words.
    pub message: String,
    /// How to fix it, when known.
    pub hint: Option<String>,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.origin, self.column) {
            (Some(origin), Some(column)) => write!(f, "{origin}:{column}: {}", self.message)?,
            (Some(origin), None) => write!(f, "{origin}: {}", self.message)?,
            (None, _) => write!(f, "invalid requirement `{}`: {}", self.text, self.message)?,
        }
        if self.origin.is_some() {
            write!(f, "\n    {}", self.text)?;
            if let Some(column) = self.column {
                write!(f, "\n    {}^", " ".repeat(column.saturating_sub(1)))?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Why a requirement breaks hash-checking mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashOffender {
    pub origin: Origin,
    /// The requirement as written.
    pub requirement: String,
    pub problem: String,
}

impl fmt::Display for HashOffender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: `{}` {}",
            self.origin, self.requirement, self.problem
        )
    }
}

/// Everything that can go wrong reading requirements.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read; `included_from` is the `-r`/`-c` line that named it.
    #[error("{}cannot read requirements file `{}`: {source}", included_from_prefix(.included_from), .path.display())]
    Read {
        path: PathBuf,
        included_from: Option<Origin>,
        #[source]
        source: std::io::Error,
    },
    /// A file named by an `http(s)://` URL could not be downloaded.
    #[error("{}cannot download requirements file `{url}`: {message}\n  hint: {hint}", included_from_prefix(.included_from))]
    Fetch {
        url: String,
        included_from: Option<Origin>,
        message: String,
        hint: String,
    },
    /// A file's bytes are not text in an encoding pip reads.
    #[error("cannot read requirements file `{}`: {message}\n  hint: save it as UTF-8", .path.display())]
    Decode { path: PathBuf, message: String },
    /// A line that cannot be parsed.
    #[error("{0}")]
    Line(Box<LineError>),
    /// `-r`/`-c` lines that include each other in a loop.
    #[error("{origin}: `{}` includes itself: {}", .path.display(), format_chain(.chain))]
    IncludeCycle {
        /// The line that closes the loop.
        origin: Origin,
        path: PathBuf,
        /// The files from the outermost to the one that closes the loop.
        chain: Vec<PathBuf>,
    },
    /// Hash-checking mode is on and some requirements are not pinned or not hashed.
    #[error("{}", format_hash_mode(.reason, .offenders))]
    HashChecking {
        /// Why the mode is on: the flag, or the first line with `--hash`/`--require-hashes`.
        reason: String,
        offenders: Vec<HashOffender>,
    },
}

impl From<LineError> for Error {
    fn from(error: LineError) -> Self {
        Error::Line(Box::new(error))
    }
}

fn included_from_prefix(origin: &Option<Origin>) -> String {
    match origin {
        Some(origin) => format!("{origin}: "),
        None => String::new(),
    }
}

fn format_chain(chain: &[PathBuf]) -> String {
    chain
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn format_hash_mode(reason: &str, offenders: &[HashOffender]) -> String {
    let mut text = format!(
        "hash-checking mode is on ({reason}), so every requirement must be pinned with `==` and carry --hash; {} {}:",
        offenders.len(),
        if offenders.len() == 1 { "does not" } else { "do not" }
    );
    for offender in offenders {
        text.push_str(&format!("\n  {offender}"));
    }
    text.push_str("\n  hint: write each as `name==VERSION --hash=sha256:DIGEST` (pip-compile --generate-hashes does this)");
    text
}
