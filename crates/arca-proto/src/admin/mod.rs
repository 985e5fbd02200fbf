//! The admin API's bodies (contract: `docs/admin-api.md`) and the `bootstrap.json` document.
//!
//! One type per body, used by the server to parse requests and write answers and by
//! `arca-client` to do the reverse, so the two cannot drift apart. Request bodies refuse unknown
//! members (`deny_unknown_fields`); optional request members are left out when not given.
//! Answers write every member, `null` included.
//!
//! Members are declared in alphabetical order: the admin answers and the CLI's requests were
//! `serde_json::Value` maps, which write their keys sorted, and keeping that order keeps every
//! body byte for byte as it was. The unit tests pin the exact JSON of each body.

mod attestation;
mod bootstrap;
mod ca;
mod federation;
mod keys;
mod network;
mod principals;
mod roles;
mod throttling;
mod vaults;

use serde::{Deserialize, Deserializer, Serialize};

pub use attestation::{AttestationIssuer, IssuerQuery};
pub use bootstrap::BootstrapFile;
pub use ca::{CaCertificate, ImportCa, IssuerSuffixes, IssuingCa, SetIssuerSuffixes};
pub use federation::{AddFederation, FederatedCredential, FederationQuery};
pub use keys::{IdentityHeader, SigningKey};
pub use network::NetworkRules;
pub use principals::{
    AddCertificate, AddSecret, Certificate, CreatePrincipal, NewSecret, Principal, PrincipalKind,
    SecretInfo,
};
pub use roles::{
    AccessDecision, Assign, Assignment, AssignmentQuery, CheckAccess, DefineRole, Role, RoleType,
};
pub use throttling::{SetThrottling, ThrottleLimits, Throttling};
pub use vaults::{CreateVault, Vault};

/// A listing: `{"value": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List<T> {
    pub value: Vec<T>,
}

impl<T> List<T> {
    pub fn new(value: Vec<T>) -> Self {
        Self { value }
    }
}

/// An optional member that may be left out but not given as `null`: `Some` when present.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
pub(crate) mod pinned {
    //! The round trip every body test makes.

    use serde::de::DeserializeOwned;
    use serde::Serialize;

    /// `value` serializes to exactly `json`, and `json` parses back to something that
    /// serializes the same.
    pub fn round_trip<T: Serialize + DeserializeOwned>(value: &T, json: &str) {
        let written = serde_json::to_string(value).unwrap();
        assert_eq!(written, json);
        let read: T = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&read).unwrap(), json);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_wrap_their_items_in_value() {
        pinned::round_trip(&List::new(vec![1, 2]), r#"{"value":[1,2]}"#);
        pinned::round_trip(&List::<u8>::new(vec![]), r#"{"value":[]}"#);
    }
}
