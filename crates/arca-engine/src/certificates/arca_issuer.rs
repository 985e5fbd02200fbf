//! The built-in certificate issuer: a vault's issuer whose provider is `Arca` (any case) signs
//! certificates with the deployment's issuing CA ([`issuing_ca`]), for the DNS names an
//! administrator permits that issuer ([`suffixes`]), so services get internally trusted TLS
//! certificates that renew themselves. Clients trust what it signs through the chain `arca ca
//! show` prints (the issuing CA, then its issuers up to the root that `ca.pem` holds).
//!
//! What a certificate of this issuer may say ([`issue`] refuses anything else, naming what it
//! refused, and changes nothing):
//!
//! - the subject is one `CN`, a DNS name the issuer's suffixes permit. Other attributes (`O`,
//!   `OU`, `E`...) are refused: relying parties map them to identities and groups (Kubernetes
//!   reads `O` as a group), and the deployment's CA vouches for DNS names only;
//! - subject alternative names are DNS names the suffixes permit (a wildcard `*.a.example` when
//!   `a.example` is permitted); e-mail addresses, UPNs, URIs and IP addresses are refused;
//! - every DNS name must also satisfy the issuing CA's own name constraints (a generated CA
//!   excludes Arca's own names), so nothing is issued that clients would refuse;
//! - extended key usages are serverAuth and clientAuth only (both when the policy gives none);
//!   key usages may not include keyCertSign or cRLSign (a certificate of this issuer is never a
//!   CA);
//! - validity is the policy's, cut at the issuing CA's end.
//!
//! Deny by default: without an issuing CA, or without suffixes for the issuer, nothing is issued.

pub mod issuing_ca;
pub mod suffixes;

use arca_core::ObjectName;
use arca_crypto::keys::PublicKey;
use arca_crypto::pki::certs::{subject_attributes, CertificateDescription};
use arca_crypto::CryptoError;
use arca_store::VaultRecord;

use crate::{Engine, EngineError, EngineResult};

/// The provider name of the built-in issuer, compared without regard to case.
pub const PROVIDER: &str = "Arca";
/// serverAuth.
const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
/// clientAuth.
const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
/// Longest name quoted in a refusal.
const MAX_SHOWN: usize = 253;

/// Whether `provider` names the built-in issuer.
pub fn is_arca_provider(provider: &str) -> bool {
    provider.eq_ignore_ascii_case(PROVIDER)
}

fn invalid(message: String) -> EngineError {
    EngineError::Invalid(message)
}

fn shown(text: &str) -> String {
    text.chars().take(MAX_SHOWN).collect()
}

/// The issuer `issuer` of `vault` must exist, be enabled and have provider `Arca`.
async fn check_issuer(engine: &Engine, vault: &str, issuer: &ObjectName) -> EngineResult<()> {
    let Some(found) = super::issuers::lookup(engine, vault, issuer).await? else {
        return Err(EngineError::IssuerNotFound {
            name: issuer.as_str().to_owned(),
        });
    };
    if !is_arca_provider(&found.provider) {
        return Err(invalid(format!(
            "The issuer {} is not the built-in issuer (provider {PROVIDER}).",
            issuer.as_str()
        )));
    }
    if !found.enabled {
        return Err(invalid(format!(
            "The issuer {} is disabled.",
            issuer.as_str()
        )));
    }
    Ok(())
}

/// The DNS names `description` claims (the subject's CN, then the DNS SANs), after refusing
/// everything else a certificate of this issuer may not say.
fn claimed_names(description: &CertificateDescription) -> EngineResult<Vec<String>> {
    let sans = &description.sans;
    for (kind, list) in [
        ("e-mail address", &sans.emails),
        ("UPN", &sans.upns),
        ("URI", &sans.uris),
        ("IP address", &sans.ip_addresses),
    ] {
        if let Some(first) = list.first() {
            return Err(invalid(format!(
                "The Arca issuer signs DNS names only; the {kind} {:?} is refused.",
                shown(first)
            )));
        }
    }
    let mut names = Vec::new();
    if !description.subject.trim().is_empty() {
        let attributes = subject_attributes(&description.subject).map_err(|e| match e {
            CryptoError::Certificate(problem) => invalid(format!("The subject: {problem}.")),
            _ => EngineError::Internal,
        })?;
        for (keyword, value) in attributes {
            if keyword != "CN" || !names.is_empty() {
                return Err(invalid(format!(
                    "The Arca issuer puts one CN in the subject and nothing else; the attribute {keyword} is refused."
                )));
            }
            names.push(value);
        }
    }
    names.extend(sans.dns_names.iter().cloned());
    if let Some(bad) = names.iter().find(|name| {
        let base = name.strip_prefix("*.").unwrap_or(name);
        arca_crypto::dns_suffix(base).is_none_or(|normal| !normal.eq_ignore_ascii_case(base))
    }) {
        return Err(invalid(format!(
            "The Arca issuer signs DNS names only; {:?} is not one.",
            shown(bad)
        )));
    }
    if names.is_empty() {
        return Err(invalid(
            "A certificate of the Arca issuer names at least one DNS name (its CN or a DNS SAN)."
                .into(),
        ));
    }
    Ok(names)
}

