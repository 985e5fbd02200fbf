//! [`Request`]: one admin call, described before it is sent: method, path (names and ids
//! percent-encoded into their one path segment), JSON body, the status that means success and,
//! as a type parameter, the answer it brings.

use std::fmt::Write as _;
use std::marker::PhantomData;

use arca_proto::admin::{
    AccessDecision, AddCertificate, AddFederation, AddSecret, Assign, Assignment, AssignmentQuery,
    AttestationIssuer, Certificate, CheckAccess, CreatePrincipal, CreateVault, DefineRole,
    FederatedCredential, FederationQuery, IdentityHeader, ImportCa, IssuerQuery, IssuerSuffixes,
    IssuingCa, List, NetworkRules, NewSecret, Principal, Role, SetIssuerSuffixes, SetThrottling,
    SigningKey, Throttling, Vault,
};
use http::{Method, StatusCode};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::ClientError;

const VAULTS: &str = "/admin/vaults";
const PRINCIPALS: &str = "/admin/principals";
const ROLES: &str = "/admin/roles";
const ASSIGNMENTS: &str = "/admin/role-assignments";
const FEDERATIONS: &str = "/admin/federated-credentials";
const ISSUING_CA: &str = "/admin/issuing-ca";

/// One admin API call whose successful answer is an `A` (`()` for a 204 without a body).
pub struct Request<A> {
    method: Method,
    path: String,
    /// Wiped when dropped: a body may carry a CA's private key.
    body: Option<Zeroizing<Vec<u8>>>,
    expected: StatusCode,
    answer: PhantomData<fn() -> A>,
}

impl<A> std::fmt::Debug for Request<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl<A> Request<A> {
    fn new(method: Method, path: String, expected: StatusCode) -> Self {
        Self {
            method,
            path,
            body: None,
            expected,
            answer: PhantomData,
        }
    }

    fn get(path: String) -> Self {
        Self::new(Method::GET, path, StatusCode::OK)
    }

    fn with_body(
        method: Method,
        path: String,
        body: &impl Serialize,
        expected: StatusCode,
    ) -> Result<Self, ClientError> {
        let body = serde_json::to_vec(body).map_err(|_| ClientError::Encode {
            what: "request body",
        })?;
        Ok(Self {
            body: Some(Zeroizing::new(body)),
            ..Self::new(method, path, expected)
        })
    }

    fn create(path: String, body: &impl Serialize) -> Result<Self, ClientError> {
        Self::with_body(Method::POST, path, body, StatusCode::CREATED)
    }

    fn put(path: String, body: &impl Serialize) -> Result<Self, ClientError> {
        Self::with_body(Method::PUT, path, body, StatusCode::OK)
    }

    pub fn method(&self) -> Method {
        self.method.clone()
    }

    /// The path and query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The JSON body, if the call has one.
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_ref().map(|b| b.as_slice())
    }

    /// The status of a successful answer.
    pub fn expected(&self) -> StatusCode {
        self.expected
    }
}

impl Request<()> {
    fn delete(path: String) -> Self {
        Self::new(Method::DELETE, path, StatusCode::NO_CONTENT)
    }
}

/// Percent-encodes a client id, name or id as one path segment (`/` and `.` included, so that
/// no value can reach another route), refusing an empty one.
fn segment(value: &str) -> Result<String, ClientError> {
    if value.is_empty() {
        return Err(ClientError::Invalid(
            "an empty name or id was given".to_owned(),
        ));
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'~' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Ok(out)
}

/// `/admin/vaults/{name}`, for a name that can only be one path segment.
fn vault_path(name: &str) -> Result<String, ClientError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(ClientError::Invalid(format!("invalid vault name {name:?}")));
    }
    Ok(format!("{VAULTS}/{name}"))
}

fn principal_path(principal: &str) -> Result<String, ClientError> {
    Ok(format!("{PRINCIPALS}/{}", segment(principal)?))
}

