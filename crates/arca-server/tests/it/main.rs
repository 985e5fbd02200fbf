//! The integration tests of `arca-server`, built as one binary (one link instead of one per file):
//! each module is a file of tests at the crate's boundary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod certificates;
mod common;
mod dataplane;
mod identity;
mod identity_protocols;
mod integrity;
mod issuing_ca;
mod keys;
mod local_ca;
mod origins;
mod release;
mod rotation;
mod router;
mod throttle;
mod upgrade;
mod upgrade_fixture;
