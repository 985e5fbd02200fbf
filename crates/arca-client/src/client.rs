//! [`AdminClient`]: HTTPS to one deployment (trusting its CA), the bearer challenge handshake
//! and token request, and the typed admin calls.

use std::sync::Arc;

use arca_proto::admin::{
    AccessDecision, AddCertificate, AddFederation, AddSecret, Assign, Assignment, AssignmentQuery,
    BootstrapFile, Certificate, CheckAccess, CreatePrincipal, CreateVault, DefineRole,
    FederatedCredential, FederationQuery, IdentityHeader, List, NetworkRules, NewSecret, Principal,
    Role, SigningKey, Vault,
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

    pub async fn vaults(&self) -> Result<List<Vault>, ClientError> {
        self.send_request(&Request::vaults()).await
    }

    pub async fn vault(&self, name: &str) -> Result<Vault, ClientError> {
        self.send_request(&Request::vault(name)?).await
    }

    pub async fn create_vault(&self, body: &CreateVault) -> Result<Vault, ClientError> {
        self.send_request(&Request::create_vault(body)?).await
    }

    pub async fn delete_vault(&self, name: &str) -> Result<(), ClientError> {
        self.send_request(&Request::delete_vault(name)?).await
    }

    pub async fn vault_network_rules(&self, vault: &str) -> Result<NetworkRules, ClientError> {
        self.send_request(&Request::vault_network_rules(vault)?)
            .await
    }

    pub async fn set_vault_network_rules(
        &self,
        vault: &str,
        rules: &NetworkRules,
    ) -> Result<NetworkRules, ClientError> {
        self.send_request(&Request::set_vault_network_rules(vault, rules)?)
            .await
    }

    pub async fn admin_network_rules(&self) -> Result<NetworkRules, ClientError> {
        self.send_request(&Request::admin_network_rules()).await
    }

    pub async fn set_admin_network_rules(
        &self,
        rules: &NetworkRules,
    ) -> Result<NetworkRules, ClientError> {
        self.send_request(&Request::set_admin_network_rules(rules)?)
            .await
    }

    pub async fn principals(&self) -> Result<List<Principal>, ClientError> {
        self.send_request(&Request::principals()).await
    }

    pub async fn principal(&self, principal: &str) -> Result<Principal, ClientError> {
        self.send_request(&Request::principal(principal)?).await
    }

    pub async fn create_principal(&self, body: &CreatePrincipal) -> Result<Principal, ClientError> {
        self.send_request(&Request::create_principal(body)?).await
    }

    pub async fn delete_principal(&self, principal: &str) -> Result<(), ClientError> {
        self.send_request(&Request::delete_principal(principal)?)
            .await
    }

    pub async fn add_secret(
        &self,
        principal: &str,
        body: &AddSecret,
    ) -> Result<NewSecret, ClientError> {
        self.send_request(&Request::add_secret(principal, body)?)
            .await
    }

    pub async fn remove_secret(&self, principal: &str, id: &str) -> Result<(), ClientError> {
        self.send_request(&Request::remove_secret(principal, id)?)
            .await
    }

    pub async fn add_certificate(
        &self,
        principal: &str,
        body: &AddCertificate,
    ) -> Result<Certificate, ClientError> {
        self.send_request(&Request::add_certificate(principal, body)?)
            .await
    }

    pub async fn remove_certificate(&self, principal: &str, id: &str) -> Result<(), ClientError> {
        self.send_request(&Request::remove_certificate(principal, id)?)
            .await
    }

    pub async fn roles(&self) -> Result<List<Role>, ClientError> {
        self.send_request(&Request::roles()).await
    }

    pub async fn role(&self, role: &str) -> Result<Role, ClientError> {
        self.send_request(&Request::role(role)?).await
    }

    pub async fn define_role(&self, body: &DefineRole) -> Result<Role, ClientError> {
        self.send_request(&Request::define_role(body)?).await
    }

    pub async fn delete_role(&self, role: &str) -> Result<(), ClientError> {
        self.send_request(&Request::delete_role(role)?).await
    }

    pub async fn assignments(
        &self,
        query: &AssignmentQuery,
    ) -> Result<List<Assignment>, ClientError> {
        self.send_request(&Request::assignments(query)?).await
    }

    pub async fn assign(&self, body: &Assign) -> Result<Assignment, ClientError> {
        self.send_request(&Request::assign(body)?).await
    }

    pub async fn unassign(&self, id: &str) -> Result<(), ClientError> {
        self.send_request(&Request::unassign(id)?).await
    }

    pub async fn check_access(&self, body: &CheckAccess) -> Result<AccessDecision, ClientError> {
        self.send_request(&Request::check_access(body)?).await
    }

    pub async fn federated_credentials(
        &self,
        query: &FederationQuery,
    ) -> Result<List<FederatedCredential>, ClientError> {
        self.send_request(&Request::federated_credentials(query)?)
            .await
    }

    pub async fn add_federated_credential(
        &self,
        body: &AddFederation,
    ) -> Result<FederatedCredential, ClientError> {
        self.send_request(&Request::add_federated_credential(body)?)
            .await
    }

    pub async fn remove_federated_credential(&self, id: &str) -> Result<(), ClientError> {
        self.send_request(&Request::remove_federated_credential(id)?)
            .await
    }

    pub async fn signing_keys(&self) -> Result<List<SigningKey>, ClientError> {
        self.send_request(&Request::signing_keys()).await
    }

    pub async fn rotate_signing_key(&self) -> Result<List<SigningKey>, ClientError> {
        self.send_request(&Request::rotate_signing_key()).await
    }

    pub async fn rotate_identity_header(&self) -> Result<IdentityHeader, ClientError> {
        self.send_request(&Request::rotate_identity_header()).await
    }
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