/// `path?name=value&...` with the filters that were given.
fn with_query(path: &str, query: &impl Serialize) -> Result<String, ClientError> {
    let query =
        serde_urlencoded::to_string(query).map_err(|_| ClientError::Encode { what: "query" })?;
    if query.is_empty() {
        return Ok(path.to_owned());
    }
    Ok(format!("{path}?{query}"))
}

/// `/admin/vaults/{name}/attestation-issuers`.
fn issuers_path(vault: &str) -> Result<String, ClientError> {
    Ok(format!("{}/attestation-issuers", vault_path(vault)?))
}

impl Request<List<AttestationIssuer>> {
    pub fn attestation_issuers(vault: &str) -> Result<Self, ClientError> {
        Ok(Self::get(issuers_path(vault)?))
    }
}

impl Request<AttestationIssuer> {
    pub fn set_attestation_issuer(
        vault: &str,
        body: &AttestationIssuer,
    ) -> Result<Self, ClientError> {
        Self::put(issuers_path(vault)?, body)
    }
}

impl Request<()> {
    pub fn delete_attestation_issuer(vault: &str, issuer: &str) -> Result<Self, ClientError> {
        let query = IssuerQuery {
            issuer: Some(issuer.to_owned()),
        };
        Ok(Self::delete(with_query(&issuers_path(vault)?, &query)?))
    }
}

impl Request<IssuingCa> {
    /// `GET /admin/issuing-ca`: the chain clients trust for the built-in issuer.
    pub fn issuing_ca() -> Self {
        Self::get(ISSUING_CA.to_owned())
    }

    /// `PUT /admin/issuing-ca`: imports an operator's CA.
    pub fn import_issuing_ca(body: &ImportCa) -> Result<Self, ClientError> {
        Self::put(ISSUING_CA.to_owned(), body)
    }
}

/// `/admin/vaults/{name}/certificate-issuer-suffixes[/{issuer}]`.
fn issuer_suffixes_path(vault: &str, issuer: Option<&str>) -> Result<String, ClientError> {
    let base = format!("{}/certificate-issuer-suffixes", vault_path(vault)?);
    match issuer {
        Some(issuer) => Ok(format!("{base}/{}", segment(issuer)?)),
        None => Ok(base),
    }
}

impl Request<List<IssuerSuffixes>> {
    pub fn issuer_suffix_lists(vault: &str) -> Result<Self, ClientError> {
        Ok(Self::get(issuer_suffixes_path(vault, None)?))
    }
}

impl Request<IssuerSuffixes> {
    pub fn issuer_suffixes(vault: &str, issuer: &str) -> Result<Self, ClientError> {
        Ok(Self::get(issuer_suffixes_path(vault, Some(issuer))?))
    }

    pub fn set_issuer_suffixes(
        vault: &str,
        issuer: &str,
        body: &SetIssuerSuffixes,
    ) -> Result<Self, ClientError> {
        Self::put(issuer_suffixes_path(vault, Some(issuer))?, body)
    }
}

impl Request<()> {
    pub fn delete_issuer_suffixes(vault: &str, issuer: &str) -> Result<Self, ClientError> {
        Ok(Self::delete(issuer_suffixes_path(vault, Some(issuer))?))
    }
}

impl Request<List<Vault>> {
    pub fn vaults() -> Self {
        Self::get(VAULTS.to_owned())
    }
}

impl Request<Vault> {
    pub fn vault(name: &str) -> Result<Self, ClientError> {
        Ok(Self::get(vault_path(name)?))
    }

    pub fn create_vault(body: &CreateVault) -> Result<Self, ClientError> {
        Self::create(VAULTS.to_owned(), body)
    }
}

impl Request<()> {
    pub fn delete_vault(name: &str) -> Result<Self, ClientError> {
        Ok(Self::delete(vault_path(name)?))
    }

