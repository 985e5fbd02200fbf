//! The shared state every request handler reads: storage, keyring, clock, identity settings and
//! caches. Built once at start-up by `bootstrap`, then immutable apart from its caches.

use std::sync::Arc;

use arca_core::Clock;
use arca_crypto::Keyring;
use arca_store::Store;

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
    /// The DNS suffix vault hosts end with.
    pub dns_suffix: String,
    /// The port clients connect to (443 is omitted from URLs).
    pub port: u16,
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
        Self {
            authority_host: format!("https://{host}{port_part}"),
            resource: format!("https://{dns_suffix}{port_part}"),
            dns_suffix: dns_suffix.to_owned(),
            port,
        }
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
    pub urls: Urls,
    pub issuer: Issuer,
    pub tokens: TokenCache,
    /// Roles, assignments, principals' credentials and network rules, as of the last refresh.
    pub access: Access,
    /// JWK sets of federated issuers given by URL.
    pub jwks: JwksCache,
    /// Failed client-secret attempts per client id.
    pub lockout: Lockout,
}

impl AppState {
    /// Brings the access snapshot (and, when it moved, the signing keys) up to date with the
    /// store. Called after every change made through this process, and every second.
    pub async fn refresh_access(&self) -> anyhow::Result<()> {
        if self.access.refresh(&*self.store).await? {
            let keys =
                crate::identity::keys::load(&*self.store, &self.keyring, self.clock.now()).await?;
            self.issuer.set_keys(keys);
        }
        Ok(())
    }
}

pub type SharedState = Arc<AppState>;
