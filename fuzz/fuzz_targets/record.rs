//! Any text as a RECORD file (rvenv_install::parse_record): errors, never panics; and what
//! parses renders to text that parses back to the same rows.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut entries) = rvenv_install::parse_record(text) else {
        return;
    };
    let rendered = rvenv_install::render_record(&mut entries);
    let reparsed = rvenv_install::parse_record(&rendered).expect("rendered RECORD parses");
    // Rendering sorts the rows (in place), so the two lists line up.
    assert_eq!(reparsed, entries, "{rendered:?}");
});
