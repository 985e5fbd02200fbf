//! The local certificate authority and the server certificates it issues, for first start.
//!
//! Keys are ECDSA P-256. The local CA ([`generate_local_ca`]) signs only for the names it serves
//! (a critical name-constraints extension: the DNS names and IP addresses given, subdomains
//! included) and is valid for three years, so a stolen CA key cannot mint a certificate for any
//! other site and a forgotten CA dies out. It signs end-entity certificates only (path length
//! 0), unless the deployment has an issuing CA: then its constraints also hold the DNS suffixes
//! that CA may sign for, and it may sign that one level of CA (path length 1). The issuing CA
//! ([`issue_issuing_ca`], the built-in certificate issuer's) is constrained to those suffixes,
//! excludes Arca's own names and every IP address, and serves TLS only (its extended key usage).
//! Server certificates carry `serverAuth`, one SAN per requested name (an IP address where the
//! string parses as one, a DNS name otherwise, wildcards allowed) and are valid for 397 days, the
//! longest browsers accept, never beyond the CA's own end. Validity starts an hour in the past
//! to absorb clock skew. Time is passed in as Unix seconds; nothing here reads the clock.

use std::net::IpAddr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rcgen::string::{Ia5String, PrintableString};
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use zeroize::Zeroizing;

use crate::pki::der::{self, Tlv};
use crate::pki::x509::TbsCertificate;
use crate::seal::random::random_bytes;
use crate::{CryptoError, SecretBytes, SecretString};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// Ten years, leap days included: test and tool CAs only.
const CA_LIFETIME: i64 = 3_652 * DAY;
/// Three years: the local CA of a deployment.
pub const LOCAL_CA_LIFETIME: i64 = 1_096 * DAY;
/// The CA/Browser Forum maximum for TLS server certificates.
const SERVER_CERT_LIFETIME: i64 = 397 * DAY;
/// Latest accepted "now" (year 3000); keeps date arithmetic far from the library's limits.
const MAX_NOW: i64 = 32_503_680_000;
/// Longest DNS name.
const MAX_DNS_NAME_LEN: usize = 253;
/// Most DNS suffixes an issuing CA is constrained to.
pub const MAX_ISSUING_SUFFIXES: usize = 32;

/// Subject key identifier extension, 2.5.29.14.
const OID_SUBJECT_KEY_IDENTIFIER: &[u8] = &[0x55, 0x1d, 0x0e];

/// A certificate authority: its certificate (PEM) and its private key (PKCS#8 DER).
#[derive(Debug, Clone)]
pub struct CaMaterial {
    /// The CA certificate, PEM; this is what users add to their trust store.
    pub cert_pem: String,
    /// The CA private key, PKCS#8 DER.
    pub key_pkcs8: SecretBytes,
}

/// A server certificate (PEM), its private key (PKCS#8 DER) and its expiry (Unix seconds).
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// The server certificate, PEM.
    pub cert_pem: String,
    /// The server private key, PKCS#8 DER.
    pub key_pkcs8: SecretBytes,
    /// End of validity, Unix seconds.
    pub not_after: i64,
}

/// Generates a self-signed CA named `common_name`, valid from an hour before `now_unix` for ten
/// years, with `CA:true, pathlen:0` and key usages keyCertSign and cRLSign, and no name
/// constraints: for test fixtures and tools. A deployment's CA is [`generate_local_ca`].
pub fn generate_ca(common_name: &str, now_unix: i64) -> Result<CaMaterial, CryptoError> {
    build_ca(common_name, None, 0, now_unix, CA_LIFETIME)
}

/// Generates a deployment's local CA: as [`generate_ca`], but valid for three years
/// ([`LOCAL_CA_LIFETIME`]) and constrained (critical name constraints) to `names`: each DNS name
/// permits itself and its subdomains (`*.vault.localhost` permits `vault.localhost` and below),
/// each IP address only itself. With `issuing` DNS suffixes (see [`issuing_suffixes`]) the CA
/// also permits those and may sign one level of CA below it (path length 1), the deployment's
/// issuing CA ([`issue_issuing_ca`]); without, it signs end-entity certificates only.
pub fn generate_local_ca(
    common_name: &str,
    names: &[String],
    issuing: &[String],
    now_unix: i64,
) -> Result<CaMaterial, CryptoError> {
    if names.is_empty() {
        return Err(cert_error("a constrained CA needs at least one name"));
    }
    let mut permitted = Vec::new();
    for name in ca_constraint_names(names)? {
        let subtree = match name.parse::<IpAddr>() {
            Ok(ip) => {
                let prefix = if ip.is_ipv4() { 32 } else { 128 };
                GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(ip, prefix))
            }
            Err(_) => GeneralSubtree::DnsName(name),
        };
        permitted.push(subtree);
    }
    let issuing = issuing_suffixes(issuing)?;
    permitted.extend(issuing.iter().cloned().map(GeneralSubtree::DnsName));
    let constraints = NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: Vec::new(),
    };
    let path_len = u8::from(!issuing.is_empty());
    build_ca(
        common_name,
        Some(constraints),
        path_len,
        now_unix,
        LOCAL_CA_LIFETIME,
    )
}

