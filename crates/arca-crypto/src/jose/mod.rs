//! JOSE: JSON Web Keys, JSON Web Signatures and the tokens Arca issues and accepts.
//!
//! Holds public JWKs and JWK sets of other parties ([`jwk`]), verification of externally signed
//! JWS such as client assertions and federated tokens ([`jws`]), and Arca's own ES256 access
//! tokens: the signing key and verification ([`jwt`]).
//!
//! Must not: read the clock (callers pass the time and check `exp`/`nbf` themselves), fetch keys
//! over the network, accept `none` or HMAC algorithms from outside, or let an algorithm be chosen
//! independently of the key's type. Customer key operations (sign/verify over a digest for the
//! keys API) belong in [`crate::keys`], not here.

pub(crate) mod jwk;
pub(crate) mod jws;
pub(crate) mod jwt;
