//! [`AdminClient`]: HTTPS to one deployment (trusting its CA), the bearer challenge handshake
//! and token request, and the typed admin calls.

use std::sync::Arc;

use arca_proto::admin::{
    AccessDecision, AddCertificate, AddFederation, AddSecret, Assign, Assignment, AssignmentQuery,
    BootstrapFile, Certificate, CheckAccess, CreatePrincipal, CreateVault, DefineRole,
    FederatedCredential, FederationQuery, IdentityHeader, ImportCa, IssuerSuffixes, IssuingCa,
    List, NetworkRules, NewSecret, Principal, Role, SetIssuerSuffixes, SetThrottling, SigningKey,
    Throttling, Vault,
};
use arca_proto::identity::TokenV2;
use arca_proto::SecretText;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::{ClientError, Credentials, Request};

/// One answer as it came.
struct Response {
    status: StatusCode,
    www_authenticate: Option<String>,
    /// Zeroized on drop: a body may carry a token or a client secret.
    body: Zeroizing<Vec<u8>>,
}

/// A client of one Arca deployment; after [`login`](Self::login), an authenticated one.
pub struct AdminClient {
    host: String,
    port: u16,
    tenant_id: String,
    tls: tokio_rustls::TlsConnector,
    token: Option<SecretText>,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("signed_in", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl AdminClient {
    /// A client of the deployment `bootstrap` describes: its authority host, tenant and CA.
    pub fn new(bootstrap: &BootstrapFile) -> Result<Self, ClientError> {
        let rest = bootstrap
            .authority_host
            .strip_prefix("https://")
            .ok_or_else(|| ClientError::Invalid("authority_host must be an https URL".into()))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse().map_err(|e| {
                    ClientError::Invalid(format!("bad port in authority_host: {e}"))
                })?,
            ),
            None => (rest.to_owned(), 443),
        };
        let pem = std::fs::read(&bootstrap.ca_cert).map_err(|source| ClientError::ReadCa {
            path: bootstrap.ca_cert.clone(),
            source,
        })?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| ClientError::BadCa(Box::new(e)))?;
            roots
                .add(cert)
                .map_err(|e| ClientError::BadCa(Box::new(e)))?;
        }
        let provider = Arc::new(arca_crypto::tls_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            host,
            port,
            tenant_id: bootstrap.tenant_id.clone(),
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            token: None,
        })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Response, ClientError> {
        let target = format!("{}:{}", self.host, self.port);
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|source| ClientError::Connect {
                target: target.clone(),
                source,
            })?;
        let name = ServerName::try_from(self.host.clone())
            .map_err(|e| ClientError::Invalid(format!("bad host name: {e}")))?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(ClientError::Handshake)?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(connection);
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, target);
        if let Some(ct) = content_type {
            request = request.header(http::header::CONTENT_TYPE, ct);
        }
        if let Some(token) = &self.token {
            let value = Zeroizing::new(format!("Bearer {}", token.expose()));
            request = request.header(http::header::AUTHORIZATION, value.as_str());
        }
        let response = sender
            .send_request(request.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = response.status();
        let www_authenticate = response
            .headers()
            .get(http::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Zeroizing::new(Vec::from(response.into_body().collect().await?.to_bytes()));
        Ok(Response {
            status,
            www_authenticate,
            body,
        })
    }

    /// Runs the challenge handshake and obtains a token for the advertised resource.
    pub async fn login(&mut self, credentials: &Credentials) -> Result<(), ClientError> {
        let probe = self
            .send(Method::GET, "/admin/vaults", None, Vec::new())
            .await?;
        let Some(challenge) = probe.www_authenticate else {
            // The admin network rules answer before authentication (403 ForbiddenByFirewall).
            return Err(match ClientError::refusal(probe.status, &probe.body) {
                e @ ClientError::Api { .. } => e,
                _ => ClientError::NoChallenge,
            });
        };
        let resource =
            challenge_parameter(&challenge, "resource").ok_or(ClientError::NoResource)?;
        let scope = format!("{resource}/.default");
        let form = Zeroizing::new(
            serde_urlencoded::to_string([
                ("grant_type", "client_credentials"),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose()),
                ("scope", &scope),
            ])
            .map_err(|_| ClientError::Encode {
                what: "token request",
            })?,
        );
        let path = format!("/{}/oauth2/v2.0/token", self.tenant_id);
        let response = self
            .send(
                Method::POST,
                &path,
                Some("application/x-www-form-urlencoded"),
                form.as_bytes().to_vec(),
            )
            .await?;
        if response.status != StatusCode::OK {
            return Err(ClientError::TokenRefused {
                status: response.status,
                body: String::from_utf8_lossy(&response.body).into_owned(),
            });
        }
        let token: TokenV2 =
            serde_json::from_slice(&response.body).map_err(|source| ClientError::Decode {
                what: "token response",
                source,
            })?;
        self.token = Some(token.access_token);
        Ok(())
    }

    /// Makes one admin call: its answer when the status is the expected one, else the refusal.
    pub async fn send_request<A: DeserializeOwned>(
        &self,
        request: &Request<A>,
    ) -> Result<A, ClientError> {
        let (content_type, body) = match request.body() {
            Some(body) => (Some("application/json"), body.to_vec()),
            None => (None, Vec::new()),
        };
        let response = self
            .send(request.method(), request.path(), content_type, body)
            .await?;
        if response.status != request.expected() {
            return Err(ClientError::refusal(response.status, &response.body));
        }
        // A 204 has no body; `()` reads from `null`.
        let body: &[u8] = if response.status == StatusCode::NO_CONTENT {
            b"null"
        } else {
            &response.body
        };
        serde_json::from_slice(body).map_err(|source| ClientError::Decode {
            what: "answer",
            source,
        })
    }
}

