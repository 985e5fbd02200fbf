//! Network rules, of a vault and of the admin API: the body of both `PUT`s and of their answers.

use serde::{Deserialize, Serialize};

/// `{"default_action": "Allow"|"Deny", "ip_rules": [...]}`. The server accepts `default_action`
/// in any case and answers `Allow` or `Deny`; it alone judges the values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRules {
    pub default_action: String,
    #[serde(default)]
    pub ip_rules: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;

    #[test]
    fn network_rules() {
        round_trip(
            &NetworkRules {
                default_action: "Deny".into(),
                ip_rules: vec!["10.0.0.0/8".into(), "192.0.2.7".into()],
            },
            r#"{"default_action":"Deny","ip_rules":["10.0.0.0/8","192.0.2.7"]}"#,
        );
        let open = NetworkRules {
            default_action: "Allow".into(),
            ip_rules: vec![],
        };
        round_trip(&open, r#"{"default_action":"Allow","ip_rules":[]}"#);
        let bare: NetworkRules = serde_json::from_str(r#"{"default_action":"Allow"}"#).unwrap();
        assert_eq!(bare, open);
        assert!(serde_json::from_str::<NetworkRules>(r#"{"ip_rules":[]}"#).is_err());
        assert!(
            serde_json::from_str::<NetworkRules>(r#"{"default_action":"Allow","x":1}"#).is_err()
        );
    }
}
