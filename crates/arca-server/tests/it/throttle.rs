//! Per-vault throttling through the whole router: the 429 `Throttled` answer with `Retry-After`
//! and Key Vault's headers, refused requests that change nothing, the per-vault setting through
//! the admin API (and the deployment's default behind it), the off switch, per-caller fairness,
//! and key creates weighed by the key the engine's answer names.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{harness, secret_path, split, Harness, HOST, V};

const SHORT: &str = "short.vault.localhost:8443";

/// Sets a vault's throttling through the admin API; returns the answer.
async fn throttle(h: &Harness, vault: &str, body: Value) -> Value {
    let path = format!("/admin/vaults/{vault}/throttling");
    h.admin_ok(StatusCode::OK, "PUT", &path, Some(body)).await
}

#[tokio::test]
async fn over_its_limit_a_vault_answers_429_throttled_with_retry_after() {
    let h = harness().await;
    let set = throttle(&h, "short", json!({"enabled": true, "factor": 0.01})).await;
    assert_eq!(
        set,
        json!({"enabled": true, "factor": 0.01, "source": "vault", "window_seconds": 10,
               "limits": {"key_create": 1, "key_other": 40, "secret_create": 3, "secret_other": 40}})
    );
    for i in 0..3 {
        let (status, body) = h.put(SHORT, &format!("s{i}"), "v").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let response = h
        .send(h.request(
            SHORT,
            "PUT",
            &secret_path("s3"),
            Some(json!({"value": "v"})),
        ))
        .await;
    let headers = response.headers().clone();
    let (status, body) = split(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body,
        json!({"error": {"code": "Throttled", "message": "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"}})
    );
    let retry: u32 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    for header in [
        "x-ms-request-id",
        "x-ms-keyvault-service-version",
        "x-ms-keyvault-region",
    ] {
        assert!(headers.contains_key(header), "{header} missing");
    }
    // The refused set changed nothing; reads draw on another budget and still pass.
    assert_eq!(h.read(SHORT, "s3").await.0, StatusCode::NOT_FOUND);
    assert_eq!(h.read(SHORT, "s0").await.0, StatusCode::OK);
    // Other vaults have the deployment's limits (Key Vault's).
    for i in 0..5 {
        assert_eq!(h.put(HOST, &format!("s{i}"), "v").await.0, StatusCode::OK);
    }
    let shown = h.admin_get("/admin/vaults/default/throttling").await;
    assert_eq!(shown["source"], "deployment");
    assert_eq!(shown["limits"]["secret_create"], 300);
}

#[tokio::test]
async fn the_off_switch_and_a_return_to_the_deployments_setting() {
    let h = harness().await;
    let off = throttle(&h, "short", json!({"enabled": false, "factor": 0.01})).await;
    assert_eq!(off["enabled"], false);
    for i in 0..10 {
        assert_eq!(h.put(SHORT, &format!("s{i}"), "v").await.0, StatusCode::OK);
    }
    // Requests served while it was off counted nothing: switched on, the vault has its whole
    // limit (3 sets) again.
    throttle(&h, "short", json!({"enabled": true, "factor": 0.01})).await;
    for i in 0..3 {
        assert_eq!(h.put(SHORT, &format!("t{i}"), "v").await.0, StatusCode::OK);
    }
    let refused = h.put(SHORT, "again", "v").await;
    assert_eq!(refused.0, StatusCode::TOO_MANY_REQUESTS, "{}", refused.1);
    // Back to the deployment's setting (Key Vault's limits): admitted again.
    h.admin_ok(
        StatusCode::NO_CONTENT,
        "DELETE",
        "/admin/vaults/short/throttling",
        None,
    )
    .await;
    let shown = h.admin_get("/admin/vaults/short/throttling").await;
    assert_eq!(shown["source"], "deployment");
    assert_eq!(shown["factor"], 1.0);
    assert_eq!(h.put(SHORT, "again", "v").await.0, StatusCode::OK);
    // Bad settings and unknown vaults change nothing.
    for bad in [
        json!({"enabled": true, "factor": 0}),
        json!({"enabled": true, "factor": 101}),
        json!({"enabled": "yes"}),
        json!({"enabled": true, "limit": 3}),
    ] {
        let (status, body) = h
            .admin("PUT", "/admin/vaults/short/throttling", Some(bad))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (status, _) = h
        .admin(
            "PUT",
            "/admin/vaults/nosuch/throttling",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        h.admin_get("/admin/vaults/short/throttling").await["source"],
        "deployment"
    );
}

#[tokio::test]
async fn a_noisy_caller_cannot_take_a_quiet_callers_share() {
    let h = harness().await;
    assert_eq!(h.put(SHORT, "s", "v").await.0, StatusCode::OK);
    throttle(&h, "short", json!({"enabled": true, "factor": 0.01})).await;
    let quiet = h.app_with("quiet", "Key Vault Secrets User", "/").await;
    let noisy = h.app_with("noisy", "Key Vault Secrets User", "/").await;
    assert_eq!(h.read_as(&quiet.token, SHORT, "s").await.0, StatusCode::OK);
    // 40 reads per window in all; with two callers the noisy one is held to its half.
    let mut admitted = 0;
    loop {
        let (status, body) = h.read_as(&noisy.token, SHORT, "s").await;
        match status {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => break,
            other => panic!("{other}: {body}"),
        }
        assert!(admitted <= 40, "never throttled");
    }
    assert_eq!(admitted, 20);
    // The quiet caller still gets its share.
    for _ in 0..10 {
        assert_eq!(h.read_as(&quiet.token, SHORT, "s").await.0, StatusCode::OK);
    }
}

/// Creates a P-256 key of type `kty` in the `short` vault; returns the status.
async fn create_key(h: &Harness, name: &str, kty: &str) -> StatusCode {
    let path = format!("/keys/{name}/create?{V}");
    let body = json!({"kty": kty, "crv": "P-256"});
    let (status, answer) = h.call_on(SHORT, "POST", &path, Some(body)).await;
    assert!(
        matches!(status, StatusCode::OK | StatusCode::TOO_MANY_REQUESTS),
        "{status}: {answer}"
    );
    status
}

#[tokio::test]
async fn key_creates_weigh_by_the_key_the_answer_names() {
    // 0.1 of Key Vault's limits: 2 units of key creates, a software key 1, an HSM key 2.
    let limits = json!({"enabled": true, "factor": 0.1});
    let h = harness().await;
    throttle(&h, "short", limits.clone()).await;
    assert_eq!(create_key(&h, "a", "EC").await, StatusCode::OK);
    assert_eq!(create_key(&h, "b", "EC").await, StatusCode::OK);
    assert_eq!(
        create_key(&h, "c", "EC").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // An HSM key is admitted at 1 and charged the second unit once the answer names it.
    let h = harness().await;
    throttle(&h, "short", limits).await;
    assert_eq!(create_key(&h, "hsm", "EC-HSM").await, StatusCode::OK);
    assert_eq!(
        create_key(&h, "d", "EC").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
