//! The table of forms, real-world files, includes and exact error messages.

use std::path::{Path, PathBuf};

use pep508_rs::MarkerTree;

use super::*;

const CWD: &str = "/work/app";

fn h(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn parse(content: &str) -> RequirementsTxt {
    RequirementsTxt::parse_str(content, Path::new("requirements.txt"), Path::new(CWD))
        .unwrap_or_else(|err| panic!("{content:?} failed:\n{err}"))
}

fn parse_err(content: &str) -> String {
    match RequirementsTxt::parse_str(content, Path::new("requirements.txt"), Path::new(CWD)) {
        Ok(parsed) => panic!("{content:?} parsed: {parsed:#?}"),
        Err(err) => err.to_string(),
    }
}

fn marker_text(marker: &MarkerTree) -> String {
    marker
        .contents()
        .map(|m| format!(" ; {m}"))
        .unwrap_or_default()
}

/// One line per entry: what it asks for, its hashes, where it was written.
fn describe(entry: &Entry) -> String {
    let what = match &entry.requirement {
        RequirementSource::Named(requirement) => requirement.to_string(),
        RequirementSource::Unnamed(unnamed) => {
            let location = match &unnamed.location {
                Location::Path(path) => format!("path {}", path.display()),
                Location::Url(url) => format!("url {url}"),
                Location::Vcs(vcs) => format!("{:?} {} rev={:?}", vcs.kind, vcs.url, vcs.rev),
            };
            let mut text = location;
            if let Some(name) = &unnamed.name {
                text.push_str(&format!(" name={name}"));
            }
            if !unnamed.extras.is_empty() {
                let extras: Vec<String> = unnamed.extras.iter().map(ToString::to_string).collect();
                text.push_str(&format!(" extras={}", extras.join(",")));
            }
            if let Some(sub) = &unnamed.subdirectory {
                text.push_str(&format!(" subdirectory={sub}"));
            }
            text.push_str(&marker_text(&unnamed.marker));
            text
        }
    };
    let hashes: Vec<String> = entry
        .hashes
        .iter()
        .map(|h| h.to_string()[..8].to_owned())
        .collect();
    let hashes = if hashes.is_empty() {
        String::new()
    } else {
        format!(" hashes={}", hashes.join(","))
    };
    format!("{what}{hashes} ({})", entry.origin)
}

#[test]
fn table_of_requirement_forms() {
    let table: &[(&str, &str)] = &[
        ("flask", "flask (requirements.txt:1)"),
        ("Flask_Login", "flask-login (requirements.txt:1)"),
        ("docopt == 0.6.1", "docopt==0.6.1 (requirements.txt:1)"),
        ("requests [security] >= 2.8.1, == 2.8.*", "requests[security]==2.8.*,>=2.8.1 (requirements.txt:1)"),
        ("uvicorn[standard,  socks]>=0.30", "uvicorn[standard,socks]>=0.30 (requirements.txt:1)"),
        ("pkg (>=1.0,<2)", "pkg>=1.0,<2 (requirements.txt:1)"),
        ("pkg===1.0", "pkg===1.0 (requirements.txt:1)"),
        ("pkg~=1.4.2", "pkg~=1.4.2 (requirements.txt:1)"),
        (
            "pywin32==306 ; sys_platform == 'win32'",
            "pywin32==306 ; sys_platform == 'win32' (requirements.txt:1)",
        ),
        (
            "foo;python_version<\"3.9\"",
            "foo ; python_full_version < '3.9' (requirements.txt:1)",
        ),
        (
            "foo>=1 ; python_version >= \"3.8\" and platform_system != \"Windows\"",
            "foo>=1 ; python_full_version >= '3.8' and platform_system != 'Windows' (requirements.txt:1)",
        ),
        (
            "urllib3 @ https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip",
            "urllib3 @ https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip (requirements.txt:1)",
        ),
        (
            "urllib3 @ https://h/u-1.0-py3-none-any.whl ; python_version > '3.6'",
            "urllib3 @ https://h/u-1.0-py3-none-any.whl ; python_full_version >= '3.7' (requirements.txt:1)",
        ),
        (
            "pip @ git+https://github.com/pypa/pip.git@23.2",
            "pip @ git+https://github.com/pypa/pip.git@23.2 (requirements.txt:1)",
        ),
        (
            "https://h/pkgs/foo-1.0-py3-none-any.whl",
            "url https://h/pkgs/foo-1.0-py3-none-any.whl name=foo (requirements.txt:1)",
        ),
        (
            "https://h/pkgs/foo-1.0.tar.gz#egg=foo[bar]&subdirectory=py ; python_version >= '3'",
            "url https://h/pkgs/foo-1.0.tar.gz#egg=foo[bar]&subdirectory=py name=foo extras=bar subdirectory=py ; python_full_version >= '3' (requirements.txt:1)",
        ),
        (
            "https://h/x.zip;v=2",
            "url https://h/x.zip;v=2 (requirements.txt:1)",
        ),
        ("./downloads/numpy-1.9.2-cp34-none-win32.whl", "path /work/app/downloads/numpy-1.9.2-cp34-none-win32.whl name=numpy (requirements.txt:1)"),
        ("../dist/pkg-2.0.tar.gz[extra] ; os_name == 'posix'", "path /work/dist/pkg-2.0.tar.gz extras=extra ; os_name == 'posix' (requirements.txt:1)"),
        ("pkg-2.0.tar.gz", "path /work/app/pkg-2.0.tar.gz (requirements.txt:1)"),
        ("/abs/wheels/a_b-1.0-1-py3-none-any.whl", "path /abs/wheels/a_b-1.0-1-py3-none-any.whl name=a-b (requirements.txt:1)"),
        ("file:///srv/w/pkg-1.0-py3-none-any.whl", "path /srv/w/pkg-1.0-py3-none-any.whl name=pkg (requirements.txt:1)"),
        ("file://localhost/srv/w/pkg-1.0.zip", "path /srv/w/pkg-1.0.zip (requirements.txt:1)"),
        ("file:../vendor/pkg-1.0.zip", "path /work/vendor/pkg-1.0.zip (requirements.txt:1)"),
        ("file:///srv/my%20dir/p-1.0.zip", "path /srv/my dir/p-1.0.zip (requirements.txt:1)"),
        (
            "git+https://github.com/pypa/sampleproject.git@v2.0.0#egg=sampleproject",
            "Git https://github.com/pypa/sampleproject.git rev=Some(\"v2.0.0\") name=sampleproject (requirements.txt:1)",
        ),
        (
            "git+ssh://git@github.com/org/repo.git#egg=repo&subdirectory=lib/py",
            "Git ssh://git@github.com/org/repo.git rev=None name=repo subdirectory=lib/py (requirements.txt:1)",
        ),
        (
            "hg+https://hg.example.com/repo@tip",
            "Mercurial https://hg.example.com/repo rev=Some(\"tip\") (requirements.txt:1)",
        ),
        (
            "svn+svn://svn.example.com/proj#egg=proj",
            "Subversion svn://svn.example.com/proj rev=None name=proj (requirements.txt:1)",
        ),
        (
            "bzr+lp:MyProject#egg=MyProject",
            "Bazaar lp:MyProject rev=None name=myproject (requirements.txt:1)",
        ),
        (
            &format!("requests==2.31.0 --hash={} --hash={}", h('a'), h('b')),
            "requests==2.31.0 hashes=sha256:a,sha256:b (requirements.txt:1)",
        ),
        (
            &format!("requests==2.31.0 --hash {}", h('a')),
            "requests==2.31.0 hashes=sha256:a (requirements.txt:1)",
        ),
        (
            &format!("foo==1.0 ; python_version < '3.10' --hash={}", h('c')),
            "foo==1.0 ; python_full_version < '3.10' hashes=sha256:c (requirements.txt:1)",
        ),
    ];
    let mut mismatches = Vec::new();
    for (content, expected) in table {
        let parsed = parse(content);
        assert_eq!(parsed.requirements.len(), 1, "{content}");
        assert!(
            parsed.warnings.is_empty(),
            "{content}: {:?}",
            parsed.warnings
        );
        let found = describe(&parsed.requirements[0]);
        if found != *expected {
            mismatches.push(format!(
                "{content}\n  expected {expected}\n  found    {found}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn options_are_collected() {
    let parsed = parse(
        "--index-url https://pypi.example/simple\n\
         --extra-index-url=https://extra.example/simple\n\
         --extra-index-url https://extra.example/simple\n\
         -f https://wheels.example/links.html\n\
         --find-links /opt/wheels\n\
         --trusted-host extra.example\n\
         --pre\n--prefer-binary\n\
         --no-binary psycopg2,lxml\n--only-binary=:all:\n--no-binary=Psycopg2\n\
         --require-hashes\n\
         --use-feature=truststore\n",
    );
    assert_eq!(
        parsed.index_url.as_deref(),
        Some("https://pypi.example/simple")
    );
    assert_eq!(
        parsed.extra_index_urls,
        vec!["https://extra.example/simple".to_owned()]
    );
    assert_eq!(
        parsed.find_links,
        vec![
            "https://wheels.example/links.html".to_owned(),
            "/opt/wheels".to_owned()
        ]
    );
    assert_eq!(parsed.trusted_hosts, vec!["extra.example".to_owned()]);
    assert!(parsed.pre && parsed.prefer_binary && !parsed.no_index);
    assert_eq!(
        parsed.format_control.only_binary,
        [":all:".to_owned()].into()
    );
    assert_eq!(
        parsed.format_control.no_binary,
        ["psycopg2".to_owned()].into()
    );
    assert_eq!(
        parsed.require_hashes,
        Some(Origin {
            file: "requirements.txt".into(),
            line: 12
        })
    );
    assert_eq!(
        parsed
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec!["requirements.txt:13: --use-feature=truststore is ignored by rvenv".to_owned()]
    );
    assert!(parse("--no-index\n-i https://a/simple\n-i https://b/simple").no_index);
    assert_eq!(
        parse("-i https://a/simple\n-i https://b/simple")
            .index_url
            .as_deref(),
        Some("https://b/simple")
    );
}

#[test]
fn ignored_options_warn_with_file_and_line() {
    let parsed = parse(
        "flask\nlxml --global-option=--with-xslt \\\n  --config-settings=key=value\nfoo --pre\n--hash=sha256:abc\nbar -- junk\n",
    );
    let warnings: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        vec![
            "requirements.txt:2: --global-option is ignored: rvenv does not pass options to build backends",
            "requirements.txt:2: --config-settings is ignored: rvenv does not pass options to build backends",
            "requirements.txt:4: --pre is ignored on a requirement line; put it on a line of its own",
            "requirements.txt:5: --hash is ignored: it applies to a requirement on the same line",
            "requirements.txt:6: `junk` after the options is ignored",
        ]
    );
    assert_eq!(parsed.requirements.len(), 4);
    assert!(
        !parsed.pre,
        "--pre on a requirement line is ignored, as pip does"
    );
}

#[test]
fn env_vars_expand_in_requirements_and_options() {
    let env = |name: &str| (name == "RVENV_T_TOKEN").then(|| "tok".to_owned());
    let mut parser = parser::Parser::new(Path::new(CWD), &env);
    parser
        .parse_text(
            "-i https://u:${RVENV_T_TOKEN}@h/simple\nfoo @ https://${RVENV_T_TOKEN}@h/foo-1.0.zip\nbar==${UNSET_VAR_X}\n",
            Path::new("r.txt"),
            parser::FileKind::Requirements,
        )
        .unwrap_err();
    let mut parser = parser::Parser::new(Path::new(CWD), &env);
    parser
        .parse_text(
            "-i https://u:${RVENV_T_TOKEN}@h/simple\nfoo @ https://${RVENV_T_TOKEN}@h/foo-1.0.zip\n",
            Path::new("r.txt"),
            parser::FileKind::Requirements,
        )
        .unwrap();
    let parsed = parser.finish();
    assert_eq!(parsed.index_url.as_deref(), Some("https://u:tok@h/simple"));
    assert_eq!(
        describe(&parsed.requirements[0]),
        "foo @ https://tok@h/foo-1.0.zip (r.txt:2)"
    );
}

#[test]
fn comments_blank_lines_and_continuations() {
    let content = "# header\n\n  # indented comment\nflask  # web\n\
                   requests==2.31.0 \\\n    --hash=sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \\\n    --hash=sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n\
                   https://h/p-1.0.tar.gz#egg=p\n";
    let parsed = parse(content);
    let described: Vec<String> = parsed.requirements.iter().map(describe).collect();
    assert_eq!(
        described,
        vec![
            "flask (requirements.txt:4)",
            "requests==2.31.0 hashes=sha256:a,sha256:b (requirements.txt:5)",
            "url https://h/p-1.0.tar.gz#egg=p name=p (requirements.txt:8)",
        ]
    );
}

#[test]
fn crlf_cr_bom_and_utf16_files() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# c\r\nflask==3.0.0 \\\r\n  ; python_version >= '3.8'\r\nclick\r\n";
    let mut utf16le = vec![0xFF, 0xFE];
    let mut utf16be = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        utf16le.extend_from_slice(&unit.to_le_bytes());
        utf16be.extend_from_slice(&unit.to_be_bytes());
    }
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("crlf.txt", text.as_bytes().to_vec()),
        ("cr.txt", text.replace("\r\n", "\r").into_bytes()),
        (
            "bom.txt",
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        ),
        ("utf16le.txt", utf16le),
        ("utf16be.txt", utf16be),
    ];
    for (name, bytes) in variants {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let parsed = RequirementsTxt::parse(&path, dir.path()).unwrap();
        let described: Vec<String> = parsed
            .requirements
            .iter()
            .map(|e| format!("{} line {}", e.requirement.name().unwrap(), e.origin.line))
            .collect();
        assert_eq!(described, vec!["flask line 2", "click line 4"], "{name}");
        assert_eq!(
            marker_text(parsed.requirements[0].requirement.marker()),
            " ; python_full_version >= '3.8'",
            "{name}"
        );
    }
}

#[test]
fn pip_compile_generate_hashes_output() {
    let content = r#"#
# This file is autogenerated by pip-compile with Python 3.11
# by the following command:
#
#    pip-compile --generate-hashes requirements.in
#
--index-url https://pypi.org/simple

anyio==4.2.0 \
    --hash=sha256:745843b39e829e108e518c489b31dc757de7d2131d53fac32bd8df268227bfee \
    --hash=sha256:e1875bb4b4e2de1669f4bc7869b6d3f54231cdced71605e6e64c9be77e3be50f
    # via starlette
fastapi==0.109.0 \
    --hash=sha256:8c77515984cd8e8cfeb58364f8cc7a28f0692088475e2614f7bf03275eba9093 \
    --hash=sha256:b978095b9ee01a5cf49b19f4bc1ac9b8ca83aa076e770ef8fd9af09a2b88d191
    # via -r requirements.in
idna==3.6 \
    --hash=sha256:9ecdbbd083b06798ae1e86adcbfe8ab1479cf864e4ee30fe4e46a003d12491ca \
    --hash=sha256:c05567e9c24a6b9faaa835c4821bad0590fbb9d5779e7caa6e1cc4978e7eb29f
    # via anyio
typing-extensions==4.9.0 ; python_version < "3.11" \
    --hash=sha256:23478f88c37f27d76ac8aee6c905017a143b0b1b886c3c9f66bc2fd94f9f5783 \
    --hash=sha256:af72aea155e91adfc61c3ae9e0e342dbc0cba726d6cba4b6c72c1f34e47291cd
    # via
    #   fastapi
    #   pydantic

# The following packages are considered to be unsafe in a requirements file:
setuptools==69.0.3 \
    --hash=sha256:385eb4edd9c9d5c17540511303e39a147ce2fc04bc55289c322b9e5904fe2c05 \
    --hash=sha256:be1af57fc409f93647f2e8e4573a142ed38724b8cdd389706a867bb4efcf1e78
    # via -r requirements.in
"#;
    let parsed = parse(content);
    let summary: Vec<String> = parsed
        .requirements
        .iter()
        .map(|e| {
            format!(
                "{} x{} @{}",
                e.requirement.name().unwrap(),
                e.hashes.len(),
                e.origin.line
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            "anyio x2 @9",
            "fastapi x2 @13",
            "idna x2 @17",
            "typing-extensions x2 @21",
            "setuptools x2 @29"
        ]
    );
    assert_eq!(parsed.index_url.as_deref(), Some("https://pypi.org/simple"));
    assert_eq!(
        marker_text(parsed.requirements[3].requirement.marker()),
        " ; python_full_version < '3.11'"
    );
    parsed.check_hash_mode(true).unwrap();
}

#[test]
fn poetry_export_with_markers_and_hashes() {
    let content = "certifi==2024.2.2 ; python_version >= \"3.9\" and python_version < \"4.0\" \\\n    --hash=sha256:0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f \\\n    --hash=sha256:dc383c07b76109f368f6106eee2b593b04a011ea4d55f652c6ca24a754d1cdd1\n\
colorama==0.4.6 ; python_version >= \"3.9\" and python_version < \"4.0\" and sys_platform == \"win32\" \\\n    --hash=sha256:08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44 \\\n    --hash=sha256:4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6\n";
    let parsed = parse(content);
    assert_eq!(parsed.requirements.len(), 2);
    assert_eq!(
        describe(&parsed.requirements[1]),
        "colorama==0.4.6 ; python_full_version >= '3.9' and python_full_version < '4.0' and sys_platform == 'win32' hashes=sha256:0,sha256:4 (requirements.txt:4)"
    );
    parsed.check_hash_mode(false).unwrap();
}

/// A temporary project: files relative to its root.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

/// Answers for URLs as a fetcher would, recording what was asked.
fn fake_web(pages: &[(&str, &str)]) -> impl Fn(&url::Url) -> Result<Vec<u8>, String> {
    let pages: Vec<(String, String)> = pages
        .iter()
        .map(|(url, body)| (url.to_string(), body.to_string()))
        .collect();
    move |url: &url::Url| {
        pages
            .iter()
            .find(|(page, _)| page == url.as_str())
            .map(|(_, body)| body.clone().into_bytes())
            .ok_or_else(|| "the server answered 404".to_owned())
    }
}

#[test]
fn remote_includes_are_fetched_and_relative_to_their_url() {
    let dir = tree(&[(
        "requirements.txt",
        "-r https://example.org/app/reqs/prod.txt\n-c HTTPS://example.org/pins.txt\nlocal-pkg\n",
    )]);
    let web = fake_web(&[
        (
            "https://example.org/app/reqs/prod.txt",
            "-r base.txt\n-r ../../extra.txt\ngunicorn==22.0.0\n",
        ),
        ("https://example.org/app/reqs/base.txt", "django==5.0.6\n"),
        ("https://example.org/extra.txt", "whitenoise\n"),
        ("https://example.org/pins.txt", "django<6\n"),
    ]);
    let parsed =
        RequirementsTxt::parse_with(Path::new("requirements.txt"), dir.path(), &web).unwrap();
    let reqs: Vec<String> = parsed.requirements.iter().map(describe).collect();
    assert_eq!(
        reqs,
        [
            "django==5.0.6 (https://example.org/app/reqs/base.txt:1)",
            "whitenoise (https://example.org/extra.txt:1)",
            "gunicorn==22.0.0 (https://example.org/app/reqs/prod.txt:3)",
            "local-pkg (requirements.txt:3)",
        ]
    );
    let constraints: Vec<String> = parsed.constraints.iter().map(describe).collect();
    assert_eq!(constraints, ["django<6 (https://example.org/pins.txt:1)"]);

    // The top-level file may itself be a URL.
    let parsed = RequirementsTxt::parse_with(
        Path::new("https://example.org/app/reqs/base.txt"),
        dir.path(),
        &web,
    )
    .unwrap();
    assert_eq!(parsed.requirements.len(), 1);
}

#[test]
fn remote_include_errors_name_the_line_the_url_and_the_cause() {
    let dir = tree(&[(
        "requirements.txt",
        "flask\n-r https://user:secret@example.org/missing.txt\n",
    )]);
    let web = fake_web(&[]);
    let err = RequirementsTxt::parse_with(Path::new("requirements.txt"), dir.path(), &web)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "requirements.txt:2: cannot download requirements file `https://example.org/missing.txt`: the server answered 404\n  hint: check the URL, or download the file and name the local copy"
    );

    // A web page instead of the raw file fails on its first line, with a hint saying why.
    let web = fake_web(&[(
        "https://example.org/page.txt",
        "<!DOCTYPE html>\n<html><body>hello</body></html>\n",
    )]);
    let err =
        RequirementsTxt::parse_with(Path::new("https://example.org/page.txt"), dir.path(), &web)
            .unwrap_err()
            .to_string();
    assert!(err.starts_with("https://example.org/page.txt:1"), "{err}");
    assert!(
        err.contains("hint: the URL answered with an HTML page"),
        "{err}"
    );

    // A remote file that includes itself is a cycle, not an endless download.
    let web = fake_web(&[("https://example.org/a.txt", "-r a.txt\n")]);
    let err = RequirementsTxt::parse_with(Path::new("https://example.org/a.txt"), dir.path(), &web)
        .unwrap_err();
    assert!(matches!(err, Error::IncludeCycle { .. }), "{err}");
}

#[test]
fn nested_requirements_and_constraints() {
    let dir = tree(&[
        ("backend/requirements.txt", "-r base.txt\n-c ../constraints/pins.txt\nfastapi\n-e lib[dev]\n./wheels/w-1.0-py3-none-any.whl\n"),
        ("backend/base.txt", "--extra-index-url https://extra/simple\n--find-links wheels\npydantic>=2\n"),
        ("backend/wheels/.keep", ""),
        ("constraints/pins.txt", "pydantic==2.6.0\n-r more.txt\n"),
        ("constraints/more.txt", "anyio\n"),
        ("lib/pyproject.toml", "[project]\nname='lib'\n"),
    ]);
    let root = dir.path();
    let parsed = RequirementsTxt::parse(Path::new("backend/requirements.txt"), root).unwrap();
    let reqs: Vec<String> = parsed
        .requirements
        .iter()
        .map(|e| format!("{} {}", e.requirement.name().unwrap(), e.origin))
        .collect();
    assert_eq!(
        reqs,
        vec![
            "pydantic backend/base.txt:3",
            "anyio backend/../constraints/more.txt:1",
            "fastapi backend/requirements.txt:3",
            "w backend/requirements.txt:5",
        ]
    );
    let constraints: Vec<String> = parsed
        .constraints
        .iter()
        .map(|e| format!("{} {}", e.requirement.name().unwrap(), e.origin))
        .collect();
    assert_eq!(
        constraints,
        vec!["pydantic backend/../constraints/pins.txt:1"]
    );
    assert_eq!(
        parsed.find_links,
        vec![root.join("backend/wheels").display().to_string()]
    );
    assert_eq!(
        parsed.extra_index_urls,
        vec!["https://extra/simple".to_owned()]
    );
    // `-e` and local paths are relative to the current directory, not the file.
    assert_eq!(
        parsed.editables[0].requirement.location,
        Location::Path(root.join("lib"))
    );
    assert_eq!(parsed.editables[0].requirement.extras[0].as_ref(), "dev");
    match &parsed.requirements[3].requirement {
        RequirementSource::Unnamed(u) => assert_eq!(
            u.location,
            Location::Path(root.join("wheels/w-1.0-py3-none-any.whl"))
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn editables() {
    let dir = tree(&[("proj/setup.py", ""), ("empty/.keep", "")]);
    let root = dir.path();
    let parse_in = |content: &str| RequirementsTxt::parse_str(content, Path::new("r.txt"), root);
    let parsed = parse_in("-e proj\n--editable=./proj[a,b]\n-e file:proj\n-e git+https://h/r.git@main#egg=r\n-e git://h/r.git#egg=r\n").unwrap();
    let locations: Vec<String> = parsed
        .editables
        .iter()
        .map(|e| {
            format!(
                "{:?} {:?} line {}",
                e.requirement.location, e.requirement.name, e.origin.line
            )
        })
        .collect();
    let proj = root.join("proj");
    assert_eq!(locations[0], format!("Path({proj:?}) None line 1"));
    assert_eq!(locations[1], format!("Path({proj:?}) None line 2"));
    assert_eq!(locations[2], format!("Path({proj:?}) None line 3"));
    assert!(
        locations[3].starts_with("Vcs(VcsUrl { kind: Git, url: Url { scheme: \"https\""),
        "{}",
        locations[3]
    );
    assert!(
        locations[3].contains("rev: Some(\"main\")")
            && locations[3].ends_with("Some(PackageName(\"r\")) line 4")
    );
    assert!(locations[4].contains("scheme: \"git\""), "{}", locations[4]);
    assert_eq!(parsed.editables[1].requirement.extras.len(), 2);

    let err = |content: &str| parse_in(content).unwrap_err().to_string();
    assert_eq!(
        err("-e empty"),
        "r.txt:1: directory `empty` is not installable: it has neither setup.py nor pyproject.toml\n    -e empty\n  hint: point at the project's root directory"
    );
    assert_eq!(
        err("-e git+https://h/r.git"),
        "r.txt:1: cannot tell the project name of the editable `git+https://h/r.git`\n    -e git+https://h/r.git\n  hint: name it with #egg=, e.g. `-e git+https://h/r.git#egg=NAME`"
    );
    assert_eq!(
        err("-e flask"),
        "r.txt:1: `flask` is not a valid editable requirement: it is neither a local project directory nor a VCS URL\n    -e flask\n  hint: use a path (`-e .`, `-e ./backend`) or a VCS URL (`-e git+https://host/repo.git#egg=name`)"
    );
    assert!(err("-e ./missing")
        .starts_with("r.txt:1: `./missing` is not a valid editable requirement: the directory `"));
}

#[test]
fn directories_as_requirements() {
    let dir = tree(&[("proj/pyproject.toml", ""), ("plain/.keep", "")]);
    let root = dir.path();
    let parsed = RequirementsTxt::parse_str(".\n", Path::new("r.txt"), &root.join("proj")).unwrap();
    assert_eq!(
        describe(&parsed.requirements[0]),
        format!("path {} (r.txt:1)", root.join("proj").display())
    );
    let parsed = RequirementsTxt::parse_str(
        "./proj[x] ; python_version > '3'\n",
        Path::new("r.txt"),
        root,
    )
    .unwrap();
    assert_eq!(
        describe(&parsed.requirements[0]),
        format!(
            "path {} extras=x ; python_full_version >= '3.1' (r.txt:1)",
            root.join("proj").display()
        )
    );
    let err = RequirementsTxt::parse_str("./plain\n", Path::new("r.txt"), root)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "r.txt:1: directory `./plain` is not installable: it has neither setup.py nor pyproject.toml\n    ./plain\n  hint: point at the project's root directory"
    );
}

#[test]
fn error_messages_are_exact() {
    let cases: &[(&str, &str)] = &[
        (
            "flask\nrequests>==2.0\n",
            "requirements.txt:2:9: no such comparison operator \">==\", must be one of ~= == != <= >= < > ===\n    requests>==2.0\n            ^",
        ),
        (
            "requirements.txt",
            "requirements.txt:1: `requirements.txt` looks like a requirements file, not a package\n    requirements.txt\n  hint: to include it, write `-r requirements.txt`",
        ),
        (
            "foo>=1.0.*",
            "requirements.txt:1:4: Operator >= cannot be used with a wildcard version specifier\n    foo>=1.0.*\n       ^\n  hint: a `.*` wildcard works only with `==` and `!=` (`==1.0.*`); with other operators drop it (`>=1.0`)",
        ),
        (
            "pip install fastapi uvicorn",
            "requirements.txt:1: this is a shell command, not a requirement\n    pip install fastapi uvicorn\n  hint: write just the requirements, one per line: `fastapi`, `uvicorn`",
        ),
        (
            "foo=1.0",
            "requirements.txt:1:4: no such comparison operator \"=\", must be one of ~= == != <= >= < > ===\n    foo=1.0\n       ^\n  hint: `=` is not an operator; to pin a version write `foo==1.0`",
        ),
        (
            "flask django",
            "requirements.txt:1:7: Expected one of `@`, `(`, `<`, `=`, `>`, `~`, `!`, `;`, found `d`\n    flask django\n          ^\n  hint: write one requirement per line",
        ),
        (
            "./missing/dir",
            "requirements.txt:1: `./missing/dir` looks like a path, but no such file or directory exists\n    ./missing/dir\n  hint: paths are relative to the current directory; check the spelling",
        ),
        (
            "foo ; python_version >> '3'",
            "requirements.txt:1:22: Expected a valid marker operator (such as `>=` or `not in`), found `>>`\n    foo ; python_version >> '3'\n                         ^",
        ),
        (
            "--indx-url https://x",
            "requirements.txt:1: unknown option --indx-url\n    --indx-url https://x\n  hint: did you mean --index-url?",
        ),
        (
            "# fine\n--upgrade\n",
            "requirements.txt:2: unknown option --upgrade\n    --upgrade\n  hint: --upgrade is an option of the install command, not of requirements files; pass it on the command line",
        ),
        ("-r", "requirements.txt:1: option -r needs a value\n    -r"),
        ("--pre=1", "requirements.txt:1: option --pre does not take a value\n    --pre=1"),
        (
            "foo==1 --hash=md5:abc",
            "requirements.txt:1:15: hash algorithm `md5` is not allowed; use sha256, sha384 or sha512\n    foo==1 --hash=md5:abc\n                  ^",
        ),
        (
            "foo==1 --hash=sha256:abc",
            "requirements.txt:1:15: a sha256 digest is 64 hex digits, but `abc` is not\n    foo==1 --hash=sha256:abc\n                  ^",
        ),
        (
            "https://h/not-a-wheel.whl",
            "requirements.txt:1: `not-a-wheel.whl` is not a valid wheel file name\n    https://h/not-a-wheel.whl\n  hint: wheel names look like `name-1.0-py3-none-any.whl`",
        ),
        (
            "https://h/x.zip ; python_version >",
            "requirements.txt:1: invalid marker `python_version >`: Expected marker value, found end of dependency specification\n    https://h/x.zip ; python_version >",
        ),
        (
            "--no-binary --pre",
            "requirements.txt:1: --no-binary needs a value, found `--pre`\n    --no-binary --pre",
        ),
        (
            "-r https://h/reqs.txt",
            "requirements.txt:1: cannot download requirements file `https://h/reqs.txt`: this caller does not download requirements files\n  hint: download it first and name the local copy",
        ),
        (
            "foo @ ./rel",
            "requirements.txt:1: `foo @ ./rel` looks like a path, but no such file or directory exists\n    foo @ ./rel\n  hint: paths are relative to the current directory; check the spelling",
        ),
        (
            "flask-==1.0",
            "requirements.txt:1:6: package name `flask-` must end with a letter or digit\n    flask-==1.0\n         ^",
        ),
        (
            "flask[a, b_]>=1",
            "requirements.txt:1:11: extra name `b_` must end with a letter or digit\n    flask[a, b_]>=1\n              ^",
        ),
        (
            "foo ; python_version >= \"3\" \u{4e0}",
            "requirements.txt:1:29: markers may only contain ASCII characters, found `\u{4e0}`\n    foo ; python_version >= \"3\" \u{4e0}\n                                ^",
        ),
        (
            "https://h/x.zip ; os_name == '\u{e9}'",
            "requirements.txt:1: markers may only contain ASCII characters, found `\u{e9}`\n    https://h/x.zip ; os_name == '\u{e9}'",
        ),
        (
            "-i 'https://x",
            "requirements.txt:1: a ' quote is never closed\n    -i 'https://x\n  hint: close it, or escape it as \\'",
        ),
    ];
    let mut mismatches = Vec::new();
    for (content, expected) in cases {
        let found = parse_err(content);
        if found != *expected {
            mismatches.push(format!(
                "{content}\n--- expected\n{expected}\n--- found\n{found}\n"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn variables_hide_the_column_but_not_the_line() {
    std::env::set_var("RVENV_REQ_TEST_VERSION", "1.0");
    let err = parse_err("foo>=1 bar==${RVENV_REQ_TEST_VERSION}");
    assert!(err.starts_with("requirements.txt:1: "), "{err}");
    assert!(
        err.contains("\n    foo>=1 bar==${RVENV_REQ_TEST_VERSION}"),
        "{err}"
    );
}

#[test]
fn constraints_must_be_named_and_not_editable() {
    let dir = tree(&[
        ("c1.txt", "https://h/foo-1.0.zip\n"),
        ("c2.txt", "-e .\n"),
        ("c3.txt", "foo @ https://h/foo-1.0.zip\nbar==1\n"),
        ("pyproject.toml", ""),
    ]);
    let root = dir.path();
    let err = RequirementsTxt::parse_constraints(Path::new("c1.txt"), root)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "c1.txt:1: a constraint needs a package name, but `https://h/foo-1.0.zip` has none\n    https://h/foo-1.0.zip\n  hint: write constraints as `name==version` or `name @ url`"
    );
    let err = RequirementsTxt::parse_constraints(Path::new("c2.txt"), root)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "c2.txt:1: editable requirements are not allowed as constraints (`-e .`)\n    -e .\n  hint: move it to a requirements file"
    );
    let parsed = RequirementsTxt::parse_constraints(Path::new("c3.txt"), root).unwrap();
    assert_eq!(parsed.constraints.len(), 2);
    assert!(parsed.requirements.is_empty());
}

#[test]
fn missing_files_name_who_included_them() {
    let dir = tree(&[
        ("a.txt", "flask\n-r sub/b.txt\n"),
        ("sub/b.txt", "\n\n-c nope.txt\n"),
    ]);
    let err = RequirementsTxt::parse(Path::new("a.txt"), dir.path())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "sub/b.txt:3: cannot read requirements file `sub/nope.txt`: No such file or directory (os error 2)"
    );
    let err = RequirementsTxt::parse(Path::new("absent.txt"), dir.path())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cannot read requirements file `absent.txt`: No such file or directory (os error 2)"
    );
}

#[test]
fn include_cycles_are_reported() {
    let dir = tree(&[
        ("a.txt", "flask\n-r b.txt\n"),
        ("b.txt", "-r sub/../c.txt\n"),
        ("c.txt", "click\n-c a.txt\n"),
        ("self.txt", "-r ./self.txt\n"),
        ("diamond.txt", "-r c2.txt\n-r c2.txt\n"),
        ("c2.txt", "click\n"),
        ("sub/.keep", ""),
    ]);
    let root = dir.path();
    let err = RequirementsTxt::parse(Path::new("a.txt"), root)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "sub/../c.txt:2: `sub/../a.txt` includes itself: a.txt -> b.txt -> sub/../c.txt -> sub/../a.txt");
    let err = RequirementsTxt::parse(Path::new("self.txt"), root)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "self.txt:1: `./self.txt` includes itself: self.txt -> ./self.txt"
    );
    // Including the same file twice is not a cycle.
    let parsed = RequirementsTxt::parse(Path::new("diamond.txt"), root).unwrap();
    assert_eq!(parsed.requirements.len(), 2);
}

#[test]
fn invalid_encodings() {
    let dir = tree(&[]);
    std::fs::write(dir.path().join("bad.txt"), b"flask\n\xff\xfe\x00").unwrap();
    let err = RequirementsTxt::parse(Path::new("bad.txt"), dir.path())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cannot read requirements file `bad.txt`: the file is not valid UTF-8 (line 2, byte 6: 0xFF)\n  hint: save it as UTF-8"
    );
}

#[test]
fn standard_input() {
    let dir = tree(&[("more.txt", "click\n")]);
    let input = b"flask\n-r more.txt\n".as_slice();
    let parsed = RequirementsTxt::parse_reader(input, dir.path()).unwrap();
    let found: Vec<String> = parsed
        .requirements
        .iter()
        .map(|e| format!("{} {}", e.requirement.name().unwrap(), e.origin))
        .collect();
    assert_eq!(found, vec!["flask -:1", "click more.txt:1"]);
}

#[test]
fn hash_checking_mode() {
    let parsed = parse(&format!(
        "a==1.0 --hash={}\nb>=2\nc==3.*\nd==4.0\n./local-1.0.tar.gz\ngit+https://h/r.git#egg=r\nhttps://h/e-1.0-py3-none-any.whl --hash={}\n",
        h('a'),
        h('b')
    ));
    let err = parsed.check_hash_mode(false).unwrap_err().to_string();
    assert_eq!(
        err,
        "hash-checking mode is on (requirements.txt:1 has --hash), so every requirement must be pinned with `==` and carry --hash; 5 do not:\n\
         \x20 requirements.txt:2: `b>=2` is not pinned with `==` and has no --hash\n\
         \x20 requirements.txt:3: `c==3.*` is not pinned (`==3.*` is a range of versions, not one) and has no --hash\n\
         \x20 requirements.txt:4: `d==4.0` has no --hash\n\
         \x20 requirements.txt:5: `./local-1.0.tar.gz` has no --hash\n\
         \x20 requirements.txt:6: `git+https://h/r.git#egg=r` is a VCS URL, and a repository cannot be hashed\n\
         \x20 hint: write each as `name==VERSION --hash=sha256:DIGEST` (pip-compile --generate-hashes does this)"
    );
    // Off unless something turns it on.
    parse("b>=2\n").check_hash_mode(false).unwrap();
    let err = parse("b>=2\n")
        .check_hash_mode(true)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("hash-checking mode is on (--require-hashes was given), so every requirement must be pinned with `==` and carry --hash; 1 does not:\n  requirements.txt:1: `b>=2`"), "{err}");
    let err = parse("--require-hashes\nb==2\n")
        .check_hash_mode(false)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("hash-checking mode is on (requirements.txt:1 says --require-hashes)"),
        "{err}"
    );
}

