//! Cross-checks of `arca_crypto::pki::certs` against independent implementations: PFX and PEM
//! files written by OpenSSL and pyca/cryptography (tests/fixtures/README.md says how) must
//! read, and certificates, CSRs and PFX files Arca writes must satisfy the `openssl` command
//! (and pyca, when Python has it). The external-tool checks are skipped, with a message, when
//! the tool is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use arca_crypto::keys::{Curve, PrivateKey};
use arca_crypto::pki::certs::{
    build_pem_secret, build_pfx, certificate_pem, chain_from_pem, create_csr, csr_pem,
    issue_certificate, parse_pem_bundle, parse_pfx, self_signed_certificate, verify_chain,
    CertificateDescription, CertificateIssuer, ChainOrder, IssuingAuthority, ParsedCertificate,
    SubjectAltNames,
};
use arca_crypto::{generate_ca, generate_local_ca, issue_issuing_ca, SecretString};

/// 2027-01-15: inside every fixture's validity.
const NOW: i64 = 1_800_000_000;
const LEAF_SHA1: [u8; 20] = [
    0xfe, 0x6f, 0x25, 0x99, 0x59, 0xa3, 0xd8, 0x80, 0x56, 0xa9, 0x1e, 0x24, 0x49, 0xc0, 0x3a, 0x10,
    0x2e, 0xc2, 0xa2, 0xfd,
];

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/certs")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

fn password() -> SecretString {
    SecretString::new("fixture-pw".into())
}

fn check_leaf_and_ca(chain: &[ParsedCertificate]) {
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0].sha1, LEAF_SHA1);
    assert_eq!(chain[0].subject, "O=Contoso, CN=leaf.example.com");
    assert_eq!(chain[0].issuer, "CN=Arca Fixture CA, O=Arca Test, C=US");
    assert_eq!(chain[1].subject, chain[0].issuer);
}

#[test]
fn pfx_files_from_openssl_and_pyca_read() {
    for (name, pwd) in [
        ("leaf-aes.pfx", Some(password())),
        ("leaf-3des.pfx", Some(password())),
        ("leaf-rc2.pfx", Some(password())),
        ("leaf-pyca-aes.pfx", Some(password())),
        ("leaf-nopass.pfx", None),
        ("leaf-pyca-nopass.pfx", None),
    ] {
        let contents =
            parse_pfx(&fixture(name), pwd.as_ref()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let key = contents.key.expect(name);
        assert!(contents.chain[0].public_key_matches(&key), "{name}");
        check_leaf_and_ca(&contents.chain);
        if pwd.is_some() {
            let wrong = SecretString::new("not-the-password".into());
            let err = parse_pfx(&fixture(name), Some(&wrong))
                .unwrap_err()
                .to_string();
            assert!(err.contains("password"), "{name}: {err}");
            assert!(parse_pfx(&fixture(name), None).is_err(), "{name}");
        }
    }
}

#[test]
fn pem_bundles_in_every_key_form_read() {
    let chain = text("chain.pem");
    for key in ["leaf.key.pem", "leaf.rsa-key.pem"] {
        let bundle = parse_pem_bundle(&format!("{}{chain}", text(key)), None).unwrap();
        assert!(
            bundle.chain[0].public_key_matches(bundle.key.as_ref().unwrap()),
            "{key}"
        );
        check_leaf_and_ca(&bundle.chain);
    }
    let encrypted = format!("{}{chain}", text("leaf.encrypted-key.pem"));
    assert!(parse_pem_bundle(&encrypted, None).is_err());
    let bundle = parse_pem_bundle(&encrypted, Some(&password())).unwrap();
    assert!(bundle.chain[0].public_key_matches(bundle.key.as_ref().unwrap()));
    let sec1 = format!("{}{}", text("ca.ec-key.pem"), text("ca.cert.pem"));
    let bundle = parse_pem_bundle(&sec1, None).unwrap();
    assert_eq!(bundle.key.as_ref().unwrap().curve(), Some(Curve::P384));
    assert!(bundle.chain[0].public_key_matches(bundle.key.as_ref().unwrap()));
}

#[test]
fn the_openssl_chain_verifies_with_its_key() {
    let bundle = parse_pem_bundle(
        &format!("{}{}", text("leaf.key.pem"), text("chain.pem")),
        None,
    )
    .unwrap();
    let key = bundle.key.unwrap();
    let chain = chain_from_pem(&text("chain.pem")).unwrap();
    let leaf = &chain[0];
    assert_eq!(leaf.sans().dns_names, ["leaf.example.com"]);
    assert_eq!(leaf.sans().ip_addresses, ["10.0.0.1"]);
    assert_eq!(leaf.ekus, ["1.3.6.1.5.5.7.3.1"]);
    assert_eq!(leaf.key_usages, ["digitalSignature", "keyEncipherment"]);
    let reversed: Vec<_> = chain.iter().rev().cloned().collect();
    let ordered = verify_chain(reversed, &key, NOW, ChainOrder::LeafFirst, &[]).unwrap();
    check_leaf_and_ca(&ordered);
    let anchors = chain_from_pem(&text("ca.cert.pem")).unwrap();
    assert!(verify_chain(
        chain[..1].to_vec(),
        &key,
        NOW,
        ChainOrder::LeafFirst,
        &anchors
    )
    .is_ok());
}

// ---- Arca's output checked by openssl and pyca ----

fn have(tool: &str, arg: &str) -> bool {
    let found = Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: `{tool}` is not on PATH");
    }
    found
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "arca-certs-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} {args:?}: {text}");
    text
}

