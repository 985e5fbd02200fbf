//! The one-time upgrade of a data directory written before records were authenticated
//! (`crate::integrity`): seals plain principal and access-control documents, re-seals version
//! metadata so that it binds the clear attributes, and gives every object a head.
//!
//! "This deployment is upgraded" is a flag inside the keyring record, which only the holder of
//! the root key (the key file) can write, set after every record is done; from then on the server
//! refuses plaintext records for good, and this module never runs again. Deleting a marker row or
//! resetting `PRAGMA user_version` cannot bring it back: the keyring record itself would have to
//! be replaced, and a keyring record from before the upgrade is refused while any record sealed
//! by the upgrade remains (see [`run`]).
//!
//! Crash safety: a "started" flag is written to the keyring first; every step is idempotent
//! (a record that already verifies is left alone), so a restart resumes where it stopped.
//!
//! It must not run while the server serves requests, and it logs ids and counts, never content.

use arca_crypto::{Keyring, RootKey};
use arca_store::{Listing, ObjectKind, Store};

use crate::access::kinds;
use crate::integrity::{self, FLAG_RECORDS_AUTHENTICATED, FLAG_UPGRADE_STARTED};
use crate::start_error::StartError;

/// The policy kinds the server stores (and reads).
const POLICY_KINDS: [&str; 5] = [
    kinds::ROLE,
    kinds::ASSIGNMENT,
    kinds::FEDERATION,
    kinds::NETWORK,
    kinds::SIGNING_KEYS,
];
const OBJECT_KINDS: [ObjectKind; 3] =
    [ObjectKind::Secret, ObjectKind::Key, ObjectKind::Certificate];
/// Objects read per listing page.
const PAGE: usize = 500;

/// The meta key of the keyring record.
pub(crate) const KEYRING_META: &str = "keyring";

/// What one pass found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Records that already verify.
    pub sealed: usize,
    /// Records in the old plain (or old-sealed) form, sealed by a converting pass.
    pub plain: usize,
    /// Records in neither form: left as they are, and refused when read.
    pub unreadable: usize,
}

/// Writes the keyring with `flags` added, sealed by the root key.
pub(crate) async fn add_keyring_flags(
    store: &dyn Store,
    root: &RootKey,
    keyring: &mut Keyring,
    flags: u32,
) -> Result<(), StartError> {
    keyring.set_flags(keyring.flags() | flags);
    store
        .put_meta(KEYRING_META, &keyring.seal_with(root)?)
        .await?;
    Ok(())
}

/// Brings a data directory written before records were authenticated up to date, unless the
/// keyring says it already is. Refuses to start if the keyring claims the upgrade never began
/// while records sealed by it exist: that keyring record was replaced with an older copy, which
/// would otherwise let plain records written since be sealed as genuine.
pub(crate) async fn run(
    store: &dyn Store,
    root: &RootKey,
    keyring: &mut Keyring,
) -> Result<(), StartError> {
    if keyring.flags() & FLAG_RECORDS_AUTHENTICATED != 0 {
        return Ok(());
    }
    let resuming = keyring.flags() & FLAG_UPGRADE_STARTED != 0;
    let survey = pass(store, keyring, false).await?;
    if !resuming && survey.sealed > 0 {
        tracing::error!(
            sealed = survey.sealed,
            "INTEGRITY: the keyring record predates the upgrade to authenticated records, but records sealed by that upgrade exist; the keyring record has been replaced with an older copy"
        );
        return Err(StartError::KeyringOlder);
    }
    tracing::info!(
        plain = survey.plain,
        already = survey.sealed,
        unreadable = survey.unreadable,
        "upgrading stored records to authenticated records"
    );
    // A bootstrap administrator assigned before the upgrade stays assigned: the marker of the
    // old code is trusted once, here, and becomes a keyring flag.
    let mut flags = FLAG_UPGRADE_STARTED;
    if store
        .meta(crate::seal::BOOTSTRAP_ADMIN_MARKER)
        .await?
        .is_some()
    {
        flags |= crate::seal::FLAG_BOOTSTRAP_ADMINISTRATOR;
    }
    add_keyring_flags(store, root, keyring, flags).await?;
    let done = pass(store, keyring, true).await?;
    if done.unreadable > 0 {
        tracing::error!(
            unreadable = done.unreadable,
            "INTEGRITY: some stored records are in no known form; they are refused"
        );
    }
    add_keyring_flags(store, root, keyring, FLAG_RECORDS_AUTHENTICATED).await?;
    tracing::info!(
        converted = done.plain,
        "stored records are authenticated; plain records are refused from now on"
    );
    Ok(())
}

