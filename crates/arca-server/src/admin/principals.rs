//! Admin API: principals, their client secrets (shown once, stored as slow hashes) and their
//! registered client certificates.

use arca_proto::admin::{
    self as wire, AddCertificate, AddSecret, CreatePrincipal, List, NewSecret, SecretInfo,
};
use arca_proto::SecretText;
use arca_store::{PrincipalRecord, StoreError};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;

use super::Admin;
use crate::access::kinds;
use crate::error::{ApiError, ApiResult};
use crate::identity::principal::{
    CertificateEntry, ClientSecretHash, PrincipalData, PrincipalKind, MAX_CERTIFICATES,
    MAX_DESCRIPTION_LEN, MAX_DISPLAY_NAME_LEN, MAX_SECRETS,
};
use crate::state::{AppState, SharedState};

/// Default and longest lifetime of a client secret, in days.
const DEFAULT_SECRET_DAYS: u32 = 365;
const MAX_SECRET_DAYS: u32 = 3650;
/// Largest PEM accepted for a certificate.
const MAX_CERTIFICATE_PEM: usize = 32 * 1024;

/// A principal with its decoded document.
pub(crate) struct Loaded {
    pub record: PrincipalRecord,
    pub data: PrincipalData,
}

/// Resolves a client id or object id to the stored principal.
pub(crate) async fn load(state: &AppState, id: &str) -> ApiResult<Loaded> {
    let not_found = || ApiError::Missing {
        code: "PrincipalNotFound",
        message: format!(
            "No principal has the client id or object id {:?}.",
            super::shown(id)
        ),
    };
    let record = match state.store.principal(id).await? {
        Some(r) => r,
        None => {
            let client_id = state
                .access
                .snapshot()
                .principals
                .get(id)
                .map(|p| p.client_id.clone())
                .ok_or_else(not_found)?;
            state
                .store
                .principal(&client_id)
                .await?
                .ok_or_else(not_found)?
        }
    };
    let data = PrincipalData::open(&state.keyring, &record).ok_or(ApiError::Internal)?;
    Ok(Loaded { record, data })
}

fn principal_json(p: &Loaded) -> wire::Principal {
    let secrets = p
        .data
        .secrets
        .iter()
        .map(|s| SecretInfo {
            created: s.created,
            description: s.description.clone(),
            expires: s.expires,
            hint: s.hint.clone(),
            id: s.id.clone(),
        })
        .collect();
    wire::Principal {
        certificates: p.data.certificates.iter().map(certificate_json).collect(),
        client_id: p.record.client_id.clone(),
        created: p.record.created,
        display_name: p.data.display_name.clone(),
        kind: p.data.kind,
        object_id: p.record.object_id.clone(),
        secrets,
    }
}

fn certificate_json(c: &CertificateEntry) -> wire::Certificate {
    wire::Certificate {
        added: c.added,
        id: c.id.clone(),
        not_after: c.not_after,
        not_before: c.not_before,
        subject: c.subject.clone(),
        thumbprint_sha256: c.thumbprint_sha256.clone(),
    }
}

impl Loaded {
    /// The record to store: the document sealed to the principal's ids and creation time.
    fn sealed(&self, state: &AppState) -> ApiResult<PrincipalRecord> {
        Ok(PrincipalRecord {
            data: self.data.seal(
                &state.keyring,
                &self.record.client_id,
                &self.record.object_id,
                self.record.created,
            )?,
            ..self.record.clone()
        })
    }
}

/// The principal a listing's `principal` filter names (404 if no principal has that id), or
/// `None` when the listing has no such filter.
pub(crate) async fn filtered(
    state: &AppState,
    filter: Option<&str>,
) -> ApiResult<Option<PrincipalRecord>> {
    match filter {
        Some(id) => Ok(Some(load(state, id).await?.record)),
        None => Ok(None),
    }
}

