//! Fuzz target: the token endpoint's form body and `Authorization: Basic` parsers
//! (`arca_server::fuzzing::{token_form, basic_credentials}`). Input: a form body, or, when the
//! first byte is 0x01, an Authorization header value.
//!
//! Properties: never panics; the form parser agrees with the WHATWG parser (`form_urlencoded`)
//! whenever it accepts; accepted Basic credentials are within their limits and their canonical
//! encoding parses back to the same pair; a refusal is a 401.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&1, header)) = data.split_first() {
        match arca_server::fuzzing::basic_credentials(header) {
            Ok(Some((id, secret))) => {
                assert!((1..=128).contains(&id.len()));
                assert!((1..=1024).contains(&secret.len()));
                let encoded: String = form_urlencoded::byte_serialize(id.as_bytes())
                    .collect::<String>()
                    + ":"
                    + &form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
                let value = format!("Basic {}", STANDARD.encode(encoded));
                let again = arca_server::fuzzing::basic_credentials(value.as_bytes());
                let Ok(Some((id2, secret2))) = again else {
                    panic!("canonical Basic credentials are accepted");
                };
                assert!(id2 == id && secret2 == secret, "and read the same");
            }
            Ok(None) => {}
            Err(status) => assert_eq!(status, 401),
        }
        return;
    }
    if let Some(form) = arca_server::fuzzing::token_form(data) {
        let whatwg: Vec<_> = form_urlencoded::parse(data).collect();
        assert_eq!(
            form.len(),
            whatwg.len(),
            "as many fields as WHATWG parsing finds"
        );
        for ((name, value), (n, v)) in form.iter().zip(&whatwg) {
            assert!(
                name.as_str() == n && value.as_str() == v,
                "and the same fields"
            );
        }
    }
});
