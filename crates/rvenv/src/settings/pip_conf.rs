//! pip's configuration files: where pip looks for them, and their INI format.

use std::path::{Path, PathBuf};

/// One `key = value` read from a pip configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfEntry {
    pub key: String,
    pub value: String,
    pub file: PathBuf,
    pub section: String,
}

/// The configuration files pip reads, lowest precedence first: global, user, site, then the file
/// named by PIP_CONFIG_FILE. As in pip, the user files are skipped when PIP_CONFIG_FILE names an
/// existing file, and PIP_CONFIG_FILE=/dev/null disables every file.
pub fn config_files(env: &dyn Fn(&str) -> Option<String>, venv: Option<&Path>) -> Vec<PathBuf> {
    let env_file = env("PIP_CONFIG_FILE")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from);
    if env_file.as_deref() == Some(Path::new("/dev/null")) {
        return Vec::new();
    }
    let mut files = Vec::new();
    let xdg_dirs = env("XDG_CONFIG_DIRS")
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "/etc/xdg".to_string());
    for dir in xdg_dirs.split(':').filter(|dir| !dir.is_empty()) {
        files.push(Path::new(dir).join("pip").join("pip.conf"));
    }
    files.push(PathBuf::from("/etc/pip.conf"));
    let env_file_exists = env_file.as_deref().is_some_and(Path::is_file);
    if !env_file_exists {
        if let Some(home) = env("HOME").filter(|home| !home.is_empty()) {
            let home = PathBuf::from(home);
            files.push(home.join(".pip").join("pip.conf"));
            let config_home = env("XDG_CONFIG_HOME")
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".config"));
            files.push(config_home.join("pip").join("pip.conf"));
        }
    }
    if let Some(venv) = venv {
        files.push(venv.join("pip.conf"));
    }
    files.extend(env_file);
    files
}

/// Reads the `[global]` and `[install]` entries of every existing file, in precedence order
/// (lowest first; within a file, `[install]` after `[global]`, as pip lets the command's section
/// override the global one).
pub fn read_entries(files: &[PathBuf]) -> Result<Vec<ConfEntry>, std::io::Error> {
    let mut entries = Vec::new();
    for file in files {
        let text = match fs_err::read_to_string(file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        let parsed = parse_ini(&text);
        for section in ["global", "install"] {
            for (found_section, key, value) in &parsed {
                if found_section == section {
                    entries.push(ConfEntry {
                        key: key.clone(),
                        value: value.clone(),
                        file: file.clone(),
                        section: section.to_string(),
                    });
                }
            }
        }
    }
    Ok(entries)
}

/// A forgiving reader of the INI dialect pip's files use (Python's configparser): `[section]`,
/// `key = value` or `key: value`, `#`/`;` comment lines, and indented continuation lines that
/// extend the previous value (used for lists such as extra-index-url). Keys are lower-cased and
/// `_` is read as `-`, as pip does.
pub fn parse_ini(text: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut section = String::new();
    for raw in text.lines() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = line.len() != trimmed.len();
        if indented {
            if let Some(last) = out.last_mut().filter(|last| last.0 == section) {
                last.2.push('\n');
                last.2.push_str(trimmed);
                continue;
            }
        }
        if let Some(name) = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            section = name.trim().to_ascii_lowercase();
            continue;
        }
        let split = trimmed.find(['=', ':']);
        if let Some(at) = split {
            let key = trimmed[..at].trim().to_ascii_lowercase().replace('_', "-");
            let value = trimmed[at + 1..].trim().to_string();
            out.push((section.clone(), key, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_sections_continuations_and_comments() {
        let text = "# comment\n[global]\ntimeout = 60\nindex_url=https://a/simple\n\
                    extra-index-url =\n    https://b/simple\n    https://c/simple\n; other\n[install]\nno-index: yes\n";
        let parsed = parse_ini(text);
        assert_eq!(
            parsed,
            vec![
                ("global".into(), "timeout".into(), "60".into()),
                (
                    "global".into(),
                    "index-url".into(),
                    "https://a/simple".into()
                ),
                (
                    "global".into(),
                    "extra-index-url".into(),
                    "\nhttps://b/simple\nhttps://c/simple".into()
                ),
                ("install".into(), "no-index".into(), "yes".into()),
            ]
        );
    }

    #[test]
    fn pip_config_file_skips_user_files_and_devnull_disables_all() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("pip.conf");
        fs_err::write(&conf, "[global]\n").unwrap();
        let conf_str = conf.display().to_string();
        let env = |name: &str| match name {
            "PIP_CONFIG_FILE" => Some(conf_str.clone()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        let files = config_files(&env, Some(Path::new("/opt/venv")));
        assert_eq!(
            files,
            vec![
                PathBuf::from("/etc/xdg/pip/pip.conf"),
                PathBuf::from("/etc/pip.conf"),
                PathBuf::from("/opt/venv/pip.conf"),
                conf.clone(),
            ]
        );
        let devnull = |name: &str| (name == "PIP_CONFIG_FILE").then(|| "/dev/null".to_string());
        assert!(config_files(&devnull, None).is_empty());
    }

    #[test]
    fn user_files_without_pip_config_file() {
        let env = |name: &str| (name == "HOME").then(|| "/home/u".to_string());
        let files = config_files(&env, None);
        assert!(files.contains(&PathBuf::from("/home/u/.config/pip/pip.conf")));
        assert!(files.contains(&PathBuf::from("/home/u/.pip/pip.conf")));
    }
}
