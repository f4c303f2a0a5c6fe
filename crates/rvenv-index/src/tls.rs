//! The TLS side of the index client: rustls with the system's root certificates.
//!
//! Loading those certificates reads a few hundred files (the distribution's bundle, then every
//! file of its certificate directory) and takes several milliseconds, longer than all an install
//! does before its first request. So [`SystemRoots`] loads them on a thread of its own from the
//! moment a command starts, and a run that needs no network never waits for them.

use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use rustls::{ClientConfig, RootCertStore};

use crate::error::IndexError;

/// The system's root certificates, as rustls-native-certs finds them (`SSL_CERT_FILE` and
/// `SSL_CERT_DIR` when set, else the platform's store), loading in the background.
/// Cheap to clone: clones share one load.
#[derive(Clone)]
pub struct SystemRoots {
    inner: Arc<RootsInner>,
}

struct RootsInner {
    loading: Mutex<Option<JoinHandle<Loaded>>>,
    loaded: OnceLock<Loaded>,
}

/// The usable certificates, or why there are none.
type Loaded = Result<Arc<RootCertStore>, String>;

impl SystemRoots {
    /// Starts loading the certificates on a thread of its own (or, should no thread start,
    /// on the first [`SystemRoots::wait`]).
    pub fn load_in_background() -> SystemRoots {
        let thread = std::thread::Builder::new()
            .name("rvenv-tls-roots".to_string())
            .spawn(load)
            .ok();
        SystemRoots {
            inner: Arc::new(RootsInner {
                loading: Mutex::new(thread),
                loaded: OnceLock::new(),
            }),
        }
    }

    /// The certificates, once loaded.
    pub(crate) fn wait(&self) -> Result<Arc<RootCertStore>, IndexError> {
        self.inner
            .loaded
            .get_or_init(|| {
                let thread = self
                    .inner
                    .loading
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .take();
                match thread {
                    Some(thread) => thread
                        .join()
                        .unwrap_or_else(|_| Err("the thread loading them panicked".to_string())),
                    None => load(),
                }
            })
            .clone()
            .map_err(IndexError::RootCertificates)
    }
}

impl std::fmt::Debug for SystemRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.inner.loaded.get() {
            None => "loading",
            Some(Ok(_)) => "loaded",
            Some(Err(_)) => "failed",
        };
        f.debug_struct("SystemRoots")
            .field("state", &state)
            .finish()
    }
}

fn load() -> Loaded {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    // System stores often hold a few certificates rustls cannot parse (ancient roots without
    // extensions): those are skipped. A store of nothing but such certificates is an error,
    // while an empty one is not (plain-HTTP indexes need none).
    let (added, ignored) = store.add_parsable_certificates(found.certs);
    if added == 0 && ignored > 0 {
        let mut message = format!("none of the {ignored} certificates found could be parsed");
        for error in &found.errors {
            message.push_str(&format!("; {error}"));
        }
        return Err(message);
    }
    Ok(Arc::new(store))
}

/// The rustls settings of the index client: the process's default crypto provider (else ring),
/// TLS 1.2 and 1.3, the given roots, and HTTP/2 offered before HTTP/1.1.
pub(crate) fn client_config(roots: Arc<RootCertStore>) -> Result<ClientConfig, IndexError> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| IndexError::RootCertificates(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_load_and_the_system_store_has_roots() {
        let roots = SystemRoots::load_in_background();
        let first = roots.wait().unwrap();
        let second = roots.clone().wait().unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        // Every machine this runs on has a CA bundle (HTTPS to PyPI needs one).
        assert!(!first.is_empty());
    }

    #[test]
    fn the_client_config_offers_http2_first() {
        let config = client_config(Arc::new(RootCertStore::empty())).unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2");
        assert_eq!(config.alpn_protocols[1], b"http/1.1");
    }
}
