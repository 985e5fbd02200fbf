//! HTTP handlers of the secrets API: path matching, parameter validation and the mapping of
//! service results to Key Vault bodies. Storage and crypto are reached only through
//! `service::secrets`.

use arca_core::limits::MAX_PAGE_SIZE;
use arca_core::{secret as rules, ObjectName, VersionId};
use arca_crypto::SecretString;
use arca_proto::secrets::{
    BackupBlob, DeletedMembers, ListResult, SecretAttributes, SecretBundle, SecretItem,
    SecretSetParameters, SecretUpdateParameters,
};
use arca_store::{Listing, VaultRecord};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{json, parse_json, Origin, Query};
use crate::access::actions::*;
use crate::access::Scope;
use crate::body::{BodyBytes, Unread};
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::service::secrets::{self as service, NewSecret, Page, SecretPatch, SecretView};
use crate::state::AppState;

/// What every handler of one request shares.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub vault: &'a VaultRecord,
    pub origin: Origin<'a>,
    pub query: Query<'a>,
    pub caller: &'a Caller,
    /// The access state the whole request is decided against.
    pub snapshot: &'a crate::access::Snapshot,
}

impl Ctx<'_> {
    /// Asks the one decision point whether the caller may perform `action` on the vault (no
    /// name) or on one of its secrets. Runs before any storage access for the operation.
    fn authorize(&self, action: &str, name: Option<&ObjectName>) -> ApiResult<()> {
        let resource = match name {
            Some(n) => Scope::object(&self.vault.name, "secrets", n.as_str()),
            None => Scope::vault(&self.vault.name),
        };
        let decision =
            crate::access::decide(self.snapshot, &self.caller.object_id, action, &resource);
        if decision.allowed {
            crate::request_log::allowed(decision.role_name, decision.assignment_scope);
            Ok(())
        } else {
            crate::request_log::refused(crate::request_log::describe(
                decision.reason,
                action,
                &resource,
            ));
            tracing::info!(
                client_id = %self.caller.client_id,
                action,
                resource = %resource,
                reason = decision.reason,
                "request denied by role-based access control"
            );
            Err(crate::access::rbac_denial(
                &decision,
                self.caller,
                &self.state.issuer.issuer,
                Some(&self.vault.name),
            ))
        }
    }
}

fn object_name(raw: &str) -> ApiResult<ObjectName> {
    ObjectName::parse(raw).map_err(|_| {
        let shown: String = raw.chars().take(130).collect();
        ApiError::BadParameter(format!("The request URI contains an invalid name: {shown}"))
    })
}

fn version_id(raw: &str, name: &ObjectName) -> ApiResult<VersionId> {
    // An id that cannot exist is simply not found, as in Key Vault.
    VersionId::parse(raw)
        .map_err(|_| ApiError::SecretNotFound(format!("{}/{}", name.as_str(), raw)))
}

impl Ctx<'_> {
    /// Reads the request body through the body budget. Called only after [`Ctx::authorize`]
    /// allowed the operation, so a caller without the right holds no memory with a body.
    async fn read(&self, body: Unread) -> ApiResult<BodyBytes> {
        let limit = body.allowance();
        crate::body::read(&self.state.bodies, body, limit).await
    }
}

/// `/secrets/...` routes. `rest` are the path segments after `secrets`; `body` is read only by
/// the operations that take one, after their authorization.
pub async fn route(
    ctx: &Ctx<'_>,
    method: &Method,
    rest: &[&str],
    body: Unread,
) -> ApiResult<Response> {
    match (method, rest) {
        (&Method::GET, [] | [""]) => {
            ctx.authorize(SECRET_READ_METADATA, None)?;
            list(ctx, Listing::Active).await
        }
        (&Method::POST, ["restore"]) => {
            ctx.authorize(SECRET_RESTORE, None)?;
            restore(ctx, body).await
        }
        (&Method::PUT, [name]) => set(ctx, &object_name(name)?, body).await,
        (&Method::GET, [name] | [name, ""]) => get(ctx, &object_name(name)?, None).await,
        (&Method::GET, [name, v]) if v.eq_ignore_ascii_case("versions") => {
            versions(ctx, &object_name(name)?).await
        }
        (&Method::GET, [name, version]) => {
            let name = object_name(name)?;
            let version = version_id(version, &name)?;
            get(ctx, &name, Some(&version)).await
        }
        (&Method::PATCH, [name] | [name, ""]) => update(ctx, &object_name(name)?, None, body).await,
        (&Method::PATCH, [name, version]) => {
            let name = object_name(name)?;
            let version = version_id(version, &name)?;
            update(ctx, &name, Some(&version), body).await
        }
        (&Method::DELETE, [name]) => {
            let name = object_name(name)?;
            ctx.authorize(SECRET_DELETE, Some(&name))?;
            let v = service::delete(ctx.state, ctx.vault, &name).await?;
            Ok(bundle(ctx, &v))
        }
        (&Method::POST, [name, b]) if b.eq_ignore_ascii_case("backup") => {
            let name = object_name(name)?;
            ctx.authorize(SECRET_BACKUP, Some(&name))?;
            let value = service::backup(ctx.state, ctx.vault, &name).await?;
            Ok(json(&BackupBlob { value }))
        }
        (_, [] | [""] | ["restore"] | [_] | [_, _]) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::UnknownPath),
    }
}

