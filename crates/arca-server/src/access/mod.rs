//! Access control at the edge: loading [`Snapshot`]s from storage and holding the current one
//! ([`Access`]), and the wording of refusals. The decision itself is pure and lives in
//! `arca_core::authz`; this module re-exports it so the server names it in one place.
//!
//! [`Access`] holds the current snapshot and replaces it whenever the store's access generation
//! moves: at once after a change made through this process, and within a second (a poll) after a
//! change made by another replica. A request reads the snapshot once and decides against it; no
//! lock is held while it runs and storage is never touched by a decision. Vaults' throttling
//! settings travel in the snapshot too, for the same reasons (`crate::throttle`).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use arca_core::throttle::ThrottleSettings;
use arca_crypto::{CryptoError, Keyring};
use arca_store::{PolicyRecord, Store, StoreResult};
use serde::Serialize;

pub use arca_core::authz::{
    certificate_credential, decide, federation_credential, kinds, network, roles, scope,
    secret_credential, AssignmentDoc, Decision, FederationDoc, NetworkRules, NetworkRulesDoc,
    PrincipalEntry, RoleDefinition, Scope, Snapshot, ADMINISTRATOR_ROLE_ID, ADMIN_ACTION,
    ADMIN_NETWORK_ID, MANAGED_IDENTITY_CREDENTIAL,
};

use crate::auth::caller::Caller;
use crate::identity::principal::PrincipalData;

/// Reads every principal and policy document at the current generation. A record that does
/// not verify against the keyring is left out (and reported): an unverifiable principal does
/// not exist, an unverifiable role, assignment or federated credential grants nothing, and
/// an unverifiable network rule set denies every address.
pub async fn load(store: &dyn Store, keyring: &Keyring) -> StoreResult<Snapshot> {
    let generation = store.access_generation().await?;
    let mut snapshot = Snapshot {
        generation,
        ..Snapshot::default()
    };
    for role in roles::builtin_roles() {
        snapshot.roles.insert(role.id.clone(), role);
    }
    for record in store.list_policies(kinds::ROLE).await? {
        let Some(plain) = crate::integrity::open_policy(keyring, &record) else {
            continue;
        };
        match serde_json::from_slice::<RoleDefinition>(plain.expose()) {
            Ok(role) if !role.builtin => {
                snapshot.roles.insert(role.id.clone(), role);
            }
            _ => tracing::error!(id = %record.id, "unreadable role document ignored"),
        }
    }
    let mut federation_ids: HashMap<String, Vec<String>> = HashMap::new();
    for record in store.list_policies(kinds::FEDERATION).await? {
        let Some(plain) = crate::integrity::open_policy(keyring, &record) else {
            continue;
        };
        match serde_json::from_slice::<FederationDoc>(plain.expose()) {
            // A document names its principal; it must be the one it is stored for.
            Ok(f) if f.id == record.id => {
                federation_ids
                    .entry(f.principal_client_id.clone())
                    .or_default()
                    .push(federation_credential(&f.id));
                snapshot
                    .federations
                    .entry(f.principal_client_id.clone())
                    .or_default()
                    .push(f);
            }
            _ => {
                tracing::error!(id = %record.id, "unreadable federation document ignored")
            }
        }
    }
    for p in store.list_principals().await? {
        let Some(data) = PrincipalData::open(keyring, &p) else {
            continue;
        };
        let mut credentials: HashSet<String> = data
            .secrets
            .iter()
            .map(|s| secret_credential(&s.id))
            .chain(
                data.certificates
                    .iter()
                    .map(|c| certificate_credential(&c.id)),
            )
            .collect();
        credentials.extend(federation_ids.remove(&p.client_id).unwrap_or_default());
        credentials.insert(MANAGED_IDENTITY_CREDENTIAL.to_owned());
        snapshot.principals.insert(
            p.object_id.clone(),
            PrincipalEntry {
                client_id: p.client_id,
                object_id: p.object_id,
                display_name: data.display_name,
                credentials,
            },
        );
    }
    for record in store.list_policies(kinds::ASSIGNMENT).await? {
        let Some(plain) = crate::integrity::open_policy(keyring, &record) else {
            continue;
        };
        match serde_json::from_slice::<AssignmentDoc>(plain.expose()) {
            Ok(a) if a.id == record.id => snapshot
                .assignments
                .entry(a.principal_object_id.clone())
                .or_default()
                .push(a),
            _ => {
                tracing::error!(id = %record.id, "unreadable assignment document ignored")
            }
        }
    }
    for record in store.list_policies(kinds::NETWORK).await? {
        let rules = crate::integrity::open_policy(keyring, &record)
            .and_then(|plain| serde_json::from_slice::<NetworkRulesDoc>(plain.expose()).ok())
            .and_then(|doc| NetworkRules::from_doc(&doc).ok());
        match rules {
            Some(rules) => {
                snapshot.network.insert(record.id, rules);
            }
            // A rule set that cannot be read must not fail open.
            None => {
                tracing::error!(id = %record.id, "unreadable network rules: denying all");
                snapshot.network.insert(
                    record.id,
                    NetworkRules {
                        default_action: network::DefaultAction::Deny,
                        ip_rules: Vec::new(),
                    },
                );
            }
        }
    }
    for record in store.list_policies(kinds::THROTTLE).await? {
        let settings = crate::integrity::open_policy(keyring, &record)
            .and_then(|plain| serde_json::from_slice::<ThrottleSettings>(plain.expose()).ok())
            .filter(ThrottleSettings::is_valid);
        match settings {
            Some(settings) => {
                snapshot.throttle.insert(record.id, settings);
            }
            // Throttling guards capacity, not access: an unreadable setting falls back to the
            // deployment's.
            None => tracing::error!(id = %record.id, "unreadable throttling setting ignored"),
        }
    }
    Ok(snapshot)
}

