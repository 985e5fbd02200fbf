//! The X.509 foundation of the certificates API: what a certificate says and how it is made,
//! read, checked and packaged.
//!
//! | file | holds |
//! | --- | --- |
//! | `name.rs` | subject names: Key Vault's string form ⇄ DER `Name` |
//! | `build.rs` | [`CertificateDescription`] → self-signed certificate, PKCS#10 CSR, CA issuance |
//! | `parse.rs` | a certificate (DER/PEM) → [`ParsedCertificate`]; chains from PEM or DER lists |
//! | `verify.rs` | chain verification for merge: signatures, CA flags, validity, order |
//! | `pfx.rs` | PKCS#12 parse (PBES2/AES, legacy 3DES and RC2-40) and build (Key Vault's export) |
//! | `pem.rs` | PEM bundles: PKCS#8, PKCS#1 and SEC1 keys with certificates; Key Vault's PEM secret |
//! | `authority.rs` | [`IssuingAuthority`]: the built-in issuer's CA, its chain and name constraints |
//!
//! Everything is built and read with Arca's own DER code (`pki/der.rs`) and signed or verified
//! through aws-lc-rs (`keys::PrivateKey` signs, so every key type of the keys API, P-256K
//! included, can hold a certificate). rcgen is not used here: it keeps one value per name
//! attribute (no `OU=A, OU=B`), has no secp256k1 and cannot sign with a `keys::PrivateKey`.
//!
//! Limits (every input from a request passes one): a certificate at most [`MAX_CERT_LEN`]
//! bytes, a chain at most [`MAX_CHAIN_LEN`] certificates, a PEM or PFX input at most
//! [`MAX_INPUT_LEN`] bytes.
//!
//! Must not: read the clock (time is passed in, Unix seconds), put key bytes, passwords or input
//! bytes into an error or `Debug`, or keep a private key outside a zeroizing type.

mod authority;
mod build;
mod name;
mod parse;
mod pem;
mod pfx;
mod verify;

pub use authority::IssuingAuthority;
pub use build::{
    create_csr, csr_pem, issue_certificate, self_signed_certificate, CertificateDescription,
    CertificateIssuer, MAX_VALIDITY_MONTHS,
};
pub use name::{encode_subject, render_name, subject_attributes};
pub use parse::{
    certificate_pem, chain_from_der_list, chain_from_pem, ParsedCertificate, SanEntry,
};
pub use pem::{build_pem_secret, parse_pem_bundle, PemBundle};
pub use pfx::{build_pfx, parse_pfx, PfxContents, MAX_PBKDF_ITERATIONS};
pub use verify::{verify_chain, ChainOrder};

pub(crate) use crate::pki::x509::{days_from_civil, days_in_month};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::CryptoError;

/// Largest certificate accepted, DER bytes.
pub const MAX_CERT_LEN: usize = 16 * 1024;
/// Most certificates in one chain (leaf included).
pub const MAX_CHAIN_LEN: usize = 10;
/// Largest PEM text or PFX accepted, bytes.
pub const MAX_INPUT_LEN: usize = 256 * 1024;

/// The OIDs this module names, as arcs.
pub(crate) mod oid {
    pub(crate) const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 11];
    pub(crate) const SHA384_WITH_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 12];
    pub(crate) const SHA512_WITH_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 13];
    pub(crate) const RSASSA_PSS: &[u64] = &[1, 2, 840, 113_549, 1, 1, 10];
    pub(crate) const ECDSA_SHA256: &[u64] = &[1, 2, 840, 10_045, 4, 3, 2];
    pub(crate) const ECDSA_SHA384: &[u64] = &[1, 2, 840, 10_045, 4, 3, 3];
    pub(crate) const ECDSA_SHA512: &[u64] = &[1, 2, 840, 10_045, 4, 3, 4];
    pub(crate) const SHA1: &[u64] = &[1, 3, 14, 3, 2, 26];
    pub(crate) const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
    pub(crate) const SHA384: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 2];
    pub(crate) const SHA512: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 3];

    pub(crate) const SUBJECT_KEY_ID: &[u64] = &[2, 5, 29, 14];
    pub(crate) const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
    pub(crate) const SUBJECT_ALT_NAME: &[u64] = &[2, 5, 29, 17];
    pub(crate) const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
    pub(crate) const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
    pub(crate) const AUTHORITY_KEY_ID: &[u64] = &[2, 5, 29, 35];
    /// PKCS#9 extensionRequest, the CSR attribute carrying the extensions.
    pub(crate) const EXTENSION_REQUEST: &[u64] = &[1, 2, 840, 113_549, 1, 9, 14];
    /// Microsoft's user principal name otherName.
    pub(crate) const UPN: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 3];
}

