//! The token protocols other clients speak, on a deployment as `bootstrap::prepare` makes it:
//! IMDS with MSAL for JavaScript's trailing slash, the v1 token endpoint (`resource=`), HTTP
//! Basic client authentication, the 2017-09-01 App Service protocol (`MSI_ENDPOINT` /
//! `MSI_SECRET`), the management plane `az login` signs in to (`/subscriptions`, `/tenants`),
//! and the issuer host's own not-found answer. Everything runs in-process through the whole
//! router over a real SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use arca_core::FixedClock;
use arca_server::auth::PeerAddr;
use arca_server::config::Settings;
use arca_server::state::AppState;
use arca_store::Store;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::{ADMIN_HOST, START, V};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The data plane's resource and the management resource of a deployment on port 8443.
const RESOURCE: &str = "https://vault.localhost:8443";
const MANAGEMENT: &str = "https://localhost:8443/management";
const VAULT_HOST: &str = "default.vault.localhost:8443";

/// A deployment prepared in a temporary data directory, as `arca serve` prepares it.
struct Deployment {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
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
        state,
        app,
        boot,
    }
}

/// A response's status, headers and JSON body (Null when empty).
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
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
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        Reply {
            status,
            headers,
            body,
        }
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

/// Form fields.
type Form<'a> = &'a [(&'a str, &'a str)];

/// The audience of a JWT, read without verifying it.
fn audience_of(token: &str) -> String {
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
        assert_eq!(audience_of(&text(&reply.body["access_token"])), RESOURCE);
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

// ---- the v1 token endpoint ----

fn basic(client_id: &str, secret: &str) -> String {
    use base64::Engine as _;
    let encode = |s: &str| serde_urlencoded::to_string([("", s)]).unwrap()[1..].to_owned();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            encode(client_id),
            encode(secret)
        ))
    )
}

#[track_caller]
fn assert_oauth_error(reply: &Reply, status: StatusCode, error: &str) {
    assert_eq!(reply.status, status, "{reply}");
    assert_eq!(reply.body["error"], error, "{reply}");
    assert!(reply.body.get("access_token").is_none(), "{reply}");
}

/// `POST /{tenant}/oauth2/token` with `resource=`: the v1 shape, whose times are strings.
#[tokio::test]
async fn the_v1_endpoint_grants_a_resource_in_the_v1_shape() {
    let d = deployment().await;
    let path = format!("/{}/oauth2/token", d.boot("tenant_id"));
    let (client_id, secret) = (d.boot("client_id"), d.boot("client_secret"));
    for (resource, audience) in [
        (RESOURCE, RESOURCE),
        ("https://vault.localhost:8443/", RESOURCE),
        (MANAGEMENT, MANAGEMENT),
        ("https://localhost:8443", "https://localhost:8443"),
    ] {
        let reply = d
            .post_form(
                &path,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &client_id),
                    ("client_secret", &secret),
                    ("resource", resource),
                ],
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{resource}: {reply}");
        let b = &reply.body;
        assert_eq!(b["token_type"], "Bearer");
        assert_eq!(b["resource"], audience);
        for key in ["expires_in", "ext_expires_in", "expires_on", "not_before"] {
            let n: i64 = text(&b[key]).parse().unwrap();
            assert!(n > 0, "{key}");
        }
        assert_eq!(text(&b["expires_in"]), "3600");
        assert_eq!(text(&b["expires_on"]), (START + 3600).to_string());
        assert_eq!(text(&b["not_before"]), START.to_string());
        assert_eq!(audience_of(&text(&b["access_token"])), audience);
    }
    // The token works on the data plane.
    let reply = d
        .post_form(
            &path,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("resource", RESOURCE),
            ],
            &[],
        )
        .await;
    let token = text(&reply.body["access_token"]);
    let put = d
        .call(
            VAULT_HOST,
            "PUT",
            &format!("/secrets/v1?{V}"),
            &token,
            Some(json!({"value": "x"})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{put}");

    // Refusals: no resource, a resource not served, a wrong secret, another tenant.
    let cases: [(Form, &str, StatusCode, &str); 4] = [
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &secret),
            ],
            &path,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("resource", "https://vault.azure.net"),
            ],
            &path,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", "wrong"),
                ("resource", RESOURCE),
            ],
            &path,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("resource", RESOURCE),
            ],
            "/another-tenant/oauth2/token",
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
        ),
    ];
    for (form, path, status, error) in cases {
        assert_oauth_error(&d.post_form(path, form, &[]).await, status, error);
    }
}

