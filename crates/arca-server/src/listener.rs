//! The HTTPS listener: TLS handshakes (rustls on aws-lc-rs), HTTP/1.1 and HTTP/2 connections
//! served by hyper, connection caps and idle timeouts (through [`crate::connections`]), and
//! graceful shutdown that stops accepting and drains requests in flight.
//!
//! Every connection is registered from accept to close. The accept loop only admits or refuses
//! (no I/O besides accept), so a flood of connections cannot stall it; each connection's task
//! then closes its connection when it is idle for the idle timeout, when a newcomer takes its
//! place at a cap, or at shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use arca_crypto::SecretBytes;
use axum::Router;
use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use crate::connections::{CloseReason, Conn, InFlight, Limits, RateLimited, Registry, Ticket};
use crate::start_error::StartError;

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How often an HTTP/2 connection is pinged, and how long the answer may take before the
/// connection is closed as dead.
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection told to close while idle is given at a time, while a request that
/// began meanwhile is in flight (up to [`DRAIN_TIMEOUT`]).
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long the accept loop waits, at a cap, for evicted connections to give back their
/// descriptors before it refuses a newcomer.
const ADMISSION_PATIENCE: Duration = Duration::from_millis(250);
/// At most one warning of each kind (accept failed, connection refused) per this period.
const WARNING_PERIOD: Duration = Duration::from_secs(10);
/// How long the accept loop pauses after a failed accept (typically EMFILE), instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Builds the rustls server configuration from a PEM chain and a PKCS#8 key.
pub fn tls_config(
    chain_pem: &str,
    key_pkcs8: &SecretBytes,
) -> Result<Arc<rustls::ServerConfig>, StartError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| StartError::CertificateChain)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8.expose().to_vec()));
    let mut provider = arca_crypto::tls_provider();
    // TLS 1.3 with AES-128-GCM first: strong, and cheaper per record than AES-256 on CPUs with
    // AES instructions (the order Go's TLS stack uses too). The sort is stable, so TLS 1.2
    // suites keep their order after these.
    provider.cipher_suites.sort_by_key(|s| match s.suite() {
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256 => 0,
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384 => 1,
        rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256 => 2,
        _ => 3,
    });
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(StartError::TlsVersions)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(StartError::TlsKey)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then drains
/// connections.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let registry = Registry::new(limits);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT);
    let builder = Arc::new(builder);
    let mut accept_failed = RateLimited::new(WARNING_PERIOD);
    let mut refused = RateLimited::new(WARNING_PERIOD);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    if let Some(suppressed) = accept_failed.check(Instant::now()) {
                        tracing::warn!(error = %e, suppressed, "accept failed");
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ticket = match registry.admit_within(peer.ip(), ADMISSION_PATIENCE).await {
            Ok(ticket) => ticket,
            Err(why) => {
                if let Some(suppressed) = refused.check(Instant::now()) {
                    tracing::warn!(%peer, reason = why.as_str(), suppressed, "connection refused");
                }
                drop(tcp);
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(serve_connection(
            Accepted { tcp, peer, ticket },
            registry.clone(),
            acceptor.clone(),
            app.clone(),
            builder.clone(),
        ));
    }
    drop(listener);
    tracing::info!("shutting down: draining requests in flight");
    registry.close_all();
    if tokio::time::timeout(DRAIN_TIMEOUT, registry.drained())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the drain timeout");
    }
}

/// A connection the registry admitted.
struct Accepted {
    tcp: TcpStream,
    peer: SocketAddr,
    ticket: Ticket,
}