/// A DNS suffix as an issuing CA's constraints and the built-in issuer's settings hold it:
/// lower case, without a leading or trailing dot, no wildcard, not an IP address, a DNS name of
/// at most 253 characters. `None` when `text` is not one. `example.internal` covers itself and
/// every name ending in `.example.internal` ([`dns_name_within`]).
pub fn dns_suffix(text: &str) -> Option<String> {
    let suffix = text.trim().to_ascii_lowercase();
    let valid = is_dns_name(&suffix) && !suffix.contains('*') && suffix.parse::<IpAddr>().is_err();
    valid.then_some(suffix)
}

/// Whether the DNS name `name` is `suffix` or lies below it (`a.example.internal` and
/// `example.internal` are within `example.internal`; `badexample.internal` is not), compared
/// without regard to ASCII case, as RFC 5280 name constraints compare DNS names. A trailing dot
/// on `name` is not accepted.
pub fn dns_name_within(name: &str, suffix: &str) -> bool {
    if name.len() < suffix.len() || suffix.is_empty() {
        return false;
    }
    let split = name.len() - suffix.len();
    if !name.is_char_boundary(split) {
        return false;
    }
    let (head, tail) = name.split_at(split);
    if !tail.eq_ignore_ascii_case(suffix) {
        return false;
    }
    head.is_empty() || (head.ends_with('.') && head.len() > 1)
}

/// The DNS suffixes an issuing CA may sign for, checked ([`dns_suffix`]), sorted and without
/// repeats; at most [`MAX_ISSUING_SUFFIXES`]. The error names the suffix that is not one.
pub fn issuing_suffixes(suffixes: &[String]) -> Result<Vec<String>, CryptoError> {
    if suffixes.len() > MAX_ISSUING_SUFFIXES {
        return Err(CryptoError::Certificate(format!(
            "at most {MAX_ISSUING_SUFFIXES} DNS suffixes"
        )));
    }
    let mut out = Vec::with_capacity(suffixes.len());
    for suffix in suffixes {
        out.push(dns_suffix(suffix).ok_or_else(|| {
            CryptoError::Certificate(format!(
                "{:?} is not a DNS suffix (a DNS name without wildcard, such as example.internal)",
                suffix.chars().take(MAX_DNS_NAME_LEN).collect::<String>()
            ))
        })?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The name constraints a local CA for `names` carries, sorted and without repeats: IP
/// addresses as given, DNS names without a leading `*.` label, in lower case. Stored beside the
/// CA so a start with other names knows the CA no longer covers them.
pub fn ca_constraint_names(names: &[String]) -> Result<Vec<String>, CryptoError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        // Validates the name the same way a SAN would be.
        san(name)?;
        let constraint = match name.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => name.strip_prefix("*.").unwrap_or(name).to_ascii_lowercase(),
        };
        out.push(constraint);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether `ca`'s private key belongs to its certificate, and when the certificate ends (Unix
/// seconds). `None` if either does not parse. A certificate stored beside a sealed key can be
/// replaced by whoever writes the database; this is how such a swap is noticed before the
/// certificate is handed to clients as the one to trust.
pub fn ca_key_matches(ca: &CaMaterial) -> Option<(bool, i64)> {
    let der = der::pem_decode(&ca.cert_pem, "CERTIFICATE")?;
    let parsed = ParsedCert::parse(&der)?;
    let key = KeyPair::try_from(ca.key_pkcs8.expose()).ok()?;
    Some((key.public_key_raw() == parsed.public_key, parsed.not_after))
}

fn build_ca(
    common_name: &str,
    constraints: Option<NameConstraints>,
    path_len: u8,
    now_unix: i64,
    lifetime: i64,
) -> Result<CaMaterial, CryptoError> {
    check_now(now_unix)?;
    if common_name.trim().is_empty() {
        return Err(cert_error("the CA common name is empty"));
    }
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|_| cert_error("cannot generate the CA key"))?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.name_constraints = constraints;
    params.serial_number = Some(random_serial()?);
    set_validity(&mut params, now_unix - HOUR, now_unix + lifetime);
    let cert = params
        .self_signed(&key)
        .map_err(|_| cert_error("cannot self-sign the CA certificate"))?;
    Ok(CaMaterial {
        cert_pem: cert.pem(),
        key_pkcs8: SecretBytes::new(key.serialize_der()),
    })
}

/// Issues a server certificate signed by `ca` for `sans`: each string that parses as an IP
/// address becomes an IP SAN, anything else a DNS SAN (`*.vault.localhost` is allowed). EKU
/// serverAuth; valid from an hour before `now_unix` for 397 days, or until the CA ends if that is
/// sooner (a certificate outliving its CA would not verify anyway).
pub fn issue_server_cert(
    ca: &CaMaterial,
    sans: &[String],
    now_unix: i64,
) -> Result<IssuedCert, CryptoError> {
    check_now(now_unix)?;
    let Some(first_name) = sans.first() else {
        return Err(cert_error("a server certificate needs at least one name"));
    };
    let subject_alt_names = sans
        .iter()
        .map(|name| san(name))
        .collect::<Result<Vec<_>, _>>()?;

    let signer = Signer::of(ca)?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|_| cert_error("cannot generate the server key"))?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, first_name.as_str());
    params.distinguished_name = name;
    params.subject_alt_names = subject_alt_names;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial()?);
    let not_after = signer.end(now_unix, now_unix + SERVER_CERT_LIFETIME)?;
    set_validity(&mut params, now_unix - HOUR, not_after);
    let cert = signer.sign(&params, &key, "the server certificate")?;
    Ok(IssuedCert {
        cert_pem: cert.pem(),
        key_pkcs8: SecretBytes::new(key.serialize_der()),
        not_after,
    })
}

