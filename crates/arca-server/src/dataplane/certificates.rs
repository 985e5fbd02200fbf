//! Routes of the certificates API: certificates (create → pending operation → merge, import,
//! get, update, policy, list, versions, delete, backup, restore), `/deletedcertificates`, and the
//! vault's certificate contacts (`/certificates/contacts`) and issuers
//! (`/certificates/issuers[/{name}]`). Storage is reached only through
//! `arca_engine::certificates`; an imported PFX or PEM and its password are zeroizing text, and an
//! issuer's password goes in and never comes out.

use arca_core::authz::Authorized;
use arca_core::{ObjectKind, ObjectName, Operation, VersionId};
use arca_proto::certificates::{
    BackupBlob, CertificateAttributes, CertificateBundle, CertificateCreateParameters,
    CertificateImportParameters, CertificateIssuerItem, CertificateIssuerParameters,
    CertificateItem, CertificateMergeParameters, CertificateOperation,
    CertificateOperationUpdateParameter, CertificatePolicy, CertificateUpdateParameters, Contacts,
    DeletedMembers, IssuerAttributes, IssuerBundle, IssuerCredentials, ListResult,
    PolicyAttributes,
};
use arca_store::Listing;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use arca_engine::certificates::issuers::Issuer;
use arca_engine::certificates::{
    self as engine, contacts, issuers, CertificateView, OperationView, StoredPolicy,
};
use arca_engine::objects::Page;

use super::context::{object_name, Ctx};
use super::deleted::DeletedObjects;
use super::json;
use super::paging::{cursor, next_link, page_size};
use crate::body::{Lease, Unread};
use crate::error::{ApiError, ApiResult};

const KIND: ObjectKind = ObjectKind::Certificate;

/// `/certificates/...` routes. `rest` are the path segments after `certificates`.
pub(crate) async fn route(
    ctx: &Ctx<'_>,
    method: &Method,
    rest: &[&str],
    body: Unread,
) -> ApiResult<Response> {
    let word = |segment: &str, w: &str| segment.eq_ignore_ascii_case(w);
    let e = &ctx.state.engine;
    match (method, rest) {
        (&Method::GET, [c]) if word(c, "contacts") => {
            let auth = ctx.authorize(Operation::CertificateContactsGet, None)?;
            Ok(contacts_body(
                ctx,
                contacts::get(e, &auth, ctx.vault).await?,
            ))
        }
        (&Method::PUT, [c]) if word(c, "contacts") => {
            let auth = ctx.authorize(Operation::CertificateContactsSet, None)?;
            let (sent, _lease): (Contacts, Lease) = ctx.read_json(body).await?;
            let list = sent.contacts.unwrap_or_default();
            Ok(contacts_body(
                ctx,
                contacts::set(e, &auth, ctx.vault, list).await?,
            ))
        }
        (&Method::DELETE, [c]) if word(c, "contacts") => {
            let auth = ctx.authorize(Operation::CertificateContactsDelete, None)?;
            Ok(contacts_body(
                ctx,
                contacts::delete(e, &auth, ctx.vault).await?,
            ))
        }
        (_, [c]) if word(c, "contacts") => Err(ApiError::MethodNotAllowed),
        (&Method::GET, [i] | [i, ""]) if word(i, "issuers") => {
            let auth = ctx.authorize(Operation::CertificateIssuersList, None)?;
            list_issuers(ctx, issuers::list(e, &auth, ctx.vault).await?)
        }
        (&Method::GET, [i, name]) if word(i, "issuers") => {
            let auth = ctx.authorize(Operation::CertificateIssuerGet, None)?;
            Ok(issuer_body(
                ctx,
                &issuers::get(e, &auth, ctx.vault, &object_name(name)?).await?,
            ))
        }
        (&Method::PUT, [i, name]) if word(i, "issuers") => {
            let auth = ctx.authorize(Operation::CertificateIssuerSet, None)?;
            let (params, _lease): (CertificateIssuerParameters, Lease) =
                ctx.read_json(body).await?;
            let set = issuers::set(e, &auth, ctx.vault, &object_name(name)?, params).await?;
            Ok(issuer_body(ctx, &set))
        }
        (&Method::PATCH, [i, name]) if word(i, "issuers") => {
            let auth = ctx.authorize(Operation::CertificateIssuerUpdate, None)?;
            let (params, _lease): (CertificateIssuerParameters, Lease) =
                ctx.read_json(body).await?;
            let updated = issuers::update(e, &auth, ctx.vault, &object_name(name)?, params).await?;
            Ok(issuer_body(ctx, &updated))
        }
        (&Method::DELETE, [i, name]) if word(i, "issuers") => {
            let auth = ctx.authorize(Operation::CertificateIssuerDelete, None)?;
            Ok(issuer_body(
                ctx,
                &issuers::delete(e, &auth, ctx.vault, &object_name(name)?).await?,
            ))
        }
        (_, [i] | [i, _]) if word(i, "issuers") => Err(ApiError::MethodNotAllowed),
        _ => certificate_route(ctx, method, rest, body).await,
    }
}

