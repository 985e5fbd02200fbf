//! How a certificate is stored, and the one write that adds a version.
//!
//! A certificate version is three object versions with the same name and version id, written in
//! one [`WriteBatch`]:
//! - the certificate's own version (kind `certificate`): its chain (DER, leaf first or in the
//!   order kept by `preserveCertOrder`) sealed as the field `chain`, and sealed metadata (the
//!   leaf's thumbprint, the secret's content type, tags); its clear `nbf`/`exp` are the leaf's
//!   validity;
//! - the key (kind `key`, managed by the certificate): the private key as the keys API stores
//!   it, with the `key_ops` the policy's key usages give;
//! - the secret (kind `secret`, managed by the certificate): the chain with the private key
//!   (without it when the policy's key is not exportable) as PFX base64 or PEM text.
//!
//! Besides the versions: the policy is a sealed document owned by the certificate object (it
//! lives, is soft-deleted, recovered and purged with it), and the pending operation is a sealed
//! document of the vault keyed by the certificate's lower-case name, so that a listing with
//! `includePending` can find certificates that have no version yet. A pending operation of the
//! `Unknown` issuer holds the private key of the CSR until the signed chain is merged.

use arca_core::{ObjectAddress, ObjectKind, ObjectName};
use arca_crypto::keys::PrivateKey;
use arca_crypto::pki::certs::{build_pem_secret, build_pfx, ParsedCertificate};
use arca_crypto::record_aad;
use arca_proto::certificates::{CertificatePolicy, IssuerParameters, Tags};
use arca_proto::{ErrorDetail, SecretText};
use arca_store::{
    BatchItem, DocumentOwner, DocumentRecord, ObjectRecord, VaultRecord, VersionRecord,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::policy::{self, PEM};
use crate::objects::{self, ClearAttributes};
use crate::vault_documents::VaultDocuments;
use crate::{integrity, keys, secrets, Engine, EngineError, EngineResult};

pub(crate) const KIND: ObjectKind = ObjectKind::Certificate;
/// The field of a certificate version that holds its sealed chain.
const CHAIN_FIELD: &str = "chain";
/// The store document kind of a certificate's policy (owned by the certificate).
const POLICY_DOCUMENT: &str = "certificate-policy";

/// The pending operations of a vault's certificates, by lower-case name.
pub(crate) const PENDING: VaultDocuments = VaultDocuments {
    kind: "certificate-pending",
    field: "pending",
};

/// The store address of the certificate `name`.
pub(crate) fn address(vault: &str, name: &ObjectName) -> ObjectAddress {
    ObjectAddress::new(vault, KIND, name.as_str())
}

/// The sealed metadata of a certificate version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// The leaf's SHA-1 thumbprint, base64url.
    pub x5t: String,
    /// The content type of the version's secret.
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_cert_order: Option<bool>,
}

/// The stored policy document: the normalized policy and when it was set and last changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPolicy {
    pub policy: CertificatePolicy,
    pub created: i64,
    pub updated: i64,
}

/// A certificate's pending operation, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The certificate's name as spelled by the create.
    pub name: String,
    pub issuer: IssuerParameters,
    /// The CSR, DER in standard base64 (the `Unknown` issuer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
    /// The private key of the CSR, in the keys API's storage form (base64url), until merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<SecretText>,
    pub cancellation_requested: bool,
    /// `inProgress`, `completed`, `cancelled` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    /// The version the operation made, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_cert_order: Option<bool>,
    /// 32 hex digits.
    pub request_id: String,
    /// What the merged version will be: enabled, and its tags.
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

pub(crate) const IN_PROGRESS: &str = "inProgress";
pub(crate) const COMPLETED: &str = "completed";
pub(crate) const CANCELLED: &str = "cancelled";

impl Pending {
    pub(crate) fn is_in_progress(&self) -> bool {
        self.status == IN_PROGRESS
    }

