//! [`ClientError`]: what can go wrong between reading `bootstrap.json` and reading an answer.
//! Messages name files, hosts and the server's error code and message, never a secret.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The bootstrap file cannot be read.
    #[error("cannot read {path} (is the server initialised?)")]
    ReadBootstrap {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The bootstrap file is not one.
    #[error("{path} is not a bootstrap file")]
    ParseBootstrap {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// No usable credentials (the environment and the bootstrap file disagree or lack them).
    #[error("{0}")]
    Credentials(&'static str),
    /// An environment variable that is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    Environment(&'static str),
    /// A name or id that cannot be one path segment, or a bad value in the bootstrap file.
    #[error("{0}")]
    Invalid(String),
    /// The CA certificate cannot be read.
    #[error("cannot read the CA certificate {path}")]
    ReadCa {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The CA certificate is not a PEM certificate rustls accepts.
    #[error("bad CA certificate")]
    BadCa(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The TLS configuration cannot be built.
    #[error(transparent)]
    Tls(#[from] rustls::Error),
    /// No TCP connection to the server.
    #[error("cannot connect to {target} (is arca serve running?)")]
    Connect {
        target: String,
        #[source]
        source: std::io::Error,
    },
    /// The TLS handshake failed (an untrusted certificate, a wrong host name).
    #[error("TLS handshake failed")]
    Handshake(#[source] std::io::Error),
    /// HTTP failed on an open connection.
    #[error(transparent)]
    Http(#[from] hyper::Error),
    /// A request that cannot be built.
    #[error(transparent)]
    Request(#[from] http::Error),
    /// The server answered the challenge probe with neither a challenge nor an error.
    #[error("the server sent no authentication challenge")]
    NoChallenge,
    /// The challenge names no resource to ask a token for.
    #[error("the challenge names no resource")]
    NoResource,
    /// The token endpoint refused the credentials; `body` is its OAuth error answer.
    #[error("the token request was refused ({status}): {body}")]
    TokenRefused { status: StatusCode, body: String },
    /// An answer of the expected status whose body is not the expected type.
    #[error("bad {what}")]
    Decode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A request body that cannot be encoded.
    #[error("cannot encode the {what}")]
    Encode { what: &'static str },
    /// The admin API refused the request with its error envelope.
    #[error("{code}: {message}")]
    Api {
        status: StatusCode,
        code: String,
        message: String,
        inner: Option<String>,
    },
    /// An unexpected status without an error envelope.
    #[error("the server answered {status}")]
    Status { status: StatusCode },
}

impl ClientError {
    /// The HTTP status of a refusal by the server, if this is one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } | Self::Status { status } => Some(*status),
            Self::TokenRefused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error code (and inner code) of the admin API's error envelope, if this is one.
    pub fn code(&self) -> Option<(&str, Option<&str>)> {
        match self {
            Self::Api { code, inner, .. } => Some((code, inner.as_deref())),
            _ => None,
        }
    }

    /// The error of an answer whose status is not the expected one: the envelope's code and
    /// message when the body is one.
    pub(crate) fn refusal(status: StatusCode, body: &[u8]) -> Self {
        match serde_json::from_slice::<arca_proto::ErrorBody>(body) {
            Ok(envelope) => Self::Api {
                status,
                code: envelope.error.code,
                message: envelope.error.message,
                inner: envelope.error.inner_error.map(|i| i.code),
            },
            Err(_) => Self::Status { status },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_the_envelope() {
        let e = ClientError::refusal(
            StatusCode::CONFLICT,
            br#"{"error":{"code":"Conflict","message":"Vault x already exists.","innererror":{"code":"X"}}}"#,
        );
        assert_eq!(e.to_string(), "Conflict: Vault x already exists.");
        assert_eq!(e.status(), Some(StatusCode::CONFLICT));
        assert_eq!(e.code(), Some(("Conflict", Some("X"))));
        let e = ClientError::refusal(StatusCode::BAD_GATEWAY, b"<html>");
        assert_eq!(e.to_string(), "the server answered 502 Bad Gateway");
        assert_eq!(e.code(), None);
        let e = ClientError::refusal(StatusCode::OK, b"");
        assert_eq!(e.to_string(), "the server answered 200 OK");
    }
}
