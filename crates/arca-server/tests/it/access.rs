//! Access-control tests: role-based decisions on the data plane, scopes, live changes, token
//! revocation, network rules, the admin API (`docs/admin-api.md`), the token endpoint's
//! certificate, federated and client-secret flows, signing key rotation and IMDS. Everything runs
//! in-process through the whole router over a real SQLite store and a controlled clock (the
//! harness lives in `common`); principals, roles and credentials are made through the admin API
//! and tokens through the token endpoint, as a deployment would make them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::net::IpAddr;

use arca_server::b64url;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, RsaEncoding, RsaKeyPair, RsaPublicKeyComponents,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
};
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

/// The throwaway fixtures of `arca-crypto` (see their README): an RSA 2048 key and its
/// self-signed certificate (valid 1795315687..1858387687, around the harness clock), an EC P-256
/// key, and a certificate with a refused RSA 1024 key.
const RSA_KEY_PEM: &str = include_str!("../../../arca-crypto/tests/fixtures/rsa2048.key.pem");
const RSA_CERT_PEM: &str = include_str!("../../../arca-crypto/tests/fixtures/rsa2048.cert.pem");
const P256_KEY_PEM: &str = include_str!("../../../arca-crypto/tests/fixtures/p256.key.pem");
const RSA1024_CERT_PEM: &str = include_str!("../../../arca-crypto/tests/fixtures/rsa1024.cert.pem");

/// The challenge every 401 carries.
const CHALLENGE: &str = r#"Bearer authorization="https://localhost:8443/tenant", resource="https://vault.localhost:8443""#;
/// The audience of client assertions: this token endpoint.
const TOKEN_ENDPOINT: &str = "https://localhost:8443/tenant/oauth2/v2.0/token";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const SHORT: &str = "short.vault.localhost:8443";
const SECRETS: &str = "Microsoft.KeyVault/vaults/secrets";
const ADMIN_ACTION: &str = "Microsoft.KeyVault/vaults/administer/action";
const SECRETS_USER: &str = "Key Vault Secrets User";

// ---- principals, roles and requests ----

impl Harness {
    /// The issuer's published JWK set.
    async fn jwks(&self) -> Value {
        let request = self.request(ADMIN_HOST, "GET", "/tenant/discovery/v2.0/keys", None);
        split(self.send(with_token(request, None)).await).await.1
    }

    /// Sends `request` in a task of its own; the answer is the task's result.
    fn spawn(&self, request: Request<Body>) -> tokio::task::JoinHandle<Response<Body>> {
        let app = self.app.clone();
        tokio::spawn(async move { tower::ServiceExt::oneshot(app, request).await.unwrap() })
    }

    /// Sends `n` wrong client secrets for `client_id` at once; returns the tasks answering them.
    fn guess(&self, client_id: &str, n: usize) -> Vec<tokio::task::JoinHandle<Response<Body>>> {
        (0..n)
            .map(|i| self.spawn(token_form(&secret_form(client_id, &format!("wrong-{i}")))))
            .collect()
    }

    /// Records `n` failed sign-ins of `client_id` directly in the lockout table, as if `n` wrong
    /// secrets had been sent, without waiting out their real delays.
    fn failed_before(&self, client_id: &str, n: usize) {
        for _ in 0..n {
            let _ = self
                .state
                .lockout
                .attempt(client_id, None, START, Default::default);
        }
    }
}

#[track_caller]
fn assert_rbac_denied(reply: &(StatusCode, Value)) {
    assert_forbidden(reply, "ForbiddenByRbac");
}

/// A 401 with the challenge, as every missing, refused or revoked token gets.
async fn assert_challenged(response: Response<Body>) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], CHALLENGE);
    let (_, body) = split(response).await;
    assert_eq!(code(&body), ("Unauthorized", None), "{body}");
}

/// An OAuth `invalid_client` refusal of the token endpoint.
#[track_caller]
fn assert_invalid_client(reply: &(StatusCode, Value), case: &str) {
    assert_eq!(
        (reply.0, reply.1["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "{case}: {}",
        reply.1
    );
}

fn assertion_form(client_id: &str, assertion: &str) -> String {
    form(&[
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
        ("scope", SCOPE),
    ])
}

// ---- signing assertions with the fixture keys ----

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn rsa_key() -> RsaKeyPair {
    RsaKeyPair::from_pkcs8(&pem_der(RSA_KEY_PEM)).unwrap()
}

fn p256_key(pkcs8: &[u8]) -> EcdsaKeyPair {
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).unwrap()
}

/// A P-256 key nobody registered anywhere.
fn stranger_key() -> EcdsaKeyPair {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    p256_key(pkcs8.as_ref())
}

/// SHA-1 and SHA-256 of the fixture certificate's DER, as `x5t` and `x5t#S256` carry them.
fn certificate_thumbprints() -> (Vec<u8>, Vec<u8>) {
    let der = pem_der(RSA_CERT_PEM);
    let digest = |algorithm| aws_lc_rs::digest::digest(algorithm, &der).as_ref().to_vec();
    (
        digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY),
        digest(&aws_lc_rs::digest::SHA256),
    )
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A compact JWS of `header` and `claims` with the signature `sign` makes over its input.
fn jws(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64url(&signature))
}

/// Signed with the fixture RSA key, by the header's `alg`: RS256 (PKCS#1 v1.5) or PS256 (PSS).
fn rsa_signed(header: &Value, claims: &Value) -> String {
    let padding: &'static dyn RsaEncoding = match header["alg"].as_str() {
        Some("RS256") => &RSA_PKCS1_SHA256,
        Some("PS256") => &RSA_PSS_SHA256,
        other => panic!("no RSA padding for {other:?}"),
    };
    let key = rsa_key();
    jws(header, claims, |input| {
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(padding, &SystemRandom::new(), input, &mut signature)
            .unwrap();
        signature
    })
}

fn es256_signed(key: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
    jws(header, claims, |input| {
        key.sign(&SystemRandom::new(), input)
            .unwrap()
            .as_ref()
            .to_vec()
    })
}

/// `alg: none`, with an empty signature.
fn unsigned(header: &Value, claims: &Value) -> String {
    jws(header, claims, |_| Vec::new())
}

/// HS256 keyed with `mac_key`, as an attacker holding only public key bytes would make it.
fn hs256_signed(mac_key: &[u8], header: &Value, claims: &Value) -> String {
    jws(header, claims, |input| {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, mac_key);
        aws_lc_rs::hmac::sign(&key, input).as_ref().to_vec()
    })
}

/// Client assertion claims as MSAL makes them, valid for ten minutes from `now`.
fn assertion_claims(client_id: &str, aud: &str, now: i64) -> Value {
    json!({
        "aud": aud, "iss": client_id, "sub": client_id, "jti": format!("jti-{now}"),
        "iat": now, "nbf": now, "exp": now + 600,
    })
}

/// `claims` with `name` set to `value`.
fn with(claims: &Value, name: &str, value: Value) -> Value {
    let mut changed = claims.clone();
    changed[name] = value;
    changed
}

/// The answer of the token endpoint to a client assertion for `client_id`.
async fn exchange(h: &Harness, client_id: &str, assertion: &str) -> (StatusCode, Value) {
    token_request(h, &assertion_form(client_id, assertion)).await
}

/// The `kid` in a JWT's header.
fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&arca_server::b64url_decode(header).unwrap()).unwrap();
    text(&header["kid"])
}

// ---- data-plane operations and the dataActions they require ----

/// Each secrets operation of the data plane (the table in `access/actions.rs`).
#[derive(Debug, Clone, Copy)]
enum Op {
    Set,
    Get,
    GetVersion,
    Update,
    Delete,
    ListVersions,
    List,
    ListDeleted,
    GetDeleted,
    Recover,
    Purge,
    Backup,
    Restore,
}

impl Op {
    const ALL: [Op; 13] = [
        Op::Set,
        Op::Get,
        Op::GetVersion,
        Op::Update,
        Op::Delete,
        Op::ListVersions,
        Op::List,
        Op::ListDeleted,
        Op::GetDeleted,
        Op::Recover,
        Op::Purge,
        Op::Backup,
        Op::Restore,
    ];

    /// The dataAction Azure requires for the operation, spelled out here rather than taken from
    /// the server, so that a renamed constant fails this test.
    fn action(self) -> String {
        let action = match self {
            Op::Set => "setSecret/action",
            Op::Get | Op::GetVersion => "getSecret/action",
            Op::Update => "update/action",
            Op::Delete => "delete",
            Op::ListVersions | Op::List | Op::ListDeleted | Op::GetDeleted => "readMetadata/action",
            Op::Recover => "recover/action",
            Op::Purge => "purge/action",
            Op::Backup => "backup/action",
            Op::Restore => "restore/action",
        };
        format!("{SECRETS}/{action}")
    }

