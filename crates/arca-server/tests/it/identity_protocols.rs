//! The token protocols other clients speak, on a deployment as `bootstrap::prepare` makes it:
//! IMDS with MSAL for JavaScript's trailing slash, the v1 token endpoint (`resource=`), HTTP
//! Basic client authentication, the 2017-09-01 App Service protocol (`MSI_ENDPOINT` /
//! `MSI_SECRET`), the management plane `az login` signs in to (`/subscriptions`, `/tenants`),
//! and the issuer host's own not-found answer. Everything runs in-process through the whole
//! router over a real SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::{
    deployment, form, from_ip, get, json_body, json_of, json_request, text, Deployment, ADMIN_HOST,
    START, V,
};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The data plane's resource and the management resource of a deployment on port 8443.
const RESOURCE: &str = "https://vault.localhost:8443";
const MANAGEMENT: &str = "https://localhost:8443/management";
const VAULT_HOST: &str = "default.vault.localhost:8443";

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

impl Reply {
    /// The `WWW-Authenticate` challenge, which must be there.
    fn challenge(&self) -> &str {
        self.headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
    }
}

impl Deployment {
    /// The reply to `request` from a client on this machine.
    async fn reply(&self, request: Request<Body>) -> Reply {
        let request = from_ip(request, "127.0.0.1");
        let response = self.app.clone().oneshot(request).await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: json_of(response.into_body()).await,
        }
    }

    /// A form POST to `path` on the issuer host, with extra headers.
    async fn post_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
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
        self.reply(builder.body(Body::from(form(fields))).unwrap())
            .await
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
        self.reply(json_request(
            Some(token),
            host,
            method,
            path,
            json_body(body),
        ))
        .await
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
    let d = deployment(|_| {}).await;
    let mi = d.managed_identity().await;
    for path in [
        "/metadata/identity/oauth2/token",
        "/metadata/identity/oauth2/token/",
    ] {
        let uri = format!("{path}?api-version=2019-08-01&resource={RESOURCE}&client_id={mi}");
        let reply = d
            .reply(get(ADMIN_HOST, &uri, &[("metadata", "true")]))
            .await;
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
        let reply = d.reply(get(ADMIN_HOST, &uri, &[])).await;
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

/// The v1 client-credentials form: `client_id` with a client secret, for `resource`.
fn v1_form<'a>(client_id: &'a str, secret: &'a str, resource: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("resource", resource),
    ]
}

