//! Fetches and caches the JWK sets of trusted external OIDC issuers (a Kubernetes API server, a
//! public identity provider's `jwks_uri`), so that federated workload identity can verify the
//! tokens those issuers sign.
//!
//! The fetch is deliberately narrow because its answer decides whose tokens are trusted: HTTPS
//! only, one GET, no redirects followed, one overall deadline, a bounded body, and trust in exactly
//! the configured CA certificates (the system trust store only when none are configured). It must
//! not follow anything the remote side says, and its errors name the remote host but never quote
//! what the remote side sent. The cache reads no clock: callers pass `now` in Unix seconds.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::body::{Body, Bytes, Incoming};
use hyper::{header, Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The deadline for one whole fetch: connect, handshake, request and body.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest JWK set accepted; real ones are a few KiB.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// How long a fetched set is served without asking the issuer again.
pub const FRESH_SECS: i64 = 10 * 60;
/// How long a set is still served after refetching it fails.
pub const STALE_SECS: i64 = 24 * 60 * 60;
/// The least interval between refetches prompted by a token with an unknown `kid`.
pub const UNKNOWN_KID_INTERVAL_SECS: i64 = 30;
/// After a failed fetch, how long callers get the stale set (or the error) without a new attempt,
/// so an unreachable issuer does not make every token check wait for the fetch deadline.
pub const FAILURE_BACKOFF_SECS: i64 = 30;
/// The most credentials whose sets are cached at once; the least recently used one goes first.
pub const MAX_ENTRIES: usize = 1_000;

/// Where a federated credential's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSource {
    /// The `https` URL of the JWK set.
    pub url: String,
    /// PEM CA certificates that alone are trusted for `url`; `None` means the system trust store.
    pub ca_pem: Option<String>,
}

impl JwksSource {
    /// Checks what can be checked without the network (the URL, the CA certificates), so a
    /// credential that could never be fetched is refused when it is configured.
    pub fn check(&self) -> Result<(), FetchError> {
        let target = Target::parse(&self.url)?;
        if let Some(pem) = &self.ca_pem {
            private_trust(pem, &target.authority)?;
        }
        Ok(())
    }
}

/// Why a JWK set could not be fetched. Messages name the remote host (and port, where the URL
/// gives one) but never quote what it sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the JWKS URL must be an https URL with a host and no user information")]
    InvalidUrl,
    #[error("the CA certificates configured for {host} are not PEM certificates")]
    InvalidCa { host: String },
    #[error("the system trust store has no certificates to check {host} with")]
    NoTrustRoots { host: String },
    #[error("cannot connect to {host}: {detail}")]
    Connect { host: String, detail: String },
    #[error("TLS with {host} failed: {detail}")]
    Tls { host: String, detail: String },
    #[error("the HTTP exchange with {host} failed: {detail}")]
    Http { host: String, detail: String },
    #[error("{host} answered the JWKS request with HTTP {status}")]
    Status { host: String, status: u16 },
    #[error("the JWKS from {host} is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge { host: String },
    #[error("{host} did not deliver the JWKS in time")]
    Timeout { host: String },
    #[error("{host} did not answer with a JSON object")]
    NotJson { host: String },
}

/// Fetches `source.url` once: HTTPS only, GET, no redirects followed (a 3xx is an error), a 5 s
/// overall deadline, a body of at most 256 KiB that must be a JSON object. Trusts the PEM CA
/// certificates in `ca_pem` if given (only those), otherwise the system trust store.
pub async fn fetch_jwks(source: &JwksSource) -> Result<Value, FetchError> {
    fetch_within(source, FETCH_TIMEOUT).await
}

async fn fetch_within(source: &JwksSource, deadline: Duration) -> Result<Value, FetchError> {
    let target = Target::parse(&source.url)?;
    let tls = match source.ca_pem.as_deref() {
        Some(pem) => private_trust(pem, &target.authority)?,
        None => system_trust(&target.authority)?,
    };
    tokio::time::timeout(deadline, exchange(&target, tls))
        .await
        .unwrap_or_else(|_| {
            Err(FetchError::Timeout {
                host: target.authority.clone(),
            })
        })
}

