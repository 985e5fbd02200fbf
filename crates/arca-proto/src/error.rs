//! The Key Vault error envelope: `{"error":{"code":..,"message":..,"innererror":{"code":..}}}`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(
        rename = "innererror",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub inner_error: Option<InnerError>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InnerError {
    pub code: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>, inner: Option<&str>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                inner_error: inner.map(|c| InnerError { code: c.to_owned() }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_shape() {
        let body = ErrorBody::new("Forbidden", "no", Some("SecretDisabled"));
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"Forbidden","message":"no","innererror":{"code":"SecretDisabled"}}}"#
        );
        let plain = ErrorBody::new("BadParameter", "bad", None);
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"error":{"code":"BadParameter","message":"bad"}}"#
        );
    }
}
