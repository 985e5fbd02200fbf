//! Fuzz target: the certificates API's parsers of untrusted bytes (`arca_crypto::pki::certs`):
//! PFX (with no password and with the seeds' password), PEM bundles and chains, DER
//! certificates and chains with verification, Key Vault subject strings, and the certificate
//! descriptions a CSR is made from. The first input byte picks the parser; the rest is its input.
//!
//! Properties: never panics; a certificate that parses keeps its DER, parses again alike and
//! has one-line subject and issuer strings; a subject string that encodes renders to a string
//! that encodes to the same DER; a PFX or PEM bundle that parses has a certificate first that
//! holds its key, if it has a key.
#![no_main]

use std::sync::OnceLock;

use arca_crypto::keys::{Curve, PrivateKey};
use arca_crypto::pki::certs::{
    chain_from_der_list, chain_from_pem, create_csr, encode_subject, parse_pem_bundle, parse_pfx,
    render_name, verify_chain, CertificateDescription, ChainOrder, ParsedCertificate,
    SubjectAltNames,
};
use arca_crypto::SecretString;
use libfuzzer_sys::fuzz_target;

/// The password of the password-protected seeds.
const SEED_PASSWORD: &str = "fixture-pw";
/// A fixed "now" inside the seeds' validity.
const NOW: i64 = 1_800_000_000;

fn key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate_ec(Curve::P256).expect("an EC key generates"))
}

fn check_certificate(cert: &ParsedCertificate) {
    let again = ParsedCertificate::from_der(&cert.der).expect("a parsed certificate parses again");
    assert!(again == *cert, "parsing is deterministic");
    for name in [&cert.subject, &cert.issuer] {
        assert!(
            !name.chars().any(char::is_control),
            "names are one printable line"
        );
    }
    assert!(cert.serial.len() <= 20);
    let _ = cert.verify_signed_by(cert);
    let _ = cert.sans();
}

fn check_bundle(key: Option<&PrivateKey>, chain: &[ParsedCertificate]) {
    for cert in chain {
        check_certificate(cert);
    }
    if let Some(key) = key {
        assert!(
            chain[0].public_key_matches(key),
            "the key's certificate comes first"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let text = std::str::from_utf8(input).ok();
    match mode % 8 {
        0 => {
            if let Ok(pfx) = parse_pfx(input, None) {
                check_bundle(pfx.key.as_ref(), &pfx.chain);
            }
        }
        1 => {
            let password = SecretString::new(SEED_PASSWORD.to_owned());
            if let Ok(pfx) = parse_pfx(input, Some(&password)) {
                check_bundle(pfx.key.as_ref(), &pfx.chain);
            }
        }
        2 => {
            if let Some(text) = text {
                let password = SecretString::new(SEED_PASSWORD.to_owned());
                if let Ok(bundle) = parse_pem_bundle(text, Some(&password)) {
                    check_bundle(bundle.key.as_ref(), &bundle.chain);
                }
            }
        }
        3 => {
            if let Some(chain) = text.and_then(|t| chain_from_pem(t).ok()) {
                check_bundle(None, &chain);
                let _ = verify_chain(chain, key(), NOW, ChainOrder::LeafFirst, &[]);
            }
        }
        4 => {
            if let Ok(cert) = ParsedCertificate::from_der(input) {
                assert_eq!(cert.der, input, "the DER kept is the DER read");
                check_certificate(&cert);
            }
        }
        5 => {
            // A two-byte big-endian length, the first certificate, then the second.
            let Some((len, rest)) = input.split_at_checked(2) else {
                return;
            };
            let len = usize::from(u16::from_be_bytes([len[0], len[1]])).min(rest.len());
            let (first, second) = rest.split_at(len);
            if let Ok(chain) = chain_from_der_list(&[first.to_vec(), second.to_vec()]) {
                let anchors = chain[1..].to_vec();
                let _ = verify_chain(chain, key(), NOW, ChainOrder::Preserve, &anchors);
            }
        }
        6 => {
            if let Some(der) = text.and_then(|t| encode_subject(t).ok()) {
                let rendered = render_name(&der).expect("an encoded subject renders");
                // Rendering may lengthen a subject (`, ` between RDNs), past the 1 KiB limit.
                if rendered.len() > 1_024 {
                    return;
                }
                let again = encode_subject(&rendered).expect("a rendered subject encodes");
                assert_eq!(again, der, "subject strings round-trip");
            }
        }
        _ => {
            // Lines of a description: subject, DNS name, e-mail, UPN, URI, IP, EKU, key usage.
            if let Some(text) = text {
                let mut lines = text.split('\n').map(str::to_owned);
                let mut next = || lines.next().into_iter().collect::<Vec<_>>();
                let subject = next().pop().unwrap_or_default();
                let description = CertificateDescription {
                    subject,
                    sans: SubjectAltNames {
                        dns_names: next(),
                        emails: next(),
                        upns: next(),
                        uris: next(),
                        ip_addresses: next(),
                    },
                    ekus: next(),
                    key_usages: next(),
                    validity_months: 12,
                };
                let _ = create_csr(&description, key());
            }
        }
    }
});
