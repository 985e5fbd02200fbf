//! The admin API, on the deployment host under `/admin` (contract: `docs/admin-api.md`): vaults,
//! principals and their credentials, roles and role assignments, federated credentials, network
//! rules, each vault's throttling, each vault's attestation issuers (for key release), the token signing keys, the
//! managed-identity header, and the built-in certificate issuer's CA and each vault issuer's
//! permitted DNS suffixes.
//!
//! Every handler takes the [`Admin`] extractor, which runs [`authorize`] first: a bearer token from Arca's issuer (401 with the
//! challenge otherwise), the admin network rules (403 ForbiddenByFirewall), and the
//! administration action at scope `/` (403 ForbiddenByRbac). After a change it refreshes the
//! access snapshot, so the change governs the very next request.

mod attestation;
mod ca;
mod federation;
mod identity_header;
mod issuer_suffixes;
mod keys;
mod network;
pub(crate) mod principals;
mod roles;
mod throttling;
mod vaults;

use std::net::IpAddr;

use axum::http::HeaderMap;
use axum::routing::{delete, get, post};
use axum::Router;

use crate::access::{self, Scope, ADMIN_ACTION, ADMIN_NETWORK_ID};
use crate::auth::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, SharedState};

/// Largest admin request body.
pub(crate) const MAX_ADMIN_BODY: usize = 64 * 1024;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/vaults", get(vaults::list).post(vaults::create))
        .route("/vaults/{name}", get(vaults::show).delete(vaults::remove))
        .route(
            "/vaults/{name}/network-rules",
            get(network::show_vault).put(network::set_vault),
        )
        .route(
            "/vaults/{name}/throttling",
            get(throttling::show)
                .put(throttling::set)
                .delete(throttling::remove),
        )
        .route(
            "/vaults/{name}/attestation-issuers",
            get(attestation::show)
                .put(attestation::set)
                .delete(attestation::remove),
        )
        .route(
            "/vaults/{name}/certificate-issuer-suffixes",
            get(issuer_suffixes::list),
        )
        .route(
            "/vaults/{name}/certificate-issuer-suffixes/{issuer}",
            get(issuer_suffixes::show)
                .put(issuer_suffixes::set)
                .delete(issuer_suffixes::remove),
        )
        .route("/issuing-ca", get(ca::show).put(ca::import))
        .route(
            "/network-rules",
            get(network::show_admin).put(network::set_admin),
        )
        .route(
            "/principals",
            get(principals::list).post(principals::create),
        )
        .route(
            "/principals/{principal}",
            get(principals::show).delete(principals::remove),
        )
        .route(
            "/principals/{principal}/secrets",
            post(principals::add_secret),
        )
        .route(
            "/principals/{principal}/secrets/{id}",
            delete(principals::remove_secret),
        )
        .route(
            "/principals/{principal}/certificates",
            post(principals::add_certificate),
        )
        .route(
            "/principals/{principal}/certificates/{id}",
            delete(principals::remove_certificate),
        )
        .route("/roles", get(roles::list).post(roles::define))
        .route("/roles/{role}", get(roles::show).delete(roles::remove))
        .route(
            "/role-assignments",
            get(roles::assignments).post(roles::assign),
        )
        .route("/role-assignments/{id}", delete(roles::unassign))
        .route("/check-access", post(roles::check_access))
        .route(
            "/federated-credentials",
            get(federation::list).post(federation::add),
        )
        .route("/federated-credentials/{id}", delete(federation::remove))
        .route("/signing-keys", get(keys::list))
        .route("/signing-keys/rotate", post(keys::rotate))
        .route("/identity-header/rotate", post(identity_header::rotate))
}

/// Extractor of an authorized admin request: runs [`authorize`] before any other part of the
/// request (path, query, body) is looked at.
pub(crate) struct Admin {
    /// The client's address.
    pub peer: Option<IpAddr>,
}

impl axum::extract::FromRequestParts<SharedState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let peer = crate::auth::peer_ip(&parts.extensions);
        authorize(state, &parts.headers, peer)?;
        Ok(Admin { peer })
    }
}

/// Authenticates the caller and checks the admin network rules and the administration action.
pub(crate) fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> ApiResult<std::sync::Arc<Caller>> {
    let caller = crate::auth::authenticate(state, headers)?;
    let snapshot = state.access.snapshot();
    if !snapshot.admits(ADMIN_NETWORK_ID, peer) {
        tracing::info!(peer = ?peer, "admin request refused by the admin network rules");
        crate::request_log::refused("the admin network rules do not admit the address");
        return Err(access::firewall_denial(
            peer,
            &caller,
            &state.issuer.issuer,
            "admin",
        ));
    }
    let root = Scope::root();
    let decision = access::decide(&snapshot, &caller.object_id, ADMIN_ACTION, &root);
    if decision.allowed {
        crate::request_log::allowed(decision.role_name, decision.assignment_scope);
    } else {
        crate::request_log::refused(crate::request_log::describe(
            decision.reason,
            ADMIN_ACTION,
            &root,
        ));
        tracing::info!(client_id = %caller.client_id, "admin request denied by role-based access control");
        return Err(access::rbac_denial(
            &decision,
            &caller,
            &state.issuer.issuer,
            None,
        ));
    }
    Ok(caller)
}

/// Makes a change visible to the next request of this process at once.
pub(crate) async fn changed(state: &AppState) {
    if let Err(e) = state.refresh_access().await {
        tracing::warn!(error = %e, "access refresh after a change failed; the poll will retry");
    }
}

/// Reads (through the body budget) and parses a JSON admin body. Handlers call it after the
/// [`Admin`] extractor has authorized the request; a body they leave unread is discarded in the
/// background (the router hands them an `Unread` body).
pub(crate) async fn body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    body: axum::body::Body,
) -> ApiResult<T> {
    let body = crate::body::Unread::new(body, MAX_ADMIN_BODY);
    let bytes = crate::body::read(&state.bodies, body, MAX_ADMIN_BODY).await?;
    crate::dataplane::parse_json(&bytes)
}

/// A fresh random UUID.
pub(crate) fn new_id() -> ApiResult<String> {
    crate::seal::new_uuid().map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        ApiError::Internal
    })
}

/// Truncates user input quoted in an error message.
pub(crate) fn shown(raw: &str) -> String {
    raw.chars().take(80).collect()
}

/// Refuses a change that would remove every Key Vault Administrator assignment at `/`: nobody
/// could administer the deployment afterwards.
pub(crate) fn refuse_removing_last_admin(
    snapshot: &access::Snapshot,
    removing: &[String],
) -> ApiResult<()> {
    let admins = snapshot.root_administrators();
    if !admins.is_empty() && admins.iter().all(|a| removing.contains(&a.id)) {
        return Err(ApiError::Conflict {
            message: "This would remove the last Key Vault Administrator assignment at scope /; assign the role to another principal first.".into(),
            inner: Some("LastAdministrator"),
        });
    }
    Ok(())
}
