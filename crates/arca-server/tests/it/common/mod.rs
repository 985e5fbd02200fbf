//! The in-process harness the router and access-control tests share: `AppState` over a real
//! SQLite store in a temporary directory, a controlled clock, three vaults and one administrator
//! principal, driven through the whole router with `oneshot`; the request builders, answer
//! readers and error-answer assertions the test modules share; principals made through the admin
//! API (`principals.rs`); and a deployment as `bootstrap::prepare` makes it (`deployment.rs`).

// Each test crate uses a different part of the harness.
#![allow(dead_code)]

mod deployment;
mod principals;

pub use deployment::{deployment, Deployment};

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use arca_core::FixedClock;
use arca_crypto::{Keyring, SecretString, TokenSigningKey};
use arca_server::auth::PeerAddr;
use arca_server::identity::principal::{ClientSecretHash, PrincipalData};
use arca_server::identity::Issuer;
use arca_server::state::AppState;
use arca_server::urls::Urls;
use arca_store::{PrincipalRecord, Store, VaultRecord};
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

pub const START: i64 = 1_800_000_000;
/// The `default` vault's host.
pub const HOST: &str = "default.vault.localhost:8443";
/// The deployment host: identity endpoints and the admin API.
pub const ADMIN_HOST: &str = "localhost:8443";
/// The client secret of the administrator principal `client`.
pub const CLIENT_SECRET: &str = "correct-horse-battery-staple";
pub const V: &str = "api-version=2026-04-01";
/// The scope clients ask data-plane tokens for.
pub const SCOPE: &str = "https://vault.localhost:8443/.default";

pub struct Harness {
    pub _dir: tempfile::TempDir,
    pub db: std::path::PathBuf,
    pub clock: Arc<FixedClock>,
    pub state: Arc<AppState>,
    pub app: axum::Router,
    /// A token of the administrator principal (`client` / `object`, Key Vault Administrator at
    /// `/`), issued through its client secret `s1`.
    pub token: String,
}

/// Vaults `default` (90 days), `short` (7 days) and `guarded` (30 days, purge protection), and
/// the principal `client` / `object` with the client secret [`CLIENT_SECRET`] (id `s1`), assigned
/// Key Vault Administrator at `/` (assignment id `admin`): a service principal, as the bootstrap
/// principal is in a real deployment. The managed-identity endpoints serve no identity by
/// default, as in a deployment without `--app-service-identity` / `--imds-identity`.
pub async fn harness() -> Harness {
    harness_with(Default::default()).await
}

