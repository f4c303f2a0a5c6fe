//! Core metadata (METADATA / PKG-INFO): the RFC 822-style header block, and the fields the
//! resolver needs.

use std::str::FromStr;

use crate::CoreMetadata;
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, Requirement};

/// The header fields of a metadata file, in order; names as written, values with continuation
/// lines joined by a space. Stops at the first empty line (the description body follows).
pub fn parse_headers(text: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    headers
}

/// Parses METADATA into the resolver's [`CoreMetadata`]. Errors name the offending field.
pub fn parse_metadata(bytes: &[u8]) -> Result<CoreMetadata, String> {
    let text = String::from_utf8_lossy(bytes);
    let headers = parse_headers(&text);
    let field = |wanted: &'static str| {
        headers
            .iter()
            .filter(move |(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.as_str())
    };
    let name = field("Name")
        .next()
        .ok_or_else(|| "no Name field".to_string())?;
    let name =
        PackageName::from_str(name).map_err(|err| format!("invalid Name `{name}`: {err}"))?;
    let version = field("Version")
        .next()
        .ok_or_else(|| "no Version field".to_string())?;
    let version =
        Version::from_str(version).map_err(|err| format!("invalid Version `{version}`: {err}"))?;
    let requires_dist = field("Requires-Dist")
        .map(|value| {
            parse_requirement(value)
                .map_err(|err| format!("invalid Requires-Dist `{value}`: {err}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let requires_python = field("Requires-Python")
        .next()
        .and_then(parse_requires_python);
    // An odd extra name only disables that extra; it should not make the version unusable.
    let provides_extras = field("Provides-Extra")
        .filter_map(|value| ExtraName::from_str(value).ok())
        .collect();
    Ok(CoreMetadata {
        name,
        version,
        requires_dist,
        requires_python,
        provides_extras,
    })
}

/// Parses Requires-Python (from METADATA or an index page) as pip does: empty parts between
/// commas are dropped (celery 5.2.6 says `>=3.7,`), and a value that still does not parse puts
/// no restriction on the interpreter (pip warns and ignores it) rather than making the version
/// unusable.
pub fn parse_requires_python(value: &str) -> Option<VersionSpecifiers> {
    let parts: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect();
    if parts.is_empty() {
        return None;
    }
    VersionSpecifiers::from_str(&parts.join(", ")).ok()
}

/// Parses one PEP 508 requirement from untrusted text (metadata from an index or an archive).
///
/// pep508_rs 0.9 panics on some malformed input instead of returning an error: a name or an
/// extra ending in `-`, `_` or `.` followed by more text (`lib..>=1`), non-ASCII text (its error
/// messages slice the text by bytes), and it recurses once per `(` of a marker. Such text is
/// refused here first. PEP 508 is ASCII throughout (URLs are percent-encoded).
pub fn parse_requirement(text: &str) -> Result<Requirement, String> {
    check_pep508_text(text)?;
    Requirement::from_str(text).map_err(|err| err.to_string())
}

/// Deeper than any real marker.
const MAX_MARKER_DEPTH: usize = 32;

fn check_pep508_text(text: &str) -> Result<(), String> {
    if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "a requirement may only contain ASCII characters, found `{c}`"
        ));
    }
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let leading_name = |text: &str| -> String {
        let end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
        text[..end].to_string()
    };
    let check_end = |word: String, what: &str| {
        if word.ends_with(['-', '_', '.']) {
            Err(format!("{what} `{word}` must end with a letter or digit"))
        } else {
            Ok(())
        }
    };
    let head = text.split(';').next().unwrap_or(text).trim_start();
    let name = leading_name(head);
    let rest = head[name.len()..].trim_start();
    check_end(name, "the name")?;
    if let Some(extras) = rest.strip_prefix('[') {
        for extra in extras.split(']').next().unwrap_or(extras).split(',') {
            check_end(leading_name(extra.trim_start()), "the extra")?;
        }
    }
    if let Some((_, marker)) = text.split_once(';') {
        let mut depth = 0usize;
        for c in marker.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_MARKER_DEPTH {
                return Err(format!(
                    "a marker may nest parentheses at most {MAX_MARKER_DEPTH} deep"
                ));
            }
        }
    }
    Ok(())
}

