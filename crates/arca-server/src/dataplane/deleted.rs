//! `/deleted<kind>/...`: the routes of soft-deleted objects, the same four for every kind (list,
//! get, purge, recover). Each kind says which operations they are and how its engine answers;
//! the routing, the authorization and the answers' shapes live here once.

use arca_core::{ObjectName, Operation};
use arca_store::Listing;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::context::{object_name, Ctx};
use crate::error::{ApiError, ApiResult};
use arca_core::authz::Authorized;

/// One object kind's side of the deleted-object routes.
pub(crate) trait DeletedObjects {
    const LIST: Operation;
    const GET: Operation;
    const PURGE: Operation;
    const RECOVER: Operation;

    /// A page of the listing `which` (here always the deleted objects), as the kind answers it.
    async fn list(ctx: &Ctx<'_>, auth: &Authorized, which: Listing) -> ApiResult<Response>;
    /// The deleted object `name`, answered as its deleted bundle.
    async fn get_deleted(
        ctx: &Ctx<'_>,
        auth: &Authorized,
        name: &ObjectName,
    ) -> ApiResult<Response>;
    async fn purge(ctx: &Ctx<'_>, auth: &Authorized, name: &ObjectName) -> ApiResult<()>;
    /// Recovers `name`; answers its bundle.
    async fn recover(ctx: &Ctx<'_>, auth: &Authorized, name: &ObjectName) -> ApiResult<Response>;
}

/// Routes `rest` (the path segments after `deleted<kind>`) for the kind `K`.
pub(crate) async fn route<K: DeletedObjects>(
    ctx: &Ctx<'_>,
    method: &Method,
    rest: &[&str],
) -> ApiResult<Response> {
    match (method, rest) {
        (&Method::GET, [] | [""]) => {
            let auth = ctx.authorize(K::LIST, None)?;
            K::list(ctx, &auth, Listing::Deleted).await
        }
        (&Method::GET, [name]) => {
            let name = object_name(name)?;
            let auth = ctx.authorize(K::GET, Some(&name))?;
            K::get_deleted(ctx, &auth, &name).await
        }
        (&Method::DELETE, [name]) => {
            let name = object_name(name)?;
            let auth = ctx.authorize(K::PURGE, Some(&name))?;
            K::purge(ctx, &auth, &name).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::POST, [name, r]) if r.eq_ignore_ascii_case("recover") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(K::RECOVER, Some(&name))?;
            K::recover(ctx, &auth, &name).await
        }
        (_, [] | [""] | [_] | [_, _]) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::UnknownPath),
    }
}
