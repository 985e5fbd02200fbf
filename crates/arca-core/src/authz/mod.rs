//! Who may do what, decided without I/O: the access-control data a decision reads (principals,
//! roles, assignments, federated credentials, network rules) as one immutable [`Snapshot`], and
//! the one function that decides every request, [`decide`]. Arca's own background jobs, which
//! have no caller, are decided by [`decide_job`] from a fixed table ([`jobs`]).
//!
//! The server loads snapshots from storage and keeps the current one; this module never reads
//! storage, the clock or the network. An allowing [`Decision`] is the only way to make an
//! [`Authorized`] proof, which every operation of the engine demands.

mod authorized;
pub mod jobs;
pub mod network;
pub mod roles;
pub mod scope;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use authorized::Authorized;
pub use jobs::{decide_job, Job};
pub use network::{NetworkRules, NetworkRulesDoc};
pub use roles::{RoleDefinition, ADMINISTRATOR_ROLE_ID, ADMIN_ACTION};
pub use scope::Scope;

/// Policy document kinds in storage.
pub mod kinds {
    pub const ROLE: &str = "role";
    pub const ASSIGNMENT: &str = "assignment";
    pub const FEDERATION: &str = "federation";
    pub const NETWORK: &str = "network";
    pub const SIGNING_KEYS: &str = "signing-keys";
    /// A vault's throttling setting ([`crate::throttle::ThrottleSettings`]), by vault name.
    pub const THROTTLE: &str = "throttle";
}

/// The id under which the admin API's own network rules are stored (not a valid vault name).
pub const ADMIN_NETWORK_ID: &str = "@admin";

/// The credential id a token minted by a managed-identity endpoint carries.
pub const MANAGED_IDENTITY_CREDENTIAL: &str = "mi";

/// A role assignment as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentDoc {
    pub id: String,
    pub role_id: String,
    pub principal_client_id: String,
    pub principal_object_id: String,
    pub scope: String,
    pub created: i64,
}

/// A federated identity credential: tokens of `issuer` about `subject`, for one of `audiences`,
/// may be exchanged for tokens of the principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationDoc {
    pub id: String,
    pub principal_client_id: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    #[serde(default)]
    pub jwks_url: Option<String>,
    #[serde(default)]
    pub jwks_ca_pem: Option<String>,
    pub created: i64,
}

/// What the snapshot knows of a principal.
#[derive(Debug, Clone)]
pub struct PrincipalEntry {
    pub client_id: String,
    pub object_id: String,
    pub display_name: String,
    /// Ids of the credentials tokens may have been issued through.
    pub credentials: HashSet<String>,
}

/// An immutable view of all access-control state at one store generation.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub generation: u64,
    /// By object id.
    pub principals: HashMap<String, PrincipalEntry>,
    /// By role id: built-in and custom.
    pub roles: HashMap<String, RoleDefinition>,
    /// By principal object id.
    pub assignments: HashMap<String, Vec<AssignmentDoc>>,
    /// By principal client id.
    pub federations: HashMap<String, Vec<FederationDoc>>,
    /// By vault name, plus [`ADMIN_NETWORK_ID`].
    pub network: HashMap<String, NetworkRules>,
    /// Vaults' own throttling settings, by vault name; a vault not here has the deployment's.
    pub throttle: HashMap<String, crate::throttle::ThrottleSettings>,
}

/// The credential-id forms tokens carry: `s:<secret id>`, `c:<certificate id>`, `f:<federated
/// credential id>`, or [`MANAGED_IDENTITY_CREDENTIAL`].
pub fn secret_credential(id: &str) -> String {
    format!("s:{id}")
}
pub fn certificate_credential(id: &str) -> String {
    format!("c:{id}")
}
pub fn federation_credential(id: &str) -> String {
    format!("f:{id}")
}

impl Snapshot {
    /// Whether the token's principal still exists and still has the credential it was issued
    /// through.
    pub fn token_is_current(&self, object_id: &str, client_id: &str, credential: &str) -> bool {
        self.principals
            .get(object_id)
            .is_some_and(|p| p.client_id == client_id && p.credentials.contains(credential))
    }

    /// Whether the network rules of `rules_id` (a vault name or [`ADMIN_NETWORK_ID`]) admit `addr`.
    pub fn admits(&self, rules_id: &str, addr: Option<IpAddr>) -> bool {
        self.network
            .get(rules_id)
            .is_none_or(|rules| rules.admits(addr))
    }

    /// The role with this id, or the one with this name (case-insensitive).
    pub fn role(&self, id_or_name: &str) -> Option<&RoleDefinition> {
        self.roles.get(id_or_name).or_else(|| {
            self.roles
                .values()
                .find(|r| r.name.eq_ignore_ascii_case(id_or_name))
        })
    }

