//! The built-in certificate issuer's administration: the deployment's issuing CA (`GET` and
//! `PUT /admin/issuing-ca`) and the DNS suffixes each vault's `Arca` issuer may sign for
//! (`/admin/vaults/{name}/certificate-issuer-suffixes[/{issuer}]`).

use serde::{Deserialize, Serialize};

use crate::SecretText;

/// One certificate of the issuing CA's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaCertificate {
    /// The issuer, in Key Vault's string form.
    pub issuer: String,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    /// The subject, in Key Vault's string form.
    pub subject: String,
}

/// The answer of `GET` and `PUT /admin/issuing-ca`: the chain clients trust for what the
/// built-in issuer signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuingCa {
    /// Each certificate of `chain_pem`, in its order.
    pub certificates: Vec<CaCertificate>,
    /// The chain as PEM: the issuing CA first, then its issuers up to the root (as far as an
    /// imported CA's chain was given).
    pub chain_pem: String,
    /// `generated` (made under the local CA) or `imported` (`arca ca import`).
    pub source: String,
}

/// The body of `PUT /admin/issuing-ca`: an operator's CA as PEM text holding its private key
/// (PKCS#8, PKCS#1 or SEC1; `ENCRYPTED PRIVATE KEY` with `password`), its certificate and any
/// certificates above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportCa {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::present"
    )]
    pub password: Option<SecretText>,
    pub pem: SecretText,
}

/// What one vault issuer may sign for: an answer of
/// `/admin/vaults/{name}/certificate-issuer-suffixes[/{issuer}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerSuffixes {
    /// The issuer name as the administrator wrote it.
    pub issuer: String,
    /// The permitted DNS suffixes, lower case and sorted.
    pub suffixes: Vec<String>,
    /// When the list was last set, Unix seconds.
    pub updated: i64,
}

/// The body of `PUT /admin/vaults/{name}/certificate-issuer-suffixes/{issuer}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetIssuerSuffixes {
    pub suffixes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;

    #[test]
    fn issuing_ca() {
        round_trip(
            &IssuingCa {
                certificates: vec![CaCertificate {
                    issuer: "CN=Arca local CA".into(),
                    not_after: 2,
                    not_before: 1,
                    sha256: "ab".into(),
                    subject: "CN=Arca issuing CA".into(),
                }],
                chain_pem: "-----BEGIN CERTIFICATE-----\n".into(),
                source: "generated".into(),
            },
            r#"{"certificates":[{"issuer":"CN=Arca local CA","not_after":2,"not_before":1,"sha256":"ab","subject":"CN=Arca issuing CA"}],"chain_pem":"-----BEGIN CERTIFICATE-----\n","source":"generated"}"#,
        );
    }

    #[test]
    fn import_ca_hides_its_secrets() {
        let body = ImportCa {
            password: Some(SecretText::new("pw".into())),
            pem: SecretText::new("KEYTEXT".into()),
        };
        round_trip(&body, r#"{"password":"pw","pem":"KEYTEXT"}"#);
        round_trip(
            &ImportCa {
                password: None,
                pem: SecretText::new("k".into()),
            },
            r#"{"pem":"k"}"#,
        );
        let shown = format!("{body:?}");
        assert!(
            !shown.contains("KEYTEXT") && !shown.contains("pw\""),
            "{shown}"
        );
        assert!(serde_json::from_str::<ImportCa>(r#"{"pem":"k","password":null}"#).is_err());
        assert!(serde_json::from_str::<ImportCa>(r#"{"pem":"k","cert":"x"}"#).is_err());
    }

    #[test]
    fn issuer_suffixes() {
        round_trip(
            &IssuerSuffixes {
                issuer: "internal".into(),
                suffixes: vec!["svc.example.internal".into()],
                updated: 7,
            },
            r#"{"issuer":"internal","suffixes":["svc.example.internal"],"updated":7}"#,
        );
        round_trip(
            &SetIssuerSuffixes {
                suffixes: vec!["a.internal".into(), "b.internal".into()],
            },
            r#"{"suffixes":["a.internal","b.internal"]}"#,
        );
        assert!(serde_json::from_str::<SetIssuerSuffixes>(r#"{"suffixes":[],"x":1}"#).is_err());
    }
}