/// The routes of certificates themselves (every path but contacts and issuers).
async fn certificate_route(
    ctx: &Ctx<'_>,
    method: &Method,
    rest: &[&str],
    body: Unread,
) -> ApiResult<Response> {
    let word = |segment: &str, w: &str| segment.eq_ignore_ascii_case(w);
    let e = &ctx.state.engine;
    match (method, rest) {
        (&Method::GET, [] | [""]) => {
            let auth = ctx.authorize(Operation::CertificateList, None)?;
            list(ctx, &auth, Listing::Active).await
        }
        (&Method::POST, [r]) if word(r, "restore") => {
            let auth = ctx.authorize(Operation::CertificateRestore, None)?;
            let (params, _lease): (BackupBlob, Lease) = ctx.read_json(body).await?;
            let v = engine::restore(e, &auth, ctx.vault, &params.value).await?;
            Ok(bundle(ctx, &v))
        }
        (&Method::POST, [name, w]) if word(w, "create") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::CertificateCreate, Some(&name))?;
            let (params, _lease): (CertificateCreateParameters, Lease) =
                ctx.read_json(body).await?;
            let op = engine::create(e, &auth, ctx.vault, &name, params).await?;
            Ok(with_status(operation(ctx, &op), StatusCode::ACCEPTED))
        }
        (&Method::POST, [name, w]) if word(w, "import") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::CertificateImport, Some(&name))?;
            let (params, _lease): (CertificateImportParameters, Lease) =
                ctx.read_json(body).await?;
            let v = engine::import(e, &auth, ctx.vault, &name, params).await?;
            Ok(bundle(ctx, &v))
        }
        (&Method::GET, [name, w]) if word(w, "pending") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::CertificatePendingGet, Some(&name))?;
            let op = engine::get_pending(e, &auth, ctx.vault, &name).await?;
            Ok(operation(ctx, &op))
        }
        (&Method::PATCH, [name, w]) if word(w, "pending") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::CertificatePendingUpdate, Some(&name))?;
            let (params, _lease): (CertificateOperationUpdateParameter, Lease) =
                ctx.read_json(body).await?;
            let requested = params.cancellation_requested;
            let op = engine::cancel_pending(e, &auth, ctx.vault, &name, requested).await?;
            Ok(operation(ctx, &op))
        }
        (&Method::DELETE, [name, w]) if word(w, "pending") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::CertificatePendingDelete, Some(&name))?;
            let op = engine::delete_pending(e, &auth, ctx.vault, &name).await?;
            Ok(operation(ctx, &op))
        }
        (&Method::POST, [name, p, m]) if word(p, "pending") && word(m, "merge") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::CertificatePendingMerge, Some(&name))?;
            let (params, _lease): (CertificateMergeParameters, Lease) = ctx.read_json(body).await?;
            let v = engine::merge(
                e,
                &auth,
                ctx.vault,
                &name,
                params.x5c,
                params.attributes,
                params.tags,
            )
            .await?;
            Ok(with_status(bundle(ctx, &v), StatusCode::CREATED))
        }
        (&Method::GET, [name, w]) if word(w, "policy") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::CertificatePolicyGet, Some(&name))?;
            let policy = engine::get_policy(e, &auth, ctx.vault, &name).await?;
            Ok(json(&policy_body(ctx, &name, &policy)))
        }
        (&Method::PATCH, [name, w]) if word(w, "policy") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::CertificatePolicyUpdate, Some(&name))?;
            let (patch, _lease): (CertificatePolicy, Lease) = ctx.read_json(body).await?;
            let policy = engine::update_policy(e, &auth, ctx.vault, &name, patch).await?;
            Ok(json(&policy_body(ctx, &name, &policy)))
        }
        (&Method::GET, [name, w]) if word(w, "versions") => {
            versions(ctx, &object_name(name)?).await
        }
        (&Method::POST, [name, w]) if word(w, "backup") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::CertificateBackup, Some(&name))?;
            let value = engine::backup(e, &auth, ctx.vault, &name).await?;
            Ok(json(&BackupBlob { value }))
        }
        (&Method::GET, [name] | [name, ""]) => get(ctx, &object_name(name)?, None).await,
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
            let auth = ctx.authorize(Operation::CertificateDelete, Some(&name))?;
            let v = engine::delete(e, &auth, ctx.vault, &name).await?;
            Ok(bundle(ctx, &v))
        }
        (_, [] | [""] | [_] | [_, _]) => Err(ApiError::MethodNotAllowed),
        (_, [_, p, m]) if word(p, "pending") && word(m, "merge") => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::UnknownPath),
    }
}

