//! Operations on vault objects, between the HTTP handlers and storage: they seal and open
//! records, apply Key Vault's lifecycle rules and speak only domain types (no HTTP here).

pub mod secrets;