/// A parsed JWKS URL.
#[derive(Debug)]
struct Target {
    /// What to connect to: a DNS name or an IP address without brackets.
    host: String,
    port: u16,
    /// Host and explicit port as the URL gives them: the `Host` header and what errors name.
    authority: String,
    /// Path and query of the request.
    path: String,
    /// The name the certificate must carry.
    server_name: ServerName<'static>,
}

impl Target {
    fn parse(url: &str) -> Result<Self, FetchError> {
        let uri: Uri = url.parse().map_err(|_| FetchError::InvalidUrl)?;
        if uri.scheme_str() != Some("https") {
            return Err(FetchError::InvalidUrl);
        }
        let authority = uri.authority().ok_or(FetchError::InvalidUrl)?;
        // Credentials in the URL would never be sent, only copied into logs; refuse them.
        if authority.as_str().contains('@') {
            return Err(FetchError::InvalidUrl);
        }
        let bracketed = authority.host();
        let host = match bracketed.strip_prefix('[') {
            Some(inner) => inner.strip_suffix(']').ok_or(FetchError::InvalidUrl)?,
            None => bracketed,
        };
        let server_name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            // A bracketed host must be an IPv6 address, not a name.
            Err(_) if host.len() != bracketed.len() => return Err(FetchError::InvalidUrl),
            Err(_) => ServerName::try_from(host.to_owned()).map_err(|_| FetchError::InvalidUrl)?,
        };
        // Read the port from the text: `Uri::port_u16` ignores a port that does not fit a u16.
        let port = match authority.as_str()[bracketed.len()..].strip_prefix(':') {
            None => 443,
            Some(digits) => match digits.parse::<u16>() {
                Ok(port) if port != 0 && digits.bytes().all(|b| b.is_ascii_digit()) => port,
                _ => return Err(FetchError::InvalidUrl),
            },
        };
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Self {
            host: host.to_owned(),
            port,
            authority: authority.as_str().to_owned(),
            path,
            server_name,
        })
    }
}

/// A client configuration trusting exactly the certificates in `pem`.
fn private_trust(pem: &str, host: &str) -> Result<Arc<ClientConfig>, FetchError> {
    let invalid = || FetchError::InvalidCa {
        host: host.to_owned(),
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots
            .add(cert.map_err(|_| invalid())?)
            .map_err(|_| invalid())?;
    }
    if roots.is_empty() {
        return Err(invalid());
    }
    client_config(roots, host)
}

/// A client configuration trusting the system trust store, read once per process: later changes
/// to the store take effect at the next start.
fn system_trust(host: &str) -> Result<Arc<ClientConfig>, FetchError> {
    static SYSTEM: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = SYSTEM.get() {
        return Ok(config.clone());
    }
    // Blocking file reads on an async worker, but only until the first success.
    let loaded = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (_, unparsable) = roots.add_parsable_certificates(loaded.certs);
    if roots.is_empty() {
        return Err(FetchError::NoTrustRoots {
            host: host.to_owned(),
        });
    }
    if unparsable > 0 || !loaded.errors.is_empty() {
        tracing::warn!(
            unparsable,
            unreadable = loaded.errors.len(),
            trusted = roots.len(),
            "some entries of the system trust store were skipped"
        );
    }
    let config = client_config(roots, host)?;
    Ok(SYSTEM.get_or_init(|| config).clone())
}

