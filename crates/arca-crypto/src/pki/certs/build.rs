//! From a description of a certificate (Key Vault's `x509_props`) and a `keys::PrivateKey` to
//! DER: a self-signed certificate (issuer `Self`), a PKCS#10 CSR (issuer `Unknown`, what the
//! pending operation's `csr` shows) and a certificate issued by a CA (the built-in issuer).
//!
//! Encoding choices: X.509 v3; a random positive 16-octet serial; validity from 5 minutes
//! before `now` (clock skew) to `now` plus `validity_months` calendar months; signatures
//! sha256WithRSAEncryption for RSA keys and ECDSA with the curve's hash (SHA-256 for P-256 and
//! P-256K, SHA-384 for P-384, SHA-512 for P-521); extensions: subjectKeyIdentifier (SHA-1 of
//! the key), authorityKeyIdentifier, keyUsage (critical) when usages are given,
//! extendedKeyUsage when EKUs are given, subjectAltName when names are given, and
//! basicConstraints `cA=TRUE` (critical) only when keyCertSign is among the usages.

use std::net::IpAddr;

use aws_lc_rs::digest;

use super::name::{encode_subject, parse_dotted_oid};
use super::parse::ParsedCertificate;
use super::{add_months, cert_error, civil, oid, SubjectAltNames, KEY_USAGE_NAMES, MAX_TIME};
use crate::digest::sha1_thumbprint;
use crate::keys::{Curve, KeyType, PrivateKey, PublicKey, SignatureAlgorithm};
use crate::pki::ca::is_dns_name;
use crate::pki::der;
use crate::seal::random::random_bytes;
use crate::{CaMaterial, CryptoError};

/// Longest validity Key Vault accepts for a certificate it makes, in months (a guess: the
/// documents give no maximum; 100 years keeps dates far inside GeneralizedTime).
pub const MAX_VALIDITY_MONTHS: u32 = 1_200;
/// Most entries in each SAN list and EKUs.
const MAX_LIST_LEN: usize = 100;
/// Longest single SAN entry, bytes.
const MAX_SAN_LEN: usize = 1_024;
/// Seconds the validity starts before `now`, for clients whose clocks run behind.
const BACKDATE: i64 = 300;

/// What a certificate says: Key Vault's `x509_props`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateDescription {
    /// The subject in Key Vault's string form (`CN=www.example.com, O=Contoso`).
    pub subject: String,
    /// Subject alternative names.
    pub sans: SubjectAltNames,
    /// Extended key usages as dotted OIDs (`1.3.6.1.5.5.7.3.1`).
    pub ekus: Vec<String>,
    /// Key usages by Key Vault's names ([`KEY_USAGE_NAMES`]); empty for no keyUsage extension.
    pub key_usages: Vec<String>,
    /// Validity in months, 1 to [`MAX_VALIDITY_MONTHS`].
    pub validity_months: u32,
}

/// A CA that issues certificates: its certificate (DER) and its private key.
pub struct CertificateIssuer {
    cert_der: Vec<u8>,
    key: PrivateKey,
}

impl std::fmt::Debug for CertificateIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateIssuer")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl CertificateIssuer {
    /// A CA from its certificate (DER) and key; the key must belong to the certificate, and
    /// the certificate must be a CA (basicConstraints cA, keyCertSign if key usage is present).
    pub fn new(cert_der: Vec<u8>, key: PrivateKey) -> Result<Self, CryptoError> {
        let parsed = ParsedCertificate::from_der(&cert_der)?;
        if !parsed.public_key_matches(&key) {
            return Err(cert_error(
                "the CA key does not belong to the CA certificate",
            ));
        }
        if !parsed.can_sign_certificates() {
            return Err(cert_error("the issuer certificate is not a CA certificate"));
        }
        Ok(Self { cert_der, key })
    }

    /// The local CA ([`CaMaterial`]) as an issuer.
    pub fn from_ca_material(ca: &CaMaterial) -> Result<Self, CryptoError> {
        let cert_der = der::pem_decode(&ca.cert_pem, "CERTIFICATE")
            .ok_or_else(|| cert_error("the CA certificate is not a PEM certificate"))?;
        let key = PrivateKey::from_pkcs8(ca.key_pkcs8.expose())
            .map_err(|_| cert_error("the CA key is not a supported PKCS#8 private key"))?;
        Self::new(cert_der, key)
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }
}

