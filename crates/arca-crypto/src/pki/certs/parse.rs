//! Reading certificates for the certificates API: everything a CertificateBundle shows
//! (`x5t`, `cer`, nbf/exp, subject, SANs, EKUs, key usages) and what merge and import check
//! (the public key against a private key, CA flags, the signature by an issuer).
//!
//! Structure is read with `pki/der.rs`; signatures are verified with aws-lc. Every input has a
//! size limit (`MAX_CERT_LEN`, `MAX_CHAIN_LEN`, `MAX_INPUT_LEN` in `mod.rs`); malformed input is
//! an error, never a panic (the `cert_parse` fuzz target checks that).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use aws_lc_rs::signature::{self, VerificationAlgorithm};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::name::render_name_content;
use super::{
    cert_error, oid, SubjectAltNames, KEY_USAGE_NAMES, MAX_CERT_LEN, MAX_CHAIN_LEN, MAX_INPUT_LEN,
};
use crate::digest::{sha1_thumbprint, sha256};
use crate::keys::{PrivateKey, OID_EC_PUBLIC_KEY, OID_RSA_ENCRYPTION};
use crate::pki::der::{self, Tlv};
use crate::pki::x509::validity;
use crate::CryptoError;

/// One subject alternative name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SanEntry {
    /// dNSName.
    Dns(String),
    /// rfc822Name.
    Email(String),
    /// otherName with Microsoft's UPN OID and a UTF8String.
    Upn(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// iPAddress, as text.
    Ip(String),
    /// Any other kind, kept only as its GeneralName tag.
    Other(u8),
}

/// A certificate as the certificates API reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedCertificate {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The subject in Key Vault's string form.
    pub subject: String,
    /// The issuer in Key Vault's string form.
    pub issuer: String,
    /// The subject `Name`, DER (for matching an issuer byte for byte).
    pub subject_der: Vec<u8>,
    /// The issuer `Name`, DER.
    pub issuer_der: Vec<u8>,
    /// The serial number's magnitude, big-endian, without leading zeros.
    pub serial: Vec<u8>,
    /// Start of validity, Unix seconds (`nbf`).
    pub not_before: i64,
    /// End of validity, Unix seconds (`exp`).
    pub not_after: i64,
    /// SHA-1 of the DER: Key Vault's thumbprint.
    pub sha1: [u8; 20],
    /// SHA-256 of the DER.
    pub sha256: [u8; 32],
    /// The SubjectPublicKeyInfo, DER.
    pub spki_der: Vec<u8>,
    /// Subject alternative names, in certificate order.
    pub san_entries: Vec<SanEntry>,
    /// Extended key usages, dotted OIDs.
    pub ekus: Vec<String>,
    /// Key usages by Key Vault's names; empty when the extension is absent.
    pub key_usages: Vec<String>,
    /// Whether the keyUsage extension is present.
    pub has_key_usage: bool,
    /// basicConstraints cA.
    pub is_ca: bool,
    /// The subjectKeyIdentifier, if present.
    pub subject_key_id: Option<Vec<u8>>,
    /// The signed TBSCertificate, DER.
    tbs: Vec<u8>,
    /// The outer signature AlgorithmIdentifier's content.
    signature_algorithm: Vec<u8>,
    /// The signature bits.
    signature: Vec<u8>,
}

