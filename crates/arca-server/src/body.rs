//! Request bodies: the process-wide budget of bytes they may hold in memory at once, the one
//! function that buffers a body under that budget ([`read`]), and [`Unread`], the wrapper that
//! discards in the background whatever a refused request did not read.
//!
//! Every buffered request body is read through [`read`]; nothing else in the server may collect
//! a body into memory (the token endpoint's form is still pre-read by the router through it until
//! the identity endpoint reads it itself). Buffers are wiped when dropped, because set-secret
//! bodies carry secret values. This module must not look at what a body contains.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use hyper::body::{Body as _, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zeroize::Zeroizing;

use crate::error::{ApiError, ApiResult};

/// The budget is counted in units of this many bytes (a semaphore permit each).
const UNIT: usize = 1024;
/// How long a body waits for budget before the request is refused with 503.
pub const DEFAULT_WAIT: Duration = Duration::from_millis(500);
/// How long reading one body may take once it has its budget.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How far past its allowance an unread body is still read and discarded.
const DISCARD_EXTRA_BYTES: usize = 1024 * 1024;
/// How long discarding an unread body may take before the connection is given up.
const DISCARD_TIMEOUT: Duration = Duration::from_secs(5);
/// Smallest growth of a body buffer whose length was not declared.
const MIN_GROWTH: usize = 16 * 1024;

/// Most bytes of request bodies held in memory at once, across all requests
/// (`body_memory_mib`). Shared by every request through `AppState`.
pub struct BodyBudget {
    units: Arc<Semaphore>,
    total_units: usize,
    wait: Duration,
}

impl BodyBudget {
    /// A budget of `mib` MiB with the default wait.
    pub fn new(mib: u32) -> Self {
        Self::with_kib(mib.saturating_mul(1024), DEFAULT_WAIT)
    }

    /// A budget of `kib` KiB whose readers wait at most `wait` for room (tests use small ones).
    pub fn with_kib(kib: u32, wait: Duration) -> Self {
        let total_units = usize::try_from(kib)
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS);
        Self {
            units: Arc::new(Semaphore::new(total_units)),
            total_units,
            wait,
        }
    }

    /// The whole budget, in bytes.
    pub fn total_bytes(&self) -> usize {
        self.total_units.saturating_mul(UNIT)
    }

    /// The part of the budget no body holds now, in bytes.
    pub fn available_bytes(&self) -> usize {
        self.units.available_permits().saturating_mul(UNIT)
    }

    /// An empty lease, to grow with [`Lease::reserve`].
    pub fn lease(&self) -> Lease {
        Lease {
            units: Arc::clone(&self.units),
            permit: None,
            wait: self.wait,
        }
    }
}

impl Default for BodyBudget {
    fn default() -> Self {
        Self::new(crate::config::DEFAULT_BODY_MEMORY_MIB)
    }
}

/// A share of the [`BodyBudget`]; returned to it when dropped.
pub struct Lease {
    units: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
    wait: Duration,
}

impl Lease {
    /// Bytes this lease holds.
    pub fn bytes(&self) -> usize {
        self.held_units().saturating_mul(UNIT)
    }

    fn held_units(&self) -> usize {
        self.permit
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits)
    }

    /// Grows the lease to at least `bytes`, waiting for room at most the budget's wait; 503
    /// (`ApiError::Overloaded`) when there is none by then.
    pub async fn reserve(&mut self, bytes: usize) -> ApiResult<()> {
        let want = bytes.div_ceil(UNIT);
        let more = want.saturating_sub(self.held_units());
        if more == 0 {
            return Ok(());
        }
        let overloaded = || {
            tracing::info!(
                bytes,
                "request body refused: the body memory budget is exhausted"
            );
            ApiError::Overloaded
        };
        let more_u32 = u32::try_from(more).map_err(|_| overloaded())?;
        let acquire = Arc::clone(&self.units).acquire_many_owned(more_u32);
        let permit = match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(permit)) => permit,
            _ => return Err(overloaded()),
        };
        match &mut self.permit {
            Some(held) => held.merge(permit),
            None => self.permit = Some(permit),
        }
        Ok(())
    }

    /// Returns all but `bytes` (rounded up to the unit) to the budget.
    fn shrink_to(&mut self, bytes: usize) {
        let keep = bytes.div_ceil(UNIT);
        let surplus = self.held_units().saturating_sub(keep);
        if let Some(held) = &mut self.permit {
            drop(held.split(surplus));
        }
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lease({} bytes)", self.bytes())
    }
}

