//! How certificate versions come to be: create (self-signed at once, a CSR left pending for the
//! `Unknown` issuer, or signed by a named issuer of provider `Arca`), the pending operation
//! (get, cancel, delete), merge of a signed chain into a pending CSR, and import of a PFX or PEM
//! with its private key.
//!
//! Every new version is written with its key, its secret and the policy in one store batch
//! (`stored::version_items`), so a crash leaves either all of it or none. Private keys are
//! handled only as `PrivateKey` (zeroizing) and sealed storage forms; no error names a value.

use arca_core::{ObjectKind, ObjectName, Operation};
use arca_crypto::keys::{Curve, KeyType, PrivateKey};
use arca_crypto::pki::certs::{
    chain_from_der_list, create_csr, parse_pem_bundle, parse_pfx, self_signed_certificate,
    verify_chain, CertificateDescription, ChainOrder, ParsedCertificate, SubjectAltNames,
    MAX_CHAIN_LEN, MAX_INPUT_LEN,
};
use arca_crypto::SecretString;
use arca_proto::certificates::{
    CertificateAttributesIn, CertificateCreateParameters, CertificateImportParameters,
    CertificatePolicy, IssuerParameters, KeyProperties, SecretProperties, SubjectAlternativeNames,
    Tags, X509CertificateProperties,
};
use arca_store::{BatchItem, StoreError, VaultRecord, WriteBatch};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::policy::{self, PEM, PKCS12, SELF_ISSUER, UNKNOWN_ISSUER};
use super::stored::{
    self, address, NewVersion, Pending, StoredPolicy, CANCELLED, COMPLETED, IN_PROGRESS, KIND,
    PENDING,
};
use super::{arca_issuer, issuers, CertificateView, OperationView};
use crate::objects::{self, require_object};
use crate::{Authorized, Engine, EngineError, EngineResult};

fn invalid(message: impl Into<String>) -> EngineError {
    EngineError::Invalid(message.into())
}

pub(crate) fn check_tags(tags: Option<&Tags>) -> EngineResult<()> {
    match tags {
        Some(tags) => arca_core::secret::check_tags(tags).map_err(|e| EngineError::Invalid(e.0)),
        None => Ok(()),
    }
}

/// A fresh request id: 32 hex digits, like a version id.
fn request_id() -> EngineResult<String> {
    Ok(objects::new_version_id()?.to_string())
}

/// Writes `batch`, mapping the store's refusals to the certificate's errors.
pub(crate) async fn write(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    batch: &WriteBatch,
) -> EngineResult<()> {
    match engine.store().write(batch).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(EngineError::VaultNotFound {
            vault: vault.to_owned(),
        }),
        Err(StoreError::Deleted) => Err(EngineError::Deleted {
            kind: KIND,
            name: name.as_str().to_owned(),
        }),
        Err(StoreError::Conflict) => Err(EngineError::Conflict {
            kind: KIND,
            message: format!(
                "Certificate {} conflicts with what exists: a key or secret of its name that is not the certificate's (a certificate needs its name free in all three collections), or a concurrent change; retry once the name is free.",
                name.as_str()
            ),
        }),
        Err(StoreError::LeaseLost) => {
            tracing::warn!(
                vault,
                "a background job's lease no longer holds; its write was refused"
            );
            Err(EngineError::Unavailable)
        }
        Err(e) => Err(e.into()),
    }
}

/// What a policy's `x509_props` describe.
fn description(policy: &CertificatePolicy) -> CertificateDescription {
    let x = policy.x509_props.clone().unwrap_or_default();
    let sans = x.sans.unwrap_or_default();
    CertificateDescription {
        subject: x.subject.unwrap_or_default(),
        sans: SubjectAltNames {
            dns_names: sans.dns_names.unwrap_or_default(),
            emails: sans.emails.unwrap_or_default(),
            upns: sans.upns.unwrap_or_default(),
            uris: sans.uris.unwrap_or_default(),
            ip_addresses: sans.ip_addresses.unwrap_or_default(),
        },
        ekus: x.ekus.unwrap_or_default(),
        key_usages: x.key_usage.unwrap_or_default(),
        validity_months: x.validity_months.unwrap_or(12),
    }
}