impl fmt::Debug for ParsedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedCertificate")
            .field("x5t", &self.x5t())
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl ParsedCertificate {
    /// Reads one DER certificate (at most `MAX_CERT_LEN` bytes) filling all of `der`.
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, CryptoError> {
        if der_bytes.len() > MAX_CERT_LEN {
            return Err(cert_error("the certificate is larger than 16 KiB"));
        }
        parse(der_bytes).ok_or_else(|| cert_error("the certificate is not a DER X.509 certificate"))
    }

    /// Reads PEM text holding one or more certificates and returns the first. Use
    /// [`chain_from_pem`] for a chain.
    pub fn from_pem(text: &str) -> Result<Self, CryptoError> {
        chain_from_pem(text)?
            .into_iter()
            .next()
            .ok_or_else(|| cert_error("the PEM text holds no certificate"))
    }

    /// `x5t`: the SHA-1 thumbprint, base64url without padding.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.sha1)
    }

    /// `cer`: the DER, base64.
    pub fn cer(&self) -> String {
        STANDARD.encode(&self.der)
    }

    /// The SANs grouped as Key Vault's `sans` lists them.
    pub fn sans(&self) -> SubjectAltNames {
        let mut out = SubjectAltNames::default();
        for entry in &self.san_entries {
            match entry {
                SanEntry::Dns(name) => out.dns_names.push(name.clone()),
                SanEntry::Email(name) => out.emails.push(name.clone()),
                SanEntry::Upn(name) => out.upns.push(name.clone()),
                SanEntry::Uri(name) => out.uris.push(name.clone()),
                SanEntry::Ip(name) => out.ip_addresses.push(name.clone()),
                SanEntry::Other(_) => {}
            }
        }
        out
    }

    /// Whether the certificate's public key is `key`'s public half.
    pub fn public_key_matches(&self, key: &PrivateKey) -> bool {
        let Some(public) = key.public_key() else {
            return false;
        };
        match (spki_key(&self.spki_der), spki_key(&public.to_spki_der())) {
            (Some(ours), Some(theirs)) => ours == theirs,
            _ => false,
        }
    }

    /// Whether the certificate may sign others: basicConstraints cA, and keyCertSign when a
    /// keyUsage extension is present.
    pub fn can_sign_certificates(&self) -> bool {
        self.is_ca && (!self.has_key_usage || self.key_usages.iter().any(|u| u == "keyCertSign"))
    }

    /// Checks that `issuer`'s key signed this certificate and that the names chain. Supports
    /// RSA PKCS#1 v1.5 and PSS (SHA-256/384/512, salt as long as the hash) and ECDSA on P-256,
    /// P-256K, P-384 and P-521 with SHA-256/384/512.
    pub fn verify_signed_by(&self, issuer: &ParsedCertificate) -> Result<(), CryptoError> {
        if self.issuer_der != issuer.subject_der {
            return Err(cert_error(
                "a certificate's issuer is not the next certificate's subject",
            ));
        }
        let algorithm = verification_algorithm(&self.signature_algorithm, &issuer.spki_der)
            .ok_or_else(|| cert_error("a certificate's signature algorithm is not supported"))?;
        let key_bits = spki_parts(&issuer.spki_der)
            .map(|(_, _, bits)| bits)
            .ok_or_else(|| cert_error("the issuer's public key cannot be read"))?;
        signature::UnparsedPublicKey::new(algorithm, key_bits)
            .verify(&self.tbs, &self.signature)
            .map_err(|_| {
                cert_error("a certificate's signature does not verify with its issuer's key")
            })
    }
}

/// The certificate's DER as PEM (`CERTIFICATE`).
pub fn certificate_pem(der_bytes: &[u8]) -> String {
    super::pem_block("CERTIFICATE", der_bytes)
}

/// Every `CERTIFICATE` block of PEM text, in order (other blocks are skipped without being
/// decoded). At least one, at most `MAX_CHAIN_LEN`; the text at most `MAX_INPUT_LEN` bytes.
pub fn chain_from_pem(text: &str) -> Result<Vec<ParsedCertificate>, CryptoError> {
    if text.len() > MAX_INPUT_LEN {
        return Err(cert_error("the PEM text is larger than 256 KiB"));
    }
    let blocks = der::pem_blocks(text).ok_or_else(|| cert_error("the PEM text is malformed"))?;
    let mut chain = Vec::new();
    for block in blocks.iter().filter(|b| b.label == "CERTIFICATE") {
        push_pem_certificate(&mut chain, block)?;
    }
    if chain.is_empty() {
        return Err(cert_error("the PEM text holds no certificate"));
    }
    Ok(chain)
}

/// Decodes a `CERTIFICATE` block onto `chain`, refusing the `MAX_CHAIN_LEN + 1`th.
pub(crate) fn push_pem_certificate(
    chain: &mut Vec<ParsedCertificate>,
    block: &der::PemBlock<'_>,
) -> Result<(), CryptoError> {
    if chain.len() == MAX_CHAIN_LEN {
        return Err(cert_error("the chain has more than 10 certificates"));
    }
    let der_bytes = block
        .decode()
        .ok_or_else(|| cert_error("a PEM certificate is not valid base64"))?;
    chain.push(ParsedCertificate::from_der(&der_bytes)?);
    Ok(())
}

