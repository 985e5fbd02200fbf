//! The integration tests of `arca`, built as one binary (one link instead of one per file):
//! each module is a file of tests at the crate's boundary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_client;
mod common;
mod connections;
mod process;
mod request_log;
