//! Principals, roles and requests made through the admin API, as a deployment would make them:
//! the [`Harness`] methods the access-control and integrity tests share.

use arca_proto::admin::{
    AddSecret, Assign, CreatePrincipal, CreateVault, DefineRole, PrincipalKind,
};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

use super::{
    secret_form, secret_path, split, text, token_request, with_token, Harness, ADMIN_HOST,
};

/// A service principal made through the admin API, with one client secret and a token obtained
/// with it from the token endpoint.
pub struct App {
    pub client_id: String,
    pub object_id: String,
    pub secret_id: String,
    pub secret: String,
    pub token: String,
}

impl Harness {
    /// A request to the admin API with the administrator's token.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_on(ADMIN_HOST, method, path, body).await
    }

    /// Like [`Harness::admin`], asserting the status.
    pub async fn admin_ok(
        &self,
        expected: StatusCode,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, answer) = self.admin(method, path, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        answer
    }

    /// A GET of the admin API that must succeed.
    pub async fn admin_get(&self, path: &str) -> Value {
        self.admin_ok(StatusCode::OK, "GET", path, None).await
    }

    /// Creates a vault with the default settings.
    pub async fn create_vault(&self, name: &str) {
        let body = typed(&CreateVault {
            name: name.into(),
            purge_protection: None,
            retention_days: None,
        });
        self.admin_ok(StatusCode::CREATED, "POST", "/admin/vaults", Some(body))
            .await;
    }

    /// Creates a principal of `kind` (`service_principal` or `managed_identity`).
    pub async fn create_principal(&self, name: &str, kind: &str) -> Value {
        let body = typed(&CreatePrincipal {
            display_name: name.into(),
            kind: Some(match kind {
                "service_principal" => PrincipalKind::ServicePrincipal,
                "managed_identity" => PrincipalKind::ManagedIdentity,
                other => panic!("no principal kind {other}"),
            }),
        });
        self.admin_ok(StatusCode::CREATED, "POST", "/admin/principals", Some(body))
            .await
    }

    /// Adds a client secret to a principal; returns its id and the secret.
    pub async fn add_secret(&self, principal: &str) -> (String, String) {
        let path = format!("/admin/principals/{principal}/secrets");
        let added = self
            .admin_ok(
                StatusCode::CREATED,
                "POST",
                &path,
                Some(typed(&AddSecret::default())),
            )
            .await;
        (text(&added["id"]), text(&added["secret"]))
    }

    /// A token from the token endpoint through a client secret.
    pub async fn token_by_secret(&self, client_id: &str, secret: &str) -> String {
        let (status, body) = token_request(self, &secret_form(client_id, secret)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        text(&body["access_token"])
    }

    /// A service principal with one client secret and a token through it, and no role.
    pub async fn app(&self, name: &str) -> App {
        let p = self.create_principal(name, "service_principal").await;
        let client_id = text(&p["client_id"]);
        let (secret_id, secret) = self.add_secret(&client_id).await;
        let token = self.token_by_secret(&client_id, &secret).await;
        App {
            object_id: text(&p["object_id"]),
            client_id,
            secret_id,
            secret,
            token,
        }
    }

    /// A service principal holding `role` at `scope`.
    pub async fn app_with(&self, name: &str, role: &str, scope: &str) -> App {
        let app = self.app(name).await;
        self.assign(role, &app.client_id, scope).await;
        app
    }

    /// Defines a custom role; returns its id.
    pub async fn define_role(&self, name: &str, actions: &[&str], not_actions: &[&str]) -> String {
        let strings = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        let body = typed(&DefineRole {
            data_actions: strings(actions),
            description: None,
            name: name.into(),
            not_data_actions: Some(strings(not_actions)),
        });
        let role = self
            .admin_ok(StatusCode::CREATED, "POST", "/admin/roles", Some(body))
            .await;
        text(&role["id"])
    }

    /// Assigns `role` (id or name) to `principal` at `scope`; returns the assignment.
    pub async fn assignment(&self, role: &str, principal: &str, scope: &str) -> Value {
        let body = typed(&Assign {
            principal: principal.into(),
            role: role.into(),
            scope: scope.into(),
        });
        self.admin_ok(
            StatusCode::CREATED,
            "POST",
            "/admin/role-assignments",
            Some(body),
        )
        .await
    }

    /// Like [`Harness::assignment`]; returns the assignment id.
    pub async fn assign(&self, role: &str, principal: &str, scope: &str) -> String {
        text(&self.assignment(role, principal, scope).await["id"])
    }

    pub async fn unassign(&self, id: &str) {
        let path = format!("/admin/role-assignments/{id}");
        self.admin_ok(StatusCode::NO_CONTENT, "DELETE", &path, None)
            .await;
    }

    /// The request [`Harness::request`] builds, with `token` instead of the administrator's.
    pub fn request_as(
        &self,
        token: &str,
        host: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Request<Body> {
        with_token(self.request(host, method, path, body), Some(token))
    }

    pub async fn call_as(
        &self,
        token: &str,
        host: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        split(
            self.send(self.request_as(token, host, method, path, body))
                .await,
        )
        .await
    }

    /// Reads secret `name` of the vault at `host` with `token`.
    pub async fn read_as(&self, token: &str, host: &str, name: &str) -> (StatusCode, Value) {
        self.call_as(token, host, "GET", &secret_path(name), None)
            .await
    }
}

/// An admin request body built from its `arca_proto::admin` type.
fn typed(body: &impl serde::Serialize) -> Value {
    serde_json::to_value(body).unwrap()
}
