//! From text to logical lines: physical lines, `\` continuations, comments, `${VAR}` expansion.
//!
//! The order is pip's: join continuations first, then strip comments, then expand variables, so a
//! variable's value can never start a comment or a continuation.

/// One logical line: what is left of one or more joined physical lines after comments are gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogicalLine {
    /// The 1-based number of the first physical line.
    pub(crate) number: usize,
    /// The line as written (joined, comment removed, trimmed), before variable expansion.
    pub(crate) written: String,
    /// The line after `${VAR}` expansion; this is what gets parsed.
    pub(crate) text: String,
}

/// Split `content` into logical lines, dropping blank and comment-only ones.
pub(crate) fn logical_lines(
    content: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<LogicalLine> {
    let mut lines = Vec::new();
    for (number, joined) in join_continuations(physical_lines(content)) {
        let written = strip_comment(&joined).trim();
        if written.is_empty() {
            continue;
        }
        lines.push(LogicalLine {
            number,
            written: written.to_owned(),
            text: expand_env_vars(written, env),
        });
    }
    lines
}

/// Python's `str.splitlines()`: every line boundary Python knows, `\r\n` counted once.
fn physical_lines(content: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = content.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !is_break {
            continue;
        }
        lines.push(&content[start..index]);
        start = index + c.len_utf8();
        if c == '\r' && chars.peek().is_some_and(|&(_, next)| next == '\n') {
            chars.next();
            start += 1;
        }
    }
    if start < content.len() {
        lines.push(&content[start..]);
    }
    lines
}

/// A line that is only a comment: `#` at its start, or after leading whitespace.
fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Join lines ending in `\`. A comment line never continues, and ends a continuation.
fn join_continuations(lines: Vec<&str>) -> Vec<(usize, String)> {
    let mut joined = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in lines.into_iter().enumerate() {
        let number = index + 1;
        let continues = line.ends_with('\\') && !is_comment_line(line);
        if continues {
            let part = line.trim_matches('\\');
            match &mut pending {
                Some((_, text)) => text.push_str(part),
                None => pending = Some((number, part.to_owned())),
            }
            continue;
        }
        // A comment inside a continuation gets a leading space so it is still seen as a comment.
        let part = if is_comment_line(line) {
            format!(" {line}")
        } else {
            line.to_owned()
        };
        match pending.take() {
            Some((first, mut text)) => {
                text.push_str(&part);
                joined.push((first, text));
            }
            None => joined.push((number, part)),
        }
    }
    if let Some(last) = pending {
        joined.push(last);
    }
    joined
}

/// Remove a comment: `#` at the start of the line or after whitespace, to the end of the line.
/// A `#` inside a word (`https://host/x.zip#egg=name`) is not a comment.
fn strip_comment(line: &str) -> &str {
    let mut previous_is_space = true;
    for (index, c) in line.char_indices() {
        if c == '#' && previous_is_space {
            return &line[..index];
        }
        previous_is_space = c.is_whitespace();
    }
    line
}

/// Expand `${NAME}` (upper-case letters, digits, `_`). Unset or empty variables stay as written.
pub(crate) fn expand_env_vars(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if name_len > 0 && after[name_len..].starts_with('}') {
            match env(name).filter(|value| !value.is_empty()) {
                Some(value) => out.push_str(&value),
                None => out.push_str(&rest[start..start + 3 + name_len]),
            }
            rest = &after[name_len + 1..];
        } else {
            out.push_str("${");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn texts(content: &str) -> Vec<(usize, String)> {
        logical_lines(content, &no_env)
            .into_iter()
            .map(|l| (l.number, l.text))
            .collect()
    }

    #[test]
    fn line_endings_lf_crlf_cr() {
        let expected = vec![
            (1, "a".to_owned()),
            (2, "b".to_owned()),
            (3, "c".to_owned()),
        ];
        assert_eq!(texts("a\nb\nc\n"), expected);
        assert_eq!(texts("a\r\nb\r\nc\r\n"), expected);
        assert_eq!(texts("a\rb\rc"), expected);
        assert_eq!(
            texts("a\r\n\r\nb"),
            vec![(1, "a".to_owned()), (3, "b".to_owned())]
        );
    }

    #[test]
    fn continuations_keep_the_first_line_number() {
        let content = "x\nrequests==2.0 \\\n  --hash=sha256:aa \\\r\n  --hash=sha256:bb\ny";
        assert_eq!(
            texts(content),
            vec![
                (1, "x".to_owned()),
                (
                    2,
                    "requests==2.0   --hash=sha256:aa   --hash=sha256:bb".to_owned()
                ),
                (5, "y".to_owned()),
            ]
        );
    }

    #[test]
    fn continuation_at_end_of_file() {
        assert_eq!(texts("flask \\"), vec![(1, "flask".to_owned())]);
    }

    #[test]
    fn comment_line_ends_a_continuation() {
        assert_eq!(
            texts("foo==1.0 \\\n# a comment \\\nbar"),
            vec![(1, "foo==1.0".to_owned()), (3, "bar".to_owned())]
        );
    }

    #[test]
    fn comments() {
        assert_eq!(
            texts("# only\n   # indented\nflask # why\n"),
            vec![(3, "flask".to_owned())]
        );
        assert_eq!(
            texts("https://h/p.zip#egg=p\nfoo\t#tab comment"),
            vec![
                (1, "https://h/p.zip#egg=p".to_owned()),
                (2, "foo".to_owned())
            ]
        );
    }

    #[test]
    fn env_vars() {
        let env = |name: &str| match name {
            "TOKEN" => Some("s3cr3t".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(
            expand_env_vars("https://${TOKEN}@h/${MISSING}/", &env),
            "https://s3cr3t@h/${MISSING}/"
        );
        assert_eq!(
            expand_env_vars("${EMPTY}${token}$TOKEN${TOKEN", &env),
            "${EMPTY}${token}$TOKEN${TOKEN"
        );
        assert_eq!(expand_env_vars("${${TOKEN}}", &env), "${s3cr3t}");
        let lines = logical_lines("-i https://${TOKEN}@h/ # c", &env);
        assert_eq!(lines[0].written, "-i https://${TOKEN}@h/");
        assert_eq!(lines[0].text, "-i https://s3cr3t@h/");
    }

    #[test]
    fn variable_values_do_not_start_comments() {
        let env = |_: &str| Some("a #b".to_owned());
        assert_eq!(logical_lines("x${V}", &env)[0].text, "xa #b");
    }
}
