//! Which files of a project page can matter for one target, decided from file names alone, so
//! that the rest of a large page is never parsed further.

use std::collections::HashSet;

use rvenv_resolve::select::Target;

/// The target's tags, for a quick "could this wheel install here" by file name.
#[derive(Debug, Clone)]
pub(crate) struct FileFilter {
    /// `python-abi-platform`.
    tags: HashSet<String>,
    /// The platforms alone: most wheels on a page are for other systems, and this tells
    /// without building a string.
    platforms: HashSet<String>,
}

impl FileFilter {
    pub(crate) fn new(target: &Target) -> FileFilter {
        FileFilter {
            tags: target
                .tags
                .iter()
                .map(|(python, abi, platform)| format!("{python}-{abi}-{platform}"))
                .collect(),
            platforms: target
                .tags
                .iter()
                .map(|(_, _, platform)| platform.clone())
                .collect(),
        }
    }

    /// Whether one of the tags in a wheel's file name (compressed tag sets included:
    /// `py2.py3-none-any`) is one of the target's. Names that are not wheel names pass, so
    /// that whoever parses them fully decides.
    pub(crate) fn wheel_fits(&self, filename: &str) -> bool {
        let Some(stem) = filename
            .get(..filename.len().saturating_sub(4))
            .filter(|_| filename.len() > 4)
        else {
            return true;
        };
        let mut parts = stem.rsplitn(4, '-');
        let (Some(platforms), Some(abis), Some(pythons), Some(_)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return true;
        };
        if !platforms
            .split('.')
            .any(|platform| self.platforms.contains(platform))
        {
            return false;
        }
        let mut tag = String::with_capacity(64);
        for python in pythons.split('.') {
            for abi in abis.split('.') {
                for platform in platforms.split('.') {
                    tag.clear();
                    tag.push_str(python);
                    tag.push('-');
                    tag.push_str(abi);
                    tag.push('-');
                    tag.push_str(platform);
                    if self.tags.contains(tag.as_str()) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> FileFilter {
        FileFilter::new(&Target {
            tags: vec![
                (
                    "cp311".into(),
                    "cp311".into(),
                    "manylinux_2_17_x86_64".into(),
                ),
                (
                    "cp311".into(),
                    "abi3".into(),
                    "manylinux_2_17_x86_64".into(),
                ),
                ("py3".into(), "none".into(), "any".into()),
            ],
            python_full_version: "3.11.2".parse().unwrap(),
        })
    }

    #[test]
    fn wheels_by_their_tags() {
        let filter = filter();
        assert!(filter.wheel_fits("demo-1.0-py3-none-any.whl"));
        assert!(filter.wheel_fits("demo-1.0-py2.py3-none-any.whl"));
        assert!(filter
            .wheel_fits("demo-1.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"));
        assert!(filter.wheel_fits("demo-1.0-1build-cp311-abi3-manylinux_2_17_x86_64.whl"));
        assert!(!filter.wheel_fits("demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"));
        assert!(!filter.wheel_fits("demo-1.0-cp311-cp311-win_amd64.whl"));
        // Not a wheel name: left to the full parser.
        assert!(filter.wheel_fits("demo.whl"));
    }
}
