//! Any bytes, read as a requirements file, a command-line requirement and an editable:
//! the parser may return an error, never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rvenv_requirements::{parse_cli_editable, parse_cli_requirement, RequirementsTxt};

fuzz_target!(|data: &[u8]| {
    let cwd = Path::new("/nonexistent/fuzz-cwd");
    // Bytes as a file: decoding (BOMs, UTF-16), lines, options, requirements.
    if let Ok(parsed) = RequirementsTxt::parse_reader(data, cwd) {
        let _ = parsed.check_hash_mode(false);
        let _ = format!("{parsed:?}");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        match RequirementsTxt::parse_str(text, Path::new("fuzz.txt"), cwd) {
            Ok(parsed) => {
                let _ = parsed.check_hash_mode(true).map_err(|err| err.to_string());
            }
            Err(err) => {
                let _ = err.to_string();
            }
        }
        let _ = parse_cli_requirement(text, cwd).map_err(|err| err.to_string());
        let _ = parse_cli_editable(text, cwd).map_err(|err| err.to_string());
    }
});