/// A CA ready to sign with rcgen: its key checked against its certificate, and its name and key
/// identifier taken from the certificate so that what it signs chains to it.
struct Signer {
    issuer: Issuer<'static, KeyPair>,
    /// The CA's subject Name, DER.
    subject: Vec<u8>,
    /// The CA's end of validity, Unix seconds.
    not_after: i64,
}

impl Signer {
    fn of(ca: &CaMaterial) -> Result<Self, CryptoError> {
        let ca_der = der::pem_decode(&ca.cert_pem, "CERTIFICATE")
            .ok_or_else(|| cert_error("the CA certificate is not a PEM certificate"))?;
        let ca_cert = ParsedCert::parse(&ca_der)
            .ok_or_else(|| cert_error("the CA certificate cannot be parsed"))?;
        let ca_key = KeyPair::try_from(ca.key_pkcs8.expose())
            .map_err(|_| cert_error("the CA key is not a PKCS#8 private key"))?;
        if ca_key.algorithm() != &PKCS_ECDSA_P256_SHA256 {
            return Err(cert_error("the CA key is not an ECDSA P-256 key"));
        }
        if ca_key.public_key_raw() != ca_cert.public_key {
            return Err(cert_error(
                "the CA key does not belong to the CA certificate",
            ));
        }
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name = distinguished_name(ca_cert.subject.content)
            .ok_or_else(|| cert_error("the CA subject name uses an unsupported encoding"))?;
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        if let Some(key_id) = ca_cert.subject_key_id {
            // Name the CA key exactly as the CA certificate does, so path building can match
            // them.
            ca_params.key_identifier_method = KeyIdMethod::PreSpecified(key_id);
        }
        Ok(Self {
            issuer: Issuer::new(ca_params, ca_key),
            subject: ca_cert.subject.raw.to_vec(),
            not_after: ca_cert.not_after,
        })
    }

    /// `wanted` as an end of validity, or the CA's own end if that is sooner (a certificate
    /// outliving its CA would not verify anyway); an error if the CA has ended by `now`.
    fn end(&self, now: i64, wanted: i64) -> Result<i64, CryptoError> {
        let not_after = wanted.min(self.not_after);
        if not_after <= now {
            return Err(cert_error("the CA has expired"));
        }
        Ok(not_after)
    }

    /// Signs `params` for `key`, and checks that the result names this CA as its issuer byte
    /// for byte, or clients could not chain them.
    fn sign(
        &self,
        params: &CertificateParams,
        key: &KeyPair,
        what: &str,
    ) -> Result<rcgen::Certificate, CryptoError> {
        let cert = params
            .signed_by(key, &self.issuer)
            .map_err(|_| CryptoError::Certificate(format!("cannot sign {what}")))?;
        let issued = ParsedCert::parse(cert.der())
            .ok_or_else(|| CryptoError::Certificate(format!("{what} cannot be parsed")))?;
        if issued.issuer.raw != self.subject {
            return Err(CryptoError::Certificate(format!(
                "{what} does not name the CA as issuer"
            )));
        }
        Ok(cert)
    }
}

/// Issues the deployment's issuing CA (`CN=Arca issuing CA`) under `root` (a local CA made with
/// the same `permitted` suffixes as `issuing`): ECDSA P-256, `CA:true, pathlen:0`, keyCertSign
/// and cRLSign, extended key usages serverAuth and clientAuth (what it signs serves TLS only),
/// and critical name constraints: DNS names within `permitted` ([`issuing_suffixes`]), none
/// within `excluded` (Arca's own names, which no certificate of the issuer may claim; IP
/// addresses among them are dropped), and no IP address at all. Valid from an hour before
/// `now_unix` until the root ends.
pub fn issue_issuing_ca(
    root: &CaMaterial,
    permitted: &[String],
    excluded: &[String],
    now_unix: i64,
) -> Result<CaMaterial, CryptoError> {
    check_now(now_unix)?;
    let permitted = issuing_suffixes(permitted)?;
    if permitted.is_empty() {
        return Err(cert_error("an issuing CA needs at least one DNS suffix"));
    }
    let signer = Signer::of(root)?;
    let mut excluded_subtrees: Vec<GeneralSubtree> = ca_constraint_names(excluded)?
        .into_iter()
        .filter(|name| name.parse::<IpAddr>().is_err())
        .map(GeneralSubtree::DnsName)
        .collect();
    excluded_subtrees.push(GeneralSubtree::IpAddress(CidrSubnet::V4([0; 4], [0; 4])));
    excluded_subtrees.push(GeneralSubtree::IpAddress(CidrSubnet::V6([0; 16], [0; 16])));

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|_| cert_error("cannot generate the issuing CA key"))?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "Arca issuing CA");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted.into_iter().map(GeneralSubtree::DnsName).collect(),
        excluded_subtrees,
    });
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial()?);
    let not_after = signer.end(now_unix, now_unix + LOCAL_CA_LIFETIME)?;
    set_validity(&mut params, now_unix - HOUR, not_after);
    let cert = signer.sign(&params, &key, "the issuing CA certificate")?;
    Ok(CaMaterial {
        cert_pem: cert.pem(),
        key_pkcs8: SecretBytes::new(key.serialize_der()),
    })
}

