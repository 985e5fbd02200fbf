//! A small HTTPS client for the admin subcommands: trusts the deployment's CA, performs the
//! bearer challenge handshake, obtains a token with the bootstrap credentials (or those in
//! `ARCA_CLIENT_ID`/`ARCA_CLIENT_SECRET`) and calls the admin API. One connection per request;
//! these are interactive commands, not a hot path. No secret reaches an error message.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Deserialize;
use zeroize::Zeroizing;

/// The credentials and addresses written by `arca serve` on first start. A copy without the
/// credentials serves callers who bring their own in the environment.
#[derive(Deserialize)]
pub struct Bootstrap {
    pub tenant_id: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<Zeroizing<String>>,
    pub authority_host: String,
    pub ca_cert: PathBuf,
}

impl Bootstrap {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = Zeroizing::new(std::fs::read(path).with_context(|| {
            format!(
                "cannot read {} (is the server initialised?)",
                path.display()
            )
        })?);
        serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a bootstrap file", path.display()))
    }
}

/// The client credentials the CLI signs in with.
pub struct Credentials {
    client_id: String,
    client_secret: Zeroizing<String>,
}

impl Credentials {
    /// `ARCA_CLIENT_ID` and `ARCA_CLIENT_SECRET` when both are set, else bootstrap.json's.
    pub fn from_env_or(bootstrap: &Bootstrap) -> anyhow::Result<Self> {
        let client_id = env_var("ARCA_CLIENT_ID")?;
        let client_secret = env_var("ARCA_CLIENT_SECRET")?.map(Zeroizing::new);
        Self::choose(bootstrap, client_id, client_secret)
    }

    fn choose(
        bootstrap: &Bootstrap,
        client_id: Option<String>,
        client_secret: Option<Zeroizing<String>>,
    ) -> anyhow::Result<Self> {
        match (client_id, client_secret) {
            (Some(client_id), Some(client_secret)) => Ok(Self {
                client_id,
                client_secret,
            }),
            // Half an override is a mistake: falling back to the bootstrap administrator would
            // act with more rights than the caller meant to use.
            (Some(_), None) => bail!("ARCA_CLIENT_ID is set but ARCA_CLIENT_SECRET is not"),
            (None, Some(_)) => bail!("ARCA_CLIENT_SECRET is set but ARCA_CLIENT_ID is not"),
            (None, None) => match (&bootstrap.client_id, &bootstrap.client_secret) {
                (Some(client_id), Some(client_secret)) => Ok(Self {
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                }),
                _ => bail!(
                    "the bootstrap file holds no client credentials: set ARCA_CLIENT_ID and \
                     ARCA_CLIENT_SECRET"
                ),
            },
        }
    }
}

/// An environment variable, unset when empty; its value is never quoted in an error.
fn env_var(name: &str) -> anyhow::Result<Option<String>> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => match value.into_string() {
            Ok(value) => Ok(Some(value)),
            Err(_) => bail!("{name} is not valid UTF-8"),
        },
    }
}

pub struct Response {
    pub status: StatusCode,
    pub www_authenticate: Option<String>,
    /// Zeroized on drop: a body may carry a token or a client secret.
    pub body: Zeroizing<Vec<u8>>,
}

/// An authenticated client of one Arca deployment.
pub struct AdminClient {
    host: String,
    port: u16,
    tls: tokio_rustls::TlsConnector,
    token: Option<Zeroizing<String>>,
}

