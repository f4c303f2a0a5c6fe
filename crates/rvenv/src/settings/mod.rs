//! Settings of `rvenv install`, each with the place it came from.
//!
//! Precedence, highest first: command-line flags, RVENV_* variables, PIP_* variables, pip's
//! configuration files (PIP_CONFIG_FILE, site, user, global; `[install]` over `[global]`), defaults.
//! Deploy platforms inject pip's variables and files (private indexes, timeouts), so rvenv reads
//! them as pip does. PIP_NO_CACHE_DIR is deliberately not honoured: it turns off *pip's* cache, and
//! nixpacks sets it by default; rvenv's cache is what makes it fast (use --no-cache or
//! RVENV_NO_CACHE=1 to turn it off).

mod pip_conf;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use rvenv_index::redact_str;

use crate::cli::InstallArgs;
use pip_conf::ConfEntry;

pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple";

/// Where a setting's value came from, for `rvenv config` and for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    PipConf { file: PathBuf, section: String },
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => write!(f, "default"),
            Source::PipConf { file, section } => write!(f, "{} [{section}]", file.display()),
            Source::Env(name) => write!(f, "environment variable {name}"),
            Source::Flag(name) => write!(f, "command line {name}"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// How a setting is spelled in each layer.
struct Key {
    flag: &'static str,
    rvenv_env: &'static [&'static str],
    pip_env: &'static [&'static str],
    pip_conf: &'static [&'static str],
}

/// How the index client treats several indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexStrategy {
    /// pip's behaviour: the best version across all indexes.
    BestMatch,
    /// Only the first index that has a project is used (protects from dependency confusion).
    FirstIndex,
}

#[derive(Debug)]
pub struct InstallSettings {
    pub index_url: Setting<String>,
    pub extra_index_urls: Setting<Vec<String>>,
    pub find_links: Setting<Vec<String>>,
    pub no_index: Setting<bool>,
    pub trusted_hosts: Setting<Vec<String>>,
    pub timeout_secs: Setting<u64>,
    pub pre: Setting<bool>,
    pub require_hashes: Setting<bool>,
    pub constraints: Setting<Vec<PathBuf>>,
    pub only_binary: Setting<Vec<String>>,
    pub no_binary: Setting<Vec<String>>,
    pub prefer_binary: Setting<bool>,
    pub index_strategy: Setting<IndexStrategy>,
    pub cache_dir: Setting<Option<PathBuf>>,
    pub no_cache: Setting<bool>,
    pub concurrent_downloads: Setting<usize>,
    pub offline: Setting<bool>,
    /// Set when PIP_NO_CACHE_DIR is present, so `rvenv config` can say it is ignored.
    pub ignored_pip_no_cache_dir: Option<String>,
}

/// The layers below the command line.
struct Layers<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    conf: Vec<ConfEntry>,
}

impl Layers<'_> {
    /// The highest-precedence value below the flags, parsed.
    fn lookup<T>(
        &self,
        key: &Key,
        parse: &dyn Fn(&str) -> Result<T, String>,
    ) -> anyhow::Result<Option<Setting<T>>> {
        for &name in key.rvenv_env.iter().chain(key.pip_env) {
            if let Some(raw) = (self.env)(name).filter(|raw| !raw.is_empty()) {
                let value = parse(&raw).map_err(|why| {
                    anyhow!("invalid value {raw:?} in environment variable {name}: {why}")
                })?;
                return Ok(Some(Setting {
                    value,
                    source: Source::Env(name),
                }));
            }
        }
        let entry = self
            .conf
            .iter()
            .rev()
            .find(|entry| key.pip_conf.contains(&entry.key.as_str()));
        if let Some(entry) = entry {
            let value = parse(&entry.value).map_err(|why| {
                anyhow!(
                    "invalid value {:?} for `{}` in {} [{}]: {why}",
                    entry.value,
                    entry.key,
                    entry.file.display(),
                    entry.section
                )
            })?;
            let source = Source::PipConf {
                file: entry.file.clone(),
                section: entry.section.clone(),
            };
            return Ok(Some(Setting { value, source }));
        }
        Ok(None)
    }

    fn value<T>(
        &self,
        key: &Key,
        flag: Option<T>,
        parse: &dyn Fn(&str) -> Result<T, String>,
        default: T,
    ) -> anyhow::Result<Setting<T>> {
        if let Some(value) = flag {
            return Ok(Setting {
                value,
                source: Source::Flag(key.flag),
            });
        }
        Ok(self.lookup(key, parse)?.unwrap_or(Setting {
            value: default,
            source: Source::Default,
        }))
    }
}

