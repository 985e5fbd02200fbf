//! Fuzz target: the Key Vault JSON request bodies (`SecretSetParameters`,
//! `SecretUpdateParameters`, the restore `BackupBlob`) through the data plane's one body parser
//! (`arca_server::fuzzing::json_body`, which is `dataplane::parse_json`). Input: a request body.
//!
//! Properties: never panics; only a JSON object is accepted; a backup blob body that parses
//! writes itself out to a body that parses to the same value.
#![no_main]

use arca_proto::secrets::{BackupBlob, SecretSetParameters, SecretUpdateParameters};
use arca_server::fuzzing::json_body as parse_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let is_object = data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let set = parse_json::<SecretSetParameters>(data);
    let update = parse_json::<SecretUpdateParameters>(data);
    if set.is_ok() || update.is_ok() {
        assert!(is_object, "only objects are bodies");
    }
    if let Ok(set) = set {
        // The redacted Debug never shows the value.
        let shown = format!("{set:?}");
        assert!(shown.contains("REDACTED"));
    }
    if let Ok(blob) = parse_json::<BackupBlob>(data) {
        assert!(is_object, "only objects are bodies");
        let written = serde_json::to_vec(&blob).expect("a blob serializes");
        let again: BackupBlob = parse_json(&written).expect("our output parses");
        assert_eq!(again.value, blob.value);
    }
});
