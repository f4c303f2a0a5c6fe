//! Just enough of distribution file names to sort files into wheels and sdists and to tell which
//! project a find-links file belongs to. Full parsing (tags) is `rvenv_resolve`'s job.

use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;
use rvenv_resolve::FileKind;

/// The source archives rvenv can build, as pip does (`.tar.bz2` is what some sdists from
/// before PEP 527 come as).
const SDIST_SUFFIXES: [&str; 6] = [".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar", ".zip"];

/// `Wheel` for `.whl`, `Sdist` for a source archive of [`SDIST_SUFFIXES`], else `None` (eggs,
/// installers, archives nothing here unpacks).
pub fn file_kind(filename: &str) -> Option<FileKind> {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".whl") {
        Some(FileKind::Wheel)
    } else if sdist_suffix(&lower).is_some() {
        Some(FileKind::Sdist)
    } else {
        None
    }
}

/// The suffix of [`SDIST_SUFFIXES`] that `lower` (a lower-case file name) ends with.
fn sdist_suffix(lower: &str) -> Option<&'static str> {
    SDIST_SUFFIXES
        .into_iter()
        .find(|suffix| lower.ends_with(suffix))
}

/// PEP 503 normalization: lower case, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_separator = false;
        }
    }
    out
}

/// Whether `filename` is a distribution of `name`: a wheel whose first field normalizes to the
/// name, or an sdist `<name>-<version>.<ext>` whose rest is a valid version.
pub fn file_belongs_to(filename: &str, name: &PackageName) -> bool {
    let wanted = name.to_string();
    match file_kind(filename) {
        Some(FileKind::Wheel) => filename
            .split('-')
            .next()
            .is_some_and(|first| normalize_name(first) == wanted),
        Some(FileKind::Sdist) => {
            let stem = sdist_stem(filename);
            // The name may itself contain separators; the version is the part after them.
            if stem.len() <= wanted.len() + 1 {
                return false;
            }
            let (head, rest) = stem.split_at(wanted.len());
            normalize_name(head) == wanted
                && rest.starts_with('-')
                && Version::from_str(&rest[1..]).is_ok()
        }
        None => false,
    }
}

fn sdist_stem(filename: &str) -> &str {
    let cut = sdist_suffix(&filename.to_ascii_lowercase()).map_or(0, str::len);
    &filename[..filename.len() - cut]
}

/// The project name of a wheel's `.dist-info` directory (`Foo_Bar-1.0.dist-info` -> `foo-bar`).
pub fn dist_info_project(dir: &str) -> Option<String> {
    let stem = dir.strip_suffix(".dist-info")?;
    let (name, _version) = stem.rsplit_once('-')?;
    Some(normalize_name(name))
}

/// Decodes `%XX` escapes; `None` when an escape is malformed.
pub fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> PackageName {
        PackageName::from_str(text).unwrap()
    }

    #[test]
    fn kinds() {
        assert_eq!(file_kind("a-1.0-py3-none-any.whl"), Some(FileKind::Wheel));
        assert_eq!(file_kind("a-1.0.tar.gz"), Some(FileKind::Sdist));
        assert_eq!(file_kind("a-1.0.ZIP"), Some(FileKind::Sdist));
        assert_eq!(file_kind("a-1.0.tar.bz2"), Some(FileKind::Sdist));
        assert_eq!(file_kind("a-1.0.tar.xz"), None);
        assert_eq!(file_kind("a-1.0-py2.7.egg"), None);
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize_name("Foo.Bar__baz-_Qux"), "foo-bar-baz-qux");
    }

    #[test]
    fn belonging() {
        let zope = name("zope.interface");
        assert!(file_belongs_to(
            "zope.interface-6.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            &zope
        ));
        assert!(file_belongs_to("zope_interface-6.0.tar.gz", &zope));
        assert!(file_belongs_to("Zope.Interface-6.0.zip", &zope));
        assert!(file_belongs_to(
            "guess_language-spirit-0.5.3.tar.bz2",
            &name("guess-language-spirit")
        ));
        assert!(!file_belongs_to("zope.interface.extra-1.0.tar.gz", &zope));
        assert!(!file_belongs_to("zope-1.0.tar.gz", &zope));
        assert!(!file_belongs_to(
            "zope_interface_x-1.0-py3-none-any.whl",
            &zope
        ));
    }

    #[test]
    fn dist_info_names() {
        assert_eq!(
            dist_info_project("Foo_Bar-1.0.dist-info").as_deref(),
            Some("foo-bar")
        );
        assert_eq!(dist_info_project("foo.data"), None);
    }
}
