//! Admin API: the DNS suffixes each vault's `Arca` certificate issuer may sign for, one list
//! per issuer name (`/admin/vaults/{name}/certificate-issuer-suffixes[/{issuer}]`). An
//! administration setting, not a data-plane one: a vault user who manages the vault's issuers
//! cannot widen what the deployment's CA signs. Refused here: suffixes overlapping Arca's own
//! names (`Urls::own_dns_names`). Stored sealed by the engine
//! (`arca_engine::certificates::arca_issuer::suffixes`).

use arca_core::ObjectName;
use arca_engine::certificates::arca_issuer::suffixes::{self, IssuerSuffixes as Stored};
use arca_proto::admin::{IssuerSuffixes, List, SetIssuerSuffixes};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, SharedState};

fn answer(stored: Stored) -> IssuerSuffixes {
    IssuerSuffixes {
        issuer: stored.issuer,
        suffixes: stored.suffixes,
        updated: stored.updated,
    }
}

fn issuer_name(raw: &str) -> ApiResult<ObjectName> {
    ObjectName::parse(raw).map_err(|_| {
        ApiError::BadParameter(format!(
            "{:?} is not an issuer name (1 to 127 letters, digits and dashes).",
            super::shown(raw)
        ))
    })
}

/// The vault (which must exist) and the issuer a path names.
async fn target(state: &AppState, vault: &str, issuer: &str) -> ApiResult<(String, ObjectName)> {
    let vault = super::vaults::existing_vault(state, vault).await?;
    Ok((vault, issuer_name(issuer)?))
}

fn not_set() -> ApiError {
    ApiError::Missing {
        code: "IssuerSuffixesNotFound",
        message: "No DNS suffixes are set for this issuer: it issues nothing.".into(),
    }
}

/// `GET /admin/vaults/{name}/certificate-issuer-suffixes`: every list of the vault.
pub(super) async fn list(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let vault = super::vaults::existing_vault(&state, &name).await?;
    let all = suffixes::list(&state.engine, &vault).await?;
    Ok(Json(List::new(all.into_iter().map(answer).collect())).into_response())
}

/// `GET /admin/vaults/{name}/certificate-issuer-suffixes/{issuer}`.
pub(super) async fn show(
    State(state): State<SharedState>,
    _admin: Admin,
    Path((name, issuer)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (vault, issuer) = target(&state, &name, &issuer).await?;
    match suffixes::get(&state.engine, &vault, &issuer).await? {
        Some(found) => Ok(Json(answer(found)).into_response()),
        None => Err(not_set()),
    }
}

/// `PUT /admin/vaults/{name}/certificate-issuer-suffixes/{issuer}`: sets (replaces) the list.
pub(super) async fn set(
    State(state): State<SharedState>,
    _admin: Admin,
    Path((name, issuer)): Path<(String, String)>,
    body: Body,
) -> ApiResult<Response> {
    let request: SetIssuerSuffixes = super::body(&state, body).await?;
    let (vault, issuer) = target(&state, &name, &issuer).await?;
    let stored = suffixes::set(
        &state.engine,
        &vault,
        &issuer,
        &request.suffixes,
        &state.urls.own_dns_names,
    )
    .await?;
    tracing::info!(vault = %vault, issuer = issuer.as_str(), suffixes = ?stored.suffixes, "certificate issuer suffixes set");
    Ok(Json(answer(stored)).into_response())
}

/// `DELETE /admin/vaults/{name}/certificate-issuer-suffixes/{issuer}`: the issuer then issues
/// nothing.
pub(super) async fn remove(
    State(state): State<SharedState>,
    _admin: Admin,
    Path((name, issuer)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (vault, issuer) = target(&state, &name, &issuer).await?;
    if suffixes::delete(&state.engine, &vault, &issuer).await? {
        tracing::info!(vault = %vault, issuer = issuer.as_str(), "certificate issuer suffixes deleted");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_set())
    }
}
