//! HTTP endpoints of the issuer: OpenID discovery, JWKS, the OAuth 2.0 token endpoint and the
//! two managed-identity endpoints (App Service and IMDS).
//!
//! The token endpoints (v2.0, and v1 with `resource=`) grant `client_credentials` with any of
//! the credentials azure-identity sends: a client secret (`ClientSecretCredential`, in the body
//! or as HTTP Basic authentication), a JWT assertion signed with a registered certificate
//! (`CertificateCredential`), or a JWT from a trusted external issuer
//! (`WorkloadIdentityCredential`, federated identity). OAuth errors use the OAuth envelope
//! (`{"error":"invalid_client","error_description":..}`), as Entra ID does, not the Key Vault one.

use std::net::IpAddr;

use arca_crypto::{ClientCertificate, JwkSet, PublicKey};
use arca_proto::identity::{
    AppServiceToken, ImdsToken, OAuthError, OpenIdConfiguration, TokenV1, TokenV2,
};
use arca_proto::SecretText;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::{Map, Value};
use zeroize::{Zeroize as _, Zeroizing};

use super::jwks_fetch::JwksSource;
use super::principal::{PrincipalData, PrincipalKind};
use super::CLOCK_SKEW_SECS;
use crate::access::{self, FederationDoc};
use crate::auth::Peer;
use crate::state::SharedState;

/// Largest form body the token endpoint reads.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// The path of the App Service managed-identity endpoint.
pub const MANAGED_IDENTITY_PATH: &str = "/msi/token";
/// The path of the IMDS managed-identity endpoint.
pub const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
/// The IMDS path as MSAL for JavaScript spells it, with a trailing slash; real IMDS answers both.
pub const IMDS_PATH_SLASH: &str = "/metadata/identity/oauth2/token/";
/// The `client_assertion_type` of JWT client assertions (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

type Refusal = Box<Response>;

/// An OAuth error answer. Its code and description also go to the request log as the reason of
/// the refusal, so a description must never quote a credential or a form value.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    crate::request_log::refused(crate::request_log::cut(format!("{error}: {description}")));
    (
        status,
        Json(OAuthError {
            error: error.to_owned(),
            error_codes: Vec::new(),
            error_description: description.to_owned(),
        }),
    )
        .into_response()
}

fn invalid_client(description: &str) -> Refusal {
    Box::new(oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        description,
    ))
}

/// The one answer to a client assertion that does not prove the client: unknown client id,
/// unregistered certificate, no federated credential for its issuer, subject or audience, or a
/// signature that does not verify. One message for all, so that the answer does not tell which
/// client ids exist or what they trust.
const ASSERTION_NOT_VERIFIED: &str =
    "AADSTS700027: The client assertion could not be verified for this client, or no such client.";

/// The one answer to a wrong client secret, whether or not the client id exists.
const SECRET_REFUSED: &str = "AADSTS7000215: Invalid client secret provided, or no such client.";

fn unavailable() -> Refusal {
    Box::new(oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "Storage is unavailable.",
    ))
}

/// A tenant path segment as it may be quoted in an error: at most 64 characters of the ones a
/// tenant id or domain name uses, anything else replaced.
fn shown_tenant(tenant: &str) -> String {
    let mut shown: String = tenant
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '?'
            }
        })
        .collect();
    if tenant.chars().nth(64).is_some() {
        shown.push_str("...");
    }
    shown
}

/// The refusal of a tenant other than this deployment's (or the aliases `organizations` and
/// `common`), as Entra ID answers an unknown tenant.
fn refuse_tenant(state: &SharedState, tenant: &str) -> Result<(), Refusal> {
    if state.issuer.serves_tenant(tenant) {
        return Ok(());
    }
    Err(Box::new(oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        &format!(
            "AADSTS90002: Tenant '{}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
            shown_tenant(tenant)
        ),
    )))
}

pub async fn openid_configuration(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
) -> Response {
    if let Err(r) = refuse_tenant(&state, &tenant) {
        return *r;
    }
    let issuer = &state.issuer;
    let base = format!("{}/{}", issuer.authority_host, issuer.tenant_id);
    let strings = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect();
    Json(OpenIdConfiguration {
        authorization_endpoint: format!("{base}/oauth2/v2.0/authorize"),
        claims_supported: strings(&[
            "sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "appid", "azp",
        ]),
        cloud_instance_name: "arca".to_owned(),
        grant_types_supported: strings(&["client_credentials"]),
        id_token_signing_alg_values_supported: strings(&["ES256"]),
        issuer: issuer.issuer.clone(),
        jwks_uri: format!("{base}/discovery/v2.0/keys"),
        response_types_supported: strings(&["token"]),
        subject_types_supported: strings(&["pairwise"]),
        tenant_region_scope: None,
        token_endpoint: format!("{base}/oauth2/v2.0/token"),
        token_endpoint_auth_methods_supported: strings(&[
            "client_secret_post",
            "client_secret_basic",
            "private_key_jwt",
        ]),
    })
    .into_response()
}

