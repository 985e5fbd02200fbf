//! Vault bodies: `POST /admin/vaults` and the vault answer.

use serde::{Deserialize, Serialize};

/// `POST /admin/vaults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVault {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_protection: Option<bool>,
    /// 7 to 90; the server's default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

/// A vault as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vault {
    pub created: i64,
    pub name: String,
    pub purge_protection: bool,
    pub recovery_level: String,
    pub retention_days: u32,
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;

    #[test]
    fn create_vault() {
        let full = CreateVault {
            name: "team-a".into(),
            purge_protection: Some(true),
            retention_days: Some(30),
        };
        round_trip(
            &full,
            r#"{"name":"team-a","purge_protection":true,"retention_days":30}"#,
        );
        let bare = CreateVault {
            name: "x".into(),
            purge_protection: None,
            retention_days: None,
        };
        round_trip(&bare, r#"{"name":"x"}"#);
        let nulls: CreateVault =
            serde_json::from_str(r#"{"name":"x","retention_days":null,"purge_protection":null}"#)
                .unwrap();
        assert_eq!(nulls, bare);
        assert!(serde_json::from_str::<CreateVault>(r#"{"name":"x","other":1}"#).is_err());
        assert!(serde_json::from_str::<CreateVault>(r#"{"retention_days":7}"#).is_err());
    }

    #[test]
    fn vault() {
        round_trip(
            &Vault {
                created: 1_700_000_000,
                name: "default".into(),
                purge_protection: false,
                recovery_level: "Recoverable+Purgeable".into(),
                retention_days: 90,
                url: "https://default.vault.localhost:8443".into(),
            },
            r#"{"created":1700000000,"name":"default","purge_protection":false,"recovery_level":"Recoverable+Purgeable","retention_days":90,"url":"https://default.vault.localhost:8443"}"#,
        );
    }
}
