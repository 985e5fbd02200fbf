//! Every data-plane operation of the Key Vault API (secrets, keys and certificates, from
//! Microsoft's OpenAPI files of api-version 2026-04-01), with what each one means for
//! authorization, audit and events: one row per operation in [`TABLE`].
//!
//! A row gives the operation's REST method and path, the swagger `operationId`, the object kind,
//! the RBAC dataAction a caller needs, whether the action is decided at the vault or at the
//! object, the `operationName` Key Vault writes in its `AuditEvent` records, and the Event Grid
//! event type the operation emits when it succeeds, if any. Routes authorize by operation, the
//! engine checks its proof by operation, and the audit record names the operation; none of them
//! spells a dataAction or an audit name itself.
//!
//! Sources: the dataActions and audit names of Key Vault's documentation (see
//! `shared/docs/keyvault-api.md` sections 2.6, 3.5, 4.4 and 10). Where that documentation is
//! silent, the row is Arca's choice, following Key Vault's naming, and says so:
//! - `GetRandomBytes` is a Managed HSM operation in Azure; Arca offers it in every vault under
//!   the action `Microsoft.KeyVault/vaults/rng/action` (Managed HSM's is `managedHsm/rng/action`).
//! - Key rotation, rotation policies, release, attestation and the certificate policy, pending
//!   operation, contact and issuer operations have no audit names in the documentation read;
//!   theirs follow the `ObjectVerb` pattern of the documented ones.
//! - The pending certificate operation is read with `certificates/read`, cancelled with
//!   `certificates/update/action`, deleted with `certificates/delete`, and merged with
//!   `certificates/create/action`. Contacts are read, set and deleted with
//!   `certificatecontacts/write`, as the access-policy permission `managecontacts` covers all
//!   three and the Certificates Officer role holds only that contacts action.
//! - `securewrapkey`/`secureunwrapkey` need the wrap/unwrap actions.

use std::fmt;

use crate::ObjectKind;

/// The prefix of every dataAction.
pub const ACTION_PREFIX: &str = "Microsoft.KeyVault/vaults/";

/// Where an operation's dataAction is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The vault as a whole (listings, restore, contacts, issuers, random bytes).
    Vault,
    /// One named object of the vault.
    Object,
}

/// Key Vault's Event Grid event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    SecretNewVersionCreated,
    SecretNearExpiry,
    SecretExpired,
    KeyNewVersionCreated,
    KeyNearExpiry,
    KeyExpired,
    CertificateNewVersionCreated,
    CertificateNearExpiry,
    CertificateExpired,
}

impl EventType {
    /// The event type as Event Grid names it, e.g. `Microsoft.KeyVault.SecretNewVersionCreated`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::SecretNewVersionCreated => "Microsoft.KeyVault.SecretNewVersionCreated",
            EventType::SecretNearExpiry => "Microsoft.KeyVault.SecretNearExpiry",
            EventType::SecretExpired => "Microsoft.KeyVault.SecretExpired",
            EventType::KeyNewVersionCreated => "Microsoft.KeyVault.KeyNewVersionCreated",
            EventType::KeyNearExpiry => "Microsoft.KeyVault.KeyNearExpiry",
            EventType::KeyExpired => "Microsoft.KeyVault.KeyExpired",
            EventType::CertificateNewVersionCreated => {
                "Microsoft.KeyVault.CertificateNewVersionCreated"
            }
            EventType::CertificateNearExpiry => "Microsoft.KeyVault.CertificateNearExpiry",
            EventType::CertificateExpired => "Microsoft.KeyVault.CertificateExpired",
        }
    }
}

/// One row of [`TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationInfo {
    pub operation: Operation,
    /// The swagger `operationId`.
    pub api_id: &'static str,
    pub method: &'static str,
    /// The REST path, with `{name}`, `{version}` and `{issuer}` for its parameters.
    pub path: &'static str,
    pub kind: ObjectKind,
    /// The full RBAC dataAction.
    pub data_action: &'static str,
    pub target: Target,
    /// Key Vault's audit `operationName`.
    pub audit_name: &'static str,
    /// The event a successful call emits.
    pub event: Option<EventType>,
}

