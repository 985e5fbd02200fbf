//! Routes of the secrets API: path matching, authorization of each operation, parameter
//! validation, and the mapping of the engine's results to Key Vault bodies. Storage and crypto
//! are reached only through `arca_engine::secrets`.

use arca_core::{secret as rules, ObjectKind, ObjectName, Operation, VersionId};
use arca_crypto::SecretString;
use arca_proto::secrets::{
    BackupBlob, DeletedMembers, ListResult, SecretAttributes, SecretBundle, SecretItem,
    SecretSetParameters, SecretUpdateParameters,
};
use arca_store::Listing;
use axum::http::Method;
use axum::response::Response;

use arca_core::authz::Authorized;
use arca_engine::objects::Page;
use arca_engine::secrets::{self as engine, NewSecret, SecretPatch, SecretView};

use super::context::{object_name, Ctx};
use super::deleted::DeletedObjects;
use super::paging::{cursor, next_link, page_size};
use super::{json, parse_json};
use crate::body::Unread;
use crate::error::{ApiError, ApiResult};

const KIND: ObjectKind = ObjectKind::Secret;

fn version_id(raw: &str, name: &ObjectName) -> ApiResult<VersionId> {
    super::context::version_id(raw, KIND, name)
}

/// `/secrets/...` routes. `rest` are the path segments after `secrets`; `body` is read only by
/// the operations that take one, after their authorization.
pub(crate) async fn route(
    ctx: &Ctx<'_>,
    method: &Method,
    rest: &[&str],
    body: Unread,
) -> ApiResult<Response> {
    match (method, rest) {
        (&Method::GET, [] | [""]) => {
            let auth = ctx.authorize(Operation::SecretList, None)?;
            list(ctx, &auth, Listing::Active).await
        }
        (&Method::POST, ["restore"]) => {
            let auth = ctx.authorize(Operation::SecretRestore, None)?;
            restore(ctx, &auth, body).await
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
            let auth = ctx.authorize(Operation::SecretDelete, Some(&name))?;
            let v = engine::delete(&ctx.state.engine, &auth, ctx.vault, &name).await?;
            Ok(bundle(ctx, &v))
        }
        (&Method::POST, [name, b]) if b.eq_ignore_ascii_case("backup") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::SecretBackup, Some(&name))?;
            let value = engine::backup(&ctx.state.engine, &auth, ctx.vault, &name).await?;
            Ok(json(&BackupBlob { value }))
        }
        (_, [] | [""] | ["restore"] | [_] | [_, _]) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::UnknownPath),
    }
}

/// `/deletedsecrets/...`: the routes every kind shares (`super::deleted`), on secrets.
pub(crate) struct Deleted;

impl DeletedObjects for Deleted {
    const LIST: Operation = Operation::SecretListDeleted;
    const GET: Operation = Operation::SecretGetDeleted;
    const PURGE: Operation = Operation::SecretPurge;
    const RECOVER: Operation = Operation::SecretRecover;

    async fn list(ctx: &Ctx<'_>, auth: &Authorized, which: Listing) -> ApiResult<Response> {
        list(ctx, auth, which).await
    }

    async fn get_deleted(
        ctx: &Ctx<'_>,
        auth: &Authorized,
        name: &ObjectName,
    ) -> ApiResult<Response> {
        let v = engine::get_deleted(&ctx.state.engine, auth, ctx.vault, name).await?;
        Ok(bundle(ctx, &v))
    }

    async fn purge(ctx: &Ctx<'_>, auth: &Authorized, name: &ObjectName) -> ApiResult<()> {
        Ok(engine::purge(&ctx.state.engine, auth, ctx.vault, name).await?)
    }

    async fn recover(ctx: &Ctx<'_>, auth: &Authorized, name: &ObjectName) -> ApiResult<Response> {
        let v = engine::recover(&ctx.state.engine, auth, ctx.vault, name).await?;
        Ok(bundle(ctx, &v))
    }
}

async fn set(ctx: &Ctx<'_>, name: &ObjectName, body: Unread) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::SecretSet, Some(name))?;
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
    let v = engine::set(&ctx.state.engine, &auth, ctx.vault, name, new).await?;
    Ok(bundle(ctx, &v))
}

async fn get(ctx: &Ctx<'_>, name: &ObjectName, version: Option<&VersionId>) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::SecretGet, Some(name))?;
    let v = engine::get(&ctx.state.engine, &auth, ctx.vault, name, version).await?;
    let v = match &ctx.query.out_content_type {
        Some(requested) => convert(v, requested)?,
        None => v,
    };
    Ok(bundle(ctx, &v))
}

/// `outContentType` (api-version 2026-04-01): the value of a certificate's secret converted
/// from PFX to PEM (`arca_engine::secrets::converted`); refused for other secrets.
fn convert(secret: SecretView, requested: &str) -> ApiResult<SecretView> {
    Ok(engine::converted(secret, requested)?)
}

async fn update(
    ctx: &Ctx<'_>,
    name: &ObjectName,
    version: Option<&VersionId>,
    body: Unread,
) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::SecretUpdate, Some(name))?;
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
    let v = engine::update(&ctx.state.engine, &auth, ctx.vault, name, version, patch).await?;
    Ok(bundle(ctx, &v))
}

async fn restore(ctx: &Ctx<'_>, auth: &Authorized, body: Unread) -> ApiResult<Response> {
    let bytes = ctx.read(body).await?;
    let params: BackupBlob = parse_json(&bytes)?;
    // The parsed blob and what is decoded from it stay counted until the request ends.
    let _lease = bytes.into_lease();
    let v = engine::restore(&ctx.state.engine, auth, ctx.vault, &params.value).await?;
    Ok(bundle(ctx, &v))
}

async fn list(ctx: &Ctx<'_>, auth: &Authorized, which: Listing) -> ApiResult<Response> {
    let size = page_size(&ctx.query)?;
    let after = cursor(&ctx.query)?;
    let Page { items, next } = engine::list(
        &ctx.state.engine,
        auth,
        ctx.vault,
        which,
        after.as_deref(),
        size,
    )
    .await?;
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
    let auth = ctx.authorize(Operation::SecretListVersions, Some(name))?;
    let size = page_size(&ctx.query)?;
    let after = cursor(&ctx.query)?;
    let Page { items, next } = engine::list_versions(
        &ctx.state.engine,
        &auth,
        ctx.vault,
        name,
        after.as_deref(),
        size,
    )
    .await?;
    let value = items.iter().map(|v| item(ctx, v, true)).collect();
    let path = format!("/secrets/{}/versions", name.as_str());
    Ok(json(&ListResult {
        value,
        next_link: next_link(ctx, &path, next, size),
    }))
}

fn attributes(ctx: &Ctx<'_>, v: &SecretView) -> SecretAttributes {
    let settings = arca_engine::objects::settings(ctx.vault);
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
        kid: v
            .managed
            .then(|| format!("{}/keys/{}/{}", ctx.origin, v.name, v.version)),
        managed: v.managed.then_some(true),
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
        managed: v.managed.then_some(true),
        deleted: deleted_members(ctx, v),
    }
}