/// Moves the certificate holding `key` to the front, the others keeping their order; an error
/// when no certificate holds it (an import must not pair a key with someone else's certificate).
pub(crate) fn key_certificate_first(
    chain: &mut Vec<ParsedCertificate>,
    key: &PrivateKey,
) -> Result<(), CryptoError> {
    let leaf = chain
        .iter()
        .position(|c| c.public_key_matches(key))
        .ok_or_else(|| cert_error("no certificate holds the private key"))?;
    let leaf = chain.remove(leaf);
    chain.insert(0, leaf);
    Ok(())
}

/// A chain from DER certificates (merge's `x5c`, already base64-decoded), in the order given.
pub fn chain_from_der_list(list: &[Vec<u8>]) -> Result<Vec<ParsedCertificate>, CryptoError> {
    if list.is_empty() {
        return Err(cert_error("the chain is empty"));
    }
    if list.len() > MAX_CHAIN_LEN {
        return Err(cert_error("the chain has more than 10 certificates"));
    }
    list.iter()
        .map(|d| ParsedCertificate::from_der(d))
        .collect()
}

fn parse(der_bytes: &[u8]) -> Option<ParsedCertificate> {
    let cert = der::read_only(der_bytes, der::TAG_SEQUENCE)?;
    let parts = der::children(cert.content)?;
    let [tbs, algorithm, signature] = parts.as_slice() else {
        return None;
    };
    if tbs.tag != der::TAG_SEQUENCE || algorithm.tag != der::TAG_SEQUENCE {
        return None;
    }
    let signature = der::bit_string(signature)?;
    let fields = der::children(tbs.content)?;
    let offset = usize::from(fields.first()?.tag == der::TAG_VERSION);
    let field = |i: usize, tag: u8| fields.get(offset + i).filter(|f| f.tag == tag).copied();
    let serial = field(0, der::TAG_INTEGER)?;
    let inner_algorithm = field(1, der::TAG_SEQUENCE)?;
    if inner_algorithm.raw != algorithm.raw {
        return None;
    }
    let issuer = field(2, der::TAG_SEQUENCE)?;
    let (not_before, not_after) = validity(field(3, der::TAG_SEQUENCE)?.content)?;
    let subject = field(4, der::TAG_SEQUENCE)?;
    let spki = field(5, der::TAG_SEQUENCE)?;
    spki_parts(spki.raw)?;
    let serial = der::unsigned_integer(&serial)?;
    if serial.len() > 20 {
        return None;
    }
    let mut parsed = ParsedCertificate {
        der: der_bytes.to_vec(),
        subject: render_name_content(subject.content)?,
        issuer: render_name_content(issuer.content)?,
        subject_der: subject.raw.to_vec(),
        issuer_der: issuer.raw.to_vec(),
        serial: serial.to_vec(),
        not_before,
        not_after,
        sha1: sha1_thumbprint(der_bytes),
        sha256: sha256(der_bytes),
        spki_der: spki.raw.to_vec(),
        san_entries: Vec::new(),
        ekus: Vec::new(),
        key_usages: Vec::new(),
        has_key_usage: false,
        is_ca: false,
        subject_key_id: None,
        tbs: tbs.raw.to_vec(),
        signature_algorithm: algorithm.content.to_vec(),
        signature: signature.to_vec(),
    };
    if let Some(extensions) = fields
        .iter()
        .skip(offset + 6)
        .find(|f| f.tag == der::TAG_EXTENSIONS)
    {
        read_extensions(extensions.content, &mut parsed)?;
    }
    Some(parsed)
}

