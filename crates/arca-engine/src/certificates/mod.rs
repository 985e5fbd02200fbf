//! Certificates on the shared lifecycle (issue 13, being built): what a certificate's policy
//! asks for and allows ([`policy`]). Issuance, import, merge, renewal and the managed key and
//! secret of each version land here next, on the X.509 work of `arca_crypto`.

pub mod policy;