    /// Removes a vault's own throttling setting: the deployment's applies again.
    pub fn reset_vault_throttling(vault: &str) -> Result<Self, ClientError> {
        Ok(Self::delete(format!("{}/throttling", vault_path(vault)?)))
    }

    pub fn delete_principal(principal: &str) -> Result<Self, ClientError> {
        Ok(Self::delete(principal_path(principal)?))
    }

    pub fn remove_secret(principal: &str, id: &str) -> Result<Self, ClientError> {
        Ok(Self::delete(format!(
            "{}/secrets/{}",
            principal_path(principal)?,
            segment(id)?
        )))
    }

    pub fn remove_certificate(principal: &str, id: &str) -> Result<Self, ClientError> {
        Ok(Self::delete(format!(
            "{}/certificates/{}",
            principal_path(principal)?,
            segment(id)?
        )))
    }

    pub fn delete_role(role: &str) -> Result<Self, ClientError> {
        Ok(Self::delete(format!("{ROLES}/{}", segment(role)?)))
    }

    pub fn unassign(id: &str) -> Result<Self, ClientError> {
        Ok(Self::delete(format!("{ASSIGNMENTS}/{}", segment(id)?)))
    }

    pub fn remove_federated_credential(id: &str) -> Result<Self, ClientError> {
        Ok(Self::delete(format!("{FEDERATIONS}/{}", segment(id)?)))
    }
}

impl Request<Throttling> {
    /// The throttling that applies to a vault (its own setting or the deployment's).
    pub fn vault_throttling(vault: &str) -> Result<Self, ClientError> {
        Ok(Self::get(format!("{}/throttling", vault_path(vault)?)))
    }

    /// Sets a vault's own throttling.
    pub fn set_vault_throttling(vault: &str, body: &SetThrottling) -> Result<Self, ClientError> {
        Self::put(format!("{}/throttling", vault_path(vault)?), body)
    }
}

impl Request<NetworkRules> {
    pub fn vault_network_rules(vault: &str) -> Result<Self, ClientError> {
        Ok(Self::get(format!("{}/network-rules", vault_path(vault)?)))
    }

    pub fn set_vault_network_rules(vault: &str, rules: &NetworkRules) -> Result<Self, ClientError> {
        Self::put(format!("{}/network-rules", vault_path(vault)?), rules)
    }

    pub fn admin_network_rules() -> Self {
        Self::get("/admin/network-rules".to_owned())
    }

    pub fn set_admin_network_rules(rules: &NetworkRules) -> Result<Self, ClientError> {
        Self::put("/admin/network-rules".to_owned(), rules)
    }
}

impl Request<List<Principal>> {
    pub fn principals() -> Self {
        Self::get(PRINCIPALS.to_owned())
    }
}

impl Request<Principal> {
    pub fn principal(principal: &str) -> Result<Self, ClientError> {
        Ok(Self::get(principal_path(principal)?))
    }

    pub fn create_principal(body: &CreatePrincipal) -> Result<Self, ClientError> {
        Self::create(PRINCIPALS.to_owned(), body)
    }
}

impl Request<NewSecret> {
    pub fn add_secret(principal: &str, body: &AddSecret) -> Result<Self, ClientError> {
        Self::create(format!("{}/secrets", principal_path(principal)?), body)
    }
}

impl Request<Certificate> {
    pub fn add_certificate(principal: &str, body: &AddCertificate) -> Result<Self, ClientError> {
        Self::create(format!("{}/certificates", principal_path(principal)?), body)
    }
}

impl Request<List<Role>> {
    pub fn roles() -> Self {
        Self::get(ROLES.to_owned())
    }
}

impl Request<Role> {
    /// A role by id or name.
    pub fn role(role: &str) -> Result<Self, ClientError> {
        Ok(Self::get(format!("{ROLES}/{}", segment(role)?)))
    }

