//! Backup blobs: one object's backup sealed under the deployment's keyring.
//!
//! A blob is `ARCA-BACKUP-1` followed by an ordinary keyring envelope whose associated data binds
//! the magic and the object kind, so a blob restores only into the same deployment and only as
//! the kind it was taken from, and a record envelope can never pass for a backup.

use super::keyring::encode_parts;
use crate::{CryptoError, Keyring, SecretBytes};

/// Domain tag of backup associated data.
const BACKUP_AAD_TAG: &[u8] = b"arca/backup/v1";
/// First bytes of every backup blob.
pub const BACKUP_MAGIC: &[u8] = b"ARCA-BACKUP-1";

impl Keyring {
    /// Seals one object's backup: `ARCA-BACKUP-1` followed by an envelope whose associated data
    /// binds the magic and `kind` (for example `secret`, `key` or `certificate`).
    pub fn seal_backup(&self, kind: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let envelope = self.seal(&backup_aad(kind), plaintext)?;
        let mut out = Vec::with_capacity(BACKUP_MAGIC.len() + envelope.len());
        out.extend_from_slice(BACKUP_MAGIC);
        out.extend_from_slice(&envelope);
        Ok(out)
    }

    /// Opens a blob from [`Keyring::seal_backup`]. Every failure, including a blob sealed by
    /// another deployment's keyring, is `Open`.
    pub fn open_backup(&self, kind: &str, blob: &[u8]) -> Result<SecretBytes, CryptoError> {
        let envelope = blob.strip_prefix(BACKUP_MAGIC).ok_or(CryptoError::Open)?;
        self.open(&backup_aad(kind), envelope)
            .map_err(|_| CryptoError::Open)
    }
}

fn backup_aad(kind: &str) -> Vec<u8> {
    encode_parts(&[BACKUP_AAD_TAG, BACKUP_MAGIC, kind.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aad() -> Vec<u8> {
        crate::seal::test_record_aad()
    }

    #[test]
    fn backups_open_only_with_the_right_kind_and_keyring() {
        let ring = Keyring::generate().unwrap();
        let blob = ring.seal_backup("secret", b"all versions").unwrap();
        assert!(blob.starts_with(b"ARCA-BACKUP-1"));
        assert_eq!(
            ring.open_backup("secret", &blob).unwrap().expose(),
            b"all versions"
        );
        assert!(matches!(
            ring.open_backup("key", &blob),
            Err(CryptoError::Open)
        ));

        let mut wrong_magic = blob.clone();
        wrong_magic[12] = b'2';
        assert!(matches!(
            ring.open_backup("secret", &wrong_magic),
            Err(CryptoError::Open)
        ));
        assert!(matches!(
            ring.open_backup("secret", &blob[BACKUP_MAGIC.len()..]),
            Err(CryptoError::Open)
        ));

        // A record envelope is not a backup, even with the magic put in front.
        let record = ring.seal(&aad(), b"x").unwrap();
        let mut disguised = BACKUP_MAGIC.to_vec();
        disguised.extend_from_slice(&record);
        assert!(matches!(
            ring.open_backup("secret", &disguised),
            Err(CryptoError::Open)
        ));

        let other_deployment = Keyring::generate().unwrap();
        assert!(matches!(
            other_deployment.open_backup("secret", &blob),
            Err(CryptoError::Open)
        ));
        let mut rotated_other = Keyring::generate().unwrap();
        rotated_other.rotate().unwrap();
        let foreign = rotated_other.seal_backup("secret", b"x").unwrap();
        assert!(matches!(
            ring.open_backup("secret", &foreign),
            Err(CryptoError::Open)
        ));

        for i in 0..blob.len() {
            let mut tampered = blob.clone();
            tampered[i] ^= 0x10;
            assert!(
                matches!(
                    ring.open_backup("secret", &tampered),
                    Err(CryptoError::Open)
                ),
                "{i}"
            );
        }
    }
}
