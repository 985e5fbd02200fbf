//! The front door: every request enters here and is sent by its Host header either to the Key
//! Vault data plane (`<vault>.<dns-suffix>`) or to the deployment endpoints (health, identity,
//! admin) on any other host.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceExt;

use crate::body::Unread;
use crate::error::ApiError;
use crate::identity::endpoints as identity;
use crate::state::SharedState;

/// Largest body any deployment endpoint (token, admin) reads.
const DEPLOYMENT_BODY_LIMIT: usize = 64 * 1024;
/// How much of an unauthenticated request's body is read and discarded after the 401.
const UNAUTHENTICATED_DRAIN_LIMIT: usize = 1024 * 1024;

/// Builds the whole HTTP service.
pub fn build(state: SharedState) -> Router {
    let deployment = Router::new()
        .route("/healthz", get(health))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(identity::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(identity::jwks))
        .route("/{tenant}/oauth2/v2.0/token", post(identity::token))
        .route("/{tenant}/oauth2/token", post(identity::token_v1))
        .route(
            identity::MANAGED_IDENTITY_PATH,
            get(identity::managed_identity),
        )
        .route(identity::IMDS_PATH, get(identity::imds))
        .route(identity::IMDS_PATH_SLASH, get(identity::imds))
        .route(
            "/subscriptions",
            get(crate::identity::management::subscriptions),
        )
        .route("/tenants", get(crate::identity::management::tenants))
        .route(
            "/release-signing-keys",
            get(crate::dataplane::keys::release_signing_keys),
        )
        .nest("/admin", crate::admin::routes())
        .fallback(deployment_not_found)
        .with_state(state.clone());
    Router::new()
        .fallback(
            move |State(state): State<SharedState>, request: Request<Body>| {
                let deployment = deployment.clone();
                async move { Ok::<_, Infallible>(dispatch(state, deployment, request).await) }
            },
        )
        .with_state(state)
}

/// The issuer host's 404: what it serves, rather than the Key Vault API's message.
async fn deployment_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({ "error": {
            "code": "NotFound",
            "message": "This path is not served by the Arca issuer host. It serves \
                GET /healthz, GET /{tenant}/v2.0/.well-known/openid-configuration, \
                GET /{tenant}/discovery/v2.0/keys, POST /{tenant}/oauth2/v2.0/token, \
                POST /{tenant}/oauth2/token, GET /metadata/identity/oauth2/token (IMDS), \
                GET /msi/token (App Service), GET /subscriptions, GET /tenants, \
                GET /release-signing-keys, /admin/... \
                and, for the default vault, the Key Vault API (/secrets, /deletedsecrets, ...); \
                other vaults are at https://<vault>.<dns-suffix>.",
        }})),
    )
        .into_response()
}

async fn health() -> impl IntoResponse {
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({ "status": "ok" })),
    )
}

/// The host the client addressed: the URI authority (HTTP/2) or the Host header (HTTP/1.1).
pub(crate) fn request_host(request: &Request<Body>) -> Option<String> {
    if let Some(authority) = request.uri().authority() {
        return Some(authority.as_str().to_ascii_lowercase());
    }
    request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase)
}

/// The vault label of `<vault>.<dns-suffix>[:port]`, if the host has that shape.
pub fn vault_of_host<'h>(host: &'h str, dns_suffix: &str) -> Option<&'h str> {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let label = name.strip_suffix(dns_suffix)?.strip_suffix('.')?;
    (!label.is_empty() && !label.contains('.')).then_some(label)
}