/// Runs one connection from TLS handshake to close; its place in the registry is given back
/// when this returns (the ticket is dropped with the socket).
async fn serve_connection(
    accepted: Accepted,
    registry: Arc<Registry>,
    acceptor: TlsAcceptor,
    app: Router,
    builder: Arc<Builder<TokioExecutor>>,
) {
    let Accepted { tcp, peer, ticket } = accepted;
    let conn = ticket.conn().clone();
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
    let tls = tokio::select! {
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        // Nothing has been said on a connection still in its handshake: it can simply go.
        reason = registry.until_close(&conn) => {
            tracing::debug!(%peer, ?reason, "connection closed during the TLS handshake");
            return;
        }
    };
    let service = {
        let registry = registry.clone();
        let conn = conn.clone();
        hyper::service::service_fn(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(crate::auth::PeerAddr(peer));
            let in_flight = registry.begin(&conn);
            let response = tower::ServiceExt::oneshot(app.clone(), request);
            async move {
                let response = response.await?;
                Ok::<_, Infallible>(response.map(|body| Tracked {
                    body,
                    _in_flight: in_flight,
                }))
            }
        })
    };
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
    tokio::pin!(connection);
    let reason = tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            return;
        }
        reason = registry.until_close(&conn) => reason,
    };
    tracing::debug!(%peer, ?reason, "closing connection");
    // HTTP/1: close once the response in progress (if any) is sent; HTTP/2: GOAWAY; a connection
    // that has not yet said which protocol it speaks: close now.
    connection.as_mut().graceful_shutdown();
    let result = match reason {
        // Bounded by the drain timeout in `serve`.
        CloseReason::Shutdown => connection.await,
        CloseReason::Idle | CloseReason::Evicted => {
            match close_within_grace(connection.as_mut(), &conn).await {
                Some(result) => result,
                None => {
                    tracing::debug!(%peer, "connection dropped without waiting for the client");
                    return;
                }
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Drives a connection told to close until it does. One poll lets it act on the graceful
/// shutdown (an idle HTTP/1 connection closes, HTTP/2 writes its GOAWAY); after that an idle
/// connection is dropped at once, so that a client that never answers the GOAWAY's ping cannot
/// hold its descriptor. Only a request that raced the decision to close (in flight now) is given
/// time, [`CLOSE_GRACE`] at a time while it lasts, up to [`DRAIN_TIMEOUT`] in all. `None` when
/// the connection has to be dropped instead.
async fn close_within_grace<F: Future + Unpin>(
    mut connection: F,
    conn: &Conn,
) -> Option<F::Output> {
    let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut connection).poll(cx))).await;
    if let Poll::Ready(result) = first {
        return Some(result);
    }
    let started = Instant::now();
    while conn.in_flight() > 0 && started.elapsed() < DRAIN_TIMEOUT {
        if let Ok(result) = tokio::time::timeout(CLOSE_GRACE, &mut connection).await {
            return Some(result);
        }
    }
    None
}

/// A response body that keeps its request counted as in flight until the body is sent in full
/// (or the response is abandoned), so that a connection is never idle while it still answers.
struct Tracked {
    body: axum::body::Body,
    _in_flight: InFlight,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CipherSuite::{
        TLS13_AES_128_GCM_SHA256 as AES128, TLS13_AES_256_GCM_SHA384 as AES256,
        TLS13_CHACHA20_POLY1305_SHA256 as CHACHA,
    };

    /// Runs a TLS 1.3 handshake in memory between the server configuration and a client that
    /// offers `offered` in that order; returns the suite the server chose.
    fn negotiate(offered: &[rustls::CipherSuite]) -> rustls::CipherSuite {
        let now = arca_core::Clock::now(&arca_core::SystemClock);
        let ca = arca_crypto::generate_ca("test CA", now).unwrap();
        let issued = arca_crypto::issue_server_cert(&ca, &["localhost".to_owned()], now).unwrap();
        let chain = format!("{}{}", issued.cert_pem, ca.cert_pem);
        let server_config = tls_config(&chain, &issued.key_pkcs8).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca.cert_pem.as_bytes()).unwrap())
            .unwrap();
        let mut provider = arca_crypto::tls_provider();
        provider.cipher_suites = offered
            .iter()
            .filter_map(|want| {
                provider
                    .cipher_suites
                    .iter()
                    .find(|s| s.suite() == *want)
                    .copied()
            })
            .collect();
        let client_config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut client = rustls::ClientConnection::new(Arc::new(client_config), name).unwrap();
        let mut server = rustls::ServerConnection::new(server_config).unwrap();
        for _ in 0..10 {
            let mut wire = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut wire).unwrap();
            }
            server.read_tls(&mut wire.as_slice()).unwrap();
            server.process_new_packets().unwrap();
            let mut wire = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut wire).unwrap();
            }
            client.read_tls(&mut wire.as_slice()).unwrap();
            client.process_new_packets().unwrap();
            if !client.is_handshaking() && !server.is_handshaking() {
                break;
            }
        }
        assert!(!server.is_handshaking(), "the handshake did not finish");
        server.negotiated_cipher_suite().unwrap().suite()
    }

    #[test]
    fn the_server_prefers_aes_128_gcm_but_accepts_what_the_client_has() {
        assert_eq!(negotiate(&[AES256, AES128, CHACHA]), AES128);
        assert_eq!(negotiate(&[CHACHA, AES128]), AES128);
        assert_eq!(negotiate(&[AES256]), AES256);
        assert_eq!(negotiate(&[CHACHA]), CHACHA);
    }
}