fn client_config(roots: RootCertStore, host: &str) -> Result<Arc<ClientConfig>, FetchError> {
    let provider = Arc::new(arca_crypto::tls_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Tls {
            host: host.to_owned(),
            detail: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Connects, sends the GET and reads the answer; the caller bounds it in time.
async fn exchange(target: &Target, tls: Arc<ClientConfig>) -> Result<Value, FetchError> {
    let host = || target.authority.clone();
    let http_error = |e: hyper::Error| FetchError::Http {
        host: host(),
        detail: e.to_string(),
    };
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| FetchError::Connect {
            host: host(),
            detail: e.to_string(),
        })?;
    // Only a latency tweak; the exchange works without it.
    let _ = tcp.set_nodelay(true);
    let stream = TlsConnector::from(tls)
        .connect(target.server_name.clone(), tcp)
        .await
        .map_err(|e| FetchError::Tls {
            host: host(),
            detail: e.to_string(),
        })?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(http_error)?;
    let request = Request::builder()
        .method(Method::GET)
        .uri(target.path.as_str())
        .header(header::HOST, target.authority.as_str())
        .header(header::ACCEPT, "application/jwk-set+json, application/json")
        .header(header::USER_AGENT, "arca")
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchError::Http {
            host: host(),
            detail: e.to_string(),
        })?;
    let answer = async {
        let response = sender.send_request(request).await.map_err(http_error)?;
        read_jwks(response, &target.authority).await
    };
    // The connection is driven here rather than spawned, so the deadline (or any early return)
    // drops the socket with everything else. Once the connection ends the answer is complete or
    // has failed, so it is awaited to the end.
    tokio::pin!(answer);
    tokio::select! {
        result = &mut answer => result,
        _ = connection => answer.await,
    }
}

/// Checks the status and reads a bounded JSON object.
async fn read_jwks(response: Response<Incoming>, host: &str) -> Result<Value, FetchError> {
    let status = response.status();
    if status != StatusCode::OK {
        return Err(FetchError::Status {
            host: host.to_owned(),
            status: status.as_u16(),
        });
    }
    let too_large = || FetchError::TooLarge {
        host: host.to_owned(),
    };
    let body = response.into_body();
    // A declared length over the limit is refused before reading anything.
    if body.size_hint().lower() > MAX_JWKS_BYTES as u64 {
        return Err(too_large());
    }
    let bytes = Limited::new(body, MAX_JWKS_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<LengthLimitError>() {
                too_large()
            } else {
                FetchError::Http {
                    host: host.to_owned(),
                    detail: e.to_string(),
                }
            }
        })?
        .to_bytes();
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(document) if document.is_object() => Ok(document),
        _ => Err(FetchError::NotJson {
            host: host.to_owned(),
        }),
    }
}

/// A cache of fetched JWK sets keyed by federated credential id.
///
/// Callers for one id take turns (a per-id async mutex), so a burst of tokens causes one fetch,
/// not one per token. A set is served for [`FRESH_SECS`]; after that it is refetched, and if
/// that fails the old set is served (with a warning) until it is [`STALE_SECS`] old.
pub struct JwksCache {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    deadline: Duration,
}

struct Slot {
    /// The last `now` a caller used this id with; the eviction order.
    used: AtomicI64,
    state: tokio::sync::Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    /// The source everything below came from; a different source starts over.
    source: Option<JwksSource>,
    /// The last set fetched and when.
    document: Option<(i64, Value)>,
    /// The last failed fetch, when and why.
    failure: Option<(i64, FetchError)>,
    /// When `refresh_for_unknown_kid` last fetched.
    forced_at: Option<i64>,
}

/// Whether `since` lies in the `window` seconds up to `now`. A time after `now` (the clock went
/// back) lies in no window, so the cache refetches rather than trusting it.
fn within(since: i64, now: i64, window: i64) -> bool {
    (0..window).contains(&now.saturating_sub(since))
}

impl SlotState {
    fn fresh(&self, now: i64) -> Option<&Value> {
        self.document
            .as_ref()
            .filter(|(at, _)| within(*at, now, FRESH_SECS))
            .map(|(_, document)| document)
    }

    fn start_over_unless(&mut self, source: &JwksSource) {
        if self.source.as_ref() != Some(source) {
            *self = Self {
                source: Some(source.clone()),
                ..Self::default()
            };
        }
    }
}

impl Default for JwksCache {
    fn default() -> Self {
        Self::new()
    }
}

