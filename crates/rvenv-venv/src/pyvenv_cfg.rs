//! `pyvenv.cfg` (PEP 405): `key = value` lines at the root of every virtual environment.

use std::path::{Path, PathBuf};

use fs_err as fs;

use crate::Error;

/// The parsed lines of a `pyvenv.cfg`, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PyvenvCfg {
    entries: Vec<(String, String)>,
}

impl PyvenvCfg {
    pub fn read(path: &Path) -> Result<PyvenvCfg, Error> {
        Ok(PyvenvCfg::parse(&fs::read_to_string(path)?))
    }

    /// Like `site.py`: `key = value` per line, keys compared case-insensitively, other lines ignored.
    pub fn parse(text: &str) -> PyvenvCfg {
        let entries = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_string()))
            .filter(|(key, _)| !key.is_empty())
            .collect();
        PyvenvCfg { entries }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
    }

    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        self.entries.push((key.to_string(), value.into()));
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(key, _)| key.as_str())
    }

    pub fn render(&self) -> String {
        self.entries
            .iter()
            .map(|(key, value)| format!("{key} = {value}\n"))
            .collect()
    }

    /// The base interpreter binary this venv was made from, as far as the file tells:
    /// `executable` (venv 3.11+, rvenv), `base-executable` (virtualenv), else `home` joined with
    /// the first of `python3.X`, `python3`, `python` that exists.
    pub fn base_executable(&self) -> Option<PathBuf> {
        for key in ["executable", "base-executable"] {
            if let Some(path) = self.get(key).map(PathBuf::from) {
                if path.is_file() {
                    return Some(path);
                }
            }
        }
        let home = Path::new(self.get("home")?);
        let mut names = Vec::new();
        if let Some(minor) = self.major_minor() {
            names.push(format!("python{minor}"));
        }
        names.extend(["python3".to_string(), "python".to_string()]);
        names
            .into_iter()
            .map(|name| home.join(name))
            .find(|path| path.is_file())
    }

    /// `3.11` from `version = 3.11.7` (venv, rvenv) or `version_info = 3.11.7.final.0` (virtualenv).
    pub fn major_minor(&self) -> Option<String> {
        let version = self.get("version").or_else(|| self.get("version_info"))?;
        let mut parts = version.split('.');
        let major = parts.next()?;
        let minor = parts.next()?;
        Some(format!("{major}.{minor}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_site_py() {
        let cfg = PyvenvCfg::parse(
            "home = /usr/bin\nInclude-System-Site-Packages=true\nno equals sign\nprompt = 'a = b'\n",
        );
        assert_eq!(cfg.get("home"), Some("/usr/bin"));
        assert_eq!(cfg.get("include-system-site-packages"), Some("true"));
        assert_eq!(cfg.get("prompt"), Some("'a = b'"));
        assert_eq!(cfg.get("missing"), None);
    }

    #[test]
    fn renders_in_order() {
        let mut cfg = PyvenvCfg::default();
        cfg.push("home", "/usr/bin");
        cfg.push("version", "3.11.2");
        assert_eq!(cfg.render(), "home = /usr/bin\nversion = 3.11.2\n");
        assert_eq!(PyvenvCfg::parse(&cfg.render()), cfg);
    }

    #[test]
    fn major_minor_from_venv_or_virtualenv() {
        assert_eq!(
            PyvenvCfg::parse("version = 3.12.1")
                .major_minor()
                .as_deref(),
            Some("3.12")
        );
        assert_eq!(
            PyvenvCfg::parse("version_info = 3.9.18.final.0")
                .major_minor()
                .as_deref(),
            Some("3.9")
        );
    }

    #[test]
    fn base_executable_falls_back_to_home() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("python3"), "").unwrap();
        let cfg = PyvenvCfg::parse(&format!(
            "home = {}\nversion = 3.12.1\nexecutable = /gone/python3.12\n",
            dir.path().display()
        ));
        assert_eq!(cfg.base_executable(), Some(dir.path().join("python3")));
    }
}
