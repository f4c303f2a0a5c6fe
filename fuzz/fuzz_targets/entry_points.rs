//! Any text as entry_points.txt (rvenv_install::parse_entry_points): errors, never panics; and
//! every accepted launcher name is a plain file name.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = rvenv_install::parse_entry_points(text) {
        for entry in parsed.console_scripts.iter().chain(&parsed.gui_scripts) {
            assert!(
                !entry.name.contains('/') && entry.name != ".." && entry.name != ".",
                "{entry:?}"
            );
            assert!(
                !entry.module.is_empty() && !entry.object.is_empty(),
                "{entry:?}"
            );
        }
    }
});
