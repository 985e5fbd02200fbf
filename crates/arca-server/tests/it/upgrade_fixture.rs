//! A data directory written by release 0.1 (the checked-in fixture under
//! `tests/fixtures/release-0.1-datadir/`, made by `scripts/make-upgrade-fixture`) opens with the
//! current code and serves what it held: every secret version with its value and attributes, the
//! deleted secret, the fixture principal's client secret, the role assignments (allowing and
//! denying as they did), the network rules, and the same token signing keys. The test runs on a
//! copy, in-process, with the clock set just after the fixture was made.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arca_core::FixedClock;
use arca_server::config::Settings;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{get, json_body, json_request, secret_form, split, token_form};
use serde_json::{json, Value};
use tower::ServiceExt;

const PORT: u16 = 8443;
const ADMIN_HOST: &str = "localhost:8443";
const API: &str = "api-version=7.5";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-0.1-datadir")
}

struct Opened {
    _dir: tempfile::TempDir,
    app: axum::Router,
    fixture: Value,
}

/// Copies the fixture into a temporary directory and starts on it as `arca serve` would.
async fn open_copy() -> Opened {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for file in ["arca.db", "arca.key", "fixture.json"] {
        std::fs::copy(fixture_dir().join(file), data.join(file)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    for file in ["arca.db", "arca.key"] {
        std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let fixture: Value =
        serde_json::from_slice(&std::fs::read(data.join("fixture.json")).unwrap()).unwrap();
    let settings = Settings {
        data_dir: Some(data.display().to_string()),
        listen: Some(format!("127.0.0.1:{PORT}")),
        ..Settings::default()
    };
    let (config, _) = arca_server::Config::load(None, &settings).unwrap();
    let data_dir = arca_server::bootstrap::ensure_data_dir(&config.data_dir).unwrap();
    // The server's one way of opening storage (the default, `sqlite`), as `arca serve` does.
    let store = arca_server::storage::open(&config, &data_dir).unwrap();
    let now = fixture["made_at"].as_i64().unwrap() + 60;
    let clock = Arc::new(FixedClock::new(now));
    let prepared = arca_server::bootstrap::prepare(&config, PORT, store, clock)
        .await
        .unwrap();
    Opened {
        _dir: dir,
        app: arca_server::router::build(prepared.state),
        fixture,
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap()
}

impl Opened {
    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        split(self.app.clone().oneshot(request).await.unwrap()).await
    }

    /// A token for `who` (`admin` or `app` in fixture.json) through its client secret.
    async fn token(&self, who: &str) -> (StatusCode, Value) {
        let mut request = token_form(&secret_form(
            text(&self.fixture[who]["client_id"]),
            text(&self.fixture[who]["client_secret"]),
        ));
        *request.uri_mut() = format!("/{}/oauth2/v2.0/token", text(&self.fixture["tenant_id"]))
            .parse()
            .unwrap();
        self.send(request).await
    }

    async fn bearer(&self, who: &str) -> String {
        let (status, body) = self.token(who).await;
        assert_eq!(status, StatusCode::OK, "{who}: {body}");
        text(&body["access_token"]).to_owned()
    }

    async fn call(
        &self,
        token: &str,
        host: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let separator = if path.contains('?') { '&' } else { '?' };
        let uri = format!("{path}{separator}{API}");
        self.send(json_request(
            Some(token),
            host,
            method,
            &uri,
            json_body(body),
        ))
        .await
    }

    async fn vault(
        &self,
        token: &str,
        vault: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let host = format!("{vault}.vault.localhost:{PORT}");
        self.call(token, &host, method, path, body).await
    }
}

fn secrets_of<'a>(fixture: &'a Value, vault: &'a str, name: &'a str) -> Vec<&'a Value> {
    fixture["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["vault"] == vault && s["name"] == name)
        .collect()
}

#[tokio::test]
async fn every_secret_version_is_served_with_its_value_and_attributes() {
    let o = open_copy().await;
    let admin = o.bearer("admin").await;
    let secrets = o.fixture["secrets"].as_array().unwrap().clone();
    assert_eq!(secrets.len(), 7);
    for s in &secrets {
        let (vault, name, version) = (text(&s["vault"]), text(&s["name"]), text(&s["version"]));
        let what = format!("{vault}/{name}/{version}");
        let path = format!("/secrets/{name}/{version}");
        let (status, body) = o.vault(&admin, vault, "GET", &path, None).await;
        if s["enabled"] == false {
            // A disabled version is refused as before; enabled again, its value is intact.
            assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
            let enable = json!({"attributes": {"enabled": true}});
            let (status, body) = o.vault(&admin, vault, "PATCH", &path, Some(enable)).await;
            assert_eq!(status, StatusCode::OK, "{what}: {body}");
            let (status, body) = o.vault(&admin, vault, "GET", &path, None).await;
            assert_eq!(status, StatusCode::OK, "{what}: {body}");
            assert_eq!(body["value"], s["value"], "{what}");
            continue;
        }
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        assert_eq!(body["value"], s["value"], "{what}");
        assert!(text(&body["id"]).ends_with(&format!("/secrets/{name}/{version}")));
        assert_eq!(body["attributes"]["enabled"], true, "{what}");
        assert_eq!(body["attributes"]["nbf"], s["nbf"], "{what}");
        assert_eq!(body["attributes"]["exp"], s["exp"], "{what}");
        assert_eq!(body["contentType"], s["contentType"], "{what}");
        let tags = if s["tags"].is_null() {
            &Value::Null
        } else {
            &s["tags"]
        };
        assert_eq!(body.get("tags").unwrap_or(&Value::Null), tags, "{what}");
        if s["current"] == true {
            let (status, latest) = o
                .vault(&admin, vault, "GET", &format!("/secrets/{name}"), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{what}: {latest}");
            assert_eq!(latest["id"], body["id"], "{what} is the current version");
        }
    }
    // Every version of a name is listed, the first of db-password as disabled.
    for (vault, name) in [("guarded", "db-password"), ("default", "hello")] {
        let expected = secrets_of(&o.fixture, vault, name);
        let (status, body) = o
            .vault(
                &admin,
                vault,
                "GET",
                &format!("/secrets/{name}/versions"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let listed = body["value"].as_array().unwrap();
        assert_eq!(listed.len(), expected.len(), "{vault}/{name}: {body}");
        for s in expected {
            assert!(
                listed
                    .iter()
                    .any(|l| text(&l["id"]).ends_with(text(&s["version"]))),
                "{vault}/{name}/{} listed",
                s["version"]
            );
        }
    }
    // The secrets of each vault are listed (the deleted one not among them).
    let (status, body) = o.vault(&admin, "plain", "GET", "/secrets", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut names: Vec<_> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| text(&s["id"]).rsplit('/').next().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["api-token", "other"]);
}

#[tokio::test]
async fn the_deleted_secret_stays_deleted_and_recovers_with_its_value() {
    let o = open_copy().await;
    let admin = o.bearer("admin").await;
    let d = &o.fixture["deleted"];
    let name = text(&d["name"]);
    let (live, deleted) = (
        format!("/secrets/{name}"),
        format!("/deletedsecrets/{name}"),
    );
    let (status, body) = o.vault(&admin, "plain", "GET", &live, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = o.vault(&admin, "plain", "GET", &deleted, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deletedDate"], d["deletedDate"]);
    assert_eq!(body["scheduledPurgeDate"], d["scheduledPurgeDate"]);
    assert!(text(&body["id"]).ends_with(&format!("/secrets/{name}/{}", text(&d["version"]))));
    let recover = format!("{deleted}/recover");
    let (status, body) = o.vault(&admin, "plain", "POST", &recover, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = o.vault(&admin, "plain", "GET", &live, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], d["value"]);
}

#[tokio::test]
async fn the_fixture_principal_keeps_its_secret_and_its_roles() {
    let o = open_copy().await;
    let app = o.bearer("app").await;
    let current = |vault: &str, name: &str| {
        secrets_of(&o.fixture, vault, name)
            .into_iter()
            .find(|s| s["current"] == true)
            .unwrap()["value"]
            .clone()
    };
    // The custom role at /vaults/guarded reads every secret there, and writes none.
    let (status, body) = o
        .vault(&app, "guarded", "GET", "/secrets/db-password", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], current("guarded", "db-password"));
    let (status, body) = o
        .vault(
            &app,
            "guarded",
            "PUT",
            "/secrets/db-password",
            Some(json!({"value": "nope"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Key Vault Secrets User at /vaults/plain/secrets/api-token reads that secret only.
    let (status, body) = o
        .vault(&app, "plain", "GET", "/secrets/api-token", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], current("plain", "api-token"));
    let (status, body) = o.vault(&app, "plain", "GET", "/secrets/other", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = o
        .vault(&app, "default", "GET", "/secrets/hello", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // A wrong client secret gets no token.
    let mut wrong = o.fixture.clone();
    wrong["app"]["client_secret"] = json!("not-the-secret");
    let o = Opened {
        fixture: wrong,
        ..o
    };
    let (status, _) = o.token("app").await;
    assert_ne!(status, StatusCode::OK);
}

#[tokio::test]
async fn roles_assignments_network_rules_and_signing_keys_are_kept() {
    let o = open_copy().await;
    let admin = o.bearer("admin").await;
    let f = &o.fixture;
    let (status, body) = o
        .call(&admin, ADMIN_HOST, "GET", "/admin/role-assignments", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = body.to_string();
    for id in [&f["assignments"]["vault"], &f["assignments"]["object"]] {
        assert!(listed.contains(text(id)), "assignment {id} kept: {body}");
    }
    let (status, body) = o
        .call(&admin, ADMIN_HOST, "GET", "/admin/roles", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.to_string().contains(text(&f["custom_role"]["id"])));
    let (status, body) = o
        .call(
            &admin,
            ADMIN_HOST,
            "GET",
            "/admin/vaults/plain/network-rules",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, f["network_rules"]["plain"]);
    let (status, body) = o
        .call(&admin, ADMIN_HOST, "GET", "/admin/vaults", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let vaults = body.to_string();
    for vault in ["default", "guarded", "plain"] {
        assert!(vaults.contains(&format!("\"{vault}\"")), "{vault}: {body}");
    }
    let keys = format!("/{}/discovery/v2.0/keys", text(&f["tenant_id"]));
    let (status, jwks) = o.send(get(ADMIN_HOST, &keys, &[])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jwks, f["jwks"]);
}
