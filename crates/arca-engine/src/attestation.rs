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

use arca_crypto::{record_aad, JwkSet};
use arca_store::{BatchItem, DocumentOwner, DocumentRecord, StoreError, WriteBatch};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

fn owner(vault: &str) -> DocumentOwner {
    DocumentOwner::Vault(vault.to_owned())
}

fn aad(vault: &str, issuer: &str) -> Vec<u8> {
    record_aad(vault, "vault", issuer, "", SEALED_FIELD)
}

fn open(
    engine: &Engine,
    vault: &str,
    document: &DocumentRecord,
) -> EngineResult<AttestationIssuer> {
    let plain = engine
        .keyring()
        .open(&aad(vault, &document.id), &document.data)
        .map_err(|_| {
            tracing::error!(vault, "an attestation issuer document does not open");
            EngineError::Internal
        })?;
    let issuer: AttestationIssuer = serde_json::from_slice(plain.expose()).map_err(|_| {
        tracing::error!(vault, "an attestation issuer document does not parse");
        EngineError::Internal
    })?;
    if issuer.issuer != document.id {
        tracing::error!(vault, "an attestation issuer document names another issuer");
        return Err(EngineError::Internal);
    }
    Ok(issuer)
}

/// The issuers `vault` trusts, ordered by URL.
pub async fn issuers(engine: &Engine, vault: &str) -> EngineResult<Vec<AttestationIssuer>> {
    let documents = engine
        .store()
        .list_documents(&owner(vault), DOCUMENT_KIND)
        .await?;
    documents.iter().map(|d| open(engine, vault, d)).collect()
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
    let document = engine
        .store()
        .document(&owner(vault), DOCUMENT_KIND, issuer)
        .await?;
    document.map(|d| open(engine, vault, &d)).transpose()
}

fn vault_not_found(vault: &str) -> EngineError {
    EngineError::VaultNotFound {
        vault: vault.to_owned(),
    }
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
    let existing = engine
        .store()
        .list_documents(&owner(vault), DOCUMENT_KIND)
        .await?;
    let replaces = existing.iter().any(|d| d.id == new.issuer);
    if !replaces && existing.len() >= MAX_ISSUERS_PER_VAULT {
        return Err(invalid(format!(
            "A vault trusts at most {MAX_ISSUERS_PER_VAULT} attestation issuers; delete one first."
        )));
    }
    let json = serde_json::to_vec(&new).map_err(|_| EngineError::Internal)?;
    let data = engine.keyring().seal(&aad(vault, &new.issuer), &json)?;
    let mut batch = WriteBatch::new();
    batch.push(BatchItem::PutDocument(DocumentRecord {
        owner: owner(vault),
        kind: DOCUMENT_KIND.to_owned(),
        id: new.issuer.clone(),
        data,
    }));
    match engine.store().write(&batch).await {
        Ok(_) => Ok(new),
        Err(StoreError::NotFound) => Err(vault_not_found(vault)),
        Err(e) => Err(e.into()),
    }
}

/// Stops trusting `issuer` for `vault`; `false` when it was not trusted.
pub async fn delete_issuer(engine: &Engine, vault: &str, issuer: &str) -> EngineResult<bool> {
    if issuer.len() > MAX_ISSUER_LEN {
        return Ok(false);
    }
    let mut batch = WriteBatch::new();
    batch.push(BatchItem::DeleteDocument {
        owner: owner(vault),
        kind: DOCUMENT_KIND.to_owned(),
        id: issuer.to_owned(),
    });
    match engine.store().write(&batch).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
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