/// The description checked and encoded, ready to be placed into a TBS or a CSR.
struct Encoded {
    subject: Vec<u8>,
    /// Extensions other than the key identifiers, each a DER `Extension`.
    extensions: Vec<Vec<u8>>,
    validity_months: u32,
}

fn encode_description(description: &CertificateDescription) -> Result<Encoded, CryptoError> {
    let subject = encode_subject(&description.subject)?;
    let months = description.validity_months;
    if months == 0 || months > MAX_VALIDITY_MONTHS {
        return Err(CryptoError::Certificate(format!(
            "validity_months must be between 1 and {MAX_VALIDITY_MONTHS}"
        )));
    }
    let mut extensions = Vec::new();
    let usage_bits = key_usage_bits(&description.key_usages)?;
    if usage_bits & (1 << 5) != 0 {
        let ca_true = der::encode(der::TAG_SEQUENCE, &der::encode(der::TAG_BOOLEAN, &[0xff]));
        extensions.push(extension(oid::BASIC_CONSTRAINTS, true, &ca_true));
    }
    if usage_bits != 0 {
        extensions.push(extension(oid::KEY_USAGE, true, &key_usage_der(usage_bits)));
    }
    if !description.ekus.is_empty() {
        if description.ekus.len() > MAX_LIST_LEN {
            return Err(cert_error("too many ekus (at most 100)"));
        }
        let mut content = Vec::new();
        for eku in &description.ekus {
            let arcs = parse_dotted_oid(eku.trim()).ok_or_else(|| {
                CryptoError::Certificate(format!(
                    "the eku {:?} is not a dotted OID",
                    eku.chars().take(64).collect::<String>()
                ))
            })?;
            content.extend(der::encode_oid(&arcs));
        }
        let value = der::encode(der::TAG_SEQUENCE, &content);
        extensions.push(extension(oid::EXT_KEY_USAGE, false, &value));
    }
    if !description.sans.is_empty() {
        let value = der::encode(der::TAG_SEQUENCE, &general_names(&description.sans)?);
        extensions.push(extension(oid::SUBJECT_ALT_NAME, false, &value));
    }
    Ok(Encoded {
        subject,
        extensions,
        validity_months: months,
    })
}

/// The KeyUsage bits (bit 0 = digitalSignature) of Key Vault's names; unknown names refused.
fn key_usage_bits(names: &[String]) -> Result<u16, CryptoError> {
    let mut bits = 0u16;
    for name in names {
        let index = KEY_USAGE_NAMES
            .iter()
            .position(|known| known.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                CryptoError::Certificate(format!(
                    "unknown key usage {:?}; expected one of {}",
                    name.chars().take(32).collect::<String>(),
                    KEY_USAGE_NAMES.join(", ")
                ))
            })?;
        bits |= 1 << index;
    }
    Ok(bits)
}

/// KeyUsage as a DER BIT STRING: bit 0 is the most significant bit of the first octet,
/// trailing zero bits dropped (DER's named-bit rule).
fn key_usage_der(bits: u16) -> Vec<u8> {
    // Bit i of `bits` goes to position i from the left of a 16-bit big-endian field.
    let field = bits.reverse_bits();
    let bytes = field.to_be_bytes();
    let used = if bytes[1] == 0 { 1 } else { 2 };
    let last = bytes[used - 1];
    let unused = last.trailing_zeros().min(7) as u8;
    let mut content = vec![unused];
    content.extend_from_slice(&bytes[..used]);
    der::encode(der::TAG_BIT_STRING, &content)
}

