//! Admin API: role definitions, role assignments and access checks.

use arca_proto::admin::{
    AccessDecision, Assign, Assignment, AssignmentQuery, CheckAccess, DefineRole, List, Role,
    RoleType,
};
use arca_store::StoreError;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::access::roles::{
    check_action_pattern, MAX_ACTION_LEN, MAX_ROLE_ACTIONS, MAX_ROLE_DESCRIPTION_LEN,
    MAX_ROLE_NAME_LEN,
};
use crate::access::{self, kinds, policy_record, AssignmentDoc, RoleDefinition, Scope, Snapshot};
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// Most role assignments in a deployment.
const MAX_ASSIGNMENTS: usize = 10_000;
/// Most custom roles in a deployment.
const MAX_CUSTOM_ROLES: usize = 5_000;

fn role_json(r: &RoleDefinition) -> Role {
    Role {
        data_actions: r.data_actions.clone(),
        description: r.description.clone(),
        id: r.id.clone(),
        name: r.name.clone(),
        not_data_actions: r.not_data_actions.clone(),
        role_type: if r.builtin {
            RoleType::BuiltInRole
        } else {
            RoleType::CustomRole
        },
    }
}

fn role_not_found(raw: &str) -> ApiError {
    ApiError::Missing {
        code: "RoleNotFound",
        message: format!("No role has the id or name {:?}.", super::shown(raw)),
    }
}

fn assignment_json(snapshot: &Snapshot, a: &AssignmentDoc) -> Assignment {
    Assignment {
        created: a.created,
        id: a.id.clone(),
        principal_client_id: a.principal_client_id.clone(),
        principal_object_id: a.principal_object_id.clone(),
        role_id: a.role_id.clone(),
        role_name: snapshot.roles.get(&a.role_id).map(|r| r.name.clone()),
        scope: a.scope.clone(),
    }
}

pub(super) async fn list(State(state): State<SharedState>, _admin: Admin) -> ApiResult<Response> {
    let snapshot = state.access.snapshot();
    let builtin = access::roles::builtin_roles();
    let mut custom: Vec<&RoleDefinition> = snapshot.roles.values().filter(|r| !r.builtin).collect();
    custom.sort_by_key(|r| r.name.to_lowercase());
    let value = builtin.iter().chain(custom).map(role_json).collect();
    Ok(Json(List::<Role>::new(value)).into_response())
}

pub(super) async fn show(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(role): Path<String>,
) -> ApiResult<Response> {
    let snapshot = state.access.snapshot();
    let role = snapshot.role(&role).ok_or_else(|| role_not_found(&role))?;
    Ok(Json(role_json(role)).into_response())
}

fn check_actions(list: &[String], what: &str) -> ApiResult<()> {
    if list.len() > MAX_ROLE_ACTIONS {
        return Err(ApiError::BadParameter(format!(
            "{what} may have at most {MAX_ROLE_ACTIONS} entries."
        )));
    }
    list.iter()
        .try_for_each(|a| check_action_pattern(a))
        .map_err(ApiError::BadParameter)
}

pub(super) async fn define(
    State(state): State<SharedState>,
    _admin: Admin,
    body: Body,
) -> ApiResult<Response> {
    let request: DefineRole = super::body(&state, body).await?;
    let name = request.name.trim().to_owned();
    if name.is_empty()
        || name.chars().count() > MAX_ROLE_NAME_LEN
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::BadParameter(format!(
            "name must have 1 to {MAX_ROLE_NAME_LEN} printable characters."
        )));
    }
    let description = request.description.unwrap_or_default();
    if description.chars().count() > MAX_ROLE_DESCRIPTION_LEN {
        return Err(ApiError::BadParameter(format!(
            "description must have at most {MAX_ROLE_DESCRIPTION_LEN} characters."
        )));
    }
    if request.data_actions.is_empty() {
        return Err(ApiError::BadParameter(
            "data_actions must not be empty.".into(),
        ));
    }
    check_actions(&request.data_actions, "data_actions")?;
    let not_data_actions = request.not_data_actions.unwrap_or_default();
    check_actions(&not_data_actions, "not_data_actions")?;
    let snapshot = state.access.snapshot();
    if snapshot
        .roles
        .values()
        .any(|r| r.name.eq_ignore_ascii_case(&name))
    {
        return Err(ApiError::Conflict {
            message: format!("A role named {:?} already exists.", super::shown(&name)),
            inner: Some("RoleDefinitionWithSameNameExists"),
        });
    }
    if snapshot.roles.values().filter(|r| !r.builtin).count() >= MAX_CUSTOM_ROLES {
        return Err(ApiError::Conflict {
            message: format!("At most {MAX_CUSTOM_ROLES} custom roles can be defined."),
            inner: None,
        });
    }
    let role = RoleDefinition {
        id: super::new_id()?,
        name,
        description,
        builtin: false,
        data_actions: request.data_actions,
        not_data_actions,
    };
    state
        .store
        .create_policy(&policy_record(
            &state.keyring,
            kinds::ROLE,
            &role.id,
            &role,
        )?)
        .await?;
    super::changed(&state).await;
    tracing::info!(role = %role.name, id = %role.id, "custom role defined");
    Ok((StatusCode::CREATED, Json(role_json(&role))).into_response())
}

