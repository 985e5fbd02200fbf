//! Certificates on the shared lifecycle (issue 13, being built): what a certificate's policy
//! asks for and allows ([`policy`]), and the vault's certificate contacts ([`contacts`]) and
//! issuers ([`issuers`]). Issuance, import, merge, renewal and the managed key and secret of
//! each version land here next, on the X.509 work of `arca_crypto`.

pub mod contacts;
pub mod issuers;
pub mod policy;

#[cfg(test)]
mod tests;
