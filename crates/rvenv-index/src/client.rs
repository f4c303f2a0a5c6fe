//! The HTTP client shared by every index request: one connection pool, credentials per origin,
//! redirects followed by hand (so credentials stay with their host), retries with backoff.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, LOCATION, RANGE};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::auth::{AuthStore, CredentialSource};
use crate::error::IndexError;
use crate::netrc::Netrc;
use crate::redact::{redact_url, strip_credentials};
use crate::tls::SystemRoots;
use rvenv_resolve::DistFile;

const MAX_REDIRECTS: usize = 10;

/// How the client talks to the network.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Longest wait for the next bytes of a response (not a whole-request deadline).
    pub read_timeout: Duration,
    /// Longest wait to open a connection.
    pub connect_timeout: Duration,
    /// Attempts per request on connection errors and 5xx answers (at least 1).
    pub tries: u32,
    /// Requests in flight at once.
    pub max_concurrent_requests: usize,
    pub user_agent: String,
    /// The root certificates, already loading; `None` starts loading them with the client.
    pub roots: Option<SystemRoots>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            read_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(30),
            tries: 3,
            max_concurrent_requests: 64,
            user_agent: format!("rvenv/{}", env!("CARGO_PKG_VERSION")),
            roots: None,
        }
    }
}

/// An async HTTP client for package indexes. Cheap to clone (one shared pool).
#[derive(Clone)]
pub struct IndexClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    /// Built at the first request, once the root certificates are loaded.
    http: OnceLock<reqwest::Client>,
    roots: SystemRoots,
    auth: AuthStore,
    options: ClientOptions,
    limit: Arc<Semaphore>,
}

/// A response read to the end.
#[derive(Debug)]
pub(crate) struct FullResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The URL that answered, after redirects (base for relative links).
    pub url: Url,
}

/// A response whose body is still to be read; holds a concurrency slot until dropped.
pub(crate) struct StreamingResponse {
    pub response: reqwest::Response,
    pub url: Url,
    _permit: OwnedSemaphorePermit,
}

impl IndexClient {
    /// A client with credentials from netrc (`$NETRC`, else `~/.netrc`) besides those in URLs.
    pub fn new(options: ClientOptions) -> Result<IndexClient, IndexError> {
        let netrc = Netrc::from_env()?;
        IndexClient::with_netrc(options, netrc)
    }

    /// A client with the given netrc (or none).
    pub fn with_netrc(
        options: ClientOptions,
        netrc: Option<Netrc>,
    ) -> Result<IndexClient, IndexError> {
        let roots = options
            .roots
            .clone()
            .unwrap_or_else(SystemRoots::load_in_background);
        let limit = Arc::new(Semaphore::new(options.max_concurrent_requests.max(1)));
        Ok(IndexClient {
            inner: Arc::new(ClientInner {
                http: OnceLock::new(),
                roots,
                auth: AuthStore::new(netrc),
                options,
                limit,
            }),
        })
    }

    /// The HTTP client, built at the first call: rustls with the system's roots, proxies from
    /// the environment (reqwest's default), redirects left to [`IndexClient`].
    fn http(&self) -> Result<&reqwest::Client, IndexError> {
        if let Some(http) = self.inner.http.get() {
            return Ok(http);
        }
        let tls = crate::tls::client_config(self.inner.roots.wait()?)?;
        let options = &self.inner.options;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .user_agent(options.user_agent.clone())
            .read_timeout(options.read_timeout)
            .connect_timeout(options.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .pool_max_idle_per_host(32)
            .dns_resolver(Arc::new(crate::dns::SharedResolver::default()))
            .build()
            .map_err(IndexError::ClientBuild)?;
        // Requests racing to be first may each build one: the first stored is kept.
        Ok(self.inner.http.get_or_init(|| http))
    }

    /// Remembers the credentials in `url` for its origin; returns the URL without them.
    pub fn register_credentials(&self, url: &Url) -> Url {
        self.inner.auth.register(url)
    }

    /// Where the credentials sent to `url` come from.
    pub fn credential_source(&self, url: &Url) -> CredentialSource {
        self.inner.auth.source_for(url)
    }

    /// GET `url` and read the whole body. Retries connection errors, 5xx and 429; follows
    /// redirects. Any status is returned as is; `file://` URLs read local files (200 or 404).
    pub(crate) async fn get_bytes(
        &self,
        url: &Url,
        headers: HeaderMap,
    ) -> Result<FullResponse, IndexError> {
        if url.scheme() == "file" {
            return read_local(url);
        }
        let tries = self.inner.options.tries.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let streaming = self.send_with_retries(url, &headers).await?;
            let status = streaming.response.status();
            let response_headers = streaming.response.headers().clone();
            let final_url = streaming.url.clone();
            match streaming.response.bytes().await {
                Ok(body) => {
                    return Ok(FullResponse {
                        status,
                        headers: response_headers,
                        // Takes the buffer over instead of copying it (pages run to megabytes).
                        body: body.into(),
                        url: final_url,
                    });
                }
                Err(err) if attempt < tries => {
                    let _ = err;
                    backoff(attempt).await;
                }
                Err(err) => return Err(classify(err, &final_url)),
            }
        }
    }

