//! Background work that makes new versions by policy: automatic key rotation
//! ([`Job::KeyRotation`], `arca_engine::keys::rotate_due`) and automatic certificate renewal
//! ([`Job::CertificateRenewal`], `arca_engine::certificates::renew_due`). Each is a job of its
//! own with a lease of its own (`key-rotation`, `certificate-renewal`): every [`INTERVAL`] it
//! takes (or renews) its lease and, while it holds it, acts on every vault through the engine,
//! so that of several replicas sharing a store one at a time rotates and one at a time renews.
//! It stops on shutdown like the purger, giving the lease up so another replica can take over
//! at once.
//!
//! The lease outlives several passes ([`LEASE_TTL`]) and is renewed before each vault; a
//! replica that stops renewing (crashed, paused) leaves the job to another after at most the
//! ttl, and one whose renewal fails stops its pass. Each new version is written with the
//! lease's fence, so a holder paused past its ttl, whose lease another replica has taken, writes
//! nothing more.

use std::time::Duration;

use arca_core::authz::Job;
use arca_store::{LeaseFence, StoreError};

use crate::state::SharedState;

/// How often due keys and certificates are looked for.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// How long the lease holds without a renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(5 * 60);

/// What one pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pass {
    /// Another holder has the lease; nothing was looked at.
    Skipped,
    /// The pass ran (or ran until a renewal of the lease failed): new versions made (keys
    /// rotated, certificates renewed) and objects whose turn failed (logged), across every
    /// vault.
    Ran { rotated: usize, failed: usize },
}

/// One of this process's version-making jobs: which job, its lease holder name and the lease
/// term it holds.
#[derive(Debug)]
pub struct Rotator {
    job: Job,
    holder: String,
    held: Option<LeaseFence>,
}

impl Rotator {
    /// The key rotation job, holding its lease as `holder` (unique per process).
    pub fn new(holder: impl Into<String>) -> Self {
        Rotator::for_job(Job::KeyRotation, holder)
    }

    /// `job` (key rotation or certificate renewal), holding its lease as `holder`.
    pub fn for_job(job: Job, holder: impl Into<String>) -> Self {
        Rotator {
            job,
            holder: holder.into(),
            held: None,
        }
    }

    /// `job` with a random holder name.
    pub fn for_this_process(job: Job) -> Result<Self, arca_crypto::CryptoError> {
        let id: String = arca_crypto::random_bytes::<8>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Rotator::for_job(
            job,
            format!("arca-{}-{id}", std::process::id()),
        ))
    }

    /// Takes or renews the lease; whether this rotator holds it now.
    async fn hold(&mut self, state: &SharedState) -> Result<bool, StoreError> {
        let lease = state
            .store
            .acquire_lease(self.job.lease(), &self.holder, LEASE_TTL)
            .await;
        match lease {
            Ok(lease) => {
                self.held = lease.map(|l| l.fence());
                Ok(self.held.is_some())
            }
            Err(e) => {
                self.held = None;
                Err(e)
            }
        }
    }

    /// One pass over every vault, under the lease (see the module documentation).
    pub async fn pass(&mut self, state: &SharedState) -> Result<Pass, StoreError> {
        if !self.hold(state).await? {
            return Ok(Pass::Skipped);
        }
        let (mut rotated, mut failed) = (0, 0);
        for (i, vault) in state.store.list_vaults().await?.iter().enumerate() {
            if i > 0 && !self.hold(state).await? {
                tracing::warn!(
                    job = self.job.name(),
                    "the job's lease was lost; stopping this pass"
                );
                break;
            }
            let fence = self.held.as_ref();
            let e = &state.engine;
            let outcome = match self.job {
                Job::CertificateRenewal => {
                    arca_engine::certificates::renew_due(e, self.job, vault, fence)
                        .await
                        .map(|run| (run.renewed.len(), run.failed.len()))
                }
                _ => arca_engine::keys::rotate_due(e, self.job, vault, fence)
                    .await
                    .map(|run| (run.rotated.len(), run.failed.len())),
            };
            match outcome {
                Ok((made, failures)) => {
                    rotated += made;
                    failed += failures;
                }
                Err(error) => {
                    tracing::warn!(vault = %vault.name, job = self.job.name(), %error, "a vault's pass failed; will retry");
                }
            }
        }
        Ok(Pass::Ran { rotated, failed })
    }

    /// Gives the lease up, if held.
    pub async fn release(&mut self, state: &SharedState) {
        if let Some(fence) = self.held.take() {
            if let Err(error) = state.store.release_lease(&fence).await {
                tracing::warn!(job = self.job.name(), %error, "releasing the job's lease failed");
            }
        }
    }
}

/// Runs the key rotation job until `stop` fires.
pub async fn run(state: SharedState, stop: tokio::sync::watch::Receiver<bool>) {
    run_job(Job::KeyRotation, state, stop).await
}

/// Runs `job` (key rotation or certificate renewal) until `stop` fires.
pub async fn run_job(job: Job, state: SharedState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut rotator = match Rotator::for_this_process(job) {
        Ok(r) => r,
        Err(error) => {
            tracing::error!(job = job.name(), %error, "a background job cannot start");
            return;
        }
    };
    loop {
        if let Err(e) = rotator.pass(&state).await {
            tracing::warn!(job = job.name(), error = %e, "a background pass failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = stop.changed() => break,
        }
    }
    rotator.release(&state).await;
}