impl JwksCache {
    pub fn new() -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            deadline: FETCH_TIMEOUT,
        }
    }

    /// The set for `id`: the cached one if younger than [`FRESH_SECS`], otherwise a fresh fetch
    /// from `source` (falling back to a set up to [`STALE_SECS`] old if the fetch fails).
    pub async fn get(&self, id: &str, source: &JwksSource, now: i64) -> Result<Value, FetchError> {
        let slot = self.slot(id, now);
        let mut state = slot.state.lock().await;
        state.start_over_unless(source);
        if let Some(document) = state.fresh(now) {
            return Ok(document.clone());
        }
        self.refetch(&mut state, id, source, now).await
    }

    /// For a token whose `kid` is not in the cached set: refetches, at most once per
    /// [`UNKNOWN_KID_INTERVAL_SECS`] per id; within that interval it answers as [`Self::get`].
    /// The limit counts attempts, so tokens with invented `kid`s cannot make Arca hammer the issuer.
    pub async fn refresh_for_unknown_kid(
        &self,
        id: &str,
        source: &JwksSource,
        now: i64,
    ) -> Result<Value, FetchError> {
        let slot = self.slot(id, now);
        let mut state = slot.state.lock().await;
        state.start_over_unless(source);
        let limited = state
            .forced_at
            .is_some_and(|at| within(at, now, UNKNOWN_KID_INTERVAL_SECS));
        if limited {
            if let Some(document) = state.fresh(now) {
                return Ok(document.clone());
            }
        } else {
            state.forced_at = Some(now);
        }
        self.refetch(&mut state, id, source, now).await
    }

    /// Drops whatever is cached for `id` (the credential was changed or deleted).
    pub fn forget(&self, id: &str) {
        self.lock_slots().remove(id);
    }

    /// Fetches into `state` unless a fetch failed within [`FAILURE_BACKOFF_SECS`]; on failure
    /// serves the stale set if it is young enough.
    async fn refetch(
        &self,
        state: &mut SlotState,
        id: &str,
        source: &JwksSource,
        now: i64,
    ) -> Result<Value, FetchError> {
        let recent_failure = state
            .failure
            .as_ref()
            .filter(|(at, _)| within(*at, now, FAILURE_BACKOFF_SECS))
            .map(|(_, error)| error.clone());
        let (error, attempted) = match recent_failure {
            Some(error) => (error, false),
            None => match fetch_within(source, self.deadline).await {
                Ok(document) => {
                    state.document = Some((now, document.clone()));
                    state.failure = None;
                    return Ok(document);
                }
                Err(error) => {
                    state.failure = Some((now, error.clone()));
                    (error, true)
                }
            },
        };
        let stale = state
            .document
            .as_ref()
            .filter(|(at, _)| within(*at, now, STALE_SECS));
        match stale {
            Some((at, document)) => {
                if attempted {
                    tracing::warn!(
                        credential = id,
                        age_secs = now - at,
                        error = %error,
                        "refetching a federated JWKS failed; serving the cached one"
                    );
                }
                Ok(document.clone())
            }
            None => Err(error),
        }
    }

    /// The slot for `id`, created if needed; evicts the least recently used when full.
    fn slot(&self, id: &str, now: i64) -> Arc<Slot> {
        let mut slots = self.lock_slots();
        if let Some(slot) = slots.get(id) {
            slot.used.fetch_max(now, Ordering::Relaxed);
            return slot.clone();
        }
        if slots.len() >= MAX_ENTRIES {
            let oldest = slots
                .iter()
                .min_by_key(|(_, slot)| slot.used.load(Ordering::Relaxed))
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                slots.remove(&oldest);
            }
        }
        let slot = Arc::new(Slot {
            used: AtomicI64::new(now),
            state: tokio::sync::Mutex::new(SlotState::default()),
        });
        slots.insert(id.to_owned(), slot.clone());
        slot
    }

    fn lock_slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot>>> {
        // The map is consistent after every statement, so a panic elsewhere cannot corrupt it.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::atomic::AtomicUsize;

    use arca_core::{Clock, SystemClock};
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio_rustls::TlsAcceptor;

    use super::*;

    const T0: i64 = 1_700_000_000;

    /// An in-process HTTPS server that counts requests and sends whatever raw bytes `reply`
    /// holds, or never answers while it holds `None`.
    struct TestServer {
        addr: SocketAddr,
        ca_pem: String,
        hits: Arc<AtomicUsize>,
        reply: Arc<Mutex<Option<Vec<u8>>>>,
    }

    impl TestServer {
        async fn start(reply: Option<Vec<u8>>) -> Self {
            Self::start_on("127.0.0.1:0", reply).await
        }

        async fn start_on(bind: &str, reply: Option<Vec<u8>>) -> Self {
            // Certificate validity is checked against the real clock by rustls.
            let now = SystemClock.now();
            let ca = arca_crypto::generate_ca("JWKS test CA", now).unwrap();
            let names = ["localhost", "127.0.0.1", "::1"].map(str::to_owned);
            let cert = arca_crypto::issue_server_cert(&ca, &names, now).unwrap();
            let tls = crate::listener::tls_config(&cert.cert_pem, &cert.key_pkcs8).unwrap();
            let acceptor = TlsAcceptor::from(tls);
            let listener = TcpListener::bind(bind).await.unwrap();
            let server = Self {
                addr: listener.local_addr().unwrap(),
                ca_pem: ca.cert_pem,
                hits: Arc::new(AtomicUsize::new(0)),
                reply: Arc::new(Mutex::new(reply)),
            };
            let (hits, reply) = (server.hits.clone(), server.reply.clone());
            tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let (acceptor, hits, reply) = (acceptor.clone(), hits.clone(), reply.clone());
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let mut request = Vec::new();
                        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                            let mut chunk = [0u8; 1024];
                            match tls.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => request.extend_from_slice(&chunk[..n]),
                            }
                        }
                        hits.fetch_add(1, Ordering::SeqCst);
                        let answer = reply.lock().unwrap().clone();
                        match answer {
                            Some(bytes) => {
                                let _ = tls.write_all(&bytes).await;
                                let _ = tls.shutdown().await;
                            }
                            None => std::future::pending::<()>().await,
                        }
                    });
                }
            });
            server
        }

        fn url(&self, path: &str) -> String {
            format!("https://{}{path}", self.addr)
        }

        fn source(&self) -> JwksSource {
            JwksSource {
                url: self.url("/openid/v1/jwks"),
                ca_pem: Some(self.ca_pem.clone()),
            }
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }

        fn set_reply(&self, reply: Vec<u8>) {
            *self.reply.lock().unwrap() = Some(reply);
        }
    }

    fn http(status: &str, body: &[u8]) -> Vec<u8> {
        let mut reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        reply.extend_from_slice(body);
        reply
    }

    fn jwks(kid: &str) -> Value {
        json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": kid, "x": "AA", "y": "AA"}]})
    }

    fn ok(document: &Value) -> Vec<u8> {
        http("200 OK", document.to_string().as_bytes())
    }

    /// A server answering `jwks("k1")` and a cache that fetched it for "cred" at `T0`.
    async fn cached_k1() -> (TestServer, JwksCache, JwksSource) {
        let server = TestServer::start(Some(ok(&jwks("k1")))).await;
        let (cache, source) = (JwksCache::new(), server.source());
        assert_eq!(cache.get("cred", &source, T0).await.unwrap(), jwks("k1"));
        assert_eq!(server.hits(), 1);
        (server, cache, source)
    }

    #[test]
    fn urls_are_parsed_strictly() {
        // URL, then host, port, authority, path and whether the name is an IP address.
        for (url, expected) in [
            (
                "https://kubernetes.default.svc/openid/v1/jwks",
                (
                    "kubernetes.default.svc",
                    443,
                    "kubernetes.default.svc",
                    "/openid/v1/jwks",
                    false,
                ),
            ),
            (
                "https://[fd00::1]:6443/keys?x=1",
                ("fd00::1", 6443, "[fd00::1]:6443", "/keys?x=1", true),
            ),
            ("https://10.0.0.1", ("10.0.0.1", 443, "10.0.0.1", "/", true)),
        ] {
            let target = Target::parse(url).unwrap();
            let is_ip = matches!(target.server_name, ServerName::IpAddress(_));
            let parsed = (
                target.host.as_str(),
                target.port,
                target.authority.as_str(),
                target.path.as_str(),
                is_ip,
            );
            assert_eq!(parsed, expected, "{url}");
        }

        for bad in [
            "http://issuer.example/jwks",
            "ftp://issuer.example/jwks",
            "HTTP://issuer.example/jwks",
            "//issuer.example/jwks",
            "/jwks",
            "issuer.example",
            "",
            "https://",
            "https://user:pass@issuer.example/jwks",
            "https://issuer.example:0/jwks",
            "https://issuer.example:99999/jwks",
            "https://issuer.example:/jwks",
            "https://issuer.example:+443/jwks",
            "https://[issuer.example]/jwks",
            "https://iss uer.example/jwks",
        ] {
            assert_eq!(
                Target::parse(bad).map(|t| t.host),
                Err(FetchError::InvalidUrl),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn fetch_with_the_configured_ca_succeeds_by_ip_and_by_name() {
        let document = jwks("k1");
        let server = TestServer::start(Some(ok(&document))).await;
        assert_eq!(fetch_jwks(&server.source()).await.unwrap(), document);
        let by_name = JwksSource {
            url: format!("https://localhost:{}/jwks", server.addr.port()),
            ca_pem: Some(server.ca_pem.clone()),
        };
        assert_eq!(fetch_jwks(&by_name).await.unwrap(), document);
        assert_eq!(server.hits(), 2);
    }

    #[tokio::test]
    async fn fetch_over_ipv6_literal_succeeds() {
        let document = jwks("k6");
        let server = TestServer::start_on("[::1]:0", Some(ok(&document))).await;
        assert!(server.url("/").starts_with("https://[::1]:"));
        assert_eq!(fetch_jwks(&server.source()).await.unwrap(), document);
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn system_roots_do_not_trust_a_private_ca() {
        let server = TestServer::start(Some(ok(&jwks("k1")))).await;
        let source = JwksSource {
            url: server.url("/jwks"),
            ca_pem: None,
        };
        let error = fetch_jwks(&source).await.unwrap_err();
        // A machine without a system trust store refuses before connecting.
        assert!(
            matches!(
                error,
                FetchError::Tls { .. } | FetchError::NoTrustRoots { .. }
            ),
            "{error:?}"
        );
        assert_eq!(server.hits(), 0);
    }

    #[tokio::test]
    async fn only_the_configured_ca_is_trusted() {
        let server = TestServer::start(Some(ok(&jwks("k1")))).await;
        let other = arca_crypto::generate_ca("Other CA", SystemClock.now()).unwrap();
        let source = JwksSource {
            url: server.url("/jwks"),
            ca_pem: Some(other.cert_pem),
        };
        let error = fetch_jwks(&source).await.unwrap_err();
        assert!(matches!(error, FetchError::Tls { .. }), "{error:?}");
        assert_eq!(server.hits(), 0);

        for bad in ["", "not pem", "-----BEGIN CERTIFICATE-----\nAAAA\n"] {
            let source = JwksSource {
                url: server.url("/jwks"),
                ca_pem: Some(bad.to_owned()),
            };
            let error = fetch_jwks(&source).await.unwrap_err();
            assert!(matches!(error, FetchError::InvalidCa { .. }), "{error:?}");
        }
    }

    #[tokio::test]
    async fn plain_http_is_refused_without_connecting() {
        let server = TestServer::start(Some(ok(&jwks("k1")))).await;
        let source = JwksSource {
            url: format!("http://{}/jwks", server.addr),
            ca_pem: Some(server.ca_pem.clone()),
        };
        assert_eq!(fetch_jwks(&source).await, Err(FetchError::InvalidUrl));
        assert_eq!(server.hits(), 0);
    }

    #[tokio::test]
    async fn redirects_and_error_statuses_are_refused() {
        let server = TestServer::start(None).await;
        let host = server.addr.to_string();
        let redirect = format!(
            "HTTP/1.1 302 Found\r\nlocation: {}\r\ncontent-length: 0\r\n\r\n",
            server.url("/elsewhere")
        );
        server.set_reply(redirect.into_bytes());
        assert_eq!(
            fetch_jwks(&server.source()).await,
            Err(FetchError::Status {
                host: host.clone(),
                status: 302
            })
        );
        // The redirect was not followed.
        assert_eq!(server.hits(), 1);

        server.set_reply(http("404 Not Found", b"{}"));
        assert_eq!(
            fetch_jwks(&server.source()).await,
            Err(FetchError::Status { host, status: 404 })
        );
    }

    #[tokio::test]
    async fn bodies_that_are_not_json_objects_are_refused_without_quoting_them() {
        let server = TestServer::start(None).await;
        for body in [
            &b"<html>private-marker</html>"[..],
            b"[1, 2]",
            b"\"keys\"",
            b"",
        ] {
            server.set_reply(http("200 OK", body));
            let error = fetch_jwks(&server.source()).await.unwrap_err();
            assert_eq!(
                error,
                FetchError::NotJson {
                    host: server.addr.to_string()
                }
            );
            let message = error.to_string();
            assert!(message.contains(&server.addr.to_string()), "{message}");
            assert!(!message.contains("private-marker"), "{message}");
        }
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused_with_or_without_a_length() {
        let server = TestServer::start(None).await;
        // Exactly at the limit is accepted.
        let prefix = r#"{"keys":[],"pad":""#;
        let padding = "x".repeat(MAX_JWKS_BYTES - prefix.len() - 2);
        let exact = format!("{prefix}{padding}\"}}");
        assert_eq!(exact.len(), MAX_JWKS_BYTES);
        server.set_reply(http("200 OK", exact.as_bytes()));
        assert!(fetch_jwks(&server.source()).await.is_ok());

        let over = format!("{prefix}{padding}x\"}}");
        server.set_reply(http("200 OK", over.as_bytes()));
        let too_large = FetchError::TooLarge {
            host: server.addr.to_string(),
        };
        assert_eq!(fetch_jwks(&server.source()).await, Err(too_large.clone()));

        // No content-length: the body runs to the end of the connection.
        let mut unsized_reply = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
        unsized_reply.extend_from_slice(over.as_bytes());
        server.set_reply(unsized_reply);
        assert_eq!(fetch_jwks(&server.source()).await, Err(too_large));
    }

    #[tokio::test]
    async fn a_server_that_never_answers_hits_the_deadline() {
        let deadline = Duration::from_millis(300);
        let server = TestServer::start(None).await;
        let error = fetch_within(&server.source(), deadline).await.unwrap_err();
        assert_eq!(
            error,
            FetchError::Timeout {
                host: server.addr.to_string()
            }
        );
        assert_eq!(server.hits(), 1);

        // A listener that never accepts: the TLS handshake stalls.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let source = JwksSource {
            url: format!("https://{}/jwks", silent.local_addr().unwrap()),
            ca_pem: Some(server.ca_pem.clone()),
        };
        let error = fetch_within(&source, deadline).await.unwrap_err();
        assert!(matches!(error, FetchError::Timeout { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn the_cache_serves_a_set_for_ten_minutes_then_refetches() {
        let (server, cache, source) = cached_k1().await;
        server.set_reply(ok(&jwks("k2")));
        let later = T0 + FRESH_SECS - 1;
        assert_eq!(cache.get("cred", &source, later).await.unwrap(), jwks("k1"));
        assert_eq!(server.hits(), 1);
        let expired = T0 + FRESH_SECS;
        assert_eq!(
            cache.get("cred", &source, expired).await.unwrap(),
            jwks("k2")
        );
        assert_eq!(server.hits(), 2);

        // Another id, a changed source and a forgotten id each fetch anew.
        cache.get("other", &source, expired).await.unwrap();
        assert_eq!(server.hits(), 3);
        let mut moved = source.clone();
        moved.url = server.url("/moved");
        cache.get("cred", &moved, expired).await.unwrap();
        assert_eq!(server.hits(), 4);
        cache.forget("cred");
        cache.get("cred", &moved, expired).await.unwrap();
        assert_eq!(server.hits(), 5);
    }

    #[tokio::test]
    async fn a_stale_set_is_served_for_a_day_when_refetching_fails() {
        let (server, cache, source) = cached_k1().await;
        server.set_reply(http("503 Service Unavailable", b""));

        let t1 = T0 + FRESH_SECS;
        assert_eq!(cache.get("cred", &source, t1).await.unwrap(), jwks("k1"));
        assert_eq!(server.hits(), 2);
        // Within the back-off the failed fetch is not repeated.
        let t2 = t1 + FAILURE_BACKOFF_SECS - 1;
        assert_eq!(cache.get("cred", &source, t2).await.unwrap(), jwks("k1"));
        assert_eq!(server.hits(), 2);
        let t3 = t1 + FAILURE_BACKOFF_SECS;
        assert_eq!(cache.get("cred", &source, t3).await.unwrap(), jwks("k1"));
        assert_eq!(server.hits(), 3);

        let too_old = T0 + STALE_SECS;
        let unavailable = FetchError::Status {
            host: server.addr.to_string(),
            status: 503,
        };
        assert_eq!(
            cache.get("cred", &source, too_old).await,
            Err(unavailable.clone())
        );
        assert_eq!(server.hits(), 4);
        // With nothing to serve, the recorded failure answers during the back-off.
        assert_eq!(
            cache.get("cred", &source, too_old + 1).await,
            Err(unavailable)
        );
        assert_eq!(server.hits(), 4);

        server.set_reply(ok(&jwks("k2")));
        let recovered = too_old + FAILURE_BACKOFF_SECS;
        assert_eq!(
            cache.get("cred", &source, recovered).await.unwrap(),
            jwks("k2")
        );
    }

    #[tokio::test]
    async fn unknown_kid_refreshes_are_rate_limited_per_id() {
        let (server, cache, source) = cached_k1().await;
        server.set_reply(ok(&jwks("k2")));

        let refresh = |now| cache.refresh_for_unknown_kid("cred", &source, now);
        assert_eq!(refresh(T0 + 1).await.unwrap(), jwks("k2"));
        assert_eq!(server.hits(), 2);
        server.set_reply(ok(&jwks("k3")));
        let limited = T0 + 1 + UNKNOWN_KID_INTERVAL_SECS - 1;
        assert_eq!(refresh(limited).await.unwrap(), jwks("k2"));
        assert_eq!(server.hits(), 2);
        let allowed = T0 + 1 + UNKNOWN_KID_INTERVAL_SECS;
        assert_eq!(refresh(allowed).await.unwrap(), jwks("k3"));
        assert_eq!(server.hits(), 3);

        // The limit is per id.
        cache
            .refresh_for_unknown_kid("other", &source, allowed)
            .await
            .unwrap();
        assert_eq!(server.hits(), 4);
    }

    #[tokio::test]
    async fn concurrent_callers_for_one_id_share_one_fetch() {
        let server = TestServer::start(Some(ok(&jwks("k1")))).await;
        let cache = Arc::new(JwksCache::new());
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (cache, source) = (cache.clone(), server.source());
            callers.spawn(async move { cache.get("cred", &source, T0).await });
        }
        while let Some(result) = callers.join_next().await {
            assert_eq!(result.unwrap().unwrap(), jwks("k1"));
        }
        assert_eq!(server.hits(), 1);
    }

    #[test]
    fn the_cache_holds_at_most_max_entries_and_evicts_the_least_recently_used() {
        let cache = JwksCache::new();
        for i in 0..MAX_ENTRIES {
            cache.slot(&format!("id{i}"), T0 + i as i64);
        }
        // Using id0 again makes id1 the least recently used.
        cache.slot("id0", T0 + MAX_ENTRIES as i64);
        cache.slot("new", T0 + MAX_ENTRIES as i64 + 1);
        let slots = cache.lock_slots();
        assert_eq!(slots.len(), MAX_ENTRIES);
        assert!(slots.contains_key("id0"));
        assert!(!slots.contains_key("id1"));
        assert!(slots.contains_key("new"));
    }

    #[tokio::test]
    async fn sources_are_checked_without_the_network() {
        let ca = arca_crypto::generate_ca("JWKS test CA", SystemClock.now()).unwrap();
        let source = |url: &str, ca_pem: Option<&str>| JwksSource {
            url: url.to_owned(),
            ca_pem: ca_pem.map(str::to_owned),
        };
        let url = "https://kubernetes.default.svc/openid/v1/jwks";
        assert_eq!(source(url, None).check(), Ok(()));
        assert_eq!(source(url, Some(&ca.cert_pem)).check(), Ok(()));
        assert_eq!(
            source("https://user@kubernetes.default.svc/", None).check(),
            Err(FetchError::InvalidUrl)
        );
        assert_eq!(
            source(url, Some("-----BEGIN CERTIFICATE-----\n")).check(),
            Err(FetchError::InvalidCa {
                host: "kubernetes.default.svc".to_owned()
            })
        );
    }

    #[test]
    fn the_cache_can_be_shared_by_request_handlers() {
        fn send<T: Send>(_: &T) {}
        fn shared<T: Send + Sync>() {}
        shared::<JwksCache>();
        let (cache, source) = (
            JwksCache::new(),
            JwksSource {
                url: String::new(),
                ca_pem: None,
            },
        );
        send(&cache.get("id", &source, T0));
        send(&cache.refresh_for_unknown_kid("id", &source, T0));
        send(&fetch_jwks(&source));
    }

    #[test]
    fn windows_exclude_times_after_now() {
        assert!(within(T0, T0, 10));
        assert!(within(T0, T0 + 9, 10));
        assert!(!within(T0, T0 + 10, 10));
        assert!(!within(T0 + 1, T0, 10));
        assert!(!within(i64::MIN, i64::MAX, 10));
    }
}
