//! The options of a requirements-file line: pip's names, `--opt value` and `--opt=value`,
//! unique prefixes of long names (`--extra-index` for `--extra-index-url`), shell-like quoting.

/// An option pip accepts in a requirements file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptionName {
    Requirement,
    Constraint,
    Editable,
    IndexUrl,
    ExtraIndexUrl,
    NoIndex,
    FindLinks,
    NoBinary,
    OnlyBinary,
    PreferBinary,
    RequireHashes,
    Pre,
    TrustedHost,
    UseFeature,
    // Per-requirement options.
    Hash,
    GlobalOption,
    InstallOption,
    ConfigSettings,
}

struct Spec {
    long: &'static str,
    short: Option<char>,
    takes_value: bool,
    name: OptionName,
}

const fn spec(
    long: &'static str,
    short: Option<char>,
    takes_value: bool,
    name: OptionName,
) -> Spec {
    Spec {
        long,
        short,
        takes_value,
        name,
    }
}

const SPECS: &[Spec] = &[
    spec("requirement", Some('r'), true, OptionName::Requirement),
    spec("constraint", Some('c'), true, OptionName::Constraint),
    spec("editable", Some('e'), true, OptionName::Editable),
    spec("index-url", Some('i'), true, OptionName::IndexUrl),
    spec("extra-index-url", None, true, OptionName::ExtraIndexUrl),
    spec("no-index", None, false, OptionName::NoIndex),
    spec("find-links", Some('f'), true, OptionName::FindLinks),
    spec("no-binary", None, true, OptionName::NoBinary),
    spec("only-binary", None, true, OptionName::OnlyBinary),
    spec("prefer-binary", None, false, OptionName::PreferBinary),
    spec("require-hashes", None, false, OptionName::RequireHashes),
    spec("pre", None, false, OptionName::Pre),
    spec("trusted-host", None, true, OptionName::TrustedHost),
    spec("use-feature", None, true, OptionName::UseFeature),
    spec("hash", None, true, OptionName::Hash),
    spec("global-option", None, true, OptionName::GlobalOption),
    spec("install-option", None, true, OptionName::InstallOption),
    spec("config-settings", None, true, OptionName::ConfigSettings),
];

/// `pip install` options that exist on the command line only.
const COMMAND_LINE_ONLY: &[&str] = &[
    "upgrade",
    "no-deps",
    "user",
    "target",
    "force-reinstall",
    "ignore-installed",
    "no-cache-dir",
    "quiet",
    "verbose",
    "upgrade-strategy",
    "no-build-isolation",
    "prefix",
    "root",
    "src",
    "dry-run",
    "report",
    "break-system-packages",
    "isolated",
    "no-warn-script-location",
    "compile",
    "no-compile",
    "progress-bar",
    "timeout",
    "proxy",
    "retries",
    "cert",
    "client-cert",
    "log",
    "disable-pip-version-check",
    "python",
    "platform",
    "python-version",
    "abi",
    "implementation",
];

impl OptionName {
    /// Options that belong to the requirement on the same line.
    pub(crate) fn is_per_requirement(self) -> bool {
        matches!(
            self,
            OptionName::Hash
                | OptionName::GlobalOption
                | OptionName::InstallOption
                | OptionName::ConfigSettings
        )
    }
}

/// One option found on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedOption {
    pub(crate) name: OptionName,
    /// How it was written (`-r`, `--extra-index`).
    pub(crate) written: String,
    pub(crate) value: Option<String>,
}

/// The options of a line and any words left over that are not options.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ParsedOptions {
    pub(crate) options: Vec<ParsedOption>,
    pub(crate) leftover: Vec<String>,
}

/// A problem with the options of a line: what is wrong and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OptionError {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl OptionError {
    fn new(message: String) -> Self {
        OptionError {
            message,
            hint: None,
        }
    }
}

/// Parse the option part of a line (everything from the first word starting with `-`).
pub(crate) fn parse_options(text: &str) -> Result<ParsedOptions, OptionError> {
    let words = shell_split(text)?;
    let mut parsed = ParsedOptions::default();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        if word == "--" {
            parsed.leftover.extend(words.by_ref());
            break;
        }
        let (spec, written, attached) = if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (long, None),
            };
            (find_long(name)?, format!("--{name}"), value)
        } else if let Some(short) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            let letter = chars.next().unwrap_or('-');
            let spec = SPECS
                .iter()
                .find(|spec| spec.short == Some(letter))
                .ok_or_else(|| unknown_option(&format!("-{letter}")))?;
            let rest = chars.as_str();
            (
                spec,
                format!("-{letter}"),
                (!rest.is_empty()).then(|| rest.to_owned()),
            )
        } else {
            parsed.leftover.push(word);
            continue;
        };
        let value = match (spec.takes_value, attached) {
            (true, Some(value)) => Some(value),
            (true, None) => match words.next() {
                Some(value) => Some(value),
                None => return Err(OptionError::new(format!("option {written} needs a value"))),
            },
            (false, None) => None,
            (false, Some(_)) => {
                return Err(OptionError::new(format!(
                    "option {written} does not take a value"
                )))
            }
        };
        parsed.options.push(ParsedOption {
            name: spec.name,
            written,
            value,
        });
    }
    Ok(parsed)
}