fn version_id(raw: &str, name: &ObjectName) -> ApiResult<VersionId> {
    super::context::version_id(raw, KIND, name)
}

fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

async fn get(ctx: &Ctx<'_>, name: &ObjectName, version: Option<&VersionId>) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::CertificateGet, Some(name))?;
    let v = engine::get(&ctx.state.engine, &auth, ctx.vault, name, version).await?;
    Ok(bundle(ctx, &v))
}

async fn update(
    ctx: &Ctx<'_>,
    name: &ObjectName,
    version: Option<&VersionId>,
    body: Unread,
) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::CertificateUpdate, Some(name))?;
    let (params, _lease): (CertificateUpdateParameters, Lease) = ctx.read_json(body).await?;
    let v = engine::update(&ctx.state.engine, &auth, ctx.vault, name, version, params).await?;
    Ok(bundle(ctx, &v))
}

/// `/deletedcertificates/...`: the routes every kind shares (`super::deleted`), on certificates.
pub(crate) struct Deleted;

impl DeletedObjects for Deleted {
    const LIST: Operation = Operation::CertificateListDeleted;
    const GET: Operation = Operation::CertificateGetDeleted;
    const PURGE: Operation = Operation::CertificatePurge;
    const RECOVER: Operation = Operation::CertificateRecover;

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

/// `includePending=true` (any case); anything else but `false` is refused.
fn include_pending(ctx: &Ctx<'_>) -> ApiResult<bool> {
    match ctx.query.include_pending.as_deref() {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ApiError::BadParameter(
            "includePending must be true or false.".into(),
        )),
    }
}

async fn list(ctx: &Ctx<'_>, auth: &Authorized, which: Listing) -> ApiResult<Response> {
    let size = page_size(&ctx.query)?;
    let after = cursor(&ctx.query)?;
    let pending = include_pending(ctx)?;
    let e = &ctx.state.engine;
    let (Page { items, next }, pending_only) =
        engine::list(e, auth, ctx.vault, which, after.as_deref(), size, pending).await?;
    let path = match which {
        Listing::Active => "/certificates",
        Listing::Deleted => "/deletedcertificates",
    };
    let mut value: Vec<CertificateItem<'_>> = items.iter().map(|v| item(ctx, v, false)).collect();
    for p in &pending_only {
        value.push(CertificateItem {
            id: format!("{}/certificates/{}", ctx.origin, p.name),
            attributes: pending_attributes(ctx),
            tags: None,
            x5t: None,
            deleted: None,
        });
    }
    Ok(json(&ListResult {
        value,
        next_link: next_link(ctx, path, next, size),
    }))
}

/// The attributes a pending certificate is listed with: enabled, no times of its own.
fn pending_attributes(ctx: &Ctx<'_>) -> CertificateAttributes {
    let settings = arca_engine::objects::settings(ctx.vault);
    CertificateAttributes {
        enabled: true,
        nbf: None,
        exp: None,
        created: 0,
        updated: 0,
        recoverable_days: settings.retention_days,
        recovery_level: settings.recovery_level().as_str(),
    }
}

async fn versions(ctx: &Ctx<'_>, name: &ObjectName) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::CertificateListVersions, Some(name))?;
    let size = page_size(&ctx.query)?;
    let after = cursor(&ctx.query)?;
    let e = &ctx.state.engine;
    let Page { items, next } =
        engine::list_versions(e, &auth, ctx.vault, name, after.as_deref(), size).await?;
    let value: Vec<CertificateItem<'_>> = items.iter().map(|v| item(ctx, v, true)).collect();
    let path = format!("/certificates/{}/versions", name.as_str());
    Ok(json(&ListResult {
        value,
        next_link: next_link(ctx, &path, next, size),
    }))
}

fn attributes(v: &CertificateView) -> CertificateAttributes {
    CertificateAttributes {
        enabled: v.enabled,
        nbf: v.nbf,
        exp: v.exp,
        created: v.created,
        updated: v.updated,
        recoverable_days: v.recoverable_days,
        recovery_level: v.recovery_level,
    }
}

fn deleted_members(ctx: &Ctx<'_>, v: &CertificateView) -> Option<DeletedMembers> {
    v.deleted.map(|d| DeletedMembers {
        recovery_id: format!("{}/deletedcertificates/{}", ctx.origin, v.name),
        deleted_date: d.deleted_at,
        scheduled_purge_date: d.scheduled_purge,
    })
}