pub async fn jwks(State(state): State<SharedState>, Path(tenant): Path<String>) -> Response {
    if let Err(r) = refuse_tenant(&state, &tenant) {
        return *r;
    }
    Json(state.issuer.jwks()).into_response()
}

/// Maps a requested scope list (or a `resource` parameter) to the one resource the token will be
/// for: a data-plane resource or the management resource, in its canonical spelling.
fn resource_of_scope(state: &SharedState, scope: &str) -> Result<String, Refusal> {
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
    match state.issuer.served_resource(first) {
        Some((resource, _)) => Ok(resource.to_owned()),
        None => Err(Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!(
                "The resource is not served by this issuer; use {}/.default.",
                state.issuer.resource
            ),
        ))),
    }
}

/// A freshly minted access token.
struct Minted {
    token: String,
    now: i64,
    expires: i64,
}

/// Mints a token for a principal through one of its credentials.
fn mint(
    state: &SharedState,
    audience: &str,
    client_id: &str,
    object_id: &str,
    credential: &str,
) -> Result<Minted, Refusal> {
    let now = state.clock.now();
    let minted = arca_crypto::random_bytes::<16>().and_then(|id| {
        let id = arca_core::VersionId::from_random(id);
        state
            .issuer
            .issue_for(audience, client_id, object_id, credential, now, id.as_str())
    });
    match minted {
        Ok((token, expires)) => {
            crate::request_log::issued(object_id);
            Ok(Minted {
                token,
                now,
                expires,
            })
        }
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

/// The principal a token request names, with its document.
struct Client {
    client_id: String,
    object_id: String,
    data: PrincipalData,
}

async fn load_client(state: &SharedState, client_id: &str) -> Result<Option<Client>, Refusal> {
    let principal = match state.store.principal(client_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(None),
        Err(e) => {
            tracing::warn!(error = %e, "principal lookup failed");
            return Err(unavailable());
        }
    };
    let Some(data) = PrincipalData::open(&state.keyring, &principal) else {
        return Ok(None);
    };
    Ok(Some(Client {
        client_id: principal.client_id,
        object_id: principal.object_id,
        data,
    }))
}

/// The fields of a form-encoded body, names and values in zeroizing strings: the token
/// endpoint's carry client secrets and assertions.
pub(crate) type Form = Vec<(Zeroizing<String>, Zeroizing<String>)>;

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one `application/x-www-form-urlencoded` name or value (`+` is a space, `%XY` a byte;
/// a `%` not followed by two hex digits stands for itself, as WHATWG parsing has it) straight
/// into a zeroizing buffer, without intermediate copies. `None` if it is not UTF-8.
fn form_decode(raw: &[u8]) -> Option<Zeroizing<String>> {
    let mut out = Zeroizing::new(Vec::with_capacity(raw.len()));
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        let escaped = (b == b'%')
            .then(|| Some((hex_digit(*raw.get(i + 1)?)?, hex_digit(*raw.get(i + 2)?)?)))
            .flatten();
        match (b, escaped) {
            (_, Some((high, low))) => {
                out.push(high << 4 | low);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (b, None) => {
                out.push(b);
                i += 1;
            }
        }
    }
    match String::from_utf8(std::mem::take(&mut *out)) {
        Ok(text) => Some(Zeroizing::new(text)),
        Err(e) => {
            e.into_bytes().zeroize();
            None
        }
    }
}

/// Parses a form-encoded body into zeroizing fields.
pub(crate) fn parse_form(body: &[u8]) -> Option<Form> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            Some((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

/// Reads the form body through the process-wide body budget into a buffer that is wiped when
/// dropped. The refusal is an OAuth error: 413 when larger than the form limit, 503 with
/// `Retry-After` when the budget has no room, 400 when the body does not arrive.
async fn read_form_body(
    state: &SharedState,
    body: Body,
) -> Result<crate::body::BodyBytes, Refusal> {
    let body = crate::body::Unread::new(body, MAX_FORM_BYTES);
    crate::body::read(&state.bodies, body, MAX_FORM_BYTES)
        .await
        .map_err(|e| {
            Box::new(match e {
                crate::error::ApiError::BodyTooLarge { .. } => oauth_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "invalid_request",
                    "The request body is too large.",
                ),
                crate::error::ApiError::Overloaded => {
                    let mut response = oauth_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "temporarily_unavailable",
                        "The server is busy; try again.",
                    );
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                    response
                }
                _ => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The request body could not be read.",
                ),
            })
        })
}

/// The two token endpoints: they differ in how the resource is named (`scope=` or `resource=`)
/// and in the shape of the answer, and share everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenEndpoint {
    /// `/<tenant>/oauth2/v2.0/token`: `scope=<resource>/.default`.
    V2,
    /// `/<tenant>/oauth2/token`: `resource=<resource>`, answered with string-valued times.
    V1,
}

/// `POST /<tenant>/oauth2/v2.0/token`, grant type `client_credentials`.
pub async fn token(
    State(state): State<SharedState>,
    Peer(peer): Peer,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    token_request(&state, peer, &tenant, &headers, body, TokenEndpoint::V2).await
}

/// `POST /<tenant>/oauth2/token`: the v1 endpoint, for the same credentials, naming the resource
/// with `resource=` and answering in the v1 shape.
pub async fn token_v1(
    State(state): State<SharedState>,
    Peer(peer): Peer,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    token_request(&state, peer, &tenant, &headers, body, TokenEndpoint::V1).await
}

/// Longest `Authorization: Basic` value read: a 128-character client id and a secret of up to
/// 1 KiB, both percent-encoded, then base64.
const MAX_BASIC_HEADER_BYTES: usize = 6 * 1024;

/// Client credentials from `Authorization: Basic` (`client_secret_basic`, RFC 6749 section
/// 2.3.1): `base64(urlencode(client_id) ":" urlencode(client_secret))`. The decoded secret lives
/// in zeroizing buffers only.
pub(crate) struct BasicCredentials {
    pub(crate) client_id: Zeroizing<String>,
    pub(crate) secret: Zeroizing<String>,
}

/// A refusal of a client that tried HTTP Basic authentication: 401 with `WWW-Authenticate:
/// Basic` (RFC 6749 section 5.2). Any other status is left as it is.
fn basic_refusal(mut response: Response) -> Response {
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"arca\", charset=\"UTF-8\""),
        );
    }
    response
}