/// Every data-plane operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    SecretSet,
    SecretGet,
    SecretUpdate,
    SecretDelete,
    SecretList,
    SecretListVersions,
    SecretListDeleted,
    SecretGetDeleted,
    SecretPurge,
    SecretRecover,
    SecretBackup,
    SecretRestore,
    KeyCreate,
    KeyImport,
    KeyGet,
    KeyUpdate,
    KeyList,
    KeyListVersions,
    KeyDelete,
    KeyListDeleted,
    KeyGetDeleted,
    KeyRecover,
    KeyPurge,
    KeyBackup,
    KeyRestore,
    KeyRotate,
    KeyRotationPolicyGet,
    KeyRotationPolicySet,
    KeyEncrypt,
    KeyDecrypt,
    KeySign,
    KeyVerify,
    KeyWrap,
    KeyUnwrap,
    KeySecureWrap,
    KeySecureUnwrap,
    KeyRelease,
    KeyAttestationGet,
    KeyRandomBytes,
    CertificateCreate,
    CertificateImport,
    CertificateGet,
    CertificateUpdate,
    CertificateList,
    CertificateListVersions,
    CertificateDelete,
    CertificateListDeleted,
    CertificateGetDeleted,
    CertificateRecover,
    CertificatePurge,
    CertificateBackup,
    CertificateRestore,
    CertificatePolicyGet,
    CertificatePolicyUpdate,
    CertificatePendingGet,
    CertificatePendingUpdate,
    CertificatePendingDelete,
    CertificatePendingMerge,
    CertificateContactsGet,
    CertificateContactsSet,
    CertificateContactsDelete,
    CertificateIssuersList,
    CertificateIssuerGet,
    CertificateIssuerSet,
    CertificateIssuerUpdate,
    CertificateIssuerDelete,
}

impl Operation {
    /// This operation's row.
    pub fn info(self) -> &'static OperationInfo {
        // `TABLE` lists the operations in declaration order (a test checks it).
        &TABLE[self as usize]
    }

    pub fn data_action(self) -> &'static str {
        self.info().data_action
    }

    pub fn audit_name(self) -> &'static str {
        self.info().audit_name
    }

    pub fn kind(self) -> ObjectKind {
        self.info().kind
    }

    pub fn target(self) -> Target {
        self.info().target
    }

    pub fn event(self) -> Option<EventType> {
        self.info().event
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.audit_name())
    }
}

macro_rules! row {
    ($op:ident, $api:literal, $method:literal, $path:literal, $kind:ident, $action:literal, $target:ident, $audit:literal, $event:expr) => {
        OperationInfo {
            operation: Operation::$op,
            api_id: $api,
            method: $method,
            path: $path,
            kind: ObjectKind::$kind,
            data_action: concat!("Microsoft.KeyVault/vaults/", $action),
            target: Target::$target,
            audit_name: $audit,
            event: $event,
        }
    };
}

