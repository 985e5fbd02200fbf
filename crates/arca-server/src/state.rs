//! The shared state every request handler reads: storage, keyring, clock, identity settings and
//! caches. Built once at start-up by `bootstrap`, then immutable apart from its caches.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use arca_core::Clock;
use arca_crypto::Keyring;
use arca_store::{Store, StoreResult, VaultRecord};

use crate::access::Access;
use crate::auth::TokenCache;
use crate::identity::jwks_fetch::JwksCache;
use crate::identity::lockout::Lockout;
use crate::identity::Issuer;

/// Public URLs derived from the configuration and the bound port.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `https://<issuer-host>[:port]`: the issuer and admin host.
    pub authority_host: String,
    /// `https://<dns-suffix>[:port]`: the token audience and challenge resource.
    pub resource: String,
    /// The origins that also serve the `default` vault, so a newcomer needs no DNS entry:
    /// `https://localhost[:port]`, `https://127.0.0.1[:port]`, `https://[::1][:port]` and the
    /// issuer host's own origin. Each is also a token audience and a challenge resource.
    pub origins: Vec<String>,
    /// The resource id of the management plane (`<authority>/management`): `az login` asks for a
    /// token for it; such tokens are accepted by `GET /subscriptions` and `GET /tenants` only.
    pub management_resource: String,
    /// The DNS suffix vault hosts end with.
    pub dns_suffix: String,
    /// The port clients connect to (443 is omitted from URLs).
    pub port: u16,
    /// The region data-plane responses name in `x-ms-keyvault-region` (configuration `region`).
    pub region: String,
}

impl Urls {
    pub fn new(issuer_host: &str, dns_suffix: &str, port: u16) -> Self {
        let host = if issuer_host.contains(':') {
            format!("[{issuer_host}]")
        } else {
            issuer_host.to_owned()
        };
        let port_part = if port == 443 {
            String::new()
        } else {
            format!(":{port}")
        };
        let authority_host = format!("https://{host}{port_part}");
        let mut origins = vec![authority_host.clone()];
        for loopback in ["localhost", "127.0.0.1", "[::1]"] {
            let origin = format!("https://{loopback}{port_part}");
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Self {
            management_resource: format!("{authority_host}/management"),
            origins,
            authority_host,
            resource: format!("https://{dns_suffix}{port_part}"),
            dns_suffix: dns_suffix.to_owned(),
            port,
            region: crate::config::DEFAULT_REGION.to_owned(),
        }
    }

    /// The origin of `origins` a request's host names (`host[:port]`, any case), if any: such a
    /// request is for the `default` vault.
    pub fn origin_of_host(&self, host: &str) -> Option<&str> {
        let host = host.to_ascii_lowercase();
        self.origins.iter().map(String::as_str).find(|origin| {
            let authority = &origin["https://".len()..];
            host == authority || (self.port == 443 && host == format!("{authority}:443"))
        })
    }

    pub fn vault_url(&self, vault: &str) -> String {
        let port_part = if self.port == 443 {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        format!("https://{vault}.{}{port_part}", self.dns_suffix)
    }
}

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
    pub async fn refresh_access(&self) -> anyhow::Result<()> {
        if self.access.refresh(&*self.store, &self.keyring).await? {
            let keys =
                crate::identity::keys::load(&*self.store, &self.keyring, self.clock.now()).await?;
            self.issuer.set_keys(keys);
        }
        Ok(())
    }
}

pub type SharedState = Arc<AppState>;
