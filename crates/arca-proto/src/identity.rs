//! The token issuer's answers: OAuth errors, the OpenID discovery document, the token answers of
//! the Entra v2 and v1 endpoints and of the two managed-identity endpoints (App Service and
//! IMDS), and the management plane's subscription and tenant listings.
//!
//! Members are declared in alphabetical order, the order the `json!` maps these answers were
//! built with wrote them, so every answer keeps its bytes; the tests pin them. Access tokens are
//! [`SecretText`]. The management plane's errors are the Key Vault envelope ([`crate::ErrorBody`]
//! without an inner error).

use serde::{Deserialize, Serialize};

use crate::SecretText;

/// An OAuth error answer (RFC 6749 section 5.2, with Entra's `error_codes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthError {
    pub error: String,
    /// Entra's numeric error codes; Arca sends none.
    #[serde(default)]
    pub error_codes: Vec<u32>,
    pub error_description: String,
}

/// `/{tenant}/v2.0/.well-known/openid-configuration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIdConfiguration {
    pub authorization_endpoint: String,
    pub claims_supported: Vec<String>,
    pub cloud_instance_name: String,
    pub grant_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub issuer: String,
    pub jwks_uri: String,
    pub response_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    /// Always `null`: Arca has no national clouds.
    pub tenant_region_scope: Option<String>,
    pub token_endpoint: String,
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

/// The token answer of `/{tenant}/oauth2/v2.0/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenV2 {
    pub access_token: SecretText,
    pub expires_in: i64,
    pub ext_expires_in: i64,
    pub token_type: String,
}

/// The token answer of `/{tenant}/oauth2/token` (v1): every number a string, and the resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenV1 {
    pub access_token: SecretText,
    pub expires_in: String,
    pub expires_on: String,
    pub ext_expires_in: String,
    pub not_before: String,
    pub resource: String,
    pub token_type: String,
}

/// The App Service managed-identity endpoint's token answer (both api-versions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppServiceToken {
    pub access_token: SecretText,
    pub client_id: String,
    /// Unix seconds, as a string.
    pub expires_on: String,
    pub resource: String,
    pub token_type: String,
}

/// The IMDS managed-identity endpoint's token answer: every number a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImdsToken {
    pub access_token: SecretText,
    pub client_id: String,
    pub expires_in: String,
    pub expires_on: String,
    pub ext_expires_in: String,
    pub not_before: String,
    pub resource: String,
    pub token_type: String,
}

/// `GET /subscriptions`: Arca has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriptions {
    pub count: Count,
    pub value: Vec<serde_json::Value>,
}

/// The `count` member of an ARM listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    #[serde(rename = "type")]
    pub count_type: String,
    pub value: u64,
}

/// `GET /tenants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenants {
    pub value: Vec<Tenant>,
}

