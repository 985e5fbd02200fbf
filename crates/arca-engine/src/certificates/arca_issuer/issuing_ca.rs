//! The deployment's issuing CA, which the built-in issuer signs with: kept in the store's
//! metadata under [`META_KEY`] as one sealed record (the certificates and the key together, so
//! neither can be swapped alone), sealed with associated data naming its purpose (the
//! deployment item `issuing_ca`), so no other sealed blob opens in its place and a database
//! writer can neither read the key nor substitute a CA of their own.
//!
//! The record is one of three states: none (the deployment issues nothing with the built-in
//! issuer), generated (made at start under the local root, [`ensure_generated`]) or imported (an
//! operator's CA, [`import`]). Start-up remakes a generated CA when the root it chains to was
//! replaced, when its suffixes or Arca's own names changed, or within 90 days of its end; it
//! leaves an imported one alone. Importing replaces the CA for new issuance only: certificates
//! already issued keep the chain they were issued with.
//!
//! What it cannot stop: a database writer putting back an older sealed record (a CA this
//! deployment used before), or deleting it (then start-up makes a generated one, or none).
//!
//! These are administration operations, called by start-up and the admin API (which authorizes
//! its caller at `/`), so they take no data-plane proof.

use arca_crypto::pki::certs::{IssuingAuthority, ParsedCertificate};
use arca_crypto::{record_aad, CaMaterial, CryptoError, SecretBytes, SecretString};
use arca_proto::SecretText;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{Engine, EngineError, EngineResult};

/// The metadata key of the sealed record.
pub const META_KEY: &str = "issuing_ca";
/// How long before its end a generated issuing CA is remade at start.
const RENEW_BEFORE_SECS: i64 = 90 * 86_400;

/// Where the issuing CA came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Made at start under the local root, for the configured suffixes.
    Generated,
    /// An operator's own CA (`arca ca import`).
    Imported,
}

impl Source {
    /// `generated` or `imported`, as the admin API shows it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Generated => "generated",
            Source::Imported => "imported",
        }
    }
}

/// The sealed record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase")]
enum Stored {
    /// No issuing CA: the built-in issuer issues nothing.
    None,
    Generated {
        /// The CA, then the root it was made under, base64 DER.
        chain: Vec<String>,
        /// PKCS#8, base64.
        key: SecretText,
        /// The DNS suffixes it is constrained to.
        suffixes: Vec<String>,
        /// Arca's own names it excludes.
        excluded: Vec<String>,
    },
    Imported {
        /// The CA, then the certificates above it as given, base64 DER.
        chain: Vec<String>,
        /// PKCS#8, base64.
        key: SecretText,
    },
}

/// The issuing CA as the admin API shows it: where it came from and its chain.
#[derive(Debug, Clone)]
pub struct IssuingCa {
    pub source: Source,
    /// The CA first, then each issuer above it as far as known (for a generated CA, the root).
    pub chain: Vec<ParsedCertificate>,
}

/// What [`ensure_generated`] did, for start-up to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// No suffixes are configured and none was stored: the built-in issuer issues nothing.
    None,
    /// The stored CA was kept.
    Kept(Source),
    /// A new CA was made, for the reason given.
    Made(&'static str),
    /// No suffixes are configured any more: the generated CA was retired.
    Retired,
}

fn aad() -> Vec<u8> {
    record_aad("", "deployment", META_KEY, "", "sealed")
}

/// A stored record that does not open or parse: the database was altered, or is corrupt.
fn refused() -> EngineError {
    tracing::error!(
        "INTEGRITY: the sealed issuing CA record does not open or parse; the built-in certificate issuer issues nothing until an administrator imports a CA or the server makes one at start"
    );
    EngineError::Internal
}

async fn read(engine: &Engine) -> EngineResult<Option<Stored>> {
    let Some(sealed) = engine.store().meta(META_KEY).await? else {
        return Ok(None);
    };
    let plain = engine
        .keyring()
        .open(&aad(), &sealed)
        .map_err(|_| refused())?;
    serde_json::from_slice(plain.expose())
        .map(Some)
        .map_err(|_| refused())
}

async fn write(engine: &Engine, record: &Stored) -> EngineResult<()> {
    let json = Zeroizing::new(serde_json::to_vec(record).map_err(|_| EngineError::Internal)?);
    let sealed = engine.keyring().seal(&aad(), &json)?;
    engine.store().put_meta(META_KEY, &sealed).await?;
    Ok(())
}

fn encode_chain(chain: &[ParsedCertificate]) -> Vec<String> {
    chain.iter().map(|c| STANDARD.encode(&c.der)).collect()
}

fn encode_key(authority: &IssuingAuthority) -> SecretText {
    SecretText::new(STANDARD.encode(authority.key_pkcs8().expose()))
}

/// The stored chain, parsed; a record that does not parse is refused.
fn decode_chain(chain: &[String]) -> EngineResult<Vec<ParsedCertificate>> {
    chain
        .iter()
        .map(|text| {
            let der = STANDARD.decode(text).map_err(|_| refused())?;
            ParsedCertificate::from_der(&der).map_err(|_| refused())
        })
        .collect()
}

fn decode_key(key: &SecretText) -> EngineResult<SecretBytes> {
    STANDARD
        .decode(key.expose())
        .map(SecretBytes::new)
        .map_err(|_| refused())
}

