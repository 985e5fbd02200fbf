//! Tests of the key-operations seam: round trips for every algorithm and size, known-answer
//! vectors from the standards (and one from OpenSSL), and refusals.

use super::*;
use crate::pki::der;
use crate::sha256;

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn digest_of(alg: SignatureAlgorithm, message: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(alg.digest(), message)
        .as_ref()
        .to_vec()
}

fn none() -> SymmetricParams<'static> {
    SymmetricParams::default()
}

/// The fixture RSA 2048 key's JWK components, read from its PKCS#8 with the crate's DER reader.
fn fixture_rsa_components() -> RsaPrivateComponents {
    let pem = include_str!("../../tests/fixtures/rsa2048.key.pem");
    let pkcs8 = der::pem_decode(pem, "PRIVATE KEY").unwrap();
    let info = der::read_only(&pkcs8, der::TAG_SEQUENCE).unwrap();
    let parts = der::children(info.content).unwrap();
    assert_eq!(parts[2].tag, der::TAG_OCTET_STRING);
    let rsa = der::read_only(parts[2].content, der::TAG_SEQUENCE).unwrap();
    let ints: Vec<Vec<u8>> = der::children(rsa.content)
        .unwrap()
        .iter()
        .map(|tlv| der::unsigned_integer(tlv).unwrap().to_vec())
        .collect();
    let secret = |i: usize| SecretBytes::new(ints[i].clone());
    RsaPrivateComponents {
        n: ints[1].clone(),
        e: ints[2].clone(),
        d: secret(3),
        p: secret(4),
        q: secret(5),
        dp: secret(6),
        dq: secret(7),
        qi: secret(8),
    }
}

#[test]
fn rsa_generation_sizes_and_exponent() {
    for bits in RSA_SIZES {
        let key = PrivateKey::generate_rsa(bits).unwrap();
        assert_eq!(key.key_type(), KeyType::Rsa);
        assert_eq!(key.size_bits(), Some(bits));
        let jwk = key.public_jwk();
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(jwk["n"].as_str().unwrap())
                .unwrap()
                .len(),
            bits / 8
        );
    }
    for bits in [1024, 2047, 8192] {
        assert_eq!(
            PrivateKey::generate_rsa(bits).unwrap_err(),
            KeyError::BadKeySize { kty: "RSA", bits }
        );
    }
}

#[test]
fn rsa_sign_verify_round_trips_every_algorithm() {
    let key = PrivateKey::generate_rsa(2048).unwrap();
    let public = key.public_key().unwrap();
    for alg in SignatureAlgorithm::ALL {
        let digest = digest_of(alg, b"message");
        if alg.key_type() != KeyType::Rsa {
            assert_eq!(
                key.sign_digest(alg, &digest).unwrap_err(),
                KeyError::UnsupportedAlgorithm {
                    alg: alg.name(),
                    kty: "RSA"
                }
            );
            continue;
        }
        let signature = key.sign_digest(alg, &digest).unwrap();
        assert_eq!(signature.len(), 256, "{alg:?}");
        assert!(key.verify_digest(alg, &digest, &signature).unwrap());
        assert!(public.verify_digest(alg, &digest, &signature).unwrap());
        let mut tampered = signature.clone();
        tampered[10] ^= 1;
        assert!(!public.verify_digest(alg, &digest, &tampered).unwrap());
        let other = digest_of(alg, b"other message");
        assert!(!public.verify_digest(alg, &other, &signature).unwrap());
        assert!(!public.verify_digest(alg, &digest, &signature[1..]).unwrap());
    }
}

#[test]
fn rsa_larger_sizes_sign_and_decrypt() {
    for bits in [3072, 4096] {
        let key = PrivateKey::generate_rsa(bits).unwrap();
        let digest = digest_of(SignatureAlgorithm::Ps512, b"m");
        let signature = key.sign_digest(SignatureAlgorithm::Ps512, &digest).unwrap();
        assert_eq!(signature.len(), bits / 8);
        assert!(key
            .verify_digest(SignatureAlgorithm::Ps512, &digest, &signature)
            .unwrap());
        let sealed = key
            .encrypt(EncryptionAlgorithm::RsaOaep256, b"secret", &none())
            .unwrap();
        assert_eq!(
            key.decrypt(EncryptionAlgorithm::RsaOaep256, &sealed.ciphertext, &none())
                .unwrap()
                .expose(),
            b"secret"
        );
    }
}