fn general_names(sans: &SubjectAltNames) -> Result<Vec<u8>, CryptoError> {
    let lists = [
        &sans.dns_names,
        &sans.emails,
        &sans.upns,
        &sans.uris,
        &sans.ip_addresses,
    ];
    if lists.iter().any(|list| list.len() > MAX_LIST_LEN) {
        return Err(cert_error(
            "too many subject alternative names (at most 100 of each kind)",
        ));
    }
    if lists
        .iter()
        .flat_map(|list| list.iter())
        .any(|s| s.len() > MAX_SAN_LEN)
    {
        return Err(cert_error(
            "a subject alternative name is longer than 1024 bytes",
        ));
    }
    let mut out = Vec::new();
    for name in &sans.emails {
        if !name.is_ascii() || name.matches('@').count() != 1 || name.contains(char::is_whitespace)
        {
            return Err(cert_error(
                "an email SAN is not an ASCII address with one @",
            ));
        }
        out.extend(der::encode(0x81, name.as_bytes()));
    }
    for name in &sans.dns_names {
        if !is_dns_name(name) {
            return Err(cert_error("a dns_names entry is not a DNS name"));
        }
        out.extend(der::encode(0x82, name.as_bytes()));
    }
    for name in &sans.uris {
        let scheme_ok = name.split_once(':').is_some_and(|(scheme, _)| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        if !name.is_ascii() || !scheme_ok || name.contains(char::is_whitespace) {
            return Err(cert_error("a uris entry is not an absolute ASCII URI"));
        }
        out.extend(der::encode(0x86, name.as_bytes()));
    }
    for address in &sans.ip_addresses {
        let ip: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| cert_error("an ipAddresses entry is not an IPv4 or IPv6 address"))?;
        let octets = match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        out.extend(der::encode(0x87, &octets));
    }
    for upn in &sans.upns {
        if upn.is_empty() || upn.contains(char::is_control) {
            return Err(cert_error(
                "a upns entry is empty or has control characters",
            ));
        }
        let value = der::encode(0xa0, &der::encode(der::TAG_UTF8_STRING, upn.as_bytes()));
        out.extend(der::encode(
            0xa0,
            &[der::encode_oid(oid::UPN), value].concat(),
        ));
    }
    Ok(out)
}

fn extension(arcs: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut content = der::encode_oid(arcs);
    if critical {
        content.extend(der::encode(der::TAG_BOOLEAN, &[0xff]));
    }
    content.extend(der::encode(der::TAG_OCTET_STRING, value));
    der::encode(der::TAG_SEQUENCE, &content)
}

/// Signature AlgorithmIdentifier, hash and the keys API's algorithm for a key.
fn signature_scheme(
    key: &PrivateKey,
) -> Result<(Vec<u8>, &'static digest::Algorithm, SignatureAlgorithm), CryptoError> {
    let (arcs, hash, alg): (&[u64], _, _) = match (key.key_type(), key.curve()) {
        (KeyType::Rsa, _) => (
            oid::SHA256_WITH_RSA,
            &digest::SHA256,
            SignatureAlgorithm::Rs256,
        ),
        (KeyType::Ec, Some(Curve::P256)) => (
            oid::ECDSA_SHA256,
            &digest::SHA256,
            SignatureAlgorithm::Es256,
        ),
        (KeyType::Ec, Some(Curve::P256K)) => (
            oid::ECDSA_SHA256,
            &digest::SHA256,
            SignatureAlgorithm::Es256K,
        ),
        (KeyType::Ec, Some(Curve::P384)) => (
            oid::ECDSA_SHA384,
            &digest::SHA384,
            SignatureAlgorithm::Es384,
        ),
        (KeyType::Ec, Some(Curve::P521)) => (
            oid::ECDSA_SHA512,
            &digest::SHA512,
            SignatureAlgorithm::Es512,
        ),
        _ => return Err(cert_error("a certificate key must be RSA or EC")),
    };
    let mut content = der::encode_oid(arcs);
    if key.key_type() == KeyType::Rsa {
        content.extend(der::encode(der::TAG_NULL, &[]));
    }
    Ok((der::encode(der::TAG_SEQUENCE, &content), hash, alg))
}

/// Signs `tbs` and wraps it as `SEQUENCE { tbs, algorithm, BIT STRING signature }`.
fn sign_and_wrap(tbs: &[u8], key: &PrivateKey) -> Result<Vec<u8>, CryptoError> {
    let (algorithm, hash, alg) = signature_scheme(key)?;
    let digest = digest::digest(hash, tbs);
    let raw = key
        .sign_digest(alg, digest.as_ref())
        .map_err(|_| cert_error("signing the certificate failed"))?;
    let signature = if key.key_type() == KeyType::Ec {
        // X.509 carries ECDSA as DER `SEQUENCE { r INTEGER, s INTEGER }`, not r || s.
        let (r, s) = raw.split_at(raw.len() / 2);
        let pair = [
            der::encode_unsigned_integer(r),
            der::encode_unsigned_integer(s),
        ]
        .concat();
        der::encode(der::TAG_SEQUENCE, &pair)
    } else {
        raw
    };
    let mut bits = vec![0u8];
    bits.extend_from_slice(&signature);
    let content = [tbs, &algorithm, &der::encode(der::TAG_BIT_STRING, &bits)].concat();
    Ok(der::encode(der::TAG_SEQUENCE, &content))
}

fn public_spki(key: &PrivateKey) -> Result<(PublicKey, Vec<u8>), CryptoError> {
    let public = key
        .public_key()
        .ok_or_else(|| cert_error("a certificate key must be RSA or EC"))?;
    let spki = public.to_spki_der();
    Ok((public, spki))
}

