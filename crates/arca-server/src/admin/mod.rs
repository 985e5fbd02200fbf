//! The admin API, on the deployment host under `/admin`: vault management. It authenticates
//! like any client (bearer token from Arca's issuer, challenge on 401); until role-based access
//! arrives, every principal of the deployment may use it.

use arca_core::{ObjectKind, VaultName, VaultSettings};
use arca_store::{Listing, StoreError, VaultRecord};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, SharedState};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/vaults", get(list_vaults).post(create_vault))
        .route("/vaults/{name}", get(show_vault).delete(delete_vault))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVault {
    name: String,
    #[serde(default)]
    retention_days: Option<u32>,
    #[serde(default)]
    purge_protection: Option<bool>,
}

fn vault_json(state: &AppState, v: &VaultRecord) -> serde_json::Value {
    let settings = VaultSettings {
        retention_days: v.retention_days,
        purge_protection: v.purge_protection,
    };
    json!({
        "name": v.name,
        "url": state.urls.vault_url(&v.name),
        "retention_days": v.retention_days,
        "purge_protection": v.purge_protection,
        "recovery_level": settings.recovery_level().as_str(),
        "created": v.created,
    })
}

fn vault_name(raw: &str) -> ApiResult<VaultName> {
    VaultName::parse(raw).map_err(|_| {
        let shown: String = raw.chars().take(40).collect();
        ApiError::BadParameter(format!(
            "Invalid vault name {shown:?}: use 3 to 24 letters, digits and dashes, starting with a letter, ending with a letter or digit, without consecutive dashes."
        ))
    })
}

async fn list_vaults(State(state): State<SharedState>, headers: HeaderMap) -> ApiResult<Response> {
    crate::auth::authenticate(&state, &headers)?;
    let vaults = state.store.list_vaults().await?;
    let value: Vec<_> = vaults.iter().map(|v| vault_json(&state, v)).collect();
    Ok(Json(json!({ "value": value })).into_response())
}

async fn show_vault(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    crate::auth::authenticate(&state, &headers)?;
    let name = vault_name(&name)?;
    match state.store.vault(name.as_str()).await? {
        Some(v) => Ok(Json(vault_json(&state, &v)).into_response()),
        None => Err(ApiError::VaultNotFound(name.to_string())),
    }
}

async fn create_vault(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    crate::auth::authenticate(&state, &headers)?;
    let bytes = crate::api::read_body(body, 16 * 1024).await?;
    let request: CreateVault = crate::api::parse_json(&bytes)?;
    let name = vault_name(&request.name)?;
    let defaults = VaultSettings::default();
    let retention = request.retention_days.unwrap_or(defaults.retention_days);
    let settings = VaultSettings::new(retention, request.purge_protection.unwrap_or(false))
        .ok_or_else(|| {
            ApiError::BadParameter(format!(
                "retention_days must be from 7 to 90; {retention} was given."
            ))
        })?;
    let record = VaultRecord {
        name: name.to_string(),
        retention_days: settings.retention_days,
        purge_protection: settings.purge_protection,
        created: state.clock.now(),
    };
    match state.store.create_vault(&record).await {
        Ok(()) => {
            tracing::info!(vault = %record.name, "vault created");
            Ok((StatusCode::CREATED, Json(vault_json(&state, &record))).into_response())
        }
        Err(StoreError::Conflict) => Err(ApiError::Conflict {
            message: format!("Vault {name} already exists."),
            inner: None,
        }),
        Err(e) => Err(e.into()),
    }
}

async fn delete_vault(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    crate::auth::authenticate(&state, &headers)?;
    let name = vault_name(&name)?;
    let Some(vault) = state.store.vault(name.as_str()).await? else {
        return Err(ApiError::VaultNotFound(name.to_string()));
    };
    if vault.purge_protection {
        for kind in [ObjectKind::Secret, ObjectKind::Key, ObjectKind::Certificate] {
            for which in [Listing::Active, Listing::Deleted] {
                if !state
                    .store
                    .list_objects(&vault.name, kind, which, None, 1)
                    .await?
                    .is_empty()
                {
                    return Err(ApiError::Conflict {
                        message: format!("Vault {name} has purge protection and still holds objects; it cannot be deleted."),
                        inner: None,
                    });
                }
            }
        }
    }
    match state.store.delete_vault(&vault.name).await {
        Ok(()) => {
            tracing::info!(vault = %vault.name, "vault deleted");
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Err(StoreError::NotFound) => Err(ApiError::VaultNotFound(name.to_string())),
        Err(e) => Err(e.into()),
    }
}
