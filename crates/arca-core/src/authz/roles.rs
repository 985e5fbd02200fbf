//! Role definitions: Key Vault's built-in data-plane roles under their Azure names and ids, custom
//! roles, and the wildcard matching of dataActions.
//!
//! A role permits an action when one of its `data_actions` matches it and none of its
//! `not_data_actions` does. Matching ignores case, and `*` matches any run of characters, `/`
//! included, as in Azure role definitions.

use serde::{Deserialize, Serialize};

/// The action the admin API requires at scope `/`. Key Vault Administrator's
/// `Microsoft.KeyVault/vaults/*` matches it; no other built-in role does.
pub const ADMIN_ACTION: &str = "Microsoft.KeyVault/vaults/administer/action";

/// The id of Key Vault Administrator.
pub const ADMINISTRATOR_ROLE_ID: &str = "00482a5a-887f-4fb3-b363-3b7fe8e74483";

/// Most entries in `data_actions` or `not_data_actions` of a custom role.
pub const MAX_ROLE_ACTIONS: usize = 100;
/// Longest action pattern.
pub const MAX_ACTION_LEN: usize = 256;
/// Longest role name and description.
pub const MAX_ROLE_NAME_LEN: usize = 128;
pub const MAX_ROLE_DESCRIPTION_LEN: usize = 1024;

/// A role definition, built-in or custom. Custom roles are stored as this document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDefinition {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub builtin: bool,
    pub data_actions: Vec<String>,
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

impl RoleDefinition {
    /// Whether this role grants `action`.
    pub fn permits(&self, action: &str) -> bool {
        self.data_actions.iter().any(|p| matches(p, action))
            && !self.not_data_actions.iter().any(|p| matches(p, action))
    }
}

/// `(id, name, description, dataActions)` of the built-in roles, from Azure's built-in role
/// reference (azure-docs `built-in-roles/security.md`).
const BUILTIN: &[(&str, &str, &str, &[&str])] = &[
    (
        ADMINISTRATOR_ROLE_ID,
        "Key Vault Administrator",
        "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets.",
        &["Microsoft.KeyVault/vaults/*"],
    ),
    (
        "21090545-7ca7-4776-b22c-e363652d74d2",
        "Key Vault Reader",
        "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such as secret contents or key material.",
        &[
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    ),
    (
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        "Key Vault Secrets Officer",
        "Perform any action on the secrets of a key vault.",
        &["Microsoft.KeyVault/vaults/secrets/*"],
    ),
    (
        "4633458b-17de-408a-b874-0445c86b69e6",
        "Key Vault Secrets User",
        "Read secret contents.",
        &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    ),
    (
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "Key Vault Crypto Officer",
        "Perform any action on the keys of a key vault.",
        &[
            "Microsoft.KeyVault/vaults/keys/*",
            "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        ],
    ),
    (
        "12338af0-0e69-4776-bea7-57ae8d297424",
        "Key Vault Crypto User",
        "Perform cryptographic operations using keys.",
        &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/update/action",
            "Microsoft.KeyVault/vaults/keys/backup/action",
            "Microsoft.KeyVault/vaults/keys/encrypt/action",
            "Microsoft.KeyVault/vaults/keys/decrypt/action",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/verify/action",
        ],
    ),
    (
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "Key Vault Crypto Service Encryption User",
        "Read metadata of keys and perform wrap/unwrap operations.",
        &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
        ],
    ),
    (
        "08bbd89e-9f13-488c-ac41-acfcb10c90ab",
        "Key Vault Crypto Service Release User",
        "Release keys.",
        &["Microsoft.KeyVault/vaults/keys/release/action"],
    ),
    (
        "a4417e6f-fecd-4de8-b567-7b0420556985",
        "Key Vault Certificates Officer",
        "Perform any action on the certificates of a key vault.",
        &[
            "Microsoft.KeyVault/vaults/certificatecas/*",
            "Microsoft.KeyVault/vaults/certificates/*",
            "Microsoft.KeyVault/vaults/certificatecontacts/write",
        ],
    ),
    (
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        "Key Vault Certificate User",
        "Read entire certificate contents including secret and key portion.",
        &[
            "Microsoft.KeyVault/vaults/certificates/read",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            "Microsoft.KeyVault/vaults/keys/read",
        ],
    ),
];

