//! Wire types: the JSON bodies of the Key Vault secrets, keys and certificates APIs, the error
//! envelope and the list of accepted api-versions; the admin API's bodies and the
//! `bootstrap.json` document (`admin`); the token issuer's answers (`identity`).
//!
//! Serde only (and `zeroize`, so a secret value a client sends is wiped however parsing ends, and
//! `subtle` for the constant-time equality of `SecretText`); no behaviour. Field names and shapes
//! of the Key Vault bodies follow the 2026-04-01 swaggers (`shared/spec/keyvault/2026-04-01/`
//! `secrets.json`, `keys.json`, `certificates.json`); the admin bodies follow
//! `docs/admin-api.md`. Timestamps are integer Unix seconds.

pub mod admin;
pub mod api_version;
pub mod certificates;
pub mod error;
pub mod identity;
pub mod keys;
pub mod secret_text;
pub mod secrets;

pub use api_version::{is_supported_api_version, SUPPORTED_API_VERSIONS};
pub use error::{ErrorBody, ErrorDetail, InnerError};
pub use secret_text::SecretText;
