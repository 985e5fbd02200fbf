//! Admin API: the token signing keys and their rotation.

use arca_proto::admin::{List, SigningKey};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, SharedState};

fn listing(state: &AppState) -> Response {
    let keys = state.issuer.keys();
    let value = keys
        .info
        .iter()
        .map(|k| SigningKey {
            active: k.active,
            created: k.created,
            kid: k.kid.clone(),
            retires: k.retires,
        })
        .collect();
    Json(List::<SigningKey>::new(value)).into_response()
}

pub(super) async fn list(State(state): State<SharedState>, _admin: Admin) -> ApiResult<Response> {
    Ok(listing(&state))
}

pub(super) async fn rotate(State(state): State<SharedState>, _admin: Admin) -> ApiResult<Response> {
    let keys = crate::identity::keys::rotate(
        &*state.store,
        &state.keyring,
        state.clock.now(),
        state.issuer.key_overlap(),
    )
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "signing key rotation failed");
        ApiError::Internal
    })?;
    let kid = keys.signing.kid().to_owned();
    state.issuer.set_keys(keys);
    super::changed(&state).await;
    tracing::info!(%kid, "token signing key rotated");
    Ok(listing(&state))
}