/// [`harness`] with the given body memory budget.
pub async fn harness_with(bodies: arca_server::body::BodyBudget) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("arca.db");
    let store: Arc<dyn Store> = Arc::new(arca_store_sqlite::SqliteStore::open(&db).unwrap());
    let clock = Arc::new(FixedClock::new(START));
    let urls = Urls::new("localhost", "vault.localhost", 8443);
    let keyring = Keyring::generate().unwrap();
    // The first signing key is stored as bootstrap stores it (sealed under the deployment
    // associated data that `seal::Sealer` uses), so that rotation finds it.
    let (_, pkcs8) = TokenSigningKey::generate().unwrap();
    let aad = arca_crypto::record_aad("", "deployment", "token_signing_key", "", "sealed");
    store
        .put_meta(
            "token_signing_key",
            &keyring.seal(&aad, pkcs8.expose()).unwrap(),
        )
        .await
        .unwrap();
    let keys = arca_server::identity::keys::load(&*store, &keyring, START)
        .await
        .unwrap();
    let issuer = Issuer::new(
        &urls,
        "tenant".into(),
        keys,
        SecretString::new("mi-header".into()),
        None,
        3600,
    )
    .unwrap();
    for (name, retention, protection) in [
        ("default", 90, false),
        ("short", 7, false),
        ("guarded", 30, true),
    ] {
        store
            .create_vault(&VaultRecord {
                name: name.into(),
                retention_days: retention,
                purge_protection: protection,
                created: START,
            })
            .await
            .unwrap();
    }
    let data = principal_data("test", CLIENT_SECRET, START);
    store
        .create_principal(&PrincipalRecord {
            client_id: "client".into(),
            object_id: "object".into(),
            created: START,
            data: data.seal(&keyring, "client", "object", START).unwrap(),
        })
        .await
        .unwrap();
    let admin = arca_server::access::AssignmentDoc {
        id: "admin".into(),
        role_id: arca_server::access::ADMINISTRATOR_ROLE_ID.into(),
        principal_client_id: "client".into(),
        principal_object_id: "object".into(),
        scope: "/".into(),
        created: START,
    };
    store
        .create_policy(
            &arca_server::access::policy_record(
                &keyring,
                arca_server::access::kinds::ASSIGNMENT,
                "admin",
                &admin,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let token = issuer
        .issue("client", "object", "s:s1", START, "u1")
        .unwrap()
        .0;
    let access = arca_server::access::Access::new(
        arca_server::access::load(&*store, &keyring).await.unwrap(),
    );
    let keyring = Arc::new(keyring);
    let engine = arca_server::engine::Engine::new(store.clone(), keyring.clone(), clock.clone());
    let state = Arc::new(AppState {
        store,
        keyring,
        clock: clock.clone(),
        engine,
        urls,
        issuer,
        tokens: Default::default(),
        access,
        jwks: arca_server::identity::jwks_fetch::JwksCache::new(),
        lockout: Default::default(),
        vaults: Default::default(),
        bodies,
        release_signing: Arc::new(arca_crypto::ReleaseSigningKey::generate().unwrap().0),
        // Key Vault's limits, as a deployment has by default.
        throttle: arca_server::throttle::Throttle::new(Default::default()),
    });
    let app = arca_server::router::build(state.clone());
    Harness {
        _dir: dir,
        db,
        clock,
        state,
        app,
        token,
    }
}

/// A principal's data with one client secret, `secret` (id `s1`, no expiry), made at `created`.
pub fn principal_data(display_name: &str, secret: &str, created: i64) -> PrincipalData {
    PrincipalData {
        secrets: vec![ClientSecretHash {
            id: "s1".into(),
            hash: arca_crypto::hash_client_secret(secret.as_bytes()).unwrap(),
            created,
            expires: None,
            description: None,
            hint: secret.chars().take(3).collect(),
        }],
        ..PrincipalData::new(display_name)
    }
}

impl Harness {
    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.app.clone().oneshot(request).await.unwrap()
    }

    /// The request [`Harness::call_on`] sends: `method path` on `host` with the harness token
    /// and a JSON body (none when `body` is None).
    pub fn request(
        &self,
        host: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Request<Body> {
        json_request(Some(&self.token), host, method, path, json_body(body))
    }

    /// An authenticated request to `host`; returns status and JSON body (Null when empty).
    pub async fn call_on(
        &self,
        host: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        split(self.send(self.request(host, method, path, body)).await).await
    }

    /// Sets a secret by name in the vault at `host`.
    pub async fn put(&self, host: &str, name: &str, value: &str) -> (StatusCode, Value) {
        let path = format!("/secrets/{name}?{V}");
        self.call_on(host, "PUT", &path, Some(json!({ "value": value })))
            .await
    }

    /// Reads a secret by name in the vault at `host`.
    pub async fn read(&self, host: &str, name: &str) -> (StatusCode, Value) {
        self.call_on(host, "GET", &secret_path(name), None).await
    }

    /// Deletes a secret by name in the vault at `host`.
    pub async fn delete(&self, host: &str, name: &str) -> (StatusCode, Value) {
        self.call_on(host, "DELETE", &format!("/secrets/{name}?{V}"), None)
            .await
    }

    /// Backs up a secret by name in the vault at `host`.
    pub async fn backup(&self, host: &str, name: &str) -> (StatusCode, Value) {
        let path = format!("/secrets/{name}/backup?{V}");
        self.call_on(host, "POST", &path, None).await
    }

    /// Restores a backup blob (a JSON string) into the vault at `host`.
    pub async fn restore(&self, host: &str, blob: &Value) -> (StatusCode, Value) {
        let path = format!("/secrets/restore?{V}");
        self.call_on(host, "POST", &path, Some(json!({ "value": blob })))
            .await
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_on(HOST, method, path, body).await
    }

    pub async fn raw(&self, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", HOST)
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::from(body.to_owned()))
            .unwrap();
        split(self.send(request).await).await
    }

    /// A token signed by the issuer's current key, bypassing the token endpoint.
    pub fn mint(&self, client_id: &str, object_id: &str, credential: &str, now: i64) -> String {
        let (token, _) = self
            .state
            .issuer
            .issue(
                client_id,
                object_id,
                credential,
                now,
                &format!("minted-{now}"),
            )
            .unwrap();
        token
    }

    pub fn clock_now(&self) -> i64 {
        use arca_core::Clock;
        self.clock.now()
    }
}