/// The issuing CA's source and chain, or `None` when the deployment has none.
pub async fn show(engine: &Engine) -> EngineResult<Option<IssuingCa>> {
    Ok(match read(engine).await? {
        None | Some(Stored::None) => None,
        Some(Stored::Generated { chain, .. }) => Some(IssuingCa {
            source: Source::Generated,
            chain: decode_chain(&chain)?,
        }),
        Some(Stored::Imported { chain, .. }) => Some(IssuingCa {
            source: Source::Imported,
            chain: decode_chain(&chain)?,
        }),
    })
}

/// The issuing CA ready to sign at `now`. Without one, or when it is not valid now, the refusal
/// says what an administrator can do.
pub(crate) async fn authority(engine: &Engine, now: i64) -> EngineResult<IssuingAuthority> {
    let (chain, key) = match read(engine).await? {
        None | Some(Stored::None) => {
            return Err(EngineError::Invalid(
                "The deployment has no issuing CA, so the Arca issuer issues nothing: an administrator configures issuing_dns_suffixes or imports a CA (arca ca import).".into(),
            ))
        }
        Some(Stored::Generated { chain, key, .. } | Stored::Imported { chain, key }) => {
            (chain, key)
        }
    };
    let chain_der = chain
        .iter()
        .map(|text| STANDARD.decode(text).map_err(|_| refused()))
        .collect::<EngineResult<Vec<_>>>()?;
    IssuingAuthority::from_parts(&chain_der, &decode_key(&key)?, now).map_err(|e| {
        tracing::warn!(error = %e, "the issuing CA cannot sign now");
        EngineError::Invalid(
            "The deployment's issuing CA is not valid now (expired or not yet valid): an administrator imports a new one (arca ca import), or restarts the server to renew a generated one.".into(),
        )
    })
}

/// Imports an operator's CA from PEM text (its private key, its certificate and any
/// certificates above it; `password` opens an encrypted PKCS#8 key), checked at `now` as
/// [`IssuingAuthority`] checks it, in place of the current issuing CA. A refusal changes nothing
/// and names what is wrong, never a key byte.
pub async fn import(
    engine: &Engine,
    pem: &SecretString,
    password: Option<&SecretString>,
    now: i64,
) -> EngineResult<IssuingCa> {
    let authority = IssuingAuthority::from_pem(pem.expose(), password, now).map_err(|e| {
        match e {
        CryptoError::Certificate(problem) => {
            EngineError::Invalid(format!("The CA cannot be imported: {problem}."))
        }
        _ => EngineError::Invalid(
            "The CA cannot be imported: the PEM text does not hold a usable CA certificate and key."
                .into(),
        ),
    }
    })?;
    let record = Stored::Imported {
        chain: encode_chain(authority.chain()),
        key: encode_key(&authority),
    };
    write(engine, &record).await?;
    Ok(IssuingCa {
        source: Source::Imported,
        chain: authority.chain().to_vec(),
    })
}

/// At start: makes, keeps, renews or retires the generated issuing CA under `root` (the local
/// CA, made with the same `suffixes`) for the configured `suffixes`, excluding Arca's own names
/// `excluded`. An imported CA is kept as it is.
pub async fn ensure_generated(
    engine: &Engine,
    root: &CaMaterial,
    suffixes: &[String],
    excluded: &[String],
    now: i64,
) -> EngineResult<Ensured> {
    let suffixes = arca_crypto::issuing_suffixes(suffixes).map_err(|_| {
        EngineError::Invalid("The issuing DNS suffixes are not DNS suffixes.".into())
    })?;
    let mut excluded = arca_crypto::ca_constraint_names(excluded)
        .map_err(|_| EngineError::Invalid("Arca's own names are not DNS names.".into()))?;
    excluded.retain(|name| name.parse::<std::net::IpAddr>().is_err());
    let root_der = ParsedCertificate::from_pem(&root.cert_pem)?.der;
    let reason = match read(engine).await? {
        Some(Stored::Imported { .. }) => return Ok(Ensured::Kept(Source::Imported)),
        None | Some(Stored::None) if suffixes.is_empty() => return Ok(Ensured::None),
        Some(Stored::Generated { .. }) if suffixes.is_empty() => {
            write(engine, &Stored::None).await?;
            return Ok(Ensured::Retired);
        }
        None | Some(Stored::None) => "there was none",
        Some(Stored::Generated {
            chain,
            suffixes: stored_suffixes,
            excluded: stored_excluded,
            ..
        }) => {
            let chain = decode_chain(&chain)?;
            match chain.as_slice() {
                [ca, top] if top.der == root_der => {
                    if stored_suffixes != suffixes {
                        "its DNS suffixes changed"
                    } else if stored_excluded != excluded {
                        "Arca's own names changed"
                    } else if ca.not_after - now <= RENEW_BEFORE_SECS {
                        "it expires within 90 days"
                    } else {
                        return Ok(Ensured::Kept(Source::Generated));
                    }
                }
                _ => "the local CA it was made under was replaced",
            }
        }
    };
    let made = arca_crypto::issue_issuing_ca(root, &suffixes, &excluded, now)?;
    let made_der = ParsedCertificate::from_pem(&made.cert_pem)?.der;
    let authority = IssuingAuthority::from_parts(&[made_der, root_der], &made.key_pkcs8, now)?;
    let record = Stored::Generated {
        chain: encode_chain(authority.chain()),
        key: encode_key(&authority),
        suffixes,
        excluded,
    };
    write(engine, &record).await?;
    Ok(Ensured::Made(reason))
}
