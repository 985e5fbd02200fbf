//! The one place where failures become HTTP responses: a table from [`ApiError`] (and, through
//! it, the engine's kind-neutral [`EngineError`]) to status, Key Vault error code and inner code,
//! and one `IntoResponse` writing the Key Vault envelope. Per-kind codes (`SecretNotFound`,
//! `KeyNotFound`, `CertificateNotFound`, ...) come from the kind an [`EngineError`] names, so a
//! new object kind needs no new variant here.
//!
//! 5xx bodies carry a request id, never internals; the internal cause is logged where the error
//! is created.

use arca_core::ObjectKind;
use arca_engine::EngineError;
use arca_proto::ErrorBody;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Every failure a request can end in.
#[derive(Debug)]
pub enum ApiError {
    /// No or unusable credentials: 401 with the challenge header.
    Unauthorized {
        challenge: HeaderValue,
        message: &'static str,
    },
    /// Malformed request: 400 BadParameter.
    BadParameter(String),
    /// The body exceeds the size limit of the route: 413.
    BodyTooLarge {
        limit: usize,
    },
    /// An operation on a vault object failed in a way that depends on the object's kind: not
    /// found, deleted, disabled, conflict, purge-protected (see [`object_parts`]).
    Object(EngineError),
    /// The Host names a vault this deployment does not have.
    VaultNotFound(String),
    /// Any other missing admin resource.
    NotFound(String),
    /// A missing admin resource with its own code (`PrincipalNotFound`, `RoleNotFound`, ...).
    Missing {
        code: &'static str,
        message: String,
    },
    /// No route for the path.
    UnknownPath,
    MethodNotAllowed,
    /// 403 Forbidden with an optional inner code.
    Forbidden {
        message: String,
        inner: Option<&'static str>,
    },
    /// 409 Conflict with an optional inner code.
    Conflict {
        message: String,
        inner: Option<&'static str>,
    },
    /// The storage backend is unavailable: 503 with Retry-After.
    Unavailable,
    /// The request bodies held in memory already fill the body budget (`body_memory_mib`):
    /// 503 with Retry-After.
    Overloaded,
    /// The vault's throttling limit for the operation is reached (`crate::throttle`): 429
    /// `Throttled` with `Retry-After` in whole seconds.
    Throttled {
        retry_after: u32,
    },
    /// A bug or corrupt data: 500. The cause is logged, not returned.
    Internal,
}

impl From<EngineError> for ApiError {
    /// The engine's errors that do not depend on a kind map to their own variants; the others
    /// keep their kind for [`object_parts`].
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::VaultNotFound { vault } => ApiError::VaultNotFound(vault),
            EngineError::Invalid(message) => ApiError::BadParameter(message),
            EngineError::ReleaseRefused(message) => ApiError::Forbidden {
                message,
                inner: None,
            },
            EngineError::Unavailable => ApiError::Unavailable,
            EngineError::Internal => ApiError::Internal,
            other => ApiError::Object(other),
        }
    }
}

/// The words of a kind in Key Vault's codes and messages: (lower case, capitalized).
fn words(kind: ObjectKind) -> (&'static str, &'static str) {
    (kind.as_str(), arca_engine::objects::capitalized(kind))
}

/// Status, code and inner code of a kind-dependent engine error: the per-kind table.
fn object_parts(e: &EngineError) -> (StatusCode, &'static str, Option<&'static str>) {
    use EngineError::*;
    let not_found = |kind| match kind {
        ObjectKind::Secret => "SecretNotFound",
        ObjectKind::Key => "KeyNotFound",
        ObjectKind::Certificate => "CertificateNotFound",
    };
    match e {
        NotFound { kind, .. } | DeletedNotFound { kind, .. } => {
            (StatusCode::NOT_FOUND, not_found(*kind), None)
        }
        IssuerNotFound { .. } => (StatusCode::NOT_FOUND, "CertificateIssuerNotFound", None),
        PendingNotFound { .. } => (StatusCode::NOT_FOUND, "PendingCertificateNotFound", None),
        Disabled { kind, .. } => (
            StatusCode::FORBIDDEN,
            "Forbidden",
            Some(match kind {
                ObjectKind::Secret => "SecretDisabled",
                ObjectKind::Key => "KeyDisabled",
                ObjectKind::Certificate => "CertificateDisabled",
            }),
        ),
        // Only keys have permitted operations and a validity window that refuses use.
        NotPermitted { .. } => (
            StatusCode::FORBIDDEN,
            "Forbidden",
            Some("KeyOperationForbidden"),
        ),
        Managed { kind, .. } => (
            StatusCode::FORBIDDEN,
            "Forbidden",
            Some(match kind {
                ObjectKind::Secret => "SecretManagedByKeyVault",
                ObjectKind::Key => "KeyManagedByKeyVault",
                ObjectKind::Certificate => "CertificateManagedByKeyVault",
            }),
        ),
        Deleted { .. } => (
            StatusCode::CONFLICT,
            "Conflict",
            Some("ObjectIsDeletedButRecoverable"),
        ),
        Conflict { .. } => (StatusCode::CONFLICT, "Conflict", None),
        PurgeProtected { .. } => (StatusCode::FORBIDDEN, "Forbidden", None),
        // Mapped to their own variants by `From`; here only for completeness.
        VaultNotFound { .. } => (StatusCode::NOT_FOUND, "VaultNotFound", None),
        Invalid(_) => (StatusCode::BAD_REQUEST, "BadParameter", None),
        ReleaseRefused(_) => (StatusCode::FORBIDDEN, "Forbidden", None),
        Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", None),
        Internal => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError", None),
    }
}