    pub fn define_role(body: &DefineRole) -> Result<Self, ClientError> {
        Self::create(ROLES.to_owned(), body)
    }
}

impl Request<List<Assignment>> {
    pub fn assignments(query: &AssignmentQuery) -> Result<Self, ClientError> {
        Ok(Self::get(with_query(ASSIGNMENTS, query)?))
    }
}

impl Request<Assignment> {
    pub fn assign(body: &Assign) -> Result<Self, ClientError> {
        Self::create(ASSIGNMENTS.to_owned(), body)
    }
}

impl Request<AccessDecision> {
    pub fn check_access(body: &CheckAccess) -> Result<Self, ClientError> {
        Self::with_body(
            Method::POST,
            "/admin/check-access".to_owned(),
            body,
            StatusCode::OK,
        )
    }
}

impl Request<List<FederatedCredential>> {
    pub fn federated_credentials(query: &FederationQuery) -> Result<Self, ClientError> {
        Ok(Self::get(with_query(FEDERATIONS, query)?))
    }
}

impl Request<FederatedCredential> {
    pub fn add_federated_credential(body: &AddFederation) -> Result<Self, ClientError> {
        Self::create(FEDERATIONS.to_owned(), body)
    }
}

impl Request<List<SigningKey>> {
    pub fn signing_keys() -> Self {
        Self::get("/admin/signing-keys".to_owned())
    }

    pub fn rotate_signing_key() -> Self {
        Self::new(
            Method::POST,
            "/admin/signing-keys/rotate".to_owned(),
            StatusCode::OK,
        )
    }
}

