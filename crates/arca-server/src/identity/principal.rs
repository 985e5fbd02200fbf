//! The stored document of a principal: display name and the slow hashes of its client secrets.

use serde::{Deserialize, Serialize};

/// One client secret of a principal, stored only as an Argon2id PHC string.
#[derive(Clone, Serialize, Deserialize)]
pub struct ClientSecretHash {
    pub id: String,
    pub hash: String,
    pub created: i64,
    #[serde(default)]
    pub expires: Option<i64>,
}

impl std::fmt::Debug for ClientSecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecretHash")
            .field("id", &self.id)
            .field("expires", &self.expires)
            .finish()
    }
}

/// The `data` document of a `PrincipalRecord`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrincipalData {
    pub display_name: String,
    #[serde(default)]
    pub secrets: Vec<ClientSecretHash>,
}

impl PrincipalData {
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}