/// The client credentials of an `Authorization: Basic` header; `Ok(None)` without one (other
/// schemes are not client authentication and are ignored).
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Result<Option<BasicCredentials>, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.as_bytes();
    let is_basic = value.len() > 6 && value[..5].eq_ignore_ascii_case(b"basic") && value[5] == b' ';
    if !is_basic {
        return Ok(None);
    }
    let malformed = |why: &str| {
        Box::new(basic_refusal(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            &format!("AADSTS7000216: The Authorization header's Basic credentials {why}."),
        )))
    };
    if value.len() > MAX_BASIC_HEADER_BYTES {
        return Err(malformed("are too long"));
    }
    let encoded = value[6..].trim_ascii();
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| malformed("are not base64"))?,
    );
    let Some(colon) = decoded.iter().position(|b| *b == b':') else {
        return Err(malformed("have no ':' between client id and secret"));
    };
    let (Some(client_id), Some(secret)) = (
        form_decode(&decoded[..colon]),
        form_decode(&decoded[colon + 1..]),
    ) else {
        return Err(malformed("are not UTF-8"));
    };
    if client_id.is_empty() || client_id.len() > 128 {
        return Err(malformed("name no client id of 1 to 128 characters"));
    }
    if secret.is_empty() || secret.len() > 1024 {
        return Err(malformed("carry no secret of 1 to 1024 characters"));
    }
    Ok(Some(BasicCredentials { client_id, secret }))
}

