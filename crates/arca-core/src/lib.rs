//! What a vault and its objects are and may do, who may do what, and which operations exist:
//! rules independent of HTTP, storage and crypto.
//!
//! This crate performs no I/O and reads no ambient state: the clock and the random source are
//! passed in by the caller, so every rule here can be tested with a controlled time.

pub mod authz;
pub mod clock;
pub mod limits;
pub mod names;
pub mod object;
pub mod operation;
pub mod secret;
pub mod throttle;
pub mod vault;

pub use clock::{Clock, FixedClock, SystemClock};
pub use names::{NameError, ObjectName, VaultName, VersionId};
pub use object::{ObjectAddress, ObjectKind};
pub use operation::{EventType, Operation, Target};
pub use vault::{RecoveryLevel, VaultSettings};