/// RS256 over SHA-256("abc") with the fixture key, as `openssl dgst -sha256 -sign` made it
/// (PKCS#1 v1.5 signatures are deterministic, so this is a known answer from another
/// implementation). Also checks JWK component import: the key is built from its components.
#[test]
fn rsa_pkcs1_known_answer_from_openssl() {
    let expected = hex(
        "6b39383e77e6121b46413fa9cf17f3ca76aa4d252caa3bc17d79698ba429c774c8f0cb0f9313075a90dfd7ba
         a8a640a65a9435480bd6acc6d9e0d3b1bb00d0c8bbae8d108a292567753c44e39423184dea39fd383278cf67
         4b931046831ccdf6e1eff1be810acc7d91e11d2bdee115de5a777f24e738e28e0441d13bc0481190a2c7743b
         b37fa84795a8fb06f9cf052e5863a7eee3fecfb54cd8fe44600fa0fdfbbe7cb42ba3b17e5302aa47c194d78a
         d51ac5e1f04e7fe8631d9fb9d8b848aca98a33bca1c053a80c9f7d9cab4d99bfea60ee489eb75faa6cd0d9f4
         7c6736f403f8e71ef3af4b2a0927afa6e2d9bb5b0623b3ce5b599c3de31bde6d8fa8665b",
    );
    let components = fixture_rsa_components();
    let imported = PrivateKey::from_rsa_components(&components).unwrap();
    let public = PublicKey::from_jwk(&imported.public_jwk()).unwrap();
    let digest = sha256(b"abc");
    assert!(public
        .verify_digest(SignatureAlgorithm::Rs256, &digest, &expected)
        .unwrap());
    let key = PrivateKey::from_rsa_components(&components).unwrap();
    assert_eq!(
        key.sign_digest(SignatureAlgorithm::Rs256, &digest).unwrap(),
        expected
    );
    // The same signature does not verify as PSS, nor over another digest.
    assert!(!public
        .verify_digest(SignatureAlgorithm::Ps256, &digest, &expected)
        .unwrap());
    assert!(!public
        .verify_digest(SignatureAlgorithm::Rs256, &sha256(b"abd"), &expected)
        .unwrap());
}

#[test]
fn rsa_import_refuses_inconsistent_components() {
    let good = fixture_rsa_components();
    let mut bad_d = fixture_rsa_components();
    let mut d = bad_d.d.expose().to_vec();
    d[5] ^= 1;
    bad_d.d = SecretBytes::new(d);
    assert!(matches!(
        PrivateKey::from_rsa_components(&bad_d),
        Err(KeyError::InvalidKey { .. })
    ));
    let mut swapped = fixture_rsa_components();
    swapped.qi = SecretBytes::from_slice(good.dp.expose());
    assert!(PrivateKey::from_rsa_components(&swapped).is_err());
    let mut short = fixture_rsa_components();
    short.n = short.n[..128].to_vec();
    assert_eq!(
        PrivateKey::from_rsa_components(&short).unwrap_err(),
        KeyError::BadKeySize {
            kty: "RSA",
            bits: 1024
        }
    );
}