async fn save(state: &AppState, p: &Loaded) -> ApiResult<()> {
    let record = p.sealed(state)?;
    match state.store.update_principal(&record).await {
        Ok(()) => {
            super::changed(state).await;
            Ok(())
        }
        Err(StoreError::NotFound) => Err(ApiError::Missing {
            code: "PrincipalNotFound",
            message: "The principal was deleted meanwhile.".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Makes the principal `client_id` a service principal if it is a managed identity (the
/// bootstrap principal of data directories made before it became one). Returns whether it
/// changed.
pub(crate) async fn make_service_principal(state: &AppState, client_id: &str) -> ApiResult<bool> {
    let mut p = load(state, client_id).await?;
    if p.data.kind == PrincipalKind::ServicePrincipal {
        return Ok(false);
    }
    p.data.kind = PrincipalKind::ServicePrincipal;
    save(state, &p).await?;
    Ok(true)
}

pub(crate) async fn list(State(state): State<SharedState>, _admin: Admin) -> ApiResult<Response> {
    let mut all: Vec<Loaded> = state
        .store
        .list_principals()
        .await?
        .into_iter()
        .filter_map(|record| {
            PrincipalData::open(&state.keyring, &record).map(|data| Loaded { record, data })
        })
        .collect();
    all.sort_by(|a, b| {
        (a.data.display_name.to_lowercase(), &a.record.client_id)
            .cmp(&(b.data.display_name.to_lowercase(), &b.record.client_id))
    });
    let value = all.iter().map(principal_json).collect();
    Ok(Json(List::<wire::Principal>::new(value)).into_response())
}

pub(crate) async fn create(
    State(state): State<SharedState>,
    _admin: Admin,
    body: Body,
) -> ApiResult<Response> {
    let request: CreatePrincipal = super::body(&state, body).await?;
    let name = request.display_name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_DISPLAY_NAME_LEN
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::BadParameter(format!(
            "display_name must have 1 to {MAX_DISPLAY_NAME_LEN} printable characters."
        )));
    }
    let p = Loaded {
        record: PrincipalRecord {
            client_id: super::new_id()?,
            object_id: super::new_id()?,
            created: state.clock.now(),
            data: Vec::new(),
        },
        data: PrincipalData {
            display_name: name.to_owned(),
            kind: request.kind.unwrap_or_default(),
            secrets: Vec::new(),
            certificates: Vec::new(),
        },
    };
    let record = p.sealed(&state)?;
    state.store.create_principal(&record).await?;
    super::changed(&state).await;
    tracing::info!(client_id = %record.client_id, kind = p.data.kind.as_str(), "principal created");
    Ok((StatusCode::CREATED, Json(principal_json(&p))).into_response())
}

pub(crate) async fn show(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let p = load(&state, &id).await?;
    Ok(Json(principal_json(&p)).into_response())
}

pub(crate) async fn remove(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let p = load(&state, &id).await?;
    let snapshot = state.access.snapshot();
    let assignments: Vec<String> = snapshot
        .assignments
        .get(&p.record.object_id)
        .map(|list| list.iter().map(|a| a.id.clone()).collect())
        .unwrap_or_default();
    super::refuse_removing_last_admin(&snapshot, &assignments)?;
    let mut doomed: Vec<(String, String)> = assignments
        .into_iter()
        .map(|id| (kinds::ASSIGNMENT.to_owned(), id))
        .collect();
    let federations: Vec<String> = snapshot
        .federations
        .get(&p.record.client_id)
        .map(|list| list.iter().map(|f| f.id.clone()).collect())
        .unwrap_or_default();
    doomed.extend(
        federations
            .iter()
            .map(|id| (kinds::FEDERATION.to_owned(), id.clone())),
    );
    match state
        .store
        .delete_access(&doomed, Some(&p.record.client_id))
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::Missing {
                code: "PrincipalNotFound",
                message: "The principal was deleted meanwhile.".into(),
            })
        }
        Err(e) => return Err(e.into()),
    }
    for id in &federations {
        state.jwks.forget(id);
    }
    super::changed(&state).await;
    tracing::info!(client_id = %p.record.client_id, "principal deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn add_secret(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let request: AddSecret = super::body(&state, body).await?;
    let days = request.expires_in_days.unwrap_or(DEFAULT_SECRET_DAYS);
    if !(1..=MAX_SECRET_DAYS).contains(&days) {
        return Err(ApiError::BadParameter(format!(
            "expires_in_days must be from 1 to {MAX_SECRET_DAYS}."
        )));
    }
    if let Some(d) = &request.description {
        if d.chars().count() > MAX_DESCRIPTION_LEN || d.chars().any(char::is_control) {
            return Err(ApiError::BadParameter(format!(
                "description must have at most {MAX_DESCRIPTION_LEN} printable characters."
            )));
        }
    }
    let mut p = load(&state, &id).await?;
    if p.data.secrets.len() >= MAX_SECRETS {
        return Err(ApiError::Conflict {
            message: format!(
                "A principal can have at most {MAX_SECRETS} client secrets; remove one first."
            ),
            inner: None,
        });
    }
    let secret = arca_crypto::random_bytes::<30>()
        .map(|b| arca_crypto::SecretString::new(crate::b64url(&b)))
        .map_err(ApiError::from)?;
    let hash = {
        let _permit = state
            .issuer
            .hash_slots
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let candidate = arca_crypto::SecretBytes::from_slice(secret.expose().as_bytes());
        crate::identity::run_hash(move || arca_crypto::hash_client_secret(candidate.expose()))
            .await
            .ok_or(ApiError::Internal)??
    };
    let now = state.clock.now();
    let entry = ClientSecretHash {
        id: super::new_id()?,
        hash,
        created: now,
        expires: Some(now + i64::from(days) * 86_400),
        description: request.description,
        hint: secret.expose().chars().take(3).collect(),
    };
    let answer = NewSecret {
        created: entry.created,
        description: entry.description.clone(),
        expires: entry.expires,
        hint: entry.hint.clone(),
        id: entry.id.clone(),
        secret: SecretText::new(secret.expose().to_owned()),
    };
    p.data.secrets.push(entry);
    save(&state, &p).await?;
    tracing::info!(client_id = %p.record.client_id, "client secret added");
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

pub(crate) async fn remove_secret(
    State(state): State<SharedState>,
    _admin: Admin,
    Path((id, secret_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let removed = |data: &mut PrincipalData| {
        let before = data.secrets.len();
        data.secrets.retain(|s| s.id != secret_id);
        data.secrets.len() != before
    };
    let missing = || ApiError::Missing {
        code: "SecretNotFound",
        message: format!(
            "The principal has no client secret {:?}.",
            super::shown(&secret_id)
        ),
    };
    remove_credential(&state, &id, removed, missing, "client secret removed").await
}

/// Takes a credential off the principal `id`: `remove` takes it out of the principal's data and
/// says whether it was there; if not, the answer is `missing()`, else the principal is saved,
/// `logged` is logged and the answer is 204.
async fn remove_credential(
    state: &AppState,
    id: &str,
    remove: impl FnOnce(&mut PrincipalData) -> bool,
    missing: impl FnOnce() -> ApiError,
    logged: &'static str,
) -> ApiResult<Response> {
    let mut p = load(state, id).await?;
    if !remove(&mut p.data) {
        return Err(missing());
    }
    save(state, &p).await?;
    tracing::info!(client_id = %p.record.client_id, "{logged}");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

pub(crate) async fn add_certificate(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let request: AddCertificate = super::body(&state, body).await?;
    if request.certificate.len() > MAX_CERTIFICATE_PEM {
        return Err(ApiError::BadParameter(format!(
            "The certificate PEM must be at most {MAX_CERTIFICATE_PEM} bytes."
        )));
    }
    let cert = arca_crypto::ClientCertificate::from_pem(&request.certificate).map_err(|_| {
        ApiError::BadParameter(
            "certificate must be one PEM CERTIFICATE block with an RSA (2048 bits or more) or EC P-256/P-384 public key."
                .into(),
        )
    })?;
    let mut p = load(&state, &id).await?;
    let entry = CertificateEntry {
        id: hex(&cert.sha1_thumbprint),
        thumbprint_sha256: hex(&cert.sha256_thumbprint),
        subject: cert.subject.clone(),
        not_before: cert.not_before,
        not_after: cert.not_after,
        added: state.clock.now(),
        der: base64::engine::general_purpose::STANDARD.encode(&cert.der),
    };
    if p.data.certificates.iter().any(|c| c.id == entry.id) {
        return Err(ApiError::Conflict {
            message: format!(
                "Certificate {} is already registered for this principal.",
                entry.id
            ),
            inner: None,
        });
    }
    if p.data.certificates.len() >= MAX_CERTIFICATES {
        return Err(ApiError::Conflict {
            message: format!(
                "A principal can have at most {MAX_CERTIFICATES} certificates; remove one first."
            ),
            inner: None,
        });
    }
    let answer = certificate_json(&entry);
    p.data.certificates.push(entry);
    save(&state, &p).await?;
    tracing::info!(client_id = %p.record.client_id, "client certificate registered");
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

pub(crate) async fn remove_certificate(
    State(state): State<SharedState>,
    _admin: Admin,
    Path((id, cert_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let removed = |data: &mut PrincipalData| {
        let before = data.certificates.len();
        data.certificates
            .retain(|c| !c.id.eq_ignore_ascii_case(&cert_id));
        data.certificates.len() != before
    };
    let missing = || ApiError::Missing {
        code: "CertificateNotFound",
        message: format!(
            "The principal has no certificate {:?}.",
            super::shown(&cert_id)
        ),
    };
    remove_credential(&state, &id, removed, missing, "client certificate removed").await
}
