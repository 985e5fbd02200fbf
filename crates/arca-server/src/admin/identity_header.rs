//! Admin API: the App Service managed-identity endpoint's `X-IDENTITY-HEADER` and its rotation.

use arca_proto::admin::IdentityHeader;
use arca_proto::SecretText;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// `POST /admin/identity-header/rotate`: a new random header replaces the old one, which stops
/// working at once; `bootstrap.json` is rewritten with it. The answer is the only place the new
/// header is shown.
pub(super) async fn rotate(State(state): State<SharedState>, _admin: Admin) -> ApiResult<Response> {
    let header = crate::bootstrap::rotate_identity_header(&state)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "identity header rotation failed");
            ApiError::Internal
        })?;
    tracing::info!("managed-identity header rotated");
    let answer = IdentityHeader {
        identity_header: SecretText::new(header.expose().to_owned()),
    };
    Ok(Json(answer).into_response())
}
