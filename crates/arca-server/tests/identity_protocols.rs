//! The token protocols other clients speak, on a deployment as `bootstrap::prepare` makes it:
//! IMDS with MSAL for JavaScript's trailing slash, the v1 token endpoint (`resource=`), HTTP
//! Basic client authentication, the 2017-09-01 App Service protocol (`MSI_ENDPOINT` /
//! `MSI_SECRET`), the management plane `az login` signs in to (`/subscriptions`, `/tenants`),
//! and the issuer host's own not-found answer. Everything runs in-process through the whole
//! router over a real SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use arca_core::FixedClock;
use arca_server::auth::PeerAddr;
use arca_server::config::Settings;
use arca_server::state::AppState;
use arca_store::Store;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{ADMIN_HOST, START, V};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The data plane's resource of a deployment on port 8443.
const RESOURCE: &str = "https://vault.localhost:8443";

/// A deployment prepared in a temporary data directory, as `arca serve` prepares it.
struct Deployment {
    _dir: tempfile::TempDir,
    _state: Arc<AppState>,
    app: axum::Router,
    boot: Value,
}

async fn deployment() -> Deployment {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        data_dir: Some(dir.path().join("data").display().to_string()),
        key_file: Some(dir.path().join("arca.key").display().to_string()),
        listen: Some("127.0.0.1:8443".into()),
        ..Settings::default()
    };
    let (config, _) = arca_server::Config::load(None, &settings).unwrap();
    let data_dir = arca_server::bootstrap::ensure_data_dir(&config.data_dir).unwrap();
    let store: Arc<dyn Store> =
        Arc::new(arca_store_sqlite::SqliteStore::open(&data_dir.join("arca.db")).unwrap());
    let prepared =
        arca_server::bootstrap::prepare(&config, 8443, store, Arc::new(FixedClock::new(START)))
            .await
            .unwrap();
    let state = prepared.state;
    let app = arca_server::router::build(state.clone());
    let boot =
        serde_json::from_slice(&std::fs::read(data_dir.join("bootstrap.json")).unwrap()).unwrap();
    Deployment {
        _dir: dir,
        _state: state,
        app,
        boot,
    }
}

/// A response's status, headers and JSON body (Null when empty).
struct Reply {
    status: StatusCode,
    body: Value,
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// `request` as the listener passes it on from a client on this machine.
fn local(mut request: Request<Body>) -> Request<Body> {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    request
        .extensions_mut()
        .insert(PeerAddr(SocketAddr::new(ip, 49_152)));
    request
}

fn get(host: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().uri(uri).header("host", host);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

impl Deployment {
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(local(request)).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        Reply { status, body }
    }

    fn boot(&self, key: &str) -> String {
        text(&self.boot[key])
    }

    /// A form POST to `path` on the issuer host, with extra headers.
    async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder()
            .method("POST")
            .uri(path)
            .header("host", ADMIN_HOST)
            .header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = serde_urlencoded::to_string(form).unwrap();
        self.send(builder.body(Body::from(body)).unwrap()).await
    }

    /// A v2 token of the bootstrap administrator for `scope`, through its client secret.
    async fn token_for(&self, scope: &str) -> String {
        let path = format!("/{}/oauth2/v2.0/token", self.boot("tenant_id"));
        let reply = self
            .post_form(
                &path,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &self.boot("client_id")),
                    ("client_secret", &self.boot("client_secret")),
                    ("scope", scope),
                ],
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply}");
        text(&reply.body["access_token"])
    }

    /// An authenticated JSON request to `host`.
    async fn call(
        &self,
        host: &str,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", host)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        self.send(request).await
    }

    /// A managed identity made through the admin API; returns its client id.
    async fn managed_identity(&self) -> String {
        let token = self.token_for(&format!("{RESOURCE}/.default")).await;
        let body = json!({"display_name": "mi", "kind": "managed_identity"});
        let reply = self
            .call(ADMIN_HOST, "POST", "/admin/principals", &token, Some(body))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply}");
        text(&reply.body["client_id"])
    }
}

/// The audience of a JWT, read without verifying it.
fn audience(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    text(&claims["aud"])
}

// ---- IMDS ----

/// MSAL for JavaScript always asks for `/metadata/identity/oauth2/token/`; real IMDS answers
/// both spellings, and so does Arca, with the same rules.
#[tokio::test]
async fn imds_answers_with_and_without_the_trailing_slash() {
    let d = deployment().await;
    let mi = d.managed_identity().await;
    for path in [
        "/metadata/identity/oauth2/token",
        "/metadata/identity/oauth2/token/",
    ] {
        let uri = format!("{path}?api-version=2019-08-01&resource={RESOURCE}&client_id={mi}");
        let reply = d.send(get(ADMIN_HOST, &uri, &[("metadata", "true")])).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {reply}");
        assert_eq!(reply.body["client_id"], mi.as_str(), "{path}");
        assert_eq!(audience(&text(&reply.body["access_token"])), RESOURCE);
        let token = text(&reply.body["access_token"]);
        let probe = d
            .call(
                "default.vault.localhost:8443",
                "GET",
                &format!("/secrets?{V}"),
                &token,
                None,
            )
            .await;
        // Signed in (no role yet: 403, not the 401 challenge).
        assert_eq!(probe.status, StatusCode::FORBIDDEN, "{path}: {probe}");
        // The same refusals: no Metadata header.
        let reply = d.send(get(ADMIN_HOST, &uri, &[])).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {reply}");
        assert!(reply.body.get("access_token").is_none());
    }
}
