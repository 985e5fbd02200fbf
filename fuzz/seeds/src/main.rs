//! Writes the fuzz targets' fixtures (`fuzz/fixtures/`, a fixed test deployment's sealed keys)
//! and seed corpora (`fuzz/corpus/<target>/seed-*`) from real examples made with Arca's own
//! code: sealed records and backups, signed tokens, certificates, JWKs, Key Vault bodies, token
//! endpoint forms, request hosts and paths.
//!
//! Existing fixtures are kept, so the committed corpora stay valid; delete `fuzz/fixtures/` to
//! make new ones (and then regenerate the corpora). Sealing uses random nonces, so a run
//! rewrites the sealed seeds with different bytes of the same meaning. Test material only.

use std::fs;
use std::path::{Path, PathBuf};

use arca_crypto::{Kek, Keyring, RootKey, TokenSigningKey};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Must match `arca_fuzz::FIXTURE_KEK`.
const FIXTURE_KEK: [u8; 32] = [0x5a; 32];

/// A fixed "now" for certificates, so seeds do not depend on the day they were made.
const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn main() -> Result<()> {
    let fuzz_dir = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
    };
    let fixtures = fuzz_dir.join("fixtures");
    let keys = Keys::load_or_create(&fixtures)?;
    let corpus = fuzz_dir.join("corpus");
    write_der_seeds(&corpus.join("der_certificate"), &fixtures)?;
    write_cert_parse_seeds(&corpus.join("cert_parse"), &fuzz_dir)?;
    write_jws_seeds(&corpus.join("jws_verify"), &keys)?;
    write_jwk_seeds(&corpus.join("jwk_parse"), &keys)?;
    write_envelope_seeds(&corpus.join("keyring_envelope"), &keys)?;
    write_backup_seeds(
        &corpus.join("backup_blob"),
        &corpus.join("backup_document"),
        &keys,
    )?;
    write_body_seeds(&corpus.join("kv_bodies"))?;
    write_name_seeds(&corpus.join("object_names"))?;
    write_form_seeds(&corpus.join("token_form"))?;
    write_router_seeds(&corpus.join("router_paths"))?;
    println!("wrote fixtures and seeds under {}", fuzz_dir.display());
    Ok(())
}

struct Keys {
    keyring: Keyring,
    signing_key: TokenSigningKey,
}

impl Keys {
    fn load_or_create(dir: &Path) -> Result<Keys> {
        fs::create_dir_all(dir)?;
        let kek = Kek::from_bytes(&FIXTURE_KEK)?;
        let root_path = dir.join("root-key.sealed");
        if !root_path.exists() {
            let root = RootKey::generate()?;
            fs::write(&root_path, kek.seal_root_key(&root)?)?;
            for name in ["keyring.sealed", "other-keyring.sealed"] {
                // Two keys, ids 1 and 2, in both keyrings: the wrong keyring holds the ids an
                // envelope names, so opening with it fails at the tag, not at the lookup.
                let mut keyring = Keyring::generate()?;
                keyring.rotate()?;
                fs::write(dir.join(name), keyring.seal_with(&root)?)?;
            }
            let (_, pkcs8) = TokenSigningKey::generate()?;
            fs::write(dir.join("signing-key.pkcs8"), pkcs8.expose())?;
            let ca = arca_crypto::generate_ca("Arca fuzz CA", NOW)?;
            fs::write(dir.join("ca-key.pkcs8"), ca.key_pkcs8.expose())?;
            fs::write(dir.join("ca-cert.pem"), ca.cert_pem)?;
        }
        let root = kek.open_root_key(&fs::read(&root_path)?)?;
        Ok(Keys {
            keyring: Keyring::open_with(&root, &fs::read(dir.join("keyring.sealed"))?)?,
            signing_key: TokenSigningKey::from_pkcs8(&fs::read(dir.join("signing-key.pkcs8"))?)?,
        })
    }
}

/// Replaces the `seed-*` files of one corpus with `seeds`.
fn write_seeds(dir: &Path, seeds: &[(&str, Vec<u8>)]) -> Result<()> {
    fs::create_dir_all(dir)?;
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("seed-"))
        {
            fs::remove_file(path)?;
        }
    }
    for (name, bytes) in seeds {
        fs::write(dir.join(format!("seed-{name}")), bytes)?;
    }
    Ok(())
}