/// The built-in roles, in Azure's order.
pub fn builtin_roles() -> Vec<RoleDefinition> {
    BUILTIN
        .iter()
        .map(|(id, name, description, actions)| RoleDefinition {
            id: (*id).to_owned(),
            name: (*name).to_owned(),
            description: (*description).to_owned(),
            builtin: true,
            data_actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            not_data_actions: Vec::new(),
        })
        .collect()
}

/// Case-insensitive glob match where `*` matches any run of characters.
pub fn matches(pattern: &str, action: &str) -> bool {
    let p = pattern.as_bytes();
    let a = action.as_bytes();
    // Iterative matcher with one backtracking point per star: linear in practice.
    let (mut pi, mut ai) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ai < a.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ai));
                pi += 1;
            }
            Some(c) if c.eq_ignore_ascii_case(&a[ai]) => {
                pi += 1;
                ai += 1;
            }
            _ => match star {
                Some((sp, sa)) => {
                    pi = sp + 1;
                    ai = sa + 1;
                    star = Some((sp, sa + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Checks one action pattern of a custom role: a `Microsoft.KeyVault/` action of printable
/// characters without spaces.
pub fn check_action_pattern(pattern: &str) -> Result<(), String> {
    let shown: String = pattern.chars().take(80).collect();
    if pattern.is_empty() || pattern.len() > MAX_ACTION_LEN {
        return Err(format!(
            "Action {shown:?} must have 1 to {MAX_ACTION_LEN} characters."
        ));
    }
    if !pattern
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/*._-".contains(&b))
    {
        return Err(format!(
            "Action {shown:?} may contain only letters, digits and / * . _ -."
        ));
    }
    let lower = pattern.to_ascii_lowercase();
    if !(lower.starts_with("microsoft.keyvault/")
        || lower == "*"
        || lower == "microsoft.keyvault/*")
    {
        return Err(format!(
            "Action {shown:?} is not a Key Vault data action (they start with Microsoft.KeyVault/)."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> RoleDefinition {
        builtin_roles()
            .into_iter()
            .find(|r| r.name == name)
            .unwrap()
    }

    #[test]
    fn wildcards_span_slashes_and_ignore_case() {
        assert!(matches(
            "Microsoft.KeyVault/vaults/*",
            "microsoft.keyvault/vaults/secrets/getSecret/action"
        ));
        assert!(matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/keys/read"
        ));
        assert!(!matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
        ));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("*", ""));
        assert!(!matches("abc", "abcd"));
        assert!(!matches("abcd", "abc"));
        assert!(matches("ab**", "ab"));
    }

    #[test]
    fn builtin_roles_grant_what_azure_grants() {
        let secrets = |op: &str| format!("Microsoft.KeyVault/vaults/secrets/{op}");
        let admin = role("Key Vault Administrator");
        assert!(admin.permits(ADMIN_ACTION));
        assert!(admin.permits(&secrets("purge/action")));
        let reader = role("Key Vault Reader");
        assert!(reader.permits(&secrets("readMetadata/action")));
        assert!(reader.permits("Microsoft.KeyVault/vaults/keys/read"));
        assert!(!reader.permits(&secrets("getSecret/action")));
        assert!(!reader.permits(ADMIN_ACTION));
        let user = role("Key Vault Secrets User");
        assert!(user.permits(&secrets("getSecret/action")));
        assert!(!user.permits(&secrets("setSecret/action")));
        let officer = role("Key Vault Secrets Officer");
        assert!(officer.permits(&secrets("purge/action")));
        assert!(!officer.permits(ADMIN_ACTION));
        assert!(!officer.permits("Microsoft.KeyVault/vaults/keys/read"));
        let crypto_user = role("Key Vault Crypto User");
        assert!(crypto_user.permits("Microsoft.KeyVault/vaults/keys/sign/action"));
        assert!(!crypto_user.permits("Microsoft.KeyVault/vaults/keys/delete"));
        let cert_user = role("Key Vault Certificate User");
        assert!(cert_user.permits(&secrets("getSecret/action")));
        assert!(!cert_user.permits(&secrets("setSecret/action")));
    }

    #[test]
    fn not_data_actions_subtract() {
        let custom = RoleDefinition {
            id: "x".into(),
            name: "x".into(),
            description: String::new(),
            builtin: false,
            data_actions: vec!["Microsoft.KeyVault/vaults/secrets/*".into()],
            not_data_actions: vec!["Microsoft.KeyVault/vaults/secrets/delete".into()],
        };
        assert!(custom.permits("Microsoft.KeyVault/vaults/secrets/setSecret/action"));
        assert!(!custom.permits("Microsoft.KeyVault/vaults/secrets/delete"));
    }

    #[test]
    fn action_patterns_are_checked() {
        assert!(check_action_pattern("Microsoft.KeyVault/vaults/secrets/*").is_ok());
        assert!(check_action_pattern("Microsoft.Storage/x").is_err());
        assert!(check_action_pattern("").is_err());
        assert!(check_action_pattern("Microsoft.KeyVault/vaults/secrets/get secret").is_err());
    }

    /// Which operations each built-in role allows: the role definitions read through the
    /// operation table, so a wrong dataAction in either shows here.
    #[test]
    fn builtin_roles_allow_these_operations() {
        use crate::operation::{Operation::*, TABLE};
        use crate::ObjectKind;
        let allowed = |role: &str| -> Vec<crate::Operation> {
            let role = builtin_roles()
                .into_iter()
                .find(|r| r.name == role)
                .unwrap();
            TABLE
                .iter()
                .filter(|row| role.permits(row.data_action))
                .map(|row| row.operation)
                .collect()
        };
        let all_of = |kind: ObjectKind| -> Vec<crate::Operation> {
            TABLE
                .iter()
                .filter(|row| row.kind == kind && row.operation != KeyRandomBytes)
                .map(|row| row.operation)
                .collect()
        };
        assert_eq!(allowed("Key Vault Administrator").len(), TABLE.len());
        assert_eq!(
            allowed("Key Vault Reader"),
            [
                SecretList,
                SecretListVersions,
                SecretListDeleted,
                SecretGetDeleted,
                KeyGet,
                KeyList,
                KeyListVersions,
                KeyListDeleted,
                KeyGetDeleted,
                KeyRotationPolicyGet,
                KeyAttestationGet,
                CertificateGet,
                CertificateList,
                CertificateListVersions,
                CertificateListDeleted,
                CertificateGetDeleted,
                CertificatePolicyGet,
                CertificatePendingGet,
                CertificateIssuersList,
                CertificateIssuerGet,
            ]
        );
        assert_eq!(
            allowed("Key Vault Secrets Officer"),
            all_of(ObjectKind::Secret)
        );
        assert_eq!(
            allowed("Key Vault Secrets User"),
            [
                SecretGet,
                SecretList,
                SecretListVersions,
                SecretListDeleted,
                SecretGetDeleted
            ]
        );
        assert_eq!(allowed("Key Vault Crypto Officer"), all_of(ObjectKind::Key));
        assert_eq!(
            allowed("Key Vault Crypto User"),
            [
                KeyGet,
                KeyUpdate,
                KeyList,
                KeyListVersions,
                KeyListDeleted,
                KeyGetDeleted,
                KeyBackup,
                KeyEncrypt,
                KeyDecrypt,
                KeySign,
                KeyVerify,
                KeyWrap,
                KeyUnwrap,
                KeySecureWrap,
                KeySecureUnwrap,
                KeyAttestationGet,
            ]
        );
        assert_eq!(
            allowed("Key Vault Crypto Service Encryption User"),
            [
                KeyGet,
                KeyList,
                KeyListVersions,
                KeyListDeleted,
                KeyGetDeleted,
                KeyWrap,
                KeyUnwrap,
                KeySecureWrap,
                KeySecureUnwrap,
                KeyAttestationGet,
            ]
        );
        assert_eq!(
            allowed("Key Vault Crypto Service Release User"),
            [KeyRelease]
        );
        assert_eq!(
            allowed("Key Vault Certificates Officer"),
            all_of(ObjectKind::Certificate)
        );
        assert_eq!(
            allowed("Key Vault Certificate User"),
            [
                SecretGet,
                SecretList,
                SecretListVersions,
                SecretListDeleted,
                SecretGetDeleted,
                KeyGet,
                KeyList,
                KeyListVersions,
                KeyListDeleted,
                KeyGetDeleted,
                KeyAttestationGet,
                CertificateGet,
                CertificateList,
                CertificateListVersions,
                CertificateListDeleted,
                CertificateGetDeleted,
                CertificatePolicyGet,
                CertificatePendingGet,
            ]
        );
    }
}
