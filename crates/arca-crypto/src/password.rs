//! Hashing and verification of service-principal client secrets with Argon2id.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=7168,t=5,p=1$<salt>$<hash>`) with a random 128-bit
//! salt. The parameters are one of the OWASP Password Storage Cheat Sheet's equivalent Argon2id
//! configurations (7 MiB, 5 passes), chosen over 19 MiB / 2 passes because every verification
//! holds its memory at once and the server's peak memory matters; hashes made with other
//! parameters (such as the earlier 19 MiB ones) still verify. Verification accepts only Argon2id hashes whose
//! cost stays within a bound, so a tampered row cannot make one login burn gigabytes of memory.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::seal::random::random_bytes;
use crate::CryptoError;

/// Memory cost in KiB (OWASP: 7 MiB with 5 passes).
const M_COST_KIB: u32 = 7_168;
/// Iterations (OWASP: 5 with 7 MiB).
const T_COST: u32 = 5;
/// Parallelism.
const P_COST: u32 = 1;
/// Highest memory cost a stored hash may ask for during verification (256 MiB).
const MAX_VERIFY_M_COST_KIB: u32 = 262_144;
/// Highest iteration count a stored hash may ask for during verification.
const MAX_VERIFY_T_COST: u32 = 10;
/// Highest parallelism a stored hash may ask for during verification.
const MAX_VERIFY_P_COST: u32 = 4;

fn hasher() -> Result<Argon2<'static>, CryptoError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(|_| CryptoError::Hash)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a client secret into an Argon2id PHC string with a fresh random salt.
pub fn hash_client_secret(secret: &[u8]) -> Result<String, CryptoError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|_| CryptoError::Hash)?;
    let hash = hasher()?
        .hash_password(secret, &salt)
        .map_err(|_| CryptoError::Hash)?;
    Ok(hash.to_string())
}

/// Whether `candidate` matches the PHC string `phc`. False for a malformed string, another
/// algorithm, or excessive cost parameters. The final comparison is constant-time.
pub fn verify_client_secret(phc: &str, candidate: &[u8]) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    if hash.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    if params.m_cost() > MAX_VERIFY_M_COST_KIB
        || params.t_cost() > MAX_VERIFY_T_COST
        || params.p_cost() > MAX_VERIFY_P_COST
    {
        return false;
    }
    Argon2::default().verify_password(candidate, &hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_secret_verifies_and_wrong_does_not() {
        let phc = hash_client_secret(b"client-secret-1").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{phc}");
        assert!(verify_client_secret(&phc, b"client-secret-1"));
        assert!(!verify_client_secret(&phc, b"client-secret-2"));
        assert!(!verify_client_secret(&phc, b""));
    }

    #[test]
    fn two_hashes_of_one_secret_differ() {
        let a = hash_client_secret(b"same").unwrap();
        let b = hash_client_secret(b"same").unwrap();
        assert_ne!(a, b);
        assert!(verify_client_secret(&a, b"same"));
        assert!(verify_client_secret(&b, b"same"));
    }

    #[test]
    fn malformed_or_foreign_hashes_do_not_verify() {
        assert!(!verify_client_secret("", b"x"));
        assert!(!verify_client_secret("not a phc string", b"x"));
        let phc = hash_client_secret(b"x").unwrap();
        let argon2i = phc.replacen("$argon2id$", "$argon2i$", 1);
        assert!(!verify_client_secret(&argon2i, b"x"));
        let truncated = &phc[..phc.len() - 4];
        assert!(!verify_client_secret(truncated, b"x"));
    }

    #[test]
    fn excessive_cost_is_refused_without_hashing() {
        let phc = hash_client_secret(b"x").unwrap();
        let greedy = phc.replacen("m=7168", "m=4194304", 1);
        assert_ne!(greedy, phc);
        assert!(!verify_client_secret(&greedy, b"x"));
        let slow = phc.replacen("t=5", "t=1000", 1);
        assert_ne!(slow, phc);
        assert!(!verify_client_secret(&slow, b"x"));
    }

    #[test]
    fn hash_does_not_contain_the_secret() {
        let phc = hash_client_secret(b"plain-text-secret").unwrap();
        assert!(!phc.contains("plain-text-secret"));
    }
}
