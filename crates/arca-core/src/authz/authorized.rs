//! [`Authorized`]: the proof that one operation on one resource was allowed, which every
//! operation of the engine takes as an argument.
//!
//! The only constructor takes an allowing [`Decision`] for the operation's own dataAction, so an
//! operation cannot be called without deciding first (it does not compile), and a decision about
//! another action (or a refusal) cannot be turned into a proof. The proof names its resource;
//! the engine checks that it matches the object it acts on, so a proof for one object does not
//! open another. It carries what the audit record needs of the decision.

use super::{Decision, Scope};
use crate::operation::Operation;

/// Proof that `operation` on `resource` was allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    operation: Operation,
    resource: Scope,
}

impl Authorized {
    /// The proof for `operation`, if `decision` allowed its dataAction. `None` for a refusal, for
    /// a decision about any other action, and for a decision made for another operation (a
    /// job's decision names its operation).
    pub fn new(operation: Operation, decision: &Decision<'_>) -> Option<Self> {
        if !decision.allowed
            || decision.action != operation.data_action()
            || decision.operation.is_some_and(|op| op != operation)
        {
            return None;
        }
        Some(Authorized {
            operation,
            resource: decision.resource.clone(),
        })
    }

    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The resource the decision was about (a vault or one object), in canonical form.
    pub fn resource(&self) -> &Scope {
        &self.resource
    }

    /// Whether this proof allows `operation` on the object `name` of `vault` (of the operation's
    /// kind).
    pub fn permits_object(&self, operation: Operation, vault: &str, name: &str) -> bool {
        self.operation == operation
            && self
                .resource
                .is_object(vault, operation.kind().collection(), name)
    }

    /// Whether this proof allows `operation` on the vault `vault` as a whole.
    pub fn permits_vault(&self, operation: Operation, vault: &str) -> bool {
        self.operation == operation && self.resource.is_vault(vault)
    }

    /// Whether this proof allows `operation` on `resource`: the same operation, and the same
    /// resource (compared in canonical form).
    pub fn permits(&self, operation: Operation, resource: &Scope) -> bool {
        self.operation == operation && self.resource == *resource
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision<'a>(allowed: bool, action: &'a str, resource: &'a Scope) -> Decision<'a> {
        Decision {
            allowed,
            action,
            resource,
            assignment_id: allowed.then_some("a1"),
            role_name: allowed.then_some("Key Vault Secrets User"),
            assignment_scope: allowed.then_some("/vaults/prod"),
            reason: if allowed { "granted" } else { "refused" },
            operation: None,
        }
    }

    #[test]
    fn only_an_allowing_decision_for_the_operations_action_makes_a_proof() {
        let db = Scope::object("prod", "secrets", "db");
        let get = Operation::SecretGet.data_action();
        assert!(Authorized::new(Operation::SecretGet, &decision(false, get, &db)).is_none());
        let set = Operation::SecretSet.data_action();
        assert!(Authorized::new(Operation::SecretGet, &decision(true, set, &db)).is_none());
        let proof = Authorized::new(Operation::SecretGet, &decision(true, get, &db)).unwrap();
        assert!(proof.permits(
            Operation::SecretGet,
            &Scope::object("PROD", "secrets", "DB")
        ));
        assert!(!proof.permits(
            Operation::SecretGet,
            &Scope::object("prod", "secrets", "other")
        ));
        assert!(!proof.permits(Operation::SecretSet, &db));
        assert!(proof.permits_object(Operation::SecretGet, "Prod", "Db"));
        assert!(!proof.permits_object(Operation::KeyGet, "prod", "db"));
        assert!(!proof.permits_vault(Operation::SecretGet, "prod"));
    }
}
