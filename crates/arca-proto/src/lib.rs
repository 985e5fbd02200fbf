//! Key Vault wire types: the JSON bodies of the secrets API, the error envelope and the list of
//! accepted api-versions.
//!
//! Serde only (and `zeroize`, so a secret value a client sends is wiped however parsing ends); no
//! behaviour. Field names and shapes follow the 2026-04-01 secrets swagger
//! (`shared/spec/keyvault/2026-04-01/secrets.json`). Timestamps are integer Unix seconds.

pub mod api_version;
pub mod error;
pub mod secrets;

pub use api_version::{is_supported_api_version, SUPPORTED_API_VERSIONS};
pub use error::{ErrorBody, ErrorDetail, InnerError};
