//! The `default` vault at the issuer's own origins (`https://localhost:<port>`,
//! `https://127.0.0.1:<port>`, `https://[::1]:<port>`), so a newcomer needs no DNS entry: the
//! challenge there names the origin, a token for the origin works end to end, ids and links use
//! the origin, and the data is the `default` vault's. Driven in-process (see `common`); the SDK
//! suite's `test_origins.py` does the same through the real binary and the official client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use axum::http::{header, StatusCode};
use common::*;
use serde_json::{json, Value};

const ORIGINS: [&str; 3] = ["localhost:8443", "127.0.0.1:8443", "[::1]:8443"];

/// A token for `resource` through the harness principal's client secret.
async fn token_for(h: &Harness, resource: &str) -> String {
    let scope = format!("{resource}/.default");
    let (status, body) = token_request(
        h,
        &form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "client"),
            ("client_secret", CLIENT_SECRET),
            ("scope", &scope),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{resource}: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn call_with(
    h: &Harness,
    token: Option<&str>,
    host: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let response = h
        .send(json_request(token, host, method, path, json_body(body)))
        .await;
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, json) = split(response).await;
    (status, challenge, json)
}

/// [`call_with`] for a bodiless GET.
async fn fetch(
    h: &Harness,
    token: Option<&str>,
    host: &str,
    path: &str,
) -> (StatusCode, Option<String>, Value) {
    call_with(h, token, host, "GET", path, None).await
}

#[tokio::test]
async fn the_challenge_at_an_origin_names_that_origin() {
    let h = harness().await;
    for origin in ORIGINS {
        let (status, challenge, _) = fetch(&h, None, origin, &format!("/secrets/x?{V}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{origin}");
        let challenge = challenge.unwrap();
        assert!(
            challenge.contains(&format!("resource=\"https://{origin}\"")),
            "{origin}: {challenge}"
        );
        assert!(challenge.contains("authorization=\"https://localhost:8443/tenant\""));
    }
    // At a vault host the challenge still names the vault domain.
    let (_, challenge, _) = fetch(&h, None, HOST, &format!("/secrets?{V}")).await;
    assert!(challenge
        .unwrap()
        .contains("resource=\"https://vault.localhost:8443\""));
}

#[tokio::test]
async fn an_origin_serves_the_default_vault_with_its_own_ids() {
    let h = harness().await;
    for (i, origin) in ORIGINS.iter().enumerate() {
        let token = token_for(&h, &format!("https://{origin}")).await;
        let name = format!("at-origin-{i}");
        let (status, _, set) = call_with(
            &h,
            Some(&token),
            origin,
            "PUT",
            &format!("/secrets/{name}?{V}"),
            Some(json!({"value": format!("value-{i}")})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{origin}: {set}");
        let id = set["id"].as_str().unwrap();
        assert!(
            id.starts_with(&format!("https://{origin}/secrets/{name}/")),
            "{id}"
        );
        let (status, _, got) =
            fetch(&h, Some(&token), origin, &format!("/secrets/{name}?{V}")).await;
        assert_eq!(
            (status, &got["value"]),
            (StatusCode::OK, &json!(format!("value-{i}")))
        );
        assert_eq!(got["id"], set["id"]);
        let (status, _, listed) = fetch(
            &h,
            Some(&token),
            origin,
            &format!("/secrets?{V}&maxresults=1"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        for item in listed["value"].as_array().unwrap() {
            assert!(item["id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("https://{origin}/secrets/")));
        }
        if let Some(next) = listed["nextLink"].as_str() {
            assert!(
                next.starts_with(&format!("https://{origin}/secrets?")),
                "{next}"
            );
        }
        // The same secret, through the `default` vault's own host.
        let (status, got) = h.call("GET", &format!("/secrets/{name}?{V}"), None).await;
        assert_eq!(
            (status, &got["value"]),
            (StatusCode::OK, &json!(format!("value-{i}")))
        );
        assert!(got["id"]
            .as_str()
            .unwrap()
            .starts_with("https://default.vault.localhost:8443/secrets/"));
    }
    // And the other way: a secret set at the vault host is read at an origin; a secret of
    // another vault is not there.
    h.put(HOST, "from-vault-host", "shared").await;
    h.put("short.vault.localhost:8443", "only-in-short", "elsewhere")
        .await;
    let token = token_for(&h, "https://localhost:8443").await;
    let (status, _, got) = fetch(
        &h,
        Some(&token),
        "localhost:8443",
        &format!("/secrets/from-vault-host?{V}"),
    )
    .await;
    assert_eq!((status, &got["value"]), (StatusCode::OK, &json!("shared")));
    let (status, _, body) = fetch(
        &h,
        Some(&token),
        "localhost:8443",
        &secret_path("only-in-short"),
    )
    .await;
    assert_error(&(status, body), StatusCode::NOT_FOUND, "SecretNotFound");
}

#[tokio::test]
async fn the_origins_keep_serving_the_deployment_endpoints() {
    let h = harness().await;
    // Paths outside the data plane are still the issuer's and the admin API's.
    let (status, _, body) = fetch(&h, None, "127.0.0.1:8443", "/healthz").await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("ok")));
    let (status, _, body) = fetch(
        &h,
        None,
        "localhost:8443",
        "/tenant/v2.0/.well-known/openid-configuration",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, vaults) = fetch(&h, Some(&h.token), "localhost:8443", "/admin/vaults").await;
    assert_eq!(status, StatusCode::OK, "{vaults}");
    // An origin on another port is no origin of this deployment.
    let (status, challenge, _) = fetch(&h, None, "localhost:9999", &format!("/secrets?{V}")).await;
    assert_ne!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.is_none());
}