    /// GET a whole file that is not part of an index (a requirements file named by URL), with
    /// the same credentials, redirects and retries. An answer other than 2xx is an error.
    pub async fn get_file(&self, url: &Url) -> Result<Vec<u8>, IndexError> {
        let response = self.get_bytes(url, HeaderMap::new()).await?;
        if !response.status.is_success() {
            return Err(IndexError::Status {
                url: redact_url(url),
                status: response.status.as_u16(),
            });
        }
        Ok(response.body)
    }

    /// GET `url` with a `Range: bytes=...` header.
    pub(crate) async fn get_range(
        &self,
        url: &Url,
        range: &str,
    ) -> Result<FullResponse, IndexError> {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(range).map_err(|_| IndexError::Status {
            url: redact_url(url),
            status: 0,
        })?;
        headers.insert(RANGE, value);
        self.get_bytes(url, headers).await
    }

    /// Sends a GET, following redirects, retrying connection errors and 5xx/429.
    pub(crate) async fn send_with_retries(
        &self,
        url: &Url,
        headers: &HeaderMap,
    ) -> Result<StreamingResponse, IndexError> {
        let http = self.http()?;
        let tries = self.inner.options.tries.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send_following_redirects(http, url, headers).await {
                Ok(streaming) => {
                    let status = streaming.response.status();
                    let retryable =
                        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    if retryable && attempt < tries {
                        drop(streaming);
                        backoff(attempt).await;
                        continue;
                    }
                    return Ok(streaming);
                }
                Err((err, at)) => {
                    let retryable = (err.is_connect() || err.is_timeout() || err.is_request())
                        && !is_tls_error(&err);
                    if retryable && attempt < tries {
                        backoff(attempt).await;
                        continue;
                    }
                    return Err(classify(err, &at));
                }
            }
        }
    }

    async fn send_following_redirects(
        &self,
        http: &reqwest::Client,
        url: &Url,
        headers: &HeaderMap,
    ) -> Result<StreamingResponse, (reqwest::Error, Url)> {
        let permit = Arc::clone(&self.inner.limit)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let mut current = url.clone();
        let mut redirects = 0;
        loop {
            // Credentials are chosen for the URL being requested, never carried over from the
            // URL that redirected here.
            let credentials = self.inner.auth.for_url(&current);
            let target = strip_credentials(&current);
            let mut request = http.get(target).headers(headers.clone());
            if let Some(credentials) = credentials {
                request = request.basic_auth(credentials.username, credentials.password);
            }
            let response = request
                .send()
                .await
                .map_err(|err| (err.without_url(), current.clone()))?;
            let status = response.status();
            let is_redirect = matches!(
                status,
                StatusCode::MOVED_PERMANENTLY
                    | StatusCode::FOUND
                    | StatusCode::SEE_OTHER
                    | StatusCode::TEMPORARY_REDIRECT
                    | StatusCode::PERMANENT_REDIRECT
            );
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| current.join(location).ok());
            match location {
                Some(next) if is_redirect && redirects < MAX_REDIRECTS => {
                    redirects += 1;
                    // Userinfo in a Location header is not trusted either.
                    current = strip_credentials(&next);
                }
                _ => {
                    return Ok(StreamingResponse {
                        response,
                        url: current,
                        _permit: permit,
                    })
                }
            }
        }
    }

    /// Downloads `file` to `dest` (through a temporary file next to it), checking its sha256
    /// when the index gave one. Returns the sha256 of what was written.
    pub async fn download(&self, file: &DistFile, dest: &Path) -> Result<String, IndexError> {
        if file.url.scheme() == "file" {
            let source = file.url.to_file_path().map_err(|()| IndexError::Status {
                url: redact_url(&file.url),
                status: 404,
            })?;
            let bytes = fs_err::read(&source)?;
            let digest = hex(&Sha256::digest(&bytes));
            check_sha256(file, &digest)?;
            write_atomic(dest, &bytes)?;
            return Ok(digest);
        }
        // A connection that breaks mid-body (reset, cut short, stalled past the read timeout)
        // is worth a fresh request, as a refused connection is; a wrong hash is not.
        let tries = self.inner.options.tries.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let streaming = self.send_with_retries(&file.url, &HeaderMap::new()).await?;
            let status = streaming.response.status();
            if !status.is_success() {
                return Err(self.status_error(&streaming.url, status));
            }
            match download_body(streaming, file, dest).await {
                Err(IndexError::Http { .. }) if attempt < tries => backoff(attempt).await,
                result => return result,
            }
        }
    }

    /// The error for an unexpected status (401/403 name the credentials' source).
    pub(crate) fn status_error(&self, url: &Url, status: StatusCode) -> IndexError {
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            IndexError::Auth {
                url: redact_url(url),
                index: None,
                status: status.as_u16(),
                credentials: self.credential_source(url),
            }
        } else {
            IndexError::Status {
                url: redact_url(url),
                status: status.as_u16(),
            }
        }
    }
}