    /// The pending private key.
    pub(crate) fn private_key(&self) -> EngineResult<Option<PrivateKey>> {
        let Some(text) = &self.key else {
            return Ok(None);
        };
        let bytes = crate::b64url_decode(text.expose())
            .map(arca_crypto::SecretBytes::new)
            .ok_or(EngineError::Internal)?;
        PrivateKey::from_storage(bytes.expose())
            .map(Some)
            .map_err(|_| {
                tracing::error!("a pending certificate's key does not parse");
                EngineError::Internal
            })
    }
}

/// The key's storage form as pending-document text.
pub(crate) fn pending_key_text(key: &PrivateKey) -> EngineResult<SecretText> {
    let stored = key.to_storage().map_err(|_| EngineError::Internal)?;
    Ok(SecretText::new(crate::b64url(stored.expose())))
}

/// The pending operation of `name`, if there is one.
pub(crate) async fn pending(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
) -> EngineResult<Option<Pending>> {
    PENDING.get(engine, vault, name.key()).await
}

// ---- the policy document ----

fn policy_aad(vault: &str, name: &ObjectName) -> Vec<u8> {
    record_aad(vault, KIND.as_str(), name.key(), "", "policy")
}

/// The batch item that writes the policy of `name`.
pub(crate) fn policy_item(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    stored: &StoredPolicy,
) -> EngineResult<BatchItem> {
    let json =
        zeroize::Zeroizing::new(serde_json::to_vec(stored).map_err(|_| EngineError::Internal)?);
    Ok(BatchItem::PutDocument(DocumentRecord {
        owner: DocumentOwner::Object(address(vault, name)),
        kind: POLICY_DOCUMENT.to_owned(),
        id: String::new(),
        data: engine.keyring().seal(&policy_aad(vault, name), &json)?,
    }))
}

/// The stored policy of `name` (in any state of the certificate), if there is one.
pub(crate) async fn policy(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
) -> EngineResult<Option<StoredPolicy>> {
    let owner = DocumentOwner::Object(address(vault, name));
    let Some(document) = engine.store().document(&owner, POLICY_DOCUMENT, "").await? else {
        return Ok(None);
    };
    let plain = engine
        .keyring()
        .open(&policy_aad(vault, name), &document.data)
        .map_err(|_| {
            integrity::refused_record(POLICY_DOCUMENT, name.key());
            EngineError::Internal
        })?;
    serde_json::from_slice(plain.expose())
        .map(Some)
        .map_err(|_| {
            tracing::error!(vault, "a stored certificate policy does not parse");
            EngineError::Internal
        })
}

// ---- versions ----

/// The chain of a version as sealed: the certificates' DER, base64.
#[derive(Serialize, Deserialize)]
struct Chain(Vec<String>);

/// The chain (DER, in stored order) of a certificate version.
pub(crate) fn open_chain(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    record: &VersionRecord,
) -> EngineResult<Vec<Vec<u8>>> {
    let plain = objects::open_field(
        engine,
        vault,
        KIND,
        name,
        &record.version,
        CHAIN_FIELD,
        &record.value,
    )?;
    let chain: Chain = serde_json::from_slice(plain.expose()).map_err(|_| EngineError::Internal)?;
    chain
        .0
        .iter()
        .map(|c| STANDARD.decode(c).map_err(|_| EngineError::Internal))
        .collect()
}

/// What makes a new certificate version, besides its id and time.
pub(crate) struct NewVersion<'a> {
    /// The chain, DER, leaf first or in the order to keep; the leaf holds `key`.
    pub chain: &'a [Vec<u8>],
    pub key: &'a PrivateKey,
    pub policy: &'a CertificatePolicy,
    pub enabled: bool,
    pub tags: Option<Tags>,
    pub preserve_cert_order: Option<bool>,
}

/// The position of the leaf (the certificate holding the key) in a stored chain.
pub(crate) fn leaf_of(chain: &[Vec<u8>], key: &PrivateKey) -> EngineResult<ParsedCertificate> {
    for der in chain {
        let parsed = ParsedCertificate::from_der(der).map_err(|_| EngineError::Internal)?;
        if parsed.public_key_matches(key) {
            return Ok(parsed);
        }
    }
    tracing::error!("no certificate of a chain holds the certificate's key");
    Err(EngineError::Internal)
}