/// The subjectKeyIdentifier of an SPKI: SHA-1 of its key bits (RFC 5280 §4.2.1.2, method 1).
fn key_id(spki: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let bits = der::read_only(spki, der::TAG_SEQUENCE)
        .and_then(|s| der::children(s.content))
        .and_then(|parts| parts.get(1).and_then(der::bit_string))
        .ok_or_else(|| cert_error("the public key cannot be read"))?;
    Ok(sha1_thumbprint(bits).to_vec())
}

fn time(unix: i64) -> Vec<u8> {
    let (year, month, day, hour, minute, second) = civil(unix);
    if (1950..2050).contains(&year) {
        let text = format!(
            "{:02}{month:02}{day:02}{hour:02}{minute:02}{second:02}Z",
            year % 100
        );
        der::encode(der::TAG_UTC_TIME, text.as_bytes())
    } else {
        let text = format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}Z");
        der::encode(der::TAG_GENERALIZED_TIME, text.as_bytes())
    }
}

fn random_serial() -> Result<Vec<u8>, CryptoError> {
    let mut bytes = random_bytes::<16>()?;
    // Positive, and a nonzero first octet so the INTEGER is exactly 16 octets.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(der::encode_unsigned_integer(&bytes))
}

/// The validity window for `months` from `now`, capped at `cap` (an issuer's own end).
fn validity(now: i64, months: u32, cap: Option<i64>) -> Result<(i64, i64), CryptoError> {
    if !(0..=MAX_TIME).contains(&now) {
        return Err(cert_error("the current time is out of range"));
    }
    let mut not_after = add_months(now, months);
    if let Some(cap) = cap {
        not_after = not_after.min(cap);
    }
    if not_after > MAX_TIME {
        return Err(cert_error("the certificate would end after the year 9999"));
    }
    if not_after <= now {
        return Err(cert_error("the issuer certificate has expired"));
    }
    Ok(((now - BACKDATE).max(0), not_after))
}

#[allow(clippy::too_many_arguments)]
fn tbs_certificate(
    encoded: &Encoded,
    issuer_name: &[u8],
    not_before: i64,
    not_after: i64,
    spki: &[u8],
    subject_key_id: &[u8],
    authority_key_id: &[u8],
    signer: &PrivateKey,
) -> Result<Vec<u8>, CryptoError> {
    let (algorithm, _, _) = signature_scheme(signer)?;
    let mut extensions = vec![extension(
        oid::SUBJECT_KEY_ID,
        false,
        &der::encode(der::TAG_OCTET_STRING, subject_key_id),
    )];
    extensions.push(extension(
        oid::AUTHORITY_KEY_ID,
        false,
        &der::encode(der::TAG_SEQUENCE, &der::encode(0x80, authority_key_id)),
    ));
    extensions.extend(encoded.extensions.iter().cloned());
    let content = [
        der::encode(der::TAG_VERSION, &der::encode_unsigned_integer(&[2])),
        random_serial()?,
        algorithm,
        issuer_name.to_vec(),
        der::encode(
            der::TAG_SEQUENCE,
            &[time(not_before), time(not_after)].concat(),
        ),
        encoded.subject.clone(),
        spki.to_vec(),
        der::encode(
            der::TAG_EXTENSIONS,
            &der::encode(der::TAG_SEQUENCE, &extensions.concat()),
        ),
    ]
    .concat();
    Ok(der::encode(der::TAG_SEQUENCE, &content))
}

/// A self-signed certificate (DER) for `key` as `description` says, valid from `now` (Unix
/// seconds, minus five minutes) for `validity_months`.
pub fn self_signed_certificate(
    description: &CertificateDescription,
    key: &PrivateKey,
    now: i64,
) -> Result<Vec<u8>, CryptoError> {
    let encoded = encode_description(description)?;
    let (_, spki) = public_spki(key)?;
    let (not_before, not_after) = validity(now, encoded.validity_months, None)?;
    let id = key_id(&spki)?;
    let tbs = tbs_certificate(
        &encoded,
        &encoded.subject,
        not_before,
        not_after,
        &spki,
        &id,
        &id,
        key,
    )?;
    sign_and_wrap(&tbs, key)
}

