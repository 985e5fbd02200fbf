//! The cache of verified tokens, keyed by their SHA-256 digest, so a token's signature is
//! checked once per process and not on every request. A leaf: the shared state holds it and
//! `auth` fills and reads it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::auth::caller::Caller;

/// Most tokens remembered at once; past this the cache is emptied and refilled.
const MAX_CACHED_TOKENS: usize = 100_000;

/// The cache key of a token: its SHA-256 digest.
type TokenDigest = [u8; 32];

pub(crate) fn digest(token: &str) -> TokenDigest {
    arca_crypto::sha256(token.as_bytes())
}

/// Verified tokens, keyed by their digest.
#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<TokenDigest, Arc<Caller>>>,
}

impl TokenCache {
    pub(crate) fn get(&self, token: &TokenDigest, now: i64) -> Option<Arc<Caller>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(token).filter(|c| now <= c.expires).cloned()
    }

    pub(crate) fn insert(&self, token: TokenDigest, caller: Arc<Caller>, now: i64) {
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
