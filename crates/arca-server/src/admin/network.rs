//! Admin API: network rules of each vault and of the admin API itself.

use arca_proto::admin::NetworkRules as RulesBody;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::access::{kinds, policy_record, NetworkRules, NetworkRulesDoc, ADMIN_NETWORK_ID};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, SharedState};

/// The rules stored under `id`, or the open default.
fn current(state: &AppState, id: &str) -> RulesBody {
    state.access.snapshot().network.get(id).map_or_else(
        || RulesBody {
            default_action: "Allow".into(),
            ip_rules: Vec::new(),
        },
        |rules| answer(rules.to_doc()),
    )
}

/// The wire body of a stored rule set.
fn answer(doc: NetworkRulesDoc) -> RulesBody {
    RulesBody {
        default_action: doc.default_action,
        ip_rules: doc.ip_rules,
    }
}

fn checked(body: RulesBody) -> ApiResult<NetworkRules> {
    let doc = NetworkRulesDoc {
        default_action: body.default_action,
        ip_rules: body.ip_rules,
    };
    NetworkRules::from_doc(&doc).map_err(ApiError::BadParameter)
}

async fn store_rules(state: &AppState, id: &str, rules: &NetworkRules) -> ApiResult<Response> {
    let doc = rules.to_doc();
    state
        .store
        .put_policy(&policy_record(&state.keyring, kinds::NETWORK, id, &doc)?)
        .await?;
    super::changed(state).await;
    tracing::info!(rules = id, default_action = %doc.default_action, count = doc.ip_rules.len(), "network rules set");
    Ok(Json(answer(doc)).into_response())
}

pub(super) async fn show_vault(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let vault = super::vaults::existing_vault(&state, &name).await?;
    Ok(Json(current(&state, &vault)).into_response())
}

pub(super) async fn set_vault(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let request: RulesBody = super::body(&state, body).await?;
    let vault = super::vaults::existing_vault(&state, &name).await?;
    let rules = checked(request)?;
    store_rules(&state, &vault, &rules).await
}

pub(super) async fn show_admin(
    State(state): State<SharedState>,
    _admin: Admin,
) -> ApiResult<Response> {
    Ok(Json(current(&state, ADMIN_NETWORK_ID)).into_response())
}

pub(super) async fn set_admin(
    State(state): State<SharedState>,
    admin: Admin,
    body: Body,
) -> ApiResult<Response> {
    let request: RulesBody = super::body(&state, body).await?;
    let rules = checked(request)?;
    let peer = admin.peer;
    if !rules.admits(peer) {
        let shown = peer.map_or_else(
            || "unknown".to_owned(),
            |p| crate::access::network::canonical(p).to_string(),
        );
        return Err(ApiError::Conflict {
            message: format!(
                "These rules would refuse the address making this request ({shown}) and lock the admin API; include it in ip_rules."
            ),
            inner: None,
        });
    }
    store_rules(&state, ADMIN_NETWORK_ID, &rules).await
}
