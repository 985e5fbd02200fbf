//! What every data-plane handler of one request shares ([`Ctx`]), and the one way a handler gets
//! permission to act: [`Ctx::authorize`], which asks `access::decide` about an [`Operation`] and
//! returns the [`Authorized`] proof every engine operation demands. The decision, allowed or not,
//! is kept with the operation in the request's notes (`crate::request_log`) for the log line and
//! the audit record.

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
