//! Fuzz target: `Keyring::open_backup` of arbitrary bytes (a restore request's blob, after
//! base64url) with the fixed test keyring, and the backup document inside when it opens.
//! Input: a length-prefixed object kind (`secret`), then the blob.
//!
//! Properties: never panics; another deployment's keyring never opens a blob; a blob made for
//! one kind does not open as another; what `seal_backup` makes opens to the same plaintext.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixtures = arca_fuzz::fixtures();
    let (kind, blob) = arca_fuzz::split_prefixed(data);
    let Ok(kind) = std::str::from_utf8(kind) else {
        return;
    };
    if let Ok(plain) = fixtures.keyring.open_backup(kind, blob) {
        assert!(fixtures.other_keyring.open_backup(kind, blob).is_err());
        let other_kind = format!("{kind}x");
        assert!(fixtures.keyring.open_backup(&other_kind, blob).is_err());
        let _ = arca_server::fuzzing::backup_document(plain.expose());
    }
    let sealed = fixtures
        .keyring
        .seal_backup(kind, blob)
        .expect("sealing works");
    let opened = fixtures
        .keyring
        .open_backup(kind, &sealed)
        .expect("it opens");
    assert!(opened.expose() == blob);
    assert!(fixtures.other_keyring.open_backup(kind, &sealed).is_err());
    // Restore reads the blob from base64url; every blob survives the trip.
    let text = arca_server::b64url(blob);
    assert_eq!(arca_server::b64url_decode(&text).as_deref(), Some(blob));
});
