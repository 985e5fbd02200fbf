//! Message digests for fingerprints, thumbprints and cache keys (not for passwords: see
//! [`crate::hash_client_secret`]).

use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA256};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

/// SHA-1 of `data`, for certificate thumbprints (`x5t`) only, never for a signature or a MAC.
pub(crate) fn sha1_thumbprint(data: &[u8]) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(digest(&SHA1_FOR_LEGACY_USE_ONLY, data).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_answers() {
        // FIPS 180-2 examples: "abc".
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha1_thumbprint(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