fn prefixed(head: &[u8], rest: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![u8::try_from(head.len())?];
    out.extend_from_slice(head);
    out.extend_from_slice(rest);
    Ok(out)
}

fn client_cert(alg: &'static rcgen::SignatureAlgorithm, cn: &str) -> Result<rcgen::Certificate> {
    let key = rcgen::KeyPair::generate_for(alg)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Example, Inc.");
    Ok(params.self_signed(&key)?)
}

fn write_der_seeds(dir: &Path, fixtures: &Path) -> Result<()> {
    let p256 = client_cert(&rcgen::PKCS_ECDSA_P256_SHA256, "app-p256")?;
    let p384 = client_cert(&rcgen::PKCS_ECDSA_P384_SHA384, "app+p384 \u{e9}")?;
    let ed25519 = client_cert(&rcgen::PKCS_ED25519, "app-ed25519")?;
    let ca_pem = fs::read_to_string(fixtures.join("ca-cert.pem"))?;
    let ca_der = STANDARD.decode(
        ca_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    )?;
    write_seeds(
        dir,
        &[
            ("p256.der", p256.der().to_vec()),
            ("p384.der", p384.der().to_vec()),
            ("ed25519.der", ed25519.der().to_vec()),
            ("ca.der", ca_der),
            ("p256.pem", p256.pem().into_bytes()),
            ("ca.pem", ca_pem.into_bytes()),
        ],
    )
}

/// Seeds for `cert_parse`: a mode byte, then a PFX, PEM, DER certificate or chain, subject
/// string or description. The OpenSSL and pyca files are the arca-crypto interop fixtures.
fn write_cert_parse_seeds(dir: &Path, fuzz_dir: &Path) -> Result<()> {
    use arca_crypto::keys::{Curve, PrivateKey};
    use arca_crypto::pki::certs::{self, CertificateDescription, SubjectAltNames};

    let interop = fuzz_dir.join("../crates/arca-crypto/tests/fixtures/certs");
    let read = |name: &str| fs::read(interop.join(name));
    let with_mode = |mode: u8, bytes: &[u8]| [&[mode][..], bytes].concat();
    let description = CertificateDescription {
        subject: "CN=www.example.com, O=\"Contoso, Inc.\", OU=IT + OU=Ops, S=WA, C=US".into(),
        sans: SubjectAltNames {
            dns_names: vec!["www.example.com".into()],
            emails: vec!["admin@example.com".into()],
            upns: vec!["user@contoso.com".into()],
            uris: vec!["https://example.com/".into()],
            ip_addresses: vec!["192.0.2.7".into(), "2001:db8::1".into()],
        },
        ekus: vec!["1.3.6.1.5.5.7.3.1".into()],
        key_usages: vec!["digitalSignature".into(), "keyEncipherment".into()],
        validity_months: 12,
    };
    let key = PrivateKey::generate_ec(Curve::P256)?;
    let cert = certs::self_signed_certificate(&description, &key, NOW)?;
    let arca_pfx = certs::build_pfx(Some(&key), std::slice::from_ref(&cert))?;
    let arca_pem = certs::build_pem_secret(Some(&key), std::slice::from_ref(&cert))?;
    let leaf = certs::chain_from_pem(&String::from_utf8(read("chain.pem")?)?)?;
    let pem_bundle = [read("leaf.rsa-key.pem")?, read("chain.pem")?].concat();
    let encrypted_bundle = [read("leaf.encrypted-key.pem")?, read("chain.pem")?].concat();
    // Mode 5: a two-byte big-endian length, the first certificate, then the second.
    let leaf_len = u16::try_from(leaf[0].der.len())?.to_be_bytes();
    let der_chain = [&leaf_len[..], &leaf[0].der, &leaf[1].der].concat();
    let description_lines = "CN=a, O=b\nwww.example.com\na@b.c\nu@contoso.com\nhttps://x/\n10.0.0.1\n1.2.3\ndigitalSignature";
    write_seeds(
        dir,
        &[
            ("arca.pfx", with_mode(0, arca_pfx.expose())),
            (
                "openssl-nopass.pfx",
                with_mode(0, &read("leaf-nopass.pfx")?),
            ),
            ("openssl-aes.pfx", with_mode(1, &read("leaf-aes.pfx")?)),
            ("openssl-3des.pfx", with_mode(1, &read("leaf-3des.pfx")?)),
            ("openssl-rc2.pfx", with_mode(1, &read("leaf-rc2.pfx")?)),
            ("arca.pem", with_mode(2, arca_pem.expose().as_bytes())),
            ("bundle.pem", with_mode(2, &pem_bundle)),
            ("encrypted.pem", with_mode(2, &encrypted_bundle)),
            ("chain.pem", with_mode(3, &read("chain.pem")?)),
            ("arca.der", with_mode(4, &cert)),
            ("openssl.der", with_mode(4, &leaf[0].der)),
            ("chain.der", with_mode(5, &der_chain)),
            ("subject.txt", with_mode(6, description.subject.as_bytes())),
            (
                "description.txt",
                with_mode(7, description_lines.as_bytes()),
            ),
        ],
    )
}

