//! Certificates on the shared lifecycle (issue 13): a policy says what a certificate is
//! ([`policy`]); a version is issued (self-signed, through a CSR merged later, or by the
//! deployment's CA), imported, or restored, always as three object versions written together:
//! the certificate, its key and its secret ([`stored`]); the vault's certificate contacts
//! ([`contacts`]) and issuers ([`issuers`]) are vault documents.
//!
//! | file | holds |
//! | --- | --- |
//! | `policy.rs` | Key Vault's policy rules, defaults, PATCH merge, key usages → `key_ops` |
//! | `stored.rs` | the storage layout: version metadata, chain, policy and pending documents |
//! | `issue.rs` | create, the pending operation, merge, import |
//! | `lifecycle.rs` | get, update, policy, list, versions, delete, recover, purge, backup, restore |
//! | `renewal.rs` | `renew_due`: the renewal job's pass over a vault (`AutoRenew` actions) |
//! | `contacts.rs`, `issuers.rs` | the vault's contacts and issuers |

pub mod arca_issuer;
pub mod contacts;
mod issue;
pub mod issuers;
mod lifecycle;
pub mod policy;
mod renewal;
mod stored;

#[cfg(test)]
mod tests;

use arca_proto::certificates::IssuerParameters;
use arca_proto::ErrorDetail;

pub use issue::{cancel_pending, create, delete_pending, get_pending, import, merge};
pub use lifecycle::{
    backup, delete, get, get_deleted, get_policy, list, list_versions, purge, recover, restore,
    update, update_policy, PendingItem,
};
pub use renewal::{renew_due, RenewalRun, Renewed};
pub use stored::{CertificateView, StoredPolicy};

/// A certificate's pending operation as operations return it (never its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationView {
    /// The certificate's name as spelled by the create.
    pub name: String,
    pub issuer: IssuerParameters,
    /// The CSR, DER in standard base64.
    pub csr: Option<String>,
    pub cancellation_requested: bool,
    pub status: String,
    pub status_details: Option<String>,
    pub error: Option<ErrorDetail>,
    /// The version made, once completed.
    pub target_version: Option<String>,
    pub preserve_cert_order: Option<bool>,
    pub request_id: String,
}

impl OperationView {
    fn of(p: &stored::Pending) -> Self {
        OperationView {
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            csr: p.csr.clone(),
            cancellation_requested: p.cancellation_requested,
            status: p.status.clone(),
            status_details: p.status_details.clone(),
            error: p.error.clone(),
            target_version: p.target_version.clone(),
            preserve_cert_order: p.preserve_cert_order,
            request_id: p.request_id.clone(),
        }
    }
}
