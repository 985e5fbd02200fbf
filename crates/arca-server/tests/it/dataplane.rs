//! Data-plane details the official clients meet: the versions of a name that has none, updates
//! that never carry a value, `outContentType` on a plain secret, and the headers Key Vault sends
//! with every answer. Driven in-process through the whole router (see `common`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use axum::http::{HeaderMap, StatusCode};
use common::*;
use serde_json::{json, Value};

fn empty_listing() -> Value {
    json!({"value": [], "nextLink": null})
}

/// The listing of the versions of secret `name` in the `default` vault.
async fn versions(h: &Harness, name: &str) -> (StatusCode, Value) {
    h.call("GET", &format!("/secrets/{name}/versions?{V}"), None)
        .await
}

#[tokio::test]
async fn a_name_without_versions_lists_none() {
    let h = harness().await;
    let (status, body) = versions(&h, "never-made").await;
    assert_eq!((status, body), (StatusCode::OK, empty_listing()));
    // Paging parameters are still checked.
    assert_error(
        &h.call(
            "GET",
            &format!("/secrets/never-made/versions?{V}&maxresults=0"),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "BadParameter",
    );

    // A soft-deleted secret's versions are as invisible as the secret is to a get; they come
    // back with it when it is recovered.
    h.put(HOST, "gone", "v1").await;
    h.put(HOST, "gone", "v2").await;
    let (status, _) = h.delete(HOST, "gone").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = versions(&h, "gone").await;
    assert_eq!((status, body), (StatusCode::OK, empty_listing()));
    let (status, _) = h
        .call("POST", &format!("/deletedsecrets/gone/recover?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = versions(&h, "gone").await;
    assert_eq!(body["value"].as_array().unwrap().len(), 2);

    // Purged: nothing to list either.
    h.delete(HOST, "gone").await;
    let (status, _) = h
        .call("DELETE", &format!("/deletedsecrets/gone?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = versions(&h, "gone").await;
    assert_eq!((status, body), (StatusCode::OK, empty_listing()));

    // An invalid name is still a bad request, not an empty listing.
    assert_error(
        &versions(&h, "bad_name").await,
        StatusCode::BAD_REQUEST,
        "BadParameter",
    );
}

#[tokio::test]
async fn an_update_never_answers_with_the_value() {
    let h = harness().await;
    let (_, set) = h.put(HOST, "db", "the-stored-value").await;
    let version = version_of(&set);
    for (path, body) in [
        (
            format!("/secrets/db?{V}"),
            json!({"contentType": "text/plain"}),
        ),
        (
            format!("/secrets/db/{version}?{V}"),
            json!({"tags": {"a": "b"}, "attributes": {"enabled": true}}),
        ),
        (format!("/secrets/db/?{V}"), json!({})),
    ] {
        let (status, updated) = h.call("PATCH", &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {updated}");
        assert!(updated.get("value").is_none(), "{path}: {updated}");
        assert!(!updated.to_string().contains("the-stored-value"));
        assert!(updated["id"].as_str().unwrap().ends_with(&version));
    }
    // The value itself is unchanged and still served by a get.
    let (_, got) = h.read(HOST, "db").await;
    assert_eq!(got["value"], "the-stored-value");
    assert_eq!(got["contentType"], "text/plain");
    assert_eq!(got["tags"], json!({"a": "b"}));
}

#[tokio::test]
async fn out_content_type_is_refused_on_a_plain_secret() {
    let h = harness().await;
    let (_, set) = h.put(HOST, "plain", "not-a-certificate").await;
    let version = version_of(&set);
    for path in [
        format!("/secrets/plain?{V}&outContentType=application/x-pem-file"),
        format!("/secrets/plain/{version}?{V}&outContentType=application%2Fx-pem-file"),
        format!("/secrets/plain?{V}&outContentType=application/x-pkcs12"),
        format!("/secrets/plain?{V}&outContentType=text/nonsense"),
    ] {
        let (status, body) = h.call("GET", &path, None).await;
        assert_eq!(
            (status, code(&body).0),
            (StatusCode::BAD_REQUEST, "BadParameter"),
            "{path}"
        );
        assert_eq!(
            body["error"]["message"],
            "Only PFX to PEM transformation is supported"
        );
        assert!(!body.to_string().contains("not-a-certificate"));
    }
    // A secret that does not exist is not found, whatever the format asked for.
    assert_error(
        &h.call(
            "GET",
            &format!("/secrets/missing?{V}&outContentType=application/x-pem-file"),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "SecretNotFound",
    );
    // Without the parameter the value is served as stored.
    let (status, got) = h.read(HOST, "plain").await;
    assert_eq!(
        (status, &got["value"]),
        (StatusCode::OK, &json!("not-a-certificate"))
    );
}

/// Status and headers of a request to `host`, with the harness token.
async fn headers_of(h: &Harness, host: &str, method: &str, path: &str) -> (StatusCode, HeaderMap) {
    let response = h.send(h.request(host, method, path, None)).await;
    (response.status(), response.headers().clone())
}

fn header<'m>(headers: &'m HeaderMap, name: &str) -> Option<&'m str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn answers_carry_key_vaults_headers() {
    let h = harness().await;
    h.put(HOST, "h", "v").await;
    let unauthenticated = h.send(get(HOST, &secret_path("h"), &[])).await;
    let unauthenticated = (unauthenticated.status(), unauthenticated.headers().clone());
    let data_plane = [
        headers_of(&h, HOST, "GET", &format!("/secrets/h?{V}")).await,
        headers_of(&h, HOST, "GET", &format!("/secrets?{V}")).await,
        headers_of(&h, HOST, "GET", &format!("/secrets/nope?{V}")).await,
        headers_of(&h, HOST, "GET", "/secrets/h").await,
        unauthenticated,
    ];
    let statuses: Vec<_> = data_plane.iter().map(|(s, _)| s.as_u16()).collect();
    assert_eq!(statuses, [200, 200, 404, 400, 401]);
    for (status, headers) in &data_plane {
        assert_eq!(
            header(headers, "content-type"),
            Some("application/json; charset=utf-8"),
            "{status}"
        );
        assert_eq!(header(headers, "cache-control"), Some("no-cache"));
        assert_eq!(header(headers, "x-content-type-options"), Some("nosniff"));
        assert!(header(headers, "strict-transport-security")
            .is_some_and(|v| v.starts_with("max-age=31536000")));
        assert_eq!(
            header(headers, "x-ms-keyvault-service-version"),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(header(headers, "x-ms-keyvault-region"), Some("arca"));
        assert!(header(headers, "x-ms-request-id").is_some());
    }
    // A 204 has no body and so no content type, but the other headers.
    let (status, headers) = {
        h.delete(HOST, "h").await;
        headers_of(&h, HOST, "DELETE", &format!("/deletedsecrets/h?{V}")).await
    };
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(header(&headers, "content-type"), None);
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));

    // The deployment host: the security headers on everything, Key Vault's own only on the
    // data plane.
    let (status, headers) = headers_of(&h, ADMIN_HOST, "GET", "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    assert!(header(&headers, "strict-transport-security").is_some());
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(header(&headers, "x-ms-keyvault-region"), None);
    let token = h
        .send(token_form(&secret_form("client", CLIENT_SECRET)))
        .await;
    assert_eq!(token.status(), StatusCode::OK);
    assert_eq!(
        header(token.headers(), "x-content-type-options"),
        Some("nosniff")
    );
    let cache = header(token.headers(), "cache-control").unwrap();
    assert!(cache.contains("no-store") || cache == "no-cache", "{cache}");
}