/// Tags every response with `x-ms-request-id` (and echoes `x-ms-client-request-id`) and the
/// headers of [`common_headers`], serves the request with that id as the current one, so every
/// log event it raises names it, and writes the request's line to the request log
/// (`crate::request_log`).
async fn dispatch(state: SharedState, deployment: Router, request: Request<Body>) -> Response {
    let started = std::time::Instant::now();
    let id = crate::request_id::RequestId::next();
    let client_request_id = request.headers().get("x-ms-client-request-id").cloned();
    let host = request_host(&request).unwrap_or_default();
    let target = vault_of_request(&state, &host, request.uri().path());
    let is_data_plane = target.is_some();
    let peer = crate::auth::peer_ip(request.extensions());
    let method = request.method().clone();
    let logged_target =
        crate::request_log::loggable_target(request.uri().path(), request.uri().query());
    let notes = std::sync::Arc::new(std::sync::Mutex::new(crate::request_log::Notes::default()));
    // Boxed once here: the request's future is large (the engine's nested futures), and each
    // scope below moves it; boxed, those moves copy a pointer instead of the whole future.
    let served = Box::pin(route(state.clone(), deployment, request, &host, target));
    let mut response = crate::request_log::Notes::scope(notes.clone(), id.scope(served)).await;
    let headers = response.headers_mut();
    headers.insert("x-ms-request-id", id.header_value());
    if let Some(value) = &client_request_id {
        headers.insert("x-ms-client-request-id", value.clone());
    }
    common_headers(headers);
    if is_data_plane {
        key_vault_headers(headers, &state.urls.region, peer);
    }
    let notes = notes.lock().unwrap_or_else(|p| p.into_inner());
    let client_request_id = client_request_id
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .map(|v| crate::request_log::cut(v.to_owned()));
    let (role, scope) = match &notes.outcome {
        crate::request_log::Outcome::Allowed { role, scope } => (role.as_str(), scope.as_str()),
        _ => ("-", "-"),
    };
    tracing::info!(
        target: "arca::request",
        method = method.as_str(),
        host = crate::request_log::cut(host).as_str(),
        path = logged_target.as_str(),
        status = response.status().as_u16(),
        duration_ms = crate::request_log::millis(started.elapsed()),
        request_id = %id,
        client_request_id = client_request_id.as_deref().unwrap_or("-"),
        caller = notes.caller.as_deref().unwrap_or("-"),
        operation = notes
            .decision
            .as_ref()
            .map_or("-", |d| d.operation.audit_name()),
        authz = notes.outcome.word(),
        role,
        scope,
        reason = crate::request_log::reason(&notes.outcome),
        "request"
    );
    drop(notes);
    response
}

/// The version Key Vault clients see in `x-ms-keyvault-service-version`: Arca's own.
const SERVICE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Headers on every response: HSTS, `nosniff`, `Cache-Control: no-cache` (unless the handler
/// chose one, as the token endpoint's `no-store`), and JSON declared as UTF-8.
fn common_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000;includeSubDomains"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"application/json"))
    {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
}

/// The headers Key Vault adds to data-plane responses: its service version, its region, and
/// how the client reached it (`x-ms-keyvault-network-info`).
fn key_vault_headers(
    headers: &mut axum::http::HeaderMap,
    region: &str,
    peer: Option<std::net::IpAddr>,
) {
    headers.insert(
        "x-ms-keyvault-service-version",
        HeaderValue::from_static(SERVICE_VERSION),
    );
    if let Ok(value) = HeaderValue::from_str(region) {
        headers.insert("x-ms-keyvault-region", value);
    }
    if let Some(value) = peer
        .map(network_info)
        .and_then(|info| HeaderValue::from_str(&info).ok())
    {
        headers.insert("x-ms-keyvault-network-info", value);
    }
}

/// `x-ms-keyvault-network-info` for a client address, in Key Vault's shape.
pub fn network_info(peer: std::net::IpAddr) -> String {
    match peer.to_canonical() {
        std::net::IpAddr::V4(ip) => {
            format!("conn_type=Ipv4;addr={ip};act_addr_fam=InterNetwork;")
        }
        std::net::IpAddr::V6(ip) => {
            format!("conn_type=Ipv6;addr={ip};act_addr_fam=InterNetworkV6;")
        }
    }
}

/// The first path segments of the data plane: a request for one of them at one of the issuer's
/// origins ([`crate::urls::Urls::origins`]) is for the `default` vault.
const DATA_PLANE_COLLECTIONS: [&str; 7] = [
    "secrets",
    "deletedsecrets",
    "keys",
    "deletedkeys",
    "certificates",
    "deletedcertificates",
    "rng",
];

/// The vault a request is for and the challenge its 401 carries: `<vault>.<dns-suffix>`, or the
/// `default` vault at one of the origins for a data-plane path.
fn vault_of_request(state: &SharedState, host: &str, path: &str) -> Option<(String, HeaderValue)> {
    if let Some(label) = vault_of_host(host, &state.urls.dns_suffix) {
        return Some((label.to_owned(), state.issuer.challenge()));
    }
    let origin = state.urls.origin_of_host(host)?;
    let first = path.trim_start_matches('/').split('/').next()?;
    DATA_PLANE_COLLECTIONS.contains(&first).then(|| {
        (
            "default".to_owned(),
            state.issuer.challenge_for_origin(origin),
        )
    })
}

/// Serves a request: for a vault (`target`, from [`vault_of_request`]) on the data plane,
/// otherwise on the deployment endpoints.
async fn route(
    state: SharedState,
    deployment: Router,
    request: Request<Body>,
    host: &str,
    target: Option<(String, HeaderValue)>,
) -> Response {
    let Some((vault_label, challenge)) = target else {
        return deployment_request(deployment, request).await;
    };
    let vault_label = vault_label.as_str();
    if request.uri().path() == "/healthz" && request.method() == Method::GET {
        return health().await.into_response();
    }
    // Authentication comes before routing or any validation, so the SDKs' bodiless probe always
    // receives the challenge.
    // One snapshot of access state decides the whole request.
    let snapshot = state.access.snapshot();
    let caller = match crate::auth::authenticate_challenged(
        &state,
        request.headers(),
        &snapshot,
        &challenge,
    ) {
        Ok(caller) => caller,
        Err(e) => {
            // Dropped unread: discarded in the background while the challenge goes out.
            drop(Unread::new(
                request.into_body(),
                UNAUTHENTICATED_DRAIN_LIMIT,
            ));
            return e.into_response();
        }
    };
    let vault = match arca_core::VaultName::parse(vault_label) {
        Ok(name) => match state.vault(name.as_str()).await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ApiError::VaultNotFound(vault_label.to_owned())),
            Err(e) => Err(ApiError::from(e)),
        },
        Err(_) => Err(ApiError::VaultNotFound(vault_label.to_owned())),
    };
    let peer = crate::auth::peer_ip(request.extensions());
    let vault = vault.and_then(|vault| {
        if snapshot.admits(&vault.name, peer) {
            Ok(vault)
        } else {
            tracing::info!(vault = %vault.name, peer = ?peer, "request refused by the vault firewall");
            crate::request_log::refused("the vault's network rules do not admit the address");
            Err(crate::access::firewall_denial(
                peer,
                &caller,
                &state.issuer.issuer,
                &vault.name,
            ))
        }
    });
    match vault {
        Ok(vault) => {
            crate::dataplane::serve(&state, &snapshot, vault, host, &caller, request).await
        }
        Err(e) => {
            drop(Unread::new(
                request.into_body(),
                arca_core::limits::MAX_BODY_BYTES,
            ));
            e.into_response()
        }
    }
}