    /// Assignments of the administrator role at `/`.
    pub fn root_administrators(&self) -> Vec<&AssignmentDoc> {
        self.assignments
            .values()
            .flatten()
            .filter(|a| a.scope == "/" && a.role_id == ADMINISTRATOR_ROLE_ID)
            .collect()
    }
}

/// The outcome of an authorization decision; the audit record will carry it as is. It borrows
/// from the question and the snapshot, so deciding allocates nothing.
// Made only by `decide` and `decide_job` outside this crate (`non_exhaustive`), so that an
// allowing decision, and with it an `Authorized` proof, cannot be written by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision<'a> {
    pub allowed: bool,
    pub action: &'a str,
    pub resource: &'a Scope,
    /// The assignment that granted the action.
    pub assignment_id: Option<&'a str>,
    pub role_name: Option<&'a str>,
    /// The scope of the assignment that granted the action.
    pub assignment_scope: Option<&'a str>,
    pub reason: &'static str,
    /// The one operation the decision was made for, when it was made for an operation rather
    /// than for a dataAction (a job's: [`decide_job`]); it then proves that operation only, not
    /// the others that share its dataAction.
    pub operation: Option<crate::Operation>,
}

/// The one authorization function: may the principal `object_id` perform `action` on
/// `resource`? Deny by default; allowed when an assignment whose scope covers the resource binds
/// a role that permits the action.
pub fn decide<'a>(
    snapshot: &'a Snapshot,
    object_id: &str,
    action: &'a str,
    resource: &'a Scope,
) -> Decision<'a> {
    let mut decision = Decision {
        allowed: false,
        action,
        resource,
        assignment_id: None,
        role_name: None,
        assignment_scope: None,
        reason: "no role assignment grants the action at this scope",
        operation: None,
    };
    let Some(assignments) = snapshot.assignments.get(object_id) else {
        decision.reason = "the principal has no role assignments";
        return decision;
    };
    for a in assignments {
        // Stored scopes are canonical (written by `Scope::to_string`).
        if !scope::covers(&a.scope, resource) {
            continue;
        }
        let Some(role) = snapshot.roles.get(&a.role_id) else {
            continue;
        };
        if role.permits(action) {
            decision.allowed = true;
            decision.assignment_id = Some(&a.id);
            decision.role_name = Some(&role.name);
            decision.assignment_scope = Some(&a.scope);
            decision.reason = "granted by role assignment";
            return decision;
        }
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot_with(assignments: Vec<(&str, &str)>) -> Snapshot {
        let mut s = Snapshot::default();
        for role in roles::builtin_roles() {
            s.roles.insert(role.id.clone(), role);
        }
        for (i, (role, scope)) in assignments.into_iter().enumerate() {
            let role_id = s.role(role).unwrap().id.clone();
            s.assignments
                .entry("oid".into())
                .or_default()
                .push(AssignmentDoc {
                    id: format!("a{i}"),
                    role_id,
                    principal_client_id: "cid".into(),
                    principal_object_id: "oid".into(),
                    scope: scope.into(),
                    created: 0,
                });
        }
        s
    }

    const GET: &str = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
    const LIST: &str = "Microsoft.KeyVault/vaults/secrets/readMetadata/action";

    #[test]
    fn deny_by_default() {
        let s = snapshot_with(vec![]);
        let vault = Scope::vault("v");
        let d = decide(&s, "oid", GET, &vault);
        assert!(!d.allowed);
        assert_eq!(d.reason, "the principal has no role assignments");
    }

    #[test]
    fn scopes_limit_assignments() {
        let s = snapshot_with(vec![("Key Vault Secrets User", "/vaults/prod/secrets/db")]);
        let db = Scope::object("prod", "secrets", "DB");
        assert!(decide(&s, "oid", GET, &db).allowed);
        assert!(!decide(&s, "oid", GET, &Scope::object("prod", "secrets", "other")).allowed);
        assert!(!decide(&s, "oid", LIST, &Scope::vault("prod")).allowed);
        assert!(!decide(&s, "someone-else", GET, &db).allowed);

        let s = snapshot_with(vec![("key vault reader", "/vaults/prod")]);
        assert!(decide(&s, "oid", LIST, &Scope::vault("prod")).allowed);
        assert!(!decide(&s, "oid", LIST, &Scope::vault("test")).allowed);
        assert!(!decide(&s, "oid", GET, &Scope::object("prod", "secrets", "db")).allowed);

        let s = snapshot_with(vec![("Key Vault Administrator", "/")]);
        let root = Scope::root();
        let d = decide(&s, "oid", ADMIN_ACTION, &root);
        assert!(d.allowed);
        assert_eq!(d.role_name, Some("Key Vault Administrator"));
        assert_eq!(d.assignment_id, Some("a0"));
        let s = snapshot_with(vec![("Key Vault Administrator", "/vaults/prod")]);
        assert!(!decide(&s, "oid", ADMIN_ACTION, &Scope::root()).allowed);
    }
}