/// pip's reading of booleans (Python's strtobool).
pub(crate) fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "y" | "yes" | "t" | "true" | "on" => Ok(true),
        "0" | "n" | "no" | "f" | "false" | "off" => Ok(false),
        _ => Err("expected a boolean such as 1/0, yes/no, true/false".to_string()),
    }
}

/// Lists are whitespace-separated in pip's variables and files.
fn parse_list(raw: &str) -> Result<Vec<String>, String> {
    Ok(raw.split_whitespace().map(str::to_string).collect())
}

fn parse_string(raw: &str) -> Result<String, String> {
    Ok(raw.trim().to_string())
}

fn parse_number<T: std::str::FromStr>(raw: &str) -> Result<T, String> {
    raw.trim()
        .parse()
        .map_err(|_| "expected a whole number".to_string())
}

fn parse_strategy(raw: &str) -> Result<IndexStrategy, String> {
    match raw.trim() {
        "best-match" | "unsafe-best-match" => Ok(IndexStrategy::BestMatch),
        "first-index" => Ok(IndexStrategy::FirstIndex),
        _ => Err("expected best-match or first-index".to_string()),
    }
}

/// `Some(true)` when a boolean flag was given, else `None` (so lower layers decide).
fn flag(given: bool) -> Option<bool> {
    given.then_some(true)
}

fn non_empty<T>(values: &[T]) -> Option<Vec<T>>
where
    T: Clone,
{
    (!values.is_empty()).then(|| values.to_vec())
}