/// The v1 endpoint shares the v2 endpoint's lockout: wrong secrets at either count together.
#[tokio::test]
async fn the_v1_endpoint_counts_toward_the_same_lockout() {
    let d = deployment().await;
    let tenant = d.boot("tenant_id");
    let client_id = d.boot("client_id");
    for i in 0..10 {
        let path = if i % 2 == 0 {
            format!("/{tenant}/oauth2/token")
        } else {
            format!("/{tenant}/oauth2/v2.0/token")
        };
        let reply = d
            .post_form(
                &path,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &client_id),
                    ("client_secret", "wrong"),
                    ("resource", RESOURCE),
                    ("scope", &format!("{RESOURCE}/.default")),
                ],
                &[],
            )
            .await;
        assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
    }
    // Locked now, even with the right secret, at both endpoints.
    let reply = d
        .post_form(
            &format!("/{tenant}/oauth2/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &d.boot("client_secret")),
                ("resource", RESOURCE),
            ],
            &[],
        )
        .await;
    assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(
        text(&reply.body["error_description"]).contains("AADSTS50053"),
        "{reply}"
    );
}

// ---- HTTP Basic client authentication ----

#[tokio::test]
async fn http_basic_client_authentication_works_at_both_endpoints() {
    let d = deployment().await;
    let tenant = d.boot("tenant_id");
    let (client_id, secret) = (d.boot("client_id"), d.boot("client_secret"));
    let auth = basic(&client_id, &secret);
    let v2 = format!("/{tenant}/oauth2/v2.0/token");
    let v1 = format!("/{tenant}/oauth2/token");
    let scope = format!("{RESOURCE}/.default");
    let ok = [
        (
            v2.as_str(),
            vec![
                ("grant_type", "client_credentials"),
                ("scope", scope.as_str()),
            ],
        ),
        (
            v1.as_str(),
            vec![("grant_type", "client_credentials"), ("resource", RESOURCE)],
        ),
        // A client_id in the body that matches is fine.
        (
            v2.as_str(),
            vec![
                ("grant_type", "client_credentials"),
                ("scope", scope.as_str()),
                ("client_id", client_id.as_str()),
            ],
        ),
    ];
    for (path, form) in ok {
        let reply = d.post_form(path, &form, &[("authorization", &auth)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {reply}");
        assert_eq!(audience_of(&text(&reply.body["access_token"])), RESOURCE);
    }
    // The scheme in any case.
    let lower = auth.replacen("Basic", "basic", 1);
    let reply = d
        .post_form(
            &v2,
            &[("grant_type", "client_credentials"), ("scope", &scope)],
            &[("authorization", &lower)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");

    // A wrong secret, an unknown client, a malformed header: 401 invalid_client with a Basic
    // challenge (RFC 6749 section 5.2).
    let bad = [
        basic(&client_id, "wrong"),
        basic("no-such-client", &secret),
        "Basic !!!not-base64".to_owned(),
        format!("Basic {}", {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode("no-colon")
        }),
        format!("Basic {}", "A".repeat(8 * 1024)),
    ];
    for auth in &bad {
        let reply = d
            .post_form(
                &v2,
                &[("grant_type", "client_credentials"), ("scope", &scope)],
                &[("authorization", auth)],
            )
            .await;
        assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
        let challenge = reply
            .headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(challenge.starts_with("Basic "), "{challenge}");
        // Never quotes what was presented.
        assert!(!reply.body.to_string().contains("wrong"), "{reply}");
    }
    // Two methods at once, or a client_id in the body that differs: invalid_request.
    let two = [
        vec![
            ("grant_type", "client_credentials"),
            ("scope", scope.as_str()),
            ("client_secret", secret.as_str()),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("scope", scope.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", "a.b.c"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("scope", scope.as_str()),
            ("client_id", "someone-else"),
        ],
    ];
    for form in two {
        let reply = d.post_form(&v2, &form, &[("authorization", &auth)]).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    }
    // Discovery advertises it.
    let reply = d
        .send(get(
            ADMIN_HOST,
            &format!("/{tenant}/v2.0/.well-known/openid-configuration"),
            &[],
        ))
        .await;
    let methods = reply.body["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.contains(&json!("client_secret_basic")), "{reply}");
    assert!(methods.contains(&json!("client_secret_post")), "{reply}");
}

/// Basic attempts pay for one slow verification each, as body secrets do, and lock out the same.
#[tokio::test]
async fn http_basic_attempts_share_the_lockout_and_the_dummy_hash() {
    let d = deployment().await;
    let v2 = format!("/{}/oauth2/v2.0/token", d.boot("tenant_id"));
    let scope = format!("{RESOURCE}/.default");
    let client_id = d.boot("client_id");
    let counter = || {
        d.state
            .issuer
            .secret_verifications
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = counter();
    let reply = d
        .post_form(
            &v2,
            &[("grant_type", "client_credentials"), ("scope", &scope)],
            &[("authorization", &basic("no-such-client", "x"))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        counter() - before,
        1,
        "an unknown client id costs one verification"
    );
    for _ in 0..10 {
        let reply = d
            .post_form(
                &v2,
                &[("grant_type", "client_credentials"), ("scope", &scope)],
                &[("authorization", &basic(&client_id, "wrong"))],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let right = basic(&client_id, &d.boot("client_secret"));
    let reply = d
        .post_form(
            &v2,
            &[("grant_type", "client_credentials"), ("scope", &scope)],
            &[("authorization", &right)],
        )
        .await;
    assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(
        text(&reply.body["error_description"]).contains("AADSTS50053"),
        "{reply}"
    );
    assert!(reply.headers.get("retry-after").is_some());
    assert!(reply.headers.get("www-authenticate").is_some());
}

// ---- the older App Service protocol ----

#[tokio::test]
async fn app_service_2017_protocol_uses_the_secret_header_and_clientid() {
    let d = deployment().await;
    let mi = d.managed_identity().await;
    let secret = d.boot("identity_header");
    assert_eq!(d.boot("msi_secret"), secret, "MSI_SECRET in bootstrap.json");
    assert_eq!(d.boot("msi_endpoint"), d.boot("identity_endpoint"));
    let uri = format!("/msi/token?api-version=2017-09-01&resource={RESOURCE}&clientid={mi}");
    let reply = d.send(get(ADMIN_HOST, &uri, &[("secret", &secret)])).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
    let expires = text(&reply.body["expires_on"]);
    // One hour after START, in Unix seconds as under 2019-08-01 (MSAL's fallback client reads
    // nothing else).
    assert_eq!(expires, (START + 3600).to_string());
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["resource"], RESOURCE);
    let token = text(&reply.body["access_token"]);
    let caller = d.state.issuer.verify(&token, START).unwrap();
    assert_eq!(caller.client_id, mi);

    // The 2017 protocol takes its own header only; a wrong or missing secret is 401.
    for headers in [
        vec![("secret", "wrong")],
        vec![("x-identity-header", secret.as_str())],
        vec![],
    ] {
        let reply = d.send(get(ADMIN_HOST, &uri, &headers)).await;
        assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_request");
    }
    // ... and the 2019 protocol is unchanged: X-IDENTITY-HEADER, client_id, Unix seconds.
    let uri19 = format!("/msi/token?api-version=2019-08-01&resource={RESOURCE}&client_id={mi}");
    let reply = d
        .send(get(ADMIN_HOST, &uri19, &[("x-identity-header", &secret)]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
    assert_eq!(text(&reply.body["expires_on"]), (START + 3600).to_string());
    let reply = d
        .send(get(ADMIN_HOST, &uri19, &[("secret", &secret)]))
        .await;
    assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_request");
    // 2017 knows no client_id: naming one that way selects nothing (no default configured).
    let uri = format!("/msi/token?api-version=2017-09-01&resource={RESOURCE}&client_id={mi}");
    let reply = d.send(get(ADMIN_HOST, &uri, &[("secret", &secret)])).await;
    assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
}

// ---- the management plane ----

#[tokio::test]
async fn subscriptions_and_tenants_need_a_management_token() {
    let d = deployment().await;
    let tenant = d.boot("tenant_id");
    let management = d.token_for(&format!("{MANAGEMENT}/.default")).await;
    let data = d.token_for(&format!("{RESOURCE}/.default")).await;

    let reply = d
        .call(
            ADMIN_HOST,
            "GET",
            "/subscriptions?api-version=2022-12-01",
            &management,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
    assert_eq!(reply.body["value"], json!([]));
    let reply = d
        .call(
            ADMIN_HOST,
            "GET",
            "/tenants?api-version=2022-12-01",
            &management,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
    assert_eq!(reply.body["value"][0]["tenantId"], tenant.as_str());
    assert_eq!(reply.body["value"][0]["id"], format!("/tenants/{tenant}"));

    for path in ["/subscriptions", "/tenants"] {
        // No token, a data-plane token, garbage: ARM's 401 with a challenge.
        let reply = d.send(get(ADMIN_HOST, path, &[])).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply}");
        assert_eq!(reply.body["error"]["code"], "AuthenticationFailed");
        let challenge = reply
            .headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            challenge.contains(&format!(
                "authorization_uri=\"https://localhost:8443/{tenant}\""
            )),
            "{challenge}"
        );
        let reply = d.call(ADMIN_HOST, "GET", path, &data, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply}");
        assert_eq!(
            reply.body["error"]["code"],
            "InvalidAuthenticationTokenAudience"
        );
        let reply = d.call(ADMIN_HOST, "GET", path, "not.a.token", None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply}");
        assert_eq!(reply.body["error"]["code"], "InvalidAuthenticationToken");
    }
}

/// A management token (all `az login` needs) grants nothing on the data plane or the admin API.
#[tokio::test]
async fn management_tokens_are_refused_by_the_data_plane_and_the_admin_api() {
    let d = deployment().await;
    let management = d.token_for(&format!("{MANAGEMENT}/.default")).await;
    for (host, path) in [
        (VAULT_HOST, format!("/secrets?{V}")),
        (ADMIN_HOST, format!("/secrets?{V}")),
        (ADMIN_HOST, "/admin/principals".to_owned()),
        (ADMIN_HOST, "/admin/vaults".to_owned()),
    ] {
        let reply = d.call(host, "GET", &path, &management, None).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{host}{path}: {reply}"
        );
    }
    // The administrator's data-plane token does work there.
    let data = d.token_for(&format!("{RESOURCE}/.default")).await;
    let reply = d
        .call(ADMIN_HOST, "GET", "/admin/principals", &data, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
}

// ---- the issuer host's not-found answer ----

#[tokio::test]
async fn the_issuer_host_has_its_own_not_found_answer() {
    let d = deployment().await;
    for path in [
        "/nothing-here",
        "/common/oauth2/v3.0/token",
        "/metadata/instance",
    ] {
        let reply = d.send(get(ADMIN_HOST, path, &[])).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        let message = text(&reply.body["error"]["message"]);
        assert!(!message.contains("Key Vault API."), "{message}");
        for endpoint in [
            "/oauth2/v2.0/token",
            "/oauth2/token",
            "/metadata/identity/oauth2/token",
            "/msi/token",
            "/subscriptions",
        ] {
            assert!(message.contains(endpoint), "{endpoint} in {message}");
        }
    }
}