#[test]
fn editables_break_hash_mode() {
    let dir = tree(&[("p/setup.py", "")]);
    let parsed = RequirementsTxt::parse_str("-e p\n", Path::new("r.txt"), dir.path()).unwrap();
    let err = parsed.check_hash_mode(true).unwrap_err().to_string();
    assert!(
        err.contains(
            "\n  r.txt:1: `-e p` is editable, and an editable has no single file to hash\n"
        ),
        "{err}"
    );
}

#[test]
fn command_line_requirements() {
    let dir = tree(&[
        ("wheels/foo-1.0-py3-none-any.whl", ""),
        ("proj/pyproject.toml", ""),
    ]);
    let root = dir.path();
    let name = |arg: &str| {
        parse_cli_requirement(arg, root)
            .unwrap()
            .name()
            .map(ToString::to_string)
    };
    assert_eq!(name("fastapi").as_deref(), Some("fastapi"));
    assert_eq!(name("uvicorn[standard]>=0.30").as_deref(), Some("uvicorn"));
    assert_eq!(
        name("./wheels/foo-1.0-py3-none-any.whl").as_deref(),
        Some("foo")
    );
    assert_eq!(name("./proj"), None);
    match parse_cli_requirement("./proj", root).unwrap() {
        RequirementSource::Unnamed(u) => assert_eq!(u.location, Location::Path(root.join("proj"))),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        parse_cli_requirement("requirements.txt", root).unwrap_err().to_string(),
        "invalid requirement `requirements.txt`: `requirements.txt` looks like a requirements file, not a package\n  hint: to include it, write `-r requirements.txt`"
    );
    assert_eq!(
        parse_cli_requirement("flask>=", root)
            .unwrap_err()
            .to_string(),
        "invalid requirement `flask>=`: Unexpected end of version specifier, expected version"
    );
    assert_eq!(
        parse_cli_editable(".", &root.join("proj"))
            .unwrap()
            .location,
        Location::Path(root.join("proj"))
    );
}