#[test]
fn rsa_encryption_and_wrapping_round_trip() {
    let key = PrivateKey::generate_rsa(2048).unwrap();
    let public = key.public_key().unwrap();
    for alg in [
        EncryptionAlgorithm::Rsa1_5,
        EncryptionAlgorithm::RsaOaep,
        EncryptionAlgorithm::RsaOaep256,
    ] {
        let sealed = key.encrypt(alg, b"plaintext", &none()).unwrap();
        assert_eq!(sealed.ciphertext.len(), 256);
        assert_eq!((sealed.iv.as_ref(), sealed.tag.as_ref()), (None, None));
        assert_eq!(
            key.decrypt(alg, &sealed.ciphertext, &none())
                .unwrap()
                .expose(),
            b"plaintext"
        );
        let from_public = public.encrypt(alg, b"from outside").unwrap();
        assert_eq!(
            key.decrypt(alg, &from_public, &none()).unwrap().expose(),
            b"from outside"
        );
        // Randomized padding: two encryptions differ.
        assert_ne!(
            key.encrypt(alg, b"x", &none()).unwrap().ciphertext,
            key.encrypt(alg, b"x", &none()).unwrap().ciphertext
        );
        let mut tampered = sealed.ciphertext.clone();
        tampered[100] ^= 0x40;
        assert_eq!(
            key.decrypt(alg, &tampered, &none()).unwrap_err(),
            KeyError::Decrypt
        );
        assert!(matches!(
            key.decrypt(alg, &sealed.ciphertext[1..], &none()),
            Err(KeyError::BadInputLength {
                what: "ciphertext",
                len: 255,
                ..
            })
        ));
        assert!(matches!(
            key.encrypt(alg, &[0u8; 300], &none()),
            Err(KeyError::BadInputLength {
                what: "plaintext",
                ..
            })
        ));
        let iv = SymmetricParams {
            iv: Some(&[0u8; 16]),
            ..none()
        };
        assert!(matches!(
            key.encrypt(alg, b"x", &iv),
            Err(KeyError::UnexpectedInput { what: "iv", .. })
        ));
    }
    for alg in [
        WrapAlgorithm::Rsa1_5,
        WrapAlgorithm::RsaOaep,
        WrapAlgorithm::RsaOaep256,
    ] {
        let cek = [0x42u8; 32];
        let wrapped = key.wrap_key(alg, &cek).unwrap();
        assert_eq!(key.unwrap_key(alg, &wrapped).unwrap().expose(), cek);
        let mut tampered = wrapped.clone();
        tampered[0] ^= 0x01;
        assert!(key.unwrap_key(alg, &tampered).is_err());
    }
    // OAEP with one hash does not open OAEP with the other.
    let sealed = key
        .encrypt(EncryptionAlgorithm::RsaOaep, b"p", &none())
        .unwrap();
    assert_eq!(
        key.decrypt(EncryptionAlgorithm::RsaOaep256, &sealed.ciphertext, &none())
            .unwrap_err(),
        KeyError::Decrypt
    );
}

#[test]
fn ec_sign_verify_round_trips_every_curve() {
    for curve in Curve::ALL {
        let key = PrivateKey::generate_ec(curve).unwrap();
        assert_eq!(key.curve(), Some(curve));
        let alg = curve.signature_algorithm();
        let digest = digest_of(alg, b"message");
        let signature = key.sign_digest(alg, &digest).unwrap();
        assert_eq!(signature.len(), 2 * curve.field_len(), "{curve:?}");
        let public = PublicKey::from_jwk(&key.public_jwk()).unwrap();
        assert_eq!(public.curve(), Some(curve));
        assert!(public.verify_digest(alg, &digest, &signature).unwrap());
        let mut tampered = signature.clone();
        tampered[3] ^= 0x80;
        assert!(!public.verify_digest(alg, &digest, &tampered).unwrap());
        assert!(!public
            .verify_digest(alg, &digest_of(alg, b"other"), &signature)
            .unwrap());

        // Storage round trip keeps the same key.
        let stored = key.to_storage().unwrap();
        let reloaded = PrivateKey::from_storage(stored.expose()).unwrap();
        assert_eq!(reloaded.public_jwk(), key.public_jwk());
        assert!(reloaded.verify_digest(alg, &digest, &signature).unwrap());
    }
}

#[test]
fn ec_refuses_wrong_curve_wrong_digest_and_wrong_type() {
    let key = PrivateKey::generate_ec(Curve::P256).unwrap();
    let digest = [7u8; 32];
    assert_eq!(
        key.sign_digest(SignatureAlgorithm::Es256K, &digest)
            .unwrap_err(),
        KeyError::CurveMismatch {
            alg: "ES256K",
            expected: "P-256K",
            actual: "P-256"
        }
    );
    assert_eq!(
        key.sign_digest(SignatureAlgorithm::Es384, &[7u8; 48])
            .unwrap_err(),
        KeyError::CurveMismatch {
            alg: "ES384",
            expected: "P-384",
            actual: "P-256"
        }
    );
    assert_eq!(
        key.sign_digest(SignatureAlgorithm::Es256, &[7u8; 48])
            .unwrap_err(),
        KeyError::BadDigestLength {
            alg: "ES256",
            expected: 32,
            actual: 48
        }
    );
    assert_eq!(
        key.verify_digest(SignatureAlgorithm::Es256, &[7u8; 31], &[0u8; 64])
            .unwrap_err(),
        KeyError::BadDigestLength {
            alg: "ES256",
            expected: 32,
            actual: 31
        }
    );
    assert_eq!(
        key.sign_digest(SignatureAlgorithm::Rs256, &digest)
            .unwrap_err(),
        KeyError::UnsupportedAlgorithm {
            alg: "RS256",
            kty: "EC"
        }
    );
    assert!(matches!(
        key.encrypt(EncryptionAlgorithm::RsaOaep, b"x", &none()),
        Err(KeyError::UnsupportedAlgorithm { kty: "EC", .. })
    ));
    assert!(matches!(
        key.wrap_key(WrapAlgorithm::A256Kw, &[0u8; 32]),
        Err(KeyError::UnsupportedAlgorithm { kty: "EC", .. })
    ));
    let rsa = PrivateKey::generate_rsa(2048).unwrap();
    assert_eq!(
        rsa.sign_digest(SignatureAlgorithm::Rs512, &digest)
            .unwrap_err(),
        KeyError::BadDigestLength {
            alg: "RS512",
            expected: 64,
            actual: 32
        }
    );
}