fn find_long(name: &str) -> Result<&'static Spec, OptionError> {
    if let Some(spec) = SPECS.iter().find(|spec| spec.long == name) {
        return Ok(spec);
    }
    let matches: Vec<&Spec> = if name.is_empty() {
        Vec::new()
    } else {
        SPECS
            .iter()
            .filter(|spec| spec.long.starts_with(name))
            .collect()
    };
    match matches.as_slice() {
        [spec] => Ok(spec),
        [] => Err(unknown_option(&format!("--{name}"))),
        several => Err(OptionError::new(format!(
            "option --{name} is ambiguous: it could be {}",
            several
                .iter()
                .map(|spec| format!("--{}", spec.long))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn unknown_option(written: &str) -> OptionError {
    let bare = written.trim_start_matches('-');
    let hint = if COMMAND_LINE_ONLY.contains(&bare) || written == "-U" {
        Some(format!(
            "{written} is an option of the install command, not of requirements files; pass it on the command line"
        ))
    } else {
        SPECS
            .iter()
            .map(|spec| (edit_distance(bare, spec.long), spec.long))
            .filter(|&(distance, _)| distance <= 2)
            .min()
            .map(|(_, long)| format!("did you mean --{long}?"))
    };
    OptionError {
        message: format!("unknown option {written}"),
        hint,
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// Split words as a POSIX shell does: whitespace separates, quotes group, `\` escapes.
pub(crate) fn shell_split(text: &str) -> Result<Vec<String>, OptionError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(unclosed_quote('\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('\\' | '"' | '$' | '`' | '\n')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(unclosed_quote('"')),
                        },
                        Some(c) => word.push(c),
                        None => return Err(unclosed_quote('"')),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => {
                        return Err(OptionError::new(
                            "the line ends with an unescaped `\\`".to_owned(),
                        ))
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn unclosed_quote(quote: char) -> OptionError {
    OptionError {
        message: format!("a {quote} quote is never closed"),
        hint: Some(format!("close it, or escape it as \\{quote}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> Vec<(OptionName, Option<String>)> {
        parse_options(text)
            .unwrap()
            .options
            .into_iter()
            .map(|o| (o.name, o.value))
            .collect()
    }

    #[test]
    fn value_forms() {
        let expected = vec![(OptionName::IndexUrl, Some("https://x/simple".to_owned()))];
        assert_eq!(options("-i https://x/simple"), expected);
        assert_eq!(options("-ihttps://x/simple"), expected);
        assert_eq!(options("--index-url https://x/simple"), expected);
        assert_eq!(options("--index-url=https://x/simple"), expected);
        assert_eq!(options("--index https://x/simple"), expected);
    }

    #[test]
    fn several_options_and_quotes() {
        assert_eq!(
            options("--pre --hash=sha256:ab -r 'my reqs.txt' --trusted-host \"h\\\"x\""),
            vec![
                (OptionName::Pre, None),
                (OptionName::Hash, Some("sha256:ab".to_owned())),
                (OptionName::Requirement, Some("my reqs.txt".to_owned())),
                (OptionName::TrustedHost, Some("h\"x".to_owned())),
            ]
        );
    }

    #[test]
    fn exact_name_beats_prefix() {
        assert_eq!(options("--pre"), vec![(OptionName::Pre, None)]);
        assert_eq!(options("--prefer"), vec![(OptionName::PreferBinary, None)]);
    }

    #[test]
    fn leftover_words() {
        let parsed = parse_options("-r a.txt junk -- --pre").unwrap();
        assert_eq!(parsed.leftover, vec!["junk".to_owned(), "--pre".to_owned()]);
    }

    #[test]
    fn errors() {
        let err = |text: &str| parse_options(text).unwrap_err();
        assert_eq!(err("-r").message, "option -r needs a value");
        assert_eq!(
            err("--pre=yes").message,
            "option --pre does not take a value"
        );
        assert_eq!(
            err("--no").message,
            "option --no is ambiguous: it could be --no-index, --no-binary"
        );
        let typo = err("--extra-index-ulr x");
        assert_eq!(typo.message, "unknown option --extra-index-ulr");
        assert_eq!(
            typo.hint.as_deref(),
            Some("did you mean --extra-index-url?")
        );
        let cli = err("--no-deps");
        assert_eq!(
            cli.hint.as_deref(),
            Some("--no-deps is an option of the install command, not of requirements files; pass it on the command line")
        );
        assert_eq!(err("-x").message, "unknown option -x");
        assert_eq!(err("-r 'a").message, "a ' quote is never closed");
        assert_eq!(
            err("-r a\\").message,
            "the line ends with an unescaped `\\`"
        );
    }
}
