//! Test support for the storage contract of `arca-store`: the conformance suite
//! ([`conformance`]) that every backend runs from its tests, and [`MemoryStore`], the in-memory
//! reference implementation the suite is judged against (with and without deliberate flaws).
//! A dev-dependency only: no production crate links it.

pub mod conformance;
pub mod memory;

pub use conformance::{run_all, run_matching, CASE_NAMES};
pub use memory::{Flaw, MemoryStore};

#[cfg(test)]
mod self_tests;