/// RFC 6979 A.2.5: the P-256 key, and its deterministic ECDSA signatures with SHA-256 over
/// "sample" and "test". Importing the key also checks that `d` and `x`, `y` agree.
#[test]
fn ecdsa_p256_known_answer_rfc6979() {
    let d = hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
    let x = hex("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6");
    let y = hex("7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299");
    let key = PrivateKey::from_ec_components(Curve::P256, &x, &y, &SecretBytes::new(d)).unwrap();
    let public = key.public_key().unwrap();
    let sample = hex(
        "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716
         F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
    );
    let test = hex(
        "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367
         019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083",
    );
    let es256 = SignatureAlgorithm::Es256;
    assert!(public
        .verify_digest(es256, &sha256(b"sample"), &sample)
        .unwrap());
    assert!(public
        .verify_digest(es256, &sha256(b"test"), &test)
        .unwrap());
    assert!(!public
        .verify_digest(es256, &sha256(b"sample"), &test)
        .unwrap());
    // A point moved off the curve is refused at import.
    let mut off_curve = y.clone();
    off_curve[31] ^= 1;
    assert_eq!(
        PublicKey::from_jwk(&jwk_ec("P-256", &x, &off_curve)).unwrap_err(),
        KeyError::InvalidKey { field: "x, y" }
    );
    // x, y of another key do not go with this d.
    let other = PrivateKey::generate_ec(Curve::P256).unwrap().public_jwk();
    let other_x = URL_SAFE_NO_PAD
        .decode(other["x"].as_str().unwrap())
        .unwrap();
    let other_y = URL_SAFE_NO_PAD
        .decode(other["y"].as_str().unwrap())
        .unwrap();
    let d = hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
    assert_eq!(
        PrivateKey::from_ec_components(Curve::P256, &other_x, &other_y, &SecretBytes::new(d))
            .unwrap_err(),
        KeyError::InvalidKey { field: "d" }
    );
}

fn jwk_ec(crv: &str, x: &[u8], y: &[u8]) -> Map<String, Value> {
    let mut jwk = Map::new();
    jwk.insert("kty".into(), "EC".into());
    jwk.insert("crv".into(), crv.into());
    jwk.insert("x".into(), b64(x));
    jwk.insert("y".into(), b64(y));
    jwk
}

#[test]
fn jwk_import_and_public_export() {
    // EC private JWK in, public JWK out: never d.
    let d = hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
    let x = hex("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6");
    let y = hex("7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299");
    let mut jwk = jwk_ec("P-256", &x, &y);
    jwk.insert("d".into(), b64(&d));
    let key = PrivateKey::from_jwk(&jwk).unwrap();
    let public = key.public_jwk();
    assert_eq!(public, jwk_ec("P-256", &x, &y));
    assert!(!public.contains_key("d"));

    // RSA: exactly kty, n, e.
    let components = fixture_rsa_components();
    let mut rsa = Map::new();
    rsa.insert("kty".into(), "RSA".into());
    for (name, value) in [
        ("n", components.n.clone()),
        ("e", components.e.clone()),
        ("d", components.d.expose().to_vec()),
        ("p", components.p.expose().to_vec()),
        ("q", components.q.expose().to_vec()),
        ("dp", components.dp.expose().to_vec()),
        ("dq", components.dq.expose().to_vec()),
        ("qi", components.qi.expose().to_vec()),
    ] {
        rsa.insert(name.into(), b64(&value));
    }
    let key = PrivateKey::from_jwk(&rsa).unwrap();
    let public = key.public_jwk();
    let mut names: Vec<&str> = public.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["e", "kty", "n"]);
    assert_eq!(public["n"], rsa["n"]);

    // oct: kty only.
    let mut oct = Map::new();
    oct.insert("kty".into(), "oct".into());
    oct.insert("k".into(), b64(&[9u8; 32]));
    let key = PrivateKey::from_jwk(&oct).unwrap();
    assert_eq!(key.size_bits(), Some(256));
    assert_eq!(
        Value::Object(key.public_jwk()),
        serde_json::json!({"kty": "oct"})
    );
    assert!(key.public_key().is_none());

    // Missing or malformed members are named.
    rsa.remove("qi");
    assert_eq!(
        PrivateKey::from_jwk(&rsa).unwrap_err(),
        KeyError::InvalidKey { field: "qi" }
    );
    rsa.insert("qi".into(), "not base64url!".into());
    assert_eq!(
        PrivateKey::from_jwk(&rsa).unwrap_err(),
        KeyError::InvalidKey { field: "qi" }
    );
    let mut bad_curve = jwk_ec("P-192", &x, &y);
    bad_curve.insert("d".into(), b64(&[1u8; 24]));
    assert_eq!(
        PrivateKey::from_jwk(&bad_curve).unwrap_err(),
        KeyError::UnsupportedCurve
    );
    oct.insert("k".into(), b64(&[9u8; 20]));
    assert_eq!(
        PrivateKey::from_jwk(&oct).unwrap_err(),
        KeyError::BadKeySize {
            kty: "oct",
            bits: 160
        }
    );
}