/// A buffered request body: wiped when dropped, and counted against the budget until then (or,
/// through [`BodyBytes::into_lease`], until what was parsed from it is dropped).
pub struct BodyBytes {
    bytes: Zeroizing<Vec<u8>>,
    lease: Lease,
}

impl BodyBytes {
    /// Wipes and frees the bytes now, keeping their share of the budget: a handler holds the
    /// returned lease while it works with what it parsed from them, so that is counted too.
    pub fn into_lease(self) -> Lease {
        let BodyBytes { bytes, lease } = self;
        drop(bytes);
        lease
    }

    /// Hands the bytes over unwiped, with the lease that counts them, for a handler that takes
    /// a body of its own (the deployment host's pre-read token form).
    pub fn into_unwiped(self) -> (Bytes, Lease) {
        let BodyBytes { mut bytes, lease } = self;
        (Bytes::from(std::mem::take(&mut *bytes)), lease)
    }
}

impl std::ops::Deref for BodyBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl std::fmt::Debug for BodyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BodyBytes([REDACTED; {} bytes])", self.bytes.len())
    }
}

/// Reads `body` into memory, at most `limit` bytes (and never more than the whole budget: a
/// larger body is 413), holding budget for every byte of buffer before it is allocated: the
/// declared length up front when the body has one, else as the buffer grows. 503 when the
/// budget has no room within its wait; 400 when the body does not arrive within the read
/// timeout. Whatever is left unread of a refused body is discarded in the background by
/// [`Unread`].
pub async fn read(budget: &BodyBudget, mut body: Unread, limit: usize) -> ApiResult<BodyBytes> {
    let limit = limit.min(budget.total_bytes());
    let too_large = ApiError::BodyTooLarge { limit };
    let declared = match body.size_hint().exact() {
        Some(n) => Some(usize::try_from(n).map_err(|_| ApiError::BodyTooLarge { limit })?),
        None => None,
    };
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large);
    }
    let mut lease = budget.lease();
    let initial = declared.unwrap_or(0);
    lease.reserve(initial).await?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(initial));
    let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(ApiError::BadParameter(
                    "The request body was not received in time.".into(),
                ))
            }
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                return Err(ApiError::BadParameter(
                    "The request body could not be read.".into(),
                ))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let needed = bytes.len().saturating_add(data.len());
        if needed > limit {
            return Err(too_large);
        }
        if needed > bytes.capacity() {
            bytes = grow(&mut lease, bytes, needed, limit).await?;
        }
        bytes.extend_from_slice(&data);
    }
    Ok(BodyBytes { bytes, lease })
}

/// Moves `bytes` into a buffer of room for at least `needed` bytes (doubling, up to `limit`).
/// The new buffer's budget is taken before it is allocated and the old buffer's returned after
/// it is wiped, so the lease covers both while both exist, and no unwiped copy is left behind
/// (a `Vec` growing in place would leave its old allocation unwiped).
async fn grow(
    lease: &mut Lease,
    bytes: Zeroizing<Vec<u8>>,
    needed: usize,
    limit: usize,
) -> ApiResult<Zeroizing<Vec<u8>>> {
    let capacity = needed
        .max(bytes.capacity().saturating_mul(2))
        .max(MIN_GROWTH)
        .min(limit)
        .max(needed);
    lease
        .reserve(bytes.capacity().saturating_add(capacity))
        .await?;
    let mut grown = Zeroizing::new(Vec::with_capacity(capacity));
    grown.extend_from_slice(&bytes);
    drop(bytes);
    lease.shrink_to(grown.capacity());
    Ok(grown)
}

/// A request body that, dropped before its end, is read to the end and thrown away by a
/// background task (at most `allowance` bytes in all, plus 1 MiB, for at most 5 s), so the
/// response sent meanwhile reaches the client instead of being lost to a TCP reset over unread
/// data, and no request waits on, or holds memory for, a body it refused.
pub struct Unread {
    inner: Option<Body>,
    allowance: usize,
    seen: usize,
}

impl Unread {
    pub fn new(body: Body, allowance: usize) -> Self {
        Self {
            inner: Some(body),
            allowance,
            seen: 0,
        }
    }

    /// The bytes this body may bring: the route's limit.
    pub fn allowance(&self) -> usize {
        self.allowance
    }
}

impl hyper::body::Body for Unread {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.seen = this.seen.saturating_add(data.len());
                }
            }
            // Ended or failed: nothing is left to discard.
            Poll::Ready(_) => this.inner = None,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for Unread {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if body.is_end_stream() {
            return;
        }
        let allowance = self
            .allowance
            .saturating_add(DISCARD_EXTRA_BYTES)
            .saturating_sub(self.seen);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(discard(body, allowance));
        }
    }
}

