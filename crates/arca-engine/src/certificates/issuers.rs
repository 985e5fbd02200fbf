//! A vault's certificate issuers (`/certificates/issuers/{name}`): named issuer settings that a
//! certificate policy refers to by name. Each is a sealed document owned by the vault, keyed by
//! the lower-case name; the issuer's password (`credentials.pwd`, for an outside CA account) is
//! sealed with it and never returned. Each operation needs its own proof for the vault.
//!
//! Key Vault accepts any provider name here (its samples use `Test`); whether a provider can
//! issue is decided when a certificate asks it to. Provider `Arca` (any case) is the built-in
//! issuer, which signs with the deployment's issuing CA (`arca_issuer`). `Self` and `Unknown`
//! are the issuers every policy may name without settings, so they cannot be set.

use arca_core::{ObjectName, Operation};
use arca_proto::certificates::{CertificateIssuerParameters, OrganizationDetails};
use arca_proto::SecretText;
use arca_store::VaultRecord;
use serde::{Deserialize, Serialize};

use super::policy::{SELF_ISSUER, UNKNOWN_ISSUER};
use crate::objects::require_vault;
use crate::vault_documents::VaultDocuments;
use crate::{Authorized, Engine, EngineError, EngineResult};

/// The most issuers a vault keeps.
pub const MAX_ISSUERS: usize = 100;
const MAX_PROVIDER: usize = 64;
const MAX_FIELD: usize = 256;
const MAX_PASSWORD: usize = 1024;
const MAX_ADMINS: usize = 16;

const DOCUMENTS: VaultDocuments = VaultDocuments {
    kind: "certificateissuer",
    field: "document/certificateissuer",
};

/// An issuer as stored: its settings, the password included.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    name: String,
    provider: String,
    account_id: Option<String>,
    password: Option<SecretText>,
    org_details: Option<OrganizationDetails>,
    enabled: bool,
    created: i64,
    updated: i64,
}

/// An issuer as the API shows it: never its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// The name as it was first set.
    pub name: String,
    pub provider: String,
    pub account_id: Option<String>,
    pub org_details: Option<OrganizationDetails>,
    pub enabled: bool,
    pub created: i64,
    pub updated: i64,
}

impl From<&Stored> for Issuer {
    fn from(s: &Stored) -> Self {
        Issuer {
            name: s.name.clone(),
            provider: s.provider.clone(),
            account_id: s.account_id.clone(),
            org_details: s.org_details.clone(),
            enabled: s.enabled,
            created: s.created,
            updated: s.updated,
        }
    }
}

fn invalid(message: String) -> EngineError {
    EngineError::Invalid(message)
}

/// The issuer `name` was not found in the vault.
fn not_found(name: &ObjectName) -> EngineError {
    EngineError::IssuerNotFound {
        name: name.as_str().to_owned(),
    }
}

/// Refuses to set `Self` or `Unknown`, the built-in issuers.
fn settable(name: &ObjectName) -> EngineResult<()> {
    if [SELF_ISSUER, UNKNOWN_ISSUER]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name.as_str()))
    {
        return Err(invalid(format!(
            "{SELF_ISSUER} and {UNKNOWN_ISSUER} are built-in issuers and cannot be set."
        )));
    }
    Ok(())
}

/// Applies the members `params` sends to `into`, checking each against its limit.
fn apply(into: &mut Stored, params: CertificateIssuerParameters) -> EngineResult<()> {
    if let Some(provider) = params.provider {
        if provider.trim().is_empty() || provider.len() > MAX_PROVIDER {
            return Err(invalid(format!(
                "The provider is 1 to {MAX_PROVIDER} characters."
            )));
        }
        into.provider = provider;
    }
    if let Some(credentials) = params.credentials {
        if credentials
            .account_id
            .as_ref()
            .is_some_and(|a| a.len() > MAX_FIELD)
        {
            return Err(invalid(format!(
                "The account id is at most {MAX_FIELD} characters."
            )));
        }
        if credentials
            .pwd
            .as_ref()
            .is_some_and(|p| p.expose().len() > MAX_PASSWORD)
        {
            return Err(invalid(format!(
                "The issuer password is at most {MAX_PASSWORD} characters."
            )));
        }
        into.account_id = credentials.account_id.or(into.account_id.take());
        into.password = credentials.pwd.or(into.password.take());
    }
    if let Some(org) = params.org_details {
        let admins = org.admin_details.as_deref().unwrap_or_default();
        let too_long = admins.iter().any(|a| {
            [&a.first_name, &a.last_name, &a.email, &a.phone]
                .into_iter()
                .flatten()
                .any(|f| f.len() > MAX_FIELD)
        });
        if admins.len() > MAX_ADMINS
            || org.id.as_ref().is_some_and(|i| i.len() > MAX_FIELD)
            || too_long
        {
            return Err(invalid(format!(
                "Organization details hold at most {MAX_ADMINS} administrators, each field at most {MAX_FIELD} characters."
            )));
        }
        into.org_details = Some(org);
    }
    if let Some(enabled) = params.attributes.and_then(|a| a.enabled) {
        into.enabled = enabled;
    }
    Ok(())
}

