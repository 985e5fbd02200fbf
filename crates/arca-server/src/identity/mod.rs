//! Arca's own token issuer, compatible with the Entra ID endpoints that azure-identity and MSAL
//! use: OpenID discovery, JWKS, the client-credentials token endpoint and the App Service
//! managed-identity endpoint. Tokens are ES256 JWTs whose audience is the challenge resource.

pub mod endpoints;
pub mod jwks_fetch;
pub mod keys;
pub mod lockout;
pub mod principal;

use std::sync::{Arc, RwLock};

use arca_crypto::SecretString;
use axum::http::HeaderValue;
use serde_json::json;

pub use keys::SigningKeys;

use crate::state::Urls;

/// Tolerated clock difference when checking `nbf` and `exp`, in seconds.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub object_id: String,
    pub client_id: String,
    /// The credential the token was issued through (see `access::secret_credential` and
    /// friends); a token stops working when its credential is removed.
    pub credential: String,
    /// Unix seconds after which the token (plus skew) no longer counts.
    pub expires: i64,
}

/// Why a presented token was refused; never carries token contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("the token is malformed or its signature is invalid")]
    Invalid,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not yet valid")]
    NotYetValid,
}

/// The issuer: tenant, signing key and the settings tokens are minted and checked with.
pub struct Issuer {
    pub tenant_id: String,
    /// The `iss` claim: `<authority>/<tenant>/v2.0`.
    pub issuer: String,
    pub resource: String,
    pub authority_host: String,
    pub token_lifetime: i64,
    keys: RwLock<Arc<SigningKeys>>,
    /// The App Service endpoint's `X-IDENTITY-HEADER`; replaced by a rotation.
    identity_header: RwLock<Arc<SecretString>>,
    /// The client id the App Service managed-identity endpoint issues tokens for when a request
    /// names none; `None` (the default): only managed identities requested by id. Serving the
    /// administrator is an explicit choice (`--app-service-identity`).
    pub managed_identity_client: Option<String>,
    /// The client id the IMDS endpoint issues tokens for by default; `None` (the default): only
    /// managed identities requested by id. IMDS has no secret of its own, so serving the
    /// administrator to every local process is an explicit choice (`--imds-identity`).
    pub imds_client: Option<String>,
    /// Whether the App Service endpoint answers callers on other machines (`--app-service-remote`);
    /// by default it answers loopback callers only.
    pub app_service_remote: bool,
    /// `<data-dir>/bootstrap.json`, whose `identity_header` a rotation rewrites; `None` in tests.
    pub bootstrap_file: Option<std::path::PathBuf>,
    /// Bounds concurrent slow-hash verifications so the token endpoint cannot starve the server.
    pub hash_slots: tokio::sync::Semaphore,
    /// Client-secret verifications run so far (one per stored hash tried, or the dummy hash for
    /// an unknown client): lets tests check that every path pays for one.
    pub secret_verifications: std::sync::atomic::AtomicU64,
    challenge: HeaderValue,
}

impl Issuer {
    pub fn new(
        urls: &Urls,
        tenant_id: String,
        keys: SigningKeys,
        identity_header: SecretString,
        managed_identity_client: Option<String>,
        token_lifetime: i64,
    ) -> Result<Self, axum::http::header::InvalidHeaderValue> {
        let challenge = HeaderValue::from_str(&format!(
            "Bearer authorization=\"{}/{}\", resource=\"{}\"",
            urls.authority_host, tenant_id, urls.resource
        ))?;
        Ok(Self {
            issuer: format!("{}/{}/v2.0", urls.authority_host, tenant_id),
            resource: urls.resource.clone(),
            authority_host: urls.authority_host.clone(),
            tenant_id,
            token_lifetime,
            keys: RwLock::new(Arc::new(keys)),
            identity_header: RwLock::new(Arc::new(identity_header)),
            imds_client: None,
            managed_identity_client,
            app_service_remote: false,
            bootstrap_file: None,
            hash_slots: tokio::sync::Semaphore::new(2),
            secret_verifications: Default::default(),
            challenge,
        })
    }

