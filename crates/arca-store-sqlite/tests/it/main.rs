//! The integration tests of `arca-store-sqlite`, built as one binary (one link instead of one per file):
//! each module is a file of tests at the crate's boundary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;
mod durability;