/// Every issuer of the vault, ordered by name.
pub async fn list(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
) -> EngineResult<Vec<Issuer>> {
    require_vault(auth, Operation::CertificateIssuersList, &vault.name)?;
    let stored: Vec<(String, Stored)> = DOCUMENTS.list(engine, &vault.name).await?;
    Ok(stored.iter().map(|(_, s)| Issuer::from(s)).collect())
}

async fn stored(engine: &Engine, vault: &str, name: &ObjectName) -> EngineResult<Option<Stored>> {
    DOCUMENTS.get(engine, vault, name.key()).await
}

/// The issuer `name` of `vault`, for issuance (the caller holds a proof for the certificate).
pub(crate) async fn lookup(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
) -> EngineResult<Option<Issuer>> {
    Ok(stored(engine, vault, name)
        .await?
        .as_ref()
        .map(Issuer::from))
}

/// The issuer `name`.
pub async fn get(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<Issuer> {
    require_vault(auth, Operation::CertificateIssuerGet, &vault.name)?;
    let found = stored(engine, &vault.name, name).await?;
    found
        .as_ref()
        .map(Issuer::from)
        .ok_or_else(|| not_found(name))
}

/// Sets (creates or replaces) the issuer `name`; `provider` is required.
pub async fn set(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    params: CertificateIssuerParameters,
) -> EngineResult<Issuer> {
    require_vault(auth, Operation::CertificateIssuerSet, &vault.name)?;
    settable(name)?;
    if params.provider.is_none() {
        return Err(invalid("An issuer needs a provider.".to_owned()));
    }
    let existing = stored(engine, &vault.name, name).await?;
    if existing.is_none() && DOCUMENTS.count(engine, &vault.name).await? >= MAX_ISSUERS {
        return Err(invalid(format!(
            "A vault has at most {MAX_ISSUERS} certificate issuers."
        )));
    }
    let now = engine.now();
    let mut issuer = Stored {
        name: name.as_str().to_owned(),
        provider: String::new(),
        account_id: None,
        password: None,
        org_details: None,
        enabled: true,
        created: existing.map_or(now, |e| e.created),
        updated: now,
    };
    apply(&mut issuer, params)?;
    DOCUMENTS
        .put(engine, &vault.name, name.key(), &issuer)
        .await?;
    Ok(Issuer::from(&issuer))
}

/// Changes the members `params` sends of the existing issuer `name`.
pub async fn update(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    params: CertificateIssuerParameters,
) -> EngineResult<Issuer> {
    require_vault(auth, Operation::CertificateIssuerUpdate, &vault.name)?;
    let mut issuer = stored(engine, &vault.name, name)
        .await?
        .ok_or_else(|| not_found(name))?;
    apply(&mut issuer, params)?;
    issuer.updated = engine.now();
    DOCUMENTS
        .put(engine, &vault.name, name.key(), &issuer)
        .await?;
    Ok(Issuer::from(&issuer))
}

/// Deletes the issuer `name`; returns it as it was.
pub async fn delete(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<Issuer> {
    require_vault(auth, Operation::CertificateIssuerDelete, &vault.name)?;
    let issuer = stored(engine, &vault.name, name)
        .await?
        .ok_or_else(|| not_found(name))?;
    DOCUMENTS.delete(engine, &vault.name, name.key()).await?;
    Ok(Issuer::from(&issuer))
}
