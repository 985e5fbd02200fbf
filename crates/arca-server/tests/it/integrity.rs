//! Attacks by someone who can write the database but does not hold the key file: each test makes
//! its change with a second SQLite connection to the file of a running (in-process) server, the
//! way such an attacker would, and checks that the server refuses the altered record, says so in
//! its log at error level (with kind and id, never content), and keeps serving everything else.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use common::*;
use serde_json::json;

/// The Key Vault Administrator role id.
const ADMINISTRATOR: &str = "00482a5a-887f-4fb3-b363-3b7fe8e74483";
const SHORT: &str = "short.vault.localhost:8443";

/// Log lines written while a test runs (on the test's thread, where the in-process server runs).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Asserts an error-level integrity report naming `id`, and that none of `secrets` leaked.
    #[track_caller]
    fn assert_refused(&self, id: &str, secrets: &[&str]) {
        let text = self.text();
        let reported = text
            .lines()
            .any(|l| l.contains("ERROR") && l.contains("INTEGRITY") && l.contains(id));
        assert!(reported, "no integrity error naming {id} in:\n{text}");
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{secret} leaked into the log:\n{text}"
            );
        }
    }
}

/// The attacker's handle on the database file.
fn database(h: &Harness) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(&h.db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn
}

/// Moves the access generation, as any access write does, so the server reloads.
fn bump(conn: &rusqlite::Connection) {
    conn.execute(
        "UPDATE access_generation SET generation = generation + 1",
        [],
    )
    .unwrap();
}

async fn reload(h: &Harness) {
    h.state.refresh_access().await.unwrap();
}