#[test]
fn merge_combines_files() {
    let mut first =
        parse("-i https://a/simple\n--extra-index-url https://x/simple\nflask\n--no-binary lxml\n");
    let second = parse("-i https://b/simple\n--extra-index-url https://x/simple\nclick\n--only-binary lxml\n--pre\n");
    first.merge(second);
    assert_eq!(first.index_url.as_deref(), Some("https://b/simple"));
    assert_eq!(first.extra_index_urls.len(), 1);
    assert_eq!(first.requirements.len(), 2);
    assert!(first.pre);
    assert!(first.format_control.no_binary.is_empty());
    assert!(first.format_control.only_binary.contains("lxml"));
}

#[test]
fn origin_path_is_kept_as_given() {
    let parsed = parse("flask");
    assert_eq!(
        parsed.requirements[0].origin.file,
        PathBuf::from("requirements.txt")
    );
}

#[test]
fn hostile_inputs_are_errors_not_crashes() {
    let deep = format!(
        "foo ; {}python_version > '3'{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(parse_err(&deep).contains("markers may nest parentheses at most 32 deep"));
    let nested = format!(
        "foo ; {}python_version > '3'{}",
        "(".repeat(30),
        ")".repeat(30)
    );
    assert_eq!(parse(&nested).requirements.len(), 1);
    assert!(
        parse_err("flask-[x]").contains("package name `flask-` must end with a letter or digit")
    );
    assert_eq!(
        describe(&parse("https://h/p-1.0.zip#egg=").requirements[0]),
        "url https://h/p-1.0.zip#egg= (requirements.txt:1)"
    );
    let long = format!("{}==1", "a".repeat(100_000));
    assert_eq!(parse(&long).requirements.len(), 1);
}
