//! The certificates API's vault documents through the whole router: contacts and issuers answer
//! Key Vault's bodies and ids, an issuer's password never comes back, paging follows
//! `nextLink`; certificates are created, read, listed, deleted and recovered with their key and
//! secret. Driven in-process (see `common`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test]
async fn contacts_are_set_read_and_deleted() {
    let h = harness().await;
    let path = format!("/certificates/contacts?{V}");
    let (status, empty) = h.call("GET", &path, None).await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(
        empty,
        json!({"id": format!("https://{HOST}/certificates/contacts"), "contacts": []})
    );
    let list = json!([{"email": "ops@example.com", "name": "Ops", "phone": "555"}]);
    let (status, set) = h.call("PUT", &path, Some(json!({"contacts": list}))).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["contacts"], list);
    assert_eq!(h.call("GET", &path, None).await.1, set);
    let (status, bad) = h
        .call(
            "PUT",
            &path,
            Some(json!({"contacts": [{"name": "no mail"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["code"], "BadParameter");
    let (status, deleted) = h.call("DELETE", &path, None).await;
    assert_eq!((status, &deleted), (StatusCode::OK, &set));
    assert_eq!(h.call("GET", &path, None).await.1["contacts"], json!([]));
    assert_eq!(
        h.call("POST", &path, None).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn issuers_are_managed_without_their_password_ever_coming_back() {
    let h = harness().await;
    let path = |name: &str| format!("/certificates/issuers/{name}?{V}");
    let (status, set) = h
        .call(
            "PUT",
            &path("Corp"),
            Some(json!({
                "provider": "Test",
                "credentials": {"account_id": "acct", "pwd": "issuer-password-77"},
                "org_details": {"admin_details": [{"first_name": "A", "email": "a@example.com"}]}
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(
        set["id"],
        format!("https://{HOST}/certificates/issuers/Corp")
    );
    assert_eq!(set["provider"], "Test");
    assert_eq!(set["credentials"], json!({"account_id": "acct"}));
    assert_eq!(set["attributes"]["enabled"], true);
    let (status, got) = h.call("GET", &path("corp"), None).await;
    assert_eq!((status, &got), (StatusCode::OK, &set));
    let (status, patched) = h
        .call(
            "PATCH",
            &path("Corp"),
            Some(json!({"attributes": {"enabled": false}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["attributes"]["enabled"], false);
    assert_eq!(patched["credentials"], json!({"account_id": "acct"}));
    for body in [&set, &got, &patched] {
        assert!(!body.to_string().contains("issuer-password-77"), "{body}");
    }
    let (status, missing) = h.call("GET", &path("ghost"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["error"]["code"], "CertificateIssuerNotFound");
    // A name that is not an object name is refused, not echoed back as "not found".
    let (status, bad) = h.call("GET", &path("bad_name!"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let (status, refused) = h
        .call("PUT", &path("Self"), Some(json!({"provider": "Test"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, deleted) = h.call("DELETE", &path("CORP"), None).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["attributes"]["enabled"], false);
    assert_eq!(
        h.call("GET", &path("Corp"), None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn issuers_are_listed_page_by_page() {
    let h = harness().await;
    for name in ["a1", "b2", "c3"] {
        let (status, body) = h
            .call(
                "PUT",
                &format!("/certificates/issuers/{name}?{V}"),
                Some(json!({"provider": "Test"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut seen = Vec::new();
    let mut next = Some(format!(
        "https://{HOST}/certificates/issuers?{V}&maxresults=2"
    ));
    while let Some(link) = next {
        let path = link.strip_prefix(&format!("https://{HOST}")).unwrap();
        let (status, page) = h.call("GET", path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["value"].as_array().unwrap() {
            seen.push(
                item["id"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
            );
            assert_eq!(item["provider"], "Test");
        }
        next = page["nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["a1", "b2", "c3"]);
}

/// A self-signed certificate through the router: create answers 202 with the completed
/// operation, the bundle names its key and secret, the secret is managed and names the key, and
/// delete, the deleted routes and recover answer Key Vault's bodies and codes.
#[tokio::test]
async fn a_certificate_is_created_read_listed_deleted_and_recovered() {
    let h = harness().await;
    let policy = json!({
        "key_props": {"kty": "EC", "crv": "P-256", "exportable": true},
        "x509_props": {"subject": "CN=site.example.test", "validity_months": 3},
        "issuer": {"name": "Self"}
    });
    let (status, op) = h
        .call(
            "POST",
            &format!("/certificates/Site/create?{V}"),
            Some(json!({"policy": policy})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{op}");
    assert_eq!(op["status"], "inProgress");
    assert!(op["id"]
        .as_str()
        .unwrap()
        .ends_with("/certificates/Site/pending"));
    let (status, cert) = h
        .call("GET", &format!("/certificates/site?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{cert}");
    let id = cert["id"].as_str().unwrap();
    let version = id.rsplit('/').next().unwrap();
    assert!(cert["kid"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/keys/Site/{version}")));
    assert!(cert["sid"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/secrets/Site/{version}")));
    assert_eq!(cert["contentType"], "application/x-pkcs12");
    assert_eq!(
        cert["policy"]["x509_props"]["subject"],
        "CN=site.example.test"
    );
    assert!(cert["policy"]["id"]
        .as_str()
        .unwrap()
        .ends_with("/certificates/Site/policy"));
    assert!(
        cert["attributes"]["exp"].as_i64().unwrap() > cert["attributes"]["nbf"].as_i64().unwrap()
    );
    let (status, secret) = h.call("GET", &format!("/secrets/site?{V}"), None).await;
    assert_eq!(status, StatusCode::OK, "{secret}");
    assert_eq!(secret["managed"], true);
    assert!(secret["kid"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/keys/Site/{version}")));
    let (status, policy) = h
        .call("GET", &format!("/certificates/site/policy?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{policy}");
    assert!(policy["attributes"]["created"].is_i64());
    let (status, list) = h.call("GET", &format!("/certificates?{V}"), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["value"][0]["x5t"], cert["x5t"]);
    let (status, pending) = h
        .call("GET", &format!("/certificates/site/pending?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert_eq!(pending["status"], "completed");
    assert!(pending["target"]
        .as_str()
        .unwrap()
        .ends_with("/certificates/Site"));
    let (status, missing) = h
        .call("GET", &format!("/certificates/none/pending?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["error"]["code"], "PendingCertificateNotFound");

    let (status, deleted) = h
        .call("DELETE", &format!("/certificates/site?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert!(deleted["recoveryId"]
        .as_str()
        .unwrap()
        .ends_with("/deletedcertificates/Site"));
    let (status, _) = h.call("GET", &format!("/keys/site?{V}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, listed) = h
        .call("GET", &format!("/deletedcertificates?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["value"].as_array().unwrap().len(), 1);
    let (status, recovered) = h
        .call(
            "POST",
            &format!("/deletedcertificates/site/recover?{V}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recovered}");
    let (status, _) = h.call("GET", &format!("/keys/site?{V}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = h
        .call("PUT", &format!("/certificates/site?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
}

/// A CSR left by the `Unknown` issuer is listed only with `includePending`, and a merge with
/// no chain is refused (400) while the operation stays pending.
#[tokio::test]
async fn an_unknown_issuer_waits_for_a_merge() {
    let h = harness().await;
    let policy = json!({
        "x509_props": {"subject": "CN=csr.example.test"},
        "issuer": {"name": "Unknown"}
    });
    let (status, op) = h
        .call(
            "POST",
            &format!("/certificates/csr/create?{V}"),
            Some(json!({"policy": policy})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{op}");
    assert_eq!(op["status"], "inProgress");
    assert!(op["csr"].as_str().unwrap().len() > 100);
    let (status, _) = h.call("GET", &format!("/certificates/csr?{V}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = h.call("GET", &format!("/certificates?{V}"), None).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 0, "{list}");
    let (_, list) = h
        .call(
            "GET",
            &format!("/certificates?includePending=true&{V}"),
            None,
        )
        .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1, "{list}");
    let (status, body) = h
        .call(
            "POST",
            &format!("/certificates/csr/pending/merge?{V}"),
            Some(json!({"x5c": []})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, op) = h
        .call("GET", &format!("/certificates/csr/pending?{V}"), None)
        .await;
    assert_eq!(op["status"], "inProgress");
}

/// A certificate's key and secret may be read through the keys and secrets APIs but not changed,
/// deleted, backed up, rotated or given a version of their own: 403 with Key Vault's
/// `SecretManagedByKeyVault` / `KeyManagedByKeyVault`. (Until certificates issue their own, the
/// test marks a key and a secret as the certificate's in the database, as the store records the
/// link.)
#[tokio::test]
async fn a_certificates_key_and_secret_refuse_changes_through_their_own_apis() {
    let h = harness().await;
    let (status, body) = h.put(HOST, "web", "pfx-bytes").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = h
        .call(
            "POST",
            &format!("/keys/web/create?{V}"),
            Some(json!({"kty": "EC", "crv": "P-256"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let conn = rusqlite::Connection::open(&h.db).unwrap();
    let marked = conn
        .execute(
            "UPDATE objects SET managed_kind = 'certificate', managed_name = 'web' \
             WHERE lname = 'web'",
            [],
        )
        .unwrap();
    assert_eq!(marked, 2);

    let refused = [
        (
            "PUT",
            "/secrets/web",
            Some(json!({"value": "other"})),
            "SecretManagedByKeyVault",
            "set",
        ),
        (
            "PATCH",
            "/secrets/web/",
            Some(json!({"contentType": "x"})),
            "SecretManagedByKeyVault",
            "update",
        ),
        (
            "POST",
            "/secrets/web/backup",
            None,
            "SecretManagedByKeyVault",
            "backup",
        ),
        (
            "DELETE",
            "/secrets/web",
            None,
            "SecretManagedByKeyVault",
            "delete",
        ),
        (
            "POST",
            "/keys/web/create",
            Some(json!({"kty": "EC"})),
            "KeyManagedByKeyVault",
            "create",
        ),
        (
            "PATCH",
            "/keys/web/",
            Some(json!({"tags": {"a": "b"}})),
            "KeyManagedByKeyVault",
            "update",
        ),
        (
            "POST",
            "/keys/web/rotate",
            None,
            "KeyManagedByKeyVault",
            "rotate",
        ),
        (
            "POST",
            "/keys/web/backup",
            None,
            "KeyManagedByKeyVault",
            "backup",
        ),
        (
            "DELETE",
            "/keys/web",
            None,
            "KeyManagedByKeyVault",
            "delete",
        ),
    ];
    for (method, path, body, inner, operation) in refused {
        let (status, answer) = h.call(method, &format!("{path}?{V}"), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "Forbidden", "{method} {path}");
        assert_eq!(
            answer["error"]["innererror"]["code"], inner,
            "{method} {path}"
        );
        assert_eq!(
            answer["error"]["message"],
            format!(
                "Operation \"{operation}\" is not allowed as this object's lifetime is managed by Key Vault."
            )
        );
    }
    // Reading works, and nothing changed.
    let (status, secret) = h.call("GET", &format!("/secrets/web?{V}"), None).await;
    assert_eq!(
        (status, secret["value"].as_str()),
        (StatusCode::OK, Some("pfx-bytes"))
    );
    let (status, versions) = h
        .call("GET", &format!("/keys/web/versions?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{versions}");
    assert_eq!(versions["value"].as_array().unwrap().len(), 1);
}