    /// Prepares, as the administrator, what the operation acts on in the `default` vault (secret
    /// `name`, soft-deleted for the operations on deleted secrets, purged after a backup for
    /// restore) and returns the request and the status that answers it when it is allowed.
    async fn prepare(
        self,
        h: &Harness,
        name: &str,
    ) -> (&'static str, String, Option<Value>, StatusCode) {
        let (status, set) = h.put(HOST, name, "value").await;
        assert_eq!(status, StatusCode::OK);
        let live = |suffix: &str| format!("/secrets/{name}{suffix}?{V}");
        let deleted = |suffix: &str| format!("/deletedsecrets/{name}{suffix}?{V}");
        if matches!(self, Op::GetDeleted | Op::Recover | Op::Purge) {
            h.delete(HOST, name).await;
        }
        let ok = StatusCode::OK;
        match self {
            Op::Set => ("PUT", live(""), Some(json!({"value": "new"})), ok),
            Op::Get => ("GET", live(""), None, ok),
            Op::GetVersion => {
                let id = text(&set["id"]);
                let version = id.rsplit('/').next().unwrap();
                ("GET", live(&format!("/{version}")), None, ok)
            }
            Op::Update => ("PATCH", live(""), Some(json!({"contentType": "x"})), ok),
            Op::Delete => ("DELETE", live(""), None, ok),
            Op::ListVersions => ("GET", live("/versions"), None, ok),
            Op::List => ("GET", format!("/secrets?{V}"), None, ok),
            Op::ListDeleted => ("GET", format!("/deletedsecrets?{V}"), None, ok),
            Op::GetDeleted => ("GET", deleted(""), None, ok),
            Op::Recover => ("POST", deleted("/recover"), None, ok),
            Op::Purge => ("DELETE", deleted(""), None, StatusCode::NO_CONTENT),
            Op::Backup => ("POST", live("/backup"), None, ok),
            Op::Restore => {
                let (_, backup) = h.call("POST", &live("/backup"), None).await;
                h.delete(HOST, name).await;
                let (status, _) = h.call("DELETE", &deleted(""), None).await;
                assert_eq!(status, StatusCode::NO_CONTENT);
                let body = json!({ "value": backup["value"] });
                ("POST", format!("/secrets/restore?{V}"), Some(body), ok)
            }
        }
    }
}

// ---- 1. deny by default ----

#[tokio::test]
async fn a_principal_without_assignments_is_refused_with_a_precise_message() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    let app = h.app("no-roles").await;
    let caller = format!("appid={};oid={}", app.client_id, app.object_id);
    for (method, path, body, action, resource) in [
        (
            "GET",
            secret_path("a"),
            None,
            "getSecret/action",
            "/vaults/default/secrets/a",
        ),
        (
            "PUT",
            secret_path("a"),
            Some(json!({"value": "w"})),
            "setSecret/action",
            "/vaults/default/secrets/a",
        ),
        (
            "GET",
            format!("/secrets?{V}"),
            None,
            "readMetadata/action",
            "/vaults/default",
        ),
    ] {
        let reply = h.call_as(&app.token, HOST, method, &path, body).await;
        assert_rbac_denied(&reply);
        let message = reply.1["error"]["message"].as_str().unwrap();
        assert!(message.contains(&caller), "{message}");
        assert!(
            message.contains(&format!("Action: '{SECRETS}/{action}'")),
            "{message}"
        );
        assert!(
            message.contains(&format!("Resource: '{resource}'")),
            "{message}"
        );
    }
    let (_, unchanged) = h.call("GET", &secret_path("a"), None).await;
    assert_eq!(unchanged["value"], "v");
}

/// The restore body size of the memory-exhaustion attack: the largest restore body.
const RESTORE_BODY: u64 = 24 * 1024 * 1024;

/// A request from `token` (none: unauthenticated) whose body declares `declared` bytes and
/// brings only what is sent through the returned sender: a body that would hang a server
/// reading it before deciding.
fn endless(
    token: Option<&str>,
    host: &str,
    method: &str,
    path: &str,
    declared: u64,
) -> (tokio::sync::mpsc::Sender<bytes::Bytes>, Request<Body>) {
    let (tx, body) = channel_body(Some(declared));
    (tx, json_request(token, host, method, path, body))
}

/// Sends `request`; its answer must come within a second, long before any body read times out.
async fn promptly(h: &Harness, request: Request<Body>) -> Response<Body> {
    tokio::time::timeout(std::time::Duration::from_secs(1), h.send(request))
        .await
        .expect("no answer within a second: the server waited for the body")
}

/// Issue 5: restore (and set, update) bodies were read before authorization, so a principal
/// with no role could make the server buffer 24 MiB per request.
#[tokio::test]
async fn a_principal_without_a_role_is_refused_before_its_body_is_read() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    let app = h.app("no-roles").await;
    let restore = format!("/secrets/restore?{V}");
    for (method, path, declared) in [
        ("POST", restore.as_str(), RESTORE_BODY),
        ("PUT", &secret_path("a"), 200 * 1024),
        ("PATCH", &secret_path("a"), 200 * 1024),
    ] {
        let (tx, request) = endless(Some(&app.token), HOST, method, path, declared);
        let reply = split(promptly(&h, request).await).await;
        assert_rbac_denied(&reply);
        assert_eq!(
            h.state.bodies.available_bytes(),
            h.state.bodies.total_bytes(),
            "{method} {path}: the refused body holds memory"
        );
        // The answer went out first; the body is read and thrown away after it, so the client
        // that is still sending receives the answer instead of a TCP reset.
        for _ in 0..16 {
            tokio::time::timeout(
                std::time::Duration::from_secs(1),
                tx.send(bytes::Bytes::from(vec![b'x'; 64 * 1024])),
            )
            .await
            .expect("the refused body is not being discarded")
            .unwrap();
        }
    }
    let (_, unchanged) = h.call("GET", &secret_path("a"), None).await;
    assert_eq!(unchanged["value"], "v");
}

/// Likewise for the other refusals that come before a body is read: no token (401), and the
/// admin API without the administration role (403).
#[tokio::test]
async fn unauthenticated_and_admin_refusals_do_not_wait_for_the_body() {
    let h = harness().await;
    let app = h.app("no-roles").await;
    let (_tx, request) = endless(None, HOST, "PUT", &secret_path("a"), 200 * 1024);
    assert_challenged(promptly(&h, request).await).await;
    let (_tx, request) = endless(
        Some(&app.token),
        ADMIN_HOST,
        "POST",
        "/admin/vaults",
        60_000,
    );
    assert_rbac_denied(&split(promptly(&h, request).await).await);
    assert_eq!(
        h.state.bodies.available_bytes(),
        h.state.bodies.total_bytes()
    );
}

// ---- 2. each operation requires its dataAction; built-in roles ----

#[tokio::test]
async fn every_secrets_operation_requires_its_data_action() {
    let h = harness().await;
    let only = h.app("holds-only-the-action").await;
    let all_but = h.app("holds-all-but-the-action").await;
    for (i, op) in Op::ALL.into_iter().enumerate() {
        let action = op.action();
        let granting = h
            .define_role(&format!("only {op:?}"), &[&action], &[])
            .await;
        let every_other = format!("{SECRETS}/*");
        let lacking = h
            .define_role(&format!("all but {op:?}"), &[&every_other], &[&action])
            .await;
        let a = h
            .assign(&granting, &only.client_id, "/vaults/default")
            .await;
        let b = h
            .assign(&lacking, &all_but.client_id, "/vaults/default")
            .await;
        let (method, path, body, allowed) = op.prepare(&h, &format!("op-{i}")).await;
        // The refusal comes first, so the allowed call also shows that it changed nothing.
        let refused = h
            .call_as(&all_but.token, HOST, method, &path, body.clone())
            .await;
        assert_rbac_denied(&refused);
        let (status, answer) = h.call_as(&only.token, HOST, method, &path, body).await;
        assert_eq!(status, allowed, "{op:?} with only {action}: {answer}");
        h.unassign(&a).await;
        h.unassign(&b).await;
    }
}

