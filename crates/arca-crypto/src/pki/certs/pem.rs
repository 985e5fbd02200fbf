//! PEM for the certificates API: reading an imported bundle (a private key and certificates)
//! and writing Key Vault's `application/x-pem-file` secret.
//!
//! Keys are read from `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1, wrapped into PKCS#8)
//! and `EC PRIVATE KEY` (SEC1 with its named curve, wrapped into PKCS#8); `ENCRYPTED PRIVATE
//! KEY` (PKCS#8 under PBES2, the scheme `pfx.rs` decrypts) when a password is given. Legacy
//! OpenSSL-encrypted PEM (`Proc-Type: 4,ENCRYPTED`) is refused. Other blocks (`EC PARAMETERS`,
//! ...) are ignored. Key bytes and their base64 text are only held in zeroizing buffers.
//!
//! The secret written is the key as PKCS#8 `PRIVATE KEY` followed by the certificates, leaf
//! first, each `CERTIFICATE` block in 64-column base64 with `\n` line ends; without a key (not
//! exportable) only the certificates.

use zeroize::Zeroizing;

use super::parse::{key_certificate_first, push_pem_certificate, ParsedCertificate};
use super::pfx::decrypt_pkcs8;
use super::{cert_error, pem_block, MAX_INPUT_LEN};
use crate::keys::{PrivateKey, OID_EC_PUBLIC_KEY, OID_RSA_ENCRYPTION};
use crate::pki::der;
use crate::{private_key_pem, CryptoError, SecretBytes, SecretString};

/// What an imported PEM bundle holds.
#[derive(Debug)]
pub struct PemBundle {
    /// The private key, if the bundle had one.
    pub key: Option<PrivateKey>,
    /// The certificates: the key's certificate first when there is a key, then the others in
    /// the order given.
    pub chain: Vec<ParsedCertificate>,
}

/// Reads a PEM bundle: at most one private key and 1 to `MAX_CHAIN_LEN` certificates; with a key,
/// the certificate holding it must be present and comes first.
/// `password` opens an `ENCRYPTED PRIVATE KEY`.
pub fn parse_pem_bundle(
    text: &str,
    password: Option<&SecretString>,
) -> Result<PemBundle, CryptoError> {
    if text.len() > MAX_INPUT_LEN {
        return Err(cert_error("the PEM text is larger than 256 KiB"));
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(cert_error(
            "legacy encrypted PEM keys are not supported; use PKCS#8 (ENCRYPTED PRIVATE KEY)",
        ));
    }
    let blocks = der::pem_blocks(text).ok_or_else(|| cert_error("the PEM text is malformed"))?;
    let mut key = None;
    let mut chain = Vec::new();
    for block in &blocks {
        let pkcs8: SecretBytes = match block.label {
            "CERTIFICATE" => {
                push_pem_certificate(&mut chain, block)?;
                continue;
            }
            "PRIVATE KEY" => secret_block(block)?,
            "RSA PRIVATE KEY" => pkcs1_to_pkcs8(&secret_block(block)?),
            "EC PRIVATE KEY" => sec1_to_pkcs8(&secret_block(block)?)?,
            "ENCRYPTED PRIVATE KEY" => {
                let password = password.ok_or_else(|| {
                    cert_error("the PEM key is encrypted and no password was given")
                })?;
                decrypt_pkcs8(secret_block(block)?.expose(), password)?
            }
            _ => continue,
        };
        if key.is_some() {
            return Err(cert_error("the PEM text holds more than one private key"));
        }
        key = Some(
            PrivateKey::from_pkcs8(pkcs8.expose())
                .map_err(|e| CryptoError::Certificate(format!("the PEM private key: {e}")))?,
        );
    }
    if chain.is_empty() {
        return Err(cert_error("the PEM text holds no certificate"));
    }
    if let Some(key) = &key {
        key_certificate_first(&mut chain, key)?;
    }
    Ok(PemBundle { key, chain })
}

fn secret_block(block: &der::PemBlock<'_>) -> Result<SecretBytes, CryptoError> {
    block
        .decode_secret()
        .ok_or_else(|| cert_error("a PEM private key is not valid base64"))
}

/// PKCS#1 `RSAPrivateKey` wrapped as PKCS#8.
fn pkcs1_to_pkcs8(pkcs1: &SecretBytes) -> SecretBytes {
    let algorithm = der::encode(
        der::TAG_SEQUENCE,
        &[
            der::encode_oid(OID_RSA_ENCRYPTION),
            der::encode(der::TAG_NULL, &[]),
        ]
        .concat(),
    );
    wrap_pkcs8(&algorithm, pkcs1)
}

/// SEC1 `ECPrivateKey` (with its named curve) wrapped as PKCS#8.
fn sec1_to_pkcs8(sec1: &SecretBytes) -> Result<SecretBytes, CryptoError> {
    let bad = || cert_error("the EC private key is not SEC1 with a named curve");
    let key = der::read_only(sec1.expose(), der::TAG_SEQUENCE).ok_or_else(bad)?;
    let fields = der::children(key.content).ok_or_else(bad)?;
    let curve = fields
        .iter()
        .find(|f| f.tag == 0xa0)
        .and_then(|f| der::read_only(f.content, der::TAG_OID))
        .ok_or_else(bad)?;
    let algorithm = der::encode(
        der::TAG_SEQUENCE,
        &[der::encode_oid(OID_EC_PUBLIC_KEY), curve.raw.to_vec()].concat(),
    );
    Ok(wrap_pkcs8(&algorithm, sec1))
}

