//! Test-only fixtures for rvenv: wheels and sdists built in code, served by a local package index.
//!
//! - [`WheelBuilder`] writes a valid wheel (METADATA, WHEEL, entry points, RECORD) in memory, with
//!   escape hatches for broken and hostile wheels (raw paths, symlinks, duplicate entries, lying
//!   sizes, compression bombs, RECORD lies, wrong METADATA names).
//! - [`SdistBuilder`] writes a `.tar.gz` (or `.zip`) source distribution with PKG-INFO. By default
//!   it carries an in-tree PEP 517/660 backend that needs only the standard library, so tests
//!   build it offline; hostile tar entries (links, `..`, absolute paths) on request.
//! - [`IndexServer`] serves built files on 127.0.0.1 as a PEP 503/691 simple index with PEP 658
//!   metadata files, range requests, basic auth, a find-links page, a request log, and
//!   [`Fault`]s injected per path pattern.
//!
//! ```
//! use rvenv_testkit::{Fault, FaultRule, IndexServer, ServedFile, WheelBuilder};
//!
//! let app = WheelBuilder::new("app", "1.0").requires_dist("lib>=2").build();
//! let lib = WheelBuilder::new("lib", "2.0").build();
//! let server = IndexServer::builder()
//!     .file(app)
//!     .file(ServedFile::new(lib).yanked("broken"))
//!     .fault(FaultRule::first(1, "/simple/lib/", Fault::Status(503)))
//!     .start();
//! assert!(server.url().ends_with("/simple/"));
//! assert_eq!(server.request_count(), 0);
//! ```
//!
//! It is not a general-purpose library: failures panic with a message naming the file, as a test
//! helper should, and nothing here depends on another rvenv crate.

mod built;
mod sdist;
mod server;
mod wheel;

pub use built::{normalize_name, sha256_hex, write_find_links_dir, BuiltFile};
pub use sdist::SdistBuilder;
pub use server::{
    Fault, FaultRule, IndexServer, IndexServerBuilder, LinkStyle, RequestLog, ServedFile,
};
pub use wheel::{Compression, WheelBuilder};