#[tokio::test]
async fn builtin_roles_grant_what_azure_grants() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    let set = || Some(json!({"value": "w"}));

    let user = h
        .app_with("secrets-user", SECRETS_USER, "/vaults/default")
        .await;
    assert_eq!(h.read_as(&user.token, HOST, "a").await.0, StatusCode::OK);
    let reply = h
        .call_as(&user.token, HOST, "PUT", &secret_path("a"), set())
        .await;
    assert_rbac_denied(&reply);

    let reader = h
        .app_with("reader", "Key Vault Reader", "/vaults/default")
        .await;
    let list = format!("/secrets?{V}");
    assert_eq!(
        h.call_as(&reader.token, HOST, "GET", &list, None).await.0,
        StatusCode::OK
    );
    assert_rbac_denied(&h.read_as(&reader.token, HOST, "a").await);

    let certificate_user = h
        .app_with(
            "certificate-user",
            "Key Vault Certificate User",
            "/vaults/default",
        )
        .await;
    let (status, got) = h.read_as(&certificate_user.token, HOST, "a").await;
    assert_eq!((status, got["value"].as_str()), (StatusCode::OK, Some("v")));

    let officer = h
        .app_with(
            "secrets-officer",
            "Key Vault Secrets Officer",
            "/vaults/default",
        )
        .await;
    for (i, op) in Op::ALL.into_iter().enumerate() {
        let (method, path, body, allowed) = op.prepare(&h, &format!("officer-{i}")).await;
        let (status, answer) = h.call_as(&officer.token, HOST, method, &path, body).await;
        assert_eq!(status, allowed, "Secrets Officer, {op:?}: {answer}");
    }
    let admin_api = h
        .call_as(&officer.token, ADMIN_HOST, "GET", "/admin/vaults", None)
        .await;
    assert_rbac_denied(&admin_api);

    // Key Vault Administrator of one vault: all of that vault, but not the deployment.
    let vault_admin = h
        .app_with(
            "vault-administrator",
            "Key Vault Administrator",
            "/vaults/default",
        )
        .await;
    let reply = h
        .call_as(&vault_admin.token, HOST, "PUT", &secret_path("a"), set())
        .await;
    assert_eq!(reply.0, StatusCode::OK);
    let admin_api = h
        .call_as(&vault_admin.token, ADMIN_HOST, "GET", "/admin/vaults", None)
        .await;
    assert_rbac_denied(&admin_api);
    assert_rbac_denied(&h.read_as(&vault_admin.token, SHORT, "a").await);
}

// ---- 3, 4. scopes ----

#[tokio::test]
async fn an_object_scope_grants_that_secret_only() {
    let h = harness().await;
    h.put(HOST, "a", "value-a").await;
    h.put(HOST, "b", "value-b").await;
    let app = h.app("one-secret").await;
    let assignment = h
        .assignment(SECRETS_USER, &app.client_id, "/Vaults/Default/Secrets/A/")
        .await;
    assert_eq!(assignment["scope"], "/vaults/default/secrets/a");
    for name in ["a", "A"] {
        let (status, got) = h.read_as(&app.token, HOST, name).await;
        assert_eq!(
            (status, got["value"].as_str()),
            (StatusCode::OK, Some("value-a")),
            "{name}"
        );
    }
    let versions = |name: &str| format!("/secrets/{name}/versions?{V}");
    let (status, listed) = h
        .call_as(&app.token, HOST, "GET", &versions("a"), None)
        .await;
    assert_eq!(
        (status, listed["value"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    let refused = h.read_as(&app.token, HOST, "b").await;
    assert_rbac_denied(&refused);
    assert!(refused.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Resource: '/vaults/default/secrets/b'"));
    let list = format!("/secrets?{V}");
    assert_rbac_denied(&h.call_as(&app.token, HOST, "GET", &list, None).await);
    let other_versions = h
        .call_as(&app.token, HOST, "GET", &versions("b"), None)
        .await;
    assert_rbac_denied(&other_versions);
}

#[tokio::test]
async fn a_scope_covers_its_descendants_only() {
    let h = harness().await;
    // A vault whose name starts with another's: "/vaults/default" must not cover it.
    h.create_vault("default-2").await;
    let default_2 = "default-2.vault.localhost:8443";
    for host in [HOST, SHORT, default_2] {
        assert_eq!(h.put(host, "x", "v").await.0, StatusCode::OK);
    }
    let everywhere = h.app_with("everywhere", SECRETS_USER, "/").await;
    for host in [HOST, SHORT, default_2] {
        assert_eq!(
            h.read_as(&everywhere.token, host, "x").await.0,
            StatusCode::OK,
            "{host}"
        );
    }
    let short_only = h
        .app_with("short-only", SECRETS_USER, "/vaults/short")
        .await;
    assert_eq!(
        h.read_as(&short_only.token, SHORT, "x").await.0,
        StatusCode::OK
    );
    assert_rbac_denied(&h.read_as(&short_only.token, HOST, "x").await);
    let default_only = h
        .app_with("default-only", SECRETS_USER, "/vaults/default")
        .await;
    assert_eq!(
        h.read_as(&default_only.token, HOST, "x").await.0,
        StatusCode::OK
    );
    let prefixed = h.read_as(&default_only.token, default_2, "x").await;
    assert_rbac_denied(&prefixed);
}

// ---- 5. live changes ----

#[tokio::test]
async fn role_assignment_changes_govern_the_very_next_request() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    let app = h.app("live").await;
    assert_rbac_denied(&h.read_as(&app.token, HOST, "a").await);
    let id = h
        .assign(SECRETS_USER, &app.client_id, "/vaults/default")
        .await;
    assert_eq!(h.read_as(&app.token, HOST, "a").await.0, StatusCode::OK);
    h.unassign(&id).await;
    assert_rbac_denied(&h.read_as(&app.token, HOST, "a").await);
}

// ---- 6. token revocation ----

#[tokio::test]
async fn tokens_stop_working_when_their_credential_or_principal_is_removed() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    let app = h.app("revocable").await;
    let (_, second) = h.add_secret(&app.client_id).await;
    let through_second = h.token_by_secret(&app.client_id, &second).await;
    h.assign(SECRETS_USER, &app.client_id, "/vaults/default")
        .await;
    for token in [&app.token, &through_second] {
        assert_eq!(h.read_as(token, HOST, "a").await.0, StatusCode::OK);
    }
    let get_a = |token: &str| h.request_as(token, HOST, "GET", &secret_path("a"), None);

    let path = format!(
        "/admin/principals/{}/secrets/{}",
        app.client_id, app.secret_id
    );
    h.admin_ok(StatusCode::NO_CONTENT, "DELETE", &path, None)
        .await;
    assert_challenged(h.send(get_a(&app.token)).await).await;
    let reply = token_request(&h, &secret_form(&app.client_id, &app.secret)).await;
    assert_invalid_client(&reply, "a removed secret");
    assert_eq!(
        h.read_as(&through_second, HOST, "a").await.0,
        StatusCode::OK
    );

    // Signed by the issuer, but naming a credential the principal does not have.
    let foreign = h.mint(&app.client_id, &app.object_id, "s:no-such-secret", START);
    assert_challenged(h.send(get_a(&foreign)).await).await;

    let path = format!("/admin/principals/{}", app.object_id);
    h.admin_ok(StatusCode::NO_CONTENT, "DELETE", &path, None)
        .await;
    assert_challenged(h.send(get_a(&through_second)).await).await;
}

// ---- 7. network rules ----

#[tokio::test]
async fn vault_network_rules_admit_only_the_listed_addresses() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    h.put(SHORT, "a", "v").await;
    let rules_path = "/admin/vaults/default/network-rules";
    let rules = json!({"default_action": "deny", "ip_rules": ["10.0.0.0/8"]});
    let set = h
        .admin_ok(StatusCode::OK, "PUT", rules_path, Some(rules))
        .await;
    let expected = json!({"default_action": "Deny", "ip_rules": ["10.0.0.0/8"]});
    assert_eq!(set, expected);
    let get_a = |host: &str, ip: &str| from_ip(h.request(host, "GET", &secret_path("a"), None), ip);

    let refused = split(h.send(get_a(HOST, "192.0.2.1")).await).await;
    assert_forbidden(&refused, "ForbiddenByFirewall");
    let message = refused.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("Client address: 192.0.2.1"), "{message}");
    // Authentication still comes first, so the SDKs' handshake works from anywhere.
    assert_challenged(h.send(with_token(get_a(HOST, "192.0.2.1"), None)).await).await;
    for ip in ["10.1.2.3", "::ffff:10.1.2.3"] {
        let (status, got) = split(h.send(get_a(HOST, ip)).await).await;
        assert_eq!(
            (status, got["value"].as_str()),
            (StatusCode::OK, Some("v")),
            "{ip}"
        );
    }
    let other_vault = split(h.send(get_a(SHORT, "192.0.2.1")).await).await;
    assert_eq!(other_vault.0, StatusCode::OK);

    for bad in ["10.0.0.1/8", "300.0.0.0/8", "10.0.0.0/33"] {
        let rules = json!({"default_action": "Allow", "ip_rules": [bad]});
        assert_error(
            &h.admin("PUT", rules_path, Some(rules)).await,
            StatusCode::BAD_REQUEST,
            "BadParameter",
        );
    }
    assert_eq!(h.admin_get(rules_path).await, expected);
    assert_forbidden(
        &split(h.send(get_a(HOST, "192.0.2.1")).await).await,
        "ForbiddenByFirewall",
    );
}

