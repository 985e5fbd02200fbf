//! Request and response bodies of the secrets API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Attributes as a client sends them. Read-only members (`created`, `updated`, `recoveryLevel`,
/// `recoverableDays`) are accepted and ignored, as Key Vault does.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct SecretAttributesIn {
    pub enabled: Option<bool>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

/// Attributes as Arca reports them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretAttributes {
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    pub created: i64,
    pub updated: i64,
    pub recoverable_days: u32,
    pub recovery_level: &'static str,
}

pub type Tags = BTreeMap<String, String>;

/// `SecretSetParameters`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretSetParameters {
    /// Wiped when dropped, also when the rest of the body fails to parse.
    pub value: Zeroizing<String>,
    #[serde(default)]
    pub tags: Option<Tags>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub attributes: Option<SecretAttributesIn>,
}

impl std::fmt::Debug for SecretSetParameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretSetParameters")
            .field(
                "value",
                &format_args!("[REDACTED; {} bytes]", self.value.len()),
            )
            .field("tags", &self.tags)
            .field("content_type", &self.content_type)
            .field("attributes", &self.attributes)
            .finish()
    }
}

/// `SecretUpdateParameters`: only members present are changed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecretUpdateParameters {
    pub content_type: Option<String>,
    pub attributes: Option<SecretAttributesIn>,
    pub tags: Option<Tags>,
}

/// `SecretRestoreParameters` and `BackupSecretResult` share one shape.
#[derive(Debug, Deserialize, Serialize)]
pub struct BackupBlob {
    pub value: String,
}

/// `SecretBundle`, and with the deletion members set, `DeletedSecretBundle`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretBundle<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<&'a str>,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'a str>,
    pub attributes: SecretAttributes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<&'a Tags>,
    /// For a certificate's secret: the id of the certificate's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `true` for a certificate's secret; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedMembers>,
}

/// `SecretItem`, and with the deletion members set, `DeletedSecretItem`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretItem<'a> {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'a str>,
    pub attributes: SecretAttributes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<&'a Tags>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedMembers>,
}

/// The members a deleted bundle or item adds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedMembers {
    pub recovery_id: String,
    pub deleted_date: i64,
    pub scheduled_purge_date: i64,
}

/// `SecretListResult` / `DeletedSecretListResult`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResult<T> {
    pub value: Vec<T>,
    pub next_link: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_parameters_accept_read_only_attributes_and_unknown_members() {
        let p: SecretSetParameters = serde_json::from_str(
            r#"{"value":"v","attributes":{"enabled":false,"created":1,"recoveryLevel":"x"},"other":1}"#,
        )
        .unwrap();
        assert_eq!(p.attributes.unwrap().enabled, Some(false));
    }

    #[test]
    fn update_parameters_and_attributes_may_leave_out_any_member() {
        let p: SecretUpdateParameters = serde_json::from_str(r#"{"attributes":{}}"#).unwrap();
        assert_eq!(p.attributes, Some(SecretAttributesIn::default()));
        assert_eq!((p.content_type, p.tags), (None, None));
        let p: SecretUpdateParameters = serde_json::from_str(r#"{"contentType":null}"#).unwrap();
        assert_eq!((p.content_type, p.attributes, p.tags), (None, None, None));
    }

    #[test]
    fn set_parameters_debug_hides_the_value() {
        let p: SecretSetParameters = serde_json::from_str(r#"{"value":"hunter2"}"#).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn wrong_types_are_rejected() {
        for body in [
            r#"{"value":1}"#,
            r#"{"value":"v","tags":"x"}"#,
            r#"{"value":"v","attributes":{"enabled":"yes"}}"#,
            r#"{"value":"v","tags":{"a":1}}"#,
            r#"{}"#,
        ] {
            assert!(
                serde_json::from_str::<SecretSetParameters>(body).is_err(),
                "{body}"
            );
        }
    }

    #[test]
    fn deleted_bundle_flattens_deletion_members() {
        let tags = Tags::from([("a".to_owned(), "b".to_owned())]);
        let bundle = SecretBundle {
            value: None,
            id: "https://v.example/secrets/n/0".into(),
            content_type: None,
            attributes: SecretAttributes {
                enabled: true,
                nbf: None,
                exp: Some(5),
                created: 1,
                updated: 2,
                recoverable_days: 7,
                recovery_level: "CustomizedRecoverable+Purgeable",
            },
            tags: Some(&tags),
            kid: None,
            managed: None,
            deleted: Some(DeletedMembers {
                recovery_id: "https://v.example/deletedsecrets/n".into(),
                deleted_date: 3,
                scheduled_purge_date: 4,
            }),
        };
        let json: serde_json::Value = serde_json::to_value(&bundle).unwrap();
        assert_eq!(json["recoveryId"], "https://v.example/deletedsecrets/n");
        assert_eq!(json["scheduledPurgeDate"], 4);
        assert_eq!(json["attributes"]["recoverableDays"], 7);
        assert!(json.get("value").is_none());
    }
}
