//! Admin API: each vault's throttling (`crate::throttle`): `GET` what applies (the vault's own
//! setting, else the deployment's), `PUT` the vault's own, `DELETE` it to return to the
//! deployment's. Stored as a sealed policy document, so it reaches every replica with the access
//! snapshot, within a second.

use arca_core::throttle::{ThrottleSettings, WINDOW_MS};
use arca_proto::admin::{SetThrottling, ThrottleLimits, Throttling};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::access::{kinds, policy_record};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, SharedState};

/// The answer for `vault` from the current snapshot.
fn current(state: &AppState, vault: &str) -> Throttling {
    let snapshot = state.access.snapshot();
    let own = snapshot.throttle.get(vault).copied();
    let settings = own.unwrap_or_else(|| state.throttle.default_settings());
    let limits = settings.limits();
    Throttling {
        enabled: settings.enabled,
        factor: settings.factor(),
        limits: ThrottleLimits {
            key_create: limits.key_create,
            key_other: limits.key_other,
            secret_create: limits.secret_create,
            secret_other: limits.secret_other,
        },
        source: if own.is_some() { "vault" } else { "deployment" }.to_owned(),
        window_seconds: (WINDOW_MS / 1000) as u32,
    }
}

/// The settings a `PUT` body asks for; 400 when the factor is out of range.
fn checked(body: &SetThrottling) -> ApiResult<ThrottleSettings> {
    let factor = body.factor.unwrap_or(1.0);
    let scaled = ThrottleSettings::scaled(factor).ok_or_else(|| {
        ApiError::BadParameter(
            "factor must be a number from 0.001 to 100 (1: Key Vault's limits).".into(),
        )
    })?;
    Ok(ThrottleSettings {
        enabled: body.enabled,
        ..scaled
    })
}

pub(super) async fn show(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let vault = super::vaults::existing_vault(&state, &name).await?;
    Ok(Json(current(&state, &vault)).into_response())
}

pub(super) async fn set(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let request: SetThrottling = super::body(&state, body).await?;
    let vault = super::vaults::existing_vault(&state, &name).await?;
    let settings = checked(&request)?;
    let record = policy_record(&state.keyring, kinds::THROTTLE, &vault, &settings)?;
    state.store.put_policy(&record).await?;
    super::changed(&state).await;
    tracing::info!(
        vault = %vault,
        enabled = settings.enabled,
        factor = settings.factor(),
        "vault throttling set"
    );
    Ok(Json(current(&state, &vault)).into_response())
}

pub(super) async fn remove(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let vault = super::vaults::existing_vault(&state, &name).await?;
    let doomed = [(kinds::THROTTLE.to_owned(), vault.clone())];
    state.store.delete_access(&doomed, None).await?;
    super::changed(&state).await;
    tracing::info!(vault = %vault, "vault throttling returned to the deployment's");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_bodies_are_checked() {
        let on = |factor| SetThrottling {
            enabled: true,
            factor,
        };
        assert_eq!(checked(&on(None)).unwrap(), ThrottleSettings::default());
        assert_eq!(checked(&on(Some(0.01))).unwrap().factor_milli, 10);
        let off = checked(&SetThrottling {
            enabled: false,
            factor: Some(2.0),
        })
        .unwrap();
        assert!(!off.enabled);
        assert_eq!(off.factor_milli, 2_000);
        for bad in [0.0, -1.0, 1e9, f64::NAN] {
            assert!(
                matches!(checked(&on(Some(bad))), Err(ApiError::BadParameter(_))),
                "{bad}"
            );
        }
    }
}