/// The extended and plain key usages allowed, with the EKUs filled in when none are given.
fn usages(description: &CertificateDescription) -> EngineResult<CertificateDescription> {
    if let Some(eku) = description
        .ekus
        .iter()
        .find(|eku| ![SERVER_AUTH, CLIENT_AUTH].contains(&eku.trim()))
    {
        return Err(invalid(format!(
            "The Arca issuer signs for TLS only: the extended key usage {:?} is refused (serverAuth {SERVER_AUTH} and clientAuth {CLIENT_AUTH} are allowed).",
            shown(eku)
        )));
    }
    if let Some(usage) = description.key_usages.iter().find(|usage| {
        ["keyCertSign", "cRLSign"]
            .iter()
            .any(|ca| ca.eq_ignore_ascii_case(usage.trim()))
    }) {
        return Err(invalid(format!(
            "A certificate of the Arca issuer cannot be a CA: the key usage {:?} is refused.",
            shown(usage)
        )));
    }
    let mut out = description.clone();
    if out.ekus.is_empty() {
        out.ekus = vec![SERVER_AUTH.to_owned(), CLIENT_AUTH.to_owned()];
    }
    Ok(out)
}

/// Issues a certificate for `subject_key` as `description` says, signed by the deployment's
/// issuing CA at `now`, for the vault's issuer `issuer` (whose provider is `Arca`). Refuses
/// (`EngineError::Invalid`, 400, a message naming the refused name and never key material) any
/// CN or SAN the issuer's permitted suffixes or the CA's name constraints do not allow, and
/// anything else the module's rules forbid; `IssuerNotFound` when the vault has no such issuer.
/// Returns the chain, DER: the leaf, then the issuing CA, then the certificates above it up to
/// (excluding) the self-signed root.
pub async fn issue(
    engine: &Engine,
    vault: &VaultRecord,
    issuer: &ObjectName,
    description: &CertificateDescription,
    subject_key: &PublicKey,
    now: i64,
) -> EngineResult<Vec<Vec<u8>>> {
    check_issuer(engine, &vault.name, issuer).await?;
    let description = usages(description)?;
    let names = claimed_names(&description)?;
    let permitted = suffixes::get(engine, &vault.name, issuer)
        .await?
        .map(|list| list.suffixes)
        .unwrap_or_default();
    if permitted.is_empty() {
        return Err(invalid(format!(
            "The issuer {} may not sign any name yet: an administrator permits DNS suffixes for it (arca vault certificate-issuer-suffixes set).",
            issuer.as_str()
        )));
    }
    for name in &names {
        if !suffixes::permits(&permitted, name) {
            return Err(invalid(format!(
                "The issuer {} may not sign for {:?}: it is not within its permitted DNS suffixes ({}).",
                issuer.as_str(),
                shown(name),
                permitted.join(", ")
            )));
        }
    }
    let authority = issuing_ca::authority(engine, now).await?;
    for name in &names {
        if !authority.permits_dns_name(name) {
            return Err(invalid(format!(
                "The deployment's issuing CA may not sign for {:?} (its name constraints exclude it).",
                shown(name)
            )));
        }
    }
    let leaf = authority
        .issue(&description, subject_key, now)
        .map_err(|e| match e {
            CryptoError::Certificate(problem) => {
                invalid(format!("The certificate cannot be issued: {problem}."))
            }
            other => {
                tracing::error!(error = %other, "the issuing CA failed to sign");
                EngineError::Internal
            }
        })?;
    let mut chain = vec![leaf];
    let above = authority.chain();
    let top_is_root = above
        .last()
        .is_some_and(|top| top.issuer_der == top.subject_der);
    let keep = if top_is_root && above.len() > 1 {
        above.len() - 1
    } else {
        above.len()
    };
    chain.extend(above[..keep].iter().map(|c| c.der.clone()));
    Ok(chain)
}

#[cfg(test)]
mod tests;