/// The firewall names a dual-stack IPv4 caller as `::ffff:a.b.c.d`, and the admin API's 409 asks
/// to "include it in ip_rules". IPv4-mapped addresses are compared as IPv4, so a rule written that
/// way must admit that caller (it is stored as the IPv4 range it means).
#[tokio::test]
async fn a_rule_written_as_an_ipv4_mapped_address_admits_that_address() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    let mapped = "::ffff:10.1.2.3";
    let rules = json!({"default_action": "Deny", "ip_rules": [mapped]});
    let (status, body) = h
        .admin(
            "PUT",
            "/admin/vaults/default/network-rules",
            Some(rules.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for ip in [mapped, "10.1.2.3"] {
        let request = from_ip(h.request(HOST, "GET", &secret_path("a"), None), ip);
        let (status, body) = split(h.send(request).await).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "vault rule {mapped}, caller {ip}: {body}"
        );
    }
    let request = from_ip(
        h.request(ADMIN_HOST, "PUT", "/admin/network-rules", Some(rules)),
        mapped,
    );
    let (status, body) = split(h.send(request).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "admin rule {mapped}, caller {mapped}: {body}"
    );
}

#[tokio::test]
async fn admin_network_rules_refuse_to_lock_out_their_author() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    let rules = json!({"default_action": "Deny", "ip_rules": ["10.0.0.0/8"]});
    let admin_from = |method: &str, path: &str, body: Option<Value>, ip: &str| {
        from_ip(h.request(ADMIN_HOST, method, path, body), ip)
    };
    let put_rules = |ip: &str| admin_from("PUT", "/admin/network-rules", Some(rules.clone()), ip);

    assert_error(
        &split(h.send(put_rules("192.0.2.1")).await).await,
        StatusCode::CONFLICT,
        "Conflict",
    );
    let unchanged = h.admin_get("/admin/network-rules").await;
    assert_eq!(
        unchanged,
        json!({"default_action": "Allow", "ip_rules": []})
    );

    let (status, body) = split(h.send(put_rules("10.1.2.3")).await).await;
    assert_eq!((status, body), (StatusCode::OK, rules.clone()));
    let refused = split(
        h.send(admin_from("GET", "/admin/vaults", None, "192.0.2.1"))
            .await,
    )
    .await;
    assert_forbidden(&refused, "ForbiddenByFirewall");
    let admitted = split(
        h.send(admin_from("GET", "/admin/vaults", None, "10.1.2.3"))
            .await,
    )
    .await;
    assert_eq!(admitted.0, StatusCode::OK);
    // The vaults keep their own rules.
    let data = from_ip(h.request(HOST, "GET", &secret_path("a"), None), "192.0.2.1");
    assert_eq!(h.send(data).await.status(), StatusCode::OK);
}

// ---- 8. the admin API ----

