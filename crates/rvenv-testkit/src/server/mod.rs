//! A local package index on 127.0.0.1, one thread per connection, for tests.

mod connection;
mod fault;
mod http;
mod pages;
mod routes;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;

pub use fault::{Fault, FaultRule};

use crate::built::BuiltFile;

/// A file on the index with what the index says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedFile {
    pub file: BuiltFile,
    /// PEP 592: `Some("")` is yanked without a reason.
    pub yanked: Option<String>,
    /// What the index announces as `requires-python`; by default the file's own Requires-Python.
    pub requires_python: Option<String>,
    /// Whether the PEP 658 metadata file is served and announced (wheels only, by default).
    pub serve_metadata: bool,
}

impl ServedFile {
    pub fn new(file: BuiltFile) -> Self {
        let requires_python = file
            .metadata
            .lines()
            .find_map(|line| line.strip_prefix("Requires-Python:"))
            .map(|value| value.trim().to_string());
        let serve_metadata = file.is_wheel();
        Self {
            file,
            yanked: None,
            requires_python,
            serve_metadata,
        }
    }

    /// Marks the file yanked with this reason (`""` for none).
    pub fn yanked(mut self, reason: &str) -> Self {
        self.yanked = Some(reason.to_string());
        self
    }

    /// Announces this `requires-python` (which may differ from the file's metadata).
    pub fn requires_python(mut self, specifiers: &str) -> Self {
        self.requires_python = Some(specifiers.to_string());
        self
    }

    /// Announces no `requires-python`.
    pub fn without_requires_python(mut self) -> Self {
        self.requires_python = None;
        self
    }

    /// Neither serves nor announces the PEP 658 metadata file.
    pub fn without_metadata(mut self) -> Self {
        self.serve_metadata = false;
        self
    }

    /// Serves and announces the metadata file (for an sdist too).
    pub fn with_metadata(mut self) -> Self {
        self.serve_metadata = true;
        self
    }
}

impl From<BuiltFile> for ServedFile {
    fn from(file: BuiltFile) -> Self {
        ServedFile::new(file)
    }
}

/// How pages link to files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LinkStyle {
    /// `http://127.0.0.1:PORT/files/NAME` (as PyPI does, to its file host).
    #[default]
    Absolute,
    /// `/files/NAME`
    RootRelative,
    /// `../../files/NAME` from a project page, `../files/NAME` from the find-links page.
    Relative,
    /// `BASE/files/NAME` on another server (e.g. a second `IndexServer` holding the same files).
    OtherHost(String),
}

/// Which page formats the simple index speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Formats {
    /// JSON or HTML by the Accept header.
    #[default]
    Both,
    /// HTML whatever the client asks.
    HtmlOnly,
    /// JSON, and 406 to clients that do not accept it.
    JsonOnly,
}

/// What the project pages do with a name that is not normalized (`/simple/My_Pkg/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum UnnormalizedNames {
    #[default]
    Redirect,
    NotFound,
}

#[derive(Debug, Clone, Default)]
struct Config {
    formats: Formats,
    ranges: bool,
    metadata: bool,
    basic_auth: Option<(String, String)>,
    link_style: LinkStyle,
    unnormalized: UnnormalizedNames,
    cache_control: String,
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLog {
    pub method: String,
    /// The request target as sent (path and query).
    pub path: String,
    /// The Range header, if any.
    pub range: Option<String>,
    /// Whether an Authorization header was sent (right or wrong).
    pub authorization: bool,
    /// The Accept header, if any.
    pub accept: Option<String>,
}

/// Configures an [`IndexServer`].
#[derive(Debug, Clone)]
pub struct IndexServerBuilder {
    files: Vec<ServedFile>,
    config: Config,
    faults: Vec<FaultRule>,
}

impl IndexServerBuilder {
    /// Adds a file (a [`BuiltFile`] or a [`ServedFile`] with options).
    pub fn file(mut self, file: impl Into<ServedFile>) -> Self {
        self.files.push(file.into());
        self
    }

    pub fn files<F: Into<ServedFile>>(mut self, files: impl IntoIterator<Item = F>) -> Self {
        self.files.extend(files.into_iter().map(Into::into));
        self
    }

    /// Serves PEP 503 HTML whatever the Accept header says (a legacy index).
    pub fn html_only(mut self) -> Self {
        self.config.formats = Formats::HtmlOnly;
        self
    }

    /// Serves PEP 691 JSON only; clients that do not accept it get 406.
    pub fn json_only(mut self) -> Self {
        self.config.formats = Formats::JsonOnly;
        self
    }

    /// Ignores Range headers: always 200 with the whole file, no `Accept-Ranges`.
    pub fn no_range(mut self) -> Self {
        self.config.ranges = false;
        self
    }

    /// Serves and announces no PEP 658 metadata files at all.
    pub fn no_metadata(mut self) -> Self {
        self.config.metadata = false;
        self
    }