/// A key as a normalized policy's `key_props` ask for it.
async fn generate(policy: &CertificatePolicy) -> EngineResult<PrivateKey> {
    let k = policy.key_props.clone().unwrap_or_default();
    let kty = k.kty.unwrap_or_else(|| "RSA".into());
    if kty.starts_with("EC") {
        let curve = k
            .crv
            .as_deref()
            .and_then(Curve::from_name)
            .unwrap_or(Curve::P256);
        crate::keys::generate_for_certificate(KeyType::Ec, 0, Some(curve)).await
    } else {
        let bits = k.key_size.unwrap_or(2048) as usize;
        crate::keys::generate_for_certificate(KeyType::Rsa, bits, None).await
    }
}

/// The current version's private key, for a policy with `reuse_key`; `None` when there is none.
async fn current_key(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
) -> EngineResult<Option<PrivateKey>> {
    let address = arca_core::ObjectAddress::new(vault, ObjectKind::Key, name.as_str());
    let Some(found) = engine.store().version(&address, None).await? else {
        return Ok(None);
    };
    if found.object.managed_by.is_none() || found.object.deleted.is_some() {
        return Ok(None);
    }
    crate::keys::open_private(engine, vault, name, &found.version).map(Some)
}

fn reuses_key(policy: &CertificatePolicy) -> bool {
    policy
        .key_props
        .as_ref()
        .and_then(|k| k.reuse_key)
        .unwrap_or(false)
}

/// The key a new version gets under `policy`: the current one when the policy reuses keys and
/// its type still fits, else a fresh one.
pub(crate) async fn key_for(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    policy: &CertificatePolicy,
) -> EngineResult<PrivateKey> {
    if reuses_key(policy) {
        if let Some(key) = current_key(engine, vault, name).await? {
            if key_fits(&key, policy) {
                return Ok(key);
            }
        }
    }
    generate(policy).await
}

/// Whether `key` is of the type, size and curve `policy` names.
fn key_fits(key: &PrivateKey, policy: &CertificatePolicy) -> bool {
    let k = policy.key_props.clone().unwrap_or_default();
    let kty = k.kty.unwrap_or_else(|| "RSA".into());
    match key.key_type() {
        KeyType::Rsa => {
            kty.starts_with("RSA")
                && k.key_size
                    .is_none_or(|bits| key.size_bits() == Some(bits as usize))
        }
        KeyType::Ec => {
            kty.starts_with("EC")
                && k.crv
                    .as_deref()
                    .and_then(Curve::from_name)
                    .is_none_or(|c| key.curve() == Some(c))
        }
        KeyType::Oct => false,
    }
}

pub(crate) fn issuer_name(policy: &CertificatePolicy) -> String {
    policy
        .issuer
        .as_ref()
        .and_then(|i| i.name.clone())
        .unwrap_or_else(|| SELF_ISSUER.into())
}

/// The chain a named issuer makes for `key` under `policy`: only the built-in issuer (provider
/// `Arca`) issues; any other provider is refused, as this deployment cannot reach outside CAs.
async fn issued_by_named(
    engine: &Engine,
    vault: &VaultRecord,
    issuer: &str,
    policy: &CertificatePolicy,
    key: &PrivateKey,
) -> EngineResult<Vec<Vec<u8>>> {
    let issuer_name = ObjectName::parse(issuer)
        .map_err(|_| invalid("The policy's issuer name is not a valid issuer name."))?;
    let Some(found) = issuers::lookup(engine, &vault.name, &issuer_name).await? else {
        return Err(EngineError::IssuerNotFound {
            name: issuer.to_owned(),
        });
    };
    if !arca_issuer::is_arca_provider(&found.provider) {
        return Err(invalid(format!(
            "The issuer {issuer} has the provider {}, which this deployment cannot issue through; use {SELF_ISSUER}, {UNKNOWN_ISSUER}, or an issuer with the provider {}.",
            found.provider,
            arca_issuer::PROVIDER
        )));
    }
    let public = key.public_key().ok_or(EngineError::Internal)?;
    arca_issuer::issue(
        engine,
        vault,
        &issuer_name,
        &description(policy),
        &public,
        engine.now(),
    )
    .await
}

