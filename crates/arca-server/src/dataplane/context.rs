//! What every data-plane handler of one request shares ([`Ctx`]), and the one way a handler gets
//! permission to act: [`Ctx::authorize`], which asks `access::decide` about an [`Operation`] and
//! returns the [`Authorized`] proof every engine operation demands. The decision, allowed or not,
//! is kept with the operation in the request's notes (`crate::request_log`) for the log line and
//! the audit record. An authorized operation is then admitted by the vault's throttling
//! (`crate::throttle`) or refused with 429; [`Ctx::key_seen`] charges a key operation the rest of
//! its key's weight once the engine's answer names the key.

use arca_core::authz::{Authorized, Scope};
use arca_core::{ObjectName, Operation, Target, VersionId};
use arca_store::VaultRecord;
use serde::de::DeserializeOwned;

use super::{Origin, Query};
use crate::auth::caller::Caller;
use crate::body::{BodyBytes, Lease, Unread};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What every handler of one request shares.
pub(crate) struct Ctx<'a> {
    pub state: &'a AppState,
    pub vault: &'a VaultRecord,
    pub origin: Origin<'a>,
    pub query: Query<'a>,
    pub caller: &'a Caller,
    /// The access state the whole request is decided against.
    pub snapshot: &'a crate::access::Snapshot,
    /// What throttling admitted the request at (bucket and weight), once authorized.
    pub admitted: AdmittedAt,
}

/// What [`Ctx::authorize`] admitted: written once, read when the answer names a key. Atomic so
/// that `Ctx` stays `Sync` across the handler's awaits.
#[derive(Debug, Default)]
pub(crate) struct AdmittedAt(std::sync::atomic::AtomicU32);

impl AdmittedAt {
    fn set(&self, admission: Option<crate::throttle::Admission>) {
        let packed = admission.map_or(0, |a| {
            ((a.bucket.index() as u32 + 1) << 24) | a.weight.min(0x00ff_ffff)
        });
        self.0.store(packed, std::sync::atomic::Ordering::Relaxed);
    }

    fn get(&self) -> Option<crate::throttle::Admission> {
        let packed = self.0.load(std::sync::atomic::Ordering::Relaxed);
        let bucket =
            *arca_core::throttle::Bucket::ALL.get(((packed >> 24) as usize).checked_sub(1)?)?;
        Some(crate::throttle::Admission {
            bucket,
            weight: packed & 0x00ff_ffff,
        })
    }
}

impl Ctx<'_> {
    /// Asks the one decision point whether the caller may perform `operation` on the vault
    /// (operations decided at the vault) or on the object `name`. Runs before any storage access
    /// for the operation and before the body is read.
    pub(crate) fn authorize(
        &self,
        operation: Operation,
        name: Option<&ObjectName>,
    ) -> ApiResult<Authorized> {
        debug_assert_eq!(
            operation.target() == Target::Object,
            name.is_some(),
            "{operation:?} is authorized with the wrong target"
        );
        let resource = match (operation.target(), name) {
            (Target::Object, Some(n)) => {
                Scope::object(&self.vault.name, operation.kind().collection(), n.as_str())
            }
            _ => Scope::vault(&self.vault.name),
        };
        let action = operation.data_action();
        let decision =
            crate::access::decide(self.snapshot, &self.caller.object_id, action, &resource);
        crate::request_log::decided(operation, &decision);
        if let Some(proof) = Authorized::new(operation, &decision) {
            self.admit(operation, name)?;
            return Ok(proof);
        }
        tracing::info!(
            client_id = %self.caller.client_id,
            action,
            resource = %resource,
            reason = decision.reason,
            "request denied by role-based access control"
        );
        Err(crate::access::rbac_denial(
            &decision,
            self.caller,
            &self.state.issuer.issuer,
            Some(&self.vault.name),
        ))
    }

    /// Admits an authorized operation under the vault's throttling, or refuses it with 429.
    fn admit(&self, operation: Operation, name: Option<&ObjectName>) -> ApiResult<()> {
        let vault = self.vault.name.as_str();
        let caller = self.caller.object_id.as_str();
        let key = name.map(ObjectName::as_str);
        match self
            .state
            .throttle
            .admit(self.snapshot, vault, caller, operation, key)
        {
            Ok(admission) => {
                self.admitted.set(admission);
                Ok(())
            }
            Err(refusal) => {
                let limit = refusal.bucket.as_str();
                tracing::info!(
                    vault,
                    client_id = %self.caller.client_id,
                    limit,
                    fair_share = refusal.fair_share,
                    retry_after = refusal.retry_after,
                    "request throttled"
                );
                crate::request_log::refused(if refusal.fair_share {
                    "throttled: the caller's fair share of the vault's limit is used"
                } else {
                    "throttled: the vault's limit for this kind of request is reached"
                });
                Err(ApiError::Throttled {
                    retry_after: refusal.retry_after,
                })
            }
        }
    }

    /// Notes the key an answer names (`name`, public JWK `key`) for the vault's throttling: later
    /// operations on it are admitted at its weight, and this request is charged the rest of it.
    pub(crate) fn key_seen(&self, name: &str, key: &arca_proto::keys::JsonWebKey) {
        let class = crate::throttle::key_class(key);
        let caller = self.caller.object_id.as_str();
        let admitted = self.admitted.get();
        let throttle = &self.state.throttle;
        throttle.key_seen(&self.vault.name, caller, name, class, admitted);
    }

    /// Reads the request body through the body budget. Called only after [`Ctx::authorize`]
    /// allowed the operation, so a caller without the right holds no memory with a body.
    pub(crate) async fn read(&self, body: Unread) -> ApiResult<BodyBytes> {
        let limit = body.allowance();
        crate::body::read(&self.state.bodies, body, limit).await
    }

    /// Reads the body as [`Ctx::read`] does and parses it as JSON; the lease keeps the body's
    /// memory counted (and its bytes until they are wiped) while the parsed value is used.
    pub(crate) async fn read_json<T: DeserializeOwned>(
        &self,
        body: Unread,
    ) -> ApiResult<(T, Lease)> {
        let bytes = self.read(body).await?;
        let parsed = super::parse_json(&bytes);
        let lease = bytes.into_lease();
        parsed.map(|p| (p, lease))
    }
}

/// An object name from the path; 400 when it breaks Key Vault's name rules.
pub(crate) fn object_name(raw: &str) -> ApiResult<ObjectName> {
    ObjectName::parse(raw).map_err(|_| {
        let shown: String = raw.chars().take(130).collect();
        ApiError::BadParameter(format!("The request URI contains an invalid name: {shown}"))
    })
}

/// A version id from the path. An id that cannot exist is simply not found, as in Key Vault.
pub(crate) fn version_id(
    raw: &str,
    kind: arca_core::ObjectKind,
    name: &ObjectName,
) -> ApiResult<VersionId> {
    VersionId::parse(raw).map_err(|_| {
        ApiError::from(arca_engine::EngineError::NotFound {
            kind,
            name: format!("{}/{}", name.as_str(), raw),
        })
    })
}
