//! Scripts that start Python: `#!python` rewriting and entry-point launchers.

use std::path::Path;

use crate::entry_points::EntryPoint;

/// Linux reads at most this many bytes of a `#!` line (macOS: 512); longer or space-containing
/// interpreter paths need the `/bin/sh` form.
#[cfg(target_os = "macos")]
const MAX_SHEBANG: usize = 512;
#[cfg(not(target_os = "macos"))]
const MAX_SHEBANG: usize = 127;

/// The first line(s) of a script run by `python`: a plain `#!` line when the kernel can run it,
/// else a `/bin/sh` header that re-executes the file with `python` and that Python itself reads
/// as a harmless string literal.
pub(crate) fn shebang(python: &Path) -> String {
    let python = python.to_string_lossy();
    // `#!`, the path, the newline.
    if python.len() + 3 <= MAX_SHEBANG && !python.contains([' ', '\t']) {
        return format!("#!{python}\n");
    }
    let mut quoted = String::with_capacity(python.len() + 2);
    for c in python.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    // sh runs `exec "python" "$0" "$@"`; Python sees a string expression and skips it.
    format!("#!/bin/sh\n'''exec' \"{quoted}\" \"$0\" \"$@\"\n' '''\n")
}

/// A `console_scripts`/`gui_scripts` launcher: imports the entry point's object and exits with
/// its return value.
pub(crate) fn launcher(python: &Path, entry: &EntryPoint) -> String {
    let (import_name, call) = match entry.object.split_once('.') {
        Some((first, _)) => (first, entry.object.as_str()),
        None => (entry.object.as_str(), entry.object.as_str()),
    };
    format!(
        "{shebang}# -*- coding: utf-8 -*-\n\
         import sys\n\
         from {module} import {import_name}\n\
         if __name__ == \"__main__\":\n    \
             sys.exit({call}())\n",
        shebang = shebang(python),
        module = entry.module,
    )
}

/// > If the first line of a file in scripts/ starts with exactly `b'#!python'`, rewrite to point
/// > to the correct interpreter.
///
/// Like pip, the whole first line is replaced (`#!pythonw -u` included). `None` when the script
/// does not start with `#!python`.
pub(crate) fn rewrite_python_shebang(content: &[u8], python: &Path) -> Option<Vec<u8>> {
    if !content.starts_with(b"#!python") {
        return None;
    }
    let rest = match content.iter().position(|&b| b == b'\n') {
        Some(newline) => &content[newline + 1..],
        None => &[][..],
    };
    let mut rewritten = shebang(python).into_bytes();
    rewritten.extend_from_slice(rest);
    Some(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn short_paths_get_a_plain_shebang() {
        assert_eq!(
            shebang(Path::new("/venv/bin/python")),
            "#!/venv/bin/python\n"
        );
        let exactly = PathBuf::from(format!("/{}", "p".repeat(123)));
        assert!(shebang(&exactly).starts_with("#!/p"));
        let over = PathBuf::from(format!("/{}", "p".repeat(124)));
        assert!(shebang(&over).starts_with("#!/bin/sh\n"));
    }

    #[test]
    fn spaces_get_the_sh_form_quoted() {
        let text = shebang(Path::new("/my venv/bin/python"));
        assert_eq!(
            text,
            "#!/bin/sh\n'''exec' \"/my venv/bin/python\" \"$0\" \"$@\"\n' '''\n"
        );
    }

    #[test]
    fn launcher_calls_nested_objects() {
        let entry = EntryPoint {
            name: "tool".into(),
            module: "pkg.cli".into(),
            object: "App.run".into(),
        };
        let text = launcher(Path::new("/v/bin/python"), &entry);
        assert!(text.starts_with("#!/v/bin/python\n"));
        assert!(text.contains("from pkg.cli import App\n"));
        assert!(text.contains("sys.exit(App.run())"));
    }

    #[test]
    fn rewrites_only_python_shebangs() {
        let python = Path::new("/v/bin/python");
        assert_eq!(
            rewrite_python_shebang(b"#!pythonw -u\nprint(1)\n", python).unwrap(),
            b"#!/v/bin/python\nprint(1)\n"
        );
        assert!(rewrite_python_shebang(b"#!/bin/sh\necho\n", python).is_none());
        assert!(rewrite_python_shebang(b"#! python\n", python).is_none());
    }
}