impl InstallSettings {
    /// Resolves every setting from the command line, `env` and pip's configuration files.
    /// `venv` is the target environment's root when known (for pip's site configuration file).
    pub fn resolve(
        args: &InstallArgs,
        env: &dyn Fn(&str) -> Option<String>,
        venv: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let files = pip_conf::config_files(env, venv);
        let conf = pip_conf::read_entries(&files).context("cannot read pip's configuration")?;
        let layers = Layers { env, conf };

        let index_url = layers.value(
            &Key {
                flag: "--index-url",
                rvenv_env: &["RVENV_INDEX_URL"],
                pip_env: &["PIP_INDEX_URL"],
                pip_conf: &["index-url", "i"],
            },
            args.index_url.clone(),
            &parse_string,
            DEFAULT_INDEX_URL.to_string(),
        )?;
        let extra_index_urls = layers.value(
            &Key {
                flag: "--extra-index-url",
                rvenv_env: &["RVENV_EXTRA_INDEX_URL"],
                pip_env: &["PIP_EXTRA_INDEX_URL"],
                pip_conf: &["extra-index-url"],
            },
            non_empty(&args.extra_index_url),
            &parse_list,
            Vec::new(),
        )?;
        let find_links = layers.value(
            &Key {
                flag: "--find-links",
                rvenv_env: &["RVENV_FIND_LINKS"],
                pip_env: &["PIP_FIND_LINKS"],
                pip_conf: &["find-links", "f"],
            },
            non_empty(&args.find_links),
            &parse_list,
            Vec::new(),
        )?;
        let no_index = layers.value(
            &Key {
                flag: "--no-index",
                rvenv_env: &["RVENV_NO_INDEX"],
                pip_env: &["PIP_NO_INDEX"],
                pip_conf: &["no-index"],
            },
            flag(args.no_index),
            &parse_bool,
            false,
        )?;
        let trusted_hosts = layers.value(
            &Key {
                flag: "--trusted-host",
                rvenv_env: &[],
                pip_env: &["PIP_TRUSTED_HOST"],
                pip_conf: &["trusted-host"],
            },
            non_empty(&args.trusted_host),
            &parse_list,
            Vec::new(),
        )?;
        let timeout_secs = layers.value(
            &Key {
                flag: "--timeout",
                rvenv_env: &["RVENV_HTTP_TIMEOUT"],
                pip_env: &["PIP_DEFAULT_TIMEOUT", "PIP_TIMEOUT"],
                pip_conf: &["timeout", "default-timeout"],
            },
            args.timeout,
            &parse_seconds,
            30,
        )?;
        let pre = layers.value(
            &Key {
                flag: "--pre",
                rvenv_env: &["RVENV_PRE"],
                pip_env: &["PIP_PRE"],
                pip_conf: &["pre"],
            },
            flag(args.pre),
            &parse_bool,
            false,
        )?;
        let require_hashes = layers.value(
            &Key {
                flag: "--require-hashes",
                rvenv_env: &["RVENV_REQUIRE_HASHES"],
                pip_env: &["PIP_REQUIRE_HASHES"],
                pip_conf: &["require-hashes"],
            },
            flag(args.require_hashes),
            &parse_bool,
            false,
        )?;
        let constraints = layers.value(
            &Key {
                flag: "--constraint",
                rvenv_env: &[],
                pip_env: &["PIP_CONSTRAINT"],
                pip_conf: &["constraint", "c"],
            },
            non_empty(&args.constraints),
            &|raw| Ok(raw.split_whitespace().map(PathBuf::from).collect()),
            Vec::new(),
        )?;
        let only_binary = layers.value(
            &Key {
                flag: "--only-binary",
                rvenv_env: &[],
                pip_env: &["PIP_ONLY_BINARY"],
                pip_conf: &["only-binary"],
            },
            non_empty(&args.only_binary),
            &parse_list,
            Vec::new(),
        )?;
        let no_binary = layers.value(
            &Key {
                flag: "--no-binary",
                rvenv_env: &[],
                pip_env: &["PIP_NO_BINARY"],
                pip_conf: &["no-binary"],
            },
            non_empty(&args.no_binary),
            &parse_list,
            Vec::new(),
        )?;
        let prefer_binary = layers.value(
            &Key {
                flag: "--prefer-binary",
                rvenv_env: &[],
                pip_env: &["PIP_PREFER_BINARY"],
                pip_conf: &["prefer-binary"],
            },
            flag(args.prefer_binary),
            &parse_bool,
            false,
        )?;
        let index_strategy = layers.value(
            &Key {
                flag: "--index-strategy",
                rvenv_env: &["RVENV_INDEX_STRATEGY"],
                pip_env: &[],
                pip_conf: &[],
            },
            args.index_strategy
                .as_deref()
                .map(parse_strategy)
                .transpose()
                .map_err(|why| anyhow!("--index-strategy: {why}"))?,
            &parse_strategy,
            IndexStrategy::BestMatch,
        )?;
        let cache_dir = layers.value(
            &Key {
                flag: "--cache-dir",
                rvenv_env: &["RVENV_CACHE_DIR"],
                pip_env: &[],
                pip_conf: &[],
            },
            args.cache_dir.clone().map(Some),
            &|raw| Ok(Some(PathBuf::from(raw))),
            None,
        )?;
        let no_cache = layers.value(
            &Key {
                flag: "--no-cache",
                rvenv_env: &["RVENV_NO_CACHE"],
                pip_env: &[],
                pip_conf: &[],
            },
            flag(args.no_cache),
            &parse_bool,
            false,
        )?;
        let concurrent_downloads = layers.value(
            &Key {
                flag: "--concurrent-downloads",
                rvenv_env: &["RVENV_CONCURRENT_DOWNLOADS"],
                pip_env: &[],
                pip_conf: &[],
            },
            None,
            &|raw| {
                parse_number::<usize>(raw).and_then(|n| {
                    if n == 0 {
                        Err("must be at least 1".into())
                    } else {
                        Ok(n)
                    }
                })
            },
            DEFAULT_CONCURRENT_DOWNLOADS,
        )?;
        let offline = layers.value(
            &Key {
                flag: "--offline",
                rvenv_env: &["RVENV_OFFLINE"],
                pip_env: &[],
                pip_conf: &[],
            },
            flag(args.offline),
            &parse_bool,
            false,
        )?;
        Ok(InstallSettings {
            index_url,
            extra_index_urls,
            find_links,
            no_index,
            trusted_hosts,
            timeout_secs,
            pre,
            require_hashes,
            constraints,
            only_binary,
            no_binary,
            prefer_binary,
            index_strategy,
            cache_dir,
            no_cache,
            concurrent_downloads,
            offline,
            ignored_pip_no_cache_dir: env("PIP_NO_CACHE_DIR"),
        })
    }