/// The chain (DER, leaf first) the policy's issuer makes for `key` at once: self-signed for
/// `Self`, signed by a named issuer's CA. Not for `Unknown`, whose chain comes by merge.
pub(crate) async fn issued_chain(
    engine: &Engine,
    vault: &VaultRecord,
    policy: &CertificatePolicy,
    key: &PrivateKey,
) -> EngineResult<Vec<Vec<u8>>> {
    let issuer = issuer_name(policy);
    if issuer.eq_ignore_ascii_case(SELF_ISSUER) {
        let description = description(policy);
        let der = self_signed_certificate(&description, key, engine.now())
            .map_err(certificate_refused)?;
        return Ok(vec![der]);
    }
    if issuer.eq_ignore_ascii_case(UNKNOWN_ISSUER) {
        return Err(EngineError::Internal);
    }
    issued_by_named(engine, vault, &issuer, policy, key).await
}

/// The policy a create uses: the one sent (normalized) or the certificate's own.
async fn policy_for_create(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
    sent: Option<CertificatePolicy>,
) -> EngineResult<(CertificatePolicy, Option<StoredPolicy>)> {
    let stored = stored::policy(engine, vault, name).await?;
    let policy = match sent {
        Some(p) => policy::normalize(p)?,
        None => match &stored {
            Some(s) => s.policy.clone(),
            None => return Err(invalid("A new certificate needs a policy.")),
        },
    };
    Ok((policy, stored))
}

/// The policy document to write with a version: `policy`, keeping the stored creation time.
fn policy_document(
    engine: &Engine,
    policy: CertificatePolicy,
    stored: Option<&StoredPolicy>,
) -> StoredPolicy {
    let now = engine.now();
    StoredPolicy {
        policy,
        created: stored.map_or(now, |s| s.created),
        updated: now,
    }
}

