//! The transactional outbox: messages (events to deliver) appended in the same transaction as
//! the writes they describe ([`crate::BatchItem::Append`]) and read in order by a dispatcher,
//! which removes each once delivered.

use async_trait::async_trait;

use crate::{StoreError, StoreResult};

/// The longest [`OutboxMessage::topic`], in bytes.
pub const OUTBOX_TOPIC_MAX: usize = 64;
/// The largest [`OutboxMessage::payload`], in bytes (1 MiB).
pub const OUTBOX_PAYLOAD_MAX: usize = 1 << 20;

/// A message to deliver. `payload` is opaque to the store (it may be sealed).
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// What kind of message it is (a routing key for the dispatcher); at most
    /// [`OUTBOX_TOPIC_MAX`] bytes.
    pub topic: String,
    /// Unix seconds.
    pub created: i64,
    /// At most [`OUTBOX_PAYLOAD_MAX`] bytes.
    pub payload: Vec<u8>,
}

impl OutboxMessage {
    /// `Invalid` unless `topic` and `payload` are within the limits above.
    pub fn check_limits(&self) -> StoreResult<()> {
        if self.topic.len() > OUTBOX_TOPIC_MAX {
            return Err(StoreError::Invalid(format!(
                "outbox topic is longer than {OUTBOX_TOPIC_MAX} bytes"
            )));
        }
        if self.payload.len() > OUTBOX_PAYLOAD_MAX {
            return Err(StoreError::Invalid(format!(
                "outbox payload is larger than {OUTBOX_PAYLOAD_MAX} bytes"
            )));
        }
        Ok(())
    }
}

impl std::fmt::Debug for OutboxMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxMessage")
            .field("topic", &self.topic)
            .field("created", &self.created)
            .field("payload", &format_args!("[{} bytes]", self.payload.len()))
            .finish()
    }
}

/// An appended message with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Unique, at least 1, never reused (even once rows are removed), and increasing in the
    /// order rows become visible: once a reader has seen a row, no row with a smaller id can
    /// appear later, so a dispatcher may page with `after`. (A backend whose id sequence is not
    /// in commit order must allocate ids in the appending transaction, e.g. from a counter row.)
    pub id: u64,
    pub message: OutboxMessage,
}

/// Reading and acknowledging the outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Rows not yet delivered, ordered by id; only ids strictly greater than `after`; at most
    /// `limit`.
    async fn outbox_pending(&self, after: Option<u64>, limit: usize)
        -> StoreResult<Vec<OutboxRow>>;

    /// Marks rows delivered, which removes them, in one transaction; ids that are absent (never
    /// appended or already delivered) are ignored. Returns how many rows it removed.
    async fn outbox_delivered(&self, ids: &[u64]) -> StoreResult<u64>;
}
