//! Token signing keys (`GET /admin/signing-keys`, `POST /admin/signing-keys/rotate`, both
//! answering `{"value": [SigningKey]}`) and the rotated managed-identity header.

use serde::{Deserialize, Serialize};

use crate::SecretText;

/// What the admin API says about one token signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    /// Whether this key signs new tokens.
    pub active: bool,
    /// Unknown (`null`) for the key made on first start, before rotation existed.
    pub created: Option<i64>,
    pub kid: String,
    /// When a retired key stops verifying; `null` for the active key.
    pub retires: Option<i64>,
}

/// The answer of `POST /admin/identity-header/rotate`: the only place the new header is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityHeader {
    pub identity_header: SecretText,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;
    use crate::admin::List;

    #[test]
    fn signing_keys() {
        round_trip(
            &List::new(vec![
                SigningKey {
                    active: true,
                    created: Some(86_400),
                    kid: "k2".into(),
                    retires: None,
                },
                SigningKey {
                    active: false,
                    created: None,
                    kid: "k1".into(),
                    retires: Some(90_000),
                },
            ]),
            r#"{"value":[{"active":true,"created":86400,"kid":"k2","retires":null},{"active":false,"created":null,"kid":"k1","retires":90000}]}"#,
        );
    }

    #[test]
    fn identity_header() {
        let h = IdentityHeader {
            identity_header: SecretText::new("abc".into()),
        };
        round_trip(&h, r#"{"identity_header":"abc"}"#);
        assert!(!format!("{h:?}").contains("abc"));
    }
}