/// Walks every principal, policy document, object and version. With `convert`, seals what is in
/// the old form.
async fn pass(store: &dyn Store, keyring: &Keyring, convert: bool) -> Result<Counts, StartError> {
    let mut counts = Counts::default();
    for record in store.list_principals().await? {
        if integrity::principal_verifies(keyring, &record) {
            counts.sealed += 1;
            continue;
        }
        if serde_json::from_slice::<serde_json::Value>(&record.data).is_err() {
            counts.unreadable += 1;
            integrity::refused_record("principal", &record.client_id);
            continue;
        }
        counts.plain += 1;
        if convert {
            let sealed = integrity::seal_principal(
                keyring,
                &record.client_id,
                &record.object_id,
                record.created,
                &record.data,
            )?;
            store
                .update_principal(&arca_store::PrincipalRecord {
                    data: sealed,
                    ..record
                })
                .await?;
        }
    }
    for kind in POLICY_KINDS {
        for record in store.list_policies(kind).await? {
            if integrity::policy_verifies(keyring, &record) {
                counts.sealed += 1;
                continue;
            }
            if serde_json::from_slice::<serde_json::Value>(&record.data).is_err() {
                counts.unreadable += 1;
                integrity::refused_record(&record.kind, &record.id);
                continue;
            }
            counts.plain += 1;
            if convert {
                let sealed =
                    integrity::seal_policy(keyring, &record.kind, &record.id, &record.data)?;
                store.put_policy(&sealed).await?;
            }
        }
    }
    for vault in store.list_vaults().await? {
        for kind in OBJECT_KINDS {
            for which in [Listing::Active, Listing::Deleted] {
                let mut after: Option<String> = None;
                loop {
                    let page = store
                        .list_objects(&vault.name, kind, which, after.as_deref(), PAGE)
                        .await?;
                    for entry in &page {
                        object(
                            store,
                            keyring,
                            &vault.name,
                            kind,
                            &entry.object,
                            convert,
                            &mut counts,
                        )
                        .await?;
                    }
                    if page.len() < PAGE {
                        break;
                    }
                    after = page.last().map(|e| e.object.name.to_ascii_lowercase());
                }
            }
        }
    }
    Ok(counts)
}

/// One object: its versions' metadata and its head.
async fn object(
    store: &dyn Store,
    keyring: &Keyring,
    vault: &str,
    kind: ObjectKind,
    object: &arca_store::ObjectRecord,
    convert: bool,
    counts: &mut Counts,
) -> Result<(), StartError> {
    let lname = object.name.to_ascii_lowercase();
    let versions = store
        .object_versions(&arca_store::ObjectAddress::new(vault, kind, &object.name))
        .await?;
    let mut metas = Vec::new();
    for v in &versions {
        if keyring
            .open(&integrity::meta_aad(vault, kind, &lname, v), &v.meta)
            .is_ok()
        {
            counts.sealed += 1;
            continue;
        }
        let legacy = integrity::legacy_meta_aad(vault, kind, &lname, &v.version);
        match keyring.open(&legacy, &v.meta) {
            Ok(plain) => {
                counts.plain += 1;
                if convert {
                    let aad = integrity::meta_aad(vault, kind, &lname, v);
                    metas.push((v.version.clone(), keyring.seal(&aad, plain.expose())?));
                }
            }
            Err(_) => {
                counts.unreadable += 1;
                integrity::refused_object(vault, kind, &lname, &v.version, "attributes");
            }
        }
    }
    let head_ok = integrity::head_verifies(keyring, vault, kind, &lname, object);
    if head_ok {
        counts.sealed += 1;
    } else {
        counts.plain += 1;
    }
    if convert && (!head_ok || !metas.is_empty()) {
        let current = object.current_version.as_deref().unwrap_or("");
        let head = integrity::seal_head(keyring, vault, kind, &lname, current)?;
        store
            .reseal_object(
                &arca_store::ObjectAddress::new(vault, kind, &object.name),
                &head,
                &metas,
            )
            .await?;
    }
    Ok(())
}
