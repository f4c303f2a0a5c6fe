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
            Requirement::from_str(value)
                .map_err(|err| format!("invalid Requires-Dist `{value}`: {err}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let requires_python = match field("Requires-Python").next() {
        Some(value) if !value.trim().is_empty() => Some(
            VersionSpecifiers::from_str(value)
                .map_err(|err| format!("invalid Requires-Python `{value}`: {err}"))?,
        ),
        _ => None,
    };
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
