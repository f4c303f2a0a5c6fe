//! `--no-binary` and `--only-binary`: which packages may use wheels, which may use sdists.

use std::collections::BTreeSet;
use std::str::FromStr;

use pep508_rs::PackageName;

/// The value that stands for every package.
pub const ALL: &str = ":all:";

/// pip's format control. Each set holds normalized package names and possibly `:all:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatControl {
    /// Packages that must be built from source (`--no-binary`).
    pub no_binary: BTreeSet<String>,
    /// Packages that must come as wheels (`--only-binary`).
    pub only_binary: BTreeSet<String>,
}

/// Which kinds of distribution a package may be installed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedFormats {
    pub wheel: bool,
    pub sdist: bool,
}

/// Which of the two options a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOption {
    NoBinary,
    OnlyBinary,
}

impl FormatControl {
    /// Apply one `--no-binary` or `--only-binary` value: a comma list of names, `:all:` (every
    /// package, clearing both sets) or `:none:` (clear this option's set). A name moves from
    /// the other set to this one.
    pub fn apply(&mut self, option: BinaryOption, value: &str) -> Result<(), String> {
        let (target, other) = match option {
            BinaryOption::NoBinary => (&mut self.no_binary, &mut self.only_binary),
            BinaryOption::OnlyBinary => (&mut self.only_binary, &mut self.no_binary),
        };
        for item in value.split(',').map(str::trim) {
            match item {
                "" => {}
                ALL => {
                    other.clear();
                    target.clear();
                    target.insert(ALL.to_owned());
                }
                ":none:" => target.clear(),
                name => {
                    let name = PackageName::from_str(name)
                        .map_err(|err| format!("`{name}` is not a package name: {err}"))?
                        .to_string();
                    other.remove(&name);
                    target.insert(name);
                }
            }
        }
        Ok(())
    }

    /// What `name` may be installed from. A named entry beats `:all:`; `--only-binary` wins a tie.
    pub fn allowed(&self, name: &PackageName) -> AllowedFormats {
        let name = name.as_ref();
        let both = AllowedFormats {
            wheel: true,
            sdist: true,
        };
        let wheel_only = AllowedFormats {
            wheel: true,
            sdist: false,
        };
        let sdist_only = AllowedFormats {
            wheel: false,
            sdist: true,
        };
        if self.only_binary.contains(name) {
            wheel_only
        } else if self.no_binary.contains(name) {
            sdist_only
        } else if self.only_binary.contains(ALL) {
            wheel_only
        } else if self.no_binary.contains(ALL) {
            sdist_only
        } else {
            both
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> PackageName {
        PackageName::from_str(text).unwrap()
    }

    #[test]
    fn names_move_between_sets() {
        let mut control = FormatControl::default();
        control
            .apply(BinaryOption::NoBinary, "Foo_Bar,baz")
            .unwrap();
        control.apply(BinaryOption::OnlyBinary, "baz").unwrap();
        assert_eq!(control.no_binary, BTreeSet::from(["foo-bar".to_owned()]));
        assert_eq!(control.only_binary, BTreeSet::from(["baz".to_owned()]));
        assert_eq!(
            control.allowed(&name("foo.bar")),
            AllowedFormats {
                wheel: false,
                sdist: true
            }
        );
        assert_eq!(
            control.allowed(&name("baz")),
            AllowedFormats {
                wheel: true,
                sdist: false
            }
        );
        assert_eq!(
            control.allowed(&name("other")),
            AllowedFormats {
                wheel: true,
                sdist: true
            }
        );
    }

    #[test]
    fn all_and_none() {
        let mut control = FormatControl::default();
        control.apply(BinaryOption::NoBinary, "psycopg2").unwrap();
        control.apply(BinaryOption::OnlyBinary, ":all:").unwrap();
        assert!(control.no_binary.is_empty());
        control.apply(BinaryOption::NoBinary, "psycopg2").unwrap();
        assert_eq!(
            control.allowed(&name("psycopg2")),
            AllowedFormats {
                wheel: false,
                sdist: true
            }
        );
        assert_eq!(
            control.allowed(&name("numpy")),
            AllowedFormats {
                wheel: true,
                sdist: false
            }
        );
        control.apply(BinaryOption::OnlyBinary, ":none:").unwrap();
        assert!(control.only_binary.is_empty());
        assert!(control.apply(BinaryOption::NoBinary, "not a name").is_err());
    }
}
