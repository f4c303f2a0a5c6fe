use std::collections::HashMap;

use clap::Parser;

use super::*;
use crate::cli::{Cli, Command};

fn install_args(argv: &[&str]) -> InstallArgs {
    let mut full = vec!["rvenv", "install"];
    full.extend_from_slice(argv);
    match Cli::try_parse_from(full).unwrap().command {
        Command::Install(args) => args,
        other => panic!("not install: {other:?}"),
    }
}

fn resolve(argv: &[&str], vars: &[(&str, &str)], venv: Option<&Path>) -> InstallSettings {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = move |name: &str| vars.get(name).cloned();
    InstallSettings::resolve(&install_args(argv), &env, venv).unwrap()
}

#[test]
fn defaults_without_any_configuration() {
    let settings = resolve(&[], &[("PIP_CONFIG_FILE", "/dev/null")], None);
    assert_eq!(settings.index_url.value, DEFAULT_INDEX_URL);
    assert_eq!(settings.index_url.source, Source::Default);
    assert_eq!(settings.timeout_secs.value, 30);
    assert!(!settings.no_index.value);
}

#[test]
fn flags_beat_rvenv_beat_pip_variables_beat_pip_conf() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("pip.conf");
    fs_err::write(
        &conf,
        "[global]\nindex-url = https://conf/simple\ntimeout = 5\n[install]\ntimeout = 7\n",
    )
    .unwrap();
    let conf_var = conf.display().to_string();
    let base = [("PIP_CONFIG_FILE", conf_var.as_str())];

    let only_conf = resolve(&[], &base, None);
    assert_eq!(only_conf.index_url.value, "https://conf/simple");
    assert_eq!(
        only_conf.timeout_secs.value, 7,
        "[install] overrides [global]"
    );
    assert_eq!(
        only_conf.timeout_secs.source,
        Source::PipConf {
            file: conf.clone(),
            section: "install".into()
        }
    );

    let with_pip = resolve(
        &[],
        &[
            base[0],
            ("PIP_INDEX_URL", "https://pip/simple"),
            ("PIP_DEFAULT_TIMEOUT", "60.5"),
        ],
        None,
    );
    assert_eq!(with_pip.index_url.value, "https://pip/simple");
    assert_eq!(with_pip.index_url.source, Source::Env("PIP_INDEX_URL"));
    assert_eq!(with_pip.timeout_secs.value, 61);

    let with_rvenv = resolve(
        &[],
        &[
            base[0],
            ("PIP_INDEX_URL", "https://pip/simple"),
            ("RVENV_INDEX_URL", "https://rvenv/simple"),
        ],
        None,
    );
    assert_eq!(with_rvenv.index_url.value, "https://rvenv/simple");

    let with_flag = resolve(
        &["-i", "https://flag/simple"],
        &[base[0], ("RVENV_INDEX_URL", "https://rvenv/simple")],
        None,
    );
    assert_eq!(with_flag.index_url.value, "https://flag/simple");
    assert_eq!(with_flag.index_url.source, Source::Flag("--index-url"));
}

#[test]
fn pip_lists_and_booleans() {
    let settings = resolve(
        &[],
        &[
            ("PIP_CONFIG_FILE", "/dev/null"),
            ("PIP_EXTRA_INDEX_URL", "https://a/simple  https://b/simple"),
            ("PIP_NO_INDEX", "yes"),
            ("PIP_PRE", "0"),
            ("PIP_ONLY_BINARY", ":all:"),
            ("PIP_CONSTRAINT", "c1.txt c2.txt"),
        ],
        None,
    );
    assert_eq!(
        settings.extra_index_urls.value,
        vec!["https://a/simple", "https://b/simple"]
    );
    assert!(settings.no_index.value);
    assert!(!settings.pre.value);
    assert_eq!(settings.only_binary.value, vec![":all:"]);
    assert_eq!(
        settings.constraints.value,
        vec![PathBuf::from("c1.txt"), PathBuf::from("c2.txt")]
    );
}

#[test]
fn site_conf_in_the_venv_is_read() {
    let venv = tempfile::tempdir().unwrap();
    fs_err::write(
        venv.path().join("pip.conf"),
        "[global]\nextra-index-url =\n  https://x/simple\n  https://y/simple\n",
    )
    .unwrap();
    let settings = resolve(&[], &[("HOME", "/nonexistent")], Some(venv.path()));
    assert_eq!(
        settings.extra_index_urls.value,
        vec!["https://x/simple", "https://y/simple"]
    );
}

#[test]
fn bad_values_name_their_source() {
    let vars: HashMap<String, String> =
        [("PIP_CONFIG_FILE", "/dev/null"), ("PIP_NO_INDEX", "maybe")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let env = move |name: &str| vars.get(name).cloned();
    let err = InstallSettings::resolve(&install_args(&[]), &env, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value \"maybe\" in environment variable PIP_NO_INDEX: expected a boolean such as 1/0, yes/no, true/false"
    );
}

#[test]
fn pip_no_cache_dir_is_reported_as_ignored() {
    let settings = resolve(
        &[],
        &[("PIP_CONFIG_FILE", "/dev/null"), ("PIP_NO_CACHE_DIR", "1")],
        None,
    );
    assert!(!settings.no_cache.value);
    let rows = settings.rows();
    let row = rows.iter().find(|row| row.0 == "PIP_NO_CACHE_DIR").unwrap();
    assert!(row.2.contains("ignored"));
}

#[test]
fn credentials_are_redacted() {
    let settings = resolve(
        &["-i", "https://u:p4ss@h/simple"],
        &[("PIP_CONFIG_FILE", "/dev/null")],
        None,
    );
    let shown = format!("{:?}", settings.rows());
    assert!(!shown.contains("p4ss"), "{shown}");
    assert!(shown.contains("https://u:****@h/simple"), "{shown}");
}