/// A certificate (DER) for `subject_key` as `description` says, signed by `issuer`; it ends
/// no later than the issuer's certificate.
pub fn issue_certificate(
    description: &CertificateDescription,
    subject_key: &PublicKey,
    issuer: &CertificateIssuer,
    now: i64,
) -> Result<Vec<u8>, CryptoError> {
    let encoded = encode_description(description)?;
    let ca = ParsedCertificate::from_der(&issuer.cert_der)?;
    let spki = subject_key.to_spki_der();
    let (not_before, not_after) = validity(now, encoded.validity_months, Some(ca.not_after))?;
    if ca.not_before > now {
        return Err(cert_error("the issuer certificate is not yet valid"));
    }
    let authority_key_id = match &ca.subject_key_id {
        Some(id) => id.clone(),
        None => key_id(&ca.spki_der)?,
    };
    let tbs = tbs_certificate(
        &encoded,
        &ca.subject_der,
        not_before,
        not_after,
        &spki,
        &key_id(&spki)?,
        &authority_key_id,
        &issuer.key,
    )?;
    sign_and_wrap(&tbs, &issuer.key)
}

/// A PKCS#10 certification request (DER) for `key`: the subject and the extensions of
/// `description` (in an extensionRequest attribute), signed with `key`. Its validity is not in
/// the CSR; the CA decides it.
pub fn create_csr(
    description: &CertificateDescription,
    key: &PrivateKey,
) -> Result<Vec<u8>, CryptoError> {
    let encoded = encode_description(description)?;
    let (_, spki) = public_spki(key)?;
    let mut attributes = Vec::new();
    if !encoded.extensions.is_empty() {
        let extensions = der::encode(der::TAG_SEQUENCE, &encoded.extensions.concat());
        let attribute = [
            der::encode_oid(oid::EXTENSION_REQUEST),
            der::encode(der::TAG_SET, &extensions),
        ]
        .concat();
        attributes = der::encode(der::TAG_SEQUENCE, &attribute);
    }
    let info = [
        der::encode_unsigned_integer(&[]),
        encoded.subject.clone(),
        spki,
        der::encode(0xa0, &attributes),
    ]
    .concat();
    sign_and_wrap(&der::encode(der::TAG_SEQUENCE, &info), key)
}

/// A CSR's DER as PEM (`CERTIFICATE REQUEST`), 64-column lines.
pub fn csr_pem(csr_der: &[u8]) -> String {
    super::pem_block("CERTIFICATE REQUEST", csr_der)
}