pub(super) async fn remove(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let snapshot = state.access.snapshot();
    let role = snapshot.role(&raw).ok_or_else(|| role_not_found(&raw))?;
    if role.builtin {
        return Err(ApiError::BadParameter(format!(
            "{} is a built-in role and cannot be deleted.",
            role.name
        )));
    }
    let assigned = snapshot
        .assignments
        .values()
        .flatten()
        .filter(|a| a.role_id == role.id)
        .count();
    if assigned > 0 {
        return Err(ApiError::Conflict {
            message: format!(
                "Role {} has {assigned} role assignment(s); remove them before deleting the role.",
                role.name
            ),
            inner: Some("RoleDefinitionHasAssignments"),
        });
    }
    match state.store.delete_policy(kinds::ROLE, &role.id).await {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    super::changed(&state).await;
    tracing::info!(role = %role.name, "custom role deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn assignments(
    State(state): State<SharedState>,
    _admin: Admin,
    Query(filter): Query<AssignmentQuery>,
) -> ApiResult<Response> {
    let scope = filter
        .scope
        .as_deref()
        .map(Scope::parse)
        .transpose()
        .map_err(ApiError::BadParameter)?;
    let principal = super::principals::filtered(&state, filter.principal.as_deref())
        .await?
        .map(|p| p.object_id);
    let snapshot = state.access.snapshot();
    let mut list: Vec<&AssignmentDoc> = snapshot
        .assignments
        .values()
        .flatten()
        .filter(|a| {
            principal
                .as_ref()
                .is_none_or(|p| &a.principal_object_id == p)
        })
        .filter(|a| scope.as_ref().is_none_or(|s| a.scope == s.as_str()))
        .collect();
    list.sort_by(|a, b| (&a.scope, a.created, &a.id).cmp(&(&b.scope, b.created, &b.id)));
    let value = list.iter().map(|a| assignment_json(&snapshot, a)).collect();
    Ok(Json(List::<Assignment>::new(value)).into_response())
}

/// Parses a scope and checks that the vault it names exists.
async fn existing_scope(state: &SharedState, raw: &str) -> ApiResult<Scope> {
    let scope = Scope::parse(raw).map_err(ApiError::BadParameter)?;
    if let Some(vault) = scope.vault_name() {
        if state.store.vault(vault).await?.is_none() {
            return Err(ApiError::VaultNotFound(vault.to_owned()));
        }
    }
    Ok(scope)
}

pub(super) async fn assign(
    State(state): State<SharedState>,
    _admin: Admin,
    body: Body,
) -> ApiResult<Response> {
    let request: Assign = super::body(&state, body).await?;
    let snapshot = state.access.snapshot();
    let role = snapshot
        .role(&request.role)
        .ok_or_else(|| role_not_found(&request.role))?
        .clone();
    let principal = super::principals::load(&state, &request.principal).await?;
    let scope = existing_scope(&state, &request.scope).await?;
    let all = snapshot.assignments.values().flatten();
    if let Some(same) = all.clone().find(|a| {
        a.role_id == role.id
            && a.principal_object_id == principal.record.object_id
            && a.scope == scope.as_str()
    }) {
        return Err(ApiError::Conflict {
            message: format!("The role assignment already exists (id {}).", same.id),
            inner: Some("RoleAssignmentExists"),
        });
    }
    if all.count() >= MAX_ASSIGNMENTS {
        return Err(ApiError::Conflict {
            message: format!("At most {MAX_ASSIGNMENTS} role assignments can exist."),
            inner: Some("RoleAssignmentLimitExceeded"),
        });
    }
    let doc = AssignmentDoc {
        id: super::new_id()?,
        role_id: role.id.clone(),
        principal_client_id: principal.record.client_id.clone(),
        principal_object_id: principal.record.object_id.clone(),
        scope: scope.to_string(),
        created: state.clock.now(),
    };
    state
        .store
        .create_policy(&policy_record(
            &state.keyring,
            kinds::ASSIGNMENT,
            &doc.id,
            &doc,
        )?)
        .await?;
    super::changed(&state).await;
    tracing::info!(role = %role.name, client_id = %doc.principal_client_id, scope = %doc.scope, "role assigned");
    let snapshot = state.access.snapshot();
    Ok((StatusCode::CREATED, Json(assignment_json(&snapshot, &doc))).into_response())
}

pub(super) async fn unassign(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let snapshot = state.access.snapshot();
    super::refuse_removing_last_admin(&snapshot, std::slice::from_ref(&id))?;
    match state.store.delete_policy(kinds::ASSIGNMENT, &id).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::Missing {
                code: "RoleAssignmentNotFound",
                message: format!("No role assignment has the id {:?}.", super::shown(&id)),
            })
        }
        Err(e) => return Err(e.into()),
    }
    super::changed(&state).await;
    tracing::info!(assignment = %id, "role assignment removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn check_access(
    State(state): State<SharedState>,
    _admin: Admin,
    body: Body,
) -> ApiResult<Response> {
    let request: CheckAccess = super::body(&state, body).await?;
    if request.action.is_empty() || request.action.len() > MAX_ACTION_LEN {
        return Err(ApiError::BadParameter(format!(
            "action must have 1 to {MAX_ACTION_LEN} characters."
        )));
    }
    let principal = super::principals::load(&state, &request.principal).await?;
    let scope = Scope::parse(&request.scope).map_err(ApiError::BadParameter)?;
    let snapshot = state.access.snapshot();
    let decision = access::decide(
        &snapshot,
        &principal.record.object_id,
        &request.action,
        &scope,
    );
    Ok(Json(AccessDecision {
        action: decision.action.to_owned(),
        allowed: decision.allowed,
        reason: decision.reason.to_owned(),
        role_assignment_id: decision.assignment_id.map(str::to_owned),
        role_name: decision.role_name.map(str::to_owned),
        scope: decision.resource.as_str().to_owned(),
    })
    .into_response())
}
