//! Any bytes as a PEP 691 JSON project page (rvenv_index::parse_json): errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://index.example/simple/pkg/").expect("a valid URL");
    if let Ok(files) = rvenv_index::parse_json(data, &base) {
        for file in files {
            let _ = format!("{file:?}");
        }
    }
});