/// `/deletedsecrets/...` routes.
pub async fn route_deleted(ctx: &Ctx<'_>, method: &Method, rest: &[&str]) -> ApiResult<Response> {
    match (method, rest) {
        (&Method::GET, [] | [""]) => {
            ctx.authorize(SECRET_READ_METADATA, None)?;
            list(ctx, Listing::Deleted).await
        }
        (&Method::GET, [name]) => {
            let name = object_name(name)?;
            ctx.authorize(SECRET_READ_METADATA, Some(&name))?;
            let v = service::get_deleted(ctx.state, ctx.vault, &name).await?;
            Ok(bundle(ctx, &v))
        }
        (&Method::DELETE, [name]) => {
            let name = object_name(name)?;
            ctx.authorize(SECRET_PURGE, Some(&name))?;
            service::purge(ctx.state, ctx.vault, &name).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::POST, [name, r]) if r.eq_ignore_ascii_case("recover") => {
            let name = object_name(name)?;
            ctx.authorize(SECRET_RECOVER, Some(&name))?;
            let v = service::recover(ctx.state, ctx.vault, &name).await?;
            Ok(bundle(ctx, &v))
        }
        (_, [] | [""] | [_] | [_, _]) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::UnknownPath),
    }
}

async fn set(ctx: &Ctx<'_>, name: &ObjectName, body: Unread) -> ApiResult<Response> {
    ctx.authorize(SECRET_SET, Some(name))?;
    let bytes = ctx.read(body).await?;
    let params: SecretSetParameters = parse_json(&bytes)?;
    // The raw body is wiped now that it is parsed; its budget is held until the request ends.
    let _lease = bytes.into_lease();
    let SecretSetParameters {
        mut value,
        tags,
        content_type,
        attributes,
    } = params;
    // Moves the parsed value's allocation, without a copy, into a type that wipes it on drop.
    let value = SecretString::new(std::mem::take(&mut *value));
    rules::check_value(value.expose()).map_err(|e| ApiError::BadParameter(e.0))?;
    if let Some(ct) = &content_type {
        rules::check_content_type(ct).map_err(|e| ApiError::BadParameter(e.0))?;
    }
    if let Some(tags) = &tags {
        rules::check_tags(tags).map_err(|e| ApiError::BadParameter(e.0))?;
    }
    let attributes = attributes.unwrap_or_default();
    let new = NewSecret {
        value,
        content_type,
        tags,
        enabled: attributes.enabled.unwrap_or(true),
        nbf: attributes.nbf,
        exp: attributes.exp,
    };
    let v = service::set(ctx.state, ctx.vault, name, new).await?;
    Ok(bundle(ctx, &v))
}

async fn get(ctx: &Ctx<'_>, name: &ObjectName, version: Option<&VersionId>) -> ApiResult<Response> {
    ctx.authorize(SECRET_GET, Some(name))?;
    let v = service::get(ctx.state, ctx.vault, name, version).await?;
    let v = match &ctx.query.out_content_type {
        Some(requested) => convert(v, requested)?,
        None => v,
    };
    Ok(bundle(ctx, &v))
}

/// The message Key Vault answers an `outContentType` it cannot honour with.
pub const CONVERSION_REFUSED: &str = "Only PFX to PEM transformation is supported";

/// `outContentType` (api-version 2026-04-01): the value of a certificate's secret converted
/// from PFX to PEM. Only a certificate-backed secret can be converted, and no secret is
/// certificate-backed until certificates exist; the certificates work replaces this refusal with
/// the PFX-to-PEM transformation of such a secret (and keeps refusing plain ones).
fn convert(_secret: SecretView, _requested: &str) -> ApiResult<SecretView> {
    Err(ApiError::BadParameter(CONVERSION_REFUSED.into()))
}

async fn update(
    ctx: &Ctx<'_>,
    name: &ObjectName,
    version: Option<&VersionId>,
    body: Unread,
) -> ApiResult<Response> {
    ctx.authorize(SECRET_UPDATE, Some(name))?;
    let bytes = ctx.read(body).await?;
    let params: SecretUpdateParameters = if bytes.is_empty() {
        SecretUpdateParameters::default()
    } else {
        parse_json(&bytes)?
    };
    let _lease = bytes.into_lease();
    if let Some(ct) = &params.content_type {
        rules::check_content_type(ct).map_err(|e| ApiError::BadParameter(e.0))?;
    }
    if let Some(tags) = &params.tags {
        rules::check_tags(tags).map_err(|e| ApiError::BadParameter(e.0))?;
    }
    let attributes = params.attributes.unwrap_or_default();
    let patch = SecretPatch {
        content_type: params.content_type,
        tags: params.tags,
        enabled: attributes.enabled,
        nbf: attributes.nbf,
        exp: attributes.exp,
    };
    let v = service::update(ctx.state, ctx.vault, name, version, patch).await?;
    Ok(bundle(ctx, &v))
}