/// Grant type `client_credentials` at either token endpoint.
async fn token_request(
    state: &SharedState,
    peer: Option<IpAddr>,
    tenant: &str,
    headers: &HeaderMap,
    body: Body,
    endpoint: TokenEndpoint,
) -> Response {
    let bytes = match read_form_body(state, body).await {
        Ok(bytes) => bytes,
        Err(refusal) => return *refusal,
    };
    let form = parse_form(&bytes);
    // The raw body is wiped here, once parsed; the fields are wiped when the answer is made.
    drop(bytes);
    let Some(form) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be form-encoded.",
        );
    };
    if let Err(r) = refuse_tenant(state, tenant) {
        return *r;
    }
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k.as_str() == name)
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
    let requested = match endpoint {
        TokenEndpoint::V2 => field("scope").unwrap_or_default(),
        TokenEndpoint::V1 => match field("resource") {
            Some(resource) if !resource.is_empty() => resource,
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!(
                        "AADSTS50001: resource is required; use {}.",
                        state.issuer.resource
                    ),
                )
            }
        },
    };
    let audience = match resource_of_scope(state, requested) {
        Ok(audience) => audience,
        Err(r) => return *r,
    };
    let basic = match basic_credentials(headers) {
        Ok(basic) => basic,
        Err(refusal) => return *refusal,
    };
    let granted = match &basic {
        Some(basic) => {
            if field("client_secret").is_some()
                || field("client_assertion").is_some()
                || field("client_assertion_type").is_some()
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Use one client authentication method: the Authorization header or credentials in the body, not both.",
                );
            }
            if field("client_id").is_some_and(|id| id != basic.client_id.as_str()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "client_id in the body differs from the client id of the Authorization header.",
                );
            }
            by_secret(state, &basic.client_id, &basic.secret, peer)
                .await
                .map_err(|refusal| Box::new(basic_refusal(*refusal)))
        }
        None => {
            let Some(client_id) = field("client_id").filter(|c| !c.is_empty() && c.len() <= 128)
            else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "client_id is required.",
                );
            };
            match (
                field("client_secret"),
                field("client_assertion_type"),
                field("client_assertion"),
            ) {
                (Some(secret), None, None) => by_secret(state, client_id, secret, peer).await,
                (None, Some(JWT_BEARER), Some(assertion)) => {
                    by_assertion(state, tenant, client_id, assertion).await
                }
                (None, Some(_), Some(_)) => Err(Box::new(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("client_assertion_type must be {JWT_BEARER}."),
                ))),
                _ => Err(Box::new(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Exactly one of client_secret, client_assertion (with client_assertion_type) and HTTP Basic authentication is required.",
                ))),
            }
        }
    };
    drop(basic);
    let (client, credential) = match granted {
        Ok(g) => g,
        Err(refusal) => return *refusal,
    };
    let m = match mint(
        state,
        &audience,
        &client.client_id,
        &client.object_id,
        &credential,
    ) {
        Ok(m) => m,
        Err(response) => return *response,
    };
    let lifetime = m.expires - m.now;
    match endpoint {
        TokenEndpoint::V2 => Json(TokenV2 {
            access_token: SecretText::new(m.token),
            expires_in: lifetime,
            ext_expires_in: lifetime,
            token_type: "Bearer".to_owned(),
        })
        .into_response(),
        // The v1 shape: every number a string, and the resource the token is for.
        TokenEndpoint::V1 => Json(TokenV1 {
            access_token: SecretText::new(m.token),
            expires_in: lifetime.to_string(),
            expires_on: m.expires.to_string(),
            ext_expires_in: lifetime.to_string(),
            not_before: m.now.to_string(),
            resource: audience,
            token_type: "Bearer".to_owned(),
        })
        .into_response(),
    }
}

/// Client secret: verified against the slow hashes of the principal's unexpired secrets, with
/// repeated failures slowed down and then locked out per (client id, source address). A client
/// id that does not exist, or has no unexpired secret, is verified against a dummy hash, so every
/// answer costs one slow verification and says the same.
async fn by_secret(
    state: &SharedState,
    client_id: &str,
    secret: &str,
    peer: Option<IpAddr>,
) -> Result<(Client, String), Refusal> {
    let now = state.clock.now();
    let snapshot = state.access.snapshot();
    let attempt = state.lockout.attempt(client_id, peer, now, || {
        snapshot
            .principals
            .values()
            .map(|p| p.client_id.as_str())
            .collect()
    });
    let delay = match attempt {
        Ok(delay) => delay,
        Err(left) => {
            tracing::warn!(client_id, peer = ?peer, "token request for a client id locked for this address");
            let mut response = oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                &format!(
                    "AADSTS50053: Too many failed sign-in attempts from this address; sign-ins with this client id from it are temporarily locked. Try again in {left} seconds."
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&left.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Err(Box::new(response));
        }
    };
    let client = load_client(state, client_id).await?;
    let candidates: Vec<(String, String)> = client
        .as_ref()
        .map(|c| {
            c.data
                .secrets
                .iter()
                .filter(|s| s.expires.is_none_or(|e| e > now))
                .map(|s| (s.id.clone(), s.hash.clone()))
                .collect()
        })
        .unwrap_or_default();
    // Nothing to verify against: verify against the dummy hash instead, and never accept it.
    let dummy = candidates.is_empty();
    let candidates = if dummy {
        super::dummy_secret_hash()
            .map(|hash| vec![(String::new(), hash.to_owned())])
            .unwrap_or_default()
    } else {
        candidates
    };
    let presented = arca_crypto::SecretString::new(secret.to_owned());
    let Ok(permit) = state.issuer.hash_slots.acquire().await else {
        return Err(unavailable());
    };
    let counter = std::sync::Arc::clone(state);
    let matched = super::run_hash(move || {
        candidates
            .into_iter()
            .find(|(_, hash)| {
                counter
                    .issuer
                    .secret_verifications
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                arca_crypto::verify_client_secret(hash, presented.expose().as_bytes())
            })
            .map(|(id, _)| id)
    })
    .await
    .flatten();
    // The slot is for hashing only; a delayed answer must not hold up other clients.
    drop(permit);
    match (client, matched) {
        (Some(client), Some(secret_id)) if !dummy => {
            state.lockout.succeeded(client_id, peer);
            Ok((client, access::secret_credential(&secret_id)))
        }
        _ => {
            tracing::info!(client_id, peer = ?peer, "token request with a wrong client secret");
            tokio::time::sleep(delay).await;
            Err(invalid_client(SECRET_REFUSED))
        }
    }
}

/// Checks `exp` (required) and `nbf` against the clock, with the usual skew.
fn within_lifetime(claims: &Map<String, Value>, now: i64) -> bool {
    // NumericDate may carry a fraction (RFC 7519 section 2); whole seconds are enough here.
    let int = |k: &str| {
        claims
            .get(k)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f.floor() as i64)))
    };
    let Some(exp) = int("exp") else {
        return false;
    };
    now <= exp + CLOCK_SKEW_SECS && int("nbf").is_none_or(|nbf| nbf <= now + CLOCK_SKEW_SECS)
}