#[test]
fn debug_and_errors_never_show_key_material() {
    let oct = PrivateKey::from_oct(&SecretBytes::new(vec![0xAB; 32])).unwrap();
    let shown = format!("{oct:?}");
    assert_eq!(shown, r#"PrivateKey { kty: "oct", bits: 256, .. }"#);
    let ec = PrivateKey::generate_ec(Curve::P384).unwrap();
    assert_eq!(
        format!("{ec:?}"),
        r#"PrivateKey { kty: "EC", crv: "P-384", .. }"#
    );
    let rsa = PrivateKey::from_rsa_components(&fixture_rsa_components()).unwrap();
    let shown = format!("{rsa:#?}");
    assert!(shown.contains("2048") && !shown.contains("0x"), "{shown}");
    let d_hex: String = fixture_rsa_components().d.expose()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!shown.to_lowercase().contains(&d_hex));
    let sealed = oct
        .encrypt(EncryptionAlgorithm::A256Gcm, b"hunter2", &none())
        .unwrap();
    assert!(!format!("{sealed:?}").contains("hunter2"));
    // Errors carry names and lengths only.
    let error = oct
        .decrypt(
            EncryptionAlgorithm::A256Gcm,
            &[0xAB; 40],
            &SymmetricParams {
                iv: Some(&[0xAB; 7]),
                tag: Some(&[0xAB; 16]),
                aad: None,
            },
        )
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "iv has a length of 7 bytes, which A256GCM does not accept"
    );
}

#[test]
fn keys_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<PrivateKey>();
    shared::<PublicKey>();
    let params = SymmetricParams {
        iv: Some(b"0123456789ab"),
        aad: Some(b"aad"),
        tag: None,
    };
    assert_eq!(
        format!("{params:?}"),
        "SymmetricParams { iv_len: Some(12), aad_len: Some(3), tag_len: None }"
    );
}

#[test]
fn oct_generation_sizes() {
    for bits in OCT_SIZES {
        let a = PrivateKey::generate_oct(bits).unwrap();
        let b = PrivateKey::generate_oct(bits).unwrap();
        assert_eq!(a.size_bits(), Some(bits));
        assert_ne!(a.to_storage().unwrap(), b.to_storage().unwrap());
        let reloaded = PrivateKey::from_storage(a.to_storage().unwrap().expose()).unwrap();
        assert_eq!(reloaded.to_storage().unwrap(), a.to_storage().unwrap());
    }
    assert_eq!(
        PrivateKey::generate_oct(512).unwrap_err(),
        KeyError::BadKeySize {
            kty: "oct",
            bits: 512
        }
    );
}