/// Starts a new version of the certificate `name` (creating it): answers the pending operation,
/// `inProgress`. A `Self` issuer (or an `Arca` one) completes at once (the next read of the
/// operation shows it `completed`); `Unknown` leaves a CSR to be signed and merged.
pub async fn create(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    params: CertificateCreateParameters,
) -> EngineResult<OperationView> {
    require_object(auth, Operation::CertificateCreate, &vault.name, name)?;
    check_tags(params.tags.as_ref())?;
    let existing = engine.store().object(&address(&vault.name, name)).await?;
    if existing.as_ref().is_some_and(|o| o.deleted.is_some()) {
        return Err(EngineError::Deleted {
            kind: KIND,
            name: name.as_str().to_owned(),
        });
    }
    // A pending operation counts only while its certificate exists: one left behind by a
    // certificate purged since (the purger removes objects, not the vault's documents) is
    // replaced by this create's.
    let pending_now = match &existing {
        Some(_) => stored::pending(engine, &vault.name, name).await?,
        None => None,
    };
    if let Some(p) = pending_now {
        if p.is_in_progress() {
            return Err(EngineError::Conflict {
                kind: KIND,
                message: format!(
                    "Certificate {} has a pending operation in progress; merge, cancel or delete it first.",
                    name.as_str()
                ),
            });
        }
    }
    let (policy, stored_policy) =
        policy_for_create(engine, &vault.name, name, params.policy).await?;
    let issuer = issuer_name(&policy);
    let enabled = params
        .attributes
        .as_ref()
        .and_then(|a| a.enabled)
        .unwrap_or(true);
    let key = key_for(engine, &vault.name, name, &policy).await?;
    let description = description(&policy);
    let mut pending = Pending {
        name: existing
            .as_ref()
            .map_or_else(|| name.as_str().to_owned(), |o| o.name.clone()),
        issuer: policy.issuer.clone().unwrap_or_default(),
        csr: None,
        key: None,
        cancellation_requested: false,
        status: IN_PROGRESS.into(),
        status_details: None,
        error: None,
        target_version: None,
        preserve_cert_order: params.preserve_cert_order,
        request_id: request_id()?,
        enabled,
        tags: params.tags.clone(),
    };
    let document = policy_document(engine, policy.clone(), stored_policy.as_ref());
    let mut batch = WriteBatch::new();
    if issuer.eq_ignore_ascii_case(UNKNOWN_ISSUER) {
        let csr = create_csr(&description, &key).map_err(certificate_refused)?;
        pending.csr = Some(STANDARD.encode(csr));
        pending.key = Some(stored::pending_key_text(&key)?);
        pending.status_details =
            Some("Pending certificate created. Please merge the signed certificate.".into());
        if existing.is_none() {
            batch.push(BatchItem::CreatePending {
                address: address(&vault.name, name),
                head: Vec::new(),
                managed_by: None,
            });
        }
    } else {
        let chain = issued_chain(engine, vault, &policy, &key).await?;
        let (items, record, _) = stored::version_items(
            engine,
            &vault.name,
            name,
            NewVersion {
                chain: &chain,
                key: &key,
                policy: &policy,
                enabled,
                tags: params.tags,
                preserve_cert_order: params.preserve_cert_order,
            },
        )?;
        batch.items.extend(items);
        pending.status = COMPLETED.into();
        pending.status_details = None;
        pending.target_version = Some(record.version);
    }
    batch.push(stored::policy_item(engine, &vault.name, name, &document)?);
    batch.push(PENDING.put_item(engine, &vault.name, name.key(), &pending)?);
    write(engine, &vault.name, name, &batch).await?;
    // The create's own answer reports the operation as accepted and in progress, as Key Vault's
    // always does: the SDKs' pollers take an operation that is already finished in that answer
    // for one with nothing to fetch. The first read of the operation shows it completed.
    let mut answer = OperationView::of(&pending);
    answer.status = IN_PROGRESS.into();
    answer.target_version = None;
    Ok(answer)
}

/// A certificate builder's refusal of what the policy asks (its message names rules, never
/// values).
fn certificate_refused(e: arca_crypto::CryptoError) -> EngineError {
    match e {
        arca_crypto::CryptoError::Certificate(problem) => {
            invalid(format!("The certificate cannot be made: {problem}."))
        }
        other => other.into(),
    }
}

fn pending_not_found(name: &ObjectName) -> EngineError {
    EngineError::PendingNotFound {
        name: name.as_str().to_owned(),
    }
}

/// The pending operation of an active (or pending) certificate.
async fn pending_of(engine: &Engine, vault: &str, name: &ObjectName) -> EngineResult<Pending> {
    let object = engine.store().object(&address(vault, name)).await?;
    if object.is_none_or(|o| o.deleted.is_some()) {
        return Err(pending_not_found(name));
    }
    stored::pending(engine, vault, name)
        .await?
        .ok_or_else(|| pending_not_found(name))
}

