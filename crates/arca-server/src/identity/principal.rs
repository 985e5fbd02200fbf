//! The stored document of a principal: display name, kind, the slow hashes of its client secrets
//! and its registered client certificates.

use arca_crypto::{CryptoError, Keyring};
use arca_store::PrincipalRecord;
use serde::{Deserialize, Serialize};

/// Most client secrets, certificates and federated credentials per principal.
pub const MAX_SECRETS: usize = 16;
pub const MAX_CERTIFICATES: usize = 16;
pub const MAX_FEDERATIONS: usize = 20;
/// Longest display name and secret description.
pub const MAX_DISPLAY_NAME_LEN: usize = 128;
pub const MAX_DESCRIPTION_LEN: usize = 256;

/// One client secret of a principal, stored only as an Argon2id PHC string.
#[derive(Clone, Serialize, Deserialize)]
pub struct ClientSecretHash {
    pub id: String,
    pub hash: String,
    pub created: i64,
    #[serde(default)]
    pub expires: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
    /// The first three characters of the secret, shown to tell secrets apart, as Entra does.
    #[serde(default)]
    pub hint: String,
}

impl std::fmt::Debug for ClientSecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecretHash")
            .field("id", &self.id)
            .field("expires", &self.expires)
            .finish()
    }
}

/// A registered client certificate (public part only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateEntry {
    /// SHA-1 thumbprint, upper-case hex: the id Entra shows.
    pub id: String,
    pub thumbprint_sha256: String,
    pub subject: String,
    pub not_before: i64,
    pub not_after: i64,
    pub added: i64,
    /// The DER certificate, base64 (standard alphabet).
    pub der: String,
}

/// Service principal or managed identity. Managed identities can also be selected by client id
/// on the managed-identity endpoints. The stored kind is the admin API's: the same two
/// snake_case names in the sealed document as on the wire, so the one type serves both.
pub use arca_proto::admin::PrincipalKind;

/// The `data` document of a `PrincipalRecord`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrincipalData {
    pub display_name: String,
    #[serde(default)]
    pub kind: PrincipalKind,
    #[serde(default)]
    pub secrets: Vec<ClientSecretHash>,
    #[serde(default)]
    pub certificates: Vec<CertificateEntry>,
}

impl PrincipalData {
    /// A service principal without credentials.
    pub fn new(display_name: &str) -> Self {
        Self {
            display_name: display_name.to_owned(),
            kind: PrincipalKind::ServicePrincipal,
            secrets: Vec::new(),
            certificates: Vec::new(),
        }
    }

    /// Parses the plain JSON document (as stored before records were sealed; see `open`).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    /// The plain JSON document.
    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The stored `data` of the principal `(client_id, object_id, created)`: this document
    /// sealed with the keyring, bound to those three.
    pub fn seal(
        &self,
        keyring: &Keyring,
        client_id: &str,
        object_id: &str,
        created: i64,
    ) -> Result<Vec<u8>, CryptoError> {
        crate::integrity::seal_principal(keyring, client_id, object_id, created, &self.encode())
    }

    /// The document of a stored principal; `None` (reported at error level) if the record does
    /// not verify or does not parse, and the principal must then be treated as absent.
    pub fn open(keyring: &Keyring, record: &PrincipalRecord) -> Option<Self> {
        let plain = crate::integrity::open_principal(keyring, record)?;
        let decoded = Self::decode(plain.expose());
        if decoded.is_none() {
            tracing::error!(client_id = %record.client_id, "principal document does not parse");
        }
        decoded
    }
}