    /// The `WWW-Authenticate` value of every 401.
    pub fn challenge(&self) -> HeaderValue {
        self.challenge.clone()
    }

    /// The keys in use.
    pub fn keys(&self) -> Arc<SigningKeys> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the keys (after a rotation, or when another replica rotated).
    pub fn set_keys(&self, keys: SigningKeys) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
    }

    /// The JWK set: every key that may still verify a token.
    pub fn jwks(&self) -> serde_json::Value {
        let keys = self.keys();
        let published: Vec<_> = keys.verifying.iter().map(|k| k.to_jwk()).collect();
        json!({ "keys": published })
    }

    /// The maximum life of a token including skew: how long a retired key must keep verifying.
    pub fn key_overlap(&self) -> i64 {
        self.token_lifetime + CLOCK_SKEW_SECS
    }

    pub fn identity_header_matches(&self, presented: &str) -> bool {
        let current = self
            .identity_header
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        arca_crypto::ct_eq(presented.as_bytes(), current.expose().as_bytes())
    }

    /// Replaces the App Service identity header (after a rotation here or on another replica);
    /// the previous one stops matching at once.
    pub fn set_identity_header(&self, header: SecretString) {
        *self
            .identity_header
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(header);
    }

    /// Whether `tenant`, as a request path names it, is this deployment's: its tenant id (in any
    /// case) or one of the multi-tenant aliases `organizations` and `common`.
    pub fn serves_tenant(&self, tenant: &str) -> bool {
        tenant.eq_ignore_ascii_case(&self.tenant_id)
            || tenant.eq_ignore_ascii_case("organizations")
            || tenant.eq_ignore_ascii_case("common")
    }

    /// Mints an access token for a principal. Returns the token and its expiry (Unix seconds).
    pub fn issue(
        &self,
        client_id: &str,
        object_id: &str,
        credential: &str,
        now: i64,
        token_id: &str,
    ) -> Result<(String, i64), arca_crypto::CryptoError> {
        let exp = now + self.token_lifetime;
        let claims = json!({
            "aud": self.resource,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "sub": object_id,
            "oid": object_id,
            "tid": self.tenant_id,
            "appid": client_id,
            "azp": client_id,
            "idtyp": "app",
            "ver": "2.0",
            "uti": token_id,
            "arca_cred": credential,
        });
        Ok((self.keys().signing.sign(&claims)?, exp))
    }

    /// Verifies signature, issuer, audience, `nbf` and `exp` of a presented token.
    pub fn verify(&self, token: &str, now: i64) -> Result<Caller, TokenRejection> {
        let claims = arca_crypto::verify_jwt(token, &self.keys().verifying)
            .map_err(|_| TokenRejection::Invalid)?;
        let text = |k: &str| claims.get(k).and_then(|v| v.as_str());
        let int = |k: &str| claims.get(k).and_then(|v| v.as_i64());
        if text("iss") != Some(self.issuer.as_str()) {
            return Err(TokenRejection::WrongIssuer);
        }
        let audience_ok = match claims.get("aud") {
            Some(serde_json::Value::String(a)) => *a == self.resource,
            Some(serde_json::Value::Array(list)) => list
                .iter()
                .any(|a| a.as_str() == Some(self.resource.as_str())),
            _ => false,
        };
        if !audience_ok {
            return Err(TokenRejection::WrongAudience);
        }
        let exp = int("exp").ok_or(TokenRejection::Invalid)?;
        if now > exp + CLOCK_SKEW_SECS {
            return Err(TokenRejection::Expired);
        }
        if let Some(nbf) = int("nbf") {
            if now + CLOCK_SKEW_SECS < nbf {
                return Err(TokenRejection::NotYetValid);
            }
        }
        let (Some(oid), Some(appid), Some(credential)) = (
            text("oid"),
            text("appid").or_else(|| text("azp")),
            text("arca_cred"),
        ) else {
            return Err(TokenRejection::Invalid);
        };
        Ok(Caller {
            object_id: oid.to_owned(),
            client_id: appid.to_owned(),
            credential: credential.to_owned(),
            expires: exp + CLOCK_SKEW_SECS,
        })
    }
}