#[test]
fn aes_round_trips_every_algorithm_and_size() {
    for bits in OCT_SIZES {
        let key = PrivateKey::generate_oct(bits).unwrap();
        for alg in EncryptionAlgorithm::ALL {
            if alg.key_type() != KeyType::Oct {
                assert!(matches!(
                    key.encrypt(alg, b"x", &none()),
                    Err(KeyError::UnsupportedAlgorithm { kty: "oct", .. })
                ));
                continue;
            }
            let plaintext = [0x5au8; 48];
            if alg.aes_key_len() != Some(bits / 8) {
                assert_eq!(
                    key.encrypt(alg, &plaintext, &none()).unwrap_err(),
                    KeyError::BadKeySize { kty: "oct", bits }
                );
                continue;
            }
            let is_gcm = alg.name().ends_with("GCM");
            let aad: &[u8] = b"header";
            let params = SymmetricParams {
                aad: is_gcm.then_some(aad),
                ..none()
            };
            let sealed = key.encrypt(alg, &plaintext, &params).unwrap();
            let iv = sealed.iv.clone().unwrap();
            assert_eq!(iv.len(), if is_gcm { 12 } else { 16 });
            let open = SymmetricParams {
                iv: Some(&iv),
                aad: params.aad,
                tag: sealed.tag.as_deref(),
            };
            assert_eq!(
                key.decrypt(alg, &sealed.ciphertext, &open)
                    .unwrap()
                    .expose(),
                plaintext
            );
            let expected_len = match alg.name() {
                name if name.ends_with("PAD") => 64,
                _ => 48,
            };
            assert_eq!(sealed.ciphertext.len(), expected_len, "{alg:?}");

            // Tampering with the ciphertext is refused by GCM. CBC has no integrity: plain CBC
            // only garbles, and CBC-PAD fails its padding check unless the garbled last block
            // happens to end in valid padding (about 1 time in 256), so neither may ever give
            // back the plaintext.
            let mut tampered = sealed.ciphertext.clone();
            let last = tampered.len() - 1;
            tampered[last] ^= 0x01;
            let result = key.decrypt(alg, &tampered, &open);
            if is_gcm {
                assert!(result.is_err(), "{alg:?}");
            } else if let Ok(garbled) = result {
                assert_ne!(garbled.expose(), plaintext, "{alg:?}");
            }
        }
    }
}

#[test]
fn aes_gcm_refuses_a_caller_nonce_and_bad_tags() {
    let key = PrivateKey::generate_oct(256).unwrap();
    let alg = EncryptionAlgorithm::A256Gcm;
    assert_eq!(
        key.encrypt(
            alg,
            b"x",
            &SymmetricParams {
                iv: Some(&[0u8; 12]),
                ..none()
            }
        )
        .unwrap_err(),
        KeyError::UnexpectedInput {
            what: "iv",
            alg: "A256GCM"
        }
    );
    let sealed = key.encrypt(alg, b"payload", &none()).unwrap();
    let iv = sealed.iv.unwrap();
    let tag = sealed.tag.unwrap();
    let mut bad_tag = tag.clone();
    bad_tag[0] ^= 1;
    let open = |tag: &[u8], aad: Option<&[u8]>| {
        key.decrypt(
            alg,
            &sealed.ciphertext,
            &SymmetricParams {
                iv: Some(&iv),
                aad,
                tag: Some(tag),
            },
        )
    };
    assert_eq!(open(&tag, None).unwrap().expose(), b"payload");
    assert_eq!(open(&bad_tag, None).unwrap_err(), KeyError::Decrypt);
    assert_eq!(open(&tag, Some(b"aad")).unwrap_err(), KeyError::Decrypt);
    assert!(matches!(
        open(&tag[..12], None),
        Err(KeyError::BadInputLength { what: "tag", .. })
    ));
}

/// McGrew and Viega's GCM test cases 2, 8 and 14 (the NIST GCM specification's vectors): the
/// zero key and nonce, one zero block, for 128-, 192- and 256-bit keys.
#[test]
fn aes_gcm_known_answers() {
    for (bits, ciphertext, tag) in [
        (
            128,
            "0388dace60b6a392f328c2b971b2fe78",
            "ab6e47d42cec13bdf53a67b21257bddf",
        ),
        (
            192,
            "98e7247c07f0fe411c267e4384b0f600",
            "2ff58d80033927ab8ef4d4587514f0fb",
        ),
        (
            256,
            "cea7403d4d606b6e074ec5d3baf39d18",
            "d0d1c8a799996bf0265b98b5d48ab919",
        ),
    ] {
        let key = PrivateKey::from_oct(&SecretBytes::new(vec![0; bits / 8])).unwrap();
        let alg = match bits {
            128 => EncryptionAlgorithm::A128Gcm,
            192 => EncryptionAlgorithm::A192Gcm,
            _ => EncryptionAlgorithm::A256Gcm,
        };
        let plaintext = key
            .decrypt(
                alg,
                &hex(ciphertext),
                &SymmetricParams {
                    iv: Some(&[0u8; 12]),
                    aad: None,
                    tag: Some(&hex(tag)),
                },
            )
            .unwrap();
        assert_eq!(plaintext.expose(), [0u8; 16], "{bits}");
    }
}

