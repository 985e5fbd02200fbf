//! Automatic renewal: what Arca's certificate renewal job does to one vault. It finds the active
//! certificates whose policy has an `AutoRenew` lifetime action due at the engine clock's now,
//! and issues each a new version, with proofs it gets for [`Job::CertificateRenewal`] the way a
//! request gets its own from `decide`.
//!
//! Due means, for the current version's validity `nbf`..`exp`: `lifetime_percentage` p — now
//! is at least `nbf + (exp - nbf) * p / 100`; `days_before_expiry` d — now is at least
//! `exp - d days`. A renewal issues a new version valid from now, with a new key (the current
//! one when the policy says `reuse_key`), the same policy, the current version's tags, and its
//! key and secret, all in one batch written under the job's lease fence; so a certificate is not
//! due again until the new version's own trigger. Left alone: disabled versions and policies,
//! certificates with a pending operation in progress, and the `Unknown` issuer (whose policies
//! cannot hold `AutoRenew`). A failure on one certificate is logged by name and does not stop
//! the others; no key material is ever logged.
//!
//! Not here: `EmailContacts` actions and the `CertificateNearExpiry` / `CertificateExpired`
//! events wait for the event outbox; they belong in [`renew_due`]'s loop beside `AutoRenew`.

use arca_core::authz::{Job, Scope};
use arca_core::{ObjectName, Operation};
use arca_proto::certificates::CertificatePolicy;
use arca_store::{LeaseFence, Listing, ObjectWithVersion, VaultRecord, WriteBatch};

use super::issue::{issued_chain, issuer_name, key_for, write};
use super::policy::UNKNOWN_ISSUER;
use super::stored::{self, Meta, NewVersion, KIND};
use crate::objects::{self, require_object};
use crate::{job_proof, Authorized, Engine, EngineResult};

/// Certificates read per page of the vault's listing.
const PAGE: usize = 100;

/// A certificate renewed by a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewed {
    /// The certificate's name as spelled.
    pub name: String,
    /// Its new current version.
    pub version: String,
}

/// What one run did to a vault.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RenewalRun {
    pub renewed: Vec<Renewed>,
    /// The certificates whose renewal failed (names as spelled); the failures were logged.
    pub failed: Vec<String>,
}

/// When `policy`'s `AutoRenew` action falls due for a version valid from `nbf` to `exp`;
/// `None` when the policy has none.
pub(crate) fn renewal_time(policy: &CertificatePolicy, nbf: i64, exp: i64) -> Option<i64> {
    let actions = policy.lifetime_actions.as_deref().unwrap_or_default();
    let renew = actions.iter().find(|a| {
        a.action
            .as_ref()
            .and_then(|x| x.action_type.as_deref())
            .is_some_and(|t| t.eq_ignore_ascii_case("AutoRenew"))
    })?;
    let trigger = renew.trigger.as_ref()?;
    if let Some(percentage) = trigger.lifetime_percentage {
        let lifetime = i128::from(exp.saturating_sub(nbf).max(0));
        let offset = lifetime * i128::from(percentage) / 100;
        return Some(nbf.saturating_add(i64::try_from(offset).unwrap_or(i64::MAX)));
    }
    trigger
        .days_before_expiry
        .map(|days| exp.saturating_sub(i64::from(days) * 86_400))
}

fn policy_enabled(policy: &CertificatePolicy) -> bool {
    policy
        .attributes
        .as_ref()
        .and_then(|a| a.enabled)
        .unwrap_or(true)
}

/// Issues the certificate `name` a new version under `policy`, keeping the current version's
/// tags and chain order; with a `fence`, only while that lease term holds.
async fn renew(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    policy: &CertificatePolicy,
    current: &Meta,
    fence: Option<&LeaseFence>,
) -> EngineResult<String> {
    require_object(auth, Operation::CertificateCreate, &vault.name, name)?;
    let key = key_for(engine, &vault.name, name, policy).await?;
    let chain = issued_chain(engine, vault, policy, &key).await?;
    let (items, record, _) = stored::version_items(
        engine,
        &vault.name,
        name,
        NewVersion {
            chain: &chain,
            key: &key,
            policy,
            enabled: true,
            tags: current.tags.clone(),
            preserve_cert_order: current.preserve_cert_order,
        },
    )?;
    let batch = WriteBatch {
        items,
        fence: fence.cloned(),
    };
    write(engine, &vault.name, name, &batch).await?;
    engine.key_cache().forget(&vault.name, name.key());
    Ok(record.version)
}

/// Renews `found` if its policy says it is due; `Some(new version)` when it did.
async fn renew_if_due(
    engine: &Engine,
    job: Job,
    vault: &VaultRecord,
    name: &ObjectName,
    found: &ObjectWithVersion,
    fence: Option<&LeaseFence>,
) -> EngineResult<Option<String>> {
    let version = &found.version;
    let (Some(nbf), Some(exp)) = (version.nbf, version.exp) else {
        return Ok(None);
    };
    if !version.enabled {
        return Ok(None);
    }
    let scope = Scope::object(&vault.name, KIND.collection(), name.as_str());
    let auth = job_proof(job, Operation::CertificatePolicyGet, &scope)?;
    let policy = super::get_policy(engine, &auth, vault, name).await?.policy;
    let due = renewal_time(&policy, nbf, exp).is_some_and(|at| engine.now() >= at);
    if !due || !policy_enabled(&policy) || issuer_name(&policy).eq_ignore_ascii_case(UNKNOWN_ISSUER)
    {
        return Ok(None);
    }
    if stored::pending(engine, &vault.name, name)
        .await?
        .is_some_and(|p| p.is_in_progress())
    {
        return Ok(None);
    }
    let current: Meta = objects::open_meta(engine, &vault.name, KIND, name, version)?;
    let auth = job_proof(job, Operation::CertificateCreate, &scope)?;
    renew(engine, &auth, vault, name, &policy, &current, fence)
        .await
        .map(Some)
}

/// Renews, as `job`, every certificate of `vault` whose policy has an `AutoRenew` action due now
/// (see the module documentation); with a `fence` (the job's lease term), each new version is
/// written only while that term holds. Fails only when the vault's certificates cannot be
/// listed.
pub async fn renew_due(
    engine: &Engine,
    job: Job,
    vault: &VaultRecord,
    fence: Option<&LeaseFence>,
) -> EngineResult<RenewalRun> {
    let list = job_proof(job, Operation::CertificateList, &Scope::vault(&vault.name))?;
    let mut run = RenewalRun::default();
    let mut after: Option<String> = None;
    loop {
        let page = objects::list(
            engine,
            &list,
            vault,
            KIND,
            Listing::Active,
            after.as_deref(),
            PAGE,
        )
        .await?;
        for (name, found) in &page.items {
            match renew_if_due(engine, job, vault, name, found, fence).await {
                Ok(Some(version)) => {
                    tracing::info!(vault = %vault.name, certificate = name.as_str(), %version, "renewed by its policy");
                    run.renewed.push(Renewed {
                        name: found.object.name.clone(),
                        version,
                    });
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(vault = %vault.name, certificate = name.as_str(), %error, "automatic renewal failed; will retry");
                    run.failed.push(found.object.name.clone());
                }
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(run),
        }
    }
}
