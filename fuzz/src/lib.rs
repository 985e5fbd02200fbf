//! Fixtures shared by the fuzz targets: a fixed test deployment's keyring, a second keyring with
//! the same key ids (the "wrong key"), a token signing key and a CA key, all read from
//! `fuzz/fixtures/` (written by the `arca-fuzz-seeds` generator, test material only), so a crash
//! found once reproduces on any machine and the seed corpora's sealed records open.
//!
//! Nothing here is a production key; none of it may be used outside the fuzz targets.

use std::sync::OnceLock;

use arca_crypto::{Kek, Keyring, SecretBytes, TokenSigningKey, VerifyingKey};

/// The fixed key-encryption key the fixtures' root key is sealed under.
pub const FIXTURE_KEK: [u8; 32] = [0x5a; 32];

const ROOT_KEY: &[u8] = include_bytes!("../fixtures/root-key.sealed");
const KEYRING: &[u8] = include_bytes!("../fixtures/keyring.sealed");
const OTHER_KEYRING: &[u8] = include_bytes!("../fixtures/other-keyring.sealed");
const SIGNING_KEY: &[u8] = include_bytes!("../fixtures/signing-key.pkcs8");
const CA_KEY: &[u8] = include_bytes!("../fixtures/ca-key.pkcs8");

/// The fixed test deployment's keys, opened once per process.
pub struct Fixtures {
    /// The keyring the seed corpora are sealed with; data keys 1 and 2, 2 active.
    pub keyring: Keyring,
    /// Another deployment's keyring with the same key ids: opening with it must always fail.
    pub other_keyring: Keyring,
    /// The fixed token signing key (ES256).
    pub signing_key: TokenSigningKey,
    /// Its verifying key, as the token check holds it.
    pub verifying_key: VerifyingKey,
    /// The CA key the `der_certificate` seeds' CA certificate belongs to (PKCS#8).
    pub ca_key: SecretBytes,
}

/// The fixtures; a fuzz target that cannot load them fails at once rather than fuzz nothing.
#[allow(clippy::panic)]
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| match load() {
        Ok(f) => f,
        Err(e) => panic!("the fuzz fixtures do not load ({e}); run scripts/fuzz-seeds"),
    })
}

fn load() -> Result<Fixtures, arca_crypto::CryptoError> {
    let kek = Kek::from_bytes(&FIXTURE_KEK)?;
    let root = kek.open_root_key(ROOT_KEY)?;
    let signing_key = TokenSigningKey::from_pkcs8(SIGNING_KEY)?;
    Ok(Fixtures {
        keyring: Keyring::open_with(&root, KEYRING)?,
        other_keyring: Keyring::open_with(&root, OTHER_KEYRING)?,
        verifying_key: signing_key.verifying_key(),
        signing_key,
        ca_key: SecretBytes::from_slice(CA_KEY),
    })
}

/// Splits fuzz input into a length-prefixed head (first byte = its length, capped by what is
/// there) and the rest: how the targets that take two inputs read one byte string.
pub fn split_prefixed(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((&len, rest)) = data.split_first() else {
        return (&[], &[]);
    };
    rest.split_at(usize::from(len).min(rest.len()))
}