pub(crate) fn cert_error(problem: &str) -> CryptoError {
    CryptoError::Certificate(problem.to_owned())
}

/// Latest accepted "now" and latest end of validity: 9999-12-31T23:59:59Z, the last instant a
/// GeneralizedTime can carry.
pub(crate) const MAX_TIME: i64 = 253_402_300_799;

/// A Unix time as proleptic Gregorian (year, month, day, hour, minute, second).
pub(crate) fn civil(unix: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs / 3_600, secs % 3_600 / 60, secs % 60)
}

/// `unix` plus `months` calendar months, the day clamped to the target month's length
/// (31 January + 1 month = 28 or 29 February), time of day kept.
pub(crate) fn add_months(unix: i64, months: u32) -> i64 {
    let (year, month, day, hour, minute, second) = civil(unix);
    let index = year * 12 + (month - 1) + i64::from(months);
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let day = day.min(days_in_month(year, month));
    days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
}

/// Key Vault's key usage names, in the bit order of X.509's KeyUsage (bit 0 first).
pub const KEY_USAGE_NAMES: [&str; 9] = [
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

/// Subject alternative names as Key Vault's `sans` lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectAltNames {
    /// DNS names (`dns_names`); a leading `*.` label is allowed.
    pub dns_names: Vec<String>,
    /// RFC 822 e-mail addresses (`emails`).
    pub emails: Vec<String>,
    /// User principal names (`upns`), written as otherName 1.3.6.1.4.1.311.20.2.3 UTF8String.
    pub upns: Vec<String>,
    /// URIs (`uris`).
    pub uris: Vec<String>,
    /// IPv4 or IPv6 addresses (`ipAddresses`).
    pub ip_addresses: Vec<String>,
}

impl SubjectAltNames {
    pub(super) fn is_empty(&self) -> bool {
        self.dns_names.is_empty()
            && self.emails.is_empty()
            && self.upns.is_empty()
            && self.uris.is_empty()
            && self.ip_addresses.is_empty()
    }
}

/// One PEM block, 64-column base64 and `\n` line ends.
pub(crate) fn pem_block(label: &str, der_bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(der_bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 64 + 2 * label.len() + 40);
    out.push_str(&format!("-----BEGIN {label}-----\n"));
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_arithmetic() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_825_600), (2000, 2, 29, 12, 0, 0));
        assert_eq!(civil(MAX_TIME), (9999, 12, 31, 23, 59, 59));
        for t in [0, 951_825_600, 1_700_000_000, MAX_TIME] {
            let (y, mo, d, h, mi, s) = civil(t);
            assert_eq!(
                days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + s,
                t
            );
        }
        // 2024-01-31 + 1 month = 2024-02-29; + 12 months = 2025-01-31.
        let jan31 = days_from_civil(2024, 1, 31) * 86_400 + 3_600;
        assert_eq!(
            add_months(jan31, 1),
            days_from_civil(2024, 2, 29) * 86_400 + 3_600
        );
        assert_eq!(
            add_months(jan31, 12),
            days_from_civil(2025, 1, 31) * 86_400 + 3_600
        );
        assert_eq!(add_months(jan31, 0), jan31);
    }
}