/// The operation table, in the order of [`Operation`]'s variants.
#[rustfmt::skip]
pub const TABLE: &[OperationInfo] = &[
    row!(SecretSet, "SetSecret", "PUT", "/secrets/{name}", Secret, "secrets/setSecret/action", Object, "SecretSet", Some(EventType::SecretNewVersionCreated)),
    row!(SecretGet, "GetSecret", "GET", "/secrets/{name}/{version}", Secret, "secrets/getSecret/action", Object, "SecretGet", None),
    row!(SecretUpdate, "UpdateSecret", "PATCH", "/secrets/{name}/{version}", Secret, "secrets/update/action", Object, "SecretUpdate", None),
    row!(SecretDelete, "DeleteSecret", "DELETE", "/secrets/{name}", Secret, "secrets/delete", Object, "SecretDelete", None),
    row!(SecretList, "GetSecrets", "GET", "/secrets", Secret, "secrets/readMetadata/action", Vault, "SecretList", None),
    row!(SecretListVersions, "GetSecretVersions", "GET", "/secrets/{name}/versions", Secret, "secrets/readMetadata/action", Object, "SecretListVersions", None),
    row!(SecretListDeleted, "GetDeletedSecrets", "GET", "/deletedsecrets", Secret, "secrets/readMetadata/action", Vault, "SecretListDeleted", None),
    row!(SecretGetDeleted, "GetDeletedSecret", "GET", "/deletedsecrets/{name}", Secret, "secrets/readMetadata/action", Object, "SecretGetDeleted", None),
    row!(SecretPurge, "PurgeDeletedSecret", "DELETE", "/deletedsecrets/{name}", Secret, "secrets/purge/action", Object, "SecretPurge", None),
    row!(SecretRecover, "RecoverDeletedSecret", "POST", "/deletedsecrets/{name}/recover", Secret, "secrets/recover/action", Object, "SecretRecover", None),
    row!(SecretBackup, "BackupSecret", "POST", "/secrets/{name}/backup", Secret, "secrets/backup/action", Object, "SecretBackup", None),
    row!(SecretRestore, "RestoreSecret", "POST", "/secrets/restore", Secret, "secrets/restore/action", Vault, "SecretRestore", None),
    row!(KeyCreate, "CreateKey", "POST", "/keys/{name}/create", Key, "keys/create/action", Object, "KeyCreate", Some(EventType::KeyNewVersionCreated)),
    row!(KeyImport, "ImportKey", "PUT", "/keys/{name}", Key, "keys/import/action", Object, "KeyImport", Some(EventType::KeyNewVersionCreated)),
    row!(KeyGet, "GetKey", "GET", "/keys/{name}/{version}", Key, "keys/read", Object, "KeyGet", None),
    row!(KeyUpdate, "UpdateKey", "PATCH", "/keys/{name}/{version}", Key, "keys/update/action", Object, "KeyUpdate", None),
    row!(KeyList, "GetKeys", "GET", "/keys", Key, "keys/read", Vault, "KeyList", None),
    row!(KeyListVersions, "GetKeyVersions", "GET", "/keys/{name}/versions", Key, "keys/read", Object, "KeyListVersions", None),
    row!(KeyDelete, "DeleteKey", "DELETE", "/keys/{name}", Key, "keys/delete", Object, "KeyDelete", None),
    row!(KeyListDeleted, "GetDeletedKeys", "GET", "/deletedkeys", Key, "keys/read", Vault, "KeyListDeleted", None),
    row!(KeyGetDeleted, "GetDeletedKey", "GET", "/deletedkeys/{name}", Key, "keys/read", Object, "KeyGetDeleted", None),
    row!(KeyRecover, "RecoverDeletedKey", "POST", "/deletedkeys/{name}/recover", Key, "keys/recover/action", Object, "KeyRecover", None),
    row!(KeyPurge, "PurgeDeletedKey", "DELETE", "/deletedkeys/{name}", Key, "keys/purge/action", Object, "KeyPurge", None),
    row!(KeyBackup, "BackupKey", "POST", "/keys/{name}/backup", Key, "keys/backup/action", Object, "KeyBackup", None),
    row!(KeyRestore, "RestoreKey", "POST", "/keys/restore", Key, "keys/restore/action", Vault, "KeyRestore", None),
    row!(KeyRotate, "RotateKey", "POST", "/keys/{name}/rotate", Key, "keys/rotate/action", Object, "KeyRotate", Some(EventType::KeyNewVersionCreated)),
    row!(KeyRotationPolicyGet, "GetKeyRotationPolicy", "GET", "/keys/{name}/rotationpolicy", Key, "keyrotationpolicies/read", Object, "KeyRotationPolicyGet", None),
    row!(KeyRotationPolicySet, "UpdateKeyRotationPolicy", "PUT", "/keys/{name}/rotationpolicy", Key, "keyrotationpolicies/write", Object, "KeyRotationPolicySet", None),
    row!(KeyEncrypt, "encrypt", "POST", "/keys/{name}/{version}/encrypt", Key, "keys/encrypt/action", Object, "KeyEncrypt", None),
    row!(KeyDecrypt, "decrypt", "POST", "/keys/{name}/{version}/decrypt", Key, "keys/decrypt/action", Object, "KeyDecrypt", None),
    row!(KeySign, "sign", "POST", "/keys/{name}/{version}/sign", Key, "keys/sign/action", Object, "KeySign", None),
    row!(KeyVerify, "verify", "POST", "/keys/{name}/{version}/verify", Key, "keys/verify/action", Object, "KeyVerify", None),
    row!(KeyWrap, "wrapKey", "POST", "/keys/{name}/{version}/wrapkey", Key, "keys/wrap/action", Object, "KeyWrap", None),
    row!(KeyUnwrap, "unwrapKey", "POST", "/keys/{name}/{version}/unwrapkey", Key, "keys/unwrap/action", Object, "KeyUnwrap", None),
    row!(KeySecureWrap, "securewrapkey", "POST", "/keys/{name}/{version}/securewrapkey", Key, "keys/wrap/action", Object, "KeySecureWrap", None),
    row!(KeySecureUnwrap, "secureunwrapkey", "POST", "/keys/{name}/{version}/secureunwrapkey", Key, "keys/unwrap/action", Object, "KeySecureUnwrap", None),
    row!(KeyRelease, "release", "POST", "/keys/{name}/{version}/release", Key, "keys/release/action", Object, "KeyRelease", None),
    row!(KeyAttestationGet, "GetKeyAttestation", "GET", "/keys/{name}/{version}/attestation", Key, "keys/read", Object, "KeyAttestationGet", None),
    row!(KeyRandomBytes, "GetRandomBytes", "POST", "/rng", Key, "rng/action", Vault, "GetRandomBytes", None),
    row!(CertificateCreate, "CreateCertificate", "POST", "/certificates/{name}/create", Certificate, "certificates/create/action", Object, "CertificateCreate", Some(EventType::CertificateNewVersionCreated)),
    row!(CertificateImport, "ImportCertificate", "POST", "/certificates/{name}/import", Certificate, "certificates/import/action", Object, "CertificateImport", Some(EventType::CertificateNewVersionCreated)),
    row!(CertificateGet, "GetCertificate", "GET", "/certificates/{name}/{version}", Certificate, "certificates/read", Object, "CertificateGet", None),
    row!(CertificateUpdate, "UpdateCertificate", "PATCH", "/certificates/{name}/{version}", Certificate, "certificates/update/action", Object, "CertificateUpdate", None),
    row!(CertificateList, "GetCertificates", "GET", "/certificates", Certificate, "certificates/read", Vault, "CertificateList", None),
    row!(CertificateListVersions, "GetCertificateVersions", "GET", "/certificates/{name}/versions", Certificate, "certificates/read", Object, "CertificateListVersions", None),
    row!(CertificateDelete, "DeleteCertificate", "DELETE", "/certificates/{name}", Certificate, "certificates/delete", Object, "CertificateDelete", None),
    row!(CertificateListDeleted, "GetDeletedCertificates", "GET", "/deletedcertificates", Certificate, "certificates/read", Vault, "CertificateListDeleted", None),
    row!(CertificateGetDeleted, "GetDeletedCertificate", "GET", "/deletedcertificates/{name}", Certificate, "certificates/read", Object, "CertificateGetDeleted", None),
    row!(CertificateRecover, "RecoverDeletedCertificate", "POST", "/deletedcertificates/{name}/recover", Certificate, "certificates/recover/action", Object, "CertificateRecover", None),
    row!(CertificatePurge, "PurgeDeletedCertificate", "DELETE", "/deletedcertificates/{name}", Certificate, "certificates/purge/action", Object, "CertificatePurge", None),
    row!(CertificateBackup, "BackupCertificate", "POST", "/certificates/{name}/backup", Certificate, "certificates/backup/action", Object, "CertificateBackup", None),
    row!(CertificateRestore, "RestoreCertificate", "POST", "/certificates/restore", Certificate, "certificates/restore/action", Vault, "CertificateRestore", None),
    row!(CertificatePolicyGet, "GetCertificatePolicy", "GET", "/certificates/{name}/policy", Certificate, "certificates/read", Object, "CertificatePolicyGet", None),
    row!(CertificatePolicyUpdate, "UpdateCertificatePolicy", "PATCH", "/certificates/{name}/policy", Certificate, "certificates/update/action", Object, "CertificatePolicyUpdate", None),
    row!(CertificatePendingGet, "GetCertificateOperation", "GET", "/certificates/{name}/pending", Certificate, "certificates/read", Object, "CertificatePendingGet", None),
    row!(CertificatePendingUpdate, "UpdateCertificateOperation", "PATCH", "/certificates/{name}/pending", Certificate, "certificates/update/action", Object, "CertificatePendingUpdate", None),
    row!(CertificatePendingDelete, "DeleteCertificateOperation", "DELETE", "/certificates/{name}/pending", Certificate, "certificates/delete", Object, "CertificatePendingDelete", None),
    row!(CertificatePendingMerge, "MergeCertificate", "POST", "/certificates/{name}/pending/merge", Certificate, "certificates/create/action", Object, "CertificatePendingMerge", Some(EventType::CertificateNewVersionCreated)),
    row!(CertificateContactsGet, "GetCertificateContacts", "GET", "/certificates/contacts", Certificate, "certificatecontacts/write", Vault, "CertificateContactsGet", None),
    row!(CertificateContactsSet, "SetCertificateContacts", "PUT", "/certificates/contacts", Certificate, "certificatecontacts/write", Vault, "CertificateContactsSet", None),
    row!(CertificateContactsDelete, "DeleteCertificateContacts", "DELETE", "/certificates/contacts", Certificate, "certificatecontacts/write", Vault, "CertificateContactsDelete", None),
    row!(CertificateIssuersList, "GetCertificateIssuers", "GET", "/certificates/issuers", Certificate, "certificatecas/read", Vault, "CertificateIssuersList", None),
    row!(CertificateIssuerGet, "GetCertificateIssuer", "GET", "/certificates/issuers/{issuer}", Certificate, "certificatecas/read", Vault, "CertificateIssuerGet", None),
    row!(CertificateIssuerSet, "SetCertificateIssuer", "PUT", "/certificates/issuers/{issuer}", Certificate, "certificatecas/write", Vault, "CertificateIssuerSet", None),
    row!(CertificateIssuerUpdate, "UpdateCertificateIssuer", "PATCH", "/certificates/issuers/{issuer}", Certificate, "certificatecas/write", Vault, "CertificateIssuerUpdate", None),
    row!(CertificateIssuerDelete, "DeleteCertificateIssuer", "DELETE", "/certificates/issuers/{issuer}", Certificate, "certificatecas/delete", Vault, "CertificateIssuerDelete", None),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_declaration_order_and_complete() {
        for (i, row) in TABLE.iter().enumerate() {
            assert_eq!(
                row.operation as usize, i,
                "{:?} is out of place",
                row.operation
            );
        }
        assert_eq!(TABLE.len(), Operation::CertificateIssuerDelete as usize + 1);
    }

    #[test]
    fn every_swagger_operation_appears_once() {
        let mut ids: Vec<&str> = TABLE.iter().map(|r| r.api_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), TABLE.len());
        let mut routes: Vec<(&str, &str)> = TABLE.iter().map(|r| (r.method, r.path)).collect();
        routes.sort_unstable();
        routes.dedup();
        assert_eq!(routes.len(), TABLE.len());
    }

    #[test]
    fn names_follow_key_vault_conventions() {
        for row in TABLE {
            assert!(
                row.data_action.starts_with(ACTION_PREFIX),
                "{:?}",
                row.operation
            );
            let collection = match row.kind {
                ObjectKind::Secret => "/secrets",
                ObjectKind::Key => "/keys",
                ObjectKind::Certificate => "/certificates",
            };
            let deleted = format!("/deleted{}", &collection[1..]);
            assert!(
                row.path.starts_with(collection)
                    || row.path.starts_with(&deleted)
                    || row.path == "/rng",
                "{:?}",
                row.operation
            );
            // Operations on one named object are decided at the object, the others at the vault.
            let named = row.path.contains("{name}");
            assert_eq!(row.target == Target::Object, named, "{:?}", row.operation);
            let prefix = match row.kind {
                ObjectKind::Secret => "Secret",
                ObjectKind::Key => "Key",
                ObjectKind::Certificate => "Certificate",
            };
            assert!(format!("{:?}", row.operation).starts_with(prefix));
        }
        assert_eq!(
            Operation::SecretGet.data_action(),
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        );
        assert_eq!(Operation::KeySign.audit_name(), "KeySign");
        assert_eq!(
            Operation::CertificateCreate.audit_name(),
            "CertificateCreate"
        );
        assert_eq!(
            Operation::SecretSet.event().map(EventType::as_str),
            Some("Microsoft.KeyVault.SecretNewVersionCreated")
        );
    }

    /// The secrets rows are what Arca has enforced since the secrets API landed.
    #[test]
    fn secret_actions_are_unchanged() {
        let expected = [
            (
                Operation::SecretSet,
                "secrets/setSecret/action",
                Target::Object,
            ),
            (
                Operation::SecretGet,
                "secrets/getSecret/action",
                Target::Object,
            ),
            (
                Operation::SecretUpdate,
                "secrets/update/action",
                Target::Object,
            ),
            (Operation::SecretDelete, "secrets/delete", Target::Object),
            (
                Operation::SecretList,
                "secrets/readMetadata/action",
                Target::Vault,
            ),
            (
                Operation::SecretListVersions,
                "secrets/readMetadata/action",
                Target::Object,
            ),
            (
                Operation::SecretListDeleted,
                "secrets/readMetadata/action",
                Target::Vault,
            ),
            (
                Operation::SecretGetDeleted,
                "secrets/readMetadata/action",
                Target::Object,
            ),
            (
                Operation::SecretRecover,
                "secrets/recover/action",
                Target::Object,
            ),
            (
                Operation::SecretPurge,
                "secrets/purge/action",
                Target::Object,
            ),
            (
                Operation::SecretBackup,
                "secrets/backup/action",
                Target::Object,
            ),
            (
                Operation::SecretRestore,
                "secrets/restore/action",
                Target::Vault,
            ),
        ];
        for (op, action, target) in expected {
            assert_eq!(op.data_action(), format!("{ACTION_PREFIX}{action}"));
            assert_eq!(op.target(), target);
        }
    }
}