#[tokio::test]
async fn principals_are_created_listed_shown_and_deleted() {
    let h = harness().await;
    let p = h.create_principal("ci-pipeline", "service_principal").await;
    let client_id = text(&p["client_id"]);
    let object_id = text(&p["object_id"]);
    assert_eq!(client_id.len(), 36);
    assert_ne!(client_id, object_id);
    let expected = json!({
        "client_id": client_id, "object_id": object_id, "display_name": "ci-pipeline",
        "kind": "service_principal", "created": START, "secrets": [], "certificates": [],
    });
    assert_eq!(p, expected);
    let defaulted = h
        .admin_ok(
            StatusCode::CREATED,
            "POST",
            "/admin/principals",
            Some(json!({"display_name": "Alpha"})),
        )
        .await;
    assert_eq!(defaulted["kind"], "service_principal");
    let mi = h.create_principal("beta", "managed_identity").await;
    assert_eq!(mi["kind"], "managed_identity");

    let list = h.admin_get("/admin/principals").await;
    let names: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alpha", "beta", "ci-pipeline", "test"]);
    for id in [&client_id, &object_id] {
        let shown = h.admin_get(&format!("/admin/principals/{id}")).await;
        assert_eq!(shown, p);
    }
    for bad in [
        json!({"display_name": ""}),
        json!({"display_name": "x", "kind": "robot"}),
        json!({"display_name": "x", "extra": 1}),
    ] {
        let (status, _) = h
            .admin("POST", "/admin/principals", Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let path = format!("/admin/principals/{object_id}");
    h.admin_ok(StatusCode::NO_CONTENT, "DELETE", &path, None)
        .await;
    for method in ["GET", "DELETE"] {
        assert_error(
            &h.admin(method, &format!("/admin/principals/{client_id}"), None)
                .await,
            StatusCode::NOT_FOUND,
            "PrincipalNotFound",
        );
    }
}

#[tokio::test]
async fn a_client_secret_is_shown_only_when_it_is_added() {
    let h = harness().await;
    let p = h.create_principal("app", "service_principal").await;
    let client_id = text(&p["client_id"]);
    let secrets = format!("/admin/principals/{client_id}/secrets");
    let body = json!({"expires_in_days": 30, "description": "ci"});
    let added = h
        .admin_ok(StatusCode::CREATED, "POST", &secrets, Some(body))
        .await;
    let secret = text(&added["secret"]);
    assert!(secret.len() >= 32, "{secret}");
    assert_eq!(added["hint"], secret[..3]);
    assert_eq!(added["expires"], START + 30 * 86_400);
    assert_eq!(added["description"], "ci");

    let shown = h.admin_get(&format!("/admin/principals/{client_id}")).await;
    assert_eq!(
        shown["secrets"],
        json!([{"id": added["id"], "description": "ci", "hint": added["hint"], "created": START, "expires": added["expires"]}])
    );
    let listed = h.admin_get("/admin/principals").await;
    for answer in [&shown, &listed] {
        assert!(!answer.to_string().contains(&secret));
    }
    for days in [0, 3651] {
        let (status, _) = h
            .admin("POST", &secrets, Some(json!({"expires_in_days": days})))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{days}");
    }
    let one = format!("{secrets}/{}", text(&added["id"]));
    h.admin_ok(StatusCode::NO_CONTENT, "DELETE", &one, None)
        .await;
    assert_error(
        &h.admin("DELETE", &one, None).await,
        StatusCode::NOT_FOUND,
        "SecretNotFound",
    );
}

#[tokio::test]
async fn a_certificate_is_registered_once() {
    let h = harness().await;
    let p = h.create_principal("cert-app", "service_principal").await;
    let certificates = format!("/admin/principals/{}/certificates", text(&p["client_id"]));
    let body = json!({"certificate": RSA_CERT_PEM});
    let added = h
        .admin_ok(
            StatusCode::CREATED,
            "POST",
            &certificates,
            Some(body.clone()),
        )
        .await;
    let (sha1, sha256) = certificate_thumbprints();
    assert_eq!(added["id"], upper_hex(&sha1));
    assert_eq!(added["id"], "508D6F46EE576F1BAA36AAE93F3C5B8E99E69FED");
    assert_eq!(added["thumbprint_sha256"], upper_hex(&sha256));
    assert!(
        text(&added["subject"]).contains("CN=arca-test-app"),
        "{added}"
    );
    assert_eq!(
        (&added["not_before"], &added["not_after"], &added["added"]),
        (&json!(1_795_315_687), &json!(1_858_387_687), &json!(START))
    );
    let (status, _) = h.admin("POST", &certificates, Some(body)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let shown = h
        .admin_ok(
            StatusCode::OK,
            "GET",
            &format!("/admin/principals/{}", text(&p["object_id"])),
            None,
        )
        .await;
    assert_eq!(shown["certificates"], json!([added]));
    for bad in ["not a certificate", RSA1024_CERT_PEM] {
        let (status, _) = h
            .admin("POST", &certificates, Some(json!({"certificate": bad})))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let one = format!("{certificates}/{}", upper_hex(&sha1).to_lowercase());
    h.admin_ok(StatusCode::NO_CONTENT, "DELETE", &one, None)
        .await;
    let (status, _) = h.admin("DELETE", &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn roles_are_the_azure_builtins_plus_checked_custom_roles() {
    let h = harness().await;
    let roles = h.admin_get("/admin/roles").await;
    let listed: Vec<String> = roles["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                text(&r["id"]),
                text(&r["type"]),
                text(&r["name"])
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            "00482a5a-887f-4fb3-b363-3b7fe8e74483 BuiltInRole Key Vault Administrator",
            "21090545-7ca7-4776-b22c-e363652d74d2 BuiltInRole Key Vault Reader",
            "b86a8fe4-44ce-4948-aee5-eccb2c155cd7 BuiltInRole Key Vault Secrets Officer",
            "4633458b-17de-408a-b874-0445c86b69e6 BuiltInRole Key Vault Secrets User",
            "14b46e9e-c2b7-41b4-b07b-48a6ebf60603 BuiltInRole Key Vault Crypto Officer",
            "12338af0-0e69-4776-bea7-57ae8d297424 BuiltInRole Key Vault Crypto User",
            "e147488a-f6f5-4113-8e2d-b22465e65bf6 BuiltInRole Key Vault Crypto Service Encryption User",
            "08bbd89e-9f13-488c-ac41-acfcb10c90ab BuiltInRole Key Vault Crypto Service Release User",
            "a4417e6f-fecd-4de8-b567-7b0420556985 BuiltInRole Key Vault Certificates Officer",
            "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba BuiltInRole Key Vault Certificate User",
        ]
    );

    let rotator = json!({
        "name": "Secret Rotator", "description": "Sets secrets.",
        "data_actions": [format!("{SECRETS}/setSecret/action")],
        "not_data_actions": [format!("{SECRETS}/purge/action")],
    });
    let defined = h
        .admin_ok(StatusCode::CREATED, "POST", "/admin/roles", Some(rotator))
        .await;
    assert_eq!(
        (&defined["type"], &defined["name"]),
        (&json!("CustomRole"), &json!("Secret Rotator"))
    );
    let roles = h.admin_get("/admin/roles").await;
    assert_eq!(roles["value"][10], defined);
    for id_or_name in [text(&defined["id"]), "secret%20ROTATOR".to_owned()] {
        let shown = h.admin_get(&format!("/admin/roles/{id_or_name}")).await;
        assert_eq!(shown, defined);
    }

    let actions = |data: Value| json!({"name": "Bad", "data_actions": data});
    for bad in [
        actions(json!(["Microsoft.Storage/storageAccounts/read"])),
        actions(json!([format!("{SECRETS}/get secret")])),
        actions(json!([])),
        json!({"name": "Bad", "data_actions": [format!("{SECRETS}/*")], "not_data_actions": ["delete"]}),
    ] {
        assert_error(
            &h.admin("POST", "/admin/roles", Some(bad.clone())).await,
            StatusCode::BAD_REQUEST,
            "BadParameter",
        );
    }
    for taken in ["SECRET ROTATOR", "key vault reader"] {
        let body = json!({"name": taken, "data_actions": [format!("{SECRETS}/*")]});
        let (status, _) = h.admin("POST", "/admin/roles", Some(body)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{taken}");
    }
}

#[tokio::test]
async fn assigned_and_builtin_roles_cannot_be_deleted() {
    let h = harness().await;
    let role = h
        .define_role("Temporary", &[&format!("{SECRETS}/*")], &[])
        .await;
    let app = h.app("holder").await;
    let assignment = h
        .assign("temporary", &app.client_id, "/vaults/default")
        .await;
    let path = format!("/admin/roles/{role}");
    let (status, body) = h.admin("DELETE", &path, None).await;
    assert_eq!(
        (status, code(&body)),
        (
            StatusCode::CONFLICT,
            ("Conflict", Some("RoleDefinitionHasAssignments"))
        )
    );
    h.unassign(&assignment).await;
    h.admin_ok(StatusCode::NO_CONTENT, "DELETE", &path, None)
        .await;
    assert_error(
        &h.admin("GET", &path, None).await,
        StatusCode::NOT_FOUND,
        "RoleNotFound",
    );
    for builtin in [
        "Key%20Vault%20Reader",
        "4633458b-17de-408a-b874-0445c86b69e6",
    ] {
        let (status, _) = h
            .admin("DELETE", &format!("/admin/roles/{builtin}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{builtin}");
    }
}

#[tokio::test]
async fn role_assignments_are_checked() {
    let h = harness().await;
    let app = h.app("assignee").await;
    let assign = |role: &str, principal: &str, scope: &str| {
        let body = json!({"role": role, "principal": principal, "scope": scope});
        h.admin("POST", "/admin/role-assignments", Some(body))
    };

    assert_error(
        &assign(SECRETS_USER, &app.client_id, "/vaults/nowhere").await,
        StatusCode::NOT_FOUND,
        "VaultNotFound",
    );
    for scope in [
        "",
        "vaults/default",
        "/subscriptions/x",
        "/vaults/default/blobs/x",
        "/vaults/default/secrets/bad_name",
    ] {
        assert_error(
            &assign(SECRETS_USER, &app.client_id, scope).await,
            StatusCode::BAD_REQUEST,
            "BadParameter",
        );
    }
    assert_error(
        &assign("Key Vault Janitor", &app.client_id, "/").await,
        StatusCode::NOT_FOUND,
        "RoleNotFound",
    );
    assert_error(
        &assign(SECRETS_USER, "no-such-principal", "/").await,
        StatusCode::NOT_FOUND,
        "PrincipalNotFound",
    );

    let (status, made) = assign(SECRETS_USER, &app.client_id, "/vaults/default").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        made,
        json!({
            "id": made["id"], "role_id": "4633458b-17de-408a-b874-0445c86b69e6", "role_name": SECRETS_USER,
            "principal_client_id": app.client_id, "principal_object_id": app.object_id,
            "scope": "/vaults/default", "created": START,
        })
    );
    // The same triple, spelled differently.
    let (status, body) = assign(
        "4633458b-17de-408a-b874-0445c86b69e6",
        &app.object_id,
        "/Vaults/DEFAULT/",
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (
            StatusCode::CONFLICT,
            ("Conflict", Some("RoleAssignmentExists"))
        )
    );
    // An object that does not exist yet can be a scope.
    let (status, _) = assign(
        SECRETS_USER,
        &app.client_id,
        "/vaults/default/secrets/later",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let mine = format!("/admin/role-assignments?principal={}", app.client_id);
    let listed = h.admin_get(&mine).await;
    assert_eq!(listed["value"].as_array().unwrap().len(), 2);
    let at_vault = h
        .admin_get("/admin/role-assignments?scope=/vaults/default")
        .await;
    assert_eq!(at_vault["value"], json!([made]));
    let (status, _) = h
        .admin("DELETE", "/admin/role-assignments/no-such-id", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_last_root_administrator_cannot_be_removed() {
    let h = harness().await;
    let refused_as_last_admin = |reply: (StatusCode, Value)| {
        assert_eq!(reply.0, StatusCode::CONFLICT, "{}", reply.1);
    };
    refused_as_last_admin(
        h.admin("DELETE", "/admin/role-assignments/admin", None)
            .await,
    );
    refused_as_last_admin(h.admin("DELETE", "/admin/principals/client", None).await);
    // An administrator of one vault does not count.
    let other = h
        .app_with(
            "second-administrator",
            "Key Vault Administrator",
            "/vaults/default",
        )
        .await;
    refused_as_last_admin(
        h.admin("DELETE", "/admin/role-assignments/admin", None)
            .await,
    );
    assert_eq!(
        h.admin("GET", "/admin/vaults", None).await.0,
        StatusCode::OK
    );

    let root = h
        .assign("Key Vault Administrator", &other.client_id, "/")
        .await;
    h.unassign("admin").await;
    let demoted = h.admin("GET", "/admin/vaults", None).await;
    assert_rbac_denied(&demoted);

    let path = format!("/admin/role-assignments/{root}");
    refused_as_last_admin(
        h.call_as(&other.token, ADMIN_HOST, "DELETE", &path, None)
            .await,
    );
    let path = format!("/admin/principals/{}", other.client_id);
    refused_as_last_admin(
        h.call_as(&other.token, ADMIN_HOST, "DELETE", &path, None)
            .await,
    );
    let vaults = h
        .call_as(&other.token, ADMIN_HOST, "GET", "/admin/vaults", None)
        .await;
    assert_eq!(vaults.0, StatusCode::OK);
}

#[tokio::test]
async fn check_access_answers_as_the_data_plane_decides() {
    let h = harness().await;
    h.put(HOST, "x", "v").await;
    let app = h.app("checked").await;
    let granted = h
        .assign(SECRETS_USER, &app.client_id, "/vaults/default")
        .await;
    let check = |principal: &str, action: String, scope: &str| {
        let body = json!({"principal": principal, "action": action, "scope": scope});
        h.admin("POST", "/admin/check-access", Some(body))
    };
    let verdict = |answer: &Value| {
        let field = |name: &str| answer[name].clone();
        (
            field("allowed"),
            field("role_assignment_id"),
            field("role_name"),
        )
    };
    let get = format!("{SECRETS}/getSecret/action");
    let set = format!("{SECRETS}/setSecret/action");

    let (status, allowed) = check(&app.client_id, get.clone(), "/vaults/default/secrets/x").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        verdict(&allowed),
        (json!(true), json!(granted), json!(SECRETS_USER))
    );
    assert_eq!(h.read_as(&app.token, HOST, "x").await.0, StatusCode::OK);
    for (action, scope) in [
        (set, "/vaults/default/secrets/x"),
        (get, "/vaults/short/secrets/x"),
    ] {
        let (_, denied) = check(&app.object_id, action.clone(), scope).await;
        assert_eq!(
            verdict(&denied),
            (json!(false), Value::Null, Value::Null),
            "{action} at {scope}"
        );
        assert!(denied["reason"].is_string());
    }
    let refused = h
        .call_as(
            &app.token,
            HOST,
            "PUT",
            &secret_path("x"),
            Some(json!({"value": "w"})),
        )
        .await;
    assert_rbac_denied(&refused);

    let (_, administrator) = check("object", ADMIN_ACTION.to_owned(), "/").await;
    let expected = (
        json!(true),
        json!("admin"),
        json!("Key Vault Administrator"),
    );
    assert_eq!(verdict(&administrator), expected);
    let (status, _) = check(&app.client_id, ADMIN_ACTION.to_owned(), "/nowhere").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = check("nobody", ADMIN_ACTION.to_owned(), "/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_a_vault_removes_its_assignments_and_network_rules() {
    let h = harness().await;
    h.create_vault("short-2").await;
    let app = h.app("short-lived").await;
    for scope in ["/vaults/short", "/vaults/short/secrets/x"] {
        h.assign(SECRETS_USER, &app.client_id, scope).await;
    }
    let kept = [
        h.assign(SECRETS_USER, &app.client_id, "/vaults/default")
            .await,
        h.assign(SECRETS_USER, &app.client_id, "/vaults/short-2")
            .await,
    ];
    let rules = json!({"default_action": "Deny", "ip_rules": []});
    h.admin_ok(
        StatusCode::OK,
        "PUT",
        "/admin/vaults/short/network-rules",
        Some(rules),
    )
    .await;

    h.admin_ok(
        StatusCode::NO_CONTENT,
        "DELETE",
        "/admin/vaults/short",
        None,
    )
    .await;
    let mine = format!("/admin/role-assignments?principal={}", app.client_id);
    let listed = h.admin_get(&mine).await;
    let mut ids: Vec<String> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| text(&a["id"]))
        .collect();
    ids.sort();
    let mut expected = kept.to_vec();
    expected.sort();
    assert_eq!(ids, expected);

    // A new vault of the same name starts with no grants and no rules.
    h.create_vault("short").await;
    let rules = h.admin_get("/admin/vaults/short/network-rules").await;
    assert_eq!(rules, json!({"default_action": "Allow", "ip_rules": []}));
    h.put(SHORT, "x", "v").await;
    assert_rbac_denied(&h.read_as(&app.token, SHORT, "x").await);
}

// ---- 9. the token endpoint ----

#[tokio::test]
async fn client_assertions_signed_with_a_registered_certificate_get_tokens() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    let p = h.create_principal("cert-app", "service_principal").await;
    let client_id = text(&p["client_id"]);
    let certificates = format!("/admin/principals/{client_id}/certificates");
    h.admin_ok(
        StatusCode::CREATED,
        "POST",
        &certificates,
        Some(json!({"certificate": RSA_CERT_PEM})),
    )
    .await;
    h.assign(SECRETS_USER, &client_id, "/vaults/default").await;
    let (sha1, sha256) = certificate_thumbprints();
    let rs256 = json!({"alg": "RS256", "typ": "JWT", "x5t": b64url(&sha1)});
    let ps256 = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": b64url(&sha256)});
    let claims = assertion_claims(&client_id, TOKEN_ENDPOINT, START);

    let mut tokens = Vec::new();
    for header in [&rs256, &ps256] {
        let (status, body) = exchange(&h, &client_id, &rsa_signed(header, &claims)).await;
        assert_eq!(status, StatusCode::OK, "{header}: {body}");
        let token = text(&body["access_token"]);
        let (status, got) = h.read_as(&token, HOST, "a").await;
        assert_eq!((status, got["value"].as_str()), (StatusCode::OK, Some("v")));
        tokens.push(token);
    }

    let elsewhere = json!("https://login.microsoftonline.com/tenant/oauth2/v2.0/token");
    let cases = [
        (
            "wrong audience",
            rsa_signed(&rs256, &with(&claims, "aud", elsewhere)),
        ),
        (
            "no certificate named",
            rsa_signed(&json!({"alg": "RS256"}), &claims),
        ),
        (
            "alg none",
            unsigned(&json!({"alg": "none", "x5t": b64url(&sha1)}), &claims),
        ),
    ];
    for (case, assertion) in cases {
        assert_invalid_client(&exchange(&h, &client_id, &assertion).await, case);
    }
    let stranger = h
        .create_principal("no-certificate", "service_principal")
        .await;
    let stranger_id = text(&stranger["client_id"]);
    let assertion = rsa_signed(
        &rs256,
        &assertion_claims(&stranger_id, TOKEN_ENDPOINT, START),
    );
    let reply = exchange(&h, &stranger_id, &assertion).await;
    assert_invalid_client(&reply, "unregistered certificate");

    // Expired: the same assertion once the clock has passed its exp and the tolerated skew.
    h.clock.set(START + 600 + 61);
    let reply = exchange(&h, &client_id, &rsa_signed(&rs256, &claims)).await;
    assert_invalid_client(&reply, "expired");
    h.clock.set(START);

    // Removing the certificate stops the tokens issued through it.
    let path = format!("{certificates}/{}", upper_hex(&sha1));
    h.admin_ok(StatusCode::NO_CONTENT, "DELETE", &path, None)
        .await;
    let get_a = h.request_as(&tokens[0], HOST, "GET", &secret_path("a"), None);
    assert_challenged(h.send(get_a).await).await;
}

const FEDERATED_ISSUER: &str = "https://issuer.example";
const FEDERATED_SUBJECT: &str = "system:serviceaccount:ns:app";
const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

#[tokio::test]
async fn federated_tokens_are_exchanged_only_when_everything_matches() {
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    let p = h.create_principal("workload", "service_principal").await;
    let client_id = text(&p["client_id"]);
    h.assign(SECRETS_USER, &client_id, "/vaults/default").await;
    let rsa = rsa_key();
    let components = RsaPublicKeyComponents::<Vec<u8>>::from(rsa.public_key());
    let ec = p256_key(&pem_der(P256_KEY_PEM));
    let point = ec.public_key().as_ref();
    let (x, y) = point[1..].split_at(32);
    let jwks = json!({"keys": [
        {"kty": "RSA", "kid": "sa-rsa", "use": "sig", "alg": "RS256", "n": b64url(&components.n), "e": b64url(&components.e)},
        {"kty": "EC", "kid": "sa-ec", "crv": "P-256", "x": b64url(x), "y": b64url(y)},
    ]});
    let body = json!({"principal": client_id, "issuer": FEDERATED_ISSUER, "subject": FEDERATED_SUBJECT, "jwks": jwks});
    let federation = h
        .admin_ok(
            StatusCode::CREATED,
            "POST",
            "/admin/federated-credentials",
            Some(body),
        )
        .await;
    assert_eq!(
        (&federation["audiences"], &federation["jwks_keys"]),
        (&json!([EXCHANGE_AUDIENCE]), &json!(2))
    );

    // A service-account token for the trusted subject and audience, valid for an hour.
    let claims = json!({
        "iss": FEDERATED_ISSUER, "sub": FEDERATED_SUBJECT, "aud": [EXCHANGE_AUDIENCE],
        "iat": START, "nbf": START, "exp": START + 3600,
    });
    let rs256 = json!({"alg": "RS256", "typ": "JWT", "kid": "sa-rsa"});
    let (status, body) = exchange(&h, &client_id, &rsa_signed(&rs256, &claims)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = text(&body["access_token"]);
    assert_eq!(h.read_as(&token, HOST, "a").await.0, StatusCode::OK);

    let changed = |name: &str, value: Value| rsa_signed(&rs256, &with(&claims, name, value));
    let hs256 = json!({"alg": "HS256", "kid": "sa-rsa"});
    let cases = [
        (
            "wrong subject",
            changed("sub", json!("system:serviceaccount:ns:other")),
        ),
        ("wrong audience", changed("aud", json!(["api://Other"]))),
        (
            "untrusted issuer",
            changed("iss", json!("https://elsewhere.example")),
        ),
        // Just past the tolerated clock skew of 60 seconds, either way.
        ("expired", changed("exp", json!(START - 61))),
        ("nbf in the future", changed("nbf", json!(START + 61))),
        (
            "another key",
            es256_signed(
                &stranger_key(),
                &json!({"alg": "ES256", "kid": "sa-ec"}),
                &claims,
            ),
        ),
        (
            "alg none",
            unsigned(&json!({"alg": "none", "kid": "sa-rsa"}), &claims),
        ),
        (
            "HS256 keyed with the public key",
            hs256_signed(rsa.public_key().as_ref(), &hs256, &claims),
        ),
        (
            "HS256 keyed with the JWK set",
            hs256_signed(jwks.to_string().as_bytes(), &hs256, &claims),
        ),
    ];
    for (case, assertion) in cases {
        assert_invalid_client(&exchange(&h, &client_id, &assertion).await, case);
    }

    // Removing the federated credential stops the tokens issued through it.
    let path = format!("/admin/federated-credentials/{}", text(&federation["id"]));
    h.admin_ok(StatusCode::NO_CONTENT, "DELETE", &path, None)
        .await;
    assert_challenged(
        h.send(h.request_as(&token, HOST, "GET", &secret_path("a"), None))
            .await,
    )
    .await;
}

/// The refusal a wrong client secret gets: `true` if it was checked, `false` if the client id
/// was locked.
async fn checked_and_refused(guess: tokio::task::JoinHandle<Response<Body>>) -> bool {
    let reply = split(guess.await.unwrap()).await;
    assert_invalid_client(&reply, "wrong secret");
    !text(&reply.1["error_description"]).contains("locked")
}

#[tokio::test]
async fn wrong_secrets_lock_one_client_id_for_a_minute() {
    let h = harness().await;
    let guessed = h.app("guessed").await;
    let bystander = h.app("bystander").await;
    // Ten wrong guesses at once: each failure after the third is answered after a real delay
    // (up to one second); sent together, the delays overlap.
    let started = std::time::Instant::now();
    for guess in h.guess(&guessed.client_id, 10) {
        assert!(checked_and_refused(guess).await);
    }
    let slowed = started.elapsed();
    assert!(
        slowed >= std::time::Duration::from_millis(900),
        "{slowed:?}"
    );

    let right = || token_form(&secret_form(&guessed.client_id, &guessed.secret));
    let response = h.send(right()).await;
    let retry_after = response.headers()["retry-after"].to_str().unwrap();
    assert!(
        (1..=60).contains(&retry_after.parse::<i64>().unwrap()),
        "{retry_after}"
    );
    let reply = split(response).await;
    assert_invalid_client(&reply, "locked");
    assert!(
        text(&reply.1["error_description"]).contains("locked"),
        "{}",
        reply.1
    );

    h.token_by_secret(&bystander.client_id, &bystander.secret)
        .await;
    h.clock.advance(61);
    h.token_by_secret(&guessed.client_id, &guessed.secret).await;
}

/// After nine failures only one more guess may be checked, however the guesses are sent: each
/// attempt is counted before its secret is checked.
#[tokio::test]
async fn guesses_sent_together_are_checked_only_until_the_lock() {
    let h = harness().await;
    let guessed = h.app("guessed-in-parallel").await;
    h.failed_before(&guessed.client_id, 9);
    let mut checked = 0;
    for guess in h.guess(&guessed.client_id, 3) {
        checked += usize::from(checked_and_refused(guess).await);
    }
    assert!(
        checked <= 1,
        "{checked} of 3 guesses sent together after 9 failures were checked"
    );
}

/// The delay that slows a guesser down must not slow down anyone else: it is slept after the
/// hash slot is released, so delayed guesses (for any client id, even an unknown one) cannot
/// stall the client-secret sign-ins of the deployment.
#[tokio::test]
async fn delayed_wrong_secrets_do_not_hold_up_other_clients() {
    let h = harness().await;
    let guessed = h.app("guessed").await;
    let bystander = h.app("bystander").await;
    // With eight failures on record, the next two guesses are each answered after one second,
    // and the second of them locks the client id: once it is locked, both are in their delay.
    h.failed_before(&guessed.client_id, 8);
    let guesses = h.guess(&guessed.client_id, 2);
    for _ in 0..500 {
        if h.state.lockout.is_locked(&guessed.client_id, None, START) {
            break;
        }
        // real time: the guesses run Argon2id on the blocking pool, which takes real CPU time.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(h.state.lockout.is_locked(&guessed.client_id, None, START));
    h.token_by_secret(&bystander.client_id, &bystander.secret)
        .await;
    let waited = guesses.iter().filter(|g| g.is_finished()).count();
    assert_eq!(
        waited, 0,
        "the bystander's sign-in waited for the guesser's delay"
    );
    for guess in guesses {
        assert!(checked_and_refused(guess).await);
    }
}

/// The attack: ten wrong guesses sent at once, with no credentials, locked any client id (the
/// administrator's included) for everyone. Now the lock holds for the guesser's address only
/// (IPv6: its /64; IPv4-mapped IPv6 as IPv4), and the right secret from elsewhere still works.
#[tokio::test]
async fn wrong_guesses_lock_out_only_the_address_they_came_from() {
    let h = harness().await;
    let guess_from = |client_id: &str, ip: &str, n: usize| -> Vec<_> {
        (0..n)
            .map(|i| {
                let form = secret_form(client_id, &format!("wrong-{i}"));
                h.spawn(from_ip(token_form(&form), ip))
            })
            .collect()
    };
    let right_from = |ip: &str| from_ip(token_form(&secret_form("client", CLIENT_SECRET)), ip);
    let locked = |reply: &(StatusCode, Value)| {
        reply.0 == StatusCode::UNAUTHORIZED
            && text(&reply.1["error_description"]).contains("locked")
    };

    // The administrator, guessed at from one IPv4 address (as IPv4 and as IPv4-mapped IPv6).
    let mut guesses = guess_from("client", "203.0.113.9", 5);
    guesses.extend(guess_from("client", "::ffff:203.0.113.9", 5));
    for guess in guesses {
        assert!(checked_and_refused(guess).await);
    }
    let reply = split(h.send(right_from("203.0.113.9")).await).await;
    assert!(locked(&reply), "{}", reply.1);
    let reply = split(h.send(right_from("198.51.100.1")).await).await;
    assert_eq!(reply.0, StatusCode::OK, "another address: {}", reply.1);

    // IPv6: the whole /64 is one source.
    for guess in guess_from("client", "2001:db8:1:2::a", 10) {
        assert!(checked_and_refused(guess).await);
    }
    let reply = split(h.send(right_from("2001:db8:1:2:ffff::1")).await).await;
    assert!(locked(&reply), "same /64: {}", reply.1);
    let reply = split(h.send(right_from("2001:db8:1:3::1")).await).await;
    assert_eq!(reply.0, StatusCode::OK, "another /64: {}", reply.1);
    // A success from one address leaves the lock of another in place.
    let reply = split(h.send(right_from("203.0.113.9")).await).await;
    assert!(locked(&reply), "{}", reply.1);
}

/// The attack: spraying 10,400 random client ids emptied the failure table and reset the
/// counts of real principals. Unknown client ids are evicted first now.
#[tokio::test]
async fn spraying_random_client_ids_keeps_real_principals_counts() {
    let h = harness().await;
    let guessed = h.app("guessed").await;
    let source: Option<IpAddr> = Some("203.0.113.9".parse().unwrap());
    let known_ids: Vec<String> = h
        .state
        .access
        .snapshot()
        .principals
        .values()
        .map(|p| p.client_id.clone())
        .collect();
    let known_set = || known_ids.iter().map(String::as_str).collect();
    for _ in 0..9 {
        let _ = h
            .state
            .lockout
            .attempt(&guessed.client_id, source, START, known_set);
    }
    // The spray, as the token endpoint records it (without paying 10,400 slow hashes).
    for i in 0..10_400 {
        let sprayer: Option<IpAddr> =
            Some(format!("198.51.{}.{}", i / 250, i % 250).parse().unwrap());
        let _ = h
            .state
            .lockout
            .attempt(&format!("random-{i}"), sprayer, START, known_set);
    }
    assert!(h.state.lockout.len() <= arca_server::identity::lockout::MAX_ENTRIES);
    // The tenth wrong guess from the same address still locks.
    let guess = h.spawn(from_ip(
        token_form(&secret_form(&guessed.client_id, "wrong")),
        "203.0.113.9",
    ));
    assert!(checked_and_refused(guess).await);
    assert!(
        h.state.lockout.is_locked(&guessed.client_id, source, START),
        "the spray reset the count of a real principal"
    );
}

/// The attack: an unknown client id was answered in 2 ms, a known one in 42 ms (one Argon2id
/// verification). Now both pay exactly one verification (against a dummy hash when there is no
/// secret to check), and get the same answer.
#[tokio::test]
async fn unknown_and_known_client_ids_cost_one_verification_and_read_the_same() {
    let h = harness().await;
    let no_secret = h.create_principal("no-secret", "service_principal").await;
    let verifications = || {
        h.state
            .issuer
            .secret_verifications
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let mut answers = Vec::new();
    for (case, client_id) in [
        ("known", "client".to_owned()),
        ("unknown", "11111111-2222-4333-8444-555555555555".to_owned()),
        ("without secrets", text(&no_secret["client_id"])),
    ] {
        let before = verifications();
        let reply = token_request(&h, &secret_form(&client_id, "wrong-secret")).await;
        assert_invalid_client(&reply, case);
        assert_eq!(
            verifications() - before,
            1,
            "{case}: slow verifications run"
        );
        answers.push(reply.1);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    // The dummy hash never lets a secret in, not even an empty one.
    let reply = token_request(&h, &secret_form("unknown-client", "")).await;
    assert_invalid_client(&reply, "empty secret");
}

/// The attack: the assertion path told unknown client ids, clients without that certificate
/// and clients without that federated issuer apart by their error messages. Every refusal that
/// does not follow a verified signature now reads the same.
#[tokio::test]
async fn assertion_refusals_do_not_tell_which_client_ids_exist() {
    let h = harness().await;
    let with_cert = h.create_principal("with-cert", "service_principal").await;
    let with_cert = text(&with_cert["client_id"]);
    h.admin_ok(
        StatusCode::CREATED,
        "POST",
        &format!("/admin/principals/{with_cert}/certificates"),
        Some(json!({"certificate": RSA_CERT_PEM})),
    )
    .await;
    let without = text(&h.create_principal("no-cert", "service_principal").await["client_id"]);
    let federated = text(&h.create_principal("workload", "service_principal").await["client_id"]);
    let rsa = rsa_key();
    let components = RsaPublicKeyComponents::<Vec<u8>>::from(rsa.public_key());
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "k", "n": b64url(&components.n), "e": b64url(&components.e)}]});
    h.admin_ok(
        StatusCode::CREATED,
        "POST",
        "/admin/federated-credentials",
        Some(json!({"principal": federated, "issuer": FEDERATED_ISSUER, "subject": FEDERATED_SUBJECT, "jwks": jwks})),
    )
    .await;
    let unknown = "11111111-2222-4333-8444-555555555555".to_owned();
    let (sha1, _) = certificate_thumbprints();
    let x5t = json!({"alg": "RS256", "x5t": b64url(&sha1)});
    let self_signed =
        |client_id: &str| rsa_signed(&x5t, &assertion_claims(client_id, TOKEN_ENDPOINT, START));
    let by_stranger = |client_id: &str| {
        es256_signed(
            &stranger_key(),
            &json!({"alg": "ES256", "x5t": b64url(&sha1)}),
            &assertion_claims(client_id, TOKEN_ENDPOINT, START),
        )
    };
    let federated_claims = |sub: &str, iss: &str| json!({"iss": iss, "sub": sub, "aud": [EXCHANGE_AUDIENCE], "iat": START, "nbf": START, "exp": START + 3600});
    let kid = json!({"alg": "RS256", "kid": "k"});
    let cases = [
        (
            "unknown client, self-signed",
            unknown.clone(),
            self_signed(&unknown),
        ),
        (
            "client without certificates",
            without.clone(),
            self_signed(&without),
        ),
        (
            "certificate not verifying",
            with_cert.clone(),
            by_stranger(&with_cert),
        ),
        (
            "unknown client, federated",
            unknown.clone(),
            rsa_signed(&kid, &federated_claims(FEDERATED_SUBJECT, FEDERATED_ISSUER)),
        ),
        (
            "untrusted issuer",
            federated.clone(),
            rsa_signed(
                &kid,
                &federated_claims(FEDERATED_SUBJECT, "https://elsewhere.example"),
            ),
        ),
        (
            "trusted issuer, other subject",
            federated.clone(),
            rsa_signed(
                &kid,
                &federated_claims("system:serviceaccount:ns:other", FEDERATED_ISSUER),
            ),
        ),
        (
            "trusted issuer, signature not verifying",
            federated.clone(),
            es256_signed(
                &stranger_key(),
                &json!({"alg": "ES256", "kid": "k"}),
                &federated_claims(FEDERATED_SUBJECT, FEDERATED_ISSUER),
            ),
        ),
    ];
    let mut descriptions = Vec::new();
    for (case, client_id, assertion) in cases {
        let reply = exchange(&h, &client_id, &assertion).await;
        assert_invalid_client(&reply, case);
        descriptions.push((case, text(&reply.1["error_description"])));
    }
    let first = descriptions[0].1.clone();
    for (case, description) in &descriptions {
        assert_eq!(description, &first, "{case}");
        assert!(
            !description.contains(&unknown),
            "{case}: echoes the client id"
        );
    }
    // Client-independent checks stay precise, even for an unknown client.
    let no_x5t = rsa_signed(
        &json!({"alg": "RS256"}),
        &assertion_claims(&unknown, TOKEN_ENDPOINT, START),
    );
    let reply = exchange(&h, &unknown, &no_x5t).await;
    assert!(
        text(&reply.1["error_description"]).contains("x5t"),
        "{}",
        reply.1
    );
    let reply = exchange(&h, &unknown, "not-a-jwt").await;
    assert!(
        text(&reply.1["error_description"]).contains("well-formed"),
        "{}",
        reply.1
    );
}

// ---- 10. signing key rotation ----

#[tokio::test]
async fn rotated_signing_keys_verify_until_their_tokens_have_expired() {
    let mut h = harness().await;
    // The kids a JWK set publishes, sorted.
    let kids = |set: &Value| -> Vec<String> {
        let mut kids: Vec<String> = set["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| text(&k["kid"]))
            .collect();
        kids.sort();
        kids
    };
    let old_kid = kids(&h.jwks().await).remove(0);
    // Signed with the old key: one valid now, one whose lifetime outlasts the old key (as only a
    // stolen key could make it).
    let before = h.mint("client", "object", "s:s1", START);
    let late = h.mint("client", "object", "s:s1", START + 3000);

    let rotated = h
        .admin_ok(StatusCode::OK, "POST", "/admin/signing-keys/rotate", None)
        .await;
    let keys = rotated["value"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let retired = keys.iter().find(|k| k["kid"] == old_kid.as_str()).unwrap();
    assert_eq!(
        (&retired["active"], &retired["retires"]),
        (&json!(false), &json!(START + 3600 + 60))
    );
    let new_kid = text(&keys.iter().find(|k| k["active"] == true).unwrap()["kid"]);
    assert_ne!(new_kid, old_kid);
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    assert_eq!(kids(&h.jwks().await), both);

    let vaults = |token: &str| h.request_as(token, ADMIN_HOST, "GET", "/admin/vaults", None);
    assert_eq!(h.send(vaults(&before)).await.status(), StatusCode::OK);
    let fresh = h.token_by_secret("client", CLIENT_SECRET).await;
    assert_eq!(kid_of(&fresh), new_kid);
    assert_eq!(h.send(vaults(&fresh)).await.status(), StatusCode::OK);

    // Past the overlap. Only the background refresher of `run` drops retired keys (no store
    // change moves the access generation, so `refresh_access` keeps them); do what it does.
    h.clock.set(START + 3600 + 61);
    h.state.refresh_access().await.unwrap();
    let now = h.clock_now();
    let keys = arca_server::identity::keys::load(&*h.state.store, &h.state.keyring, now)
        .await
        .unwrap();
    h.state.issuer.set_keys(keys);
    assert_eq!(kids(&h.jwks().await), [new_kid]);
    assert_challenged(h.send(vaults(&late)).await).await;
    h.token = h.token_by_secret("client", CLIENT_SECRET).await;
    let listed = h.admin_get("/admin/signing-keys").await;
    assert_eq!(listed["value"].as_array().unwrap().len(), 1);
}

// ---- 11. IMDS ----

#[tokio::test]
async fn imds_serves_managed_identities_to_local_callers_only() {
    let h = harness().await;
    let imds = |query: &str, metadata: bool, ip: &str| {
        let mut request = Request::builder()
            .uri(format!(
                "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.localhost%3A8443{query}"
            ))
            .header("host", ADMIN_HOST);
        if metadata {
            request = request.header("metadata", "true");
        }
        from_ip(request.body(Body::empty()).unwrap(), ip)
    };
    let caller = |token: &Value| {
        h.state
            .issuer
            .verify(token.as_str().unwrap(), START)
            .unwrap()
    };

    // No default identity unless one is configured (IMDS has no secret of its own).
    let (status, body) = split(h.send(imds("", true, "127.0.0.1")).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (status, _) = split(h.send(imds("", false, "127.0.0.1")).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = split(h.send(imds("", true, "192.0.2.1")).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let mi = h.create_principal("vm-identity", "managed_identity").await;
    let (client_id, object_id) = (text(&mi["client_id"]), text(&mi["object_id"]));
    h.put(HOST, "a", "v").await;
    h.assign(SECRETS_USER, &client_id, "/vaults/default").await;
    let (status, body) = split(
        h.send(imds(&format!("&client_id={client_id}"), true, "::1"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], "3600");
    assert_eq!(body["token_type"], "Bearer");
    let token = caller(&body["access_token"]);
    assert_eq!((token.client_id, token.object_id), (client_id, object_id));
    assert_eq!(
        h.read_as(text(&body["access_token"]).as_str(), HOST, "a")
            .await
            .0,
        StatusCode::OK
    );

    let sp = h.app("not-a-managed-identity").await;
    let query = format!("&client_id={}", sp.client_id);
    let (status, body) = split(h.send(imds(&query, true, "127.0.0.1")).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
}
