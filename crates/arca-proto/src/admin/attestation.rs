//! A vault's trusted attestation issuers, for key release: the body of
//! `PUT /admin/vaults/{name}/attestation-issuers` and of the answers listing or showing them.

use serde::{Deserialize, Serialize};

/// `{"issuer": "https://...", "jwks": {"keys": [...]}}`: an issuer URL, compared exactly with a
/// token's `iss`, and the issuer's signing keys as an inline JWK set (Arca never fetches it). The
/// server alone judges the values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationIssuer {
    pub issuer: String,
    pub jwks: serde_json::Value,
}

/// The query of `GET` and `DELETE /admin/vaults/{name}/attestation-issuers?issuer=...`: which
/// issuer (issuer URLs hold slashes, so they travel in the query, not the path). `GET` without
/// it lists them all; `DELETE` requires it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;

    #[test]
    fn attestation_issuer() {
        round_trip(
            &AttestationIssuer {
                issuer: "https://attest.example".into(),
                jwks: serde_json::json!({"keys": []}),
            },
            r#"{"issuer":"https://attest.example","jwks":{"keys":[]}}"#,
        );
        assert!(serde_json::from_str::<AttestationIssuer>(r#"{"issuer":"x"}"#).is_err());
        assert!(
            serde_json::from_str::<AttestationIssuer>(r#"{"issuer":"x","jwks":{},"extra":1}"#)
                .is_err()
        );
    }
}
