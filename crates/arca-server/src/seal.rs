//! Sealing of the deployment's own secrets (token signing key, CA key, server key, identity
//! header) with the keyring, random ids, and the deployment flags kept in the keyring.
//!
//! A leaf of the server: it depends on crypto only, so start-up (`bootstrap`), the signing keys
//! (`identity::keys`) and the upgrade (`upgrade`) share it without depending on one another.

use arca_crypto::{record_aad, CryptoError, Keyring, SecretBytes};

use crate::start_error::StartError;

/// The metadata marker by which builds before authenticated records remembered that the
/// bootstrap administrator was assigned; read once, by the upgrade.
pub(crate) const BOOTSTRAP_ADMIN_MARKER: &str = "bootstrap_administrator_assigned";
/// Keyring flag: the bootstrap principal has been given Key Vault Administrator at `/` (so it is
/// never given it again, even if someone deletes the assignment or rewrites the database).
pub(crate) const FLAG_BOOTSTRAP_ADMINISTRATOR: u32 = 1 << 2;

/// Seals and opens deployment secrets (signing key, CA key, ...) with the keyring.
pub(crate) struct Sealer<'k>(pub(crate) &'k Keyring);

impl Sealer<'_> {
    fn aad(item: &str) -> Vec<u8> {
        record_aad("", "deployment", item, "", "sealed")
    }

    pub(crate) fn seal(&self, item: &str, bytes: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0.seal(&Self::aad(item), bytes)
    }

    pub(crate) fn open(&self, item: &str, bytes: &[u8]) -> Result<SecretBytes, StartError> {
        self.0
            .open(&Self::aad(item), bytes)
            .map_err(|_| StartError::SealedItem {
                item: item.to_owned(),
            })
    }
}

/// Formats 16 random bytes as a version-4 UUID.
pub(crate) fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

pub(crate) fn new_uuid() -> Result<String, CryptoError> {
    Ok(uuid_v4(arca_crypto::random_bytes::<16>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_version_and_variant_bits() {
        let u = uuid_v4([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(u.len(), 36);
    }
}
