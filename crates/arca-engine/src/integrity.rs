//! Authenticated storage of what someone who can write the database, but lacks the key file, must
//! not be able to forge or alter: principal records, access-control documents, the clear
//! attributes of object versions and the pointer to an object's current version.
//!
//! Everything here is sealed with the keyring (AES-256-GCM), the associated data binding each
//! blob to its place:
//!
//! - a principal's document: `("", "principal", client id, object id, "data")` plus `created`;
//! - an access-control document: `("", "policy", kind, id, "data")`;
//! - a version's sealed metadata: `(vault, kind, name, version, "meta+attributes")` plus the
//!   version's clear `created`, `updated`, `enabled`, `nbf` and `exp`, so that changing any of
//!   those columns makes the metadata fail to open;
//! - an object's head (an empty plaintext, so a MAC): `(vault, kind, name, current version,
//!   "head")`, written with every put and restore, so `current_version` cannot be pointed
//!   elsewhere.
//!
//! A record that fails to verify is refused, never served, and reported at error level with its
//! kind and id (never its content) by the `refused_*` functions here. This module does not decide
//! what a refused record means (that is the caller's: fail closed); it never logs content.
//!
//! What it cannot stop: putting back an older row that was validly sealed for the same place
//! (from a backup of the database, or the whole database rolled back), or deleting rows. Only
//! state kept outside the database could tell those apart.

use arca_crypto::{record_aad, CryptoError, Keyring, SecretBytes};
use arca_store::{ObjectKind, ObjectRecord, PolicyRecord, PrincipalRecord, VersionRecord};

/// Deployment flag, kept in the keyring (sealed by the root key): every principal, access
/// document, version and head is authenticated, and plaintext records are refused.
pub const FLAG_RECORDS_AUTHENTICATED: u32 = 1;
/// Deployment flag: the one-time upgrade to authenticated records has begun (it may resume after
/// a crash, finding some records already sealed).
pub const FLAG_UPGRADE_STARTED: u32 = 1 << 1;

/// The field name of version metadata bound to the clear attributes.
const META_FIELD: &str = "meta+attributes";
/// The field name of version metadata written before attributes were bound (read only by the
/// upgrade).
const LEGACY_META_FIELD: &str = "meta";

fn principal_aad(client_id: &str, object_id: &str, created: i64) -> Vec<u8> {
    let mut aad = record_aad("", "principal", client_id, object_id, "data");
    aad.extend_from_slice(&created.to_be_bytes());
    aad
}

fn policy_aad(kind: &str, id: &str) -> Vec<u8> {
    record_aad("", "policy", kind, id, "data")
}

/// Seals a principal's document, bound to its client id, object id and creation time.
pub fn seal_principal(
    keyring: &Keyring,
    client_id: &str,
    object_id: &str,
    created: i64,
    document: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    keyring.seal(&principal_aad(client_id, object_id, created), document)
}

/// Whether a principal's document verifies (no report: for the upgrade's survey).
pub fn principal_verifies(keyring: &Keyring, record: &PrincipalRecord) -> bool {
    let aad = principal_aad(&record.client_id, &record.object_id, record.created);
    keyring.open(&aad, &record.data).is_ok()
}

/// Whether an access-control document verifies (no report: for the upgrade's survey).
pub fn policy_verifies(keyring: &Keyring, record: &PolicyRecord) -> bool {
    keyring
        .open(&policy_aad(&record.kind, &record.id), &record.data)
        .is_ok()
}

/// Whether an object's head proves its current version (no report: for the upgrade's survey).
pub fn head_verifies(
    keyring: &Keyring,
    vault: &str,
    kind: ObjectKind,
    lname: &str,
    object: &ObjectRecord,
) -> bool {
    let aad = head_aad(
        vault,
        kind,
        lname,
        object.current_version.as_deref().unwrap_or(""),
    );
    keyring.open(&aad, &object.head).is_ok()
}

