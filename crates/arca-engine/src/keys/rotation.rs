//! Automatic rotation: what Arca's key rotation job does to one vault. It finds the active keys
//! whose rotation policy has a `Rotate` action due at the engine clock's now, and rotates each
//! once, with proofs it gets for [`Job::KeyRotation`] from `arca_core::authz::decide_job`, the
//! way a request gets its own from `decide`.
//!
//! Due means: `timeAfterCreate` — now is at least the current version's `created` plus the
//! duration; `timeBeforeExpiry` — the current version has an `exp` and now is at least `exp`
//! minus the duration. Rotation makes a new current version created now, so the key is not due
//! again until the next period. Disabled keys, deleted keys (not listed), keys managed by a
//! certificate (renewal rotates them) and keys whose policy has no `Rotate` action are left
//! alone. A failure on one key is logged by name and does not stop the others; nothing about
//! key material is ever logged.
//!
//! Not here: `Notify` actions (`KeyNearExpiry` events) wait for the event outbox; they would be
//! evaluated in [`rotate_due`]'s loop beside the `Rotate` action, on the same listing.

use arca_core::authz::{Job, Scope};
use arca_core::{ObjectName, Operation};
use arca_proto::keys::KeyRotationPolicy;
use arca_store::{LeaseFence, Listing, ObjectWithVersion, VaultRecord};

use super::policy::duration_seconds;
use super::KIND;
use crate::objects;
use crate::{job_proof, Engine, EngineResult};

/// Keys read per page of the vault's listing.
const PAGE: usize = 100;

/// A key rotated by a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// The key's name as spelled.
    pub name: String,
    /// Its new current version.
    pub version: String,
}

/// What one run did to a vault.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationRun {
    pub rotated: Vec<Rotated>,
    /// The keys whose rotation failed (names as spelled); the failures were logged.
    pub failed: Vec<String>,
}

/// Whether `policy` has a `Rotate` action due at `now` for a current version created at
/// `created` and expiring at `exp`.
pub(crate) fn rotation_due(
    policy: &KeyRotationPolicy,
    created: i64,
    exp: Option<i64>,
    now: i64,
) -> bool {
    let actions = policy.lifetime_actions.as_deref().unwrap_or_default();
    let Some(rotate) = actions
        .iter()
        .find(|a| a.action.kind.eq_ignore_ascii_case("rotate"))
    else {
        return false;
    };
    let trigger = &rotate.trigger;
    let seconds = |text: &Option<String>| text.as_deref().and_then(duration_seconds);
    if let Some(after) = seconds(&trigger.time_after_create) {
        return now >= created.saturating_add(after);
    }
    if let (Some(before), Some(exp)) = (seconds(&trigger.time_before_expiry), exp) {
        return now >= exp.saturating_sub(before);
    }
    false
}

/// Rotates `found` if its policy says it is due; `Some(new version)` when it did.
async fn rotate_if_due(
    engine: &Engine,
    job: Job,
    vault: &VaultRecord,
    name: &ObjectName,
    found: &ObjectWithVersion,
    fence: Option<&LeaseFence>,
) -> EngineResult<Option<String>> {
    if !found.version.enabled || found.object.managed_by.is_some() {
        return Ok(None);
    }
    let key = Scope::object(&vault.name, KIND.collection(), name.as_str());
    let auth = job_proof(job, Operation::KeyRotationPolicyGet, &key)?;
    let policy = super::rotation_policy(engine, &auth, vault, name).await?;
    let version = &found.version;
    if !rotation_due(&policy, version.created, version.exp, engine.now()) {
        return Ok(None);
    }
    let auth = job_proof(job, Operation::KeyRotate, &key)?;
    let rotated = super::rotate_fenced(engine, &auth, vault, name, fence).await?;
    Ok(Some(rotated.version))
}

/// Rotates, as `job`, every key of `vault` whose rotation policy has a `Rotate` action due now
/// (see the module documentation); with a `fence` (the job's lease term), each new version is
/// written only while that term holds, so a holder that lost its lease rotates nothing more.
/// Fails only when the vault's keys cannot be listed.
pub async fn rotate_due(
    engine: &Engine,
    job: Job,
    vault: &VaultRecord,
    fence: Option<&LeaseFence>,
) -> EngineResult<RotationRun> {
    let list = job_proof(job, Operation::KeyList, &Scope::vault(&vault.name))?;
    let mut run = RotationRun::default();
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
            match rotate_if_due(engine, job, vault, name, found, fence).await {
                Ok(Some(version)) => {
                    tracing::info!(vault = %vault.name, key = name.as_str(), %version, "rotated by its rotation policy");
                    run.rotated.push(Rotated {
                        name: found.object.name.clone(),
                        version,
                    });
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(vault = %vault.name, key = name.as_str(), %error, "automatic rotation failed; will retry");
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