/// The policy as shown: its id and times set.
fn shown_policy(
    ctx: &Ctx<'_>,
    name: &str,
    policy: &CertificatePolicy,
    times: Option<(i64, i64)>,
) -> CertificatePolicy {
    let mut shown = policy.clone();
    shown.id = Some(format!("{}/certificates/{}/policy", ctx.origin, name));
    if let Some((created, updated)) = times {
        let a = shown
            .attributes
            .get_or_insert_with(PolicyAttributes::default);
        a.created = Some(created);
        a.updated = Some(updated);
    }
    shown
}

fn policy_body(ctx: &Ctx<'_>, name: &ObjectName, stored: &StoredPolicy) -> CertificatePolicy {
    shown_policy(
        ctx,
        name.as_str(),
        &stored.policy,
        Some((stored.created, stored.updated)),
    )
}

fn bundle(ctx: &Ctx<'_>, v: &CertificateView) -> Response {
    let policy = v
        .policy
        .as_ref()
        .map(|p| shown_policy(ctx, &v.name, p, None));
    json(&CertificateBundle {
        id: format!("{}/certificates/{}/{}", ctx.origin, v.name, v.version),
        kid: format!("{}/keys/{}/{}", ctx.origin, v.name, v.version),
        sid: format!("{}/secrets/{}/{}", ctx.origin, v.name, v.version),
        x5t: v.x5t.clone(),
        policy: policy.as_ref(),
        cer: STANDARD.encode(&v.cer),
        content_type: Some(&v.content_type),
        attributes: attributes(v),
        tags: v.tags.as_ref(),
        preserve_cert_order: v.preserve_cert_order,
        deleted: deleted_members(ctx, v),
    })
}

fn item<'v>(ctx: &Ctx<'_>, v: &'v CertificateView, versioned: bool) -> CertificateItem<'v> {
    let id = if versioned {
        format!("{}/certificates/{}/{}", ctx.origin, v.name, v.version)
    } else {
        format!("{}/certificates/{}", ctx.origin, v.name)
    };
    CertificateItem {
        id,
        attributes: attributes(v),
        tags: v.tags.as_ref(),
        x5t: Some(v.x5t.clone()),
        deleted: deleted_members(ctx, v),
    }
}

fn operation(ctx: &Ctx<'_>, op: &OperationView) -> Response {
    json(&CertificateOperation {
        id: format!("{}/certificates/{}/pending", ctx.origin, op.name),
        issuer: op.issuer.clone(),
        csr: op.csr.clone(),
        cancellation_requested: op.cancellation_requested,
        status: op.status.clone(),
        status_details: op.status_details.clone(),
        error: op.error.clone(),
        target: op
            .target_version
            .as_ref()
            .map(|_| format!("{}/certificates/{}", ctx.origin, op.name)),
        preserve_cert_order: op.preserve_cert_order,
        request_id: Some(op.request_id.clone()),
    })
}

fn contacts_body(ctx: &Ctx<'_>, list: Vec<arca_proto::certificates::Contact>) -> Response {
    json(&Contacts {
        id: Some(format!("{}/certificates/contacts", ctx.origin)),
        contacts: Some(list),
    })
}

fn issuer_id(ctx: &Ctx<'_>, issuer: &Issuer) -> String {
    format!("{}/certificates/issuers/{}", ctx.origin, issuer.name)
}

fn issuer_body(ctx: &Ctx<'_>, issuer: &Issuer) -> Response {
    json(&IssuerBundle {
        id: issuer_id(ctx, issuer),
        provider: issuer.provider.clone(),
        credentials: issuer.account_id.as_ref().map(|a| IssuerCredentials {
            account_id: Some(a.clone()),
        }),
        org_details: issuer.org_details.clone(),
        attributes: IssuerAttributes {
            enabled: issuer.enabled,
            created: issuer.created,
            updated: issuer.updated,
        },
    })
}

/// One page of the issuers (at most 100 a vault, so paged in memory by name).
fn list_issuers(ctx: &Ctx<'_>, all: Vec<Issuer>) -> ApiResult<Response> {
    let size = page_size(&ctx.query)?;
    let after = cursor(&ctx.query)?;
    let mut page: Vec<&Issuer> = all
        .iter()
        .filter(|i| {
            after
                .as_deref()
                .is_none_or(|a| i.name.to_ascii_lowercase().as_str() > a)
        })
        .take(size + 1)
        .collect();
    let more = page.len() > size;
    page.truncate(size);
    let next = more
        .then(|| page.last().map(|i| i.name.to_ascii_lowercase()))
        .flatten();
    Ok(json(&ListResult {
        value: page
            .iter()
            .map(|i| CertificateIssuerItem {
                id: issuer_id(ctx, i),
                provider: i.provider.clone(),
            })
            .collect(),
        next_link: next_link(ctx, "/certificates/issuers", next, size),
    }))
}
