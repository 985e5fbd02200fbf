//! System randomness: every nonce, key, salt and serial number Arca draws comes from here.
//!
//! The bytes come from the crypto library's generator (aws-lc's, seeded from the operating
//! system). Nothing else in the crate should reach for another source of randomness.

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

use crate::CryptoError;

/// Fills `out` from the cryptographically secure generator.
pub(crate) fn fill(out: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| CryptoError::Random)
}

/// `N` bytes from the operating system's cryptographically secure generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

/// `n` bytes from the operating system's cryptographically secure generator.
pub fn random_vec(n: usize) -> Result<Vec<u8>, CryptoError> {
    let mut out = vec![0u8; n];
    fill(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_values_differ_and_have_the_requested_size() {
        let a = random_bytes::<32>().unwrap();
        let b = random_bytes::<32>().unwrap();
        assert_ne!(a, b);
        assert_eq!(random_vec(17).unwrap().len(), 17);
        assert!(random_vec(0).unwrap().is_empty());
        assert_ne!(random_vec(32).unwrap(), random_vec(32).unwrap());
    }
}
