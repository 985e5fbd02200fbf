//! The stored document of a principal: display name, kind, the slow hashes of its client secrets
//! and its registered client certificates.

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
/// on the managed-identity endpoints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    #[default]
    ServicePrincipal,
    ManagedIdentity,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ServicePrincipal => "service_principal",
            Self::ManagedIdentity => "managed_identity",
        }
    }
}

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

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}