fn read_extensions(wrapper: &[u8], out: &mut ParsedCertificate) -> Option<()> {
    let list = der::read_only(wrapper, der::TAG_SEQUENCE)?;
    let mut seen: Vec<Vec<u64>> = Vec::new();
    for extension in der::children(list.content)? {
        if extension.tag != der::TAG_SEQUENCE {
            return None;
        }
        let parts = der::children(extension.content)?;
        let (id, value) = match parts.as_slice() {
            [id, value] => (id, value),
            [id, critical, value] if critical.tag == der::TAG_BOOLEAN => (id, value),
            _ => return None,
        };
        if id.tag != der::TAG_OID || value.tag != der::TAG_OCTET_STRING {
            return None;
        }
        let arcs = der::oid_arcs(id.content)?;
        if seen.contains(&arcs) {
            // RFC 5280 §4.2: an extension appears at most once.
            return None;
        }
        let value = value.content;
        match arcs.as_slice() {
            a if a == oid::SUBJECT_ALT_NAME => out.san_entries = general_names(value)?,
            a if a == oid::EXT_KEY_USAGE => {
                let list = der::read_only(value, der::TAG_SEQUENCE)?;
                for id in der::children(list.content)? {
                    if id.tag != der::TAG_OID {
                        return None;
                    }
                    out.ekus.push(dotted(&der::oid_arcs(id.content)?));
                }
            }
            a if a == oid::KEY_USAGE => {
                let bits = der::read_only(value, der::TAG_BIT_STRING)?;
                let (_, octets) = bits.content.split_first()?;
                out.has_key_usage = true;
                for (index, name) in KEY_USAGE_NAMES.iter().enumerate() {
                    let set = octets
                        .get(index / 8)
                        .is_some_and(|octet| octet & (0x80 >> (index % 8)) != 0);
                    if set {
                        out.key_usages.push((*name).to_owned());
                    }
                }
            }
            a if a == oid::BASIC_CONSTRAINTS => {
                let sequence = der::read_only(value, der::TAG_SEQUENCE)?;
                let fields = der::children(sequence.content)?;
                out.is_ca = fields
                    .first()
                    .is_some_and(|f| f.tag == der::TAG_BOOLEAN && f.content == [0xff]);
            }
            a if a == oid::SUBJECT_KEY_ID => {
                out.subject_key_id = Some(
                    der::read_only(value, der::TAG_OCTET_STRING)?
                        .content
                        .to_vec(),
                );
            }
            _ => {}
        }
        seen.push(arcs);
    }
    Some(())
}

fn general_names(value: &[u8]) -> Option<Vec<SanEntry>> {
    let list = der::read_only(value, der::TAG_SEQUENCE)?;
    let text = |tlv: &Tlv<'_>| {
        std::str::from_utf8(tlv.content)
            .ok()
            .filter(|s| !s.contains(char::is_control))
            .map(str::to_owned)
    };
    der::children(list.content)?
        .iter()
        .map(|name| {
            Some(match name.tag {
                0x81 => SanEntry::Email(text(name)?),
                0x82 => SanEntry::Dns(text(name)?),
                0x86 => SanEntry::Uri(text(name)?),
                0x87 => SanEntry::Ip(match name.content.len() {
                    4 => Ipv4Addr::from(<[u8; 4]>::try_from(name.content).ok()?).to_string(),
                    16 => Ipv6Addr::from(<[u8; 16]>::try_from(name.content).ok()?).to_string(),
                    _ => return None,
                }),
                0xa0 => {
                    let parts = der::children(name.content)?;
                    match parts.as_slice() {
                        [id, value]
                            if id.tag == der::TAG_OID
                                && der::oid_arcs(id.content)? == oid::UPN
                                && value.tag == 0xa0 =>
                        {
                            let inner = der::read_only(value.content, der::TAG_UTF8_STRING)?;
                            SanEntry::Upn(text(&inner)?)
                        }
                        _ => SanEntry::Other(name.tag),
                    }
                }
                tag => SanEntry::Other(tag),
            })
        })
        .collect()
}

fn dotted(arcs: &[u64]) -> String {
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// An SPKI's algorithm OID, curve OID (EC) and key bits.
type SpkiParts<'a> = (Vec<u64>, Option<Vec<u64>>, &'a [u8]);

