//! Authentication of data-plane and admin requests: the bearer challenge and token verification,
//! with a cache of verified tokens that keeps signature checks off the hot path.
//!
//! A cached entry is only a memo of a successful verification; it is dropped when the token
//! expires, so the cache never extends a token's life. Entries are keyed by the SHA-256 of the
//! token, so neither the tokens themselves nor a timing difference in comparing them can leak
//! from the cache.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::http::{header, HeaderMap};

use crate::access::Snapshot;
use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;

/// Most tokens remembered at once; past this the cache is emptied and refilled.
const MAX_CACHED_TOKENS: usize = 100_000;
/// Longest bearer token accepted.
pub(crate) const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The cache key of a token: its SHA-256 digest.
type TokenDigest = [u8; 32];

fn digest(token: &str) -> TokenDigest {
    arca_crypto::sha256(token.as_bytes())
}

/// Verified tokens, keyed by their digest.
#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<TokenDigest, Arc<Caller>>>,
}

impl TokenCache {
    fn get(&self, token: &TokenDigest, now: i64) -> Option<Arc<Caller>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(token).filter(|c| now <= c.expires).cloned()
    }

    fn insert(&self, token: TokenDigest, caller: Arc<Caller>, now: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_CACHED_TOKENS {
            entries.retain(|_, c| now <= c.expires);
            if entries.len() >= MAX_CACHED_TOKENS {
                entries.clear();
            }
        }
        entries.insert(token, caller);
    }
}

/// Checks the `Authorization` header. Every failure is a 401 carrying the challenge, so the SDKs
/// (re)run their handshake.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Arc<Caller>, ApiError> {
    authenticate_with(state, headers, &state.access.snapshot())
}

/// [`authenticate`] against a snapshot the caller already holds for the rest of the request.
pub fn authenticate_with(
    state: &AppState,
    headers: &HeaderMap,
    snapshot: &Snapshot,
) -> Result<Arc<Caller>, ApiError> {
    authenticate_challenged(state, headers, snapshot, &state.issuer.challenge())
}

/// [`authenticate_with`] answering a failure with `challenge`, the one of the host the request
/// was sent to.
pub fn authenticate_challenged(
    state: &AppState,
    headers: &HeaderMap,
    snapshot: &Snapshot,
    challenge: &axum::http::HeaderValue,
) -> Result<Arc<Caller>, ApiError> {
    let unauthorized = |message: &'static str| ApiError::Unauthorized {
        challenge: challenge.clone(),
        message,
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        crate::request_log::refused("no bearer token");
        return Err(unauthorized(
            "AKV10000: Request is missing a Bearer or PoP token.",
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(bearer_credentials)
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES)
        .ok_or_else(|| {
            crate::request_log::refused("the Authorization header is not a Bearer token");
            unauthorized("AKV10001: The Authorization header is not a Bearer token.")
        })?;
    let now = state.clock.now();
    let key = digest(token);
    let caller = match state.tokens.get(&key, now) {
        Some(caller) => Ok(caller),
        None => state.issuer.verify(token, now).map(|caller| {
            let caller = Arc::new(caller);
            state.tokens.insert(key, Arc::clone(&caller), now);
            caller
        }),
    };
    match caller {
        // A token outlives nothing it was issued through: its principal and credential must
        // still exist in the current access snapshot.
        Ok(caller) if snapshot.token_is_current(&caller) => {
            crate::request_log::caller(&caller.object_id);
            Ok(caller)
        }
        Ok(caller) => {
            crate::request_log::caller(&caller.object_id);
            crate::request_log::refused("token of a removed principal or credential");
            tracing::info!(client_id = %caller.client_id, "token of a removed principal or credential refused");
            Err(unauthorized(
                "AKV10022: Invalid token: the principal or credential it was issued to no longer exists.",
            ))
        }
        Err(rejection) => {
            tracing::info!(%rejection, "bearer token refused");
            crate::request_log::refused(format!("bearer token refused: {rejection}"));
            Err(unauthorized(
                "AKV10022: Invalid token: the token was refused.",
            ))
        }
    }
}

/// The credentials of a `Bearer` authorization value. The scheme is compared without regard to
/// case (RFC 7235 section 2.1) and separated from the token by one or more spaces.
pub(crate) fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// The network address of the client, inserted by the listener into every request.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// The client's IP address, if the request came through the listener.
pub fn peer_ip(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    extensions.get::<PeerAddr>().map(|p| p.0.ip())
}

/// Extractor of the client's IP address.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(peer_ip(&parts.extensions)))
    }
}
