//! Request and response bodies of the certificates API
//! (`shared/spec/keyvault/2026-04-01/certificates.json`).
//!
//! Spelling follows the swagger member by member: the policy's members are snake case on the
//! wire (`key_props`, `x509_props`, `lifetime_actions`, `validity_months`, ...) while the bundle's
//! are camelCase (`contentType`, `preserveCertOrder`, `recoveryId`), and `ipAddresses` is the
//! one camelCase member of the SANs. A policy is one type for both directions, every member
//! optional, because Key Vault's policy PATCH merges the members a client sends into the stored
//! policy; read-only members a client sends back (`id`, `created`, `updated`) are accepted and
//! ignored by the engine. Members that carry secrets (an imported PFX or PEM with its private
//! key, its password, an issuer's password) are [`SecretText`]: wiped on drop, redacted in
//! `Debug`; no response type has a place for an issuer password. `platformManaged` (Azure's
//! platform-managed certificates) is not modelled: Arca has no platform to manage them, and an
//! unknown member is ignored as Key Vault ignores it. Nothing here has behaviour.

use serde::{Deserialize, Serialize};

pub use crate::secrets::{
    BackupBlob, DeletedMembers, ListResult, SecretAttributes as CertificateAttributes,
    SecretAttributesIn as CertificateAttributesIn, Tags,
};
use crate::{ErrorDetail, SecretText};

/// `CertificatePolicy`, as sent (create, import, update, policy PATCH) and as returned.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct CertificatePolicy {
    /// `https://{vault}/certificates/{name}/policy` (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_props: Option<KeyProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_props: Option<SecretProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x509_props: Option<X509CertificateProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_actions: Option<Vec<LifetimeAction>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<PolicyAttributes>,
}

/// A policy's own attributes: whether it is enabled, and (read-only) when it was made and last
/// changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct PolicyAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
}

/// `KeyProperties`: the certificate's key.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct KeyProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exportable: Option<bool>,
    /// `RSA`, `RSA-HSM`, `EC` or `EC-HSM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_key: Option<bool>,
    /// `P-256`, `P-384`, `P-521` (and `P-256K`, which certificates refuse).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
}

/// `SecretProperties`: the format of the backing secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SecretProperties {
    /// `application/x-pkcs12` or `application/x-pem-file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// `X509CertificateProperties`: what the certificate says.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct X509CertificateProperties {
    /// The subject distinguished name, e.g. `CN=www.example.com, O=Contoso`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Extended key usages, as dotted OIDs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ekus: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sans: Option<SubjectAlternativeNames>,
    /// Key usages by Key Vault's names (`digitalSignature`, `keyEncipherment`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_months: Option<u32>,
}

/// `SubjectAlternativeNames`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SubjectAlternativeNames {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uris: Option<Vec<String>>,
    #[serde(rename = "ipAddresses", skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Vec<String>>,
}

/// `LifetimeAction`: what to do (`action`) when (`trigger`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct LifetimeAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

/// `Trigger`: a percentage of the lifetime, or a number of days before expiry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Trigger {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_percentage: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_before_expiry: Option<u32>,
}

/// `Action`: `EmailContacts` or `AutoRenew`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Action {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
}

/// `IssuerParameters`: which issuer signs (`Self`, `Unknown`, or a configured issuer's name).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct IssuerParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The certificate type the issuer is asked for (issuer-specific, e.g. `OV-SSL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_transparency: Option<bool>,
}

/// `CertificateCreateParameters`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CertificateCreateParameters {
    pub policy: Option<CertificatePolicy>,
    pub attributes: Option<CertificateAttributesIn>,
    pub tags: Option<Tags>,
    pub preserve_cert_order: Option<bool>,
}

/// `CertificateImportParameters`. `value` is a base64 PFX or a PEM text, either with the
/// private key, and `pwd` the PFX's password: both secret.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateImportParameters {
    pub value: SecretText,
    #[serde(default)]
    pub pwd: Option<SecretText>,
    #[serde(default)]
    pub policy: Option<CertificatePolicy>,
    #[serde(default)]
    pub attributes: Option<CertificateAttributesIn>,
    #[serde(default)]
    pub tags: Option<Tags>,
    #[serde(default)]
    pub preserve_cert_order: Option<bool>,
}