    /// Every setting as `(name, value, source)` rows, credentials redacted, for `rvenv config`.
    pub fn rows(&self) -> Vec<(&'static str, String, String)> {
        fn row<T>(
            name: &'static str,
            setting: &Setting<T>,
            show: impl Fn(&T) -> String,
        ) -> (&'static str, String, String) {
            (name, show(&setting.value), setting.source.to_string())
        }
        let list = |urls: &Vec<String>| {
            urls.iter()
                .map(|url| redact_str(url))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut rows = vec![
            row("index-url", &self.index_url, |url| redact_str(url)),
            row("extra-index-url", &self.extra_index_urls, list),
            row("find-links", &self.find_links, list),
            row("no-index", &self.no_index, bool::to_string),
            row("index-strategy", &self.index_strategy, |s| match s {
                IndexStrategy::BestMatch => "best-match".to_string(),
                IndexStrategy::FirstIndex => "first-index".to_string(),
            }),
            row("trusted-host", &self.trusted_hosts, |hosts| hosts.join(" ")),
            row("timeout", &self.timeout_secs, |secs| format!("{secs}s")),
            row("pre", &self.pre, bool::to_string),
            row("require-hashes", &self.require_hashes, bool::to_string),
            row("constraint", &self.constraints, |paths| {
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            row("only-binary", &self.only_binary, |v| v.join(",")),
            row("no-binary", &self.no_binary, |v| v.join(",")),
            row("prefer-binary", &self.prefer_binary, bool::to_string),
            row("cache-dir", &self.cache_dir, |dir| match dir {
                Some(dir) => dir.display().to_string(),
                None => rvenv_venv::default_cache_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
            }),
            row("no-cache", &self.no_cache, bool::to_string),
            row(
                "concurrent-downloads",
                &self.concurrent_downloads,
                usize::to_string,
            ),
            row("offline", &self.offline, bool::to_string),
        ];
        if let Some(value) = &self.ignored_pip_no_cache_dir {
            rows.push((
                "PIP_NO_CACHE_DIR",
                value.clone(),
                "ignored: it turns off pip's cache, not rvenv's (use --no-cache or RVENV_NO_CACHE=1)".to_string(),
            ));
        }
        rows
    }
}

pub const DEFAULT_CONCURRENT_DOWNLOADS: usize = 32;

/// pip accepts fractional timeouts (`PIP_DEFAULT_TIMEOUT=60.0`); rvenv rounds up to whole seconds.
fn parse_seconds(raw: &str) -> Result<u64, String> {
    let secs: f64 = raw
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds".to_string())?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err("expected a positive number of seconds".to_string());
    }
    Ok(secs.ceil() as u64)
}

#[cfg(test)]
mod tests;
