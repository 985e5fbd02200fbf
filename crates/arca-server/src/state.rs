//! The shared state every request handler reads: storage, keyring, clock, identity settings and
//! caches. Built once at start-up by `bootstrap`, then immutable apart from its caches.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use arca_core::Clock;
use arca_crypto::Keyring;
use arca_store::{Store, StoreResult, VaultRecord};

use crate::access::Access;
use crate::auth::tokens::TokenCache;
use crate::identity::jwks_fetch::JwksCache;
use crate::identity::lockout::Lockout;
use crate::identity::Issuer;
use crate::urls::Urls;

/// Everything a request needs, shared behind an `Arc`.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    pub clock: Arc<dyn Clock>,
    /// The operations on vault objects, over the same store, keyring and clock.
    pub engine: arca_engine::Engine,
    pub urls: Urls,
    pub issuer: Issuer,
    pub tokens: TokenCache,
    /// Roles, assignments, principals' credentials and network rules, as of the last refresh.
    pub access: Access,
    /// JWK sets of federated issuers given by URL.
    pub jwks: JwksCache,
    /// Failed client-secret attempts per client id.
    pub lockout: Lockout,
    /// Recently read vault records.
    pub vaults: VaultCache,
    /// The bytes of request bodies held in memory at once (`body_memory_mib`).
    pub bodies: crate::body::BodyBudget,
    /// The deployment's key for signing key-release answers (never a token-signing key).
    pub release_signing: Arc<arca_crypto::ReleaseSigningKey>,
    /// Every vault's throttling counts, and the deployment's default setting.
    pub throttle: crate::throttle::Throttle,
}

/// How long a vault record read from the store is used without reading it again, in seconds:
/// the bound on how long a vault deleted through another replica keeps answering here (its
/// objects are gone with it, so such requests find nothing).
const VAULT_CACHE_SECS: i64 = 1;
/// Most vault records cached at once.
const VAULT_CACHE_MAX: usize = 10_000;

/// Vault records by name, so the data plane does not read the store for the vault of every
/// request. Changes made through this process invalidate their entry at once.
#[derive(Default)]
pub struct VaultCache {
    entries: RwLock<HashMap<String, (Arc<VaultRecord>, i64)>>,
}

impl VaultCache {
    fn get(&self, name: &str, now: i64) -> Option<Arc<VaultRecord>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(name)
            .filter(|(_, read)| now - read <= VAULT_CACHE_SECS && now >= *read)
            .map(|(v, _)| Arc::clone(v))
    }

    fn put(&self, record: Arc<VaultRecord>, now: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= VAULT_CACHE_MAX {
            entries.clear();
        }
        entries.insert(record.name.clone(), (record, now));
    }

    /// Forgets a vault after this process created or deleted it.
    pub fn forget(&self, name: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.remove(name);
    }
}

impl AppState {
    /// The vault named `name` (a valid, lower-case vault name), from the cache when fresh.
    /// Unknown names are not cached, so probing random names cannot fill memory.
    pub async fn vault(&self, name: &str) -> StoreResult<Option<Arc<VaultRecord>>> {
        let now = self.clock.now();
        if let Some(v) = self.vaults.get(name, now) {
            return Ok(Some(v));
        }
        let found = self.store.vault(name).await?.map(Arc::new);
        if let Some(v) = &found {
            self.vaults.put(Arc::clone(v), now);
        }
        Ok(found)
    }

    /// Brings the access snapshot (and, when it moved, the signing keys) up to date with the
    /// store. Called after every change made through this process, and every second.
    pub async fn refresh_access(&self) -> Result<(), crate::StartError> {
        if self.access.refresh(&*self.store, &self.keyring).await? {
            let keys =
                crate::identity::keys::load(&*self.store, &self.keyring, self.clock.now()).await?;
            self.issuer.set_keys(keys);
        }
        Ok(())
    }
}

pub type SharedState = Arc<AppState>;
