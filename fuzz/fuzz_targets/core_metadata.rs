//! Any bytes as a METADATA / PKG-INFO file (rvenv_resolve::parse_metadata): errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rvenv_resolve::parse_headers(&String::from_utf8_lossy(data));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = rvenv_resolve::pkg_info_is_static(text);
    }
    match rvenv_resolve::parse_metadata(data) {
        Ok(metadata) => {
            let _ = format!("{metadata:?}");
        }
        Err(err) => {
            let _ = err.len();
        }
    }
});
