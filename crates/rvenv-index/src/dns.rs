//! Host name lookups, once per host and run.
//!
//! An install opens many connections at once to the same few hosts (the index and its file
//! host). Left to itself, every connection asks the system resolver again; a burst of identical
//! UDP queries loses one now and then, and glibc waits its 5-second timeout before asking again:
//! measured here, two cold resolutions in five stalled for 5 s. One shared lookup per host avoids
//! the burst.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, FutureExt, Shared};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

type Lookup = Shared<BoxFuture<'static, Result<Arc<Vec<SocketAddr>>, Arc<std::io::Error>>>>;

/// A [`Resolve`] that shares one system lookup per host name among all connections. Failed
/// lookups are forgotten, so a later connection asks again.
#[derive(Default)]
pub(crate) struct SharedLookups {
    lookups: Mutex<HashMap<String, Lookup>>,
}

impl SharedLookups {
    fn lookup(self: &Arc<Self>, host: &str) -> Lookup {
        let mut lookups = self
            .lookups
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(lookup) = lookups.get(host) {
            return lookup.clone();
        }
        let name = host.to_string();
        let this = Arc::clone(self);
        let lookup = async move {
            // The port is replaced by the connector; 0 asks for addresses only.
            let result = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map(|addrs| Arc::new(addrs.collect::<Vec<_>>()))
                .map_err(Arc::new);
            if result.is_err() {
                let mut lookups = this
                    .lookups
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                lookups.remove(&name);
            }
            result
        }
        .boxed()
        .shared();
        lookups.insert(host.to_string(), lookup.clone());
        lookup
    }
}

/// The resolver handed to reqwest: a cheap handle on the shared table.
#[derive(Clone, Default)]
pub(crate) struct SharedResolver(Arc<SharedLookups>);

impl Resolve for SharedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.0.lookup(name.as_str());
        Box::pin(async move {
            let addrs =
                lookup
                    .await
                    .map_err(|err| -> Box<dyn std::error::Error + Send + Sync> {
                        Box::new(std::io::Error::new(err.kind(), err.to_string()))
                    })?;
            let addrs: Addrs = Box::new(addrs.as_ref().clone().into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_lookups_of_one_host_share_one_answer() {
        let resolver = SharedResolver::default();
        let names = (0..8).map(|_| resolver.resolve("localhost".parse().unwrap()));
        let answers = futures::future::join_all(names).await;
        for answer in answers {
            let addrs: Vec<SocketAddr> = answer.unwrap().collect();
            assert!(
                addrs.iter().any(|addr| addr.ip().is_loopback()),
                "{addrs:?}"
            );
        }
        assert_eq!(resolver.0.lookups.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn failed_lookups_are_not_kept() {
        let resolver = SharedResolver::default();
        let result = resolver
            .resolve("no-such-host.invalid".parse().unwrap())
            .await;
        assert!(result.is_err());
        assert!(resolver.0.lookups.lock().unwrap().is_empty());
    }
}
