//! Role bodies: role definitions, defining a custom role, role assignments (with the query of
//! their listing) and access checks.

use serde::{Deserialize, Serialize};

/// Whether a role is one of Azure's built-in roles or defined in this deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleType {
    BuiltInRole,
    CustomRole,
}

impl RoleType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BuiltInRole => "BuiltInRole",
            Self::CustomRole => "CustomRole",
        }
    }
}

/// A role definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub data_actions: Vec<String>,
    pub description: String,
    pub id: String,
    pub name: String,
    pub not_data_actions: Vec<String>,
    #[serde(rename = "type")]
    pub role_type: RoleType,
}

/// `POST /admin/roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefineRole {
    pub data_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub name: String,
    /// May be left out (none excluded), but not be `null`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::present"
    )]
    pub not_data_actions: Option<Vec<String>>,
}

/// A role assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub created: i64,
    pub id: String,
    pub principal_client_id: String,
    pub principal_object_id: String,
    pub role_id: String,
    /// `null` when the role no longer exists.
    pub role_name: Option<String>,
    pub scope: String,
}

/// `POST /admin/role-assignments`: a role (id or name), a principal (client id or object id) and
/// a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    pub principal: String,
    pub role: String,
    pub scope: String,
}

/// The query of `GET /admin/role-assignments`: only one principal's, only at one scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// `POST /admin/check-access`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckAccess {
    pub action: String,
    pub principal: String,
    pub scope: String,
}

/// The answer of `POST /admin/check-access`: the decision the data plane would take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDecision {
    pub action: String,
    pub allowed: bool,
    pub reason: String,
    pub role_assignment_id: Option<String>,
    pub role_name: Option<String>,
    pub scope: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::pinned::round_trip;

    #[test]
    fn role() {
        round_trip(
            &Role {
                data_actions: vec!["Microsoft.KeyVault/vaults/secrets/getSecret/action".into()],
                description: "Read secret contents.".into(),
                id: "r1".into(),
                name: "Key Vault Secrets User".into(),
                not_data_actions: vec![],
                role_type: RoleType::BuiltInRole,
            },
            r#"{"data_actions":["Microsoft.KeyVault/vaults/secrets/getSecret/action"],"description":"Read secret contents.","id":"r1","name":"Key Vault Secrets User","not_data_actions":[],"type":"BuiltInRole"}"#,
        );
        let custom: Role = serde_json::from_str(
            r#"{"data_actions":["a"],"description":"","id":"r2","name":"n","not_data_actions":["b"],"type":"CustomRole"}"#,
        )
        .unwrap();
        assert_eq!(custom.role_type, RoleType::CustomRole);
    }

    #[test]
    fn define_role() {
        round_trip(
            &DefineRole {
                data_actions: vec!["a".into(), "b".into()],
                description: None,
                name: "r".into(),
                not_data_actions: None,
            },
            r#"{"data_actions":["a","b"],"name":"r"}"#,
        );
        round_trip(
            &DefineRole {
                data_actions: vec!["a".into()],
                description: Some("d".into()),
                name: "reader".into(),
                not_data_actions: Some(vec![]),
            },
            r#"{"data_actions":["a"],"description":"d","name":"reader","not_data_actions":[]}"#,
        );
        let null_description: DefineRole =
            serde_json::from_str(r#"{"name":"r","data_actions":[],"description":null}"#).unwrap();
        assert_eq!(null_description.description, None);
        for bad in [
            r#"{"name":"r","data_actions":["a"],"not_data_actions":null}"#,
            r#"{"name":"r"}"#,
            r#"{"name":"r","data_actions":["a"],"actions":[]}"#,
        ] {
            assert!(serde_json::from_str::<DefineRole>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn assignments() {
        round_trip(
            &Assignment {
                created: 7,
                id: "a1".into(),
                principal_client_id: "c1".into(),
                principal_object_id: "o1".into(),
                role_id: "r1".into(),
                role_name: Some("Reader".into()),
                scope: "/vaults/team-a".into(),
            },
            r#"{"created":7,"id":"a1","principal_client_id":"c1","principal_object_id":"o1","role_id":"r1","role_name":"Reader","scope":"/vaults/team-a"}"#,
        );
        round_trip(
            &Assign {
                principal: "ci".into(),
                role: "Key Vault Secrets User".into(),
                scope: "/vaults/team-a".into(),
            },
            r#"{"principal":"ci","role":"Key Vault Secrets User","scope":"/vaults/team-a"}"#,
        );
        assert!(serde_json::from_str::<Assign>(r#"{"principal":"p","role":"r"}"#).is_err());
        let query = AssignmentQuery {
            principal: Some("ci".into()),
            scope: Some("/vaults/team a".into()),
        };
        // The client writes these members as the query string, in this order.
        round_trip(&query, r#"{"principal":"ci","scope":"/vaults/team a"}"#);
        round_trip(&AssignmentQuery::default(), "{}");
    }

    #[test]
    fn access_checks() {
        round_trip(
            &CheckAccess {
                action: "Microsoft.KeyVault/vaults/secrets/getSecret/action".into(),
                principal: "ci".into(),
                scope: "/vaults/team-a/secrets/db".into(),
            },
            r#"{"action":"Microsoft.KeyVault/vaults/secrets/getSecret/action","principal":"ci","scope":"/vaults/team-a/secrets/db"}"#,
        );
        round_trip(
            &AccessDecision {
                action: "x".into(),
                allowed: false,
                reason: "no role assignment grants the action".into(),
                role_assignment_id: None,
                role_name: None,
                scope: "/".into(),
            },
            r#"{"action":"x","allowed":false,"reason":"no role assignment grants the action","role_assignment_id":null,"role_name":null,"scope":"/"}"#,
        );
    }
}