/// The pending operation of `name`.
pub async fn get_pending(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<OperationView> {
    require_object(auth, Operation::CertificatePendingGet, &vault.name, name)?;
    Ok(OperationView::of(
        &pending_of(engine, &vault.name, name).await?,
    ))
}

/// Asks for the cancellation of `name`'s pending operation: one still waiting for a merge is
/// cancelled at once (its key is dropped); a finished one only records the request.
pub async fn cancel_pending(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    cancellation_requested: bool,
) -> EngineResult<OperationView> {
    require_object(auth, Operation::CertificatePendingUpdate, &vault.name, name)?;
    let mut pending = pending_of(engine, &vault.name, name).await?;
    if cancellation_requested && !pending.cancellation_requested {
        pending.cancellation_requested = true;
        if pending.is_in_progress() {
            pending.status = CANCELLED.into();
            pending.status_details = Some("The certificate request was cancelled.".into());
            pending.key = None;
        }
        PENDING
            .put(engine, &vault.name, name.key(), &pending)
            .await?;
    }
    Ok(OperationView::of(&pending))
}

/// Deletes `name`'s pending operation; answers it as it was. A certificate that never had a
/// version goes with it.
pub async fn delete_pending(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<OperationView> {
    require_object(auth, Operation::CertificatePendingDelete, &vault.name, name)?;
    let pending = pending_of(engine, &vault.name, name).await?;
    PENDING.delete(engine, &vault.name, name.key()).await?;
    remove_if_versionless(engine, &vault.name, name).await?;
    Ok(OperationView::of(&pending))
}

/// Removes the certificate object `name` if it has no version (it was only ever pending), with
/// its policy.
async fn remove_if_versionless(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
) -> EngineResult<()> {
    let address = address(vault, name);
    let Some(object) = engine.store().object(&address).await? else {
        return Ok(());
    };
    if object.current_version.is_some() || object.deleted.is_some() {
        return Ok(());
    }
    let now = engine.now();
    let deletion = arca_store::Deletion {
        deleted_at: now,
        scheduled_purge: now,
    };
    match engine.store().delete_object(&address, deletion).await {
        Ok(_) | Err(StoreError::NotFound | StoreError::Deleted) => {}
        Err(e) => return Err(e.into()),
    }
    match engine.store().purge_object(&address).await {
        Ok(()) | Err(StoreError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Merges a signed chain (`x5c`: base64 DER certificates) into `name`'s pending CSR: the chain
/// must hold the pending key's certificate and verify (each certificate signed by the next, every
/// issuer a CA, all valid now). Makes the new version current.
pub async fn merge(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    x5c: Vec<String>,
    attributes: Option<CertificateAttributesIn>,
    tags: Option<Tags>,
) -> EngineResult<CertificateView> {
    require_object(auth, Operation::CertificatePendingMerge, &vault.name, name)?;
    check_tags(tags.as_ref())?;
    let mut pending = pending_of(engine, &vault.name, name).await?;
    let key = match (pending.is_in_progress(), pending.private_key()?) {
        (true, Some(key)) => key,
        _ => {
            return Err(invalid(
                "The certificate's pending operation does not await a merge.",
            ))
        }
    };
    if x5c.is_empty() || x5c.len() > MAX_CHAIN_LEN {
        return Err(invalid(format!(
            "x5c must hold 1 to {MAX_CHAIN_LEN} certificates."
        )));
    }
    let mut ders = Vec::with_capacity(x5c.len());
    for (i, text) in x5c.iter().enumerate() {
        if text.len() > MAX_INPUT_LEN {
            return Err(invalid(format!("x5c[{i}] is too large.")));
        }
        ders.push(
            STANDARD
                .decode(text.trim())
                .map_err(|_| invalid(format!("x5c[{i}] is not base64.")))?,
        );
    }
    let chain = chain_from_der_list(&ders).map_err(chain_refused)?;
    let order = match pending.preserve_cert_order {
        Some(true) => ChainOrder::Preserve,
        _ => ChainOrder::LeafFirst,
    };
    let chain = verify_chain(chain, &key, engine.now(), order, &[]).map_err(chain_refused)?;
    let chain: Vec<Vec<u8>> = chain.into_iter().map(|c| c.der).collect();
    let stored_policy = stored::policy(engine, &vault.name, name)
        .await?
        .ok_or(EngineError::Internal)?;
    let enabled = attributes
        .and_then(|a| a.enabled)
        .unwrap_or(pending.enabled);
    let (mut items, record, meta) = stored::version_items(
        engine,
        &vault.name,
        name,
        NewVersion {
            chain: &chain,
            key: &key,
            policy: &stored_policy.policy,
            enabled,
            tags: tags.or(pending.tags.take()),
            preserve_cert_order: pending.preserve_cert_order,
        },
    )?;
    pending.status = COMPLETED.into();
    pending.status_details = None;
    pending.key = None;
    pending.target_version = Some(record.version.clone());
    items.push(PENDING.put_item(engine, &vault.name, name.key(), &pending)?);
    write(
        engine,
        &vault.name,
        name,
        &WriteBatch { items, fence: None },
    )
    .await?;
    let leaf = stored::leaf_of(&chain, &key)?.der;
    stored::written_view(
        engine,
        vault,
        name,
        (record, meta),
        leaf,
        stored_policy.policy,
    )
    .await
}

fn chain_refused(e: arca_crypto::CryptoError) -> EngineError {
    match e {
        arca_crypto::CryptoError::Certificate(problem) => {
            invalid(format!("The certificate chain is not valid: {problem}."))
        }
        other => other.into(),
    }
}

/// Reads an imported value: PEM text (as is, or base64 as the SDKs send it), or a base64 PFX
/// opened with `password`. `pem_declared`: the policy says the secret is PEM.
fn read_import(
    value: &str,
    password: Option<&SecretString>,
    pem_declared: bool,
) -> EngineResult<(Option<PrivateKey>, Vec<ParsedCertificate>, &'static str)> {
    let refused = |what: &'static str| {
        move |e: arca_crypto::CryptoError| match e {
            arca_crypto::CryptoError::Certificate(problem) => {
                invalid(format!("The {what} cannot be read: {problem}."))
            }
            other => other.into(),
        }
    };
    let read_pem = |text: &str| -> EngineResult<_> {
        let bundle = parse_pem_bundle(text, password).map_err(refused("PEM"))?;
        Ok((bundle.key, bundle.chain, PEM))
    };
    if value.trim_start().starts_with("-----BEGIN") {
        return read_pem(value);
    }
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = zeroize::Zeroizing::new(
        STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| invalid("The certificate value is neither PEM text nor a base64 PFX."))?,
    );
    let text = std::str::from_utf8(&bytes).ok();
    if let Some(text) = text.filter(|t| t.trim_start().starts_with("-----BEGIN")) {
        return read_pem(text);
    }
    if pem_declared {
        return Err(invalid(
            "The policy's content type is application/x-pem-file but the value is not PEM text.",
        ));
    }
    let contents = parse_pfx(&bytes, password).map_err(refused("PFX"))?;
    Ok((contents.key, contents.chain, PKCS12))
}

/// Months of a certificate's validity, rounded, within the policy's bounds.
fn validity_months(leaf: &ParsedCertificate) -> u32 {
    let days = (leaf.not_after - leaf.not_before).max(0) / 86_400;
    let months = (days as f64 / 30.436_875).round() as u32;
    months.clamp(1, policy::MAX_VALIDITY_MONTHS)
}

/// The policy Key Vault derives from an imported certificate and its key.
fn derived_policy(
    leaf: &ParsedCertificate,
    key: &PrivateKey,
    content_type: &str,
) -> CertificatePolicy {
    let sans = leaf.sans();
    let list = |v: Vec<String>| (!v.is_empty()).then_some(v);
    let (kty, key_size, crv) = match key.key_type() {
        KeyType::Ec => ("EC", None, key.curve().map(|c| c.name().to_owned())),
        _ => (
            "RSA",
            key.size_bits().and_then(|b| u32::try_from(b).ok()),
            None,
        ),
    };
    let no_sans = sans.dns_names.is_empty()
        && sans.emails.is_empty()
        && sans.upns.is_empty()
        && sans.uris.is_empty()
        && sans.ip_addresses.is_empty();
    CertificatePolicy {
        key_props: Some(KeyProperties {
            exportable: Some(true),
            kty: Some(kty.into()),
            key_size,
            reuse_key: Some(false),
            crv,
        }),
        secret_props: Some(SecretProperties {
            content_type: Some(content_type.into()),
        }),
        x509_props: Some(X509CertificateProperties {
            subject: Some(leaf.subject.clone()),
            ekus: list(leaf.ekus.clone()),
            sans: (!no_sans).then(|| SubjectAlternativeNames {
                emails: list(sans.emails),
                dns_names: list(sans.dns_names),
                upns: list(sans.upns),
                uris: list(sans.uris),
                ip_addresses: list(sans.ip_addresses),
            }),
            key_usage: leaf.has_key_usage.then(|| leaf.key_usages.clone()),
            validity_months: Some(validity_months(leaf)),
        }),
        issuer: Some(IssuerParameters {
            name: Some(UNKNOWN_ISSUER.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Imports a certificate with its private key (PFX or PEM) as a new version of `name`. With no
/// policy, one is derived from the certificate (issuer `Unknown`); a policy sent is merged over
/// the derived one and must fit the key.
pub async fn import(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    params: CertificateImportParameters,
) -> EngineResult<CertificateView> {
    require_object(auth, Operation::CertificateImport, &vault.name, name)?;
    check_tags(params.tags.as_ref())?;
    // Base64 of the largest accepted PFX, with line breaks.
    if params.value.expose().len() > MAX_INPUT_LEN * 3 / 2 {
        return Err(invalid("The certificate value is larger than 256 KiB."));
    }
    let pem_declared = params
        .policy
        .as_ref()
        .and_then(|p| p.secret_props.as_ref())
        .and_then(|s| s.content_type.as_deref())
        .is_some_and(|c| c.eq_ignore_ascii_case(PEM));
    let password = params
        .pwd
        .as_ref()
        .filter(|p| !p.is_empty())
        .map(|p| SecretString::new(p.expose().to_owned()));
    let (key, chain, content_type) =
        read_import(params.value.expose(), password.as_ref(), pem_declared)?;
    let key = key.ok_or_else(|| invalid("The imported certificate has no private key."))?;
    let leaf = chain
        .first()
        .filter(|c| c.public_key_matches(&key))
        .ok_or_else(|| invalid("No certificate of the import holds its private key."))?;
    let derived = derived_policy(leaf, &key, content_type);
    let policy = match params.policy {
        Some(sent) => policy::merge(&derived, sent)?,
        None => policy::normalize(derived)?,
    };
    if !key_fits(&key, &policy) {
        return Err(invalid(
            "The policy's key type, size or curve does not match the imported key.",
        ));
    }
    let existing = engine.store().object(&address(&vault.name, name)).await?;
    if existing.as_ref().is_some_and(|o| o.deleted.is_some()) {
        return Err(EngineError::Deleted {
            kind: KIND,
            name: name.as_str().to_owned(),
        });
    }
    let stored_policy = stored::policy(engine, &vault.name, name).await?;
    let chain: Vec<Vec<u8>> = chain.into_iter().map(|c| c.der).collect();
    let enabled = params
        .attributes
        .as_ref()
        .and_then(|a| a.enabled)
        .unwrap_or(true);
    let (mut items, record, meta) = stored::version_items(
        engine,
        &vault.name,
        name,
        NewVersion {
            chain: &chain,
            key: &key,
            policy: &policy,
            enabled,
            tags: params.tags,
            preserve_cert_order: params.preserve_cert_order,
        },
    )?;
    let document = policy_document(engine, policy.clone(), stored_policy.as_ref());
    items.push(stored::policy_item(engine, &vault.name, name, &document)?);
    write(
        engine,
        &vault.name,
        name,
        &WriteBatch { items, fence: None },
    )
    .await?;
    let leaf = chain.into_iter().next().unwrap_or_default();
    stored::written_view(engine, vault, name, (record, meta), leaf, policy).await
}