/// PEM text (`PRIVATE KEY`) of a PKCS#8 private key, for writing key files operators can use.
pub fn private_key_pem(key_pkcs8: &SecretBytes) -> SecretString {
    let encoded = Zeroizing::new(STANDARD.encode(key_pkcs8.expose()));
    let mut pem = String::with_capacity(encoded.len() + encoded.len() / 64 + 64);
    pem.push_str("-----BEGIN PRIVATE KEY-----\n");
    for line in encoded.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    SecretString::new(pem)
}

fn cert_error(problem: &str) -> CryptoError {
    CryptoError::Certificate(problem.to_owned())
}

fn check_now(now_unix: i64) -> Result<(), CryptoError> {
    if (0..=MAX_NOW).contains(&now_unix) {
        Ok(())
    } else {
        Err(cert_error("the current time is out of range"))
    }
}

/// Sets the validity window; callers keep both ends within `0..=MAX_NOW + CA_LIFETIME`.
fn set_validity(params: &mut CertificateParams, not_before: i64, not_after: i64) {
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    let seconds = |unix: i64| Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    params.not_before = epoch + seconds(not_before);
    params.not_after = epoch + seconds(not_after);
}

/// A random positive 128-bit serial number (RFC 5280 allows up to 20 octets).
fn random_serial() -> Result<SerialNumber, CryptoError> {
    let mut bytes = random_bytes::<16>()?;
    // Positive and with a nonzero leading octet, so the DER INTEGER is exactly 16 octets.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// One SAN from a name: IP address if it parses as one, else a validated DNS name.
fn san(name: &str) -> Result<SanType, CryptoError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    if !is_dns_name(name) {
        return Err(CryptoError::Certificate(format!(
            "{name:?} is neither an IP address nor a DNS name"
        )));
    }
    let name = Ia5String::try_from(name).map_err(|_| cert_error("a DNS name is not ASCII"))?;
    Ok(SanType::DnsName(name))
}

/// A DNS name of ASCII labels, a leading `*` label allowed (`*.vault.localhost`).
pub(crate) fn is_dns_name(name: &str) -> bool {
    if name.is_empty() || name.len() > MAX_DNS_NAME_LEN {
        return false;
    }
    name.split('.').enumerate().all(|(index, label)| {
        (index == 0 && label == "*" && name.len() > 2)
            || (!label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    })
}

/// The parts of a certificate this module needs.
struct ParsedCert<'a> {
    issuer: Tlv<'a>,
    subject: Tlv<'a>,
    /// Uncompressed EC point (or other key bytes) from the subjectPublicKeyInfo.
    public_key: &'a [u8],
    subject_key_id: Option<Vec<u8>>,
    /// End of validity, Unix seconds.
    not_after: i64,
}

impl<'a> ParsedCert<'a> {
    fn parse(der_bytes: &'a [u8]) -> Option<Self> {
        let tbs = TbsCertificate::parse(der_bytes)?;
        let (_, public_key) = tbs.public_key()?;
        let subject_key_id = tbs
            .extensions
            .and_then(|extensions| subject_key_id(extensions.content));
        let (_, not_after) = crate::pki::x509::validity(tbs.validity.content)?;
        Some(Self {
            issuer: tbs.issuer,
            subject: tbs.subject,
            public_key,
            subject_key_id,
            not_after,
        })
    }
}

/// The key identifier from the subjectKeyIdentifier extension, if present.
fn subject_key_id(extensions: &[u8]) -> Option<Vec<u8>> {
    let list = der::read_only(extensions, der::TAG_SEQUENCE)?;
    der::children(list.content)?
        .into_iter()
        .find_map(|extension| {
            let parts = der::children(extension.content)?;
            let oid = parts.first().filter(|p| p.tag == der::TAG_OID)?;
            if oid.content != OID_SUBJECT_KEY_IDENTIFIER {
                return None;
            }
            let value = parts.last().filter(|p| p.tag == der::TAG_OCTET_STRING)?;
            let key_id = der::read_only(value.content, der::TAG_OCTET_STRING)?;
            Some(key_id.content.to_vec())
        })
}

