//! Admin API: vault management. Deleting a vault also removes the role assignments scoped to it,
//! its network rules and its throttling setting, so a later vault of the same name starts with
//! no grants and the deployment's throttling.

use arca_core::{ObjectKind, VaultName, VaultSettings};
use arca_proto::admin::{CreateVault, List, Vault};
use arca_store::ObjectQuery;
use arca_store::{Listing, StoreError, VaultRecord};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, SharedState};

fn vault_json(state: &AppState, v: &VaultRecord) -> Vault {
    let settings = VaultSettings {
        retention_days: v.retention_days,
        purge_protection: v.purge_protection,
    };
    Vault {
        created: v.created,
        name: v.name.clone(),
        purge_protection: v.purge_protection,
        recovery_level: settings.recovery_level().as_str().to_owned(),
        retention_days: v.retention_days,
        url: state.urls.vault_url(&v.name),
    }
}

pub(crate) fn vault_name(raw: &str) -> ApiResult<VaultName> {
    VaultName::parse(raw).map_err(|_| {
        let shown: String = raw.chars().take(40).collect();
        ApiError::BadParameter(format!(
            "Invalid vault name {shown:?}: use 3 to 24 letters, digits and dashes, starting with a letter, ending with a letter or digit, without consecutive dashes."
        ))
    })
}

/// The stored name of the vault `raw` names; 404 `VaultNotFound` if there is none.
pub(super) async fn existing_vault(state: &AppState, raw: &str) -> ApiResult<String> {
    let name = vault_name(raw)?;
    match state.store.vault(name.as_str()).await? {
        Some(v) => Ok(v.name),
        None => Err(ApiError::VaultNotFound(name.to_string())),
    }
}

pub(super) async fn list(State(state): State<SharedState>, _admin: Admin) -> ApiResult<Response> {
    let vaults = state.store.list_vaults().await?;
    let value: Vec<_> = vaults.iter().map(|v| vault_json(&state, v)).collect();
    Ok(Json(List::new(value)).into_response())
}

pub(super) async fn show(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let name = vault_name(&name)?;
    match state.store.vault(name.as_str()).await? {
        Some(v) => Ok(Json(vault_json(&state, &v)).into_response()),
        None => Err(ApiError::VaultNotFound(name.to_string())),
    }
}

pub(super) async fn create(
    State(state): State<SharedState>,
    _admin: Admin,
    body: Body,
) -> ApiResult<Response> {
    let request: CreateVault = super::body(&state, body).await?;
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
            state.vaults.forget(&record.name);
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

pub(super) async fn remove(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let name = vault_name(&name)?;
    let Some(vault) = state.store.vault(name.as_str()).await? else {
        return Err(ApiError::VaultNotFound(name.to_string()));
    };
    if vault.purge_protection {
        for kind in [ObjectKind::Secret, ObjectKind::Key, ObjectKind::Certificate] {
            for which in [Listing::Active, Listing::Deleted] {
                if !state
                    .store
                    .list_objects(ObjectQuery::new(&vault.name, kind, which).limit(1))
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
            state.vaults.forget(&vault.name);
            state.throttle.forget(&vault.name);
            tracing::info!(vault = %vault.name, "vault deleted");
            forget_vault_grants(&state, &vault.name).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Err(StoreError::NotFound) => Err(ApiError::VaultNotFound(name.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Removes the role assignments scoped to a vault (or its objects) and its network rules.
async fn forget_vault_grants(state: &AppState, vault: &str) -> ApiResult<()> {
    let scope = crate::access::Scope::vault(vault);
    let snapshot = state.access.snapshot();
    let mut doomed: Vec<(String, String)> = snapshot
        .assignments
        .values()
        .flatten()
        .filter(|a| crate::access::Scope::parse(&a.scope).is_ok_and(|s| scope.covers(&s)))
        .map(|a| (crate::access::kinds::ASSIGNMENT.to_owned(), a.id.clone()))
        .collect();
    doomed.push((crate::access::kinds::NETWORK.to_owned(), vault.to_owned()));
    doomed.push((crate::access::kinds::THROTTLE.to_owned(), vault.to_owned()));
    state.store.delete_access(&doomed, None).await?;
    super::changed(state).await;
    Ok(())
}