pub async fn split(response: Response<Body>) -> (StatusCode, Value) {
    let status = response.status();
    (status, json_of(response.into_body()).await)
}

/// A response body as JSON (Null when empty).
pub async fn json_of(body: Body) -> Value {
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    }
}

/// A request to `host` with a JSON content type, `token` as its bearer token (none:
/// unauthenticated) and `body`.
pub fn json_request(
    token: Option<&str>,
    host: &str,
    method: &str,
    path: &str,
    body: Body,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(body).unwrap()
}

/// A JSON request body (empty when `body` is None).
pub fn json_body(body: Option<Value>) -> Body {
    body.map_or_else(Body::empty, |b| Body::from(b.to_string()))
}

/// A bodiless GET of `uri` on `host` with these headers and no token.
pub fn get(host: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().uri(uri).header("host", host);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

/// `request` with another bearer token, or with none.
pub fn with_token(mut request: Request<Body>, token: Option<&str>) -> Request<Body> {
    let headers = request.headers_mut();
    headers.remove("authorization");
    if let Some(token) = token {
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

/// `request` as the listener passes it on from a client at `ip`.
pub fn from_ip(mut request: Request<Body>, ip: &str) -> Request<Body> {
    let ip: IpAddr = ip.parse().unwrap();
    request
        .extensions_mut()
        .insert(PeerAddr(SocketAddr::new(ip, 49_152)));
    request
}

/// The path of secret `name` (its current version) on the data plane.
pub fn secret_path(name: &str) -> String {
    format!("/secrets/{name}?{V}")
}

/// A JSON string's text.
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_owned()
}

/// The version a secret bundle's `id` names (its last segment).
pub fn version_of(bundle: &Value) -> String {
    text(&bundle["id"]).rsplit('/').next().unwrap().to_owned()
}

/// The Key Vault error code and inner code of an error body.
pub fn code(body: &Value) -> (&str, Option<&str>) {
    (
        body["error"]["code"].as_str().unwrap_or("?"),
        body["error"]["innererror"]["code"].as_str(),
    )
}

/// An error answer with this status and Key Vault error code.
#[track_caller]
pub fn assert_error(reply: &(StatusCode, Value), status: StatusCode, error: &str) {
    assert_eq!((reply.0, code(&reply.1).0), (status, error), "{}", reply.1);
}

/// A 403 `Forbidden` answer with this inner code.
#[track_caller]
pub fn assert_forbidden(reply: &(StatusCode, Value), inner: &str) {
    assert_eq!(
        (reply.0, code(&reply.1)),
        (StatusCode::FORBIDDEN, ("Forbidden", Some(inner))),
        "{}",
        reply.1
    );
}

/// Form fields, form-encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// The client-credentials form of `client_id` with a client secret, for [`SCOPE`].
pub fn secret_form(client_id: &str, secret: &str) -> String {
    form(&[
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", SCOPE),
    ])
}

/// A form-encoded request to the token endpoint of the harness tenant.
pub fn token_form(form: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/tenant/oauth2/v2.0/token")
        .header("host", ADMIN_HOST)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

pub async fn token_request(h: &Harness, form: &str) -> (StatusCode, Value) {
    split(h.send(token_form(form)).await).await
}

/// A request body that declares `declared` bytes (or no length) and brings only the chunks sent
/// through the returned sender (capacity one chunk, so a send completes only once the previous
/// chunk was read); it does not end while the sender lives.
pub fn channel_body(declared: Option<u64>) -> (tokio::sync::mpsc::Sender<bytes::Bytes>, Body) {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    (tx, Body::new(ChannelBody { rx, declared }))
}

struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
    declared: Option<u64>,
}

impl hyper::body::Body for ChannelBody {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(hyper::body::Frame::data(c))))
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.declared.map_or_else(
            hyper::body::SizeHint::default,
            hyper::body::SizeHint::with_exact,
        )
    }
}

/// Waits (yielding, at most two seconds) until `done` holds.
pub async fn until(mut done: impl FnMut() -> bool) {
    tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while !done() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the condition did not come about in time");
}
