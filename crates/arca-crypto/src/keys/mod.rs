//! Key operations for the keys API: the provider seam between Arca and its crypto library.
//!
//! Must not: expose a type of the crypto library (aws-lc-rs) to callers, put key bytes,
//! plaintext or any input bytes into an error or `Debug`, or decide policy (which operations a
//! key permits, who may call them): callers decide that and this module only carries it out.

mod alg;

pub use alg::{Curve, EncryptionAlgorithm, KeyType, SignatureAlgorithm, WrapAlgorithm};
