//! A small reader for `.netrc` files (`machine`, `login`, `password`, `default`, `macdef`).

use std::path::{Path, PathBuf};

/// One `machine` (or the `default`) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetrcEntry {
    pub login: String,
    pub password: String,
}

/// A parsed netrc file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netrc {
    machines: Vec<(String, NetrcEntry)>,
    default: Option<NetrcEntry>,
    /// Where it was read from, for messages.
    pub path: Option<PathBuf>,
}

impl Netrc {
    /// Parses netrc text. Unknown tokens are skipped rather than rejected: a stray token in a
    /// user's netrc should not break every install.
    pub fn parse(text: &str) -> Netrc {
        let mut netrc = Netrc::default();
        let mut tokens = Tokens::new(text);
        // The entry being filled: `Some(Some(host))` for a machine, `Some(None)` for default.
        let mut current: Option<(Option<String>, NetrcEntry)> = None;
        while let Some(token) = tokens.next() {
            match token.as_str() {
                "machine" | "default" => {
                    netrc.finish(current.take());
                    let host = if token == "machine" {
                        match tokens.next() {
                            Some(host) => Some(host),
                            None => break,
                        }
                    } else {
                        None
                    };
                    let entry = NetrcEntry {
                        login: String::new(),
                        password: String::new(),
                    };
                    current = Some((host, entry));
                }
                "login" | "password" | "account" => {
                    let Some(value) = tokens.next() else { break };
                    if let Some((_, entry)) = current.as_mut() {
                        match token.as_str() {
                            "login" => entry.login = value,
                            "password" => entry.password = value,
                            _ => {}
                        }
                    }
                }
                "macdef" => {
                    netrc.finish(current.take());
                    tokens.skip_macro();
                }
                _ => {}
            }
        }
        netrc.finish(current);
        netrc
    }

    fn finish(&mut self, entry: Option<(Option<String>, NetrcEntry)>) {
        match entry {
            Some((Some(host), entry)) => self.machines.push((host, entry)),
            Some((None, entry)) => self.default = Some(entry),
            None => {}
        }
    }

    /// Reads `$NETRC`, else `~/.netrc`. A missing file is `Ok(None)`.
    pub fn from_env() -> std::io::Result<Option<Netrc>> {
        let path = match std::env::var_os("NETRC") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => match std::env::var_os("HOME") {
                Some(home) => Path::new(&home).join(".netrc"),
                None => return Ok(None),
            },
        };
        Netrc::from_path(&path)
    }

    /// Reads one netrc file. A missing file is `Ok(None)`.
    pub fn from_path(path: &Path) -> std::io::Result<Option<Netrc>> {
        match fs_err::read_to_string(path) {
            Ok(text) => {
                let mut netrc = Netrc::parse(&text);
                netrc.path = Some(path.to_path_buf());
                Ok(Some(netrc))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The entry for `host` (the first `machine` that names it), else the `default` entry.
    pub fn lookup(&self, host: &str) -> Option<&NetrcEntry> {
        self.machines
            .iter()
            .find(|(machine, _)| machine.eq_ignore_ascii_case(host))
            .map(|(_, entry)| entry)
            .or(self.default.as_ref())
    }
}

/// Whitespace-separated tokens; `"quoted values"` with backslash escapes; `#` comments.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Tokens { rest: text }
    }

    /// Skips a macro body: everything up to the next empty line.
    fn skip_macro(&mut self) {
        match self.rest.find("\n\n") {
            Some(end) => self.rest = &self.rest[end + 2..],
            None => self.rest = "",
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            self.rest = self.rest.trim_start();
            if self.rest.starts_with('#') {
                let end = self.rest.find('\n').unwrap_or(self.rest.len());
                self.rest = &self.rest[end..];
                continue;
            }
            break;
        }
        if self.rest.is_empty() {
            return None;
        }
        if let Some(quoted) = self.rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut consumed = quoted.len();
            while let Some((index, c)) = chars.next() {
                match c {
                    '"' => {
                        consumed = index + 1;
                        break;
                    }
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    c => value.push(c),
                }
            }
            self.rest = &quoted[consumed..];
            return Some(value);
        }
        let end = self
            .rest
            .find(char::is_whitespace)
            .unwrap_or(self.rest.len());
        let token = self.rest[..end].to_string();
        self.rest = &self.rest[end..];
        Some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_and_default() {
        let netrc = Netrc::parse(
            "# my credentials\n\
             machine pypi.example.com\n  login alice\n  password s3cret\n\
             machine other.example.com login bob password \"with space\"\n\
             default login anon password guest\n",
        );
        let alice = netrc.lookup("pypi.example.com").unwrap();
        assert_eq!(alice.login, "alice");
        assert_eq!(alice.password, "s3cret");
        assert_eq!(
            netrc.lookup("OTHER.example.com").unwrap().password,
            "with space"
        );
        assert_eq!(netrc.lookup("unknown.org").unwrap().login, "anon");
    }

    #[test]
    fn macdef_and_account_are_skipped() {
        let netrc = Netrc::parse(
            "machine a.org login u account acct password p\n\
             macdef init\ncd /pub\nmachine fake.org login x password y\n\n\
             machine b.org login v password q\n",
        );
        assert_eq!(netrc.lookup("a.org").unwrap().password, "p");
        assert!(netrc.lookup("fake.org").is_none());
        assert_eq!(netrc.lookup("b.org").unwrap().login, "v");
    }

    #[test]
    fn no_default_means_no_match() {
        let netrc = Netrc::parse("machine a.org login u password p");
        assert!(netrc.lookup("b.org").is_none());
    }

    #[test]
    fn missing_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Netrc::from_path(&dir.path().join("nope"))
            .unwrap()
            .is_none());
        let path = dir.path().join("netrc");
        std::fs::write(&path, "machine h login l password p").unwrap();
        let netrc = Netrc::from_path(&path).unwrap().unwrap();
        assert_eq!(netrc.path.as_deref(), Some(path.as_path()));
    }
}