/// One tenant of `GET /tenants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub default_domain: String,
    pub display_name: String,
    pub domains: Vec<String>,
    pub id: String,
    pub tenant_category: String,
    pub tenant_id: String,
    pub tenant_type: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn oauth_error() {
        round_trip(
            &OAuthError {
                error: "invalid_client".into(),
                error_codes: vec![],
                error_description: "Bad credentials.".into(),
            },
            r#"{"error":"invalid_client","error_codes":[],"error_description":"Bad credentials."}"#,
        );
    }

    #[test]
    fn openid_configuration() {
        round_trip(
            &OpenIdConfiguration {
                authorization_endpoint: "https://h/t/oauth2/v2.0/authorize".into(),
                claims_supported: strings(&["sub", "iss"]),
                cloud_instance_name: "arca".into(),
                grant_types_supported: strings(&["client_credentials"]),
                id_token_signing_alg_values_supported: strings(&["ES256"]),
                issuer: "https://h/t/v2.0".into(),
                jwks_uri: "https://h/t/discovery/v2.0/keys".into(),
                response_types_supported: strings(&["token"]),
                subject_types_supported: strings(&["pairwise"]),
                tenant_region_scope: None,
                token_endpoint: "https://h/t/oauth2/v2.0/token".into(),
                token_endpoint_auth_methods_supported: strings(&["client_secret_post"]),
            },
            concat!(
                r#"{"authorization_endpoint":"https://h/t/oauth2/v2.0/authorize","#,
                r#""claims_supported":["sub","iss"],"cloud_instance_name":"arca","#,
                r#""grant_types_supported":["client_credentials"],"#,
                r#""id_token_signing_alg_values_supported":["ES256"],"issuer":"https://h/t/v2.0","#,
                r#""jwks_uri":"https://h/t/discovery/v2.0/keys","response_types_supported":["token"],"#,
                r#""subject_types_supported":["pairwise"],"tenant_region_scope":null,"#,
                r#""token_endpoint":"https://h/t/oauth2/v2.0/token","#,
                r#""token_endpoint_auth_methods_supported":["client_secret_post"]}"#
            ),
        );
    }

    #[test]
    fn token_answers() {
        let token = || SecretText::new("eyJ.x.y".into());
        let v2 = TokenV2 {
            access_token: token(),
            expires_in: 3600,
            ext_expires_in: 3600,
            token_type: "Bearer".into(),
        };
        round_trip(
            &v2,
            r#"{"access_token":"eyJ.x.y","expires_in":3600,"ext_expires_in":3600,"token_type":"Bearer"}"#,
        );
        assert!(!format!("{v2:?}").contains("eyJ"));
        round_trip(
            &TokenV1 {
                access_token: token(),
                expires_in: "3600".into(),
                expires_on: "1003600".into(),
                ext_expires_in: "3600".into(),
                not_before: "1000000".into(),
                resource: "https://vault.localhost:8443".into(),
                token_type: "Bearer".into(),
            },
            concat!(
                r#"{"access_token":"eyJ.x.y","expires_in":"3600","expires_on":"1003600","#,
                r#""ext_expires_in":"3600","not_before":"1000000","#,
                r#""resource":"https://vault.localhost:8443","token_type":"Bearer"}"#
            ),
        );
        round_trip(
            &AppServiceToken {
                access_token: token(),
                client_id: "c".into(),
                expires_on: "1003600".into(),
                resource: "r".into(),
                token_type: "Bearer".into(),
            },
            r#"{"access_token":"eyJ.x.y","client_id":"c","expires_on":"1003600","resource":"r","token_type":"Bearer"}"#,
        );
        round_trip(
            &ImdsToken {
                access_token: token(),
                client_id: "c".into(),
                expires_in: "3600".into(),
                expires_on: "1003600".into(),
                ext_expires_in: "3600".into(),
                not_before: "1000000".into(),
                resource: "r".into(),
                token_type: "Bearer".into(),
            },
            concat!(
                r#"{"access_token":"eyJ.x.y","client_id":"c","expires_in":"3600","#,
                r#""expires_on":"1003600","ext_expires_in":"3600","not_before":"1000000","#,
                r#""resource":"r","token_type":"Bearer"}"#
            ),
        );
    }

    #[test]
    fn management_listings() {
        round_trip(
            &Subscriptions {
                count: Count {
                    count_type: "Total".into(),
                    value: 0,
                },
                value: vec![],
            },
            r#"{"count":{"type":"Total","value":0},"value":[]}"#,
        );
        round_trip(
            &Tenants {
                value: vec![Tenant {
                    default_domain: "t".into(),
                    display_name: "Arca".into(),
                    domains: vec![],
                    id: "/tenants/t".into(),
                    tenant_category: "Home".into(),
                    tenant_id: "t".into(),
                    tenant_type: "AAD".into(),
                }],
            },
            r#"{"value":[{"defaultDomain":"t","displayName":"Arca","domains":[],"id":"/tenants/t","tenantCategory":"Home","tenantId":"t","tenantType":"AAD"}]}"#,
        );
    }
}
