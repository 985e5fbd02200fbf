//! Fuzz target: the JSON document inside a secret's backup blob, as restore parses it once the
//! blob has opened (`arca_server::fuzzing::backup_document`; the parse lives in the server's
//! secrets service today). Input: the document's bytes.
//!
//! Properties: never panics; a document that parses writes itself out again, and that output
//! parses to the same output (serialization is a fixed point).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(written) = arca_server::fuzzing::backup_document(data) {
        let again = arca_server::fuzzing::backup_document(&written).expect("our output parses");
        assert!(*again == *written, "serialization is a fixed point");
    }
});