/// Reads and throws away up to `allowance` bytes of `body`, for at most [`DISCARD_TIMEOUT`];
/// dropping it then lets hyper close the connection.
async fn discard(mut body: Body, allowance: usize) {
    let mut seen = 0usize;
    let read = async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                seen = seen.saturating_add(data.len());
                if seen > allowance {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_TIMEOUT, read).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a body of 40 KiB, declared up front, under a 64 KiB limit.
    async fn read_40_kib(budget: &BodyBudget) -> ApiResult<BodyBytes> {
        let body = Unread::new(Body::from(vec![1u8; 40 * 1024]), 64 * 1024);
        read(budget, body, 64 * 1024).await
    }

    /// A body of `chunks` without a declared length.
    fn streaming(chunks: Vec<&'static [u8]>) -> Unread {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        for c in chunks {
            tx.send(Bytes::from_static(c)).unwrap();
        }
        Unread::new(Body::new(Chunks(rx)), usize::MAX / 4)
    }

    struct Chunks(tokio::sync::mpsc::UnboundedReceiver<Bytes>);

    impl hyper::body::Body for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            self.0.poll_recv(cx).map(|c| c.map(|c| Ok(Frame::data(c))))
        }
    }

    #[tokio::test]
    async fn bodies_without_a_length_are_counted_as_they_grow_and_returned_after() {
        let budget = BodyBudget::with_kib(256, Duration::from_millis(10));
        let chunk: &'static [u8] = &[7u8; 10_000];
        let body = read(&budget, streaming(vec![chunk; 10]), 200 * 1024)
            .await
            .unwrap();
        assert_eq!(body.len(), 100_000);
        assert!(body.iter().all(|b| *b == 7));
        let held = budget.total_bytes() - budget.available_bytes();
        assert!((100_000..=2 * 100_000 + UNIT).contains(&held), "{held}");
        let lease = body.into_lease();
        assert_eq!(
            budget.total_bytes() - budget.available_bytes(),
            lease.bytes()
        );
        drop(lease);
        assert_eq!(budget.available_bytes(), budget.total_bytes());
    }

    #[tokio::test]
    async fn a_declared_length_is_taken_up_front_and_nothing_more() {
        let budget = BodyBudget::with_kib(64, Duration::from_millis(10));
        let read = read_40_kib(&budget).await.unwrap();
        assert_eq!(budget.available_bytes(), 24 * 1024);
        drop(read);
        assert_eq!(budget.available_bytes(), 64 * 1024);
    }

    #[tokio::test]
    async fn a_body_finding_no_room_is_refused_with_503_and_holds_nothing() {
        let budget = BodyBudget::with_kib(64, Duration::from_millis(10));
        let first = read_40_kib(&budget).await.unwrap();
        let second = read_40_kib(&budget).await;
        assert!(matches!(second, Err(ApiError::Overloaded)), "{second:?}");
        // A body without a declared length stops when its buffer can grow no further.
        let chunk: &'static [u8] = &[7u8; 10_000];
        let third = read(&budget, streaming(vec![chunk; 4]), 64 * 1024).await;
        assert!(matches!(third, Err(ApiError::Overloaded)), "{third:?}");
        assert_eq!(budget.available_bytes(), 24 * 1024);
        drop(first);
        assert_eq!(budget.available_bytes(), 64 * 1024);
    }

    #[tokio::test]
    async fn bodies_over_the_limit_or_the_whole_budget_are_413() {
        let budget = BodyBudget::with_kib(64, Duration::from_millis(10));
        let declared = Unread::new(Body::from(vec![1u8; 2048]), 1024);
        assert!(matches!(
            read(&budget, declared, 1024).await,
            Err(ApiError::BodyTooLarge { limit: 1024 })
        ));
        let chunk: &'static [u8] = &[7u8; 1000];
        assert!(matches!(
            read(&budget, streaming(vec![chunk; 3]), 2500).await,
            Err(ApiError::BodyTooLarge { limit: 2500 })
        ));
        let big = Unread::new(Body::from(vec![1u8; 65 * 1024]), 1 << 20);
        assert!(matches!(
            read(&budget, big, 1 << 20).await,
            Err(ApiError::BodyTooLarge { limit }) if limit == 64 * 1024
        ));
        assert_eq!(budget.available_bytes(), budget.total_bytes());
    }

    #[test]
    fn buffered_bodies_do_not_show_in_debug() {
        let budget = BodyBudget::with_kib(1, Duration::ZERO);
        let body = BodyBytes {
            bytes: Zeroizing::new(b"hunter2".to_vec()),
            lease: budget.lease(),
        };
        let shown = format!("{body:?}");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("7 bytes"));
    }
}