/// Whether the `aud` claim (a string or a list) contains one of `accepted`.
fn audience_matches(claims: &Map<String, Value>, accepted: &[String]) -> bool {
    let is_accepted = |a: &str| {
        accepted
            .iter()
            .any(|x| x.trim_end_matches('/') == a.trim_end_matches('/'))
    };
    match claims.get("aud") {
        Some(Value::String(a)) => is_accepted(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(is_accepted),
        _ => false,
    }
}

/// The certificate thumbprints a self-signed client assertion's header names (`x5t#S256`,
/// `x5t`). As in Entra ID, the header must name its certificate: keys are never tried blindly.
/// Checked before the client is looked up, since it does not depend on the client.
struct Thumbprints {
    sha256: Option<Vec<u8>>,
    sha1: Option<Vec<u8>>,
}

fn named_certificate(header: &Map<String, Value>) -> Result<Thumbprints, Refusal> {
    let thumbprint = |name: &str| {
        header
            .get(name)
            .and_then(Value::as_str)
            .and_then(crate::b64url_decode)
    };
    let named = Thumbprints {
        sha256: thumbprint("x5t#S256"),
        sha1: thumbprint("x5t"),
    };
    if named.sha256.is_none() && named.sha1.is_none() {
        return Err(invalid_client(
            "AADSTS700027: The client assertion header must name its certificate (x5t or x5t#S256).",
        ));
    }
    Ok(named)
}

/// A JWT client assertion: signed with a registered certificate when it is issued by the client
/// itself (`iss` = client id), otherwise a federated token from a trusted issuer. Until a
/// signature has verified, every refusal that depends on the client is the same one.
async fn by_assertion(
    state: &SharedState,
    tenant: &str,
    client_id: &str,
    assertion: &str,
) -> Result<(Client, String), Refusal> {
    let malformed =
        || invalid_client("AADSTS50027: The client assertion is not a well-formed JWT.");
    let (header, claims) = arca_crypto::jws_unverified(assertion).map_err(|_| malformed())?;
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let named = if issuer == client_id {
        Some(named_certificate(&header)?)
    } else {
        None
    };
    let Some(client) = load_client(state, client_id).await? else {
        return Err(invalid_client(ASSERTION_NOT_VERIFIED));
    };
    match named {
        Some(named) => by_certificate(state, tenant, client, assertion, &named),
        None => by_federation(state, client, assertion, &header, issuer).await,
    }
}

fn by_certificate(
    state: &SharedState,
    tenant: &str,
    client: Client,
    assertion: &str,
    named: &Thumbprints,
) -> Result<(Client, String), Refusal> {
    let now = state.clock.now();
    let mut verified = None;
    for entry in &client.data.certificates {
        let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&entry.der) else {
            continue;
        };
        let Ok(cert) = ClientCertificate::from_der(&der) else {
            continue;
        };
        let is_named = match (&named.sha256, &named.sha1) {
            (Some(t), _) => t.as_slice() == cert.sha256_thumbprint.as_slice(),
            (None, Some(t)) => t.as_slice() == cert.sha1_thumbprint.as_slice(),
            (None, None) => false,
        };
        if !is_named {
            continue;
        }
        if let Ok(claims) = arca_crypto::verify_external_jws(assertion, &cert.key) {
            verified = Some((entry.id.clone(), cert, claims));
            break;
        }
    }
    let Some((cert_id, cert, claims)) = verified else {
        return Err(invalid_client(ASSERTION_NOT_VERIFIED));
    };
    // Signed with a registered certificate's key: only its holder gets this far, so the
    // refusals below may be precise.
    if now < cert.not_before || now > cert.not_after {
        return Err(invalid_client(
            "AADSTS700027: The certificate that signed the client assertion is not within its validity period.",
        ));
    }
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    if text("sub") != Some(client.client_id.as_str()) {
        return Err(invalid_client(
            "AADSTS700023: The client assertion's sub claim must be the client id.",
        ));
    }
    let authority = &state.issuer.authority_host;
    let accepted: Vec<String> = [tenant, state.issuer.tenant_id.as_str()]
        .iter()
        .flat_map(|t| {
            [
                format!("{authority}/{t}/oauth2/v2.0/token"),
                format!("{authority}/{t}/oauth2/token"),
                format!("{authority}/{t}/v2.0"),
                format!("{authority}/{t}"),
            ]
        })
        .collect();
    if !audience_matches(&claims, &accepted) {
        return Err(invalid_client(
            "AADSTS700021: The client assertion's audience is not this token endpoint.",
        ));
    }
    if !within_lifetime(&claims, now) {
        return Err(invalid_client(
            "AADSTS700024: The client assertion is not within its valid time range.",
        ));
    }
    Ok((client, access::certificate_credential(&cert_id)))
}