/// A one-month self-signed certificate named `subject` for `key`, for other modules' tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn test_certificate(key: &PrivateKey, subject: &str) -> Vec<u8> {
    let description = CertificateDescription {
        subject: subject.into(),
        validity_months: 1,
        ..Default::default()
    };
    self_signed_certificate(&description, key, 1_780_000_000).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const NOW: i64 = 1_780_000_000;

    pub(crate) fn description() -> CertificateDescription {
        CertificateDescription {
            subject: "CN=www.example.com, O=Contoso, OU=IT, L=Redmond, S=WA, C=US".into(),
            sans: SubjectAltNames {
                dns_names: vec!["www.example.com".into(), "*.example.com".into()],
                emails: vec!["admin@example.com".into()],
                upns: vec!["user@contoso.com".into()],
                uris: vec!["https://example.com/a".into()],
                ip_addresses: vec!["10.0.0.1".into(), "::1".into()],
            },
            ekus: vec!["1.3.6.1.5.5.7.3.1".into(), "1.3.6.1.5.5.7.3.2".into()],
            key_usages: vec!["digitalSignature".into(), "keyEncipherment".into()],
            validity_months: 12,
        }
    }

    #[test]
    fn key_usage_bits_encode_per_der() {
        // digitalSignature + keyEncipherment = bits 0 and 2: 0xa0, five unused bits.
        assert_eq!(key_usage_der(0b101), [0x03, 0x02, 0x05, 0xa0]);
        // keyCertSign + cRLSign = bits 5 and 6: 0x06, one unused bit.
        assert_eq!(key_usage_der(0b110_0000), [0x03, 0x02, 0x01, 0x06]);
        // decipherOnly = bit 8: a second octet 0x80, seven unused bits.
        assert_eq!(key_usage_der(1 << 8), [0x03, 0x03, 0x07, 0x00, 0x80]);
    }

    #[test]
    fn every_key_type_makes_a_self_signed_certificate_that_parses() {
        let keys = [
            PrivateKey::generate_rsa(2048).unwrap(),
            PrivateKey::generate_ec(Curve::P256).unwrap(),
            PrivateKey::generate_ec(Curve::P256K).unwrap(),
            PrivateKey::generate_ec(Curve::P384).unwrap(),
            PrivateKey::generate_ec(Curve::P521).unwrap(),
        ];
        for key in &keys {
            let der = self_signed_certificate(&description(), key, NOW).unwrap();
            let cert = ParsedCertificate::from_der(&der).unwrap();
            assert_eq!(cert.subject, description().subject);
            assert_eq!(cert.issuer, cert.subject);
            assert!(cert.public_key_matches(key));
            assert_eq!(cert.not_before, NOW - BACKDATE);
            assert_eq!(cert.not_after, add_months(NOW, 12));
            assert_eq!(cert.key_usages, ["digitalSignature", "keyEncipherment"]);
            assert_eq!(cert.ekus, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
            assert_eq!(cert.sans().dns_names, description().sans.dns_names);
            assert_eq!(cert.sans().upns, description().sans.upns);
            assert_eq!(cert.sans().ip_addresses, ["10.0.0.1", "::1"]);
            assert_eq!(cert.serial.len(), 16);
            assert!(!cert.is_ca);
            // Its own signature verifies.
            assert!(cert.verify_signed_by(&cert).is_ok());
        }
    }

    #[test]
    fn issued_certificates_chain_to_the_ca() {
        let ca = crate::generate_ca("Arca Test CA", NOW - 10).unwrap();
        let issuer = CertificateIssuer::from_ca_material(&ca).unwrap();
        let key = PrivateKey::generate_ec(Curve::P384).unwrap();
        let der =
            issue_certificate(&description(), &key.public_key().unwrap(), &issuer, NOW).unwrap();
        let cert = ParsedCertificate::from_der(&der).unwrap();
        let ca_cert = ParsedCertificate::from_der(issuer.cert_der()).unwrap();
        assert_eq!(cert.issuer, "CN=Arca Test CA");
        assert!(cert.verify_signed_by(&ca_cert).is_ok());
        // A leaf is not an issuer.
        let leaf_key = PrivateKey::from_pkcs8(key.to_pkcs8().unwrap().expose()).unwrap();
        assert!(CertificateIssuer::new(der, leaf_key).is_err());
    }

    #[test]
    fn csr_carries_subject_key_and_extensions() {
        let key = PrivateKey::generate_ec(Curve::P256).unwrap();
        let csr = create_csr(&description(), &key).unwrap();
        let pem = csr_pem(&csr);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));
        let spki = key.public_key().unwrap().to_spki_der();
        assert!(csr.windows(spki.len()).any(|w| w == spki.as_slice()));
    }

    #[test]
    fn impossible_descriptions_are_refused() {
        let key = PrivateKey::generate_ec(Curve::P256).unwrap();
        type Change = fn(&mut CertificateDescription);
        let cases: Vec<(Change, &str)> = vec![
            (|d| d.subject.clear(), "empty"),
            (|d| d.validity_months = 0, "validity_months"),
            (
                |d| d.validity_months = MAX_VALIDITY_MONTHS + 1,
                "validity_months",
            ),
            (|d| d.ekus = vec!["1.3.6.x".into()], "eku"),
            (|d| d.ekus = vec!["".into()], "eku"),
            (
                |d| d.key_usages = vec!["signEverything".into()],
                "key usage",
            ),
            (
                |d| d.sans.ip_addresses = vec!["10.0.0.256".into()],
                "ipAddresses",
            ),
            (|d| d.sans.dns_names = vec!["bad name".into()], "dns_names"),
            (|d| d.sans.emails = vec!["nobody".into()], "email"),
            (|d| d.sans.uris = vec!["no scheme".into()], "uris"),
        ];
        for (change, expected) in cases {
            let mut bad = description();
            change(&mut bad);
            let err = self_signed_certificate(&bad, &key, NOW)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{err}");
            assert!(create_csr(&bad, &key).is_err() || expected == "validity_months");
        }
        assert!(self_signed_certificate(&description(), &key, -1).is_err());
        assert!(self_signed_certificate(&description(), &key, MAX_TIME).is_err());
        let oct = PrivateKey::generate_oct(256).unwrap();
        assert!(self_signed_certificate(&description(), &oct, NOW).is_err());
    }

    #[test]
    fn late_dates_use_generalized_time() {
        assert_eq!(time(0)[0], der::TAG_UTC_TIME);
        assert_eq!(time(2_524_608_000)[0], der::TAG_GENERALIZED_TIME);
        assert_eq!(&time(2_524_608_000)[2..], b"20500101000000Z");
    }
}
