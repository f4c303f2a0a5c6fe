//! Test-only fixtures for rvenv: wheels and sdists built in code, served by a local package index.
//!
//! - [`WheelBuilder`] writes a valid wheel (METADATA, WHEEL, entry points, RECORD) in memory, with
//!   escape hatches for broken and hostile wheels.
//! - [`SdistBuilder`] writes a `.tar.gz` (or `.zip`) source distribution with PKG-INFO.
//! - [`IndexServer`] serves built files on 127.0.0.1 as a PEP 503/691 simple index with PEP 658
//!   metadata files, range requests, basic auth, a find-links page, a request log and fault injection.
//!
//! It is not a general-purpose library: every failure panics with a message naming the file, as a
//! test helper should, and nothing here depends on another rvenv crate.

mod built;
mod sdist;
mod server;
mod wheel;

pub use built::{normalize_name, sha256_hex, write_find_links_dir, BuiltFile};
pub use sdist::{SdistBuilder, SdistFormat};
pub use server::{
    Fault, FaultRule, IndexServer, IndexServerBuilder, LinkStyle, RequestLog, ServedFile,
};
pub use wheel::{Compression, WheelBuilder};