/// `CertificateUpdateParameters`: only members present are changed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CertificateUpdateParameters {
    pub policy: Option<CertificatePolicy>,
    pub attributes: Option<CertificateAttributesIn>,
    pub tags: Option<Tags>,
}

/// `CertificateMergeParameters`: the signed chain (base64 DER certificates) for a pending
/// certificate.
#[derive(Debug, Deserialize)]
pub struct CertificateMergeParameters {
    pub x5c: Vec<String>,
    #[serde(default)]
    pub attributes: Option<CertificateAttributesIn>,
    #[serde(default)]
    pub tags: Option<Tags>,
}

/// `CertificateBundle`, and with the deletion members set, `DeletedCertificateBundle`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateBundle<'a> {
    pub id: String,
    /// The backing key's id.
    pub kid: String,
    /// The backing secret's id.
    pub sid: String,
    /// The SHA-1 thumbprint, base64url.
    pub x5t: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<&'a CertificatePolicy>,
    /// The certificate, DER in standard base64.
    pub cer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'a str>,
    pub attributes: CertificateAttributes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<&'a Tags>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preserve_cert_order: Option<bool>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedMembers>,
}

/// `CertificateItem`, and with the deletion members set, `DeletedCertificateItem`.
#[derive(Debug, Serialize)]
pub struct CertificateItem<'a> {
    pub id: String,
    pub attributes: CertificateAttributes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<&'a Tags>,
    /// Absent for a pending certificate listed with `includePending`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedMembers>,
}

/// `CertificateOperation`: the pending operation of a certificate being created.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertificateOperation {
    /// `https://{vault}/certificates/{name}/pending`.
    pub id: String,
    pub issuer: IssuerParameters,
    /// The PKCS#10 request, DER in standard base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
    pub cancellation_requested: bool,
    /// `inProgress`, `completed`, `failed` or `cancelled`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    /// The certificate's id once the operation completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(rename = "preserveCertOrder", skip_serializing_if = "Option::is_none")]
    pub preserve_cert_order: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `CertificateOperationUpdateParameter`: the only change a client may make to a pending
/// operation is to ask for its cancellation.
#[derive(Debug, Deserialize)]
pub struct CertificateOperationUpdateParameter {
    pub cancellation_requested: bool,
}

/// `Contacts`: who is told about certificate lifetime events.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Contacts {
    /// `https://{vault}/certificates/contacts` (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<Contact>>,
}

/// `Contact`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `IssuerCredentials` as a client sends them; the password never comes back.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IssuerCredentialsIn {
    pub account_id: Option<String>,
    pub pwd: Option<SecretText>,
}

/// `IssuerCredentials` as returned: the account only.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct IssuerCredentials {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

/// `OrganizationDetails`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct OrganizationDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_details: Option<Vec<AdministratorDetails>>,
}

/// `AdministratorDetails`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct AdministratorDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `IssuerAttributes` as a client sends them (`created`, `updated` accepted and ignored).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct IssuerAttributesIn {
    pub enabled: Option<bool>,
}

/// `IssuerAttributes` as returned.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IssuerAttributes {
    pub enabled: bool,
    pub created: i64,
    pub updated: i64,
}

/// `CertificateIssuerSetParameters` (PUT) and, with `provider` optional, the PATCH body
/// `CertificateIssuerUpdateParameters`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CertificateIssuerParameters {
    pub provider: Option<String>,
    pub credentials: Option<IssuerCredentialsIn>,
    pub org_details: Option<OrganizationDetails>,
    pub attributes: Option<IssuerAttributesIn>,
}

/// `IssuerBundle`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IssuerBundle {
    /// `https://{vault}/certificates/issuers/{name}`.
    pub id: String,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<IssuerCredentials>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_details: Option<OrganizationDetails>,
    pub attributes: IssuerAttributes,
}

