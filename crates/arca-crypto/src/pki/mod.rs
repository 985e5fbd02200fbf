//! PKI: DER and PEM, X.509 certificates, the local certificate authority and TLS material.
//!
//! Holds a minimal DER reader/writer and PEM decoding (`der`), client certificates and the
//! parts of X.509 Arca reads (`x509`), the local CA and server certificates it issues (`ca`),
//! the one rustls crypto provider every TLS endpoint of Arca uses (`tls`), and the X.509
//! foundation of the certificates API ([`certs`]: make, read, verify and package certificates).
//!
//! Must not: validate certificate chains for TLS (rustls does that), read the clock (time is
//! passed in), or print private keys anywhere but into the PEM a caller asked for explicitly.

pub(crate) mod ca;
pub mod certs;
pub(crate) mod der;
pub(crate) mod tls;
pub(crate) mod x509;
