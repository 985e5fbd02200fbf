//! Decisions for Arca's own background jobs, which act with no caller: a fixed table of the
//! jobs ([`Job`]) and the operations each may perform, and [`decide_job`], which decides for a
//! job the way [`super::decide`] decides for a principal. Its [`Decision`] names the job (as
//! its role and in its reason) and the one operation it was made for, so an allowing one turns
//! into an [`super::Authorized`] proof for that operation only, through the same
//! `Authorized::new` as a caller's.
//!
//! A job is allowed its own operations on any vault or object in a vault, never anything at the
//! deployment scope (`/`) and never another operation. Nothing here reads storage or the clock.

use super::{Decision, Scope};
use crate::operation::Operation;

/// A background job of Arca.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// Rotates keys whose rotation policy has a `Rotate` action due.
    KeyRotation,
    /// Renews certificates whose policy has an `AutoRenew` action due.
    CertificateRenewal,
    /// Purges soft-deleted objects at the end of their retention.
    Purger,
}

impl Job {
    /// Every job.
    pub const ALL: [Job; 3] = [Job::KeyRotation, Job::CertificateRenewal, Job::Purger];

    /// The job's name, as its decisions give it for the role (audit and logs).
    pub fn name(self) -> &'static str {
        match self {
            Job::KeyRotation => "Arca job: key rotation",
            Job::CertificateRenewal => "Arca job: certificate renewal",
            Job::Purger => "Arca job: purger",
        }
    }

    /// The lease the job holds while it runs, so that one replica at a time runs it.
    pub fn lease(self) -> &'static str {
        match self {
            Job::KeyRotation => "key-rotation",
            Job::CertificateRenewal => "certificate-renewal",
            Job::Purger => "purger",
        }
    }

    /// What the job may do: nothing else.
    pub fn operations(self) -> &'static [Operation] {
        use Operation::*;
        match self {
            // Finding keys (the listing gives each key's current version, so it reads no key
            // on its own), reading their rotation policies, and rotating.
            Job::KeyRotation => &[KeyList, KeyRotationPolicyGet, KeyRotate],
            // Finding certificates, reading their policies, and issuing a new version.
            Job::CertificateRenewal => &[CertificateList, CertificatePolicyGet, CertificateCreate],
            Job::Purger => &[SecretPurge, KeyPurge, CertificatePurge],
        }
    }

    /// The reason an allowing decision gives.
    fn granted(self) -> &'static str {
        match self {
            Job::KeyRotation => "granted to Arca's key rotation job by its fixed table",
            Job::CertificateRenewal => {
                "granted to Arca's certificate renewal job by its fixed table"
            }
            Job::Purger => "granted to Arca's purger job by its fixed table",
        }
    }
}

/// May `job` perform `operation` on `resource`? Allowed exactly when the operation is in the
/// job's table and the resource lies in a vault; the decision is about the operation's
/// dataAction and, unlike a principal's, about that one operation only.
pub fn decide_job(job: Job, operation: Operation, resource: &Scope) -> Decision<'_> {
    let mut decision = Decision {
        allowed: false,
        action: operation.data_action(),
        resource,
        assignment_id: None,
        role_name: Some(job.name()),
        assignment_scope: None,
        reason: "the operation is not one of the job's",
        operation: Some(operation),
    };
    if !job.operations().contains(&operation) {
        return decision;
    }
    if resource.vault_name().is_none() {
        decision.reason = "a job acts on vaults and their objects only";
        return decision;
    }
    decision.allowed = true;
    decision.reason = job.granted();
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::Authorized;
    use crate::operation::{Target, TABLE};

    fn resource_for(operation: Operation) -> Scope {
        match operation.target() {
            Target::Vault => Scope::vault("prod"),
            Target::Object => Scope::object("prod", operation.kind().collection(), "k"),
        }
    }

    #[test]
    fn each_job_is_allowed_exactly_its_operations() {
        let expected = |job: Job, op: Operation| match job {
            Job::KeyRotation => matches!(
                op,
                Operation::KeyList | Operation::KeyRotationPolicyGet | Operation::KeyRotate
            ),
            Job::CertificateRenewal => matches!(
                op,
                Operation::CertificateList
                    | Operation::CertificatePolicyGet
                    | Operation::CertificateCreate
            ),
            Job::Purger => matches!(
                op,
                Operation::SecretPurge | Operation::KeyPurge | Operation::CertificatePurge
            ),
        };
        for job in Job::ALL {
            for row in TABLE {
                let op = row.operation;
                let resource = resource_for(op);
                let decision = decide_job(job, op, &resource);
                assert_eq!(decision.allowed, expected(job, op), "{job:?} {op:?}");
                assert_eq!(decision.role_name, Some(job.name()));
                assert_eq!(decision.action, op.data_action());
                assert_eq!(decision.assignment_id, None);
                // Another vault is as good; the deployment scope never.
                let other = match op.target() {
                    Target::Vault => Scope::vault("other"),
                    Target::Object => Scope::object("other", op.kind().collection(), "x"),
                };
                assert_eq!(decide_job(job, op, &other).allowed, expected(job, op));
                assert!(!decide_job(job, op, &Scope::root()).allowed);
            }
        }
    }

    #[test]
    fn a_jobs_decision_makes_a_proof_only_for_its_own_operation() {
        for job in Job::ALL {
            for row in TABLE {
                let op = row.operation;
                let resource = resource_for(op);
                let decision = decide_job(job, op, &resource);
                let proof = Authorized::new(op, &decision);
                assert_eq!(proof.is_some(), job.operations().contains(&op), "{op:?}");
                if let Some(proof) = proof {
                    assert!(proof.permits(op, &resource));
                }
                // Operations that share the dataAction (KeyGet and KeyGetDeleted are both
                // keys/read) get no proof from this decision.
                for other in TABLE.iter().map(|r| r.operation).filter(|&o| o != op) {
                    assert!(
                        Authorized::new(other, &decision).is_none(),
                        "{job:?}: a decision for {op:?} made a proof for {other:?}"
                    );
                }
            }
        }
    }
}
