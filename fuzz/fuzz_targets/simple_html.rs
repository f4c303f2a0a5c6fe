//! Any text as a PEP 503 simple page or find-links page (rvenv_index::parse_html): never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let base = url::Url::parse("https://index.example/simple/pkg/").expect("a valid URL");
    for file in rvenv_index::parse_html(&html, &base) {
        assert!(!file.filename.is_empty());
        let _ = format!("{file:?}");
    }
});
