//! Admin API: the attestation issuers each vault trusts for key release (an issuer URL and its
//! inline JWK set; Arca fetches nothing). Stored by the engine (`arca_engine::attestation`) as
//! sealed vault documents, which go with the vault.

use arca_engine::attestation::{self, AttestationIssuer as Stored};
use arca_proto::admin::{AttestationIssuer, IssuerQuery, List};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

fn answer(stored: Stored) -> AttestationIssuer {
    AttestationIssuer {
        issuer: stored.issuer,
        jwks: stored.jwks,
    }
}

fn not_trusted() -> ApiError {
    ApiError::Missing {
        code: "AttestationIssuerNotFound",
        message: "The vault does not trust this attestation issuer.".into(),
    }
}

/// `GET /admin/vaults/{name}/attestation-issuers[?issuer=...]`: all of them, or one.
pub(super) async fn show(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
    Query(query): Query<IssuerQuery>,
) -> ApiResult<Response> {
    let vault = super::vaults::existing_vault(&state, &name).await?;
    match query.issuer {
        Some(issuer) => match attestation::issuer(&state.engine, &vault, &issuer).await? {
            Some(found) => Ok(Json(answer(found)).into_response()),
            None => Err(not_trusted()),
        },
        None => {
            let all = attestation::issuers(&state.engine, &vault).await?;
            Ok(Json(List::new(all.into_iter().map(answer).collect())).into_response())
        }
    }
}

/// `PUT /admin/vaults/{name}/attestation-issuers`: adds or replaces one issuer.
pub(super) async fn set(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let request: AttestationIssuer = super::body(&state, body).await?;
    let vault = super::vaults::existing_vault(&state, &name).await?;
    let new = Stored {
        issuer: request.issuer,
        jwks: request.jwks,
    };
    let stored = attestation::put_issuer(&state.engine, &vault, new).await?;
    tracing::info!(vault = %vault, "attestation issuer set");
    Ok(Json(answer(stored)).into_response())
}

/// `DELETE /admin/vaults/{name}/attestation-issuers?issuer=...`.
pub(super) async fn remove(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
    Query(query): Query<IssuerQuery>,
) -> ApiResult<Response> {
    let vault = super::vaults::existing_vault(&state, &name).await?;
    let Some(issuer) = query.issuer else {
        return Err(ApiError::BadParameter(
            "Name the issuer to delete in the query (?issuer=...).".into(),
        ));
    };
    if attestation::delete_issuer(&state.engine, &vault, &issuer).await? {
        tracing::info!(vault = %vault, "attestation issuer deleted");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_trusted())
    }
}
