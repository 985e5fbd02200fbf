//! Named leases for background work (purging, rotation, outbox delivery) that exactly one
//! process at a time may do, measured on the store's clock, with a fencing number that a
//! [`crate::WriteBatch`] checks in its own transaction so that a holder that lost its lease
//! (paused, partitioned) cannot write as if it still held it.
//!
//! The store's clock is the clock of whatever decides, inside the transaction, whether a lease
//! has expired: the database server's for a networked database; for an embedded database, the
//! clock of the process that owns it. Holders never compare expiry times with their own clocks;
//! they renew well before `ttl` runs out and stop work when a renewal fails.

use std::time::Duration;

use async_trait::async_trait;

use crate::{StoreError, StoreResult};

/// The longest lease name and holder, in bytes.
pub const LEASE_NAME_MAX: usize = 128;

/// A lease as granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    /// The fencing number of this term (see [`LeaseStore::acquire_lease`]).
    pub fence: u64,
    /// When the lease expires, in milliseconds since the Unix epoch on the store's clock.
    pub expires_at_ms: i64,
}

impl Lease {
    /// The fence a batch carries to write only while this lease holds.
    pub fn fence(&self) -> LeaseFence {
        LeaseFence {
            name: self.name.clone(),
            fence: self.fence,
        }
    }
}

/// A lease name with the fencing number of one term of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseFence {
    pub name: String,
    pub fence: u64,
}

/// Checks a lease request as every backend must before acting on it (names of 1 to
/// [`LEASE_NAME_MAX`] bytes, a positive ttl); returns the ttl in milliseconds.
pub fn check_lease_request(name: &str, holder: &str, ttl: Duration) -> StoreResult<i64> {
    for (what, value) in [("name", name), ("holder", holder)] {
        if value.is_empty() || value.len() > LEASE_NAME_MAX {
            return Err(StoreError::Invalid(format!(
                "a lease {what} must be 1 to {LEASE_NAME_MAX} bytes"
            )));
        }
    }
    if ttl.is_zero() {
        return Err(StoreError::Invalid(
            "a lease needs a positive ttl".to_owned(),
        ));
    }
    Ok(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

/// Leases. A lease is held from a grant until its expiry or its release, whichever is first.
/// A fence `(name, n)` holds while the lease `name` is held in the term numbered `n`.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Grants the lease `name` to `holder` until the store clock's now plus `ttl`, if it is
    /// free (never granted, expired or released) or held by `holder` (a renewal); returns
    /// `None`, changing nothing, while another holder holds it. A renewal keeps the fencing
    /// number; any other grant starts a new term whose number is one more than the previous
    /// term's (1 for the first). `Invalid` if `name` or `holder` is empty or over
    /// [`LEASE_NAME_MAX`] bytes, or `ttl` is zero.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>>;

    /// Ends the term `fence` now, if it still holds; returns whether it did. The next grant
    /// starts a new term.
    async fn release_lease(&self, fence: &LeaseFence) -> StoreResult<bool>;
}