impl AdminClient {
    pub fn new(bootstrap: &Bootstrap) -> anyhow::Result<Self> {
        let rest = bootstrap
            .authority_host
            .strip_prefix("https://")
            .ok_or_else(|| anyhow!("authority_host must be an https URL"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse().context("bad port in authority_host")?,
            ),
            None => (rest.to_owned(), 443),
        };
        let pem = std::fs::read(&bootstrap.ca_cert).with_context(|| {
            format!(
                "cannot read the CA certificate {}",
                bootstrap.ca_cert.display()
            )
        })?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            roots
                .add(cert.context("bad CA certificate")?)
                .context("bad CA certificate")?;
        }
        let provider = Arc::new(arca_crypto::tls_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            host,
            port,
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
    ) -> anyhow::Result<Response> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .with_context(|| {
                format!(
                    "cannot connect to {}:{} (is arca serve running?)",
                    self.host, self.port
                )
            })?;
        let name = ServerName::try_from(self.host.clone()).context("bad host name")?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .context("TLS handshake failed")?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, format!("{}:{}", self.host, self.port));
        if let Some(ct) = content_type {
            request = request.header(hyper::header::CONTENT_TYPE, ct);
        }
        if let Some(token) = &self.token {
            request = request.header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", token.as_str()),
            );
        }
        let response = sender
            .send_request(request.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = response.status();
        let www_authenticate = response
            .headers()
            .get(hyper::header::WWW_AUTHENTICATE)
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
    pub async fn login(
        &mut self,
        tenant_id: &str,
        credentials: &Credentials,
    ) -> anyhow::Result<()> {
        let probe = self
            .send(Method::GET, "/admin/vaults", None, Vec::new())
            .await?;
        let Some(challenge) = probe.www_authenticate else {
            // The admin network rules answer before authentication (403 ForbiddenByFirewall).
            let body = json_body(&probe.body);
            if body["error"]["code"].is_string() {
                bail!("{}", error_message(probe.status, &body));
            }
            bail!("the server sent no authentication challenge");
        };
        let resource = challenge_parameter(&challenge, "resource")
            .ok_or_else(|| anyhow!("the challenge names no resource"))?;
        let form = Zeroizing::new(
            serde_urlencoded::to_string([
                ("grant_type", "client_credentials"),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.as_str()),
                ("scope", &format!("{resource}/.default")),
            ])
            .context("cannot encode the token request")?,
        );
        let path = format!("/{tenant_id}/oauth2/v2.0/token");
        let response = self
            .send(
                Method::POST,
                &path,
                Some("application/x-www-form-urlencoded"),
                form.as_bytes().to_vec(),
            )
            .await?;
        if response.status != StatusCode::OK {
            bail!(
                "the token request was refused ({}): {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: Zeroizing<String>,
        }
        let token: TokenResponse =
            serde_json::from_slice(&response.body).context("bad token response")?;
        self.token = Some(token.access_token);
        Ok(())
    }

    /// Calls the admin API with a JSON body; returns status and parsed JSON (if any).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(StatusCode, serde_json::Value)> {
        let (ct, bytes) = match body {
            Some(b) => (Some("application/json"), serde_json::to_vec(&b)?),
            None => (None, Vec::new()),
        };
        let response = self.send(method, path, ct, bytes).await?;
        Ok((response.status, json_body(&response.body)))
    }
}

/// A response body as JSON; `null` when it is empty or not JSON.
fn json_body(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
}

/// Extracts `name="value"` from a `WWW-Authenticate: Bearer ...` header.
fn challenge_parameter(header: &str, name: &str) -> Option<String> {
    let rest = header.strip_prefix("Bearer ")?;
    rest.split(',').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Turns an error body of the admin API into a one-line message.
pub fn error_message(status: StatusCode, body: &serde_json::Value) -> String {
    match (
        body["error"]["code"].as_str(),
        body["error"]["message"].as_str(),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        _ => format!("the server answered {status}"),
    }
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

    fn bootstrap(credentials: bool) -> Bootstrap {
        let mut b = serde_json::json!({"tenant_id": "t", "authority_host": "https://localhost:8443",
                                       "ca_cert": "/ca.pem"});
        if credentials {
            b["client_id"] = "boot-id".into();
            b["client_secret"] = "boot-secret".into();
        }
        serde_json::from_value(b).unwrap()
    }

    #[test]
    fn environment_credentials_override_the_bootstrap_file_only_when_both_are_set() {
        let boot = bootstrap(true);
        let c = Credentials::choose(&boot, None, None).unwrap();
        assert_eq!(
            (c.client_id.as_str(), c.client_secret.as_str()),
            ("boot-id", "boot-secret")
        );
        let c = Credentials::choose(
            &boot,
            Some("env-id".into()),
            Some(Zeroizing::new("env-secret".into())),
        )
        .unwrap();
        assert_eq!(
            (c.client_id.as_str(), c.client_secret.as_str()),
            ("env-id", "env-secret")
        );
        let e = Credentials::choose(&boot, Some("env-id".into()), None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("ARCA_CLIENT_SECRET is not"), "{e}");
        let e = Credentials::choose(&boot, None, Some(Zeroizing::new("env-secret".into())))
            .err()
            .unwrap();
        assert!(!e.to_string().contains("env-secret"), "{e}");
        let bare = bootstrap(false);
        assert!(Credentials::choose(&bare, None, None).is_err());
        let c = Credentials::choose(
            &bare,
            Some("env-id".into()),
            Some(Zeroizing::new("s".into())),
        )
        .unwrap();
        assert_eq!(c.client_id, "env-id");
    }
}