/// The secret's value for a chain and key under `policy`: PFX (base64) or PEM, with the private
/// key only when the policy's key is exportable. The chain is written leaf first.
fn secret_value(
    chain: &[Vec<u8>],
    key: &PrivateKey,
    policy: &CertificatePolicy,
) -> EngineResult<(arca_crypto::SecretString, String)> {
    let exportable = policy
        .key_props
        .as_ref()
        .and_then(|k| k.exportable)
        .unwrap_or(false);
    let content_type = content_type(policy);
    let with_key = exportable.then_some(key);
    let value = if content_type == PEM {
        build_pem_secret(with_key, chain)?
    } else {
        let pfx = build_pfx(with_key, chain)?;
        arca_crypto::SecretString::new(STANDARD.encode(pfx.expose()))
    };
    Ok((value, content_type.to_owned()))
}

/// The content type of a normalized policy's secret.
pub(crate) fn content_type(policy: &CertificatePolicy) -> &str {
    policy
        .secret_props
        .as_ref()
        .and_then(|s| s.content_type.as_deref())
        .unwrap_or(policy::PKCS12)
}

fn is_hsm(policy: &CertificatePolicy) -> bool {
    policy
        .key_props
        .as_ref()
        .and_then(|k| k.kty.as_deref())
        .is_some_and(|k| k.ends_with("-HSM"))
}

/// The batch items that add a new version (certificate, key and secret, with a fresh version
/// id) of `name` and make it current; with the certificate's version record (its id included)
/// and metadata, for the answer.
pub(crate) fn version_items(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    new: NewVersion<'_>,
) -> EngineResult<(Vec<BatchItem>, VersionRecord, Meta)> {
    let leaf = leaf_of(new.chain, new.key)?;
    let now = engine.now();
    let version = objects::new_version_id()?.to_string();
    let version = version.as_str();
    let attributes = ClearAttributes {
        version: version.to_owned(),
        created: now,
        updated: now,
        enabled: new.enabled,
        nbf: Some(leaf.not_before),
        exp: Some(leaf.not_after),
    };
    let (value, content_type) = secret_value(new.chain, new.key, new.policy)?;
    let meta = Meta {
        x5t: crate::b64url(&leaf.sha1),
        content_type: content_type.clone(),
        tags: new.tags,
        preserve_cert_order: new.preserve_cert_order,
    };
    let chain = Chain(new.chain.iter().map(|c| STANDARD.encode(c)).collect());
    let chain = serde_json::to_vec(&chain).map_err(|_| EngineError::Internal)?;
    let certificate = attributes.seal(engine, vault, KIND, name, CHAIN_FIELD, &chain, &meta)?;
    let key = keys::certificate_key_record(
        engine,
        vault,
        name,
        &attributes,
        new.key,
        is_hsm(new.policy),
        policy::key_ops(new.policy),
    )?;
    let secret = secrets::certificate_secret_record(
        engine,
        vault,
        name,
        &attributes,
        value.expose(),
        &content_type,
    )?;
    let manager = address(vault, name);
    let mut items = Vec::with_capacity(3);
    for (kind, record, managed_by) in [
        (KIND, certificate.clone(), None),
        (ObjectKind::Key, key, Some(manager.clone())),
        (ObjectKind::Secret, secret, Some(manager.clone())),
    ] {
        items.push(BatchItem::PutVersion {
            address: ObjectAddress::new(vault, kind, name.as_str()),
            head: integrity::seal_head(engine.keyring(), vault, kind, name.key(), version)?,
            version: record,
            managed_by,
        });
    }
    Ok((items, certificate, meta))
}