/// An Argon2id hash (same parameters as every client-secret hash) of a random secret nobody
/// knows, made once per process: a client-secret request for an unknown client id, or for one
/// without an unexpired secret, is verified against it, so that it costs what a known client id
/// costs and the answer time does not tell whether the client id exists. `None` only if no
/// randomness was available.
pub fn dummy_secret_hash() -> Option<&'static str> {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let secret =
                arca_crypto::SecretBytes::from_slice(&arca_crypto::random_bytes::<32>().ok()?);
            arca_crypto::hash_client_secret(secret.expose()).ok()
        })
        .as_deref()
}

/// Runs a client-secret hash or verification (Argon2id, 7 MiB of memory) on a thread of its own
/// and waits for it without blocking the runtime. The thread ends with the hash, so the allocator
/// hands its memory back to the system at once instead of leaving it with a pooled thread.
/// `None` if the thread could not be started or did not finish.
pub async fn run_hash<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("arca-argon2".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .ok()?;
    rx.await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> Issuer {
        let (key, _) = arca_crypto::TokenSigningKey::generate().unwrap();
        Issuer::new(
            &Urls::new("localhost", "vault.localhost", 8443),
            "tid".into(),
            SigningKeys::single(key),
            SecretString::new("h".into()),
            Some("cid".into()),
            3600,
        )
        .unwrap()
    }

    #[test]
    fn issued_tokens_verify_within_their_lifetime_only() {
        let i = issuer();
        let (token, exp) = i.issue("cid", "oid", "s:1", 1_000, "u").unwrap();
        assert_eq!(exp, 4_600);
        let caller = i.verify(&token, 1_000).unwrap();
        assert_eq!(
            (caller.object_id.as_str(), caller.client_id.as_str()),
            ("oid", "cid")
        );
        assert_eq!(
            i.verify(&token, 4_600 + CLOCK_SKEW_SECS + 1),
            Err(TokenRejection::Expired)
        );
        assert_eq!(
            i.verify(&token, 1_000 - CLOCK_SKEW_SECS - 1),
            Err(TokenRejection::NotYetValid)
        );
    }

    #[test]
    fn tokens_of_another_issuer_or_audience_are_refused() {
        let a = issuer();
        let (token, _) = a.issue("cid", "oid", "s:1", 1_000, "u").unwrap();
        // Same key, other resource: the audience check fails.
        let mut b = Issuer::new(
            &Urls::new("localhost", "other.localhost", 8443),
            "tid".into(),
            SigningKeys::single(arca_crypto::TokenSigningKey::generate().unwrap().0),
            SecretString::new("h".into()),
            None,
            60,
        )
        .unwrap();
        b.set_keys(SigningKeys {
            signing: arca_crypto::TokenSigningKey::generate().unwrap().0,
            verifying: a.keys().verifying.clone(),
            info: vec![],
        });
        b.issuer = a.issuer.clone();
        assert_eq!(b.verify(&token, 1_000), Err(TokenRejection::WrongAudience));
        b.resource = a.resource.clone();
        b.issuer = "https://elsewhere/tid/v2.0".into();
        assert_eq!(b.verify(&token, 1_000), Err(TokenRejection::WrongIssuer));
        // Another key altogether: the signature check fails.
        let c = issuer();
        assert_eq!(c.verify(&token, 1_000), Err(TokenRejection::Invalid));
    }

    #[test]
    fn challenge_names_authority_and_resource() {
        let i = issuer();
        assert_eq!(
            i.challenge().to_str().unwrap(),
            r#"Bearer authorization="https://localhost:8443/tid", resource="https://vault.localhost:8443""#
        );
        let on_443 = Urls::new("localhost", "vault.example.com", 443);
        assert_eq!(on_443.resource, "https://vault.example.com");
        assert_eq!(on_443.vault_url("a"), "https://a.vault.example.com");
    }
}