#[test]
fn aes_cbc_checks_lengths() {
    let key = PrivateKey::generate_oct(128).unwrap();
    assert!(matches!(
        key.encrypt(EncryptionAlgorithm::A128Cbc, &[0u8; 17], &none()),
        Err(KeyError::BadInputLength {
            what: "plaintext",
            len: 17,
            ..
        })
    ));
    assert!(matches!(
        key.encrypt(
            EncryptionAlgorithm::A128CbcPad,
            b"x",
            &SymmetricParams {
                iv: Some(&[0u8; 15]),
                ..none()
            }
        ),
        Err(KeyError::BadInputLength { what: "iv", .. })
    ));
    // A given IV is used as is: same IV and plaintext, same ciphertext.
    let iv = SymmetricParams {
        iv: Some(&[3u8; 16]),
        ..none()
    };
    let a = key
        .encrypt(EncryptionAlgorithm::A128CbcPad, b"abc", &iv)
        .unwrap();
    let b = key
        .encrypt(EncryptionAlgorithm::A128CbcPad, b"abc", &iv)
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.ciphertext.len(), 16);
    assert!(matches!(
        key.decrypt(EncryptionAlgorithm::A128CbcPad, &a.ciphertext[..15], &iv),
        Err(KeyError::BadInputLength {
            what: "ciphertext",
            ..
        })
    ));
}

/// RFC 3394 §4: every KEK size wrapping 128, 192 and 256 bits of key data.
#[test]
fn aes_key_wrap_known_answers_rfc3394() {
    let kek = hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    let data = hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
    for (kek_bits, data_bits, wrapped) in [
        (
            128,
            128,
            "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5",
        ),
        (
            192,
            128,
            "96778B25AE6CA435 F92B5B97C050AED2 468AB8A17AD84E5D",
        ),
        (
            256,
            128,
            "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7",
        ),
        (
            192,
            192,
            "031D33264E15D332 68F24EC260743EDC E1C6C7DDEE725A93 6BA814915C6762D2",
        ),
        (
            256,
            192,
            "A8F9BC1612C68B3F F6E6F4FBE30E71E4 769C8B80A32CB895 8CD5D17D6B254DA1",
        ),
        (
            256,
            256,
            "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21",
        ),
    ] {
        let key = PrivateKey::from_oct(&SecretBytes::from_slice(&kek[..kek_bits / 8])).unwrap();
        let alg = match kek_bits {
            128 => WrapAlgorithm::A128Kw,
            192 => WrapAlgorithm::A192Kw,
            _ => WrapAlgorithm::A256Kw,
        };
        let plain = &data[..data_bits / 8];
        let expected = hex(wrapped);
        for alg in [alg, WrapAlgorithm::AesKw] {
            assert_eq!(
                key.wrap_key(alg, plain).unwrap(),
                expected,
                "{kek_bits}/{data_bits}"
            );
            assert_eq!(key.unwrap_key(alg, &expected).unwrap().expose(), plain);
        }
        let mut tampered = expected.clone();
        tampered[9] ^= 0x01;
        assert_eq!(
            key.unwrap_key(WrapAlgorithm::AesKw, &tampered).unwrap_err(),
            KeyError::Decrypt
        );
    }
}

/// RFC 5649 §6: a 192-bit KEK wrapping 20 and 7 octets.
#[test]
fn aes_key_wrap_with_padding_known_answers_rfc5649() {
    let key = PrivateKey::from_oct(&SecretBytes::new(hex(
        "5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8",
    )))
    .unwrap();
    for (plain, wrapped) in [
        (
            "c37b7e6492584340 bed1220780894115 5068f738",
            "138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a",
        ),
        ("466f7250617369", "afbeb0f07dfbf541 9200f2ccb50bb24f"),
    ] {
        let (plain, wrapped) = (hex(plain), hex(wrapped));
        assert_eq!(
            key.wrap_key(WrapAlgorithm::AesKwPad, &plain).unwrap(),
            wrapped
        );
        assert_eq!(
            key.unwrap_key(WrapAlgorithm::AesKwPad, &wrapped)
                .unwrap()
                .expose(),
            plain
        );
        let mut tampered = wrapped.clone();
        tampered[0] ^= 0x80;
        assert_eq!(
            key.unwrap_key(WrapAlgorithm::AesKwPad, &tampered)
                .unwrap_err(),
            KeyError::Decrypt
        );
    }
}