/// `POST /{tenant}/oauth2/token` with `resource=`: the v1 shape, whose times are strings.
#[tokio::test]
async fn the_v1_endpoint_grants_a_resource_in_the_v1_shape() {
    let d = deployment(|_| {}).await;
    let path = format!("/{}/oauth2/token", d.boot("tenant_id"));
    let (client_id, secret) = (d.boot("client_id"), d.boot("client_secret"));
    for (resource, audience) in [
        (RESOURCE, RESOURCE),
        ("https://vault.localhost:8443/", RESOURCE),
        (MANAGEMENT, MANAGEMENT),
        ("https://localhost:8443", "https://localhost:8443"),
    ] {
        let reply = d
            .post_form(&path, &v1_form(&client_id, &secret, resource), &[])
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
        .post_form(&path, &v1_form(&client_id, &secret, RESOURCE), &[])
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
            &v1_form(&client_id, &secret, "")[..3],
            &path,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            &v1_form(&client_id, &secret, "https://vault.azure.net"),
            &path,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            &v1_form(&client_id, "wrong", RESOURCE),
            &path,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            &v1_form(&client_id, &secret, RESOURCE),
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
    let d = deployment(|_| {}).await;
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
    let secret = d.boot("client_secret");
    let reply = d
        .post_form(
            &format!("/{tenant}/oauth2/token"),
            &v1_form(&client_id, &secret, RESOURCE),
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
    let d = deployment(|_| {}).await;
    let tenant = d.boot("tenant_id");
    let (client_id, secret) = (d.boot("client_id"), d.boot("client_secret"));
    let auth = basic(&client_id, &secret);
    let v2 = format!("/{tenant}/oauth2/v2.0/token");
    let v1 = format!("/{tenant}/oauth2/token");
    let scope = format!("{RESOURCE}/.default");
    // Client credentials with the client authenticated in the Authorization header only.
    let scope_only = [
        ("grant_type", "client_credentials"),
        ("scope", scope.as_str()),
    ];
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
        .post_form(&v2, &scope_only, &[("authorization", &lower)])
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
            .post_form(&v2, &scope_only, &[("authorization", auth)])
            .await;
        assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
        let challenge = reply.challenge();
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
        .reply(get(
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
    let d = deployment(|_| {}).await;
    let v2 = format!("/{}/oauth2/v2.0/token", d.boot("tenant_id"));
    let scope = format!("{RESOURCE}/.default");
    // Client credentials with the client authenticated in the Authorization header only.
    let scope_only = [
        ("grant_type", "client_credentials"),
        ("scope", scope.as_str()),
    ];
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
            &scope_only,
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
                &scope_only,
                &[("authorization", &basic(&client_id, "wrong"))],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let right = basic(&client_id, &d.boot("client_secret"));
    let reply = d
        .post_form(&v2, &scope_only, &[("authorization", &right)])
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
    let d = deployment(|_| {}).await;
    let mi = d.managed_identity().await;
    let secret = d.boot("identity_header");
    assert_eq!(d.boot("msi_secret"), secret, "MSI_SECRET in bootstrap.json");
    assert_eq!(d.boot("msi_endpoint"), d.boot("identity_endpoint"));
    let uri = format!("/msi/token?api-version=2017-09-01&resource={RESOURCE}&clientid={mi}");
    let reply = d.reply(get(ADMIN_HOST, &uri, &[("secret", &secret)])).await;
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
        let reply = d.reply(get(ADMIN_HOST, &uri, &headers)).await;
        assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_request");
    }
    // ... and the 2019 protocol is unchanged: X-IDENTITY-HEADER, client_id, Unix seconds.
    let uri19 = format!("/msi/token?api-version=2019-08-01&resource={RESOURCE}&client_id={mi}");
    let reply = d
        .reply(get(ADMIN_HOST, &uri19, &[("x-identity-header", &secret)]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
    assert_eq!(text(&reply.body["expires_on"]), (START + 3600).to_string());
    let reply = d
        .reply(get(ADMIN_HOST, &uri19, &[("secret", &secret)]))
        .await;
    assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_request");
    // 2017 knows no client_id: naming one that way selects nothing (no default configured).
    let uri = format!("/msi/token?api-version=2017-09-01&resource={RESOURCE}&client_id={mi}");
    let reply = d.reply(get(ADMIN_HOST, &uri, &[("secret", &secret)])).await;
    assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
}

// ---- the management plane ----

#[tokio::test]
async fn subscriptions_and_tenants_need_a_management_token() {
    let d = deployment(|_| {}).await;
    let tenant = d.boot("tenant_id");
    let management = d.token_for(&format!("{MANAGEMENT}/.default")).await;
    let data = d.token_for(&format!("{RESOURCE}/.default")).await;

    let with_management = |path| d.call(ADMIN_HOST, "GET", path, &management, None);
    let reply = with_management("/subscriptions?api-version=2022-12-01").await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
    assert_eq!(reply.body["value"], json!([]));
    let reply = with_management("/tenants?api-version=2022-12-01").await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
    assert_eq!(reply.body["value"][0]["tenantId"], tenant.as_str());
    assert_eq!(reply.body["value"][0]["id"], format!("/tenants/{tenant}"));

    for path in ["/subscriptions", "/tenants"] {
        // No token, a data-plane token, garbage: ARM's 401 with a challenge.
        let reply = d.reply(get(ADMIN_HOST, path, &[])).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply}");
        assert_eq!(reply.body["error"]["code"], "AuthenticationFailed");
        let challenge = reply.challenge();
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
    let d = deployment(|_| {}).await;
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
    let d = deployment(|_| {}).await;
    for path in [
        "/nothing-here",
        "/common/oauth2/v3.0/token",
        "/metadata/instance",
    ] {
        let reply = d.reply(get(ADMIN_HOST, path, &[])).await;
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
