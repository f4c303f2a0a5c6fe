//! `entry_points.txt`: the `console_scripts` and `gui_scripts` sections that become launchers.
//!
//! > `name = module:qualname [extras]` [...] the object reference points to a module and an
//! > object within it, separated by a colon.

/// One launcher to write: `name = module:object.attr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    pub name: String,
    pub module: String,
    /// The dotted object path after the colon, e.g. `main` or `cli.run`.
    pub object: String,
}

/// The launchers a wheel declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryPoints {
    pub console_scripts: Vec<EntryPoint>,
    pub gui_scripts: Vec<EntryPoint>,
}

/// Parses the text of `entry_points.txt`; errors name the offending line's key.
pub fn parse_entry_points(text: &str) -> Result<EntryPoints, (String, String)> {
    let mut parsed = EntryPoints::default();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let target = match section.as_str() {
            "console_scripts" => &mut parsed.console_scripts,
            "gui_scripts" => &mut parsed.gui_scripts,
            _ => continue,
        };
        let Some((name, value)) = line.split_once('=') else {
            return Err((line.to_string(), "expected `name = module:object`".into()));
        };
        let entry = parse_one(name.trim(), value.trim()).map_err(|e| (line.to_string(), e))?;
        target.push(entry);
    }
    Ok(parsed)
}

fn parse_one(name: &str, value: &str) -> Result<EntryPoint, String> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || name.starts_with('-')
    {
        return Err(format!("`{name}` is not a usable script file name"));
    }
    // Extras (`[name]`) only matter to the tools that check them; the launcher ignores them.
    let reference = value.split('[').next().unwrap_or(value).trim();
    let Some((module, object)) = reference.split_once(':') else {
        return Err("a callable is required (`module:function`)".into());
    };
    let (module, object) = (module.trim(), object.trim());
    if !is_dotted_identifier(module) || !is_dotted_identifier(object) {
        return Err(format!(
            "`{reference}` is not a valid `module:object` reference"
        ));
    }
    Ok(EntryPoint {
        name: name.to_string(),
        module: module.to_string(),
        object: object.to_string(),
    })
}

/// Python identifiers joined by dots. Checked strictly because the parts are written into the
/// launcher's source code.
fn is_dotted_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_and_skips_others() {
        let text = "[console_scripts]\ntool = pkg.cli:main [extra]\n# note\n\n\
                    [gui_scripts]\ngtool=pkg.gui:App.run\n[other]\nx = not valid at all\n";
        let parsed = parse_entry_points(text).unwrap();
        assert_eq!(
            parsed.console_scripts,
            vec![EntryPoint {
                name: "tool".into(),
                module: "pkg.cli".into(),
                object: "main".into()
            }]
        );
        assert_eq!(parsed.gui_scripts[0].object, "App.run");
    }

    #[test]
    fn rejects_unsafe_or_incomplete_entries() {
        for bad in [
            "[console_scripts]\ntool = pkg.cli\n",
            "[console_scripts]\n../evil = pkg:main\n",
            "[console_scripts]\ntool = pkg:main; import os\n",
            "[console_scripts]\ntool\n",
        ] {
            assert!(parse_entry_points(bad).is_err(), "{bad}");
        }
    }
}
