//! Routes of the certificates API, as far as it is built: the vault's certificate contacts
//! (`/certificates/contacts`) and issuers (`/certificates/issuers[/{name}]`). Every other
//! `/certificates` path answers 404 until certificates themselves land. Storage is reached only
//! through `arca_engine::certificates`; an issuer's password goes in and never comes out.

use arca_core::Operation;
use arca_proto::certificates::{
    CertificateIssuerItem, CertificateIssuerParameters, Contacts, IssuerAttributes, IssuerBundle,
    IssuerCredentials, ListResult,
};
use axum::http::Method;
use axum::response::Response;

use arca_engine::certificates::issuers::Issuer;
use arca_engine::certificates::{contacts, issuers};

use super::context::{object_name, Ctx};
use super::json;
use super::paging::{cursor, next_link, page_size};
use crate::body::{Lease, Unread};
use crate::error::{ApiError, ApiResult};

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
        _ => Err(ApiError::UnknownPath),
    }
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
