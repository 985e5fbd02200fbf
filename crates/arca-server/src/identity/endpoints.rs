//! HTTP endpoints of the issuer: OpenID discovery, JWKS, the OAuth 2.0 token endpoint (client
//! credentials with a client secret) and the App Service managed-identity endpoint.
//!
//! OAuth errors use the OAuth envelope (`{"error":"invalid_client","error_description":..}`), as
//! Entra ID does, not the Key Vault one.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::principal::PrincipalData;
use crate::state::SharedState;

/// Largest form body the token endpoint reads.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// The path of the managed-identity endpoint (App Service protocol).
pub const MANAGED_IDENTITY_PATH: &str = "/msi/token";

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description, "error_codes": [] })),
    )
        .into_response()
}

pub async fn openid_configuration(
    State(state): State<SharedState>,
    Path(_tenant): Path<String>,
) -> Response {
    let issuer = &state.issuer;
    let base = format!("{}/{}", issuer.authority_host, issuer.tenant_id);
    Json(json!({
        "issuer": issuer.issuer,
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "appid", "azp"],
        "tenant_region_scope": null,
        "cloud_instance_name": "arca",
    }))
    .into_response()
}

pub async fn jwks(State(state): State<SharedState>, Path(_tenant): Path<String>) -> Response {
    Json(state.issuer.jwks()).into_response()
}

/// Maps a requested scope list to the one resource Arca issues tokens for.
fn resource_of_scope(state: &SharedState, scope: &str) -> Result<(), Box<Response>> {
    let mut resources = scope
        .split_whitespace()
        .filter(|s| !matches!(*s, "openid" | "profile" | "offline_access"));
    let (Some(first), None) = (resources.next(), resources.next()) else {
        return Err(Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "Exactly one resource scope is required.",
        )));
    };
    let resource = first
        .strip_suffix("/.default")
        .unwrap_or(first)
        .trim_end_matches('/');
    if !resource.eq_ignore_ascii_case(&state.issuer.resource) {
        return Err(Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!(
                "The resource is not served by this issuer; use {}/.default.",
                state.issuer.resource
            ),
        )));
    }
    Ok(())
}

/// A freshly minted access token.
struct Minted {
    token: String,
    now: i64,
    expires: i64,
}

/// Mints a token for a principal, or the OAuth error response to send instead.
fn mint(state: &SharedState, client_id: &str, object_id: &str) -> Result<Minted, Box<Response>> {
    let now = state.clock.now();
    let minted = arca_crypto::random_bytes::<16>().and_then(|id| {
        let id = arca_core::VersionId::from_random(id);
        state.issuer.issue(client_id, object_id, now, id.as_str())
    });
    match minted {
        Ok((token, expires)) => Ok(Minted {
            token,
            now,
            expires,
        }),
        Err(e) => {
            tracing::error!(error = %e, "token issuance failed");
            Err(Box::new(oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The token could not be issued.",
            )))
        }
    }
}

fn token_response(state: &SharedState, client_id: &str, object_id: &str) -> Response {
    match mint(state, client_id, object_id) {
        Ok(m) => Json(json!({
            "token_type": "Bearer",
            "expires_in": m.expires - m.now,
            "ext_expires_in": m.expires - m.now,
            "access_token": m.token,
        }))
        .into_response(),
        Err(response) => *response,
    }
}

/// `POST /<tenant>/oauth2/v2.0/token`, grant type `client_credentials` with `client_secret`.
pub async fn token(
    State(state): State<SharedState>,
    Path(_tenant): Path<String>,
    body: Body,
) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return oauth_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "The request body is too large.",
        );
    };
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be form-encoded.",
        );
    };
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only client_credentials is supported.",
            )
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required.",
            )
        }
    }
    if let Err(r) = resource_of_scope(&state, field("scope").unwrap_or_default()) {
        return *r;
    }
    let (Some(client_id), Some(secret)) = (field("client_id"), field("client_secret")) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and client_secret are required.",
        );
    };
    let invalid = || {
        oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client id or client secret.",
        )
    };
    let principal = match state.store.principal(client_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return invalid(),
        Err(e) => {
            tracing::warn!(error = %e, "principal lookup failed");
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Storage is unavailable.",
            );
        }
    };
    let Some(data) = PrincipalData::decode(&principal.data) else {
        tracing::error!(client_id, "principal document is unreadable");
        return invalid();
    };
    let now = state.clock.now();
    let hashes: Vec<String> = data
        .secrets
        .iter()
        .filter(|s| s.expires.is_none_or(|e| e > now))
        .map(|s| s.hash.clone())
        .collect();
    let candidate = arca_crypto::SecretString::new(secret.to_owned());
    let Ok(_permit) = state.issuer.hash_slots.acquire().await else {
        return oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "Shutting down.",
        );
    };
    let matched = tokio::task::spawn_blocking(move || {
        hashes
            .iter()
            .any(|h| arca_crypto::verify_client_secret(h, candidate.expose().as_bytes()))
    })
    .await
    .unwrap_or(false);
    if !matched {
        tracing::info!(client_id, "token request with a wrong client secret");
        return invalid();
    }
    token_response(&state, &principal.client_id, &principal.object_id)
}

/// `GET /msi/token`: the App Service managed-identity protocol (api-version 2019-08-01).
pub async fn managed_identity(
    State(state): State<SharedState>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let presented = headers
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if presented.is_empty() || !state.issuer.identity_header_matches(presented) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "A valid X-IDENTITY-HEADER is required.",
        );
    }
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(resource) = param("resource") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "resource is required.",
        );
    };
    if let Err(r) = resource_of_scope(&state, resource) {
        return *r;
    }
    let client_id = state.issuer.managed_identity_client.clone();
    if param("client_id").is_some_and(|c| c != client_id) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No managed identity with that client_id.",
        );
    }
    let principal = match state.store.principal(&client_id).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The managed identity is not configured.",
            )
        }
        Err(_) => {
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Storage is unavailable.",
            )
        }
    };
    match mint(&state, &principal.client_id, &principal.object_id) {
        Ok(m) => Json(json!({
            "access_token": m.token,
            "expires_on": m.expires.to_string(),
            "resource": state.issuer.resource,
            "token_type": "Bearer",
            "client_id": principal.client_id,
        }))
        .into_response(),
        Err(response) => *response,
    }
}
