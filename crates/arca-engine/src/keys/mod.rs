//! Keys on the shared object lifecycle: create, import, get, update, list, versions, delete,
//! recover, purge, rotate; and, in the submodules, the cryptographic operations (`crypto`),
//! backup and restore (`backup`), the rotation policy (`policy`) and automatic rotation by that
//! policy (`rotation`, run by the server's background job).
//!
//! A key version is stored as the sealed private key (`PrivateKey::to_storage`, field `key`,
//! associated data binding vault, kind, name and version) and sealed metadata: the public JWK
//! with its `key_ops` and Key Vault `kty`, the key size, tags, `exportable` and the release
//! policy. Views carry public material only: the private members of a JWK have no place in
//! [`KeyView`]. Key material is generated and used only through `arca_crypto::keys`, held in its
//! zeroizing types, and never put into an error, a log or `Debug` output.
//!
//! Key release (`release`): an exportable key wrapped for a target that an attestation token
//! from one of the vault's trusted issuers vouches for, when the token satisfies the key's release
//! policy. A release policy marked immutable is never replaced: `update` refuses it, and `rotate`
//! copies the policy to the new version as it is.

mod backup;
mod cache;
mod crypto;
mod policy;
mod release;
mod rotation;
#[cfg(test)]
mod tests;

use arca_core::{ObjectKind, ObjectName, Operation, VersionId};
use arca_crypto::keys::{Curve, KeyError, KeyType, PrivateKey, RsaPrivateComponents};
use arca_crypto::SecretBytes;
use arca_proto::keys::{
    JsonWebKey, KeyAttributes, KeyAttributesIn, KeyCreateParameters, KeyImportParameters,
    KeyReleasePolicy, KeyUpdateParameters, PrivateJsonWebKey, SecretAttributes, Tags,
};
use arca_store::{Deletion, LeaseFence, Listing, ObjectRecord, VaultRecord, VersionRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::objects::{self, require_object, Page};
use crate::{Authorized, Engine, EngineError, EngineResult};

pub use backup::{backup, restore};
pub(crate) use cache::KeyCache;
pub use crypto::{
    decrypt, encrypt, random_bytes, sign, unwrap_key, verify, wrap_key, KeyRef, KeyUse, Outcome,
    MAX_RANDOM_BYTES,
};
pub use policy::{rotation_policy, update_rotation_policy};
pub use release::{release, ReleaseRequest, Released, CLOCK_SKEW};
pub use rotation::{rotate_due, Rotated, RotationRun};

const KIND: ObjectKind = ObjectKind::Key;
/// The field of a version that holds its sealed private key.
const KEY_FIELD: &str = "key";

/// One key version as operations return it: public material only.
#[derive(Debug, Serialize)]
pub struct KeyView {
    /// The name as first spelled.
    pub name: String,
    pub version: String,
    /// The public JWK (`kid` unset: the edge knows the vault's URL), with `key_ops` and Key
    /// Vault's `kty` (`RSA-HSM`, ...).
    pub key: JsonWebKey,
    pub attributes: KeyAttributes,
    pub tags: Option<Tags>,
    /// Whether the key is managed by a certificate.
    pub managed: bool,
    pub release_policy: Option<KeyReleasePolicy>,
    #[serde(skip)]
    pub deleted: Option<Deletion>,
}

/// What a create request asks for, as sent; [`create`] validates it.
#[derive(Debug)]
pub struct NewKey {
    /// `RSA`, `RSA-HSM`, `EC`, `EC-HSM`, `oct` or `oct-HSM`.
    pub kty: String,
    pub key_size: Option<u32>,
    pub public_exponent: Option<u32>,
    pub crv: Option<String>,
    pub key_ops: Option<Vec<String>>,
    pub attributes: KeyAttributesIn,
    pub tags: Option<Tags>,
    pub release_policy: Option<KeyReleasePolicy>,
}

impl From<KeyCreateParameters> for NewKey {
    fn from(p: KeyCreateParameters) -> Self {
        NewKey {
            kty: p.kty,
            key_size: p.key_size,
            public_exponent: p.public_exponent,
            crv: p.crv,
            key_ops: p.key_ops,
            attributes: p.attributes.unwrap_or_default(),
            tags: p.tags,
            release_policy: p.release_policy,
        }
    }
}

/// What an import request asks for, as sent; [`import`] validates it. The JWK's private members
/// are zeroizing text, redacted in `Debug`.
#[derive(Debug)]
pub struct ImportKey {
    pub key: PrivateJsonWebKey,
    /// Key Vault's `Hsm` flag: the key is reported as `RSA-HSM`, `EC-HSM` or `oct-HSM`.
    pub hsm: bool,
    pub attributes: KeyAttributesIn,
    pub tags: Option<Tags>,
    pub release_policy: Option<KeyReleasePolicy>,
}

impl From<KeyImportParameters> for ImportKey {
    fn from(p: KeyImportParameters) -> Self {
        ImportKey {
            key: p.key,
            hsm: p.hsm.unwrap_or(false),
            attributes: p.attributes.unwrap_or_default(),
            tags: p.tags,
            release_policy: p.release_policy,
        }
    }
}

/// What an update changes; `None` leaves a member as it is.
#[derive(Debug, Default)]
pub struct KeyPatch {
    pub key_ops: Option<Vec<String>>,
    pub attributes: KeyAttributesIn,
    pub tags: Option<Tags>,
    pub release_policy: Option<KeyReleasePolicy>,
}

impl From<KeyUpdateParameters> for KeyPatch {
    fn from(p: KeyUpdateParameters) -> Self {
        KeyPatch {
            key_ops: p.key_ops,
            attributes: p.attributes.unwrap_or_default(),
            tags: p.tags,
            release_policy: p.release_policy,
        }
    }
}

/// The sealed metadata document of a version.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    /// The public JWK, with `key_ops` and Key Vault's `kty`; `kid` unset.
    key: JsonWebKey,
    /// Bits of an RSA modulus or an AES key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
    #[serde(default)]
    exportable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    release_policy: Option<KeyReleasePolicy>,
}

