//! The Key Vault data plane: requests whose Host is `<vault>.<dns-suffix>`.
//!
//! Order of checks, fixed: authentication (401 with the challenge, before anything else), vault
//! lookup (404), the vault's network rules (403 ForbiddenByFirewall), api-version (400), route,
//! role-based authorization of the operation (403 ForbiddenByRbac), then the body is read
//! (through the body budget, `crate::body`) and it and the parameters are validated. Throttling
//! (429, `crate::throttle`) comes right after authorization, in `Ctx::authorize`. A request
//! refused before its body is read is answered at once; its body is discarded in the background.

pub(crate) mod certificates;
pub(crate) mod context;
pub(crate) mod deleted;
pub(crate) mod keys;
pub(crate) mod paging;
pub(crate) mod secrets;

use std::borrow::Cow;

use arca_core::limits::{MAX_BODY_BYTES, MAX_RESTORE_BODY_BYTES};
use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};

use crate::body::Unread;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The parsed query string of a data-plane request; values borrow from the request unless they
/// had to be unescaped.
#[derive(Debug, Default)]
pub(crate) struct Query<'r> {
    pub api_version: Cow<'r, str>,
    pub maxresults: Option<Cow<'r, str>>,
    pub skiptoken: Option<Cow<'r, str>>,
    /// `outContentType` of a get: the format a certificate's secret is to be converted to.
    pub out_content_type: Option<Cow<'r, str>>,
    /// `includePending` of a certificates listing.
    pub include_pending: Option<Cow<'r, str>>,
}

impl<'r> Query<'r> {
    pub(crate) fn parse(raw: Option<&'r str>) -> ApiResult<Self> {
        let mut q = Query::default();
        let mut api_version = None;
        // Later occurrences of a parameter win.
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "api-version" => api_version = Some(v),
                "maxresults" => q.maxresults = Some(v),
                "$skiptoken" => q.skiptoken = Some(v),
                "outContentType" => q.out_content_type = Some(v),
                "includePending" => q.include_pending = Some(v),
                _ => {}
            }
        }
        let Some(api_version) = api_version else {
            return Err(ApiError::BadParameter(
                "The api-version query parameter (?api-version=) is required for all requests."
                    .into(),
            ));
        };
        if !arca_proto::is_supported_api_version(&api_version) {
            let shown: String = api_version.chars().take(40).collect();
            return Err(ApiError::BadParameter(format!(
                "The specified version ({shown}) is not recognized. Consider using the latest supported version ({}).",
                arca_proto::SUPPORTED_API_VERSIONS.last().copied().unwrap_or_default()
            )));
        }
        q.api_version = api_version;
        Ok(q)
    }
}

/// Where the request came in: the origin used in every id and link of the response, written as
/// `https://<host>` (without a default port).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'r>(&'r str);

impl<'r> Origin<'r> {
    pub(crate) fn new(host: &'r str) -> Self {
        Origin(host.strip_suffix(":443").unwrap_or(host))
    }
}

impl std::fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("https://")?;
        f.write_str(self.0)
    }
}

/// Most path segments a data-plane route has (`secrets/<name>/<version>`); longer paths are
/// unknown.
const MAX_SEGMENTS: usize = 4;

/// Splits a path into its segments without allocating; `None` when it has more than
/// [`MAX_SEGMENTS`].
pub(crate) fn segments(path: &str) -> Option<([&str; MAX_SEGMENTS], usize)> {
    let mut out = [""; MAX_SEGMENTS];
    let mut count = 0;
    for segment in path.trim_start_matches('/').split('/') {
        *out.get_mut(count)? = segment;
        count += 1;
    }
    Some((out, count))
}

/// Serializes a response body as JSON (200 unless the caller changes it).
pub(crate) fn json<T: serde::Serialize>(value: &T) -> Response {
    // Large enough for a secret bundle with a small value, so most bodies need no regrowth.
    let mut buffer = Vec::with_capacity(512);
    match serde_json::to_writer(&mut buffer, value) {
        Ok(()) => (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            buffer,
        )
            .into_response(),
        Err(_) => ApiError::Internal.into_response(),
    }
}

/// Serves one authenticated request for an existing vault.
pub(crate) async fn serve(
    state: &AppState,
    snapshot: &crate::access::Snapshot,
    vault: std::sync::Arc<arca_store::VaultRecord>,
    host: &str,
    caller: &crate::auth::caller::Caller,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let is_restore = parts.method == axum::http::Method::POST && {
        let tail = path.len().saturating_sub("/restore".len());
        path.get(tail..)
            .is_some_and(|t| t.eq_ignore_ascii_case("/restore"))
    };
    let limit = if is_restore {
        MAX_RESTORE_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    // Nothing reads the body before the operation is authorized; a request refused earlier drops
    // it unread, and `Unread` discards it in the background while the answer goes out.
    let body = Unread::new(body, limit);
    let query = match Query::parse(parts.uri.query()) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let Some((segments, count)) = segments(path) else {
        return ApiError::UnknownPath.into_response();
    };
    let segments = &segments[..count];
    let ctx = context::Ctx {
        state,
        vault: &vault,
        origin: Origin::new(host),
        query,
        caller,
        snapshot,
        admitted: Default::default(),
    };
    let result = match segments.first() {
        Some(c) if c.eq_ignore_ascii_case("secrets") => {
            secrets::route(&ctx, &parts.method, &segments[1..], body).await
        }
        Some(c) if c.eq_ignore_ascii_case("deletedsecrets") => {
            deleted::route::<secrets::Deleted>(&ctx, &parts.method, &segments[1..]).await
        }
        Some(c) if c.eq_ignore_ascii_case("certificates") => {
            certificates::route(&ctx, &parts.method, &segments[1..], body).await
        }
        Some(c) if c.eq_ignore_ascii_case("deletedcertificates") => {
            deleted::route::<certificates::Deleted>(&ctx, &parts.method, &segments[1..]).await
        }
        Some(c) if c.eq_ignore_ascii_case("keys") => {
            keys::route(&ctx, &parts.method, &segments[1..], body).await
        }
        Some(c) if c.eq_ignore_ascii_case("deletedkeys") => {
            deleted::route::<keys::Deleted>(&ctx, &parts.method, &segments[1..]).await
        }
        Some(c) if c.eq_ignore_ascii_case("rng") && segments.len() == 1 => {
            keys::random(&ctx, &parts.method, body).await
        }
        _ => Err(ApiError::UnknownPath),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Parses a JSON body into `T`, mapping every failure to 400 BadParameter.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    // Serde would fill a struct from a JSON array by position; Key Vault bodies are objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadParameter(
            "The request body must be a JSON object.".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => {
                "has a member of the wrong type or lacks a required member"
            }
            _ => "is not valid JSON",
        };
        ApiError::BadParameter(format!(
            "The request body {what} (line {}, column {}).",
            e.line(),
            e.column()
        ))
    })
}