/// `openssl verify` of `cert` at `now` with `options` (the anchors) succeeds.
fn openssl_verify(now: i64, options: &[&str], cert: &str) {
    let at = now.to_string();
    let mut args = vec!["verify", "-attime", &at];
    args.extend_from_slice(options);
    args.push(cert);
    let verified = run("openssl", &args);
    assert!(verified.contains(": OK"), "{verified}");
}

fn description() -> CertificateDescription {
    CertificateDescription {
        subject: "CN=www.example.com, O=Contoso, OU=IT, L=Redmond, S=WA, C=US".into(),
        sans: SubjectAltNames {
            dns_names: vec!["www.example.com".into()],
            emails: vec!["admin@example.com".into()],
            upns: vec!["user@contoso.com".into()],
            uris: vec!["https://example.com/".into()],
            ip_addresses: vec!["192.0.2.7".into(), "2001:db8::1".into()],
        },
        ekus: vec!["1.3.6.1.5.5.7.3.1".into(), "1.2.3.4.5".into()],
        key_usages: vec!["digitalSignature".into(), "keyEncipherment".into()],
        validity_months: 12,
    }
}

#[test]
fn openssl_reads_what_arca_makes() {
    if !have("openssl", "version") {
        return;
    }
    let now = 1_780_000_000;
    for key in [
        PrivateKey::generate_rsa(2048).unwrap(),
        PrivateKey::generate_ec(Curve::P256).unwrap(),
        PrivateKey::generate_ec(Curve::P384).unwrap(),
        PrivateKey::generate_ec(Curve::P521).unwrap(),
        PrivateKey::generate_ec(Curve::P256K).unwrap(),
    ] {
        let cert = self_signed_certificate(&description(), &key, now).unwrap();
        let path = temp_file("cert.pem", certificate_pem(&cert).as_bytes());
        let path = path.to_str().unwrap();
        let shown = run(
            "openssl",
            &[
                "x509", "-in", path, "-noout", "-text", "-nameopt", "RFC2253",
            ],
        );
        for expected in [
            "Subject: CN=www.example.com,O=Contoso,OU=IT,L=Redmond,ST=WA,C=US",
            "DNS:www.example.com",
            "email:admin@example.com",
            // OpenSSL 3.0 prints `UPN::`, later versions `UPN:`.
            "othername: UPN:",
            "user@contoso.com",
            "URI:https://example.com/",
            "IP Address:192.0.2.7",
            "IP Address:2001:DB8:0:0:0:0:0:1",
            "TLS Web Server Authentication, 1.2.3.4.5",
            "Digital Signature, Key Encipherment",
            "X509v3 Subject Key Identifier",
        ] {
            assert!(shown.contains(expected), "{expected} not in {shown}");
        }
        // Self-signed and not a CA: `openssl verify` with itself as the anchor checks the
        // signature (-partial_chain accepts a non-CA anchor).
        openssl_verify(now, &["-partial_chain", "-CAfile", path], path);

        let csr = csr_pem(&create_csr(&description(), &key).unwrap());
        let csr_path = temp_file("req.pem", csr.as_bytes());
        let shown = run(
            "openssl",
            &[
                "req",
                "-in",
                csr_path.to_str().unwrap(),
                "-noout",
                "-verify",
                "-text",
            ],
        );
        assert!(
            shown.contains("verify OK")
                || shown.contains("Certificate request self-signature verify OK"),
            "{shown}"
        );
        assert!(shown.contains("DNS:www.example.com"), "{shown}");
    }
}