/// Whether an sdist's PKG-INFO can stand in for its built wheel's METADATA: Metadata-Version 2.2
/// or later (PEP 643) with neither Requires-Dist nor Requires-Python marked Dynamic.
pub fn pkg_info_is_static(text: &str) -> bool {
    let headers = parse_headers(text);
    let Some(version) = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("Metadata-Version"))
        .map(|(_, value)| value.trim())
    else {
        return false;
    };
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < (2, 2) {
        return false;
    }
    !headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("Dynamic")
            && (value.eq_ignore_ascii_case("Requires-Dist")
                || value.eq_ignore_ascii_case("Requires-Python"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_pep508_rs_would_panic_on_are_errors() {
        let deep = format!(
            "x; {}python_version > '3'{}",
            "(".repeat(40),
            ")".repeat(40)
        );
        for (text, error) in [
            ("lib................>=1.0", "the name `lib................`"),
            ("lib- >= 1", "the name `lib-`"),
            ("lib[extra_, b]", "the extra `extra_`"),
            ("lib [ a , b. ]", "the extra `b.`"),
            ("lib; python_version == '\u{e9}'", "ASCII"),
            // Found by the fuzzer: pep508_rs's error message cut a character in two.
            ("licccc[cccc\u{fffd}\u{fffd} text", "ASCII"),
            (deep.as_str(), "nest parentheses"),
        ] {
            let err = parse_requirement(text).unwrap_err();
            assert!(err.contains(error), "{text}: {err}");
        }
        // Found by the core_metadata fuzz target: a whole METADATA file errs, never panics.
        let metadata = "Name: app\nVersion: 1.0\nRequires-Dist: lib................>=1.0\n";
        assert!(parse_metadata(metadata.as_bytes())
            .unwrap_err()
            .contains("must end with a letter or digit"));
        for fine in [
            "lib>=1.0",
            "lib.x-y_z[a-b,c] >=1; extra == 'cli'",
            "a @ https://host/a-1.0.whl",
        ] {
            assert!(parse_requirement(fine).is_ok(), "{fine}");
        }
    }

    const METADATA: &str = "Metadata-Version: 2.1\r\n\
Name: Demo_Pkg\r\n\
Version: 1.2.0\r\n\
Summary: a demo\r\n\
Requires-Python: >=3.8\r\n\
Requires-Dist: idna (>=2.5)\r\n\
Requires-Dist: pysocks!=1.5.7,>=1.5.6;\r\n\
\t extra == 'socks'\r\n\
Requires-Dist: tomli; python_version < \"3.11\"\r\n\
Provides-Extra: socks\r\n\
Provides-Extra: Dev_Tools\r\n\
\r\n\
Requires-Dist: not-a-header (this is the description)\r\n";

    #[test]
    fn parses_the_resolver_fields() {
        let metadata = parse_metadata(METADATA.as_bytes()).unwrap();
        assert_eq!(metadata.name.to_string(), "demo-pkg");
        assert_eq!(metadata.version.to_string(), "1.2.0");
        assert_eq!(metadata.requires_python.unwrap().to_string(), ">=3.8");
        let requirements: Vec<String> = metadata
            .requires_dist
            .iter()
            .map(|r| r.name.to_string())
            .collect();
        assert_eq!(requirements, ["idna", "pysocks", "tomli"]);
        // The continuation line carried the marker.
        assert!(metadata.requires_dist[1]
            .marker
            .try_to_string()
            .unwrap()
            .contains("extra == 'socks'"));
        let extras: Vec<String> = metadata
            .provides_extras
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(extras, ["socks", "dev-tools"]);
    }

    #[test]
    fn missing_and_invalid_fields_are_named() {
        assert!(parse_metadata(b"Version: 1.0\n")
            .unwrap_err()
            .contains("Name"));
        let err = parse_metadata(b"Name: x\nVersion: 1.0\nRequires-Dist: ???\n").unwrap_err();
        assert!(err.contains("Requires-Dist `???`"), "{err}");
    }

    #[test]
    fn requires_python_is_read_leniently_as_pip_does() {
        // celery 5.2.6's METADATA.
        let metadata =
            parse_metadata(b"Name: celery\nVersion: 5.2.6\nRequires-Python: >=3.7,\n").unwrap();
        assert_eq!(metadata.requires_python.unwrap().to_string(), ">=3.7");
        assert_eq!(
            parse_requires_python(" >=3.6, , !=3.7.* ,")
                .unwrap()
                .to_string(),
            ">=3.6, !=3.7.*"
        );
        for unrestricted in ["", " , ", ">=3.x", "python3"] {
            assert_eq!(
                parse_requires_python(unrestricted),
                None,
                "{unrestricted:?}"
            );
        }
        let metadata = parse_metadata(b"Name: x\nVersion: 1.0\nRequires-Python: >=3.x\n").unwrap();
        assert_eq!(metadata.requires_python, None);
    }

    #[test]
    fn pkg_info_static_check() {
        assert!(pkg_info_is_static(
            "Metadata-Version: 2.2\nName: a\nVersion: 1\nDynamic: Description\n"
        ));
        assert!(!pkg_info_is_static(
            "Metadata-Version: 2.3\nName: a\nDynamic: Requires-Dist\n"
        ));
        assert!(!pkg_info_is_static("Metadata-Version: 2.1\nName: a\n"));
        assert!(pkg_info_is_static("Metadata-Version: 2.10\nName: a\n"));
    }
}