/// Streams a response body to `dest` (via a temp file), hashing as it goes.
pub(crate) async fn download_body(
    streaming: StreamingResponse,
    file: &DistFile,
    dest: &Path,
) -> Result<String, IndexError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let temp = tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(dir)
        .map_err(|err| with_path(err, dir))?;
    let (std_file, temp_path) = temp.into_parts();
    let mut out = tokio::fs::File::from_std(std_file);
    let mut hasher = Sha256::new();
    let mut response = streaming.response;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                hasher.update(&chunk);
                out.write_all(&chunk)
                    .await
                    .map_err(|err| with_path(err, &temp_path))?;
            }
            Ok(None) => break,
            Err(err) => return Err(classify(err.without_url(), &streaming.url)),
        }
    }
    out.flush()
        .await
        .map_err(|err| with_path(err, &temp_path))?;
    drop(out);
    let digest = hex(&hasher.finalize());
    check_sha256(file, &digest)?;
    temp_path
        .persist(dest)
        .map_err(|err| with_path(err.error, dest))?;
    Ok(digest)
}

fn check_sha256(file: &DistFile, actual: &str) -> Result<(), IndexError> {
    for hash in &file.hashes {
        if hash.algorithm == "sha256" && !hash.digest.eq_ignore_ascii_case(actual) {
            return Err(IndexError::HashMismatch {
                url: redact_url(&file.url),
                expected: hash.digest.clone(),
                actual: actual.to_string(),
            });
        }
    }
    Ok(())
}

fn with_path(err: std::io::Error, path: &Path) -> IndexError {
    IndexError::Io(std::io::Error::new(
        err.kind(),
        format!("{err} (at {})", path.display()),
    ))
}

/// Writes `bytes` to `dest` through a temporary file and a rename.
pub(crate) fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<(), IndexError> {
    use std::io::Write;
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|err| with_path(err, dir))?;
    temp.write_all(bytes)
        .map_err(|err| with_path(err, temp.path()))?;
    temp.persist(dest)
        .map_err(|err| with_path(err.error, dest))?;
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

fn read_local(url: &Url) -> Result<FullResponse, IndexError> {
    let Ok(mut path) = url.to_file_path() else {
        return Err(IndexError::Status {
            url: redact_url(url),
            status: 404,
        });
    };
    if path.is_dir() {
        path = path.join("index.html");
    }
    let (status, body) = match fs_err::read(&path) {
        Ok(body) => (StatusCode::OK, body),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            (StatusCode::NOT_FOUND, Vec::new())
        }
        Err(err) => return Err(err.into()),
    };
    let mut headers = HeaderMap::new();
    if path.extension().is_some_and(|ext| ext == "json") {
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.pypi.simple.v1+json"),
        );
    }
    Ok(FullResponse {
        status,
        headers,
        body,
        url: url.clone(),
    })
}

async fn backoff(attempt: u32) {
    // 200 ms, 600 ms, 1.8 s, ...; a little jitter spreads retries of parallel requests.
    let base = 200u64 * 3u64.pow(attempt.saturating_sub(1).min(5));
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_millis())
            .unwrap_or(0)
            % 100,
    );
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

fn is_tls_error(err: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(cause) = source {
        let text = cause.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            return true;
        }
        source = cause.source();
    }
    false
}

pub(crate) fn classify(err: reqwest::Error, url: &Url) -> IndexError {
    if is_tls_error(&err) {
        IndexError::Tls {
            url: redact_url(url),
            source: err,
        }
    } else {
        IndexError::Http {
            url: redact_url(url),
            source: err,
        }
    }
}