// ---- key types and key_ops ----

/// The `key_ops` values Key Vault knows (`JsonWebKeyOperation`).
const KEY_OPS: [&str; 8] = [
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
    "import",
    "export",
];

/// A Key Vault `kty`: the JWK key type and whether it is reported as HSM-protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kty {
    kind: KeyType,
    hsm: bool,
}

impl Kty {
    fn parse(name: &str) -> EngineResult<Kty> {
        let (base, hsm) = match name.strip_suffix("-HSM") {
            Some(base) => (base, true),
            None => (name, false),
        };
        let kind = match base {
            "RSA" => KeyType::Rsa,
            "EC" => KeyType::Ec,
            "oct" => KeyType::Oct,
            _ => {
                return Err(invalid(
                    "The key type (kty) must be RSA, RSA-HSM, EC, EC-HSM, oct or oct-HSM.",
                ))
            }
        };
        Ok(Kty { kind, hsm })
    }

    fn name(self) -> String {
        let base = self.kind.name();
        if self.hsm {
            format!("{base}-HSM")
        } else {
            base.to_owned()
        }
    }

    /// What a key of this type may do when the request names no `key_ops`.
    fn default_ops(self) -> Vec<String> {
        let ops: &[&str] = match self.kind {
            KeyType::Rsa => &[
                "encrypt",
                "decrypt",
                "sign",
                "verify",
                "wrapKey",
                "unwrapKey",
            ],
            KeyType::Ec => &["sign", "verify"],
            KeyType::Oct => &["encrypt", "decrypt", "wrapKey", "unwrapKey"],
        };
        ops.iter().map(|&op| op.to_owned()).collect()
    }
}

fn invalid(message: &str) -> EngineError {
    EngineError::Invalid(message.to_owned())
}

