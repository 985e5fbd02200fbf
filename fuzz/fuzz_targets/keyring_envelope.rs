//! Fuzz target: opening sealed records (`Keyring::open`, `envelope_key_id`) and sealed keyrings
//! and root keys (`Keyring::open_with`, `Kek::open_root_key`): whoever writes the database
//! writes these bytes. Input: a length-prefixed associated data, then the envelope.
//!
//! Properties: never panics; an envelope opens only under a key id it names and the keyring
//! holds; the other deployment's keyring (same key ids) never opens it; what is sealed opens to
//! the same bytes under the same associated data and under no other.
#![no_main]

use arca_crypto::{envelope_key_id, CryptoError, Kek, Keyring};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixtures = arca_fuzz::fixtures();
    let (aad, envelope) = arca_fuzz::split_prefixed(data);
    match fixtures.keyring.open(aad, envelope) {
        Ok(_) => {
            let id = envelope_key_id(envelope).expect("an envelope that opens names its key");
            assert!(fixtures.keyring.key_ids().contains(&id));
            assert!(
                fixtures.other_keyring.open(aad, envelope).is_err(),
                "another deployment's keyring never opens it"
            );
        }
        Err(CryptoError::UnknownKey) => {
            let id = envelope_key_id(envelope).expect("unknown key means a key id was read");
            assert!(!fixtures.keyring.key_ids().contains(&id));
        }
        Err(_) => {}
    }
    // Round trip with the input as plaintext.
    let sealed = fixtures.keyring.seal(aad, envelope).expect("sealing works");
    let opened = fixtures
        .keyring
        .open(aad, &sealed)
        .expect("what is sealed opens");
    assert!(opened.expose() == envelope, "and opens to the same bytes");
    assert!(
        fixtures.other_keyring.open(aad, &sealed).is_err(),
        "not with the wrong keyring"
    );
    let mut other_aad = aad.to_vec();
    other_aad.push(0);
    assert!(
        fixtures.keyring.open(&other_aad, &sealed).is_err(),
        "not elsewhere"
    );
    // The same bytes as a sealed keyring or a sealed root key: the fixed KEK opens neither
    // unless they are the fixtures' own.
    if let Ok(kek) = Kek::from_bytes(&arca_fuzz::FIXTURE_KEK) {
        if let Ok(root) = kek.open_root_key(data) {
            let _ = Keyring::open_with(&root, envelope);
        }
    }
});
