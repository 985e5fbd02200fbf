//! Fuzz target: object names, version ids and vault names from request paths and restored
//! backups (`arca_core::{ObjectName, VersionId, VaultName}::parse`). Input: one path segment.
//!
//! Properties: never panics; what parses is the input (the original spelling kept), parses
//! again to the same value, and an object name's storage key is its lower-case form.
#![no_main]

use arca_core::{ObjectName, VaultName, VersionId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(name) = ObjectName::parse(text) {
        assert_eq!(name.as_str(), text);
        assert_eq!(name.key(), text.to_ascii_lowercase());
        assert!(
            ObjectName::parse(name.key()).is_ok(),
            "the key is a name too"
        );
        assert_eq!(ObjectName::parse(name.as_str()).as_ref(), Ok(&name));
    }
    if let Ok(version) = VersionId::parse(text) {
        assert_eq!(VersionId::parse(version.as_str()).as_ref(), Ok(&version));
        assert!(version.as_str().eq_ignore_ascii_case(text));
    }
    if let Ok(vault) = VaultName::parse(text) {
        assert_eq!(VaultName::parse(vault.as_str()).as_ref(), Ok(&vault));
        assert!(vault.as_str().eq_ignore_ascii_case(text));
    }
});