/// The message of a kind-dependent engine error, in Key Vault's words.
fn object_message(e: &EngineError) -> String {
    use EngineError::*;
    match e {
        NotFound { kind, name } => format!(
            "A {} with (name/id) {name} was not found in this key vault. If you recently deleted this {} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
            words(*kind).0,
            words(*kind).0
        ),
        DeletedNotFound { kind, name } => format!("Deleted {} not found: {name}", words(*kind).1),
        IssuerNotFound { name } => format!("Issuer not found: {name}"),
        PendingNotFound { name } => format!("Pending certificate not found: {name}"),
        Managed { operation, .. } => format!(
            "Operation \"{operation}\" is not allowed as this object's lifetime is managed by Key Vault."
        ),
        Disabled { kind, operation } => format!(
            "Operation {operation} is not allowed on a disabled {}.",
            words(*kind).0
        ),
        NotPermitted { kind, operation, reason } => match reason {
            arca_engine::error::Refusal::NotAllowed => {
                format!("Operation {operation} is not permitted on this {}.", words(*kind).0)
            }
            arca_engine::error::Refusal::NotYetValid => format!(
                "Operation {operation} is not allowed on a {} that is not yet valid.",
                words(*kind).0
            ),
            arca_engine::error::Refusal::Expired => format!(
                "Operation {operation} is not allowed on an expired {}.",
                words(*kind).0
            ),
        },
        Deleted { kind, name } => format!(
            "{} {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the {} can only be recovered or purged.",
            words(*kind).1,
            words(*kind).0
        ),
        Conflict { message, .. } | Invalid(message) | ReleaseRefused(message) => message.clone(),
        PurgeProtected { .. } => "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.".into(),
        VaultNotFound { vault } => format!("Vault not found: {vault}"),
        Unavailable => "The service is temporarily unavailable; retry later.".into(),
        Internal => "The server encountered an internal error; the x-ms-request-id header identifies it in the server log.".into(),
    }
}

impl ApiError {
    /// Status, code and inner code: the mapping table.
    fn parts(&self) -> (StatusCode, &'static str, Option<&'static str>) {
        use ApiError::*;
        match self {
            Unauthorized { .. } => (StatusCode::UNAUTHORIZED, "Unauthorized", None),
            BadParameter(_) => (StatusCode::BAD_REQUEST, "BadParameter", None),
            BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "RequestBodyTooLarge", None),
            Object(e) => object_parts(e),
            VaultNotFound(_) => (StatusCode::NOT_FOUND, "VaultNotFound", None),
            NotFound(_) | UnknownPath => (StatusCode::NOT_FOUND, "NotFound", None),
            Missing { code, .. } => (StatusCode::NOT_FOUND, code, None),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", None),
            Forbidden { inner, .. } => (StatusCode::FORBIDDEN, "Forbidden", *inner),
            Conflict { inner, .. } => (StatusCode::CONFLICT, "Conflict", *inner),
            Unavailable | Overloaded => {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", None)
            }
            Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "Throttled", None),
            Internal => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError", None),
        }
    }

    fn message(&self) -> String {
        use ApiError::*;
        match self {
            Unauthorized { message, .. } => (*message).to_owned(),
            BadParameter(m) | NotFound(m) => m.clone(),
            BodyTooLarge { limit } => format!("The request body exceeds the limit of {limit} bytes."),
            Object(e) => object_message(e),
            VaultNotFound(name) => format!("Vault not found: {name}"),
            UnknownPath => "The requested path is not part of the Key Vault API.".into(),
            MethodNotAllowed => "The HTTP method is not allowed for this path.".into(),
            Forbidden { message, .. } | Conflict { message, .. } | Missing { message, .. } => {
                message.clone()
            }
            Unavailable => "The service is temporarily unavailable; retry later.".into(),
            Overloaded => {
                "The server is receiving too many request bodies at once; retry later.".into()
            }
            Throttled { .. } => "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached".into(),
            Internal => "The server encountered an internal error; the x-ms-request-id header identifies it in the server log.".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, inner) = self.parts();
        let body = ErrorBody::new(code, self.message(), inner);
        let mut response = (status, axum::Json(body)).into_response();
        match self {
            ApiError::Unauthorized { challenge, .. } => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge);
            }
            ApiError::Unavailable | ApiError::Overloaded => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Throttled { retry_after } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
            }
            _ => {}
        }
        response
    }
}

/// Storage and crypto failures outside the engine (admin, identity, start-up) map as the
/// engine maps them, logged once there.
impl From<arca_store::StoreError> for ApiError {
    fn from(e: arca_store::StoreError) -> Self {
        ApiError::from(EngineError::from(e))
    }
}

impl From<arca_crypto::CryptoError> for ApiError {
    fn from(e: arca_crypto::CryptoError) -> Self {
        ApiError::from(EngineError::from(e))
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_carries_retry_after_and_nothing_else_does() {
        for e in [ApiError::Unavailable, ApiError::Overloaded] {
            let r = e.into_response();
            assert_eq!(r.status(), 503);
            assert!(r.headers().contains_key(header::RETRY_AFTER));
        }
        let r = ApiError::BadParameter("x".into()).into_response();
        assert!(!r.headers().contains_key(header::RETRY_AFTER));
    }
}