fn unsigned_token(header: &serde_json::Value, claims: &serde_json::Value, sig: &[u8]) -> Vec<u8> {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(sig)
    )
    .into_bytes()
}

fn write_jws_seeds(dir: &Path, keys: &Keys) -> Result<()> {
    let assertion = json!({
        "aud": "https://localhost:8443/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token",
        "iss": "11111111-2222-3333-4444-555555555555",
        "sub": "11111111-2222-3333-4444-555555555555",
        "jti": "a1b2c3", "nbf": NOW, "exp": NOW + 600,
    });
    let federated = json!({
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:example/app:ref:refs/heads/main",
        "aud": ["api://AzureADTokenExchange"], "iat": NOW, "exp": NOW + 300,
    });
    write_seeds(
        dir,
        &[
            (
                "es256-assertion",
                keys.signing_key.sign(&assertion)?.into_bytes(),
            ),
            (
                "es256-federated",
                keys.signing_key.sign(&federated)?.into_bytes(),
            ),
            (
                "rs256-header",
                unsigned_token(
                    &json!({"alg": "RS256", "typ": "JWT", "x5t": "q83vEjRWeJA"}),
                    &assertion,
                    &[0x42; 256],
                ),
            ),
            (
                "alg-none",
                unsigned_token(&json!({"alg": "none"}), &federated, &[]),
            ),
            (
                "crit",
                unsigned_token(
                    &json!({"alg": "ES256", "kid": keys.signing_key.kid(), "crit": ["b64"]}),
                    &assertion,
                    &[7; 64],
                ),
            ),
        ],
    )
}

fn write_jwk_seeds(dir: &Path, keys: &Keys) -> Result<()> {
    let ec = keys.signing_key.public_jwk();
    // A 2048-bit odd modulus: a well-formed RSA public key for parsing (no private key exists).
    let mut modulus = vec![0xc3u8; 256];
    modulus[255] = 0x01;
    let rsa = json!({
        "kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(&modulus), "e": "AQAB",
    });
    let p384 = json!({
        "kty": "EC", "crv": "P-384", "kid": "p384",
        "x": URL_SAFE_NO_PAD.encode([0x11u8; 48]), "y": URL_SAFE_NO_PAD.encode([0x22u8; 48]),
    });
    write_seeds(
        dir,
        &[
            ("ec.json", serde_json::to_vec(&ec)?),
            ("rsa.json", serde_json::to_vec(&rsa)?),
            ("p384.json", serde_json::to_vec(&p384)?),
            (
                "jwks.json",
                serde_json::to_vec(&json!({"keys": [ec, rsa, p384]}))?,
            ),
            (
                "jwks-oct.json",
                serde_json::to_vec(&json!({"keys": [{"kty": "oct", "k": "AAAA"}]}))?,
            ),
        ],
    )
}

fn write_envelope_seeds(dir: &Path, keys: &Keys) -> Result<()> {
    let value_aad = arca_crypto::record_aad("demo", "secret", "db-password", "0123abcd", "value");
    let meta_aad = arca_crypto::record_aad("demo", "secret", "db-password", "0123abcd", "meta");
    let head_aad = arca_crypto::record_aad("demo", "secret", "db-password", "", "head");
    write_seeds(
        dir,
        &[
            (
                "value",
                prefixed(
                    &value_aad,
                    &keys.keyring.seal(&value_aad, b"hunter2-not-a-secret")?,
                )?,
            ),
            (
                "meta",
                prefixed(
                    &meta_aad,
                    &keys.keyring.seal(
                        &meta_aad,
                        br#"{"contentType":"text/plain","tags":{"a":"b"}}"#,
                    )?,
                )?,
            ),
            (
                "empty",
                prefixed(&head_aad, &keys.keyring.seal(&head_aad, b"")?)?,
            ),
        ],
    )
}