/// The keys that may verify a federated token of `fed`.
async fn federation_keys(
    state: &SharedState,
    fed: &FederationDoc,
    kid: Option<&str>,
    now: i64,
) -> Vec<PublicKey> {
    let parse = |doc: &Value| -> Option<JwkSet> { JwkSet::parse(doc).ok() };
    let pick =
        |set: &JwkSet| -> Vec<PublicKey> { set.keys_for(kid).into_iter().cloned().collect() };
    if let Some(doc) = &fed.jwks {
        return parse(doc).map(|s| pick(&s)).unwrap_or_default();
    }
    let Some(url) = &fed.jwks_url else {
        return Vec::new();
    };
    let source = JwksSource {
        url: url.clone(),
        ca_pem: fed.jwks_ca_pem.clone(),
    };
    let keys = match state.jwks.get(&fed.id, &source, now).await {
        Ok(doc) => parse(&doc).map(|s| pick(&s)).unwrap_or_default(),
        Err(e) => {
            tracing::warn!(federation = %fed.id, error = %e, "cannot fetch the JWK set of a federated issuer");
            Vec::new()
        }
    };
    if !keys.is_empty() {
        return keys;
    }
    match state
        .jwks
        .refresh_for_unknown_kid(&fed.id, &source, now)
        .await
    {
        Ok(doc) => parse(&doc).map(|s| pick(&s)).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// A federated token: accepted when one of the client's federated credentials trusts its issuer,
/// subject and audience and one of that credential's keys verifies it. A token signed by a
/// public issuer (anyone can obtain one for a subject of their own) must not tell whether the
/// client trusts that issuer, subject or audience, so every such refusal is the same; only a
/// token that matches a credential in full is told that its lifetime is the problem.
async fn by_federation(
    state: &SharedState,
    client: Client,
    assertion: &str,
    header: &Map<String, Value>,
    issuer: &str,
) -> Result<(Client, String), Refusal> {
    let now = state.clock.now();
    let snapshot = state.access.snapshot();
    let trusted: Vec<&FederationDoc> = snapshot
        .federations
        .get(&client.client_id)
        .map(|list| list.iter().filter(|f| f.issuer == issuer).collect())
        .unwrap_or_default();
    let kid = header.get("kid").and_then(Value::as_str);
    // Each federated credential is judged with its own keys only, so two credentials trusting
    // the same issuer URL with different key sets (two clusters) cannot stand in for each other.
    for fed in &trusted {
        let keys = federation_keys(state, fed, kid, now).await;
        let Some(claims) = keys
            .iter()
            .find_map(|key| arca_crypto::verify_external_jws(assertion, key).ok())
        else {
            continue;
        };
        if claims.get("sub").and_then(Value::as_str) != Some(fed.subject.as_str())
            || !audience_matches(&claims, &fed.audiences)
        {
            continue;
        }
        if !within_lifetime(&claims, now) {
            return Err(invalid_client(
                "AADSTS700024: The client assertion is not within its valid time range.",
            ));
        }
        return Ok((client, access::federation_credential(&fed.id)));
    }
    Err(invalid_client(ASSERTION_NOT_VERIFIED))
}

/// Query parameters of the managed-identity endpoints.
fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default()
}

/// Picks the managed identity a request names: by `client_id`, `object_id` / `principal_id`, or
/// none (the endpoint's configured identity, if any). A named principal is served only if it was
/// created as a managed identity or is exactly the endpoint's configured identity: the bootstrap
/// administrator is a service principal, so it is served only when the operator configured it.
async fn managed_principal(
    state: &SharedState,
    params: &[(String, String)],
    default_client: Option<&str>,
) -> Result<Client, Refusal> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let not_assigned = || {
        Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found: no managed identity with that id is assigned.",
        ))
    };
    if param("mi_res_id").or(param("msi_res_id")).is_some() {
        return Err(not_assigned());
    }
    let by_object = param("object_id").or(param("principal_id"));
    let client = match (param("client_id"), by_object) {
        (None, None) => {
            let Some(default_client) = default_client else {
                return Err(not_assigned());
            };
            return load_client(state, default_client).await?.ok_or_else(|| {
                Box::new(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The managed identity is not configured.",
                ))
            });
        }
        (Some(client_id), _) => load_client(state, client_id).await?,
        (None, Some(object_id)) => {
            let snapshot = state.access.snapshot();
            match snapshot.principals.get(object_id) {
                Some(p) => load_client(state, &p.client_id).await?,
                None => None,
            }
        }
    };
    match client {
        Some(c)
            if c.data.kind == PrincipalKind::ManagedIdentity
                || Some(c.client_id.as_str()) == default_client =>
        {
            Ok(c)
        }
        _ => Err(not_assigned()),
    }
}

