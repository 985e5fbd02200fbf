//! A vault's throttling: the body of `PUT /admin/vaults/{name}/throttling` and the answer of its
//! `GET` and `PUT`.

use serde::{Deserialize, Serialize};

/// `{"enabled": true|false, "factor": 0.5}`: throttling on or off, and the factor Key Vault's
/// limits are scaled by (0.001 to 100; 1 when left out). The server judges the values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetThrottling {
    pub enabled: bool,
    #[serde(
        default,
        deserialize_with = "super::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub factor: Option<f64>,
}

/// The limits in force, in units per 10 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleLimits {
    pub key_create: u32,
    pub key_other: u32,
    pub secret_create: u32,
    pub secret_other: u32,
}

/// A vault's throttling as it applies: `source` is `vault` for the vault's own setting,
/// `deployment` for the deployment's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throttling {
    pub enabled: bool,
    pub factor: f64,
    pub limits: ThrottleLimits,
    pub source: String,
    pub window_seconds: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;

    #[test]
    fn set_throttling() {
        round_trip(
            &SetThrottling {
                enabled: true,
                factor: Some(0.5),
            },
            r#"{"enabled":true,"factor":0.5}"#,
        );
        round_trip(
            &SetThrottling {
                enabled: false,
                factor: None,
            },
            r#"{"enabled":false}"#,
        );
        assert!(
            serde_json::from_str::<SetThrottling>(r#"{"enabled":true,"factor":null}"#).is_err()
        );
        assert!(serde_json::from_str::<SetThrottling>(r#"{"factor":1}"#).is_err());
        assert!(serde_json::from_str::<SetThrottling>(r#"{"enabled":true,"x":1}"#).is_err());
    }

    #[test]
    fn throttling() {
        round_trip(
            &Throttling {
                enabled: true,
                factor: 1.0,
                limits: ThrottleLimits {
                    key_create: 20,
                    key_other: 4000,
                    secret_create: 300,
                    secret_other: 4000,
                },
                source: "deployment".into(),
                window_seconds: 10,
            },
            r#"{"enabled":true,"factor":1.0,"limits":{"key_create":20,"key_other":4000,"secret_create":300,"secret_other":4000},"source":"deployment","window_seconds":10}"#,
        );
    }
}