/// The same version's key and secret records, with `enabled` changed, for an update that keeps
/// the three in step; `None` for one that does not exist (it is then left alone).
pub(crate) async fn managed_updates(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    record: &VersionRecord,
) -> EngineResult<Vec<BatchItem>> {
    let mut items = Vec::new();
    for kind in [ObjectKind::Key, ObjectKind::Secret] {
        let address = ObjectAddress::new(vault, kind, name.as_str());
        let Some(found) = engine
            .store()
            .version(&address, Some(&record.version))
            .await?
        else {
            continue;
        };
        if found.object.managed_by.is_none() {
            continue;
        }
        let mut version = found.version;
        if version.enabled == record.enabled {
            continue;
        }
        // The clear attributes are bound into the metadata's sealing: open and seal it again.
        let meta: serde_json::Value = objects::open_meta(engine, vault, kind, name, &version)?;
        version.enabled = record.enabled;
        version.updated = record.updated;
        version.meta = objects::seal_meta(engine, vault, kind, name, &version, &meta)?;
        items.push(BatchItem::UpdateVersion { address, version });
    }
    Ok(items)
}

/// One certificate version as operations return it: public material only.
#[derive(Debug, Clone)]
pub struct CertificateView {
    /// The name as first spelled.
    pub name: String,
    pub version: String,
    pub x5t: String,
    /// The leaf, DER.
    pub cer: Vec<u8>,
    pub content_type: String,
    pub enabled: bool,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub created: i64,
    pub updated: i64,
    pub tags: Option<Tags>,
    pub preserve_cert_order: Option<bool>,
    /// The certificate's policy, where the operation returns it.
    pub policy: Option<CertificatePolicy>,
    pub deleted: Option<arca_store::Deletion>,
    /// The vault's retention, for the attributes.
    pub recoverable_days: u32,
    pub recovery_level: &'static str,
}

/// The view of a stored version (its metadata opened; with the leaf when `with_cer`).
pub(crate) fn view(
    engine: &Engine,
    vault: &VaultRecord,
    name: &ObjectName,
    object: &ObjectRecord,
    record: &VersionRecord,
    with_cer: bool,
) -> EngineResult<CertificateView> {
    let meta: Meta = objects::open_meta(engine, &vault.name, KIND, name, record)?;
    let cer = if with_cer {
        let chain = open_chain(engine, &vault.name, name, record)?;
        leaf_der(&chain, &meta.x5t)?
    } else {
        Vec::new()
    };
    Ok(view_of(vault, object, record, meta, cer))
}

/// The certificate of `chain` whose thumbprint is `x5t`.
pub(crate) fn leaf_der(chain: &[Vec<u8>], x5t: &str) -> EngineResult<Vec<u8>> {
    for der in chain {
        let parsed = ParsedCertificate::from_der(der).map_err(|_| EngineError::Internal)?;
        if crate::b64url(&parsed.sha1) == x5t {
            return Ok(parsed.der);
        }
    }
    tracing::error!("a stored certificate chain lacks its leaf");
    Err(EngineError::Internal)
}

/// The view of a version just written: the object as it now is, the leaf, and the policy.
pub(crate) async fn written_view(
    engine: &Engine,
    vault: &VaultRecord,
    name: &ObjectName,
    (record, meta): (VersionRecord, Meta),
    leaf: Vec<u8>,
    policy: CertificatePolicy,
) -> EngineResult<CertificateView> {
    let object = engine
        .store()
        .object(&address(&vault.name, name))
        .await?
        .ok_or(EngineError::Internal)?;
    let mut view = view_of(vault, &object, &record, meta, leaf);
    view.policy = Some(policy);
    Ok(view)
}

pub(crate) fn view_of(
    vault: &VaultRecord,
    object: &ObjectRecord,
    record: &VersionRecord,
    meta: Meta,
    cer: Vec<u8>,
) -> CertificateView {
    let settings = objects::settings(vault);
    CertificateView {
        name: object.name.clone(),
        version: record.version.clone(),
        x5t: meta.x5t,
        cer,
        content_type: meta.content_type,
        enabled: record.enabled,
        nbf: record.nbf,
        exp: record.exp,
        created: record.created,
        updated: record.updated,
        tags: meta.tags,
        preserve_cert_order: meta.preserve_cert_order,
        policy: None,
        deleted: object.deleted,
        recoverable_days: settings.retention_days,
        recovery_level: settings.recovery_level().as_str(),
    }
}
