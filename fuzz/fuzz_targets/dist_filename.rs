//! Any text as a wheel or sdist file name (rvenv-resolve), and as a file name the index sorts
//! into a project (rvenv-index): errors, never panics.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use pep508_rs::PackageName;
use rvenv_resolve::{SdistFilename, WheelFilename};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match WheelFilename::parse(text) {
        Ok(wheel) => {
            let _ = wheel.tags().count();
            let _ = format!("{wheel:?}");
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
    // The project is whatever precedes the first `-` (and a fixed one), as an index page
    // would give it for this file.
    let candidates = [text.split('-').next().unwrap_or(text), "pkg"];
    for project in candidates {
        let Ok(project) = PackageName::from_str(project) else {
            continue;
        };
        match SdistFilename::parse(text, &project) {
            Ok(sdist) => assert_eq!(sdist.name, project),
            Err(err) => {
                let _ = err.to_string();
            }
        }
    }
});