    /// Requires HTTP basic auth on every path; others get 401 with `WWW-Authenticate`.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.config.basic_auth = Some((user.to_string(), password.to_string()));
        self
    }

    pub fn link_style(mut self, style: LinkStyle) -> Self {
        self.config.link_style = style;
        self
    }

    /// Answers non-normalized project names with 404 instead of a 301 to the normalized name.
    pub fn unnormalized_names_not_found(mut self) -> Self {
        self.config.unnormalized = UnnormalizedNames::NotFound;
        self
    }

    /// The Cache-Control header of simple pages (default `max-age=0, must-revalidate`).
    pub fn cache_control(mut self, value: &str) -> Self {
        self.config.cache_control = value.to_string();
        self
    }

    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Binds 127.0.0.1 on a free port and serves in background threads until dropped.
    ///
    /// Panics if no port can be bound.
    pub fn start(self) -> IndexServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|err| panic!("rvenv-testkit: cannot bind a port on 127.0.0.1: {err}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|err| panic!("rvenv-testkit: the listener has no address: {err}"));
        let state = Arc::new(State {
            base_url: format!("http://{addr}"),
            config: self.config,
            files: RwLock::new(self.files),
            faults: Mutex::new(self.faults),
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            connections: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
        });
        let accept_state = Arc::clone(&state);
        let accept_thread = std::thread::Builder::new()
            .name(format!("testkit-index-{}", addr.port()))
            .spawn(move || connection::accept_loop(listener, accept_state))
            .unwrap_or_else(|err| panic!("rvenv-testkit: cannot spawn the server thread: {err}"));
        IndexServer {
            addr,
            state,
            accept_thread: Some(accept_thread),
        }
    }
}

/// State shared by the server's threads.
#[derive(Debug)]
struct State {
    base_url: String,
    config: Config,
    files: RwLock<Vec<ServedFile>>,
    faults: Mutex<Vec<FaultRule>>,
    log: Mutex<Vec<RequestLog>>,
    stop: AtomicBool,
    /// Open connections, so dropping the server can close them.
    connections: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
}

/// A poisoned lock only means another test thread panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A package index served on 127.0.0.1 until dropped.
///
/// Paths: `/simple/` (root), `/simple/<name>/` (PEP 503 HTML or PEP 691 JSON by Accept),
/// `/files/<filename>` (with Range support), `/files/<filename>.metadata` (PEP 658),
/// `/links/` (a flat find-links page).
#[derive(Debug)]
pub struct IndexServer {
    addr: SocketAddr,
    state: Arc<State>,
    accept_thread: Option<JoinHandle<()>>,
}

impl IndexServer {
    pub fn builder() -> IndexServerBuilder {
        IndexServerBuilder {
            files: Vec::new(),
            config: Config {
                ranges: true,
                metadata: true,
                cache_control: "max-age=0, must-revalidate".to_string(),
                ..Config::default()
            },
            faults: Vec::new(),
        }
    }

    /// Serves these files with the default options.
    pub fn start<F: Into<ServedFile>>(files: impl IntoIterator<Item = F>) -> Self {
        Self::builder().files(files).start()
    }

    /// The simple index URL, `http://127.0.0.1:PORT/simple/`.
    pub fn url(&self) -> String {
        format!("{}/simple/", self.state.base_url)
    }

    /// The simple index URL with credentials: `http://USER:PASSWORD@127.0.0.1:PORT/simple/`.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}/simple/", self.addr)
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// `http://localhost:PORT`: the same server under another host name, for tests where a
    /// redirect or link must lead to a different host (credentials must not follow).
    pub fn localhost_base_url(&self) -> String {
        format!("http://localhost:{}", self.addr.port())
    }

    /// The flat find-links page, `http://127.0.0.1:PORT/links/`.
    pub fn find_links_url(&self) -> String {
        format!("{}/links/", self.state.base_url)
    }

    /// Where a file is served, `http://127.0.0.1:PORT/files/NAME`.
    pub fn file_url(&self, filename: &str) -> String {
        format!("{}/files/{filename}", self.state.base_url)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestLog> {
        lock(&self.state.log).clone()
    }

    pub fn request_count(&self) -> usize {
        lock(&self.state.log).len()
    }

    /// Forgets the requests so far.
    pub fn clear_requests(&self) {
        lock(&self.state.log).clear();
    }

    /// Adds a file while serving (a new release appearing).
    pub fn add_file(&self, file: impl Into<ServedFile>) {
        self.state
            .files
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(file.into());
    }

    /// Adds a fault rule while serving; rules are tried in the order they were added.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.state.faults).push(rule);
    }

    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }
}

impl Drop for IndexServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
        for (_, stream) in lock(&self.state.connections).drain() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

#[cfg(test)]
mod tests;
