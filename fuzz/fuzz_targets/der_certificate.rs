//! Fuzz target: X.509/DER parsing of registered client certificates (`ClientCertificate::from_der`
//! and `from_pem`, which walk `der.rs`) and of the stored CA certificate (`ca_key_matches`, which
//! a database writer can replace). Input: DER or PEM bytes.
//!
//! Properties: never panics; a certificate that parses keeps its exact DER and thumbprints,
//! parses again to the same certificate, and parses the same from its own PEM; a subject is one
//! printable line; notBefore and notAfter are whole seconds a caller can compare.
#![no_main]

use arca_crypto::{ca_key_matches, CaMaterial, ClientCertificate};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = ClientCertificate::from_der(data) {
        assert_eq!(cert.der, data, "the DER kept is the DER read");
        let again =
            ClientCertificate::from_der(&cert.der).expect("a parsed certificate parses again");
        assert!(again == cert, "parsing is deterministic");
        let pem = to_pem(data);
        let from_pem = ClientCertificate::from_pem(&pem).expect("its PEM parses");
        assert!(from_pem == cert, "PEM and DER read alike");
        assert!(
            !cert.subject.chars().any(char::is_control),
            "the subject is one printable line"
        );
        // The DER is the certificate: ca_key_matches reads the same structure.
        let ca = CaMaterial {
            cert_pem: pem,
            key_pkcs8: arca_fuzz::fixtures().ca_key.clone(),
        };
        let _ = ca_key_matches(&ca);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ClientCertificate::from_pem(text);
        let ca = CaMaterial {
            cert_pem: text.to_owned(),
            key_pkcs8: arca_fuzz::fixtures().ca_key.clone(),
        };
        let _ = ca_key_matches(&ca);
    }
});

fn to_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}