fn wrap_pkcs8(algorithm: &[u8], private: &SecretBytes) -> SecretBytes {
    let octets = Zeroizing::new(der::encode(der::TAG_OCTET_STRING, private.expose()));
    let mut content = Zeroizing::new(Vec::with_capacity(octets.len() + algorithm.len() + 3));
    content.extend_from_slice(&der::encode_unsigned_integer(&[]));
    content.extend_from_slice(algorithm);
    content.extend_from_slice(&octets);
    SecretBytes::new(der::encode(der::TAG_SEQUENCE, &content))
}

/// Key Vault's `application/x-pem-file` secret: the key (PKCS#8 `PRIVATE KEY`) when given,
/// then every certificate of `chain` (leaf first) as `CERTIFICATE`.
pub fn build_pem_secret(
    key: Option<&PrivateKey>,
    chain: &[Vec<u8>],
) -> Result<SecretString, CryptoError> {
    let mut out = Zeroizing::new(String::new());
    if let Some(key) = key {
        let pkcs8 = key
            .to_pkcs8()
            .map_err(|_| cert_error("the certificate key cannot be exported"))?;
        out.push_str(private_key_pem(&pkcs8).expose());
    }
    for cert in chain {
        out.push_str(&pem_block("CERTIFICATE", cert));
    }
    Ok(SecretString::new(std::mem::take(&mut *out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Curve;
    use crate::pki::certs::build::test_certificate;

    fn cert_for(key: &PrivateKey) -> Vec<u8> {
        test_certificate(key, "CN=pem")
    }

    #[test]
    fn secret_round_trips_with_and_without_key() {
        let key = PrivateKey::generate_ec(Curve::P384).unwrap();
        let cert = cert_for(&key);
        let secret = build_pem_secret(Some(&key), std::slice::from_ref(&cert)).unwrap();
        assert!(secret.expose().starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(secret.expose().ends_with("-----END CERTIFICATE-----\n"));
        let bundle = parse_pem_bundle(secret.expose(), None).unwrap();
        assert!(bundle.chain[0].public_key_matches(bundle.key.as_ref().unwrap()));
        assert_eq!(bundle.chain[0].der, cert);

        let public_only = build_pem_secret(None, &[cert.clone(), cert]).unwrap();
        assert!(public_only
            .expose()
            .starts_with("-----BEGIN CERTIFICATE-----\n"));
        let bundle = parse_pem_bundle(public_only.expose(), None).unwrap();
        assert!(bundle.key.is_none());
        assert_eq!(bundle.chain.len(), 2);
    }

    #[test]
    fn bundle_puts_the_keys_certificate_first_and_refuses_a_key_without_one() {
        // Found by the cert_parse fuzz target: a bundle whose first certificate was not the
        // key's was returned as given.
        let key = PrivateKey::generate_ec(Curve::P256).unwrap();
        let other = PrivateKey::generate_ec(Curve::P256).unwrap();
        let (mine, theirs) = (cert_for(&key), cert_for(&other));
        let key_pem = build_pem_secret(Some(&key), &[]).unwrap();
        let text = format!(
            "{}{}{}",
            key_pem.expose(),
            pem_block("CERTIFICATE", &theirs),
            pem_block("CERTIFICATE", &mine)
        );
        let bundle = parse_pem_bundle(&text, None).unwrap();
        assert_eq!(bundle.chain[0].der, mine);
        assert_eq!(bundle.chain[1].der, theirs);
        let unmatched = format!("{}{}", key_pem.expose(), pem_block("CERTIFICATE", &theirs));
        let err = parse_pem_bundle(&unmatched, None).unwrap_err().to_string();
        assert!(err.contains("holds the private key"), "{err}");
    }

    #[test]
    fn bad_bundles_are_refused_without_echoing_key_text() {
        let key = PrivateKey::generate_ec(Curve::P256).unwrap();
        let cert = pem_block("CERTIFICATE", &cert_for(&key));
        let key_pem = build_pem_secret(Some(&key), &[]).unwrap();
        let key_pem = key_pem.expose();
        let two_keys = format!("{key_pem}{key_pem}{cert}");
        let garbled_key = format!("{}{cert}", key_pem.replace('M', "!"));
        let legacy = format!("Proc-Type: 4,ENCRYPTED\n{key_pem}{cert}");
        for bad in [
            key_pem.to_owned(),
            two_keys,
            garbled_key,
            legacy,
            "x".into(),
        ] {
            let err = parse_pem_bundle(&bad, None).unwrap_err();
            let shown = format!("{err} {err:?}");
            for line in key_pem.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!shown.contains(line), "{shown}");
            }
        }
    }
}
