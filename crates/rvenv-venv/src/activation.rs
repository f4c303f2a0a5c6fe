//! The activation scripts of a venv, one per shell, with the venv's path and prompt filled in,
//! each quoted for its shell.

use std::path::Path;

/// How a shell quotes a string literal.
type Quote = fn(&str) -> String;

/// `(file name in bin/, template, quoting)`.
const SCRIPTS: [(&str, &str, Quote); 5] = [
    ("activate", include_str!("activation/activate.sh"), quote_sh),
    (
        "activate.fish",
        include_str!("activation/activate.fish"),
        quote_fish,
    ),
    (
        "activate.csh",
        include_str!("activation/activate.csh"),
        quote_sh,
    ),
    (
        "activate.nu",
        include_str!("activation/activate.nu"),
        quote_nu,
    ),
    (
        "Activate.ps1",
        include_str!("activation/Activate.ps1"),
        quote_ps1,
    ),
];

/// The activation scripts for a venv at `venv` showing `prompt`, as `(file name, contents)`.
pub(crate) fn scripts(venv: &Path, prompt: &str) -> Vec<(&'static str, String)> {
    let venv = venv.to_string_lossy();
    let comment = venv.replace(['\n', '\r'], "?");
    SCRIPTS
        .iter()
        .map(|(name, template, quote)| {
            let text = template
                .replace("__VENV_COMMENT__", &comment)
                .replace("__VENV_SH__", &quote(&venv))
                .replace("__VENV_FISH__", &quote(&venv))
                .replace("__VENV_CSH__", &quote(&venv))
                .replace("__VENV_NU__", &quote(&venv))
                .replace("__VENV_PS1__", &quote(&venv))
                .replace("__PROMPT_SH__", &quote(prompt))
                .replace("__PROMPT_FISH__", &quote(prompt))
                .replace("__PROMPT_CSH__", &quote(prompt))
                .replace("__PROMPT_NU__", &quote(prompt))
                .replace("__PROMPT_PS1__", &quote(prompt));
            (*name, text)
        })
        .collect()
}

/// POSIX sh and csh: single quotes, a quote written as `'\''`.
fn quote_sh(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// fish: single quotes, with `\\` and `\'` as the only escapes.
fn quote_fish(text: &str) -> String {
    format!("'{}'", text.replace('\\', r"\\").replace('\'', r"\'"))
}

/// nushell: double quotes with backslash escapes.
fn quote_nu(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', r"\\").replace('"', "\\\""))
}

/// PowerShell: single quotes, a quote doubled.
fn quote_ps1(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_placeholder() {
        for (name, text) in scripts(Path::new("/opt/my venv"), "api") {
            assert!(!text.contains("__"), "{name} has a placeholder left");
            assert!(text.contains("/opt/my venv"), "{name}");
        }
    }

    #[test]
    fn quotes_for_each_shell() {
        assert_eq!(quote_sh("it's"), r"'it'\''s'");
        assert_eq!(quote_fish(r"a\b'c"), r"'a\\b\'c'");
        assert_eq!(quote_nu(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote_ps1("it's"), "'it''s'");
    }
}
