//! The packages PubGrub solves for, and how their version sets read in messages.

use std::fmt;
use std::ops::Bound;

use pep440_rs::Version;
use pep508_rs::{ExtraName, PackageName};
use pubgrub::Ranges;

/// A set of versions, as PubGrub manipulates them.
pub(crate) type VersionSet = Ranges<Version>;

/// A node of the PubGrub graph. An extra is its own package that depends on its base at the same
/// version, so `fastapi[standard]` pulls in `fastapi` and the extra's own requirements.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Package {
    /// The user's request.
    Root,
    Name(PackageName),
    Extra(PackageName, ExtraName),
}

impl Package {
    pub(crate) fn name(&self) -> Option<&PackageName> {
        match self {
            Package::Root => None,
            Package::Name(name) | Package::Extra(name, _) => Some(name),
        }
    }
}

impl fmt::Display for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Package::Root => f.write_str("your requirements"),
            Package::Name(name) => write!(f, "{name}"),
            Package::Extra(name, extra) => write!(f, "{name}[{extra}]"),
        }
    }
}

/// PEP 440 bounds carry internal markers (`<1.0` excludes `1.0.dev0` through a "min" version);
/// messages show the version the user wrote.
/// Likewise `~=1.4` and `==1.*` are bounded by `.dev0` versions, shown without it.
fn plain(version: &Version) -> Version {
    let mut version = version.clone();
    if Version::min(&version).is_some() {
        version = version.with_min(None);
    }
    if Version::max(&version).is_some() {
        version = version.with_max(None);
    }
    if version.dev() == Some(0) && version.pre().is_none() && version.post().is_none() {
        version.with_dev(None)
    } else {
        version
    }
}

/// A version set in requirement syntax: `==1.0`, `>=1.0, <2.0`, `<1.0 or >=1.5`, `!=1.3`, or an
/// empty string for every version.
pub(crate) fn specifier_text(set: &VersionSet) -> String {
    if set == &VersionSet::full() {
        return String::new();
    }
    if set.is_empty() {
        return " (no version)".to_string();
    }
    if let Some(version) = set.as_singleton() {
        return format!("=={}", plain(version));
    }
    let complement = set.complement();
    if let Some(version) = complement.as_singleton() {
        return format!("!={}", plain(version));
    }
    let parts: Vec<String> = set
        .iter()
        .map(|(low, high)| {
            if let (Bound::Included(low), Bound::Included(high)) = (low, high) {
                if low == high {
                    return format!("=={}", plain(low));
                }
            }
            let low = match low {
                Bound::Included(v) => Some(format!(">={}", plain(v))),
                Bound::Excluded(v) => Some(format!(">{}", plain(v))),
                Bound::Unbounded => None,
            };
            let high = match high {
                Bound::Included(v) => Some(format!("<={}", plain(v))),
                Bound::Excluded(v) => Some(format!("<{}", plain(v))),
                Bound::Unbounded => None,
            };
            [low, high]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    parts.join(" or ")
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pep440_rs::VersionSpecifiers;

    use super::*;

    fn text(specifiers: &str) -> String {
        specifier_text(&VersionSet::from(
            VersionSpecifiers::from_str(specifiers).unwrap(),
        ))
    }

    #[test]
    fn ranges_read_like_specifiers() {
        assert_eq!(text(">=0.36.3,<0.37"), ">=0.36.3,<0.37");
        assert_eq!(text("==1.0"), "==1.0");
        assert_eq!(text("!=1.3"), "!=1.3");
        assert_eq!(text(">1.0"), ">1.0");
        assert_eq!(text(""), "");
        assert_eq!(text("~=1.4"), ">=1.4,<2");
        assert_eq!(text("==1.*"), ">=1,<2");
    }
}