/// `CertificateIssuerItem`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertificateIssuerItem {
    pub id: String,
    pub provider: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A policy as the Python SDK sends it for `CertificatePolicy.get_default()` with SANs and
    /// lifetime actions, parsed and written back member for member.
    #[test]
    fn a_policy_round_trips_with_the_swaggers_spelling() {
        let sent = serde_json::json!({
            "key_props": {"exportable": true, "kty": "RSA", "key_size": 2048, "reuse_key": false},
            "secret_props": {"contentType": "application/x-pkcs12"},
            "x509_props": {
                "subject": "CN=DefaultPolicy",
                "sans": {"dns_names": ["a.example"], "ipAddresses": ["10.0.0.1"], "upns": ["u@example"]},
                "ekus": ["1.3.6.1.5.5.7.3.1"],
                "key_usage": ["digitalSignature", "keyEncipherment"],
                "validity_months": 12
            },
            "lifetime_actions": [
                {"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}},
                {"trigger": {"days_before_expiry": 30}, "action": {"action_type": "EmailContacts"}}
            ],
            "issuer": {"name": "Self", "cert_transparency": false},
            "attributes": {"enabled": true}
        });
        let policy: CertificatePolicy = serde_json::from_value(sent.clone()).unwrap();
        let x509 = policy.x509_props.as_ref().unwrap();
        assert_eq!(x509.validity_months, Some(12));
        let sans = x509.sans.as_ref().unwrap();
        assert_eq!(
            sans.ip_addresses.as_deref(),
            Some(&["10.0.0.1".to_owned()][..])
        );
        assert_eq!(serde_json::to_value(&policy).unwrap(), sent);
    }

    /// Read-only members a client echoes back are accepted; unknown members (such as
    /// `platformManaged`) are ignored, as Key Vault ignores them.
    #[test]
    fn read_only_and_unknown_members_are_accepted() {
        let policy: CertificatePolicy = serde_json::from_value(serde_json::json!({
            "id": "https://v.vault.localhost/certificates/c/policy",
            "attributes": {"enabled": true, "created": 1, "updated": 2},
            "platformManaged": {"certificateUsage": "x"}
        }))
        .unwrap();
        assert_eq!(policy.attributes.unwrap().created, Some(1));
    }

    #[test]
    fn imported_material_and_passwords_never_show_in_debug() {
        let import: CertificateImportParameters = serde_json::from_value(serde_json::json!({
            "value": "MIIPFX-PRIVATE-MATERIAL",
            "pwd": "pfx-password-123"
        }))
        .unwrap();
        let shown = format!("{import:?}");
        assert!(!shown.contains("PRIVATE-MATERIAL"), "{shown}");
        assert!(!shown.contains("pfx-password-123"), "{shown}");
        let issuer: CertificateIssuerParameters = serde_json::from_value(serde_json::json!({
            "provider": "Test",
            "credentials": {"account_id": "acct", "pwd": "issuer-password-456"}
        }))
        .unwrap();
        let shown = format!("{issuer:?}");
        assert!(shown.contains("acct"), "{shown}");
        assert!(!shown.contains("issuer-password-456"), "{shown}");
    }

    /// A pending operation as Key Vault shows it: snake case but for `preserveCertOrder`.
    #[test]
    fn a_pending_operation_has_key_vaults_shape() {
        let op = CertificateOperation {
            id: "https://v.vault.localhost/certificates/c/pending".to_owned(),
            issuer: IssuerParameters {
                name: Some("Unknown".to_owned()),
                ..Default::default()
            },
            csr: Some("MIIB".to_owned()),
            cancellation_requested: false,
            status: "inProgress".to_owned(),
            status_details: None,
            error: None,
            target: None,
            preserve_cert_order: Some(false),
            request_id: Some("r1".to_owned()),
        };
        assert_eq!(
            serde_json::to_value(&op).unwrap(),
            serde_json::json!({
                "id": "https://v.vault.localhost/certificates/c/pending",
                "issuer": {"name": "Unknown"},
                "csr": "MIIB",
                "cancellation_requested": false,
                "status": "inProgress",
                "preserveCertOrder": false,
                "request_id": "r1"
            })
        );
    }
}
