//! Federated credential bodies: adding one, the credential answer and the listing's query.

use serde::{Deserialize, Serialize};

/// `POST /admin/federated-credentials`: exactly one of `jwks` and `jwks_url` (the server checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddFederation {
    /// `["api://AzureADTokenExchange"]` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    pub issuer: String,
    /// A JWK set with the issuer's public keys, kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// PEM certificates to trust when fetching `jwks_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_ca_pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// Client id or object id.
    pub principal: String,
    pub subject: String,
}

/// A federated credential as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatedCredential {
    pub audiences: Vec<String>,
    pub created: i64,
    pub id: String,
    pub issuer: String,
    /// The number of keys when they were given inline.
    pub jwks_keys: Option<usize>,
    pub jwks_url: Option<String>,
    pub principal_client_id: String,
    pub subject: String,
}

/// The query of `GET /admin/federated-credentials`: only one principal's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;

    #[test]
    fn add_federation() {
        round_trip(
            &AddFederation {
                audiences: None,
                issuer: "https://i".into(),
                jwks: None,
                jwks_ca_pem: None,
                jwks_url: Some("https://i/keys".into()),
                principal: "ci".into(),
                subject: "s".into(),
            },
            r#"{"issuer":"https://i","jwks_url":"https://i/keys","principal":"ci","subject":"s"}"#,
        );
        let jwks: serde_json::Value =
            serde_json::from_str(r#"{"keys":[{"crv":"P-256","kty":"EC","x":"AA","y":"BB"}]}"#)
                .unwrap();
        round_trip(
            &AddFederation {
                audiences: Some(vec!["a1".into(), "a2".into()]),
                issuer: "https://i".into(),
                jwks: Some(jwks),
                jwks_ca_pem: Some("PEM".into()),
                jwks_url: None,
                principal: "ci".into(),
                subject: "s".into(),
            },
            r#"{"audiences":["a1","a2"],"issuer":"https://i","jwks":{"keys":[{"crv":"P-256","kty":"EC","x":"AA","y":"BB"}]},"jwks_ca_pem":"PEM","principal":"ci","subject":"s"}"#,
        );
        assert!(serde_json::from_str::<AddFederation>(
            r#"{"issuer":"i","subject":"s","principal":"p","jwks_file":"x"}"#
        )
        .is_err());
    }

    #[test]
    fn federated_credential() {
        round_trip(
            &FederatedCredential {
                audiences: vec!["api://AzureADTokenExchange".into()],
                created: 9,
                id: "f1".into(),
                issuer: "https://i".into(),
                jwks_keys: Some(1),
                jwks_url: None,
                principal_client_id: "c1".into(),
                subject: "s".into(),
            },
            r#"{"audiences":["api://AzureADTokenExchange"],"created":9,"id":"f1","issuer":"https://i","jwks_keys":1,"jwks_url":null,"principal_client_id":"c1","subject":"s"}"#,
        );
    }
}