/// Opens a principal's document; `None` (reported) if it does not verify.
pub fn open_principal(keyring: &Keyring, record: &PrincipalRecord) -> Option<SecretBytes> {
    let aad = principal_aad(&record.client_id, &record.object_id, record.created);
    match keyring.open(&aad, &record.data) {
        Ok(plain) => Some(plain),
        Err(_) => {
            refused_record("principal", &record.client_id);
            None
        }
    }
}

/// Seals an access-control document as the record `(kind, id)`.
pub fn seal_policy(
    keyring: &Keyring,
    kind: &str,
    id: &str,
    document: &[u8],
) -> Result<PolicyRecord, CryptoError> {
    Ok(PolicyRecord {
        kind: kind.to_owned(),
        id: id.to_owned(),
        data: keyring.seal(&policy_aad(kind, id), document)?,
    })
}

/// Opens an access-control document; `None` (reported) if it does not verify.
pub fn open_policy(keyring: &Keyring, record: &PolicyRecord) -> Option<SecretBytes> {
    match keyring.open(&policy_aad(&record.kind, &record.id), &record.data) {
        Ok(plain) => Some(plain),
        Err(_) => {
            refused_record(&record.kind, &record.id);
            None
        }
    }
}

/// Reports a stored record that failed verification and is being refused.
pub fn refused_record(kind: &str, id: &str) {
    tracing::error!(
        kind,
        id,
        "INTEGRITY: a stored record failed verification and is refused; the database may have been written by someone without the key file"
    );
}

/// Reports a version or head that failed verification and is being refused.
pub fn refused_object(vault: &str, kind: ObjectKind, name: &str, version: &str, what: &str) {
    tracing::error!(
        vault,
        kind = kind.as_str(),
        name,
        version,
        what,
        "INTEGRITY: a stored object record failed verification and is refused; the database may have been written by someone without the key file"
    );
}

/// Associated data of a version's sealed metadata: its place, then its clear attributes in a
/// fixed-width encoding (so no two attribute sets encode alike).
pub fn meta_aad(vault: &str, kind: ObjectKind, lname: &str, record: &VersionRecord) -> Vec<u8> {
    let mut aad = record_aad(vault, kind.as_str(), lname, &record.version, META_FIELD);
    aad.extend_from_slice(&record.created.to_be_bytes());
    aad.extend_from_slice(&record.updated.to_be_bytes());
    aad.push(u8::from(record.enabled));
    for bound in [record.nbf, record.exp] {
        match bound {
            Some(at) => {
                aad.push(1);
                aad.extend_from_slice(&at.to_be_bytes());
            }
            None => aad.extend_from_slice(&[0; 9]),
        }
    }
    aad
}

/// Associated data of metadata sealed before the attributes were bound (read by the upgrade).
pub fn legacy_meta_aad(vault: &str, kind: ObjectKind, lname: &str, version: &str) -> Vec<u8> {
    record_aad(vault, kind.as_str(), lname, version, LEGACY_META_FIELD)
}

fn head_aad(vault: &str, kind: ObjectKind, lname: &str, current: &str) -> Vec<u8> {
    record_aad(vault, kind.as_str(), lname, current, "head")
}

/// The head of an object whose current version is `current`.
pub fn seal_head(
    keyring: &Keyring,
    vault: &str,
    kind: ObjectKind,
    lname: &str,
    current: &str,
) -> Result<Vec<u8>, CryptoError> {
    keyring.seal(&head_aad(vault, kind, lname, current), b"")
}