fn backup_document(versions: usize) -> serde_json::Value {
    let versions: Vec<_> = (0..versions)
        .map(|i| {
            json!({
                "version": format!("{i:032x}"), "created": NOW, "updated": NOW + 1,
                "enabled": i % 2 == 0, "nbf": null, "exp": if i == 0 { json!(NOW + 86_400) } else { json!(null) },
                "contentType": "text/plain", "tags": {"env": "test"},
                "value": format!("value-{i}"),
            })
        })
        .collect();
    json!({"format": 1, "name": "db-password", "current": format!("{:032x}", 0), "versions": versions})
}

fn write_backup_seeds(blob_dir: &Path, document_dir: &Path, keys: &Keys) -> Result<()> {
    let one = serde_json::to_vec(&backup_document(1))?;
    let three = serde_json::to_vec(&backup_document(3))?;
    write_seeds(
        blob_dir,
        &[
            (
                "secret-1",
                prefixed(b"secret", &keys.keyring.seal_backup("secret", &one)?)?,
            ),
            (
                "secret-3",
                prefixed(b"secret", &keys.keyring.seal_backup("secret", &three)?)?,
            ),
            (
                "key-kind",
                prefixed(b"key", &keys.keyring.seal_backup("key", &one)?)?,
            ),
        ],
    )?;
    write_seeds(document_dir, &[("one.json", one), ("three.json", three)])
}

fn write_body_seeds(dir: &Path) -> Result<()> {
    write_seeds(
        dir,
        &[
            (
                "set.json",
                br#"{"value":"s3cr3t","contentType":"text/plain","tags":{"env":"prod"},"attributes":{"enabled":true,"nbf":1767225600,"exp":1798761600}}"#.to_vec(),
            ),
            ("set-min.json", br#"{"value":""}"#.to_vec()),
            (
                "update.json",
                br#"{"contentType":"application/json","attributes":{"enabled":false,"recoveryLevel":"Recoverable"},"tags":{}}"#.to_vec(),
            ),
            ("restore.json", br#"{"value":"QVJDQS1CQUNLVVAtMQ"}"#.to_vec()),
            ("array.json", br#"[{"value":"x"}]"#.to_vec()),
        ],
    )
}

fn write_name_seeds(dir: &Path) -> Result<()> {
    write_seeds(
        dir,
        &[
            ("object", b"db-Password-2".to_vec()),
            ("version", b"0123456789abcdef0123456789ABCDEF".to_vec()),
            ("vault", b"my-vault-01".to_vec()),
            ("long", vec![b'a'; 128]),
        ],
    )
}

fn write_form_seeds(dir: &Path) -> Result<()> {
    let basic = STANDARD.encode("11111111-2222-3333-4444-555555555555:p%40ss+word%3A1");
    write_seeds(
        dir,
        &[
            (
                "secret",
                b"grant_type=client_credentials&client_id=11111111-2222-3333-4444-555555555555&client_secret=abc%2Bdef+ghi&scope=https%3A%2F%2Fvault.azure.net%2F.default".to_vec(),
            ),
            (
                "assertion",
                b"grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOiJFUzI1NiJ9.e30.AA&resource=https://vault.azure.net".to_vec(),
            ),
            ("basic", format!("\u{1}Basic {basic}").into_bytes()),
            ("odd", b"a=%zz&&=b&c&%e2%82%ac=%FF".to_vec()),
        ],
    )
}

fn write_router_seeds(dir: &Path) -> Result<()> {
    write_seeds(
        dir,
        &[
            (
                "vault-host",
                b"demo.vault.localhost:8443\n/secrets/db-password/0123456789abcdef0123456789abcdef?api-version=7.4".to_vec(),
            ),
            ("origin", b"127.0.0.1:8443\n/deletedsecrets/x/recover?api-version=2025-07-01&maxresults=5".to_vec()),
            ("absolute", b"\nhttps://Demo.vault.localhost/secrets?api-version=7.0&$skiptoken=abc".to_vec()),
            ("ipv6", b"[::1]:8443\n//secrets//restore".to_vec()),
        ],
    )
}