/// Splits an SPKI into its parts.
pub(crate) fn spki_parts(spki: &[u8]) -> Option<SpkiParts<'_>> {
    let sequence = der::read_only(spki, der::TAG_SEQUENCE)?;
    let parts = der::children(sequence.content)?;
    let [algorithm, bits] = parts.as_slice() else {
        return None;
    };
    if algorithm.tag != der::TAG_SEQUENCE {
        return None;
    }
    let algorithm = der::children(algorithm.content)?;
    let id = algorithm.first().filter(|t| t.tag == der::TAG_OID)?;
    let curve = algorithm
        .get(1)
        .filter(|t| t.tag == der::TAG_OID)
        .and_then(|t| der::oid_arcs(t.content));
    Some((der::oid_arcs(id.content)?, curve, der::bit_string(bits)?))
}

/// What identifies a public key, independent of encoding details: for RSA the modulus and
/// exponent, for EC the curve and point.
#[derive(PartialEq, Eq)]
enum KeyIdentity {
    Rsa(Vec<u8>, Vec<u8>),
    Ec(Vec<u64>, Vec<u8>),
}

fn spki_key(spki: &[u8]) -> Option<KeyIdentity> {
    let (algorithm, curve, bits) = spki_parts(spki)?;
    if algorithm == OID_RSA_ENCRYPTION {
        let (n, e) = der::rsa_public_key(bits)?;
        Some(KeyIdentity::Rsa(n.to_vec(), e.to_vec()))
    } else if algorithm == OID_EC_PUBLIC_KEY {
        Some(KeyIdentity::Ec(curve?, bits.to_vec()))
    } else {
        None
    }
}

/// The aws-lc verification algorithm for a signature AlgorithmIdentifier (content) and an
/// issuer key.
fn verification_algorithm(
    algorithm: &[u8],
    issuer_spki: &[u8],
) -> Option<&'static dyn VerificationAlgorithm> {
    let parts = der::children(algorithm)?;
    let id = parts.first().filter(|t| t.tag == der::TAG_OID)?;
    let id = der::oid_arcs(id.content)?;
    let (key_type, curve, _) = spki_parts(issuer_spki)?;
    let curve = curve.unwrap_or_default();
    let p256: &[u64] = crate::keys::Curve::P256.oid();
    let p256k: &[u64] = crate::keys::Curve::P256K.oid();
    let p384: &[u64] = crate::keys::Curve::P384.oid();
    let p521: &[u64] = crate::keys::Curve::P521.oid();
    if key_type == OID_RSA_ENCRYPTION {
        return Some(match id.as_slice() {
            a if a == oid::SHA256_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA256,
            a if a == oid::SHA384_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA384,
            a if a == oid::SHA512_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA512,
            a if a == oid::RSASSA_PSS => match pss_hash(parts.get(1)?)? {
                32 => &signature::RSA_PSS_2048_8192_SHA256,
                48 => &signature::RSA_PSS_2048_8192_SHA384,
                64 => &signature::RSA_PSS_2048_8192_SHA512,
                _ => return None,
            },
            _ => return None,
        });
    }
    if key_type != OID_EC_PUBLIC_KEY || parts.len() != 1 {
        return None;
    }
    let hash = match id.as_slice() {
        a if a == oid::ECDSA_SHA256 => 256,
        a if a == oid::ECDSA_SHA384 => 384,
        a if a == oid::ECDSA_SHA512 => 512,
        _ => return None,
    };
    Some(match (curve.as_slice(), hash) {
        (c, 256) if c == p256 => &signature::ECDSA_P256_SHA256_ASN1,
        (c, 384) if c == p256 => &signature::ECDSA_P256_SHA384_ASN1,
        (c, 512) if c == p256 => &signature::ECDSA_P256_SHA512_ASN1,
        (c, 256) if c == p256k => &signature::ECDSA_P256K1_SHA256_ASN1,
        (c, 256) if c == p384 => &signature::ECDSA_P384_SHA256_ASN1,
        (c, 384) if c == p384 => &signature::ECDSA_P384_SHA384_ASN1,
        (c, 512) if c == p384 => &signature::ECDSA_P384_SHA512_ASN1,
        (c, 256) if c == p521 => &signature::ECDSA_P521_SHA256_ASN1,
        (c, 384) if c == p521 => &signature::ECDSA_P521_SHA384_ASN1,
        (c, 512) if c == p521 => &signature::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    })
}