/// The hand-written key wrap (used for 192-bit keys) agrees with aws-lc's for 128 and 256 bits,
/// with and without padding, at many lengths.
#[test]
fn own_key_wrap_matches_the_library() {
    for bits in [128, 256] {
        let kek = crate::random_vec(bits / 8).unwrap();
        let key = PrivateKey::from_oct(&SecretBytes::from_slice(&kek)).unwrap();
        let unbound = || {
            let algorithm = if bits == 128 {
                &aws_lc_rs::cipher::AES_128
            } else {
                &aws_lc_rs::cipher::AES_256
            };
            aws_lc_rs::cipher::UnboundCipherKey::new(algorithm, &kek).unwrap()
        };
        let block = kw::AesBlock::new(unbound(), unbound()).unwrap();
        for len in 1..80 {
            let data = crate::random_vec(len).unwrap();
            let library = key.wrap_key(WrapAlgorithm::AesKwPad, &data).unwrap();
            assert_eq!(kw::wrap_padded(&block, &data).unwrap(), library, "{len}");
            assert_eq!(kw::unwrap_padded(&block, &library).unwrap().expose(), data);
            if len >= 16 && len % 8 == 0 {
                let library = key.wrap_key(WrapAlgorithm::AesKw, &data).unwrap();
                assert_eq!(kw::wrap(&block, &data).unwrap(), library, "{len}");
                assert_eq!(kw::unwrap(&block, &library).unwrap().expose(), data);
            }
        }
    }
}

#[test]
fn key_wrap_refuses_wrong_sizes() {
    let key = PrivateKey::generate_oct(192).unwrap();
    assert_eq!(
        key.wrap_key(WrapAlgorithm::A256Kw, &[0u8; 32]).unwrap_err(),
        KeyError::BadKeySize {
            kty: "oct",
            bits: 192
        }
    );
    for len in [0, 8, 15, 17] {
        assert!(matches!(
            key.wrap_key(WrapAlgorithm::A192Kw, &vec![0u8; len]),
            Err(KeyError::BadInputLength { what: "key", .. })
        ));
    }
    assert!(matches!(
        key.wrap_key(WrapAlgorithm::AesKwPad, &[]),
        Err(KeyError::BadInputLength { what: "key", .. })
    ));
    assert!(matches!(
        key.unwrap_key(WrapAlgorithm::A192Kw, &[0u8; 20]),
        Err(KeyError::BadInputLength { .. })
    ));
    assert!(matches!(
        key.wrap_key(WrapAlgorithm::RsaOaep, &[0u8; 32]),
        Err(KeyError::UnsupportedAlgorithm { kty: "oct", .. })
    ));
    // Round trip for every oct wrap algorithm at its own size.
    for (bits, alg) in [
        (128, WrapAlgorithm::A128Kw),
        (192, WrapAlgorithm::A192Kw),
        (256, WrapAlgorithm::A256Kw),
    ] {
        let key = PrivateKey::generate_oct(bits).unwrap();
        for alg in [alg, WrapAlgorithm::AesKw, WrapAlgorithm::AesKwPad] {
            let cek = crate::random_vec(32).unwrap();
            let wrapped = key.wrap_key(alg, &cek).unwrap();
            assert_eq!(key.unwrap_key(alg, &wrapped).unwrap().expose(), cek);
            let other = PrivateKey::generate_oct(bits).unwrap();
            assert_eq!(
                other.unwrap_key(alg, &wrapped).unwrap_err(),
                KeyError::Decrypt
            );
        }
    }
}

#[test]
fn storage_refuses_garbage() {
    for bad in [&[][..], &[0x02, 3, 1, 2], &[0x01, 9], &[0x01, 2, 7, 0, 0]] {
        assert!(PrivateKey::from_storage(bad).is_err());
    }
    let rsa = PrivateKey::from_rsa_components(&fixture_rsa_components()).unwrap();
    let stored = rsa.to_storage().unwrap();
    let reloaded = PrivateKey::from_storage(stored.expose()).unwrap();
    assert_eq!(reloaded.public_jwk(), rsa.public_jwk());
}