/// Picks the managed identity a request names and mints its token.
async fn mint_managed(
    state: &SharedState,
    audience: &str,
    params: &[(String, String)],
    default_client: Option<&str>,
) -> Result<(Client, Minted), Refusal> {
    let client = managed_principal(state, params, default_client).await?;
    let minted = mint(
        state,
        audience,
        &client.client_id,
        &client.object_id,
        access::MANAGED_IDENTITY_CREDENTIAL,
    )?;
    Ok((client, minted))
}

/// Whether the caller is on this machine (IPv4-mapped loopback included).
fn is_loopback(peer: Option<IpAddr>) -> bool {
    peer.is_some_and(|ip| crate::access::network::canonical(ip).is_loopback())
}

/// The api-version of the older App Service protocol (`MSI_ENDPOINT` / `MSI_SECRET`).
const APP_SERVICE_2017: &str = "2017-09-01";

/// `GET /msi/token`: the App Service managed-identity protocol, in both its versions:
/// 2019-08-01 (`IDENTITY_ENDPOINT` / `IDENTITY_HEADER`: the `X-IDENTITY-HEADER` header,
/// `client_id`) and 2017-09-01 (`MSI_ENDPOINT` / `MSI_SECRET`: the `secret` header, `clientid`);
/// both answer `expires_on` in Unix seconds and use the same secret. On
/// App Service the endpoint is reachable from the application's own sandbox only; here it
/// answers loopback callers only, unless `--app-service-remote` says otherwise.
pub async fn managed_identity(
    State(state): State<SharedState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    if !state.issuer.app_service_remote && !is_loopback(peer) {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "The managed-identity endpoint answers only callers on this machine.",
        );
    }
    let mut params = query_params(query.as_deref());
    let old = params
        .iter()
        .any(|(k, v)| k == "api-version" && v == APP_SERVICE_2017);
    let (secret_header, refusal) = if old {
        ("secret", "A valid secret header is required.")
    } else {
        (
            "x-identity-header",
            "A valid X-IDENTITY-HEADER is required.",
        )
    };
    let presented = headers
        .get(secret_header)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if presented.is_empty() || !state.issuer.identity_header_matches(presented) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_request", refusal);
    }
    if old {
        // 2017-09-01 names a user-assigned identity `clientid`; no other selector exists there.
        params.retain(|(k, _)| !matches!(k.as_str(), "client_id" | "object_id" | "principal_id"));
        for (k, _) in &mut params {
            if k == "clientid" {
                "client_id".clone_into(k);
            }
        }
    }
    let resource = params
        .iter()
        .find(|(k, _)| k == "resource")
        .map(|(_, v)| v.as_str());
    let required = "resource is required.";
    let default = state.issuer.managed_identity_client.as_deref();
    managed_token(
        &state,
        (resource, required),
        &params,
        default,
        |client, m, audience| {
            Json(AppServiceToken {
                access_token: SecretText::new(m.token),
                client_id: client.client_id,
                // Unix seconds under both api-versions: every azure-identity release (1.3 on) reads a
                // number first, and MSAL's fallback client (azure-identity 1.23 on, `MSI_*` alone)
                // reads nothing else.
                expires_on: m.expires.to_string(),
                resource: audience,
                token_type: "Bearer".to_owned(),
            })
            .into_response()
        },
    )
    .await
}

