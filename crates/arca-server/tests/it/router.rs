//! Router tests: the whole HTTP service driven in-process with `oneshot`, over a real SQLite
//! store in a temporary directory and a controlled clock. They pin the wire behaviour the SDKs
//! depend on: the challenge, status codes, error codes, bodies, paging and lifecycle rules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use arca_core::ObjectKind;
use arca_crypto::{SecretString, TokenSigningKey};
use arca_server::identity::{Issuer, SigningKeys};
use arca_server::urls::Urls;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn challenge_comes_before_any_validation() {
    let h = harness().await;
    let request = Request::builder()
        .method("PUT")
        .uri("/secrets/bad_name?api-version=bogus")
        .header("host", HOST)
        .body(Body::from("{not json"))
        .unwrap();
    let response = h.send(request).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer authorization="https://localhost:8443/tenant", resource="https://vault.localhost:8443""#
    );
    assert!(response.headers().get("retry-after").is_none());
    assert!(response.headers().contains_key("x-ms-request-id"));
    let (_, body) = split(response).await;
    assert_eq!(code(&body), ("Unauthorized", None));
}

#[tokio::test]
async fn unknown_vault_is_404_only_after_authentication() {
    let h = harness().await;
    assert_error(
        &h.call_on(
            "nope.vault.localhost:8443",
            "GET",
            &format!("/secrets?{V}"),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "VaultNotFound",
    );
}

#[tokio::test]
async fn expired_not_yet_valid_and_foreign_tokens_are_refused() {
    let mut h = harness().await;
    let (ok, _) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(ok, StatusCode::OK);
    // Past expiry plus the tolerated skew, even though the token was cached as valid.
    h.clock.set(START + 3600 + 61);
    let (status, _) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Not yet valid.
    h.clock.set(START);
    h.token = h
        .state
        .issuer
        .issue("client", "object", "s:s1", START + 3600, "u2")
        .unwrap()
        .0;
    let (status, _) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Signed by a key Arca does not know, with the right claims.
    let (other_key, _) = TokenSigningKey::generate().unwrap();
    let other = Issuer::new(
        &Urls::new("localhost", "vault.localhost", 8443),
        "tenant".into(),
        SigningKeys::single(other_key),
        SecretString::new("x".into()),
        None,
        3600,
    )
    .unwrap();
    h.token = other
        .issue("client", "object", "s:s1", START, "u3")
        .unwrap()
        .0;
    let (status, _) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Tampered payload.
    let good = h
        .state
        .issuer
        .issue("client", "object", "s:s1", START, "u4")
        .unwrap()
        .0;
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&arca_server::b64url_decode(&parts[1]).unwrap()).unwrap();
    claims["oid"] = json!("someone-else");
    parts[1] = arca_server::b64url(claims.to_string().as_bytes());
    h.token = parts.join(".");
    let (status, _) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // alg "none".
    let header = arca_server::b64url(br#"{"alg":"none","typ":"JWT"}"#);
    h.token = format!("{header}.{}.", parts[1]);
    let (status, _) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_versions_are_checked() {
    let h = harness().await;
    for version in ["2016-10-01", "7.0", "7.6", "2025-07-01", "2026-04-01"] {
        let (status, _) = h
            .call("GET", &format!("/secrets?api-version={version}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{version}");
    }
    for query in ["api-version=7.7", "api-version=", "maxresults=5"] {
        let (status, body) = h.call("GET", &format!("/secrets?{query}"), None).await;
        assert_eq!(
            (status, code(&body).0),
            (StatusCode::BAD_REQUEST, "BadParameter"),
            "{query}"
        );
    }
}

#[tokio::test]
async fn set_get_update_with_exact_bodies() {
    let h = harness().await;
    let (status, set) = h
        .call("PUT", &format!("/secrets/Db-Password?{V}"), Some(json!({"value":"s3cr3t","contentType":"text/plain","tags":{"env":"dev"},"attributes":{"exp":1900000000}})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let version = version_of(&set);
    assert_eq!(version.len(), 32);
    assert_eq!(
        set,
        json!({"value":"s3cr3t","id":format!("https://{HOST}/secrets/Db-Password/{version}"),"contentType":"text/plain",
               "tags":{"env":"dev"},"attributes":{"enabled":true,"exp":1900000000,"created":START,"updated":START,
               "recoverableDays":90,"recoveryLevel":"Recoverable+Purgeable"}})
    );
    // Latest by either spelling, with or without the trailing slash, and by version.
    for path in [
        "/secrets/db-password",
        "/secrets/DB-PASSWORD/",
        &format!("/secrets/db-password/{version}"),
    ] {
        let (status, got) = h.call("GET", &format!("{path}?{V}"), None).await;
        assert_eq!(
            (status, got["value"].as_str()),
            (StatusCode::OK, Some("s3cr3t")),
            "{path}"
        );
    }
    h.clock.advance(10);
    let (status, updated) = h
        .call(
            "PATCH",
            &format!("/secrets/db-password/?{V}"),
            Some(json!({"contentType":"x","attributes":{"enabled":false}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["attributes"]["updated"], START + 10);
    assert_eq!(updated["attributes"]["created"], START);
    assert_eq!(updated["tags"], json!({"env":"dev"}));
    assert!(updated.get("value").is_none());
    let (status, body) = h.read(HOST, "db-password").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, ("Forbidden", Some("SecretDisabled")))
    );
    // A disabled secret is still listed.
    let (_, list) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(list["value"][0]["attributes"]["enabled"], false);
    assert_eq!(
        list["value"][0]["id"],
        format!("https://{HOST}/secrets/Db-Password")
    );
    // Unknown version and unknown name.
    assert_error(
        &h.call(
            "GET",
            &format!("/secrets/db-password/{}?{V}", "0".repeat(32)),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "SecretNotFound",
    );
    assert_error(
        &h.read(HOST, "nothing").await,
        StatusCode::NOT_FOUND,
        "SecretNotFound",
    );
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let h = harness().await;
    let (_, first) = h.put(HOST, "keep", "original").await;
    let cases: Vec<(String, String, StatusCode)> = vec![
        (format!("/secrets/keep?{V}"), json!({"value":"x".repeat(25 * 1024 + 1)}).to_string(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), "{not json".into(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), r#"["x"]"#.into(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), r#"{"value":123}"#.into(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), r#"{"value":"v","tags":"x"}"#.into(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), r#"{"value":"v","attributes":{"enabled":"yes"}}"#.into(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), r#"{"tags":{}}"#.into(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), json!({"value":"v","tags":(0..16).map(|i| (format!("t{i}"), "v")).collect::<std::collections::BTreeMap<_,_>>()}).to_string(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), json!({"value":"v","tags":{"k":"v".repeat(257)}}).to_string(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), json!({"value":"v","contentType":"c".repeat(256)}).to_string(), StatusCode::BAD_REQUEST),
        (format!("/secrets/bad_name?{V}"), r#"{"value":"v"}"#.into(), StatusCode::BAD_REQUEST),
        (format!("/secrets/{}?{V}", "a".repeat(128)), r#"{"value":"v"}"#.into(), StatusCode::BAD_REQUEST),
        (format!("/secrets/keep?{V}"), "x".repeat(300 * 1024), StatusCode::PAYLOAD_TOO_LARGE),
        ("/secrets/keep?api-version=1.0".into(), r#"{"value":"v"}"#.into(), StatusCode::BAD_REQUEST),
    ];
    for (path, body, expected) in cases {
        let (status, response) = h.raw("PUT", &path, &body).await;
        assert_eq!(status, expected, "{path} {}", &body[..body.len().min(60)]);
        assert!(response["error"]["code"].is_string());
        assert!(
            !response.to_string().contains("xxxxxxxxxx"),
            "error bodies never echo values"
        );
    }
    let (_, versions) = h
        .call("GET", &format!("/secrets/keep/versions?{V}"), None)
        .await;
    assert_eq!(versions["value"].as_array().unwrap().len(), 1);
    let (_, now) = h.read(HOST, "keep").await;
    assert_eq!(now["id"], first["id"]);
    let (_, list) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    for maxresults in ["0", "26", "x"] {
        let (status, _) = h
            .call(
                "GET",
                &format!("/secrets?{V}&maxresults={maxresults}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

/// Every page of a listing, from `first` on, following each `nextLink`.
async fn pages(h: &Harness, first: String) -> Vec<(StatusCode, Value)> {
    let mut pages = Vec::new();
    let mut next = Some(first);
    while let Some(link) = next {
        let path = link
            .strip_prefix(&format!("https://{HOST}"))
            .unwrap_or(&link);
        let page = h.call("GET", path, None).await;
        next = page.1["nextLink"].as_str().map(str::to_owned);
        pages.push(page);
    }
    pages
}

#[tokio::test]
async fn listing_pages_with_next_links_on_the_request_origin() {
    let h = harness().await;
    for i in 0..7 {
        h.call(
            "PUT",
            &format!("/secrets/s{i}?{V}"),
            Some(json!({"value":"v"})),
        )
        .await;
        h.put(HOST, "s0", "again").await;
    }
    let mut seen = Vec::new();
    for (status, page) in pages(&h, format!("/secrets?{V}&maxresults=3")).await {
        assert_eq!(status, StatusCode::OK);
        assert!(page["value"].as_array().unwrap().len() <= 3);
        seen.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        if let Some(n) = page["nextLink"].as_str() {
            assert!(n.starts_with(&format!("https://{HOST}/secrets?{V}&$skiptoken=")));
            assert!(n.ends_with("&maxresults=3"));
        }
    }
    assert_eq!(seen.len(), 7);
    let versions: usize = pages(&h, format!("/secrets/s0/versions?{V}&maxresults=2"))
        .await
        .iter()
        .map(|(_, page)| page["value"].as_array().unwrap().len())
        .sum();
    assert_eq!(versions, 8);
    let (status, _) = h
        .call("GET", &format!("/secrets?{V}&$skiptoken=%%%"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn delete_recover_purge_and_automatic_purge() {
    let mut h = harness().await;
    let short = "short.vault.localhost:8443";
    h.put(short, "gone", "v").await;
    let (status, deleted) = h.delete(short, "gone").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted["recoveryId"],
        format!("https://{short}/deletedsecrets/gone")
    );
    assert_eq!(deleted["scheduledPurgeDate"], START + 7 * 86_400);
    assert_eq!(
        deleted["attributes"]["recoveryLevel"],
        "CustomizedRecoverable+Purgeable"
    );
    assert!(deleted.get("value").is_none());
    // Deleted: invisible to get, set is a conflict, visible in the deleted views.
    assert_error(
        &h.read(short, "gone").await,
        StatusCode::NOT_FOUND,
        "SecretNotFound",
    );
    let (status, body) = h.put(short, "gone", "w").await;
    assert_eq!(
        (status, code(&body)),
        (
            StatusCode::CONFLICT,
            ("Conflict", Some("ObjectIsDeletedButRecoverable"))
        )
    );
    let (status, _) = h
        .call_on(short, "GET", &format!("/deletedsecrets/gone?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = h
        .call_on(short, "GET", &format!("/deletedsecrets?{V}"), None)
        .await;
    assert_eq!(
        list["value"][0]["recoveryId"],
        format!("https://{short}/deletedsecrets/gone")
    );
    // Recover, then purge after a second delete.
    let recover = format!("/deletedsecrets/gone/recover?{V}");
    let (status, recovered) = h.call_on(short, "POST", &recover, None).await;
    assert_eq!(
        (
            status,
            recovered["id"].as_str().unwrap().contains("/secrets/gone/")
        ),
        (StatusCode::OK, true)
    );
    let (status, _) = h.call_on(short, "POST", &recover, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.delete(short, "gone").await;
    let (status, body) = h
        .call_on(short, "DELETE", &format!("/deletedsecrets/gone?{V}"), None)
        .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _) = h
        .call_on(short, "GET", &format!("/deletedsecrets/gone?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Automatic purge when the retention ends.
    h.put(short, "expiring", "v").await;
    h.delete(short, "expiring").await;
    h.clock.advance(7 * 86_400 - 1);
    assert_eq!(arca_server::purger::purge_due(&h.state).await.unwrap(), 0);
    h.clock.advance(1);
    h.token = h.mint("client", "object", "s:s1", h.clock_now());
    assert_eq!(arca_server::purger::purge_due(&h.state).await.unwrap(), 1);
    let (status, _) = h
        .call_on(short, "GET", &format!("/deletedsecrets/expiring?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.put(short, "expiring", "new").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn purge_protection_forbids_purge_until_retention_ends() {
    let mut h = harness().await;
    let guarded = "guarded.vault.localhost:8443";
    h.put(guarded, "p", "v").await;
    let (_, deleted) = h.delete(guarded, "p").await;
    assert_eq!(
        deleted["attributes"]["recoveryLevel"],
        "CustomizedRecoverable"
    );
    assert_error(
        &h.call_on(guarded, "DELETE", &format!("/deletedsecrets/p?{V}"), None)
            .await,
        StatusCode::FORBIDDEN,
        "Forbidden",
    );
    let (status, _) = h
        .call_on(guarded, "GET", &format!("/deletedsecrets/p?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "a refused purge changes nothing");
    h.clock.advance(30 * 86_400);
    h.token = h.mint("client", "object", "s:s1", h.clock_now());
    let (status, _) = h
        .call_on(guarded, "DELETE", &format!("/deletedsecrets/p?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn backup_restores_all_versions_into_any_vault_of_the_deployment() {
    let h = harness().await;
    let mut ids = Vec::new();
    for v in ["one", "two", "three"] {
        let (_, s) = h
            .call(
                "PUT",
                &format!("/secrets/multi?{V}"),
                Some(json!({"value":v,"tags":{"v":v}})),
            )
            .await;
        ids.push(version_of(&s));
    }
    let (status, backup) = h.backup(HOST, "multi").await;
    assert_eq!(status, StatusCode::OK);
    let blob = backup["value"].as_str().unwrap().to_owned();
    assert!(!blob.contains('=') && !blob.contains('+') && !blob.contains('/'));
    // Restore onto an existing name is refused.
    let blob = json!(blob);
    assert_error(
        &h.restore(HOST, &blob).await,
        StatusCode::CONFLICT,
        "Conflict",
    );
    // Into another vault: all versions, original ids, current version current.
    let short = "short.vault.localhost:8443";
    let (status, restored) = h.restore(short, &blob).await;
    assert_eq!(status, StatusCode::OK);
    assert!(restored["id"].as_str().unwrap().ends_with(&ids[2]));
    for (id, v) in ids.iter().zip(["one", "two", "three"]) {
        let (_, got) = h
            .call_on(short, "GET", &format!("/secrets/multi/{id}?{V}"), None)
            .await;
        assert_eq!(
            (got["value"].as_str(), got["tags"]["v"].as_str()),
            (Some(v), Some(v))
        );
    }
    // Soft-deleted name: conflict with the deleted-but-recoverable inner code.
    h.call("DELETE", &format!("/secrets/multi?{V}"), None).await;
    let (status, body) = h.restore(HOST, &blob).await;
    assert_eq!(
        (status, code(&body)),
        (
            StatusCode::CONFLICT,
            ("Conflict", Some("ObjectIsDeletedButRecoverable"))
        )
    );
    // Garbage and tampered blobs.
    let mut tampered = arca_server::b64url_decode(blob.as_str().unwrap()).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    for bad in [
        "!!!".to_owned(),
        "AAAA".to_owned(),
        arca_server::b64url(&tampered),
    ] {
        assert_error(
            &h.restore(short, &json!(bad)).await,
            StatusCode::BAD_REQUEST,
            "BadParameter",
        );
    }
}

/// Issue 5: nothing bounded how many request bodies were held at once. With a 1 MiB budget, a
/// restore body of 600 KiB in flight leaves no room for a second: that one is refused with 503
/// (and Retry-After) after a short wait, a small body still fits, a body larger than the whole
/// budget is 413, and every byte is returned to the budget once the answers are out.
#[tokio::test]
async fn request_bodies_held_at_once_stay_within_the_body_budget() {
    let budget =
        arca_server::body::BodyBudget::with_kib(1024, std::time::Duration::from_millis(100));
    let h = harness_with(budget).await;
    let total = h.state.bodies.total_bytes();
    h.put(HOST, "big", "value").await;
    let (_, backup) = h.backup(HOST, "big").await;
    let mut text = json!({ "value": backup["value"] }).to_string();
    text.push_str(&" ".repeat(600 * 1024 - text.len()));
    let restore = |body: Body| {
        Request::builder()
            .method("POST")
            .uri(format!("/secrets/restore?{V}"))
            .header("host", "short.vault.localhost:8443")
            .header("authorization", format!("Bearer {}", h.token))
            .body(body)
            .unwrap()
    };
    let (tx, body) = channel_body(Some(text.len() as u64));
    let app = h.app.clone();
    let first = tokio::spawn(tower::ServiceExt::oneshot(app, restore(body)));
    until(|| h.state.bodies.available_bytes() < total).await;

    let (_second_tx, second) = channel_body(Some(600 * 1024));
    let refused = h.send(restore(second)).await;
    assert_eq!(refused.headers()["retry-after"], "1");
    let (status, answer) = split(refused).await;
    assert_eq!(
        (status, code(&answer)),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            ("ServiceUnavailable", None)
        ),
        "{answer}"
    );
    let (status, answer) = h.put(HOST, "small", "fits").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_too_large_tx, too_large) = channel_body(Some(2 * 1024 * 1024));
    let (status, answer) = split(h.send(restore(too_large)).await).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::PAYLOAD_TOO_LARGE, ("RequestBodyTooLarge", None)),
        "{answer}"
    );

    for chunk in text.as_bytes().chunks(64 * 1024) {
        tx.send(bytes::Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    drop(tx);
    let (status, restored) = split(first.await.unwrap().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(h.state.bodies.available_bytes(), total);
}

#[tokio::test]
async fn a_backup_of_another_deployment_does_not_restore() {
    let a = harness().await;
    let b = harness().await;
    a.call(
        "PUT",
        &format!("/secrets/x?{V}"),
        Some(json!({"value":"v"})),
    )
    .await;
    let (_, backup) = a.backup(HOST, "x").await;
    assert_error(
        &b.restore(HOST, &backup["value"]).await,
        StatusCode::BAD_REQUEST,
        "BadParameter",
    );
}

#[tokio::test]
async fn stored_values_never_appear_in_the_database_files() {
    let h = harness().await;
    let needle = "NEEDLE-7f3a9c-plaintext-must-not-be-stored";
    h.call("PUT", &format!("/secrets/needle?{V}"), Some(json!({"value": needle, "tags": {"tagneedle": "TAGNEEDLE-91"}, "contentType": "CTNEEDLE-55"}))).await;
    h.call(
        "PATCH",
        &format!("/secrets/needle?{V}"),
        Some(json!({"tags": {"k": "TAGNEEDLE-92"}})),
    )
    .await;
    let (_, got) = h.read(HOST, "needle").await;
    assert_eq!(got["value"], needle);
    let dir = h.db.parent().unwrap();
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        scanned += bytes.len();
        for n in [needle, "TAGNEEDLE-9", "CTNEEDLE-55"] {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                "{n} found on disk"
            );
        }
    }
    assert!(scanned > 0);
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_record_fails_to_open() {
    let h = harness().await;
    h.put(HOST, "a", "value-of-a").await;
    h.put(HOST, "b", "value-of-b").await;
    let store = &h.state.store;
    let secret = |name| arca_store::ObjectAddress::new("default", ObjectKind::Secret, name);
    let a = store.version(&secret("a"), None).await.unwrap().unwrap();
    let mut b = store
        .version(&secret("b"), None)
        .await
        .unwrap()
        .unwrap()
        .version;
    b.value = a.version.value.clone();
    store.update_version(&secret("b"), &b).await.unwrap();
    let (status, body) = h.read(HOST, "b").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.to_string().contains("value-of-a"));
    // The same blob in its own place still opens.
    let (_, got) = h.read(HOST, "a").await;
    assert_eq!(got["value"], "value-of-a");
}

#[tokio::test]
async fn token_endpoint_issues_only_for_the_right_secret_and_resource() {
    let h = harness().await;
    let scope = "scope=https%3A%2F%2Fvault.localhost%3A8443%2F.default";
    let (status, body) = token_request(
        &h,
        &format!(
            "grant_type=client_credentials&client_id=client&client_secret={CLIENT_SECRET}&{scope}"
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let caller = h
        .state
        .issuer
        .verify(body["access_token"].as_str().unwrap(), START)
        .unwrap();
    assert_eq!(caller.object_id, "object");
    let (status, body) = token_request(
        &h,
        &format!("grant_type=client_credentials&client_id=client&client_secret=wrong&{scope}"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let (status, body) = token_request(
        &h,
        &format!("grant_type=client_credentials&client_id=nobody&client_secret=x&{scope}"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let (status, body) = token_request(&h, &format!("grant_type=client_credentials&client_id=client&client_secret={CLIENT_SECRET}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    let (status, body) = token_request(&h, "grant_type=password&username=x").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn managed_identity_endpoint_requires_its_header() {
    let h = harness().await;
    let (status, mi) = h
        .call_on(
            "localhost:8443",
            "POST",
            "/admin/principals",
            Some(json!({"display_name": "mi", "kind": "managed_identity"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mi}");
    let client_id = mi["client_id"].as_str().unwrap().to_owned();
    let get = |header: Option<&str>, query: &str| {
        let mut b = Request::builder()
            .uri(format!("/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.localhost%3A8443{query}"))
            .header("host", "localhost:8443");
        if let Some(v) = header {
            b = b.header("x-identity-header", v);
        }
        let mut request = b.body(Body::empty()).unwrap();
        // The endpoint answers callers on this machine only.
        request.extensions_mut().insert(arca_server::auth::PeerAddr(
            "127.0.0.1:50000".parse().unwrap(),
        ));
        request
    };
    let named = format!("&client_id={client_id}");
    for wrong in [None, Some("wrong"), Some("")] {
        let (status, _) = split(h.send(get(wrong, &named)).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = split(h.send(get(Some("mi-header"), &named)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_on"], (START + 3600).to_string());
    assert_eq!(body["client_id"], client_id.as_str());
    assert!(h
        .state
        .issuer
        .verify(body["access_token"].as_str().unwrap(), START)
        .is_ok());
    // No identity is served when the request names none and none is configured.
    let (status, body) = split(h.send(get(Some("mi-header"), "")).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.get("access_token").is_none());
}

#[tokio::test]
async fn admin_api_manages_vaults_and_requires_a_token() {
    let h = harness().await;
    let admin = "localhost:8443";
    let response = h.send(get(admin, "/admin/vaults", &[])).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let (status, created) = h
        .call_on(
            admin,
            "POST",
            "/admin/vaults",
            Some(json!({"name":"Team-A","retention_days":14,"purge_protection":true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["name"], "team-a");
    assert_eq!(created["url"], "https://team-a.vault.localhost:8443");
    for (body, expected) in [
        (json!({"name":"team-a"}), StatusCode::CONFLICT),
        (json!({"name":"ab"}), StatusCode::BAD_REQUEST),
        (json!({"name":"1abc"}), StatusCode::BAD_REQUEST),
        (
            json!({"name":"ok-name","retention_days":6}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name":"ok-name","retention_days":91}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name":"ok-name","unknown":1}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, _) = h
            .call_on(admin, "POST", "/admin/vaults", Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{body}");
    }
    let (_, list) = h.call_on(admin, "GET", "/admin/vaults", None).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 4);
    // A purge-protected vault holding objects cannot be deleted.
    h.call_on(
        "team-a.vault.localhost:8443",
        "PUT",
        &format!("/secrets/x?{V}"),
        Some(json!({"value":"v"})),
    )
    .await;
    let (status, _) = h
        .call_on(admin, "DELETE", "/admin/vaults/team-a", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = h
        .call_on(admin, "DELETE", "/admin/vaults/short", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = h.call_on(admin, "GET", "/admin/vaults/short", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A small deterministic generator (xorshift), so the adversarial test below is repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test]
async fn mutated_requests_never_cause_server_errors_or_changes() {
    let h = harness().await;
    let (_, original) = h
        .call(
            "PUT",
            &format!("/secrets/target?{V}"),
            Some(json!({"value":"kept","tags":{"a":"b"}})),
        )
        .await;
    let (_, backup) = h.backup(HOST, "target").await;
    let valid_body = json!({"value":"v","contentType":"c","tags":{"k":"v"},"attributes":{"enabled":true,"exp":1}}).to_string();
    let blob = backup["value"].as_str().unwrap().to_owned();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alphabet: Vec<char> = "aZ09-_.%~/?#&=é\u{0}\u{202e} {}[]\":,\\".chars().collect();
    let mut refused = 0;
    for round in 0..400 {
        let (method, path, body) = match round % 4 {
            // Mutated bodies for set and update on the existing secret.
            0 | 1 => {
                let mut bytes = valid_body.clone().into_bytes();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(bytes.len());
                    match rng.below(3) {
                        0 => bytes[i] = (rng.next() & 0xff) as u8,
                        1 => bytes.truncate(i),
                        _ => bytes.insert(i, b"{}[]\",:0"[rng.below(8)]),
                    }
                    if bytes.is_empty() {
                        break;
                    }
                }
                let method = if round % 4 == 0 { "PUT" } else { "PATCH" };
                (
                    method,
                    format!("/secrets/target?{V}"),
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            }
            // Random names, versions, api-versions and skip tokens in the path.
            2 => {
                let junk: String = (0..1 + rng.below(40))
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect();
                let encoded: String = junk.bytes().map(|b| format!("%{b:02X}")).collect();
                let path = match rng.below(4) {
                    0 => format!("/secrets/{encoded}?{V}"),
                    1 => format!("/secrets/target/{encoded}?{V}"),
                    2 => format!("/secrets?api-version={encoded}"),
                    _ => format!(
                        "/secrets?{V}&$skiptoken={encoded}&maxresults={}",
                        rng.below(30)
                    ),
                };
                ("GET", path, String::new())
            }
            // Mutated backup blobs.
            _ => {
                let mut chars: Vec<char> = blob.chars().collect();
                let i = rng.below(chars.len());
                chars[i] = alphabet[rng.below(alphabet.len())];
                (
                    "POST",
                    format!("/secrets/restore?{V}"),
                    json!({"value": chars.into_iter().collect::<String>()}).to_string(),
                )
            }
        };
        let (status, response) = h.raw(method, &path, &body).await;
        assert!(
            status.as_u16() < 500,
            "{method} {path} {body:?} -> {status} {response}"
        );
        if !status.is_success() {
            refused += 1;
            assert!(
                response["error"]["code"].is_string(),
                "{method} {path} -> {response}"
            );
        }
    }
    assert!(
        refused > 100,
        "the mutations should mostly be refused, {refused} were"
    );
    // Successful mutations may only have added versions or changed attributes of "target"; the
    // original version's value is intact and no other secret appeared.
    let version = version_of(&original);
    let (status, got) = h
        .call("GET", &format!("/secrets/target/{version}?{V}"), None)
        .await;
    if status == StatusCode::OK {
        assert_eq!(got["value"], "kept");
    } else {
        assert_eq!(code(&got), ("Forbidden", Some("SecretDisabled")));
    }
    let (_, list) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
}
