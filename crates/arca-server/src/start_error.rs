//! Why start-up failed, or the upkeep of what start-up made (the signing keys, the identity
//! header, the access snapshot): the one error type of `run`, `bootstrap`, `storage`,
//! `listener::tls_config`, `process`, `upgrade` and `identity::keys`.
//!
//! A leaf: it names other crates' errors only. Each variant says what failed and where (a path,
//! a setting's name, a metadata key), never a secret, a key, a token or the `storage` setting's
//! value. The cause, when there is one, is the error's `source`, so a report that walks the
//! chain (`anyhow`'s `{:#}`) reads "what failed: why".

use std::net::SocketAddr;
use std::path::PathBuf;

use arca_crypto::CryptoError;
use arca_store::StoreError;
use thiserror::Error;

/// Why start-up, or the upkeep of what it made, failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StartError {
    /// The process could not be made non-dumpable.
    #[error("cannot make the process non-dumpable (PR_SET_DUMPABLE)")]
    NotDumpable(#[source] rustix::io::Errno),
    /// The core file size limit could not be set to 0.
    #[error("cannot set the core file size limit to 0")]
    CoreLimit(#[source] rustix::io::Errno),
    /// The connection limits do not fit the process (the text names the setting and why).
    #[error("configuration: {0}")]
    Limits(String),
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The bound listener's own address could not be read.
    #[error("cannot read the listening address")]
    LocalAddr(#[source] std::io::Error),
    /// The data directory could not be created.
    #[error("cannot create the data directory {}", .path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A path could not be made absolute.
    #[error("cannot resolve the path {}", .path.display())]
    Absolute {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be created.
    #[error("cannot create {}", .path.display())]
    CreateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error("cannot read {}", .path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}", .path.display())]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A JSON file of the data directory (`bootstrap.json`) does not parse.
    #[error("{} does not parse", .path.display())]
    FileDoesNotParse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The embedded database could not be opened.
    #[error("cannot open the database {}", .path.display())]
    Database {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
    /// The data directory is initialised but its key file is gone.
    #[error(
        "the key file {} is missing; it seals the root key of {} and is required to open it",
        .key_file.display(),
        .data_dir.display()
    )]
    KeyFileMissing {
        key_file: PathBuf,
        data_dir: PathBuf,
    },
    /// The key file could not be created or read.
    #[error("key file {}", .path.display())]
    KeyFile {
        path: PathBuf,
        #[source]
        source: CryptoError,
    },
    /// The key file is not the one that sealed this data directory's root key.
    #[error("the key file {} does not open this data directory's root key", .path.display())]
    WrongKeyFile { path: PathBuf },
    /// The stored keyring does not open with the root key.
    #[error("the keyring does not open")]
    KeyringDoesNotOpen,
    /// The stored keyring disappeared while start-up used it.
    #[error("the keyring vanished")]
    KeyringVanished,
    /// The keyring record predates records it sealed (it was replaced with an older copy).
    #[error(
        "the keyring record is older than the records it sealed; refusing to start (restore the \
         database from a consistent backup)"
    )]
    KeyringOlder,
    /// A metadata entry written with `put_meta_if_absent` could not be read back.
    #[error("metadata {key} vanished after it was written")]
    MetaVanished { key: String },
    /// A stored value that must be UTF-8 text is not (the text names which).
    #[error("the {0} is not text")]
    NotText(&'static str),
    /// A sealed deployment secret (named by its sealing label) does not open.
    #[error("sealed {item} does not open")]
    SealedItem { item: String },
    /// The client-secret hash of the bootstrap principal did not finish.
    #[error("the client-secret hash did not finish")]
    HashUnfinished,
    /// A managed-identity setting names a client id no principal has.
    #[error("{setting} names {client_id}, which is not the client id of any principal")]
    UnknownPrincipal {
        setting: &'static str,
        client_id: String,
    },
    /// The bootstrap principal is not stored.
    #[error("the bootstrap principal is missing")]
    BootstrapPrincipalMissing,
    /// The bootstrap principal could not be made a service principal.
    #[error("cannot update the bootstrap principal: {0}")]
    BootstrapPrincipalUpdate(String),
    /// The stored local CA record does not parse.
    #[error("the deployment's issuing CA: {0}")]
    IssuingCa(String),

    #[error("stored CA does not parse")]
    CaDoesNotParse(#[source] serde_json::Error),
    /// The stored local CA's sealed key is not base64url.
    #[error("stored CA key does not parse")]
    CaKeyDoesNotParse,
    /// The stored CA certificate does not belong to its sealed key.
    #[error("the stored CA certificate does not match its sealed key (database altered?)")]
    CaMismatch,
    /// The signing-keys document does not verify.
    #[error("the signing-keys document does not verify")]
    SigningKeysUnverified,
    /// Neither the signing-keys document nor the first key is stored.
    #[error("no token signing key is stored")]
    NoSigningKey,
    /// A stored signing key is not base64url.
    #[error("a stored signing key does not decode")]
    SigningKeyDoesNotDecode,
    /// No stored signing key is active.
    #[error("no active token signing key")]
    NoActiveSigningKey,
    /// The server certificate chain is not PEM.
    #[error("the server certificate chain does not parse")]
    CertificateChain,
    /// rustls refused the protocol versions.
    #[error("TLS protocol versions")]
    TlsVersions(#[source] rustls::Error),
    /// rustls refused the server certificate and key.
    #[error("the server certificate and key do not match")]
    TlsKey(#[source] rustls::Error),
    /// A challenge header could not be built from the deployment's URLs and tenant.
    #[error(transparent)]
    Header(#[from] axum::http::header::InvalidHeaderValue),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A record could not be encoded or decoded as JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}
