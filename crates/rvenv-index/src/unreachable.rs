//! Locations that could not be reached. pip does not fail an install because one index or
//! find-links page is down or unknown (`--extra-index-url https://download.pytorch.org/...`
//! behind a firewall, `-f ./wheels` not built yet): it says it skips it and looks on the
//! others. rvenv does the same, and says so, as long as another location answered.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::error::{error_chain, IndexError};

/// Whether `err` means the location could not be used at all (network, TLS, a server error),
/// rather than an answer about the project. Authentication failures are not skipped: their
/// hint about credentials is the useful answer, and skipping a private index for a public one
/// would pick packages from the wrong place.
pub(crate) fn is_unreachable(err: &IndexError) -> bool {
    match err {
        IndexError::Http { .. } | IndexError::Tls { .. } | IndexError::TooManyRedirects { .. } => {
            true
        }
        IndexError::Status { status, .. } => *status != 404 && *status != 410,
        _ => false,
    }
}

/// The locations skipped so far, each with why; shared by every request of a provider.
#[derive(Debug, Default)]
pub(crate) struct Skipped {
    locations: Mutex<BTreeMap<String, String>>,
}

impl Skipped {
    pub(crate) fn record(&self, location: &str, err: &IndexError) {
        if let Ok(mut locations) = self.locations.lock() {
            locations
                .entry(location.to_string())
                .or_insert_with(|| error_chain(err));
        }
    }

    /// `location: why` for each skipped location, in a stable order.
    pub(crate) fn messages(&self) -> Vec<String> {
        self.locations
            .lock()
            .map(|locations| {
                locations
                    .iter()
                    .map(|(location, why)| format!("{location}: {why}"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// For "not found" messages: which locations were not looked at.
    pub(crate) fn note(&self) -> String {
        let messages = self.messages();
        if messages.is_empty() {
            String::new()
        } else {
            format!(" (skipped, could not be reached: {})", messages.join("; "))
        }
    }
}
