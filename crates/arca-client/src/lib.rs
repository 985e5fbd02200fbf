//! A typed client of Arca's admin API (`docs/admin-api.md`), used by the `arca` CLI and by tests.
//!
//! It reads `bootstrap.json` ([`load_bootstrap`]), chooses the credentials to sign in with
//! ([`Credentials`]), trusts the deployment's CA, runs the bearer challenge handshake and asks
//! the token endpoint for a token ([`AdminClient::login`]), then makes admin calls whose bodies
//! and answers are the types of [`arca_proto::admin`]. Each call is a [`Request`], which says
//! its method, path, body and the status that means success, so a caller can also look at a
//! request without sending it. An answer other than that status becomes a [`ClientError`] (the
//! error envelope's code and message when the server sent one).
//!
//! One connection per request: these are interactive commands and tests, not a hot path. No
//! secret (client secret, token, a new secret in an answer) reaches an error message or `Debug`.

mod client;
mod credentials;
mod error;
mod request;

pub use client::AdminClient;
pub use credentials::{load_bootstrap, Credentials};
pub use error::ClientError;
pub use request::Request;
