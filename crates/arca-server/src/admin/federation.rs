//! Admin API: federated identity credentials, the trust of an external OIDC issuer's tokens about
//! one subject as credentials of a principal (Kubernetes service accounts, CI systems).

use arca_proto::admin::{AddFederation, FederatedCredential, FederationQuery, List};
use arca_store::StoreError;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::access::{kinds, policy_record, FederationDoc};
use crate::error::{ApiError, ApiResult};
use crate::identity::principal::MAX_FEDERATIONS;
use crate::state::SharedState;

/// Entra's default audience of federated tokens.
const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Limits, as Entra has them for federated identity credentials.
const MAX_ISSUER_LEN: usize = 600;
const MAX_SUBJECT_LEN: usize = 600;
const MAX_AUDIENCES: usize = 5;
const MAX_URL_LEN: usize = 2048;
const MAX_CA_PEM: usize = 64 * 1024;

fn federation_json(f: &FederationDoc) -> FederatedCredential {
    let keys = f
        .jwks
        .as_ref()
        .and_then(|doc| arca_crypto::JwkSet::parse(doc).ok())
        .map(|set| set.len());
    FederatedCredential {
        audiences: f.audiences.clone(),
        created: f.created,
        id: f.id.clone(),
        issuer: f.issuer.clone(),
        jwks_keys: keys,
        jwks_url: f.jwks_url.clone(),
        principal_client_id: f.principal_client_id.clone(),
        subject: f.subject.clone(),
    }
}

pub(super) async fn list(
    State(state): State<SharedState>,
    _admin: Admin,
    Query(filter): Query<FederationQuery>,
) -> ApiResult<Response> {
    let principal = super::principals::filtered(&state, filter.principal.as_deref())
        .await?
        .map(|p| p.client_id);
    let snapshot = state.access.snapshot();
    let mut all: Vec<&FederationDoc> = snapshot
        .federations
        .values()
        .flatten()
        .filter(|f| {
            principal
                .as_ref()
                .is_none_or(|p| &f.principal_client_id == p)
        })
        .collect();
    all.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    let value = all.into_iter().map(federation_json).collect();
    Ok(Json(List::<FederatedCredential>::new(value)).into_response())
}

fn check_text(value: &str, what: &str, max: usize) -> ApiResult<()> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(ApiError::BadParameter(format!(
            "{what} must have 1 to {max} printable characters."
        )));
    }
    Ok(())
}

pub(super) async fn add(
    State(state): State<SharedState>,
    _admin: Admin,
    body: Body,
) -> ApiResult<Response> {
    let request: AddFederation = super::body(&state, body).await?;
    check_text(&request.issuer, "issuer", MAX_ISSUER_LEN)?;
    check_text(&request.subject, "subject", MAX_SUBJECT_LEN)?;
    let audiences = request
        .audiences
        .unwrap_or_else(|| vec![DEFAULT_AUDIENCE.to_owned()]);
    if audiences.is_empty() || audiences.len() > MAX_AUDIENCES {
        return Err(ApiError::BadParameter(format!(
            "audiences must have 1 to {MAX_AUDIENCES} entries."
        )));
    }
    for a in &audiences {
        check_text(a, "Each audience", MAX_SUBJECT_LEN)?;
    }
    match (&request.jwks, &request.jwks_url) {
        (Some(doc), None) => {
            arca_crypto::JwkSet::parse(doc).map_err(|_| {
                ApiError::BadParameter(
                    "jwks must be a JWK set ({\"keys\":[...]}) with at least one RSA or EC signing key."
                        .into(),
                )
            })?;
            if request.jwks_ca_pem.is_some() {
                return Err(ApiError::BadParameter(
                    "jwks_ca_pem applies only with jwks_url.".into(),
                ));
            }
        }
        (None, Some(url)) => {
            check_text(url, "jwks_url", MAX_URL_LEN)?;
            if request
                .jwks_ca_pem
                .as_ref()
                .is_some_and(|pem| pem.len() > MAX_CA_PEM)
            {
                return Err(ApiError::BadParameter(format!(
                    "jwks_ca_pem must be at most {MAX_CA_PEM} bytes."
                )));
            }
            let source = crate::identity::jwks_fetch::JwksSource {
                url: url.clone(),
                ca_pem: request.jwks_ca_pem.clone(),
            };
            source.check().map_err(|e| {
                ApiError::BadParameter(format!(
                    "jwks_url must be an https URL and jwks_ca_pem PEM certificates: {e}"
                ))
            })?;
        }
        _ => {
            return Err(ApiError::BadParameter(
                "Give exactly one of jwks and jwks_url.".into(),
            ))
        }
    }
    let principal = super::principals::load(&state, &request.principal).await?;
    let client_id = principal.record.client_id;
    let snapshot = state.access.snapshot();
    let existing = snapshot
        .federations
        .get(&client_id)
        .map_or(&[][..], Vec::as_slice);
    if existing
        .iter()
        .any(|f| f.issuer == request.issuer && f.subject == request.subject)
    {
        return Err(ApiError::Conflict {
            message: "The principal already trusts this issuer for this subject.".into(),
            inner: None,
        });
    }
    if existing.len() >= MAX_FEDERATIONS {
        return Err(ApiError::Conflict {
            message: format!(
                "A principal can have at most {MAX_FEDERATIONS} federated credentials."
            ),
            inner: None,
        });
    }
    let doc = FederationDoc {
        id: super::new_id()?,
        principal_client_id: client_id,
        issuer: request.issuer,
        subject: request.subject,
        audiences,
        jwks: request.jwks,
        jwks_url: request.jwks_url,
        jwks_ca_pem: request.jwks_ca_pem,
        created: state.clock.now(),
    };
    state
        .store
        .create_policy(&policy_record(
            &state.keyring,
            kinds::FEDERATION,
            &doc.id,
            &doc,
        )?)
        .await?;
    super::changed(&state).await;
    tracing::info!(id = %doc.id, client_id = %doc.principal_client_id, issuer = %doc.issuer, "federated credential added");
    Ok((StatusCode::CREATED, Json(federation_json(&doc))).into_response())
}

pub(super) async fn remove(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    match state.store.delete_policy(kinds::FEDERATION, &id).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::Missing {
                code: "FederatedCredentialNotFound",
                message: format!(
                    "No federated credential has the id {:?}.",
                    super::shown(&id)
                ),
            })
        }
        Err(e) => return Err(e.into()),
    }
    state.jwks.forget(&id);
    super::changed(&state).await;
    tracing::info!(%id, "federated credential removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}