/// The hash length of RSASSA-PSS parameters, when the MGF1 hash is the same and the salt is
/// as long as the hash (the only form aws-lc verifies). SHA-1 (the defaults) is refused.
fn pss_hash(params: &Tlv<'_>) -> Option<usize> {
    if params.tag != der::TAG_SEQUENCE {
        return None;
    }
    let mut hash = None;
    let mut mgf_hash = None;
    let mut salt = 20usize;
    for field in der::children(params.content)? {
        match field.tag {
            0xa0 => hash = Some(hash_len(der::read_only(field.content, der::TAG_SEQUENCE)?)?),
            0xa1 => {
                let mgf = der::read_only(field.content, der::TAG_SEQUENCE)?;
                let mgf = der::children(mgf.content)?;
                let inner = mgf.get(1).filter(|t| t.tag == der::TAG_SEQUENCE)?;
                mgf_hash = Some(hash_len(*inner)?);
            }
            0xa2 => {
                let value = der::read_only(field.content, der::TAG_INTEGER)?;
                let magnitude = der::unsigned_integer(&value)?;
                if magnitude.len() > 2 {
                    return None;
                }
                salt = magnitude.iter().fold(0, |n, b| n * 256 + usize::from(*b));
            }
            0xa3 => {}
            _ => return None,
        }
    }
    let hash = hash?;
    (mgf_hash == Some(hash) && salt == hash).then_some(hash)
}

/// The output length of a hash AlgorithmIdentifier: SHA-256, -384 or -512.
fn hash_len(algorithm: Tlv<'_>) -> Option<usize> {
    let parts = der::children(algorithm.content)?;
    let id = parts.first().filter(|t| t.tag == der::TAG_OID)?;
    match der::oid_arcs(id.content)?.as_slice() {
        a if a == oid::SHA256 => Some(32),
        a if a == oid::SHA384 => Some(48),
        a if a == oid::SHA512 => Some(64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::{P256_CERT, RSA2048_CERT};

    #[test]
    fn reads_the_fixture_certificates() {
        let rsa = ParsedCertificate::from_pem(RSA2048_CERT).unwrap();
        assert_eq!(rsa.subject, r#"CN=arca-test-app, O="Example, Inc.", C=GB"#);
        assert_eq!(rsa.x5t(), URL_SAFE_NO_PAD.encode(rsa.sha1));
        assert_eq!(
            rsa.sha1[..4],
            [0x50, 0x8d, 0x6f, 0x46],
            "openssl's fingerprint starts 50:8D:6F:46"
        );
        let ec = ParsedCertificate::from_pem(P256_CERT).unwrap();
        assert_eq!(ec.subject, "CN=arca-test-ec");
        assert_eq!(ec.not_after, 2_659_315_687);
        assert_eq!(
            format!("{ec:?}"),
            format!(
                "ParsedCertificate {{ x5t: {:?}, subject: \"CN=arca-test-ec\", .. }}",
                ec.x5t()
            )
        );
    }

    #[test]
    fn limits_and_garbage_are_refused() {
        assert!(ParsedCertificate::from_der(&[]).is_err());
        assert!(ParsedCertificate::from_der(&vec![0x30; MAX_CERT_LEN + 1]).is_err());
        assert!(ParsedCertificate::from_pem("nothing").is_err());
        let eleven = RSA2048_CERT.repeat(11);
        assert!(chain_from_pem(&eleven)
            .unwrap_err()
            .to_string()
            .contains("10"));
        assert_eq!(chain_from_pem(&RSA2048_CERT.repeat(10)).unwrap().len(), 10);
        assert!(chain_from_pem(&"x".repeat(MAX_INPUT_LEN + 1)).is_err());
        assert!(chain_from_der_list(&[]).is_err());
        let der_bytes = ParsedCertificate::from_pem(RSA2048_CERT).unwrap().der;
        assert!(chain_from_der_list(&vec![der_bytes.clone(); 11]).is_err());
        assert!(ParsedCertificate::from_der(&der_bytes[..der_bytes.len() - 1]).is_err());
    }
}
