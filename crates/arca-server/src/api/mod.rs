//! The Key Vault data plane: requests whose Host is `<vault>.<dns-suffix>`.
//!
//! Order of checks, fixed: authentication (401 with the challenge, before anything else), vault
//! lookup (404), the vault's network rules (403 ForbiddenByFirewall), api-version (400), route,
//! role-based authorization of the operation (403 ForbiddenByRbac), then body and parameter
//! validation.

pub mod secrets;

use arca_core::limits::{MAX_BODY_BYTES, MAX_RESTORE_BODY_BYTES};
use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The parsed query string of a data-plane request.
#[derive(Debug, Default)]
pub struct Query {
    pub api_version: String,
    pub maxresults: Option<String>,
    pub skiptoken: Option<String>,
}

impl Query {
    fn parse(raw: Option<&str>) -> ApiResult<Self> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|_| ApiError::BadParameter("The query string is malformed.".into()))?;
        let mut q = Query::default();
        let mut api_version = None;
        for (k, v) in pairs {
            match k.as_str() {
                "api-version" => api_version = Some(v),
                "maxresults" => q.maxresults = Some(v),
                "$skiptoken" => q.skiptoken = Some(v),
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

/// Where the request came in: the origin used in every id and link of the response.
pub struct Origin(pub String);

impl Origin {
    pub fn new(host: &str) -> Self {
        let host = host.strip_suffix(":443").unwrap_or(host);
        Origin(format!("https://{host}"))
    }
}

/// Serves one authenticated request for an existing vault.
pub async fn serve(
    state: &AppState,
    snapshot: &crate::access::Snapshot,
    vault: arca_store::VaultRecord,
    host: &str,
    caller: &crate::identity::Caller,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let is_restore =
        parts.method == axum::http::Method::POST && path.to_ascii_lowercase().ends_with("/restore");
    let limit = if is_restore {
        MAX_RESTORE_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    // The body is read before any validation, so an error answer is never cut off by unread data.
    let body = match read_body(body, limit).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let query = match Query::parse(parts.uri.query()) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let ctx = secrets::Ctx {
        state,
        vault: &vault,
        origin: Origin::new(host),
        query,
        caller,
        snapshot,
    };
    let result = match segments.first() {
        Some(c) if c.eq_ignore_ascii_case("secrets") => {
            secrets::route(&ctx, &parts.method, &segments[1..], &body).await
        }
        Some(c) if c.eq_ignore_ascii_case("deletedsecrets") => {
            secrets::route_deleted(&ctx, &parts.method, &segments[1..]).await
        }
        _ => Err(ApiError::UnknownPath),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// How far past a limit a refused body is still read (and discarded), so the error response is
/// not lost to a TCP reset when the connection closes with unread data.
const DRAIN_EXTRA_BYTES: usize = 1024 * 1024;
/// How long draining may take.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads a body of at most `limit` bytes. A larger body is refused (413) after reading and
/// discarding a bounded amount more.
pub async fn read_body(body: Body, limit: usize) -> ApiResult<axum::body::Bytes> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut buffer = Vec::new();
    let mut total = 0usize;
    let mut refused = false;
    let read = async {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return };
            if let Ok(data) = frame.into_data() {
                total += data.len();
                if total > limit {
                    refused = true;
                    buffer = Vec::new();
                    if total > limit + DRAIN_EXTRA_BYTES {
                        return;
                    }
                } else {
                    buffer.extend_from_slice(&data);
                }
            }
        }
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, read).await.is_err() && !refused {
        return Err(ApiError::BadParameter(
            "The request body was not received in time.".into(),
        ));
    }
    if refused {
        return Err(ApiError::BodyTooLarge { limit });
    }
    Ok(buffer.into())
}

/// Reads and discards up to `limit` bytes of a body the server will not use, so the response
/// sent before it reaches the client intact.
pub async fn drain(body: Body, limit: usize) {
    let _ = read_body(body, limit).await;
}

/// Parses a JSON body into `T`, mapping every failure to 400 BadParameter.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
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
