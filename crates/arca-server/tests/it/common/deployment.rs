//! A deployment as `arca serve` prepares it (`bootstrap::prepare` on a temporary data directory:
//! the bootstrap administrator, bootstrap.json, the configured managed-identity defaults), driven
//! in-process through the whole router. The identity tests share it.

use std::sync::Arc;

use arca_core::FixedClock;
use arca_server::config::Settings;
use arca_server::state::AppState;
use arca_store::Store;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::{form, json_body, json_request, split, text, token_form, ADMIN_HOST, SCOPE, START};

pub struct Deployment {
    pub dir: tempfile::TempDir,
    pub state: Arc<AppState>,
    pub app: axum::Router,
    /// bootstrap.json as the deployment wrote it.
    pub boot: Value,
}

/// The settings of a deployment in `dir`, plus `extra` (`app_service_identity` and friends).
fn settings(dir: &std::path::Path, extra: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings {
        data_dir: Some(dir.join("data").display().to_string()),
        key_file: Some(dir.join("arca.key").display().to_string()),
        listen: Some("127.0.0.1:8443".into()),
        ..Settings::default()
    };
    extra(&mut s);
    s
}

/// Prepares (or reopens) the deployment whose data directory is in `dir`.
async fn open(dir: tempfile::TempDir, extra: impl FnOnce(&mut Settings)) -> Deployment {
    let (config, _) = arca_server::Config::load(None, &settings(dir.path(), extra)).unwrap();
    let data_dir = arca_server::bootstrap::ensure_data_dir(&config.data_dir).unwrap();
    let store: Arc<dyn Store> =
        Arc::new(arca_store_sqlite::SqliteStore::open(&data_dir.join("arca.db")).unwrap());
    let clock = Arc::new(FixedClock::new(START));
    let prepared = arca_server::bootstrap::prepare(&config, 8443, store, clock)
        .await
        .unwrap();
    let state = prepared.state;
    let app = arca_server::router::build(state.clone());
    let boot =
        serde_json::from_slice(&std::fs::read(data_dir.join("bootstrap.json")).unwrap()).unwrap();
    Deployment {
        dir,
        state,
        app,
        boot,
    }
}

/// A new deployment in a temporary directory, with `extra` settings.
pub async fn deployment(extra: impl FnOnce(&mut Settings)) -> Deployment {
    open(tempfile::tempdir().unwrap(), extra).await
}

impl Deployment {
    /// Status and JSON body (Null when empty) of `request`.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        split(self.app.clone().oneshot(request).await.unwrap()).await
    }

    /// A string member of bootstrap.json.
    pub fn boot(&self, key: &str) -> String {
        text(&self.boot[key])
    }

    /// Stops this deployment and prepares its data directory again, with `extra` settings, as a
    /// restart (or another replica) would.
    pub async fn reopen(self, extra: impl FnOnce(&mut Settings)) -> Deployment {
        let Deployment {
            dir, state, app, ..
        } = self;
        drop(app);
        drop(state);
        open(dir, extra).await
    }

    /// A v2 token of the bootstrap administrator for `scope`, through its client secret.
    pub async fn token_for(&self, scope: &str) -> String {
        let mut request = token_form(&form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &self.boot("client_id")),
            ("client_secret", &self.boot("client_secret")),
            ("scope", scope),
        ]));
        *request.uri_mut() = format!("/{}/oauth2/v2.0/token", self.boot("tenant_id"))
            .parse()
            .unwrap();
        let (status, body) = self.send(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        text(&body["access_token"])
    }

    /// A request to the admin API with a data-plane token of the bootstrap administrator.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let token = self.token_for(SCOPE).await;
        let request = json_request(Some(&token), ADMIN_HOST, method, path, json_body(body));
        self.send(request).await
    }

    /// A managed identity made through the admin API; returns its client id.
    pub async fn managed_identity(&self) -> String {
        let body = json!({"display_name": "mi", "kind": "managed_identity"});
        let (status, p) = self.admin("POST", "/admin/principals", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        text(&p["client_id"])
    }
}