/// A request to the deployment host. Bodies are read by the handler that needs one, through the
/// body budget into a buffer wiped when dropped: the admin API after its `Admin` extractor has
/// authorized, the token endpoint (whose decision depends on its form) at once. Whatever a
/// handler leaves unread is discarded in the background.
async fn deployment_request(deployment: Router, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let limit = if parts.uri.path().starts_with("/admin") {
        crate::admin::MAX_ADMIN_BODY
    } else {
        DEPLOYMENT_BODY_LIMIT
    };
    let body = Body::new(Unread::new(body, limit));
    deployment
        .oneshot(Request::from_parts(parts, body))
        .await
        .unwrap_or_else(|never| match never {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_info_has_key_vaults_shape() {
        assert_eq!(
            network_info(
                "10.1.2.3"
                    .parse()
                    .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into())
            ),
            "conn_type=Ipv4;addr=10.1.2.3;act_addr_fam=InterNetwork;"
        );
        assert_eq!(
            network_info(
                "::ffff:10.1.2.3"
                    .parse()
                    .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into())
            ),
            "conn_type=Ipv4;addr=10.1.2.3;act_addr_fam=InterNetwork;"
        );
        assert_eq!(
            network_info(std::net::Ipv6Addr::LOCALHOST.into()),
            "conn_type=Ipv6;addr=::1;act_addr_fam=InterNetworkV6;"
        );
    }

    #[test]
    fn vault_hosts_are_recognised() {
        assert_eq!(
            vault_of_host("default.vault.localhost:8443", "vault.localhost"),
            Some("default")
        );
        assert_eq!(
            vault_of_host("default.vault.localhost", "vault.localhost"),
            Some("default")
        );
        assert_eq!(
            vault_of_host("vault.localhost:8443", "vault.localhost"),
            None
        );
        assert_eq!(
            vault_of_host("a.b.vault.localhost", "vault.localhost"),
            None
        );
        assert_eq!(vault_of_host("localhost:8443", "vault.localhost"), None);
        assert_eq!(vault_of_host("xvault.localhost", "vault.localhost"), None);
        assert_eq!(vault_of_host("127.0.0.1:8443", "vault.localhost"), None);
    }
}