#[test]
fn openssl_verifies_arca_issued_chains_and_reads_arca_pfx() {
    if !have("openssl", "version") {
        return;
    }
    let now = 1_780_000_000;
    let ca = generate_ca("Arca Interop CA", now - 60).unwrap();
    let issuer = CertificateIssuer::from_ca_material(&ca).unwrap();
    let key = PrivateKey::generate_rsa(2048).unwrap();
    let leaf = issue_certificate(&description(), &key.public_key().unwrap(), &issuer, now).unwrap();
    let ca_path = temp_file("ca.pem", ca.cert_pem.as_bytes());
    let leaf_path = temp_file("leaf.pem", certificate_pem(&leaf).as_bytes());
    openssl_verify(
        now,
        &["-CAfile", ca_path.to_str().unwrap()],
        leaf_path.to_str().unwrap(),
    );

    let chain = vec![leaf.clone(), issuer.cert_der().to_vec()];
    let pfx = build_pfx(Some(&key), &chain).unwrap();
    let pfx_path = temp_file("kv.pfx", pfx.expose());
    let pfx_path = pfx_path.to_str().unwrap();
    let info = run(
        "openssl",
        &[
            "pkcs12", "-in", pfx_path, "-info", "-noout", "-passin", "pass:",
        ],
    );
    assert!(info.contains("MAC: sha256"), "{info}");
    let dumped = run(
        "openssl",
        &["pkcs12", "-in", pfx_path, "-nodes", "-passin", "pass:"],
    );
    assert_eq!(dumped.matches("BEGIN CERTIFICATE").count(), 2, "{dumped}");
    assert!(dumped.contains("BEGIN PRIVATE KEY"), "{dumped}");

    // The PEM secret is what `openssl` reads as a key and its certificates.
    let pem = build_pem_secret(Some(&key), &chain).unwrap();
    let pem_path = temp_file("kv.pem", pem.expose().as_bytes());
    run(
        "openssl",
        &["pkey", "-in", pem_path.to_str().unwrap(), "-noout"],
    );

    // pyca/cryptography reads the password-less PFX as it reads Key Vault's.
    let script = "import sys\nfrom cryptography.hazmat.primitives.serialization import pkcs12\n\
                  k, c, extra = pkcs12.load_key_and_certificates(open(sys.argv[1], 'rb').read(), None)\n\
                  assert k is not None and c is not None and len(extra) == 1\nprint('pyca ok')";
    let has_pyca = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_pyca {
        assert!(run("python3", &["-c", script, pfx_path]).contains("pyca ok"));
    } else {
        eprintln!("skipped: python3 with cryptography is not available");
    }
}

/// A leaf the issuing CA signed verifies with `openssl verify -CAfile` given the chain `arca ca
/// show` prints (issuing CA, then the local root), for a name within its suffixes; OpenSSL
/// refuses one the CA's name constraints exclude, even though the CA's key signed it.
#[test]
fn openssl_verifies_what_the_issuing_ca_signs_within_its_constraints() {
    if !have("openssl", "version") {
        return;
    }
    let now = 1_780_000_000;
    let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let suffixes = strings(&["example.internal"]);
    let served = strings(&["localhost", "vault.example.internal"]);
    let root = generate_local_ca("Arca local CA", &served, &suffixes, now).unwrap();
    let ca = issue_issuing_ca(&root, &suffixes, &served, now).unwrap();
    let authority = IssuingAuthority::from_parts(
        &[
            ParsedCertificate::from_pem(&ca.cert_pem).unwrap().der,
            ParsedCertificate::from_pem(&root.cert_pem).unwrap().der,
        ],
        &ca.key_pkcs8,
        now,
    )
    .unwrap();
    let shown: String = authority
        .chain()
        .iter()
        .map(|c| certificate_pem(&c.der))
        .collect();
    let chain_path = temp_file("chain.pem", shown.as_bytes());
    let chain_path = chain_path.to_str().unwrap();
    let key = PrivateKey::generate_ec(Curve::P256).unwrap();
    let described = |name: &str| CertificateDescription {
        subject: format!("CN={name}"),
        sans: SubjectAltNames {
            dns_names: vec![name.to_owned()],
            ..Default::default()
        },
        ekus: vec!["1.3.6.1.5.5.7.3.1".into()],
        key_usages: vec!["digitalSignature".into()],
        validity_months: 12,
    };
    let leaf = authority
        .issue(
            &described("api.example.internal"),
            &key.public_key().unwrap(),
            now,
        )
        .unwrap();
    let leaf_path = temp_file("leaf.pem", certificate_pem(&leaf).as_bytes());
    let leaf_path = leaf_path.to_str().unwrap();
    openssl_verify(now, &["-CAfile", chain_path], leaf_path);
    openssl_verify(
        now,
        &[
            "-CAfile",
            chain_path,
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "api.example.internal",
        ],
        leaf_path,
    );
    for outside in ["prod.vault.example.internal", "bank.example.com"] {
        let forged = authority
            .issue(&described(outside), &key.public_key().unwrap(), now)
            .unwrap();
        let forged_path = temp_file("forged.pem", certificate_pem(&forged).as_bytes());
        let at = now.to_string();
        let out = Command::new("openssl")
            .args(["verify", "-attime", &at, "-CAfile", chain_path])
            .arg(&forged_path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{outside}: {text}");
        assert!(text.contains("subtree"), "{outside}: {text}");
    }
}