/// A request as its constructor gives it: the constructors that cannot fail return it as is.
trait Built<A> {
    fn built(self) -> Result<Request<A>, ClientError>;
}

impl<A> Built<A> for Request<A> {
    fn built(self) -> Result<Request<A>, ClientError> {
        Ok(self)
    }
}

impl<A> Built<A> for Result<Request<A>, ClientError> {
    fn built(self) -> Result<Request<A>, ClientError> {
        self
    }
}

/// One method of [`AdminClient`] per admin route, named as the [`Request`] constructor it
/// sends, taking the same arguments and answering what that request brings.
macro_rules! admin_calls {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $answer:ty;)*) => {
        impl AdminClient {
            $(
                #[doc = concat!("Sends [`Request::", stringify!($name), "`].")]
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$answer, ClientError> {
                    self.send_request(&Request::$name($($arg),*).built()?).await
                }
            )*
        }
    };
}

admin_calls! {
    vaults() -> List<Vault>;
    vault(name: &str) -> Vault;
    create_vault(body: &CreateVault) -> Vault;
    delete_vault(name: &str) -> ();
    vault_network_rules(vault: &str) -> NetworkRules;
    set_vault_network_rules(vault: &str, rules: &NetworkRules) -> NetworkRules;
    vault_throttling(vault: &str) -> Throttling;
    set_vault_throttling(vault: &str, body: &SetThrottling) -> Throttling;
    reset_vault_throttling(vault: &str) -> ();
    admin_network_rules() -> NetworkRules;
    set_admin_network_rules(rules: &NetworkRules) -> NetworkRules;
    principals() -> List<Principal>;
    principal(principal: &str) -> Principal;
    create_principal(body: &CreatePrincipal) -> Principal;
    delete_principal(principal: &str) -> ();
    add_secret(principal: &str, body: &AddSecret) -> NewSecret;
    remove_secret(principal: &str, id: &str) -> ();
    add_certificate(principal: &str, body: &AddCertificate) -> Certificate;
    remove_certificate(principal: &str, id: &str) -> ();
    roles() -> List<Role>;
    role(role: &str) -> Role;
    define_role(body: &DefineRole) -> Role;
    delete_role(role: &str) -> ();
    assignments(query: &AssignmentQuery) -> List<Assignment>;
    assign(body: &Assign) -> Assignment;
    unassign(id: &str) -> ();
    check_access(body: &CheckAccess) -> AccessDecision;
    federated_credentials(query: &FederationQuery) -> List<FederatedCredential>;
    add_federated_credential(body: &AddFederation) -> FederatedCredential;
    remove_federated_credential(id: &str) -> ();
    signing_keys() -> List<SigningKey>;
    rotate_signing_key() -> List<SigningKey>;
    rotate_identity_header() -> IdentityHeader;
    issuing_ca() -> IssuingCa;
    import_issuing_ca(body: &ImportCa) -> IssuingCa;
    issuer_suffix_lists(vault: &str) -> List<IssuerSuffixes>;
    issuer_suffixes(vault: &str, issuer: &str) -> IssuerSuffixes;
    set_issuer_suffixes(vault: &str, issuer: &str, body: &SetIssuerSuffixes) -> IssuerSuffixes;
    delete_issuer_suffixes(vault: &str, issuer: &str) -> ();
}

/// Extracts `name="value"` from a `WWW-Authenticate: Bearer ...` header.
fn challenge_parameter(header: &str, name: &str) -> Option<String> {
    let rest = header.strip_prefix("Bearer ")?;
    rest.split(',').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parameters_are_read() {
        let h = r#"Bearer authorization="https://localhost:8443/t", resource="https://vault.localhost:8443""#;
        assert_eq!(
            challenge_parameter(h, "resource").as_deref(),
            Some("https://vault.localhost:8443")
        );
        assert_eq!(
            challenge_parameter(h, "authorization").as_deref(),
            Some("https://localhost:8443/t")
        );
        assert_eq!(challenge_parameter(h, "scope"), None);
    }

    #[test]
    fn the_authority_host_must_be_https_with_a_numeric_port() {
        let mut b = BootstrapFile {
            tenant_id: "t".into(),
            authority_host: "http://localhost:8443".into(),
            ca_cert: "/nonexistent/ca.pem".into(),
            ..BootstrapFile::default()
        };
        let e = AdminClient::new(&b).unwrap_err();
        assert_eq!(e.to_string(), "authority_host must be an https URL");
        b.authority_host = "https://localhost:port".into();
        let e = AdminClient::new(&b).unwrap_err();
        assert!(
            e.to_string().starts_with("bad port in authority_host"),
            "{e}"
        );
        b.authority_host = "https://localhost:8443/".into();
        let e = AdminClient::new(&b).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read the CA certificate /nonexistent/ca.pem"
        );
    }
}
