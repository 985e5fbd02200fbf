//! Principal bodies: creating one, the principal answer with its client secrets (never their
//! values) and certificates, adding a client secret (whose answer is the one place the secret is
//! shown) and registering a certificate.

use serde::{Deserialize, Serialize};

use crate::SecretText;

/// Service principal or managed identity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    #[default]
    ServicePrincipal,
    ManagedIdentity,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ServicePrincipal => "service_principal",
            Self::ManagedIdentity => "managed_identity",
        }
    }
}

/// `POST /admin/principals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePrincipal {
    pub display_name: String,
    /// `service_principal` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PrincipalKind>,
}

/// A principal as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub certificates: Vec<Certificate>,
    pub client_id: String,
    pub created: i64,
    pub display_name: String,
    pub kind: PrincipalKind,
    pub object_id: String,
    pub secrets: Vec<SecretInfo>,
}

/// A client secret of a principal, without its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretInfo {
    pub created: i64,
    pub description: Option<String>,
    pub expires: Option<i64>,
    /// The first three characters of the secret, as Entra shows them.
    pub hint: String,
    pub id: String,
}

/// A registered client certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub added: i64,
    /// The SHA-1 thumbprint, upper-case hex.
    pub id: String,
    pub not_after: i64,
    pub not_before: i64,
    pub subject: String,
    pub thumbprint_sha256: String,
}

/// `POST /admin/principals/{principal}/secrets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddSecret {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 1 to 3650; 365 when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

/// The answer of `POST /admin/principals/{principal}/secrets`: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSecret {
    pub created: i64,
    pub description: Option<String>,
    pub expires: Option<i64>,
    pub hint: String,
    pub id: String,
    pub secret: SecretText,
}

/// `POST /admin/principals/{principal}/certificates`: one PEM certificate, no private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddCertificate {
    pub certificate: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;

    #[test]
    fn create_principal() {
        round_trip(
            &CreatePrincipal {
                display_name: "ci pipeline".into(),
                kind: Some(PrincipalKind::ServicePrincipal),
            },
            r#"{"display_name":"ci pipeline","kind":"service_principal"}"#,
        );
        round_trip(
            &CreatePrincipal {
                display_name: "web".into(),
                kind: Some(PrincipalKind::ManagedIdentity),
            },
            r#"{"display_name":"web","kind":"managed_identity"}"#,
        );
        round_trip(
            &CreatePrincipal {
                display_name: "x".into(),
                kind: None,
            },
            r#"{"display_name":"x"}"#,
        );
        for bad in [
            r#"{"display_name":"x","kind":"user"}"#,
            r#"{"display_name":"x","other":1}"#,
            r#"{"kind":"managed_identity"}"#,
        ] {
            assert!(
                serde_json::from_str::<CreatePrincipal>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn principal() {
        round_trip(
            &Principal {
                certificates: vec![Certificate {
                    added: 3,
                    id: "AB12".into(),
                    not_after: 2,
                    not_before: 1,
                    subject: "CN=ci".into(),
                    thumbprint_sha256: "CD34".into(),
                }],
                client_id: "c1".into(),
                created: 0,
                display_name: "ci".into(),
                kind: PrincipalKind::ServicePrincipal,
                object_id: "o1".into(),
                secrets: vec![
                    SecretInfo {
                        created: 0,
                        description: None,
                        expires: None,
                        hint: "abc".into(),
                        id: "s1".into(),
                    },
                    SecretInfo {
                        created: 5,
                        description: Some("for CI".into()),
                        expires: Some(86_400),
                        hint: "xyz".into(),
                        id: "s2".into(),
                    },
                ],
            },
            r#"{"certificates":[{"added":3,"id":"AB12","not_after":2,"not_before":1,"subject":"CN=ci","thumbprint_sha256":"CD34"}],"client_id":"c1","created":0,"display_name":"ci","kind":"service_principal","object_id":"o1","secrets":[{"created":0,"description":null,"expires":null,"hint":"abc","id":"s1"},{"created":5,"description":"for CI","expires":86400,"hint":"xyz","id":"s2"}]}"#,
        );
    }

    #[test]
    fn add_secret() {
        round_trip(&AddSecret::default(), "{}");
        round_trip(
            &AddSecret {
                description: Some("for CI".into()),
                expires_in_days: Some(30),
            },
            r#"{"description":"for CI","expires_in_days":30}"#,
        );
        assert!(serde_json::from_str::<AddSecret>(r#"{"expires_in_days":-1}"#).is_err());
        assert!(serde_json::from_str::<AddSecret>(r#"{"secret":"x"}"#).is_err());
    }

    #[test]
    fn new_secret() {
        let s = NewSecret {
            created: 0,
            description: None,
            expires: Some(86_400),
            hint: "abc".into(),
            id: "s1".into(),
            secret: SecretText::new("abc8Q~xyz".into()),
        };
        round_trip(
            &s,
            r#"{"created":0,"description":null,"expires":86400,"hint":"abc","id":"s1","secret":"abc8Q~xyz"}"#,
        );
        assert!(!format!("{s:?}").contains("8Q~xyz"));
    }

    #[test]
    fn add_certificate() {
        round_trip(
            &AddCertificate {
                certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n".into(),
            },
            r#"{"certificate":"-----BEGIN CERTIFICATE-----\nMIIB\n"}"#,
        );
    }
}
