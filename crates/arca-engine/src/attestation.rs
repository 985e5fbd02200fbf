//! The attestation issuers a vault trusts for key release: per vault, an issuer URL (compared
//! with an attestation token's `iss`) and that issuer's signing keys as an inline JWK set. Each is
//! a sealed document owned by the vault (kind `attestationissuer`, id the issuer URL), so it goes
//! with the vault and a database writer can neither forge nor move one: the sealing binds vault
//! and issuer.
//!
//! Arca never fetches an issuer's keys (no `jwks_uri`, no outbound request, no SSRF surface): the
//! administrator gives them, and gives them again when the issuer rotates its keys.
//!
//! These are administration operations: the admin API authorizes its caller (the administration
//! action at `/`) before calling them, so they take no data-plane [`crate::Authorized`] proof.

use arca_crypto::JwkSet;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::vault_documents::{vault_not_found, VaultDocuments};
use crate::{Engine, EngineError, EngineResult};

/// Most issuers one vault trusts.
pub const MAX_ISSUERS_PER_VAULT: usize = 16;
/// Longest issuer URL, in bytes.
pub const MAX_ISSUER_LEN: usize = 512;
/// Largest JWK set of one issuer, in bytes of its JSON.
pub const MAX_JWKS_BYTES: usize = 32 * 1024;
/// Most keys in one issuer's JWK set.
pub const MAX_JWKS_KEYS: usize = 16;

const DOCUMENT_KIND: &str = "attestationissuer";
/// The field the sealing binds, with the vault and the issuer.
const SEALED_FIELD: &str = "document/attestationissuer";

/// One trusted issuer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttestationIssuer {
    /// The issuer URL, exactly as a token's `iss` must spell it.
    pub issuer: String,
    /// The issuer's JWK set, as given.
    pub jwks: Value,
}

impl AttestationIssuer {
    /// The issuer's usable signing keys.
    pub fn key_set(&self) -> EngineResult<JwkSet> {
        JwkSet::parse(&self.jwks).map_err(|_| {
            tracing::error!("a stored attestation issuer's key set does not parse");
            EngineError::Internal
        })
    }
}

fn invalid(message: String) -> EngineError {
    EngineError::Invalid(message)
}

/// Refuses an issuer URL that is not an `https://` URL of printable ASCII within the limit.
fn check_issuer(issuer: &str) -> EngineResult<()> {
    if issuer.len() > MAX_ISSUER_LEN {
        return Err(invalid(format!(
            "The issuer URL is longer than {MAX_ISSUER_LEN} bytes."
        )));
    }
    let host = issuer.strip_prefix("https://").unwrap_or_default();
    if host.is_empty() || !issuer.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "The issuer must be an https:// URL of printable ASCII characters, as the tokens' iss spells it.".into(),
        ));
    }
    Ok(())
}

/// Refuses a JWK set over the limits or without a usable signing key.
fn check_jwks(jwks: &Value) -> EngineResult<()> {
    let size = serde_json::to_vec(jwks)
        .map_err(|_| EngineError::Internal)?
        .len();
    if size > MAX_JWKS_BYTES {
        return Err(invalid(format!(
            "The JWK set is larger than {MAX_JWKS_BYTES} bytes."
        )));
    }
    let count = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(Vec::len)
        .ok_or_else(|| invalid("The JWK set must be an object with a keys array.".into()))?;
    if count > MAX_JWKS_KEYS {
        return Err(invalid(format!(
            "The JWK set holds more than {MAX_JWKS_KEYS} keys."
        )));
    }
    JwkSet::parse(jwks).map_err(|_| {
        invalid("The JWK set holds no usable signing key (RSA of 2048 bits or more, EC P-256 or P-384).".into())
    })?;
    Ok(())
}

/// The vault documents that hold trusted issuers, one per issuer URL.
const DOCUMENTS: VaultDocuments = VaultDocuments {
    kind: DOCUMENT_KIND,
    field: SEALED_FIELD,
};

/// An issuer document, checked to name the issuer it is stored under.
fn named(id: &str, issuer: AttestationIssuer) -> EngineResult<AttestationIssuer> {
    if issuer.issuer == id {
        Ok(issuer)
    } else {
        crate::integrity::refused_record(DOCUMENT_KIND, id);
        Err(EngineError::Internal)
    }
}

/// The issuers `vault` trusts, ordered by URL.
pub async fn issuers(engine: &Engine, vault: &str) -> EngineResult<Vec<AttestationIssuer>> {
    let documents = DOCUMENTS.list(engine, vault).await?;
    documents
        .into_iter()
        .map(|(id, issuer)| named(&id, issuer))
        .collect()
}

/// The issuer `issuer` of `vault`, if the vault trusts it.
pub async fn issuer(
    engine: &Engine,
    vault: &str,
    issuer: &str,
) -> EngineResult<Option<AttestationIssuer>> {
    if issuer.len() > MAX_ISSUER_LEN {
        return Ok(None);
    }
    let found = DOCUMENTS.get(engine, vault, issuer).await?;
    found.map(|i| named(issuer, i)).transpose()
}

/// Adds or replaces a trusted issuer of `vault`; refuses a new one beyond
/// [`MAX_ISSUERS_PER_VAULT`].
pub async fn put_issuer(
    engine: &Engine,
    vault: &str,
    new: AttestationIssuer,
) -> EngineResult<AttestationIssuer> {
    check_issuer(&new.issuer)?;
    check_jwks(&new.jwks)?;
    if engine.store().vault(vault).await?.is_none() {
        return Err(vault_not_found(vault));
    }
    let replaces = DOCUMENTS
        .get::<AttestationIssuer>(engine, vault, &new.issuer)
        .await?
        .is_some();
    if !replaces && DOCUMENTS.count(engine, vault).await? >= MAX_ISSUERS_PER_VAULT {
        return Err(invalid(format!(
            "A vault trusts at most {MAX_ISSUERS_PER_VAULT} attestation issuers; delete one first."
        )));
    }
    DOCUMENTS.put(engine, vault, &new.issuer, &new).await?;
    Ok(new)
}

/// Stops trusting `issuer` for `vault`; `false` when it was not trusted.
pub async fn delete_issuer(engine: &Engine, vault: &str, issuer: &str) -> EngineResult<bool> {
    if issuer.len() > MAX_ISSUER_LEN {
        return Ok(false);
    }
    DOCUMENTS.delete(engine, vault, issuer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_urls_must_be_https_and_printable() {
        assert!(check_issuer("https://attest.example").is_ok());
        for bad in [
            "http://attest.example",
            "https://",
            "attest.example",
            "https://a b",
        ] {
            assert!(check_issuer(bad).is_err(), "{bad}");
        }
        let long = format!("https://{}", "a".repeat(MAX_ISSUER_LEN));
        assert!(check_issuer(&long).is_err());
    }

    #[test]
    fn key_sets_are_limited() {
        assert!(check_jwks(&serde_json::json!({"keys": []})).is_err());
        assert!(check_jwks(&serde_json::json!({"nokeys": 1})).is_err());
        let many: Vec<Value> = (0..=MAX_JWKS_KEYS)
            .map(|_| serde_json::json!({"kty": "EC"}))
            .collect();
        let refused = check_jwks(&serde_json::json!({ "keys": many }));
        assert!(matches!(refused, Err(EngineError::Invalid(m)) if m.contains("more than")));
        let huge = serde_json::json!({"keys": [], "pad": "x".repeat(MAX_JWKS_BYTES)});
        let refused = check_jwks(&huge);
        assert!(matches!(refused, Err(EngineError::Invalid(m)) if m.contains("larger")));
    }
}
