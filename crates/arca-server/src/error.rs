//! The one place where failures become HTTP responses: a table from [`ApiError`] to status,
//! Key Vault error code and inner code, and one `IntoResponse` writing the Key Vault envelope.
//!
//! 5xx bodies carry a request id, never internals; the internal cause is logged where the error
//! is created.

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
    /// The named secret (or version) does not exist in the active state.
    SecretNotFound(String),
    /// The named deleted secret does not exist.
    DeletedSecretNotFound(String),
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
    /// A bug or corrupt data: 500. The cause is logged, not returned.
    Internal,
}

impl ApiError {
    pub fn disabled_secret() -> Self {
        ApiError::Forbidden {
            message: "Operation get is not allowed on a disabled secret.".into(),
            inner: Some("SecretDisabled"),
        }
    }

    pub fn deleted_but_recoverable(name: &str) -> Self {
        ApiError::Conflict {
            message: format!(
                "Secret {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged."
            ),
            inner: Some("ObjectIsDeletedButRecoverable"),
        }
    }

    /// Status, code and inner code: the mapping table.
    fn parts(&self) -> (StatusCode, &'static str, Option<&'static str>) {
        use ApiError::*;
        match self {
            Unauthorized { .. } => (StatusCode::UNAUTHORIZED, "Unauthorized", None),
            BadParameter(_) => (StatusCode::BAD_REQUEST, "BadParameter", None),
            BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "RequestBodyTooLarge", None),
            SecretNotFound(_) | DeletedSecretNotFound(_) => {
                (StatusCode::NOT_FOUND, "SecretNotFound", None)
            }
            VaultNotFound(_) => (StatusCode::NOT_FOUND, "VaultNotFound", None),
            NotFound(_) | UnknownPath => (StatusCode::NOT_FOUND, "NotFound", None),
            Missing { code, .. } => (StatusCode::NOT_FOUND, code, None),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", None),
            Forbidden { inner, .. } => (StatusCode::FORBIDDEN, "Forbidden", *inner),
            Conflict { inner, .. } => (StatusCode::CONFLICT, "Conflict", *inner),
            Unavailable | Overloaded => {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", None)
            }
            Internal => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError", None),
        }
    }

    fn message(&self) -> String {
        use ApiError::*;
        match self {
            Unauthorized { message, .. } => (*message).to_owned(),
            BadParameter(m) | NotFound(m) => m.clone(),
            BodyTooLarge { limit } => format!("The request body exceeds the limit of {limit} bytes."),
            SecretNotFound(name) => format!(
                "A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
            ),
            DeletedSecretNotFound(name) => format!("Deleted Secret not found: {name}"),
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
            _ => {}
        }
        response
    }
}

impl From<arca_store::StoreError> for ApiError {
    fn from(e: arca_store::StoreError) -> Self {
        use arca_store::StoreError;
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "storage unavailable");
                ApiError::Unavailable
            }
            StoreError::Invalid(limit) => ApiError::BadParameter(limit),
            other => {
                tracing::error!(error = %other, "unexpected storage outcome");
                ApiError::Internal
            }
        }
    }
}

impl From<arca_crypto::CryptoError> for ApiError {
    fn from(e: arca_crypto::CryptoError) -> Self {
        tracing::error!(error = %e, "cryptographic failure on stored data");
        ApiError::Internal
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

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
