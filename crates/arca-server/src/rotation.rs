//! Background work: automatic key rotation. Every [`INTERVAL`] the job takes (or renews) the
//! store's `key-rotation` lease and, while it holds it, rotates the due keys of every vault
//! through the engine as [`Job::KeyRotation`] (`arca_engine::keys::rotate_due`), so that of
//! several replicas sharing a store one at a time rotates. It stops on shutdown like the
//! purger, giving the lease up so another replica can take over at once.
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

/// How often due keys are looked for.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// How long the lease holds without a renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(5 * 60);

/// What one pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pass {
    /// Another holder has the lease; nothing was looked at.
    Skipped,
    /// The pass ran (or ran until a renewal of the lease failed): keys rotated and keys whose
    /// rotation failed (logged), across every vault.
    Ran { rotated: usize, failed: usize },
}

/// The rotation job of this process: its lease holder name and the lease term it holds.
#[derive(Debug)]
pub struct Rotator {
    holder: String,
    held: Option<LeaseFence>,
}

impl Rotator {
    /// A rotator holding the lease as `holder` (unique per process).
    pub fn new(holder: impl Into<String>) -> Self {
        Rotator {
            holder: holder.into(),
            held: None,
        }
    }

    /// A rotator with a random holder name.
    pub fn for_this_process() -> Result<Self, arca_crypto::CryptoError> {
        let id: String = arca_crypto::random_bytes::<8>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Rotator::new(format!("arca-{}-{id}", std::process::id())))
    }

    /// Takes or renews the lease; whether this rotator holds it now.
    async fn hold(&mut self, state: &SharedState) -> Result<bool, StoreError> {
        let lease = state
            .store
            .acquire_lease(Job::KeyRotation.lease(), &self.holder, LEASE_TTL)
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
                tracing::warn!("the key rotation lease was lost; stopping this pass");
                break;
            }
            let fence = self.held.as_ref();
            match arca_engine::keys::rotate_due(&state.engine, Job::KeyRotation, vault, fence).await
            {
                Ok(run) => {
                    rotated += run.rotated.len();
                    failed += run.failed.len();
                }
                Err(error) => {
                    tracing::warn!(vault = %vault.name, %error, "automatic key rotation of a vault failed; will retry");
                }
            }
        }
        Ok(Pass::Ran { rotated, failed })
    }

    /// Gives the lease up, if held.
    pub async fn release(&mut self, state: &SharedState) {
        if let Some(fence) = self.held.take() {
            if let Err(error) = state.store.release_lease(&fence).await {
                tracing::warn!(%error, "releasing the key rotation lease failed");
            }
        }
    }
}

/// Runs until `stop` fires.
pub async fn run(state: SharedState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut rotator = match Rotator::for_this_process() {
        Ok(r) => r,
        Err(error) => {
            tracing::error!(%error, "automatic key rotation cannot start");
            return;
        }
    };
    loop {
        if let Err(e) = rotator.pass(&state).await {
            tracing::warn!(error = %e, "automatic key rotation failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = stop.changed() => break,
        }
    }
    rotator.release(&state).await;
}