/// Rebuilds a Name (RDNSequence content) as an rcgen `DistinguishedName`, preserving order and
/// string types so it re-encodes to the same bytes. Multi-valued RDNs are not supported.
fn distinguished_name(rdn_sequence: &[u8]) -> Option<DistinguishedName> {
    let mut name = DistinguishedName::new();
    for rdn in der::children(rdn_sequence)? {
        if rdn.tag != der::TAG_SET {
            return None;
        }
        let attribute = der::read_only(rdn.content, der::TAG_SEQUENCE)?;
        let parts = der::children(attribute.content)?;
        let [oid, value] = parts.as_slice() else {
            return None;
        };
        if oid.tag != der::TAG_OID {
            return None;
        }
        let text = std::str::from_utf8(value.content).ok()?;
        let value = match value.tag {
            der::TAG_UTF8_STRING => DnValue::Utf8String(text.to_owned()),
            der::TAG_PRINTABLE_STRING => {
                DnValue::PrintableString(PrintableString::try_from(text).ok()?)
            }
            der::TAG_IA5_STRING => DnValue::Ia5String(Ia5String::try_from(text).ok()?),
            _ => return None,
        };
        let kind = DnType::from_oid(&der::oid_arcs(oid.content)?);
        if name.get(&kind).is_some() {
            // rcgen keeps one value per attribute type; a repeated type cannot round-trip.
            return None;
        }
        name.push(kind, value);
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{
        EcdsaKeyPair, KeyPair as _, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
        ECDSA_P256_SHA256_ASN1_SIGNING,
    };

    const NOW: i64 = 1_700_000_000;

    fn names() -> Vec<String> {
        ["localhost", "127.0.0.1", "::1", "*.vault.localhost"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    fn pem_der(pem: &str) -> Vec<u8> {
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        assert!(
            pem.trim_end().ends_with("-----END CERTIFICATE-----"),
            "{pem}"
        );
        der::pem_decode(pem, "CERTIFICATE").unwrap()
    }

    /// The TBS bytes and the signature of a certificate.
    fn signed_parts(cert_der: &[u8]) -> (&[u8], Vec<u8>) {
        let cert = der::read_only(cert_der, der::TAG_SEQUENCE).unwrap();
        let parts = der::children(cert.content).unwrap();
        assert_eq!(parts.len(), 3);
        let signature = parts[2].content;
        assert_eq!(signature[0], 0);
        (parts[0].raw, signature[1..].to_vec())
    }

    fn verify_signed_by(cert_der: &[u8], public_key: &[u8]) -> bool {
        let (tbs, signature) = signed_parts(cert_der);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, public_key)
            .verify(tbs, &signature)
            .is_ok()
    }

    /// The value (OCTET STRING content) of the extension with the given OID content bytes.
    /// Verifies `cert_pem` for `name` at `now` with webpki (what rustls clients run), trusting
    /// only `ca`.
    fn webpki_accepts(ca: &CaMaterial, cert_pem: &str, name: &str, now: i64) -> bool {
        webpki_accepts_via(ca, &[], cert_pem, name, now)
    }

    /// As [`webpki_accepts`], with `intermediates` (PEM) sent beside the leaf.
    fn webpki_accepts_via(
        ca: &CaMaterial,
        intermediates: &[&str],
        cert_pem: &str,
        name: &str,
        now: i64,
    ) -> bool {
        use rustls::client::danger::ServerCertVerifier as _;
        use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(pem_der(&ca.cert_pem)))
            .unwrap();
        let provider = std::sync::Arc::new(crate::tls_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider)
                .build()
                .unwrap();
        let leaf = CertificateDer::from(pem_der(cert_pem));
        let intermediates: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|pem| CertificateDer::from(pem_der(pem)))
            .collect();
        let name = ServerName::try_from(name.to_owned()).unwrap();
        let at = UnixTime::since_unix_epoch(Duration::from_secs(now as u64));
        verifier
            .verify_server_cert(&leaf, &intermediates, &name, &[], at)
            .is_ok()
    }

    fn local_names() -> Vec<String> {
        [
            "localhost",
            "127.0.0.1",
            "::1",
            "*.vault.localhost",
            "vault.localhost",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    #[test]
    fn local_ca_is_name_constrained_to_the_names_it_serves() {
        let ca = generate_local_ca("Arca local CA", &local_names(), &[], NOW).unwrap();
        let ca_der = pem_der(&ca.cert_pem);
        // nameConstraints (2.5.29.30) is present and critical.
        let (critical, _) = extension(&ca_der, &[0x55, 0x1d, 0x1e]).unwrap();
        assert!(critical);
        let served = issue_server_cert(&ca, &local_names(), NOW).unwrap();
        for name in [
            "localhost",
            "127.0.0.1",
            "::1",
            "a.vault.localhost",
            "vault.localhost",
        ] {
            assert!(webpki_accepts(&ca, &served.cert_pem, name, NOW), "{name}");
        }
        // The CA key signs a certificate for another site; clients must refuse it.
        for other in ["bank.example.com", "10.0.0.1", "vault.localhost.evil.com"] {
            let forged = issue_server_cert(&ca, &[other.to_owned()], NOW).unwrap();
            assert!(
                !webpki_accepts(&ca, &forged.cert_pem, other, NOW),
                "{other}"
            );
        }
        // The same forgery under an unconstrained CA verifies: the constraint is what stops it.
        let open_ca = generate_ca("Open CA", NOW).unwrap();
        let forged = issue_server_cert(&open_ca, &["bank.example.com".to_owned()], NOW).unwrap();
        assert!(webpki_accepts(
            &open_ca,
            &forged.cert_pem,
            "bank.example.com",
            NOW
        ));
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_issuing_ca_signs_within_its_suffixes_and_nowhere_else() {
        let issuing = strings(&["example.internal", "svc.corp"]);
        let root = generate_local_ca("Arca local CA", &local_names(), &issuing, NOW).unwrap();
        let root_der = pem_der(&root.cert_pem);
        // basicConstraints: CA, path length 1 (the issuing CA below it).
        let (_, value) = extension(&root_der, &[0x55, 0x1d, 0x13]).unwrap();
        assert_eq!(value, [0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x01]);
        let served = strings(&["localhost", "*.vault.example.internal"]);
        let ca = issue_issuing_ca(&root, &issuing, &served, NOW).unwrap();
        let ca_der = pem_der(&ca.cert_pem);
        let (critical, _) = extension(&ca_der, &[0x55, 0x1d, 0x1e]).unwrap();
        assert!(critical, "name constraints are critical");
        let (_, value) = extension(&ca_der, &[0x55, 0x1d, 0x13]).unwrap();
        assert_eq!(value, [0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00]);
        let (_, root_end) = ca_key_matches(&root).unwrap();
        let (matches, end) = ca_key_matches(&ca).unwrap();
        assert!(matches);
        assert_eq!(end, root_end, "the issuing CA ends with its root");

        for name in ["a.example.internal", "example.internal", "x.svc.corp"] {
            let leaf = issue_server_cert(&ca, &[name.to_owned()], NOW).unwrap();
            assert!(
                webpki_accepts_via(&root, &[&ca.cert_pem], &leaf.cert_pem, name, NOW),
                "{name}"
            );
        }
        // Names outside the suffixes, Arca's own names and IP addresses: clients refuse them even
        // though the issuing CA's key signed them.
        for name in [
            "badexample.internal",
            "bank.example.com",
            "localhost",
            "prod.vault.example.internal",
            "10.0.0.1",
        ] {
            let forged = issue_server_cert(&ca, &[name.to_owned()], NOW).unwrap();
            assert!(
                !webpki_accepts_via(&root, &[&ca.cert_pem], &forged.cert_pem, name, NOW),
                "{name}"
            );
        }
        // A root without issuing suffixes (path length 0) cannot stand above an issuing CA.
        let plain = generate_local_ca("Arca local CA", &local_names(), &[], NOW).unwrap();
        let below = issue_issuing_ca(&plain, &issuing, &served, NOW).unwrap();
        let leaf = issue_server_cert(&below, &["a.example.internal".to_owned()], NOW).unwrap();
        assert!(!webpki_accepts_via(
            &plain,
            &[&below.cert_pem],
            &leaf.cert_pem,
            "a.example.internal",
            NOW
        ));
    }

    #[test]
    fn an_issuing_ca_needs_good_suffixes_and_a_live_root() {
        let root = generate_local_ca("Arca local CA", &local_names(), &[], NOW).unwrap();
        assert!(issue_issuing_ca(&root, &[], &[], NOW).is_err());
        for bad in ["*.example.internal", "10.0.0.1", "a b", ".", ""] {
            let refused = issue_issuing_ca(&root, &[bad.to_owned()], &[], NOW).unwrap_err();
            assert!(
                refused.to_string().contains("DNS suffix"),
                "{bad}: {refused}"
            );
        }
        let many: Vec<String> = (0..=MAX_ISSUING_SUFFIXES)
            .map(|i| format!("s{i}.internal"))
            .collect();
        assert!(issuing_suffixes(&many).is_err());
        let late = NOW + LOCAL_CA_LIFETIME;
        assert!(issue_issuing_ca(&root, &strings(&["example.internal"]), &[], late).is_err());
    }

    #[test]
    fn dns_suffixes_are_normalised_and_matched_label_by_label() {
        assert_eq!(
            dns_suffix(" Example.Internal ").as_deref(),
            Some("example.internal")
        );
        for bad in [
            "*.example",
            "",
            ".example",
            "example.",
            "10.0.0.1",
            "::1",
            "a..b",
        ] {
            assert_eq!(dns_suffix(bad), None, "{bad:?}");
        }
        assert_eq!(
            issuing_suffixes(&strings(&["b.internal", "A.internal", "a.internal"])).unwrap(),
            ["a.internal", "b.internal"]
        );
        for (name, within) in [
            ("example.internal", true),
            ("a.example.internal", true),
            ("A.B.Example.Internal", true),
            ("badexample.internal", false),
            ("example.internal.evil", false),
            (".example.internal", false),
            ("internal", false),
            ("éxample.internal", false),
        ] {
            assert_eq!(dns_name_within(name, "example.internal"), within, "{name}");
        }
        assert!(!dns_name_within("example.internal", ""));
    }

    #[test]
    fn local_ca_lives_three_years_and_server_certificates_end_with_it() {
        let ca = generate_local_ca("Arca local CA", &local_names(), &[], NOW).unwrap();
        let (matches, not_after) = ca_key_matches(&ca).unwrap();
        assert!(matches);
        assert_eq!(not_after, NOW + LOCAL_CA_LIFETIME);
        let late = NOW + LOCAL_CA_LIFETIME - 100 * DAY;
        let served = issue_server_cert(&ca, &local_names(), late).unwrap();
        assert_eq!(served.not_after, NOW + LOCAL_CA_LIFETIME);
        assert!(issue_server_cert(&ca, &local_names(), NOW + LOCAL_CA_LIFETIME).is_err());
    }

    #[test]
    fn constraint_names_are_normalised_and_checked() {
        let names = ca_constraint_names(&[
            "*.Vault.Example.com".to_owned(),
            "vault.example.com".to_owned(),
            "::1".to_owned(),
        ])
        .unwrap();
        assert_eq!(names, ["::1", "vault.example.com"]);
        assert!(ca_constraint_names(&["not a name".to_owned()]).is_err());
        assert!(generate_local_ca("x", &[], &[], NOW).is_err());
    }

    #[test]
    fn a_ca_certificate_swapped_for_another_is_noticed() {
        let ca = generate_local_ca("Arca local CA", &local_names(), &[], NOW).unwrap();
        let other = generate_local_ca("Arca local CA", &local_names(), &[], NOW).unwrap();
        let swapped = CaMaterial {
            cert_pem: other.cert_pem.clone(),
            key_pkcs8: ca.key_pkcs8.clone(),
        };
        assert_eq!(ca_key_matches(&swapped).map(|m| m.0), Some(false));
        let garbage = CaMaterial {
            cert_pem: "not pem".to_owned(),
            key_pkcs8: ca.key_pkcs8.clone(),
        };
        assert_eq!(ca_key_matches(&garbage), None);
    }

    fn extension<'a>(cert_der: &'a [u8], oid: &[u8]) -> Option<(bool, &'a [u8])> {
        let cert = der::read_only(cert_der, der::TAG_SEQUENCE).unwrap();
        let (tbs, _) = der::read(cert.content).unwrap();
        let fields = der::children(tbs.content).unwrap();
        let extensions = fields.iter().find(|f| f.tag == der::TAG_EXTENSIONS)?;
        let list = der::read_only(extensions.content, der::TAG_SEQUENCE).unwrap();
        der::children(list.content)
            .unwrap()
            .into_iter()
            .find_map(|ext| {
                let parts = der::children(ext.content).unwrap();
                if parts[0].content != oid {
                    return None;
                }
                let critical = parts.len() == 3
                    && parts[1].tag == der::TAG_BOOLEAN
                    && parts[1].content == [0xff];
                Some((critical, parts.last().unwrap().content))
            })
    }

    fn validity(cert_der: &[u8]) -> (String, String) {
        let cert = der::read_only(cert_der, der::TAG_SEQUENCE).unwrap();
        let (tbs, _) = der::read(cert.content).unwrap();
        let fields = der::children(tbs.content).unwrap();
        let window = der::children(fields[4].content).unwrap();
        (
            String::from_utf8(window[0].content.to_vec()).unwrap(),
            String::from_utf8(window[1].content.to_vec()).unwrap(),
        )
    }

    #[test]
    fn ca_is_a_self_signed_path_length_zero_ca() {
        let ca = generate_ca("Arca local CA", NOW).unwrap();
        let ca_der = pem_der(&ca.cert_pem);
        let parsed = ParsedCert::parse(&ca_der).unwrap();
        assert_eq!(parsed.issuer.raw, parsed.subject.raw);
        assert!(verify_signed_by(&ca_der, parsed.public_key));
        let name = distinguished_name(parsed.subject.content).unwrap();
        assert!(
            matches!(name.get(&DnType::CommonName), Some(DnValue::Utf8String(cn)) if cn == "Arca local CA")
        );

        // basicConstraints: critical, cA TRUE, pathLenConstraint 0.
        let (critical, value) = extension(&ca_der, &[0x55, 0x1d, 0x13]).unwrap();
        assert!(critical);
        assert_eq!(value, [0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00]);
        // keyUsage: keyCertSign and cRLSign only.
        let (_, value) = extension(&ca_der, &[0x55, 0x1d, 0x0f]).unwrap();
        let bits = der::read_only(value, der::TAG_BIT_STRING).unwrap().content;
        assert_eq!(bits[1], 0x06);
        assert!(parsed.subject_key_id.is_some());

        assert_eq!(
            validity(&ca_der),
            ("231114211320Z".to_owned(), "331113221320Z".to_owned())
        );

        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, ca.key_pkcs8.expose())
            .unwrap();
        assert_eq!(pair.public_key().as_ref(), parsed.public_key);
    }

    #[test]
    fn server_cert_is_signed_by_the_ca_for_the_requested_names() {
        let ca = generate_ca("Arca local CA", NOW).unwrap();
        let issued = issue_server_cert(&ca, &names(), NOW).unwrap();
        assert_eq!(issued.not_after, NOW + 397 * 86_400);

        let ca_der = pem_der(&ca.cert_pem);
        let ca_parsed = ParsedCert::parse(&ca_der).unwrap();
        let cert_der = pem_der(&issued.cert_pem);
        let parsed = ParsedCert::parse(&cert_der).unwrap();
        assert_eq!(parsed.issuer.raw, ca_parsed.subject.raw);
        assert!(verify_signed_by(&cert_der, ca_parsed.public_key));
        assert!(!verify_signed_by(&cert_der, parsed.public_key));

        let (_, sans) = extension(&cert_der, &[0x55, 0x1d, 0x11]).unwrap();
        let sans = der::read_only(sans, der::TAG_SEQUENCE).unwrap();
        let entries: Vec<(u8, Vec<u8>)> = der::children(sans.content)
            .unwrap()
            .into_iter()
            .map(|t| (t.tag, t.content.to_vec()))
            .collect();
        let mut loopback_v6 = vec![0u8; 16];
        loopback_v6[15] = 1;
        assert_eq!(
            entries,
            vec![
                (0x82, b"localhost".to_vec()),
                (0x87, vec![127, 0, 0, 1]),
                (0x87, loopback_v6),
                (0x82, b"*.vault.localhost".to_vec()),
            ]
        );

        // extKeyUsage: serverAuth.
        let (_, eku) = extension(&cert_der, &[0x55, 0x1d, 0x25]).unwrap();
        let server_auth = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
        assert_eq!(
            der::read_only(eku, der::TAG_SEQUENCE).unwrap().content,
            server_auth
        );
        // basicConstraints: not a CA.
        let (_, bc) = extension(&cert_der, &[0x55, 0x1d, 0x13]).unwrap();
        assert_eq!(bc, [0x30, 0x00]);
        // authorityKeyIdentifier names the CA's subject key identifier.
        let (_, aki) = extension(&cert_der, &[0x55, 0x1d, 0x23]).unwrap();
        let aki = der::read_only(aki, der::TAG_SEQUENCE).unwrap();
        let key_id = der::read_only(aki.content, 0x80).unwrap();
        assert_eq!(Some(key_id.content.to_vec()), ca_parsed.subject_key_id);

        assert_eq!(
            validity(&cert_der),
            ("231114211320Z".to_owned(), "241215221320Z".to_owned())
        );

        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, issued.key_pkcs8.expose())
                .unwrap();
        assert_eq!(pair.public_key().as_ref(), parsed.public_key);
    }

    #[test]
    fn each_certificate_has_its_own_key_and_serial() {
        let ca = generate_ca("Arca local CA", NOW).unwrap();
        let a = issue_server_cert(&ca, &names(), NOW).unwrap();
        let b = issue_server_cert(&ca, &names(), NOW).unwrap();
        assert_ne!(a.key_pkcs8, b.key_pkcs8);
        assert_ne!(a.key_pkcs8, ca.key_pkcs8);
        assert_ne!(a.cert_pem, b.cert_pem);
    }

    #[test]
    fn mismatched_or_malformed_ca_material_is_refused() {
        let ca = generate_ca("Arca local CA", NOW).unwrap();
        let other = generate_ca("Other CA", NOW).unwrap();
        let mixed = CaMaterial {
            cert_pem: ca.cert_pem.clone(),
            key_pkcs8: other.key_pkcs8.clone(),
        };
        assert!(matches!(
            issue_server_cert(&mixed, &names(), NOW),
            Err(CryptoError::Certificate(_))
        ));
        let bad_pem = CaMaterial {
            cert_pem: "not pem".to_owned(),
            key_pkcs8: ca.key_pkcs8.clone(),
        };
        assert!(issue_server_cert(&bad_pem, &names(), NOW).is_err());
        let bad_key = CaMaterial {
            cert_pem: ca.cert_pem.clone(),
            key_pkcs8: SecretBytes::from_slice(b"not a key"),
        };
        assert!(issue_server_cert(&bad_key, &names(), NOW).is_err());
    }

    #[test]
    fn bad_names_and_times_are_refused() {
        let ca = generate_ca("Arca local CA", NOW).unwrap();
        for bad in [
            "",
            "exa mple.com",
            "a..b",
            "-a.example",
            "*",
            "a.*.example",
            "ünïcode.example",
            "[::1]",
        ] {
            let result = issue_server_cert(&ca, &[bad.to_owned()], NOW);
            assert!(
                matches!(result, Err(CryptoError::Certificate(_))),
                "{bad:?}"
            );
        }
        assert!(issue_server_cert(&ca, &[], NOW).is_err());
        assert!(issue_server_cert(&ca, &names(), -1).is_err());
        assert!(generate_ca("x", MAX_NOW + 1).is_err());
        assert!(generate_ca("  ", NOW).is_err());
        assert!(generate_ca("edge of range", MAX_NOW).is_ok());
        assert!(generate_ca("start of epoch", 0).is_ok());
    }

    #[test]
    fn dns_name_rules() {
        for good in [
            "localhost",
            "*.vault.localhost",
            "a-b.example.com",
            "x_y.internal",
            "*.a",
        ] {
            assert!(is_dns_name(good), "{good}");
        }
        for bad in ["", "*", "*.", ".a", "a.", "a b", "a*.b", "a.*", "a-.b"] {
            assert!(!is_dns_name(bad), "{bad}");
        }
    }

    #[test]
    fn debug_output_hides_private_keys() {
        let ca = generate_ca("Arca local CA", NOW).unwrap();
        let issued = issue_server_cert(&ca, &names(), NOW).unwrap();
        for shown in [format!("{ca:?}"), format!("{issued:?}")] {
            assert!(shown.contains("REDACTED"), "{shown}");
            assert!(!shown.contains(&STANDARD.encode(ca.key_pkcs8.expose())[..40]));
            assert!(!shown.contains(&STANDARD.encode(issued.key_pkcs8.expose())[..40]));
        }
    }

    #[test]
    fn private_key_pem_wraps_the_der() {
        let ca = generate_ca("Arca local CA", NOW).unwrap();
        let pem = private_key_pem(&ca.key_pkcs8);
        assert!(pem.expose().starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(pem.expose().lines().all(|line| line.len() <= 64));
        assert_eq!(
            der::pem_decode(pem.expose(), "PRIVATE KEY").unwrap(),
            ca.key_pkcs8.expose()
        );
        assert!(!format!("{pem:?}").contains("PRIVATE"));
    }
}
