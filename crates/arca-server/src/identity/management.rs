//! The management plane that `az login` signs in to: `GET /subscriptions` (none: Arca has no
//! subscriptions) and `GET /tenants` (the deployment's tenant), in Azure Resource Manager's
//! shapes. Both need a bearer token for the management resource ([`super::Plane::Management`]);
//! such a token grants nothing on the data plane or the admin API, and a data-plane token
//! nothing here. Refusals are ARM's: 401 `AuthenticationFailed` / `InvalidAuthenticationToken`
//! with a `WWW-Authenticate` challenge naming the authority.

use arca_proto::identity::{Count, Subscriptions, Tenant, Tenants};
use arca_proto::ErrorBody;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{Plane, TokenRejection};
use crate::auth::caller::Caller;
use crate::state::SharedState;

/// An ARM error answer.
fn arm_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ErrorBody::new(code, message, None))).into_response()
}

/// ARM's 401: the error and a challenge naming the authority to get a token from.
fn unauthorized(state: &SharedState, code: &str, message: &str, detail: &str) -> Response {
    let mut response = arm_error(StatusCode::UNAUTHORIZED, code, message);
    let challenge = format!(
        "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"{detail}\"",
        state.issuer.authority_host, state.issuer.tenant_id
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The caller of a management request: a current token whose audience is the management
/// resource.
fn authenticate(state: &SharedState, headers: &HeaderMap) -> Result<Caller, Box<Response>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Box::new(unauthorized(
            state,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            "The authentication failed because of missing 'Authorization' header.",
        )));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(crate::auth::bearer_credentials)
        .filter(|t| !t.is_empty() && t.len() <= crate::auth::MAX_TOKEN_BYTES);
    let Some(token) = token else {
        return Err(Box::new(unauthorized(
            state,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is not a Bearer token.",
            "The authentication failed because the 'Authorization' header is not a Bearer token.",
        )));
    };
    let now = state.clock.now();
    match state.issuer.verify_for(token, now, Plane::Management) {
        Ok(caller) if state.access.snapshot().token_is_current(&caller.object_id, &caller.client_id, &caller.credential) => Ok(caller),
        Ok(caller) => {
            tracing::info!(client_id = %caller.client_id, "management token of a removed principal or credential refused");
            Err(Box::new(unauthorized(
                state,
                "InvalidAuthenticationToken",
                "The access token is invalid: the principal or credential it was issued to no longer exists.",
                "The access token is invalid.",
            )))
        }
        Err(TokenRejection::WrongAudience) => Err(Box::new(unauthorized(
            state,
            "InvalidAuthenticationTokenAudience",
            &format!(
                "The access token has been obtained for the wrong audience or resource; request one for {}.",
                state.issuer.management_resource
            ),
            "The access token is for the wrong audience.",
        ))),
        Err(rejection) => {
            tracing::info!(%rejection, "management token refused");
            Err(Box::new(unauthorized(
                state,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                "The access token is invalid.",
            )))
        }
    }
}

/// `GET /subscriptions`: the signed-in principal's subscriptions, of which Arca has none.
pub async fn subscriptions(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok(_) => Json(Subscriptions {
            count: Count {
                count_type: "Total".to_owned(),
                value: 0,
            },
            value: Vec::new(),
        })
        .into_response(),
        Err(refusal) => *refusal,
    }
}

/// `GET /tenants`: the tenants the principal belongs to, here the deployment's one.
pub async fn tenants(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok(_) => {
            let tenant = &state.issuer.tenant_id;
            Json(Tenants {
                value: vec![Tenant {
                    default_domain: tenant.clone(),
                    display_name: "Arca".to_owned(),
                    domains: Vec::new(),
                    id: format!("/tenants/{tenant}"),
                    tenant_category: "Home".to_owned(),
                    tenant_id: tenant.clone(),
                    tenant_type: "AAD".to_owned(),
                }],
            })
            .into_response()
        }
        Err(refusal) => *refusal,
    }
}