impl Request<IdentityHeader> {
    pub fn rotate_identity_header() -> Self {
        Self::new(
            Method::POST,
            "/admin/identity-header/rotate".to_owned(),
            StatusCode::OK,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body<A>(r: &Request<A>) -> Option<&str> {
        r.body().map(|b| std::str::from_utf8(b).unwrap())
    }

    #[test]
    fn segments_cannot_leave_their_place_in_the_path() {
        assert_eq!(
            segment("Key Vault Administrator").unwrap(),
            "Key%20Vault%20Administrator"
        );
        assert_eq!(segment("..").unwrap(), "%2E%2E");
        assert_eq!(segment("a/b?c#d").unwrap(), "a%2Fb%3Fc%23d");
        assert_eq!(segment("é").unwrap(), "%C3%A9");
        let id = "6f1c2a8e-0b7d-4a51-9c3e-2f4b5d6e7a8b";
        assert_eq!(segment(id).unwrap(), id);
        assert!(segment("").is_err());
    }

    #[test]
    fn vault_names_stay_in_their_segment() {
        for bad in ["", "a/b", "..", "a b", "a?b"] {
            let e = Request::vault(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("invalid vault name {bad:?}"));
            assert!(Request::vault_network_rules(bad).is_err(), "{bad:?}");
            assert!(Request::vault_throttling(bad).is_err(), "{bad:?}");
            assert!(Request::reset_vault_throttling(bad).is_err(), "{bad:?}");
            assert!(Request::delete_vault(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Request::vault("team-a").unwrap().path(),
            "/admin/vaults/team-a"
        );
    }

    #[test]
    fn queries_carry_only_the_filters_given() {
        let r = Request::assignments(&AssignmentQuery::default()).unwrap();
        assert_eq!(r.path(), ASSIGNMENTS);
        let r = Request::assignments(&AssignmentQuery {
            principal: Some("ci".into()),
            scope: Some("/vaults/team a".into()),
        })
        .unwrap();
        assert_eq!(
            r.path(),
            "/admin/role-assignments?principal=ci&scope=%2Fvaults%2Fteam+a"
        );
        let r = Request::assignments(&AssignmentQuery {
            principal: None,
            scope: Some("/vaults/team a".into()),
        })
        .unwrap();
        assert_eq!(r.path(), "/admin/role-assignments?scope=%2Fvaults%2Fteam+a");
        let r = Request::federated_credentials(&FederationQuery {
            principal: Some("ci".into()),
        })
        .unwrap();
        assert_eq!(r.path(), "/admin/federated-credentials?principal=ci");
    }

    #[test]
    fn issuing_ca_and_issuer_suffix_requests() {
        let r = Request::issuing_ca();
        assert_eq!(
            (r.method(), r.path(), r.expected(), body(&r)),
            (Method::GET, "/admin/issuing-ca", StatusCode::OK, None)
        );
        let r = Request::import_issuing_ca(&ImportCa {
            password: None,
            pem: arca_proto::SecretText::new("PEM".into()),
        })
        .unwrap();
        assert_eq!(
            (r.method(), r.path(), body(&r)),
            (Method::PUT, "/admin/issuing-ca", Some(r#"{"pem":"PEM"}"#))
        );
        assert!(!format!("{r:?}").contains("PEM"));
        let r = Request::set_issuer_suffixes(
            "team-a",
            "internal",
            &SetIssuerSuffixes {
                suffixes: vec!["a.internal".into()],
            },
        )
        .unwrap();
        assert_eq!(
            (r.method(), r.path(), body(&r)),
            (
                Method::PUT,
                "/admin/vaults/team-a/certificate-issuer-suffixes/internal",
                Some(r#"{"suffixes":["a.internal"]}"#)
            )
        );
        let r = Request::delete_issuer_suffixes("team-a", "a/b").unwrap();
        assert_eq!(
            (r.method(), r.path(), r.expected()),
            (
                Method::DELETE,
                "/admin/vaults/team-a/certificate-issuer-suffixes/a%2Fb",
                StatusCode::NO_CONTENT
            )
        );
        assert_eq!(
            Request::issuer_suffix_lists("team-a").unwrap().path(),
            "/admin/vaults/team-a/certificate-issuer-suffixes"
        );
        assert!(Request::issuer_suffixes("a/b", "x").is_err());
        assert!(Request::issuer_suffixes("team-a", "").is_err());
    }

    #[test]
    fn requests_have_their_method_status_and_body() {
        let r = Request::create_vault(&CreateVault {
            name: "team-a".into(),
            purge_protection: Some(true),
            retention_days: Some(30),
        })
        .unwrap();
        assert_eq!(
            (r.method(), r.path(), r.expected()),
            (Method::POST, "/admin/vaults", StatusCode::CREATED)
        );
        assert_eq!(
            body(&r),
            Some(r#"{"name":"team-a","purge_protection":true,"retention_days":30}"#)
        );
        let r = Request::remove_secret("ci", "s/1").unwrap();
        assert_eq!(
            (r.method(), r.path(), r.expected(), body(&r)),
            (
                Method::DELETE,
                "/admin/principals/ci/secrets/s%2F1",
                StatusCode::NO_CONTENT,
                None
            )
        );
        let r = Request::check_access(&CheckAccess {
            action: "a".into(),
            principal: "p".into(),
            scope: "/".into(),
        })
        .unwrap();
        assert_eq!(
            (r.method(), r.path(), r.expected()),
            (Method::POST, "/admin/check-access", StatusCode::OK)
        );
        let r = Request::rotate_signing_key();
        assert_eq!(
            (r.method(), r.path(), r.expected(), body(&r)),
            (
                Method::POST,
                "/admin/signing-keys/rotate",
                StatusCode::OK,
                None
            )
        );
        let r = Request::set_admin_network_rules(&NetworkRules {
            default_action: "Deny".into(),
            ip_rules: vec!["127.0.0.1".into()],
        })
        .unwrap();
        assert_eq!(
            (r.method(), r.path(), body(&r)),
            (
                Method::PUT,
                "/admin/network-rules",
                Some(r#"{"default_action":"Deny","ip_rules":["127.0.0.1"]}"#)
            )
        );
    }
}