/// Whether the object's head proves its `current_version`; reports it if not.
pub fn head_is_valid(
    keyring: &Keyring,
    vault: &str,
    kind: ObjectKind,
    lname: &str,
    object: &ObjectRecord,
) -> bool {
    let valid = head_verifies(keyring, vault, kind, lname, object);
    if !valid {
        refused_object(
            vault,
            kind,
            lname,
            object.current_version.as_deref().unwrap_or(""),
            "head",
        );
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(enabled: bool, nbf: Option<i64>, exp: Option<i64>) -> VersionRecord {
        VersionRecord {
            version: "0123456789abcdef0123456789abcdef".into(),
            created: 10,
            updated: 20,
            enabled,
            nbf,
            exp,
            meta: Vec::new(),
            value: Vec::new(),
        }
    }

    #[test]
    fn every_attribute_changes_the_meta_aad() {
        let base = version(true, Some(5), Some(50));
        let aad = |v: &VersionRecord| meta_aad("prod", ObjectKind::Secret, "db", v);
        let variants = [
            version(false, Some(5), Some(50)),
            version(true, None, Some(50)),
            version(true, Some(5), None),
            version(true, Some(6), Some(50)),
            version(true, Some(5), Some(51)),
            // nbf and exp swapped.
            version(true, Some(50), Some(5)),
            VersionRecord {
                created: 11,
                ..base.clone()
            },
            VersionRecord {
                updated: 21,
                ..base.clone()
            },
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(aad(&base), aad(v), "variant {i}");
        }
        assert_ne!(
            aad(&version(true, None, Some(0))),
            aad(&version(true, Some(0), None))
        );
        assert_ne!(
            aad(&base),
            legacy_meta_aad("prod", ObjectKind::Secret, "db", &base.version)
        );
    }

    #[test]
    fn principals_and_policies_open_only_in_their_place() {
        let ring = Keyring::generate().unwrap();
        let data = seal_principal(&ring, "client", "object", 7, b"{}").unwrap();
        let record = PrincipalRecord {
            client_id: "client".into(),
            object_id: "object".into(),
            created: 7,
            data,
        };
        assert_eq!(open_principal(&ring, &record).unwrap().expose(), b"{}");
        for moved in [
            PrincipalRecord {
                client_id: "other".into(),
                ..record.clone()
            },
            PrincipalRecord {
                object_id: "other".into(),
                ..record.clone()
            },
            PrincipalRecord {
                created: 8,
                ..record.clone()
            },
            PrincipalRecord {
                data: b"{}".to_vec(),
                ..record.clone()
            },
        ] {
            assert!(open_principal(&ring, &moved).is_none(), "{moved:?}");
        }

        let policy = seal_policy(&ring, "assignment", "a1", b"doc").unwrap();
        assert_eq!(open_policy(&ring, &policy).unwrap().expose(), b"doc");
        for (kind, id) in [("assignment", "a2"), ("role", "a1")] {
            let moved = PolicyRecord {
                kind: kind.into(),
                id: id.into(),
                data: policy.data.clone(),
            };
            assert!(open_policy(&ring, &moved).is_none());
        }
    }

    #[test]
    fn a_head_proves_only_its_own_version() {
        let ring = Keyring::generate().unwrap();
        let head = seal_head(&ring, "prod", ObjectKind::Secret, "db", "v2").unwrap();
        let object = ObjectRecord {
            name: "Db".into(),
            current_version: Some("v2".into()),
            head,
            deleted: None,
            managed_by: None,
        };
        assert!(head_is_valid(
            &ring,
            "prod",
            ObjectKind::Secret,
            "db",
            &object
        ));
        let rolled_back = ObjectRecord {
            current_version: Some("v1".into()),
            ..object.clone()
        };
        assert!(!head_is_valid(
            &ring,
            "prod",
            ObjectKind::Secret,
            "db",
            &rolled_back
        ));
        assert!(!head_is_valid(
            &ring,
            "prod",
            ObjectKind::Secret,
            "other",
            &object
        ));
        let empty = ObjectRecord {
            head: Vec::new(),
            ..object
        };
        assert!(!head_is_valid(
            &ring,
            "prod",
            ObjectKind::Secret,
            "db",
            &empty
        ));
    }
}