/// The issue's reproduction: one plain JSON assignment row granting Key Vault Administrator at
/// `/`, inserted into the database of a running server, must grant nothing.
#[tokio::test]
async fn an_assignment_row_inserted_into_the_database_grants_nothing() {
    let (logs, _guard) = Logs::capture();
    let h = harness().await;
    let app = h.app("intruder").await;
    assert_eq!(
        h.call_as(&app.token, ADMIN_HOST, "GET", "/admin/vaults", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let forged = json!({
        "id": "forged",
        "role_id": ADMINISTRATOR,
        "principal_client_id": app.client_id,
        "principal_object_id": app.object_id,
        "scope": "/",
        "created": START,
    });
    let conn = database(&h);
    conn.execute(
        "INSERT INTO policies (kind, id, data) VALUES ('assignment', 'forged', ?1)",
        [serde_json::to_vec(&forged).unwrap()],
    )
    .unwrap();
    bump(&conn);
    reload(&h).await;

    assert_eq!(
        h.call_as(&app.token, ADMIN_HOST, "GET", "/admin/vaults", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let read = h
        .call_as(&app.token, HOST, "GET", &format!("/secrets?{V}"), None)
        .await;
    assert_eq!(read.0, StatusCode::FORBIDDEN, "{}", read.1);
    logs.assert_refused("forged", &[ADMINISTRATOR]);
    // The one bad row takes nothing else down.
    assert_eq!(
        h.call_on(ADMIN_HOST, "GET", "/admin/vaults", None).await.0,
        StatusCode::OK
    );
}

/// Writing a client-secret hash of one's own into an administrator's principal row must not
/// give a way to sign in as it; the altered principal is treated as absent.
#[tokio::test]
async fn a_principal_row_altered_in_the_database_is_refused() {
    let (logs, _guard) = Logs::capture();
    let h = harness().await;
    let own_secret = "attacker-chosen-secret";
    let hash = arca_crypto::hash_client_secret(own_secret.as_bytes()).unwrap();
    let forged = json!({
        "display_name": "test",
        "secrets": [{"id": "s1", "hash": hash, "created": START}],
    });
    let conn = database(&h);
    let changed = conn
        .execute(
            "UPDATE principals SET data = ?1 WHERE client_id = 'client'",
            [serde_json::to_vec(&forged).unwrap()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    bump(&conn);
    reload(&h).await;

    let (status, body) = token_request(&h, &secret_form("client", own_secret)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "{body}"
    );
    assert!(body.get("access_token").is_none());
    // Tokens of the altered principal stop working too (fail closed).
    assert_eq!(
        h.call_on(ADMIN_HOST, "GET", "/admin/vaults", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    logs.assert_refused("client", &[own_secret, &hash]);
}

/// A validly sealed network rule set copied over another vault's (here: an allow-all one over a
/// restrictive one) does not open there, and a vault whose rules do not verify is closed, not
/// opened.
#[tokio::test]
async fn network_rules_moved_or_forged_in_the_database_deny_the_vault() {
    let (logs, _guard) = Logs::capture();
    let h = harness().await;
    h.put(HOST, "a", "v").await;
    h.put(SHORT, "a", "v").await;
    for (vault, rules) in [
        (
            "default",
            json!({"default_action": "deny", "ip_rules": ["10.0.0.0/8"]}),
        ),
        ("short", json!({"default_action": "allow", "ip_rules": []})),
    ] {
        let path = format!("/admin/vaults/{vault}/network-rules");
        let (status, body) = h.call_on(ADMIN_HOST, "PUT", &path, Some(rules)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let get = |host: &str| from_ip(h.request(host, "GET", &secret_path("a"), None), "192.0.2.1");
    assert_eq!(
        split(h.send(get(HOST)).await).await.0,
        StatusCode::FORBIDDEN
    );

    let conn = database(&h);
    conn.execute(
        "UPDATE policies SET data = (SELECT data FROM policies WHERE kind = 'network' AND id = 'short') \
         WHERE kind = 'network' AND id = 'default'",
        [],
    )
    .unwrap();
    bump(&conn);
    reload(&h).await;
    let moved = split(h.send(get(HOST)).await).await;
    assert_eq!(moved.0, StatusCode::FORBIDDEN, "{}", moved.1);
    assert_eq!(code(&moved.1).1, Some("ForbiddenByFirewall"));
    // Even from an address the real rules admitted: the vault is closed, not guessed at.
    let inside = from_ip(h.request(HOST, "GET", &secret_path("a"), None), "10.1.2.3");
    assert_eq!(split(h.send(inside).await).await.0, StatusCode::FORBIDDEN);
    logs.assert_refused("default", &[]);

    conn.execute(
        "UPDATE policies SET data = ?1 WHERE kind = 'network' AND id = 'default'",
        [br#"{"default_action":"Allow","ip_rules":[]}"#.to_vec()],
    )
    .unwrap();
    bump(&conn);
    reload(&h).await;
    assert_eq!(
        split(h.send(get(HOST)).await).await.0,
        StatusCode::FORBIDDEN
    );
    // The other vault, whose rules verify, is untouched.
    assert_eq!(split(h.send(get(SHORT)).await).await.0, StatusCode::OK);
}

/// A sealed assignment moved to another id does not verify there (its associated data names
/// the id it was sealed for), so it grants nothing.
#[tokio::test]
async fn an_assignment_moved_to_another_id_grants_nothing() {
    let (logs, _guard) = Logs::capture();
    let h = harness().await;
    let conn = database(&h);
    conn.execute(
        "UPDATE policies SET id = 'moved' WHERE kind = 'assignment' AND id = 'admin'",
        [],
    )
    .unwrap();
    bump(&conn);
    reload(&h).await;
    assert_eq!(
        h.call_on(ADMIN_HOST, "GET", "/admin/vaults", None).await.0,
        StatusCode::FORBIDDEN
    );
    logs.assert_refused("moved", &[]);
}

/// Flipping a disabled version's `enabled` column back to 1 (or changing its expiry) does not
/// make the server serve it: the attributes are bound into the sealed metadata.
#[tokio::test]
async fn a_version_re_enabled_in_the_database_is_still_refused() {
    let (logs, _guard) = Logs::capture();
    let h = harness().await;
    let (_, set) = h.put(HOST, "db", "disabled-value").await;
    let version = version_of(&set);
    let path = format!("/secrets/db/{version}?{V}");
    let (status, body) = h
        .call(
            "PATCH",
            &path,
            Some(json!({"attributes": {"enabled": false}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        h.call("GET", &format!("/secrets/db?{V}"), None).await.0,
        StatusCode::FORBIDDEN
    );
    h.put(HOST, "other", "kept").await;

    let conn = database(&h);
    let changed = conn
        .execute("UPDATE versions SET enabled = 1 WHERE lname = 'db'", [])
        .unwrap();
    assert_eq!(changed, 1);
    let (status, body) = h.call("GET", &format!("/secrets/db?{V}"), None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(!body.to_string().contains("disabled-value"));
    let (status, body) = h.call("GET", &path, None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    logs.assert_refused(&version, &["disabled-value"]);
    // Listings leave it out and show the rest.
    let (status, list) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<String> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| text(&i["id"]))
        .collect();
    assert!(ids.iter().all(|id| !id.ends_with("/db")), "{ids:?}");
    assert!(ids.iter().any(|id| id.ends_with("/other")), "{ids:?}");

    conn.execute(
        "UPDATE versions SET exp = 4102444800 WHERE lname = 'other'",
        [],
    )
    .unwrap();
    assert_eq!(
        h.call("GET", &format!("/secrets/other?{V}"), None).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

/// Pointing an object's current version back at an older version does not roll the secret back.
#[tokio::test]
async fn a_current_version_rolled_back_in_the_database_is_refused() {
    let (logs, _guard) = Logs::capture();
    let h = harness().await;
    let (_, old) = h.put(HOST, "db", "old-password").await;
    let old_version = version_of(&old);
    h.put(HOST, "db", "new-password").await;

    let conn = database(&h);
    let changed = conn
        .execute(
            "UPDATE objects SET current_version = ?1 WHERE lname = 'db'",
            [&old_version],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let (status, body) = h.call("GET", &format!("/secrets/db?{V}"), None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(!body.to_string().contains("old-password"));
    logs.assert_refused(&old_version, &["old-password", "new-password"]);
    let (_, list) = h.call("GET", &format!("/secrets?{V}"), None).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 0, "{list}");
    // The older version stays readable by its id, as Key Vault allows.
    let (status, body) = h
        .call("GET", &format!("/secrets/db/{old_version}?{V}"), None)
        .await;
    assert_eq!(
        (status, body["value"].as_str()),
        (StatusCode::OK, Some("old-password"))
    );
}

/// Creates an EC P-256 key called `name` (or a new version of it); returns its version id.
async fn create_signing_key(h: &Harness, name: &str) -> String {
    let (status, body) = h
        .call(
            "POST",
            &format!("/keys/{name}/create?{V}"),
            Some(json!({"kty": "EC", "crv": "P-256"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    text(&body["key"]["kid"])
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// Signs a fixed digest with the key at `name` (`version` empty: the current one).
async fn sign_with(h: &Harness, name: &str, version: &str) -> (StatusCode, serde_json::Value) {
    let digest = arca_server::b64url(&[7; 32]);
    h.call(
        "POST",
        &format!("/keys/{name}/{version}/sign?{V}"),
        Some(json!({"alg": "ES256", "value": digest})),
    )
    .await
}

/// Copies `column` (`value`, the sealed private key, or `meta`) of the key `from`'s version over
/// the key `to`'s, as an attacker with the database would.
fn copy_key_column(conn: &rusqlite::Connection, column: &str, from: &str, to: &str) {
    let changed = conn
        .execute(
            &format!(
                "UPDATE versions SET {column} = (SELECT {column} FROM versions \
                 WHERE kind = 'key' AND lname = ?1) \
                 WHERE kind = 'key' AND lname = ?2"
            ),
            [from, to],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

/// Signing with the key `name` at `version` is refused as an altered record (500), and the
/// answer carries no signature.
async fn assert_sign_refused(h: &Harness, name: &str, version: &str) {
    let (status, body) = sign_with(h, name, version).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(body.get("value").is_none(), "{body}");
}

/// Copying another key's sealed private key (and its sealed metadata, which holds the public
/// half) over a key's version does not make the server sign with the other key: both are
/// sealed with their own name and version as associated data. (The victim has not signed
/// before the change; [`a_cached_key_altered_in_the_database_signs_nothing`] is the same attack
/// on a key the engine has cached.)
#[tokio::test]
async fn a_private_key_swapped_in_the_database_signs_nothing() {
    let (logs, _guard) = Logs::capture();
    let h = harness().await;
    let victim = create_signing_key(&h, "victim").await;
    let attacker = create_signing_key(&h, "attacker").await;

    let conn = database(&h);
    for column in ["value", "meta"] {
        copy_key_column(&conn, column, "attacker", "victim");
        assert_sign_refused(&h, "victim", &victim).await;
    }
    logs.assert_refused(&victim, &[]);
    // The key whose material was copied still works.
    let (status, body) = sign_with(&h, "attacker", &attacker).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The same attacks on a key that has signed already, whose parsed key and metadata the engine
/// has cached: the cache serves only the exact records it was made from, so a swapped private
/// key or metadata, or a disabled version re-enabled in the database, is opened and refused as
/// if nothing were cached; put back, the key signs again.
#[tokio::test]
async fn a_cached_key_altered_in_the_database_signs_nothing() {
    let (logs, _guard) = Logs::capture();
    let h = harness().await;
    let victim = create_signing_key(&h, "victim").await;
    let attacker = create_signing_key(&h, "attacker").await;
    assert_eq!(sign_with(&h, "victim", &victim).await.0, StatusCode::OK);
    assert_eq!(sign_with(&h, "attacker", &attacker).await.0, StatusCode::OK);

    let conn = database(&h);
    for column in ["value", "meta"] {
        let original: Vec<u8> = conn
            .query_row(
                &format!("SELECT {column} FROM versions WHERE kind = 'key' AND lname = 'victim'"),
                [],
                |row| row.get(0),
            )
            .unwrap();
        copy_key_column(&conn, column, "attacker", "victim");
        assert_sign_refused(&h, "victim", &victim).await;
        conn.execute(
            &format!("UPDATE versions SET {column} = ?1 WHERE kind = 'key' AND lname = 'victim'"),
            [&original],
        )
        .unwrap();
        assert_eq!(sign_with(&h, "victim", &victim).await.0, StatusCode::OK);
    }
    logs.assert_refused(&victim, &[]);

    // Disabled through the API, then re-enabled in the database.
    let (status, body) = h
        .call(
            "PATCH",
            &format!("/keys/victim/{victim}?{V}"),
            Some(json!({"attributes": {"enabled": false}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        sign_with(&h, "victim", &victim).await.0,
        StatusCode::FORBIDDEN
    );
    let enable = "UPDATE versions SET enabled = 1 WHERE kind = 'key' AND lname = 'victim'";
    assert_eq!(conn.execute(enable, []).unwrap(), 1);
    assert_sign_refused(&h, "victim", &victim).await;
    assert_eq!(sign_with(&h, "attacker", &attacker).await.0, StatusCode::OK);
}

/// An older version's sealed private key copied onto the newer version of the same key (the
/// rotation an attacker would undo) is refused, and so is pointing the key back at the older
/// version as its current one.
#[tokio::test]
async fn a_rotated_key_rolled_back_in_the_database_is_refused() {
    let (logs, _guard) = Logs::capture();
    let h = harness().await;
    let old = create_signing_key(&h, "rotated").await;
    let new = create_signing_key(&h, "rotated").await;
    let conn = database(&h);
    let select =
        "SELECT value FROM versions WHERE kind = 'key' AND lname = 'rotated' AND version = ?1";
    let update =
        "UPDATE versions SET value = ?1 WHERE kind = 'key' AND lname = 'rotated' AND version = ?2";
    let value_of =
        |version: &str| -> Vec<u8> { conn.query_row(select, [version], |row| row.get(0)).unwrap() };

    // The older key's material on the newer version (read from storage: not signed with yet).
    let (old_value, new_value) = (value_of(&old), value_of(&new));
    conn.execute(update, rusqlite::params![old_value, new])
        .unwrap();
    let (status, body) = sign_with(&h, "rotated", &new).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    logs.assert_refused("what=\"key\"", &[]);
    conn.execute(update, rusqlite::params![new_value, new])
        .unwrap();
    assert_eq!(sign_with(&h, "rotated", &new).await.0, StatusCode::OK);

    // The key pointed back at the older version as its current one.
    let point_at =
        "UPDATE objects SET current_version = ?1 WHERE kind = 'key' AND lname = 'rotated'";
    assert_eq!(conn.execute(point_at, [&old]).unwrap(), 1);
    let (status, body) = sign_with(&h, "rotated", "").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    logs.assert_refused(&old, &[]);
    conn.execute(point_at, [&new]).unwrap();
    assert_eq!(sign_with(&h, "rotated", "").await.0, StatusCode::OK);
    // The older version, untouched, still signs by its id.
    assert_eq!(sign_with(&h, "rotated", &old).await.0, StatusCode::OK);
}