/// `GET /metadata/identity/oauth2/token` (with or without a trailing slash): the IMDS protocol.
/// IMDS has no secret of its own; on a real host only the machine itself can reach it, so here
/// only loopback callers are served.
pub async fn imds(
    State(state): State<SharedState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    if !is_loopback(peer) {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "The IMDS endpoint answers only callers on this machine.",
        );
    }
    let metadata = headers
        .get("metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !metadata {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    let params = query_params(query.as_deref());
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if param("api-version").is_none() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'api-version' is missing",
        );
    }
    let required = "Required query variable 'resource' is missing";
    let default = state.issuer.imds_client.as_deref();
    let resource = (param("resource"), required);
    managed_token(&state, resource, &params, default, |client, m, audience| {
        Json(ImdsToken {
            access_token: SecretText::new(m.token),
            client_id: client.client_id,
            expires_in: (m.expires - m.now).to_string(),
            expires_on: m.expires.to_string(),
            ext_expires_in: (m.expires - m.now).to_string(),
            not_before: m.now.to_string(),
            resource: audience,
            token_type: "Bearer".to_owned(),
        })
        .into_response()
    })
    .await
}

/// The managed-identity endpoints' common end: a token for the requested resource (one served
/// resource; without one, a 400 with the endpoint's own `required` message) for the principal
/// `params` select (else `default_client`), answered by `answer` (given the principal, the
/// minted token and the audience) in the endpoint's own shape.
async fn managed_token(
    state: &SharedState,
    (resource, required): (Option<&str>, &str),
    params: &[(String, String)],
    default_client: Option<&str>,
    answer: impl FnOnce(Client, Minted, String) -> Response,
) -> Response {
    let Some(resource) = resource else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", required);
    };
    let audience = match resource_of_scope(state, resource) {
        Ok(audience) => audience,
        Err(r) => return *r,
    };
    match mint_managed(state, &audience, params, default_client).await {
        Ok((client, m)) => answer(client, m, audience),
        Err(response) => *response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(body: &str) -> Option<Vec<(String, String)>> {
        parse_form(body.as_bytes()).map(|form| {
            form.iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.as_str().to_owned()))
                .collect()
        })
    }

    #[test]
    fn forms_decode_as_urlencoded_parsers_do() {
        let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            pairs("client_secret=a%2Bb+c%3D%3D&scope=x%2F.default&&flag&e="),
            Some(vec![
                p("client_secret", "a+b c=="),
                p("scope", "x/.default"),
                p("flag", ""),
                p("e", ""),
            ])
        );
        // A lone or malformed escape stands for itself; UTF-8 is decoded; invalid UTF-8 refused.
        assert_eq!(pairs("a=%&b=%4&c=%zz&d=%C3%A9"), {
            Some(vec![p("a", "%"), p("b", "%4"), p("c", "%zz"), p("d", "é")])
        });
        assert_eq!(pairs("a=%FF"), None);
        assert_eq!(pairs(""), Some(vec![]));
        // The same as serde_urlencoded for what the SDKs send.
        let sent = serde_urlencoded::to_string([
            ("client_assertion", "eyJ.a-b_c.~!*'()"),
            ("client_secret", "Q~x/y+z=&%"),
        ])
        .unwrap();
        assert_eq!(
            pairs(&sent),
            Some(vec![
                p("client_assertion", "eyJ.a-b_c.~!*'()"),
                p("client_secret", "Q~x/y+z=&%"),
            ])
        );
    }

    #[test]
    fn quoted_tenants_are_bounded_and_harmless() {
        assert_eq!(
            shown_tenant("contoso.onmicrosoft.com"),
            "contoso.onmicrosoft.com"
        );
        assert_eq!(shown_tenant("a\"b<c>\n"), "a?b?c??");
        let long = shown_tenant(&"x".repeat(1000));
        assert_eq!(long.len(), 67);
    }
}
