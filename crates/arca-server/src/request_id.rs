//! Request ids: every response carries `x-ms-request-id`, and every log event raised while a
//! request is served names the same id, so a 5xx seen by a client can be found in the log.
//!
//! The id of the request being served lives in a task-local value rather than a tracing span:
//! setting it costs a few nanoseconds, and only an event that is actually logged pays for
//! printing it (see the binary's log formatter, which calls [`current`]).

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use axum::http::HeaderValue;

/// The id of one request: a random per-process prefix and a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(u64);

/// The per-process prefix, chosen at the first request: eight hex digits.
static PREFIX: OnceLock<[u8; 8]> = OnceLock::new();
static NEXT: AtomicU64 = AtomicU64::new(1);

tokio::task_local! {
    static CURRENT: RequestId;
}

fn prefix() -> &'static [u8; 8] {
    PREFIX.get_or_init(|| {
        let random = arca_crypto::random_bytes::<4>().unwrap_or([0; 4]);
        let mut out = [b'0'; 8];
        for (i, b) in random.iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        out
    })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Length of an id in text: eight hex digits, a dash, twelve hex digits.
const TEXT_LEN: usize = 21;

impl RequestId {
    /// A fresh id.
    pub fn next() -> Self {
        RequestId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as text, without allocating.
    fn text(self) -> [u8; TEXT_LEN] {
        let mut out = [b'0'; TEXT_LEN];
        out[..8].copy_from_slice(prefix());
        out[8] = b'-';
        let mut n = self.0;
        for slot in out[9..].iter_mut().rev() {
            *slot = HEX[usize::try_from(n & 0x0f).unwrap_or(0)];
            n >>= 4;
        }
        out
    }

    /// The id as a header value.
    pub fn header_value(self) -> HeaderValue {
        let text = self.text();
        // Hex digits and a dash are always a valid header value.
        HeaderValue::from_bytes(&text).unwrap_or_else(|_| HeaderValue::from_static("0"))
    }

    /// Runs `future` with this id as the current one.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text();
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

/// The id of the request the calling task is serving, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(|id| *id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_well_formed() {
        let a = RequestId::next();
        let b = RequestId::next();
        assert_ne!(a.to_string(), b.to_string());
        let text = a.to_string();
        assert_eq!(text.len(), TEXT_LEN);
        assert_eq!(text.as_bytes()[8], b'-');
        assert!(text
            .bytes()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_hexdigit()));
        assert_eq!(a.header_value().to_str().ok(), Some(text.as_str()));
        assert_eq!(RequestId(0x1f).to_string()[9..].to_owned(), "00000000001f");
    }

    #[tokio::test]
    async fn the_current_id_is_set_only_inside_its_scope() {
        assert_eq!(current(), None);
        let id = RequestId::next();
        let seen = id.scope(async { current() }).await;
        assert_eq!(seen, Some(id));
        assert_eq!(current(), None);
    }
}
