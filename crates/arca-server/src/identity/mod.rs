//! Arca's own token issuer, compatible with the Entra ID endpoints that azure-identity and MSAL
//! use: OpenID discovery, JWKS, the client-credentials token endpoints, the managed-identity
//! endpoints (App Service, IMDS) and the management plane `az login` signs in to. Tokens are ES256 JWTs whose audience is the challenge resource.

pub mod endpoints;
pub mod jwks_fetch;
pub mod keys;
pub mod lockout;
pub mod management;
pub mod principal;

use std::sync::{Arc, RwLock};

use arca_crypto::SecretString;
use axum::http::HeaderValue;
use serde_json::json;

pub use keys::SigningKeys;

use crate::auth::caller::Caller;
use crate::urls::Urls;

/// Tolerated clock difference when checking `nbf` and `exp`, in seconds.
pub const CLOCK_SKEW_SECS: i64 = 60;

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

/// What a token is for: the data plane (and admin API), or the management plane that `az login`
/// signs in to. A token for one is refused by the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    Data,
    Management,
}

/// The issuer: tenant, signing key and the settings tokens are minted and checked with.
pub struct Issuer {
    pub tenant_id: String,
    /// The `iss` claim: `<authority>/<tenant>/v2.0`.
    pub issuer: String,
    /// The vaults' resource, `https://<dns-suffix>[:port]`: the challenge resource of vault hosts.
    pub resource: String,
    /// Every resource a data-plane token may be issued for: [`Issuer::resource`] and the origins
    /// that serve the `default` vault ([`Urls::origins`]). All are accepted by every vault.
    pub data_plane_resources: Vec<String>,
    /// The management plane's resource ([`Urls::management_resource`]).
    pub management_resource: String,
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
    /// The `WWW-Authenticate` value per data-plane resource, in the order of
    /// `data_plane_resources`.
    challenges: Vec<HeaderValue>,
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
        let mut data_plane_resources = vec![urls.resource.clone()];
        data_plane_resources.extend(urls.origins.iter().cloned());
        let challenges = data_plane_resources
            .iter()
            .map(|resource| {
                HeaderValue::from_str(&format!(
                    "Bearer authorization=\"{}/{}\", resource=\"{}\"",
                    urls.authority_host, tenant_id, resource
                ))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            issuer: format!("{}/{}/v2.0", urls.authority_host, tenant_id),
            resource: urls.resource.clone(),
            data_plane_resources,
            management_resource: urls.management_resource.clone(),
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
            challenges,
        })
    }

    /// The `WWW-Authenticate` value of a 401 on a vault host.
    pub fn challenge(&self) -> HeaderValue {
        self.challenges[0].clone()
    }

    /// The `WWW-Authenticate` value of a 401 for a request to `origin` (one of
    /// [`Urls::origins`]), whose resource the SDKs check against the host they called.
    pub fn challenge_for_origin(&self, origin: &str) -> HeaderValue {
        self.data_plane_resources
            .iter()
            .position(|r| r == origin)
            .map_or_else(|| self.challenge(), |i| self.challenges[i].clone())
    }

    /// The resource a requested one names (`<resource>[/.default]`, any case, trailing slashes
    /// ignored), in its canonical spelling, and the plane it belongs to; `None` if this issuer
    /// does not serve it.
    pub fn served_resource(&self, requested: &str) -> Option<(&str, Plane)> {
        let requested = requested.strip_suffix("/.default").unwrap_or(requested);
        let requested = requested.trim_end_matches('/');
        if requested.eq_ignore_ascii_case(&self.management_resource) {
            return Some((&self.management_resource, Plane::Management));
        }
        self.data_plane_resources
            .iter()
            .find(|r| r.eq_ignore_ascii_case(requested))
            .map(|r| (r.as_str(), Plane::Data))
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

    /// Mints an access token for a principal, for the vaults' resource. Returns the token and its
    /// expiry (Unix seconds).
    pub fn issue(
        &self,
        client_id: &str,
        object_id: &str,
        credential: &str,
        now: i64,
        token_id: &str,
    ) -> Result<(String, i64), arca_crypto::CryptoError> {
        self.issue_for(
            &self.resource,
            client_id,
            object_id,
            credential,
            now,
            token_id,
        )
    }

    /// Mints an access token for a principal whose audience is `audience` (one of the resources
    /// [`Issuer::served_resource`] returns).
    pub fn issue_for(
        &self,
        audience: &str,
        client_id: &str,
        object_id: &str,
        credential: &str,
        now: i64,
        token_id: &str,
    ) -> Result<(String, i64), arca_crypto::CryptoError> {
        let exp = now + self.token_lifetime;
        let claims = json!({
            "aud": audience,
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

    /// Verifies signature, issuer, audience, `nbf` and `exp` of a presented data-plane token.
    pub fn verify(&self, token: &str, now: i64) -> Result<Caller, TokenRejection> {
        self.verify_for(token, now, Plane::Data)
    }

    /// Verifies a presented token whose audience must belong to `plane`.
    pub fn verify_for(
        &self,
        token: &str,
        now: i64,
        plane: Plane,
    ) -> Result<Caller, TokenRejection> {
        let claims = arca_crypto::verify_jwt(token, &self.keys().verifying)
            .map_err(|_| TokenRejection::Invalid)?;
        let text = |k: &str| claims.get(k).and_then(|v| v.as_str());
        let int = |k: &str| claims.get(k).and_then(|v| v.as_i64());
        if text("iss") != Some(self.issuer.as_str()) {
            return Err(TokenRejection::WrongIssuer);
        }
        let accepted = |a: &str| match plane {
            Plane::Data => self.data_plane_resources.iter().any(|r| r == a),
            Plane::Management => a == self.management_resource,
        };
        let audience_ok = match claims.get("aud") {
            Some(serde_json::Value::String(a)) => accepted(a),
            Some(serde_json::Value::Array(list)) => {
                list.iter().any(|a| a.as_str().is_some_and(accepted))
            }
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
        b.data_plane_resources = a.data_plane_resources.clone();
        b.issuer = "https://elsewhere/tid/v2.0".into();
        assert_eq!(b.verify(&token, 1_000), Err(TokenRejection::WrongIssuer));
        // Another key altogether: the signature check fails.
        let c = issuer();
        assert_eq!(c.verify(&token, 1_000), Err(TokenRejection::Invalid));
    }

    #[test]
    fn origin_and_management_tokens_go_to_their_own_plane() {
        let i = issuer();
        assert_eq!(
            i.served_resource("HTTPS://127.0.0.1:8443/.default"),
            Some(("https://127.0.0.1:8443", Plane::Data))
        );
        assert_eq!(
            i.served_resource("https://localhost:8443/management/"),
            Some(("https://localhost:8443/management", Plane::Management))
        );
        assert_eq!(i.served_resource("https://vault.azure.net/.default"), None);
        let (origin, _) = i.served_resource("https://localhost:8443").unwrap();
        let (token, _) = i
            .issue_for(origin, "cid", "oid", "s:1", 1_000, "u")
            .unwrap();
        assert!(i.verify(&token, 1_000).is_ok());
        assert_eq!(
            i.verify_for(&token, 1_000, Plane::Management),
            Err(TokenRejection::WrongAudience)
        );
        let (management, _) = i
            .served_resource("https://localhost:8443/management")
            .unwrap();
        let (token, _) = i
            .issue_for(management, "cid", "oid", "s:1", 1_000, "u")
            .unwrap();
        assert_eq!(i.verify(&token, 1_000), Err(TokenRejection::WrongAudience));
        assert!(i.verify_for(&token, 1_000, Plane::Management).is_ok());
        assert_eq!(
            i.challenge_for_origin("https://127.0.0.1:8443")
                .to_str()
                .unwrap(),
            r#"Bearer authorization="https://localhost:8443/tid", resource="https://127.0.0.1:8443""#
        );
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
