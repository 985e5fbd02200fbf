//! Admin API: the deployment's issuing CA, which the built-in certificate issuer (`Arca`) signs
//! with. `GET /admin/issuing-ca` shows the chain clients trust for what it signs; `PUT` imports
//! an operator's own CA (PEM: key, certificate, the certificates above it) in place of the
//! current one, for new issuance only. Stored sealed by the engine
//! (`arca_engine::certificates::arca_issuer::issuing_ca`).

use arca_crypto::pki::certs::{certificate_pem, ParsedCertificate};
use arca_crypto::SecretString;
use arca_engine::certificates::arca_issuer::issuing_ca::{self, IssuingCa as Shown};
use arca_proto::admin::{CaCertificate, ImportCa, IssuingCa};
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

fn certificate(cert: &ParsedCertificate) -> CaCertificate {
    CaCertificate {
        issuer: cert.issuer.clone(),
        not_after: cert.not_after,
        not_before: cert.not_before,
        sha256: cert.sha256.iter().map(|b| format!("{b:02x}")).collect(),
        subject: cert.subject.clone(),
    }
}

fn answer(shown: &Shown) -> IssuingCa {
    IssuingCa {
        certificates: shown.chain.iter().map(certificate).collect(),
        chain_pem: shown
            .chain
            .iter()
            .map(|c| certificate_pem(&c.der))
            .collect(),
        source: shown.source.name().to_owned(),
    }
}

/// `GET /admin/issuing-ca`.
pub(super) async fn show(State(state): State<SharedState>, _admin: Admin) -> ApiResult<Response> {
    match issuing_ca::show(&state.engine).await? {
        Some(shown) => Ok(Json(answer(&shown)).into_response()),
        None => Err(ApiError::Missing {
            code: "IssuingCaNotFound",
            message: "The deployment has no issuing CA: configure issuing_dns_suffixes and restart, or import one (arca ca import).".into(),
        }),
    }
}

/// `PUT /admin/issuing-ca`: imports an operator's CA.
pub(super) async fn import(
    State(state): State<SharedState>,
    _admin: Admin,
    body: Body,
) -> ApiResult<Response> {
    let request: ImportCa = super::body(&state, body).await?;
    let pem = SecretString::new(request.pem.expose().to_owned());
    let password = request
        .password
        .as_ref()
        .map(|p| SecretString::new(p.expose().to_owned()));
    let now = state.clock.now();
    let imported = issuing_ca::import(&state.engine, &pem, password.as_ref(), now).await?;
    tracing::info!(
        subject = %imported.chain[0].subject,
        "imported an issuing CA for the Arca certificate issuer"
    );
    Ok(Json(answer(&imported)).into_response())
}