/// `key_ops` as given (duplicates dropped) or the type's default; unknown operations refused.
fn key_ops(requested: Option<Vec<String>>, kty: Kty) -> EngineResult<Vec<String>> {
    let Some(requested) = requested else {
        return Ok(kty.default_ops());
    };
    let mut ops: Vec<String> = Vec::with_capacity(requested.len());
    for op in requested {
        if !KEY_OPS.contains(&op.as_str()) {
            return Err(invalid(
                "key_ops may hold only encrypt, decrypt, sign, verify, wrapKey, unwrapKey, import and export.",
            ));
        }
        if !ops.contains(&op) {
            ops.push(op);
        }
    }
    Ok(ops)
}

/// A refusal of the provider: what the caller got wrong (never a value), or an internal error.
fn key_error(e: KeyError) -> EngineError {
    match e {
        KeyError::Internal => {
            tracing::error!("the key provider failed");
            EngineError::Internal
        }
        other => EngineError::Invalid(format!("{}.", capital(&other.to_string()))),
    }
}

fn capital(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The public JWK of `private` with Key Vault's `kty` and `ops`.
fn public_jwk(private: &PrivateKey, kty: Kty, ops: Vec<String>) -> JsonWebKey {
    let members = private.public_jwk();
    let text = |field: &str| {
        members
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    JsonWebKey {
        kid: None,
        kty: kty.name(),
        key_ops: ops,
        n: text("n"),
        e: text("e"),
        crv: text("crv"),
        x: text("x"),
        y: text("y"),
    }
}

fn size_u32(private: &PrivateKey) -> Option<u32> {
    private
        .size_bits()
        .and_then(|bits| u32::try_from(bits).ok())
}

/// Checks what every new version carries besides its key: tags, and a release policy for an
/// exportable key.
fn check_new_version(
    tags: Option<&Tags>,
    exportable: bool,
    release_policy: Option<&KeyReleasePolicy>,
) -> EngineResult<()> {
    if let Some(tags) = tags {
        arca_core::secret::check_tags(tags).map_err(|e| EngineError::Invalid(e.0))?;
    }
    if exportable && release_policy.is_none() {
        return Err(invalid(
            "An exportable key must have a release policy (release_policy).",
        ));
    }
    Ok(())
}

// ---- reading versions ----

pub(crate) fn open_private(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    record: &VersionRecord,
) -> EngineResult<PrivateKey> {
    let stored = objects::open_field(
        engine,
        vault,
        KIND,
        name,
        &record.version,
        KEY_FIELD,
        &record.value,
    )?;
    PrivateKey::from_storage(stored.expose()).map_err(|_| {
        tracing::error!(vault, version = %record.version, "a stored key does not parse");
        EngineError::Internal
    })
}

fn attributes(vault: &VaultRecord, record: &VersionRecord, meta: &Meta) -> KeyAttributes {
    let settings = objects::settings(vault);
    KeyAttributes {
        common: SecretAttributes {
            enabled: record.enabled,
            nbf: record.nbf,
            exp: record.exp,
            created: record.created,
            updated: record.updated,
            recoverable_days: settings.retention_days,
            recovery_level: settings.recovery_level().as_str(),
        },
        exportable: meta.exportable,
        // Key Vault reports the size of symmetric keys only: the others show it in their JWK.
        key_size: match meta.key.kty.starts_with("oct") {
            true => meta.key_size,
            false => None,
        },
    }
}

fn view_of(
    vault: &VaultRecord,
    object: &ObjectRecord,
    record: &VersionRecord,
    meta: Meta,
) -> KeyView {
    KeyView {
        name: object.name.clone(),
        version: record.version.clone(),
        attributes: attributes(vault, record, &meta),
        key: meta.key,
        tags: meta.tags,
        managed: object.managed_by.is_some(),
        release_policy: meta.release_policy,
        deleted: object.deleted,
    }
}

fn view(
    engine: &Engine,
    vault: &VaultRecord,
    name: &ObjectName,
    object: &ObjectRecord,
    record: &VersionRecord,
) -> EngineResult<KeyView> {
    let meta: Meta = objects::open_meta(engine, &vault.name, KIND, name, record)?;
    Ok(view_of(vault, object, record, meta))
}

// ---- writing versions ----

/// The key version record of a certificate's key (`certificates`): `private` sealed under the
/// certificate version's `attributes`, reported with its JWK type (`-HSM` when `hsm`) and the
/// operations `ops` the certificate policy's key usages give it. Never exportable through the
/// keys API and without a release policy: a certificate exports its key in its secret.
pub(crate) fn certificate_key_record(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    attributes: &objects::ClearAttributes,
    private: &PrivateKey,
    hsm: bool,
    ops: Vec<String>,
) -> EngineResult<VersionRecord> {
    let kty = Kty {
        kind: private.key_type(),
        hsm,
    };
    let meta = Meta {
        key: public_jwk(private, kty, ops),
        key_size: size_u32(private),
        tags: None,
        exportable: false,
        release_policy: None,
    };
    let stored = private.to_storage().map_err(key_error)?;
    attributes.seal(engine, vault, KIND, name, KEY_FIELD, stored.expose(), &meta)
}

/// The clear attributes of a new version.
struct Validity {
    enabled: bool,
    nbf: Option<i64>,
    exp: Option<i64>,
}

/// Seals `private` with `meta` as a new version of `name` and makes it current; with a `fence`,
/// only while that lease term holds.
async fn put_new_version(
    engine: &Engine,
    vault: &VaultRecord,
    name: &ObjectName,
    private: &PrivateKey,
    validity: Validity,
    meta: Meta,
    fence: Option<&LeaseFence>,
) -> EngineResult<KeyView> {
    let now = engine.now();
    let stored = private.to_storage().map_err(key_error)?;
    let attributes = objects::ClearAttributes {
        version: objects::new_version_id()?.to_string(),
        created: now,
        updated: now,
        enabled: validity.enabled,
        nbf: validity.nbf,
        exp: validity.exp,
    };
    let record = attributes.seal(
        engine,
        &vault.name,
        KIND,
        name,
        KEY_FIELD,
        stored.expose(),
        &meta,
    )?;
    let object =
        objects::put_version_fenced(engine, &vault.name, KIND, name, &record, fence).await?;
    Ok(view_of(vault, &object, &record, meta))
}

/// What to generate: a key type with its size or curve.
#[derive(Debug, Clone, Copy)]
struct Spec {
    kty: Kty,
    bits: usize,
    curve: Option<Curve>,
}

impl Spec {
    fn of_new(new: &NewKey) -> EngineResult<Spec> {
        let kty = Kty::parse(&new.kty)?;
        if new.public_exponent.is_some_and(|e| e != 65537) {
            return Err(invalid(
                "Only the public exponent 65537 is supported (public_exponent).",
            ));
        }
        let size = new.key_size.map(|bits| bits as usize);
        let (bits, curve) = match kty.kind {
            KeyType::Rsa => (size.unwrap_or(2048), None),
            KeyType::Oct => (size.unwrap_or(256), None),
            KeyType::Ec => {
                let curve = match &new.crv {
                    Some(name) => Curve::from_name(name).ok_or_else(|| {
                        invalid("The curve (crv) must be P-256, P-256K, P-384 or P-521.")
                    })?,
                    None => Curve::P256,
                };
                (0, Some(curve))
            }
        };
        if kty.kind != KeyType::Ec && new.crv.is_some() {
            return Err(invalid("A curve (crv) applies to EC keys only."));
        }
        Ok(Spec { kty, bits, curve })
    }

    /// The spec of an existing version, for rotation.
    fn of_meta(meta: &Meta) -> EngineResult<Spec> {
        let kty = Kty::parse(&meta.key.kty).map_err(|_| EngineError::Internal)?;
        let curve = meta.key.crv.as_deref().and_then(Curve::from_name);
        let bits = meta.key_size.unwrap_or(0) as usize;
        Ok(Spec { kty, bits, curve })
    }

    /// A fresh key; RSA generation, which takes up to seconds, runs off the async workers.
    async fn generate(self) -> EngineResult<PrivateKey> {
        let generated = match (self.kty.kind, self.curve) {
            (KeyType::Rsa, _) => {
                // At most two generations at a time: a flood of RSA creates queues here instead
                // of filling the blocking pool (up to 512 threads) and starving its other users.
                static RSA_GENERATIONS: tokio::sync::Semaphore =
                    tokio::sync::Semaphore::const_new(2);
                let _turn = RSA_GENERATIONS
                    .acquire()
                    .await
                    .map_err(|_| EngineError::Internal)?;
                let bits = self.bits;
                tokio::task::spawn_blocking(move || PrivateKey::generate_rsa(bits))
                    .await
                    .map_err(|_| EngineError::Internal)?
            }
            (KeyType::Ec, Some(curve)) => PrivateKey::generate_ec(curve),
            (KeyType::Oct, _) => PrivateKey::generate_oct(self.bits),
            (KeyType::Ec, None) => return Err(EngineError::Internal),
        };
        generated.map_err(key_error)
    }
}

/// A fresh RSA (`bits`) or EC (`curve`) key for a certificate, generated as keys are.
pub(crate) async fn generate_for_certificate(
    kind: KeyType,
    bits: usize,
    curve: Option<Curve>,
) -> EngineResult<PrivateKey> {
    let spec = Spec {
        kty: Kty { kind, hsm: false },
        bits,
        curve,
    };
    spec.generate().await
}

/// Generates a new key `name` (or a new version of it) and makes it current.
pub async fn create(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    new: NewKey,
) -> EngineResult<KeyView> {
    require_object(auth, Operation::KeyCreate, &vault.name, name)?;
    let spec = Spec::of_new(&new)?;
    let exportable = new.attributes.exportable.unwrap_or(false);
    check_new_version(new.tags.as_ref(), exportable, new.release_policy.as_ref())?;
    if let Some(policy) = &new.release_policy {
        release::check_policy(policy)?;
    }
    let ops = key_ops(new.key_ops, spec.kty)?;
    let private = spec.generate().await?;
    let meta = Meta {
        key: public_jwk(&private, spec.kty, ops),
        key_size: size_u32(&private),
        tags: new.tags,
        exportable,
        release_policy: new.release_policy,
    };
    let validity = Validity {
        enabled: new.attributes.common.enabled.unwrap_or(true),
        nbf: new.attributes.common.nbf,
        exp: new.attributes.common.exp,
    };
    put_new_version(engine, vault, name, &private, validity, meta, None).await
}

/// A base64url member of an imported JWK; `None` when absent, refused when malformed.
fn decoded(text: Option<&str>, field: &str) -> EngineResult<Option<Vec<u8>>> {
    match text {
        None => Ok(None),
        Some(text) => crate::b64url_decode(text).map(Some).ok_or_else(|| {
            EngineError::Invalid(format!("The JWK member {field} is not base64url."))
        }),
    }
}

fn required(text: Option<&str>, field: &str) -> EngineResult<Vec<u8>> {
    decoded(text, field)?
        .ok_or_else(|| EngineError::Invalid(format!("The JWK lacks the member {field}.")))
}

fn required_secret(
    text: Option<&arca_proto::SecretText>,
    field: &str,
) -> EngineResult<SecretBytes> {
    required(text.map(arca_proto::SecretText::expose), field).map(SecretBytes::new)
}

/// The private key a JWK describes, checked by the provider.
fn import_private(jwk: &PrivateJsonWebKey, kind: KeyType) -> EngineResult<PrivateKey> {
    let imported = match kind {
        KeyType::Rsa => PrivateKey::from_rsa_components(&RsaPrivateComponents {
            n: required(jwk.n.as_deref(), "n")?,
            e: required(jwk.e.as_deref(), "e")?,
            d: required_secret(jwk.d.as_ref(), "d")?,
            p: required_secret(jwk.p.as_ref(), "p")?,
            q: required_secret(jwk.q.as_ref(), "q")?,
            dp: required_secret(jwk.dp.as_ref(), "dp")?,
            dq: required_secret(jwk.dq.as_ref(), "dq")?,
            qi: required_secret(jwk.qi.as_ref(), "qi")?,
        }),
        KeyType::Ec => {
            let curve = jwk
                .crv
                .as_deref()
                .and_then(Curve::from_name)
                .ok_or_else(|| invalid("The curve (crv) must be P-256, P-256K, P-384 or P-521."))?;
            PrivateKey::from_ec_components(
                curve,
                &required(jwk.x.as_deref(), "x")?,
                &required(jwk.y.as_deref(), "y")?,
                &required_secret(jwk.d.as_ref(), "d")?,
            )
        }
        KeyType::Oct => PrivateKey::from_oct(&required_secret(jwk.k.as_ref(), "k")?),
    };
    imported.map_err(key_error)
}

/// Imports a private key as a new version of `name` and makes it current.
pub async fn import(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    new: ImportKey,
) -> EngineResult<KeyView> {
    require_object(auth, Operation::KeyImport, &vault.name, name)?;
    if new.key.key_hsm.is_some() {
        return Err(invalid(
            "Protected key transfer blobs (key_hsm) are not supported; import the key's JWK.",
        ));
    }
    let mut kty = Kty::parse(&new.key.kty)?;
    kty.hsm |= new.hsm;
    let exportable = new.attributes.exportable.unwrap_or(false);
    check_new_version(new.tags.as_ref(), exportable, new.release_policy.as_ref())?;
    if let Some(policy) = &new.release_policy {
        release::check_policy(policy)?;
    }
    let ops = key_ops(new.key.key_ops.clone(), kty)?;
    let private = import_private(&new.key, kty.kind)?;
    let meta = Meta {
        key: public_jwk(&private, kty, ops),
        key_size: size_u32(&private),
        tags: new.tags,
        exportable,
        release_policy: new.release_policy,
    };
    let validity = Validity {
        enabled: new.attributes.common.enabled.unwrap_or(true),
        nbf: new.attributes.common.nbf,
        exp: new.attributes.common.exp,
    };
    put_new_version(engine, vault, name, &private, validity, meta, None).await
}

/// A version (default: the current one) of an active key, public material only; refused, as
/// Key Vault refuses it, when the version is disabled (listings and updates still show it).
pub async fn get(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
) -> EngineResult<KeyView> {
    require_object(auth, Operation::KeyGet, &vault.name, name)?;
    let found = objects::active(engine, &vault.name, KIND, name, version).await?;
    if !found.version.enabled {
        return Err(EngineError::Disabled {
            kind: KIND,
            operation: "get",
        });
    }
    view(engine, vault, name, &found.object, &found.version)
}

/// Changes a version's `key_ops`, attributes, tags or release policy.
pub async fn update(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
    patch: KeyPatch,
) -> EngineResult<KeyView> {
    require_object(auth, Operation::KeyUpdate, &vault.name, name)?;
    let (object, mut record) =
        objects::active_owned(engine, &vault.name, KIND, name, version).await?;
    objects::refuse_managed(KIND, &object, "update")?;
    let mut meta: Meta = objects::open_meta(engine, &vault.name, KIND, name, &record)?;
    if let Some(ops) = patch.key_ops {
        let kty = Kty::parse(&meta.key.kty).map_err(|_| EngineError::Internal)?;
        meta.key.key_ops = key_ops(Some(ops), kty)?;
    }
    if let Some(tags) = patch.tags {
        meta.tags = Some(tags);
    }
    if let Some(policy) = patch.release_policy {
        if meta
            .release_policy
            .as_ref()
            .is_some_and(|p| p.immutable == Some(true))
        {
            return Err(invalid("The key's release policy is immutable."));
        }
        release::check_policy(&policy)?;
        meta.release_policy = Some(policy);
    }
    if let Some(exportable) = patch.attributes.exportable {
        meta.exportable = exportable;
    }
    check_new_version(
        meta.tags.as_ref(),
        meta.exportable,
        meta.release_policy.as_ref(),
    )?;
    let attributes = patch.attributes.common;
    record.enabled = attributes.enabled.unwrap_or(record.enabled);
    record.nbf = attributes.nbf.or(record.nbf);
    record.exp = attributes.exp.or(record.exp);
    record.updated = engine.now();
    record.meta = objects::seal_meta(engine, &vault.name, KIND, name, &record, &meta)?;
    objects::update_version(engine, &vault.name, KIND, name, &record).await?;
    Ok(view_of(vault, &object, &record, meta))
}

/// Makes a new version of an active key with the current version's type, size or curve,
/// `key_ops`, tags, exportability and release policy; its expiry is the rotation policy's
/// `expiryTime` from now, if the policy sets one.
pub async fn rotate(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<KeyView> {
    rotate_fenced(engine, auth, vault, name, None).await
}

/// [`rotate`], writing the new version only while `fence` (a background job's lease term)
/// holds.
pub(crate) async fn rotate_fenced(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    fence: Option<&LeaseFence>,
) -> EngineResult<KeyView> {
    require_object(auth, Operation::KeyRotate, &vault.name, name)?;
    let (object, current) = objects::active_owned(engine, &vault.name, KIND, name, None).await?;
    objects::refuse_managed(KIND, &object, "rotate")?;
    let meta: Meta = objects::open_meta(engine, &vault.name, KIND, name, &current)?;
    let lifetime = policy::expiry_seconds(engine, &vault.name, name).await?;
    let spec = Spec::of_meta(&meta)?;
    let private = spec.generate().await?;
    let meta = Meta {
        key: public_jwk(&private, spec.kty, meta.key.key_ops),
        key_size: size_u32(&private),
        ..meta
    };
    let validity = Validity {
        enabled: true,
        nbf: None,
        exp: lifetime.map(|seconds| engine.now().saturating_add(seconds)),
    };
    put_new_version(engine, vault, name, &private, validity, meta, fence).await
}

/// One page of the vault's active (or deleted) keys.
pub async fn list(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    which: Listing,
    after: Option<&str>,
    limit: usize,
) -> EngineResult<Page<KeyView>> {
    let page = objects::list(engine, auth, vault, KIND, which, after, limit).await?;
    objects::object_views(page, |n, o, r| view(engine, vault, n, o, r))
}

/// One page of an active key's versions.
pub async fn list_versions(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    after: Option<&str>,
    limit: usize,
) -> EngineResult<Page<KeyView>> {
    let listed = objects::list_versions(engine, auth, vault, KIND, name, after, limit).await?;
    objects::version_views(name, listed, |n, o, r| view(engine, vault, n, o, r))
}

/// Soft-deletes a key; returns it in its deleted state.
pub async fn delete(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<KeyView> {
    let f = objects::delete(engine, auth, vault, KIND, name).await?;
    engine.key_cache().forget(&vault.name, name.key());
    view(engine, vault, name, &f.object, &f.version)
}

pub async fn get_deleted(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<KeyView> {
    let f = objects::get_deleted(engine, auth, vault, KIND, name).await?;
    view(engine, vault, name, &f.object, &f.version)
}

pub async fn recover(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<KeyView> {
    let (object, record) = objects::recover(engine, auth, vault, KIND, name).await?;
    view(engine, vault, name, &object, &record)
}

pub async fn purge(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<()> {
    objects::purge(engine, auth, vault, KIND, name).await?;
    engine.key_cache().forget(&vault.name, name.key());
    Ok(())
}