/// The caller as Key Vault names it in errors and logs.
pub fn caller_text(caller: &Caller, issuer: &str) -> String {
    format!(
        "appid={};oid={};iss={}",
        caller.client_id, caller.object_id, issuer
    )
}

/// The 403 of a denied decision, worded as Key Vault words `ForbiddenByRbac`.
pub fn rbac_denial(
    decision: &Decision<'_>,
    caller: &Caller,
    issuer: &str,
    vault: Option<&str>,
) -> crate::error::ApiError {
    let mut message = format!(
        "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {}\r\nAction: '{}'\r\nResource: '{}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\n",
        caller_text(caller, issuer),
        decision.action,
        decision.resource
    );
    if let Some(vault) = vault {
        message.push_str(&format!("Vault: {vault};location=arca\r\n"));
    }
    crate::error::ApiError::Forbidden {
        message,
        inner: Some("ForbiddenByRbac"),
    }
}

/// The 403 of a refused network address, worded as Key Vault words `ForbiddenByFirewall`.
pub fn firewall_denial(
    addr: Option<IpAddr>,
    caller: &Caller,
    issuer: &str,
    target: &str,
) -> crate::error::ApiError {
    let shown = addr.map_or_else(
        || "unknown".to_owned(),
        |a| network::canonical(a).to_string(),
    );
    crate::error::ApiError::Forbidden {
        message: format!(
            "Client address is not authorized and caller is not a trusted service.\r\nClient address: {shown}\r\nCaller: {}\r\nVault: {target};location=arca",
            caller_text(caller, issuer)
        ),
        inner: Some("ForbiddenByFirewall"),
    }
}

/// Holder of the current snapshot.
pub struct Access {
    current: RwLock<Arc<Snapshot>>,
    /// Serialises reloads so two callers do not read the whole store at once.
    reload: tokio::sync::Mutex<()>,
}

impl Access {
    pub fn new(snapshot: Snapshot) -> Self {
        Self {
            current: RwLock::new(Arc::new(snapshot)),
            reload: tokio::sync::Mutex::new(()),
        }
    }

    /// The snapshot requests decide against.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reloads if the store's generation differs from the snapshot's. Returns whether it did.
    pub async fn refresh(&self, store: &dyn Store, keyring: &Keyring) -> StoreResult<bool> {
        let _guard = self.reload.lock().await;
        let generation = store.access_generation().await?;
        if generation == self.snapshot().generation {
            return Ok(false);
        }
        let snapshot = load(store, keyring).await?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(snapshot);
        Ok(true)
    }
}

/// The stored form of a policy document: JSON, sealed with the keyring as the record
/// `(kind, id)`.
pub fn policy_record<T: Serialize>(
    keyring: &Keyring,
    kind: &str,
    id: &str,
    doc: &T,
) -> Result<PolicyRecord, CryptoError> {
    // Serialising plain strings, numbers and JSON values cannot fail.
    let json = zeroize::Zeroizing::new(serde_json::to_vec(doc).unwrap_or_default());
    crate::integrity::seal_policy(keyring, kind, id, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &str = "Microsoft.KeyVault/vaults/secrets/getSecret/action";

    #[test]
    fn denial_message_names_caller_action_and_resource() {
        let s = Snapshot::default();
        let db = Scope::object("prod", "secrets", "db");
        let d = decide(&s, "oid", GET, &db);
        let caller = Caller {
            object_id: "oid".into(),
            client_id: "cid".into(),
            credential: "s:x".into(),
            expires: 0,
        };
        let crate::error::ApiError::Forbidden { message, inner } =
            rbac_denial(&d, &caller, "https://localhost/t/v2.0", Some("prod"))
        else {
            panic!("not forbidden");
        };
        assert_eq!(inner, Some("ForbiddenByRbac"));
        assert!(message.contains("Caller: appid=cid;oid=oid;iss=https://localhost/t/v2.0"));
        assert!(message.contains(&format!("Action: '{GET}'")));
        assert!(message.contains("Resource: '/vaults/prod/secrets/db'"));
        assert!(message.contains("Vault: prod;location=arca"));
    }
}
