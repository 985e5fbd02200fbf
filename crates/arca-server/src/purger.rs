//! Background work: purges soft-deleted objects whose retention has ended.

use std::time::Duration;

use crate::state::SharedState;

const INTERVAL: Duration = Duration::from_secs(60);
const BATCH: usize = 500;

/// Purges every object due at the current time; returns how many were purged.
pub async fn purge_due(state: &SharedState) -> Result<usize, arca_store::StoreError> {
    let mut total = 0;
    loop {
        let purged = state.store.purge_expired(state.clock.now(), BATCH).await?;
        total += purged.len();
        for p in &purged {
            tracing::info!(vault = %p.vault, kind = %p.kind, name = %p.name, "purged at the end of retention");
        }
        if purged.len() < BATCH {
            return Ok(total);
        }
    }
}

/// Runs until `stop` fires.
pub async fn run(state: SharedState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = purge_due(&state).await {
            tracing::warn!(error = %e, "automatic purge failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = stop.changed() => return,
        }
    }
}