async fn restore(ctx: &Ctx<'_>, body: Unread) -> ApiResult<Response> {
    let bytes = ctx.read(body).await?;
    let params: BackupBlob = parse_json(&bytes)?;
    // The parsed blob and what is decoded from it stay counted until the request ends.
    let _lease = bytes.into_lease();
    let v = service::restore(ctx.state, ctx.vault, &params.value).await?;
    Ok(bundle(ctx, &v))
}

fn page_size(query: &Query) -> ApiResult<usize> {
    match &query.maxresults {
        None => Ok(MAX_PAGE_SIZE),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
            _ => Err(ApiError::BadParameter(format!(
                "maxresults must be an integer from 1 to {MAX_PAGE_SIZE}."
            ))),
        },
    }
}

/// The cursor inside a `$skiptoken`: the last name (or version) of the previous page.
fn cursor(query: &Query) -> ApiResult<Option<String>> {
    let Some(token) = &query.skiptoken else {
        return Ok(None);
    };
    let bad = || ApiError::BadParameter("The $skiptoken is not valid.".into());
    let bytes = crate::b64url_decode(token).ok_or_else(bad)?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let ok = !text.is_empty()
        && text.len() <= 127
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(Some(text.to_ascii_lowercase()))
    } else {
        Err(bad())
    }
}

fn next_link(ctx: &Ctx<'_>, path: &str, next: Option<String>, size: usize) -> Option<String> {
    next.map(|n| {
        format!(
            "{}{}?api-version={}&$skiptoken={}&maxresults={}",
            ctx.origin,
            path,
            ctx.query.api_version,
            crate::b64url(n.as_bytes()),
            size
        )
    })
}

async fn list(ctx: &Ctx<'_>, which: Listing) -> ApiResult<Response> {
    let size = page_size(&ctx.query)?;
    let after = cursor(&ctx.query)?;
    let Page { items, next } =
        service::list(ctx.state, ctx.vault, which, after.as_deref(), size).await?;
    let path = match which {
        Listing::Active => "/secrets",
        Listing::Deleted => "/deletedsecrets",
    };
    let value = items.iter().map(|v| item(ctx, v, false)).collect();
    Ok(json(&ListResult {
        value,
        next_link: next_link(ctx, path, next, size),
    }))
}

async fn versions(ctx: &Ctx<'_>, name: &ObjectName) -> ApiResult<Response> {
    ctx.authorize(SECRET_READ_METADATA, Some(name))?;
    let size = page_size(&ctx.query)?;
    let after = cursor(&ctx.query)?;
    let Page { items, next } =
        service::list_versions(ctx.state, ctx.vault, name, after.as_deref(), size).await?;
    let value = items.iter().map(|v| item(ctx, v, true)).collect();
    let path = format!("/secrets/{}/versions", name.as_str());
    Ok(json(&ListResult {
        value,
        next_link: next_link(ctx, &path, next, size),
    }))
}

fn attributes(ctx: &Ctx<'_>, v: &SecretView) -> SecretAttributes {
    let settings = service::settings_of(ctx.vault);
    SecretAttributes {
        enabled: v.enabled,
        nbf: v.nbf,
        exp: v.exp,
        created: v.created,
        updated: v.updated,
        recoverable_days: settings.retention_days,
        recovery_level: settings.recovery_level().as_str(),
    }
}

fn deleted_members(ctx: &Ctx<'_>, v: &SecretView) -> Option<DeletedMembers> {
    v.deleted.map(|d| DeletedMembers {
        recovery_id: format!("{}/deletedsecrets/{}", ctx.origin, v.name),
        deleted_date: d.deleted_at,
        scheduled_purge_date: d.scheduled_purge,
    })
}

fn bundle(ctx: &Ctx<'_>, v: &SecretView) -> Response {
    json(&SecretBundle {
        value: v.value.as_ref().map(|s| s.expose()),
        id: format!("{}/secrets/{}/{}", ctx.origin, v.name, v.version),
        content_type: v.content_type.as_deref(),
        attributes: attributes(ctx, v),
        tags: v.tags.as_ref(),
        deleted: deleted_members(ctx, v),
    })
}

fn item<'v>(ctx: &Ctx<'_>, v: &'v SecretView, versioned: bool) -> SecretItem<'v> {
    let id = if versioned {
        format!("{}/secrets/{}/{}", ctx.origin, v.name, v.version)
    } else {
        format!("{}/secrets/{}", ctx.origin, v.name)
    };
    SecretItem {
        id,
        content_type: v.content_type.as_deref(),
        attributes: attributes(ctx, v),
        tags: v.tags.as_ref(),
        deleted: deleted_members(ctx, v),
    }
}
