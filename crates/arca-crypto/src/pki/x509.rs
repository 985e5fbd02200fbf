//! X.509 certificates as this crate reads them: the TBS fields `tls.rs` checks on the
//! certificates it issues, and registered client certificates (thumbprints, subject, validity and
//! public key) against which client assertions are verified.
//!
//! It reads structure only: it does not check signatures, chains, extensions or the clock (a
//! registered certificate is trusted because an administrator registered it; the caller compares
//! `not_before`/`not_after` with its own clock). Errors name the problem, never the input.

use std::fmt::{self, Write as _};

use crate::digest::{sha1_thumbprint, sha256};
use crate::pki::der::{self, Tlv};
use crate::{CryptoError, PublicKey};

/// The fields of a certificate's `TBSCertificate` that this crate uses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TbsCertificate<'a> {
    /// The issuer Name.
    pub(crate) issuer: Tlv<'a>,
    /// The Validity: notBefore and notAfter.
    pub(crate) validity: Tlv<'a>,
    /// The subject Name.
    pub(crate) subject: Tlv<'a>,
    /// The SubjectPublicKeyInfo.
    pub(crate) spki: Tlv<'a>,
    /// The `[3]` extensions wrapper, if present.
    pub(crate) extensions: Option<Tlv<'a>>,
}

impl<'a> TbsCertificate<'a> {
    /// Reads a DER `Certificate` (TBS, signature algorithm, signature) filling all of `cert_der`.
    pub(crate) fn parse(cert_der: &'a [u8]) -> Option<Self> {
        let cert = der::read_only(cert_der, der::TAG_SEQUENCE)?;
        let parts = der::children(cert.content)?;
        let [tbs, algorithm, signature] = parts.as_slice() else {
            return None;
        };
        if tbs.tag != der::TAG_SEQUENCE || algorithm.tag != der::TAG_SEQUENCE {
            return None;
        }
        der::bit_string(signature)?;
        let fields = der::children(tbs.content)?;
        // With an explicit version, the fields shift by one.
        let offset = usize::from(fields.first()?.tag == der::TAG_VERSION);
        let field = |i: usize, tag: u8| fields.get(offset + i).filter(|f| f.tag == tag).copied();
        field(0, der::TAG_INTEGER)?;
        field(1, der::TAG_SEQUENCE)?;
        Some(Self {
            issuer: field(2, der::TAG_SEQUENCE)?,
            validity: field(3, der::TAG_SEQUENCE)?,
            subject: field(4, der::TAG_SEQUENCE)?,
            spki: field(5, der::TAG_SEQUENCE)?,
            extensions: fields
                .iter()
                .skip(offset + 6)
                .find(|f| f.tag == der::TAG_EXTENSIONS)
                .copied(),
        })
    }

    /// The SubjectPublicKeyInfo's AlgorithmIdentifier content and its key bits.
    pub(crate) fn public_key(&self) -> Option<(&'a [u8], &'a [u8])> {
        let parts = der::children(self.spki.content)?;
        let [algorithm, key] = parts.as_slice() else {
            return None;
        };
        if algorithm.tag != der::TAG_SEQUENCE {
            return None;
        }
        Some((algorithm.content, der::bit_string(key)?))
    }
}

/// A registered client certificate (X.509, DER): what a client assertion's `x5t` or `x5t#S256`
/// header names and whose key verifies it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// SHA-1 of the DER: the `x5t` header (base64url) and the thumbprint Azure shows (hex).
    pub sha1_thumbprint: [u8; 20],
    /// SHA-256 of the DER: the `x5t#S256` header (base64url).
    pub sha256_thumbprint: [u8; 32],
    /// The subject as RFC 4514 text, most specific attribute first (`CN=app,O=Example`);
    /// attribute types without an RFC 4514 short name appear as dotted OIDs with a `#hex` value,
    /// and control characters are escaped as `\XX`, so the text is one printable line.
    pub subject: String,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// The subject public key.
    pub key: PublicKey,
}

impl ClientCertificate {
    /// Reads PEM text holding exactly one `CERTIFICATE` block. Any other block (a private key, a
    /// second certificate) is refused without being decoded; text outside blocks is ignored.
    pub fn from_pem(pem: &str) -> Result<ClientCertificate, CryptoError> {
        let blocks = der::pem_blocks(pem).ok_or_else(|| cert_error("the PEM text is malformed"))?;
        let [block] = blocks.as_slice() else {
            return Err(cert_error(
                "the PEM text must hold exactly one CERTIFICATE block",
            ));
        };
        if block.label != "CERTIFICATE" {
            return Err(cert_error(
                "the PEM text must hold exactly one CERTIFICATE block",
            ));
        }
        let der = block
            .decode()
            .ok_or_else(|| cert_error("the PEM certificate is not valid base64"))?;
        Self::from_der(&der)
    }

    /// Reads a DER certificate whose key is RSA (2048 to 8192 bits), EC P-256 or EC P-384.
    pub fn from_der(der: &[u8]) -> Result<ClientCertificate, CryptoError> {
        let tbs = TbsCertificate::parse(der)
            .ok_or_else(|| cert_error("the certificate is not a DER X.509 certificate"))?;
        let (not_before, not_after) = validity(tbs.validity.content)
            .ok_or_else(|| cert_error("the certificate validity cannot be read"))?;
        let subject = rfc4514_name(tbs.subject.content)
            .ok_or_else(|| cert_error("the certificate subject cannot be read"))?;
        let (algorithm, key) = tbs
            .public_key()
            .ok_or_else(|| cert_error("the certificate public key cannot be read"))?;
        let key = PublicKey::from_spki(algorithm, key).map_err(cert_error)?;
        Ok(ClientCertificate {
            der: der.to_vec(),
            sha1_thumbprint: sha1_thumbprint(der),
            sha256_thumbprint: sha256(der),
            subject,
            not_before,
            not_after,
            key,
        })
    }
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("sha1_thumbprint", &hex_upper(&self.sha1_thumbprint))
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

fn cert_error(problem: &str) -> CryptoError {
    CryptoError::Certificate(problem.to_owned())
}

fn hex_upper(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02X}");
    }
    out
}

/// notBefore and notAfter from a Validity's content, Unix seconds.
pub(crate) fn validity(content: &[u8]) -> Option<(i64, i64)> {
    let times = der::children(content)?;
    let [not_before, not_after] = times.as_slice() else {
        return None;
    };
    Some((unix_time(not_before)?, unix_time(not_after)?))
}

/// A DER UTCTime (`YYMMDDHHMMSSZ`, years 1950 to 2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`)
/// as Unix seconds. RFC 5280 requires seconds, `Z` and no fractions; anything else is refused.
fn unix_time(tlv: &Tlv<'_>) -> Option<i64> {
    let year_digits = match tlv.tag {
        der::TAG_UTC_TIME => 2,
        der::TAG_GENERALIZED_TIME => 4,
        _ => return None,
    };
    let (zone, digits) = tlv.content.split_last()?;
    if *zone != b'Z' || digits.len() != year_digits + 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        digits
            .get(range)
            .map(|part| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let mut year = number(0..year_digits)?;
    if year_digits == 2 {
        year += if year >= 50 { 1900 } else { 2000 };
    }
    let at = |i: usize| number(year_digits + 2 * i..year_digits + 2 * i + 2);
    let (month, day, hour, minute, second) = (at(0)?, at(1)?, at(2)?, at(3)?, at(4)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

pub(crate) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A Name (RDNSequence content) as RFC 4514 text: RDNs in reverse order joined by `,`, the
/// attributes of a multi-valued RDN joined by `+`.
fn rfc4514_name(rdn_sequence: &[u8]) -> Option<String> {
    render_rdns(rdn_sequence, attribute, "+", ",")
}

/// A Name (RDNSequence content) as text, most specific RDN first: each attribute written by
/// `render`, those of one RDN joined by `within`, the RDNs by `between`. `None` when the
/// structure is not a Name or an attribute cannot be written.
pub(crate) fn render_rdns(
    rdn_sequence: &[u8],
    render: fn(&Tlv<'_>) -> Option<String>,
    within: &str,
    between: &str,
) -> Option<String> {
    let mut rdns = Vec::new();
    for rdn in der::children(rdn_sequence)?.iter().rev() {
        if rdn.tag != der::TAG_SET {
            return None;
        }
        let attributes = der::children(rdn.content)?
            .iter()
            .map(render)
            .collect::<Option<Vec<_>>>()?;
        if attributes.is_empty() {
            return None;
        }
        rdns.push(attributes.join(within));
    }
    Some(rdns.join(between))
}

/// An AttributeTypeAndValue's type (OID arcs) and value element.
pub(crate) fn attribute_parts<'a>(tlv: &Tlv<'a>) -> Option<(Vec<u64>, Tlv<'a>)> {
    if tlv.tag != der::TAG_SEQUENCE {
        return None;
    }
    let parts = der::children(tlv.content)?;
    let [oid, value] = parts.as_slice() else {
        return None;
    };
    if oid.tag != der::TAG_OID {
        return None;
    }
    Some((der::oid_arcs(oid.content)?, *value))
}

/// One AttributeTypeAndValue as `TYPE=value`.
fn attribute(tlv: &Tlv<'_>) -> Option<String> {
    let (arcs, value) = attribute_parts(tlv)?;
    let value = &value;
    let text = short_name(&arcs).and_then(|name| Some((name, directory_string(value)?)));
    if let Some((name, text)) = text {
        let mut out = format!("{name}=");
        escape_value(&text, &mut out);
        return Some(out);
    }
    // RFC 4514 section 2.4: a type without a short name is written as its dotted OID, and a
    // value that is not readable text as `#` and the hex of its whole DER encoding.
    let name = short_name(&arcs).map_or_else(
        || {
            arcs.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(".")
        },
        str::to_owned,
    );
    Some(format!("{name}=#{}", hex_upper(value.raw)))
}

/// The RFC 4514 short name of an attribute type, for the types that RFC lists.
fn short_name(arcs: &[u64]) -> Option<&'static str> {
    Some(match arcs {
        [2, 5, 4, 3] => "CN",
        [2, 5, 4, 7] => "L",
        [2, 5, 4, 8] => "ST",
        [2, 5, 4, 10] => "O",
        [2, 5, 4, 11] => "OU",
        [2, 5, 4, 6] => "C",
        [2, 5, 4, 9] => "STREET",
        [0, 9, 2342, 19200300, 100, 1, 25] => "DC",
        [0, 9, 2342, 19200300, 100, 1, 1] => "UID",
        _ => return None,
    })
}

/// The text of a UTF8String, PrintableString, IA5String or BMPString.
pub(crate) fn directory_string(value: &Tlv<'_>) -> Option<String> {
    match value.tag {
        der::TAG_UTF8_STRING | der::TAG_PRINTABLE_STRING | der::TAG_IA5_STRING => {
            std::str::from_utf8(value.content).ok().map(str::to_owned)
        }
        der::TAG_BMP_STRING => {
            let units = value.content.chunks(2).map(|pair| match pair {
                [high, low] => Ok(u16::from_be_bytes([*high, *low])),
                _ => Err(()),
            });
            let units = units.collect::<Result<Vec<u16>, ()>>().ok()?;
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

/// Appends `value` escaped per RFC 4514 section 2.4, with control characters also escaped as
/// `\XX` (their UTF-8 octets) so the text cannot break a log line.
fn escape_value(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (index, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (index == 0 && matches!(c, ' ' | '#'))
            || (index == last && c == ' ');
        if c.is_control() {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                let _ = write!(out, "\\{byte:02X}");
            }
        } else {
            if special {
                out.push('\\');
            }
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::{P256_CERT, RSA1024_CERT, RSA2048_CERT, RSA2048_KEY};

    /// Colon-separated upper-case hex, as `openssl x509 -fingerprint` prints it.
    fn colon_hex(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    fn time(tag: u8, text: &str) -> Option<i64> {
        let encoded = der::encode(tag, text.as_bytes());
        unix_time(&der::read_only(&encoded, tag).unwrap())
    }

    /// An attribute to encode: type OID content, string tag, value bytes.
    type TestAttribute<'a> = (&'a [u8], u8, &'a [u8]);

    /// A Name's RDNSequence content, one inner slice per RDN.
    fn name(rdns: &[&[TestAttribute<'_>]]) -> Vec<u8> {
        let mut sequence = Vec::new();
        for rdn in rdns {
            let mut set = Vec::new();
            for (oid, tag, value) in *rdn {
                let mut attribute = der::encode(der::TAG_OID, oid);
                attribute.extend(der::encode(*tag, value));
                set.extend(der::encode(der::TAG_SEQUENCE, &attribute));
            }
            sequence.extend(der::encode(der::TAG_SET, &set));
        }
        sequence
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    const EMAIL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];

    /// What `openssl x509` reported for a fixture (tests/fixtures/README.md).
    struct Reported {
        pem: &'static str,
        sha1: &'static str,
        sha256: &'static str,
        subject: &'static str,
        not_before: i64,
        not_after: i64,
        key: &'static str,
    }

    #[test]
    fn certificates_match_what_openssl_reported() {
        let reported = [
            Reported {
                pem: RSA2048_CERT,
                sha1: "50:8D:6F:46:EE:57:6F:1B:AA:36:AA:E9:3F:3C:5B:8E:99:E6:9F:ED",
                sha256: "CF:44:49:BA:28:62:37:1B:07:CF:DA:9A:41:BA:2B:85:59:D1:FC:C0:\
                         C7:6A:25:A2:48:9C:EA:B0:FD:8E:6E:FA",
                subject: r"CN=arca-test-app,O=Example\, Inc.,C=GB",
                not_before: 1_795_315_687,
                not_after: 1_858_387_687,
                key: "PublicKey(RSA, 2048 bits)",
            },
            Reported {
                pem: P256_CERT,
                sha1: "E4:B8:FB:03:12:F0:A3:A6:4F:04:02:A0:19:30:66:E2:78:C9:35:1B",
                sha256: "23:6A:2E:D5:74:0C:E3:BD:2A:D0:31:D0:08:C5:18:EC:8B:A7:C9:BA:\
                         74:44:B6:6A:34:13:A2:41:08:4F:32:8F",
                subject: "CN=arca-test-ec",
                not_before: 1_795_315_687,
                // 2054-04-09 02:48:07, encoded as a GeneralizedTime.
                not_after: 2_659_315_687,
                key: "PublicKey(EC P-256)",
            },
        ];
        for expected in reported {
            let cert = ClientCertificate::from_pem(expected.pem).unwrap();
            assert_eq!(colon_hex(&cert.sha1_thumbprint), expected.sha1);
            assert_eq!(colon_hex(&cert.sha256_thumbprint), expected.sha256);
            assert_eq!(cert.subject, expected.subject);
            assert_eq!(cert.not_before, expected.not_before);
            assert_eq!(cert.not_after, expected.not_after);
            assert_eq!(format!("{:?}", cert.key), expected.key);
            assert_eq!(
                cert.der,
                der::pem_decode(expected.pem, "CERTIFICATE").unwrap()
            );
            assert_eq!(ClientCertificate::from_der(&cert.der).unwrap(), cert);
        }
    }

    #[test]
    fn rsa_1024_certificate_is_refused() {
        let err = ClientCertificate::from_pem(RSA1024_CERT).unwrap_err();
        assert!(
            matches!(&err, CryptoError::Certificate(m) if m.contains("2048")),
            "{err}"
        );
    }

    #[test]
    fn pem_with_anything_but_one_certificate_is_refused_without_echoing_it() {
        let cert = RSA2048_CERT.to_owned();
        let key = RSA2048_KEY.to_owned();
        let two_certs = format!("{cert}{}", P256_CERT.to_owned());
        let cert_and_key = format!("{cert}{key}");
        let key_and_cert = format!("{key}{cert}");
        let garbled = cert.replace("MII", "M!I");
        let unclosed = cert.replace("-----END CERTIFICATE-----", "");
        for bad in [
            two_certs.as_str(),
            cert_and_key.as_str(),
            key_and_cert.as_str(),
            key.as_str(),
            garbled.as_str(),
            unclosed.as_str(),
            "",
            "not pem at all",
        ] {
            let err = ClientCertificate::from_pem(bad).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(matches!(err, CryptoError::Certificate(_)), "{shown}");
            for line in bad.lines().filter(|line| line.len() > 8) {
                assert!(!shown.contains(line), "{shown}");
            }
        }
        // Explanatory text around the one block, and CRLF line ends, are fine.
        assert!(ClientCertificate::from_pem(&cert.replace('\n', "\r\n")).is_ok());
        let annotated = format!("subject=CN=arca-test-app\n{cert}\ntrailing words\n");
        assert!(ClientCertificate::from_pem(&annotated).is_ok());
    }

    #[test]
    fn truncated_or_extended_der_is_refused() {
        let cert = ClientCertificate::from_pem(RSA2048_CERT).unwrap();
        assert!(ClientCertificate::from_der(&cert.der[..cert.der.len() - 1]).is_err());
        let mut extended = cert.der.clone();
        extended.push(0);
        assert!(ClientCertificate::from_der(&extended).is_err());
        assert!(ClientCertificate::from_der(&[]).is_err());
        assert!(ClientCertificate::from_der(&der::encode(der::TAG_SEQUENCE, &[])).is_err());
    }

    #[test]
    fn debug_is_short() {
        let cert = ClientCertificate::from_pem(RSA2048_CERT).unwrap();
        assert_eq!(
            format!("{cert:?}"),
            "ClientCertificate { sha1_thumbprint: \"508D6F46EE576F1BAA36AAE93F3C5B8E99E69FED\", \
             key: PublicKey(RSA, 2048 bits), .. }"
        );
    }

    #[test]
    fn times_convert_to_unix_seconds() {
        use der::{TAG_GENERALIZED_TIME as GT, TAG_UTC_TIME as UTC};
        assert_eq!(time(UTC, "700101000000Z"), Some(0));
        assert_eq!(time(UTC, "500101000000Z"), Some(-631_152_000));
        assert_eq!(time(UTC, "491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(UTC, "000229120000Z"), Some(951_825_600));
        assert_eq!(time(GT, "20500101000000Z"), Some(2_524_608_000));
        assert_eq!(time(GT, "99991231235959Z"), Some(253_402_300_799));
        assert_eq!(time(GT, "19000101000000Z"), Some(-2_208_988_800));
        for bad in [
            "700101000000",
            "7001010000Z",
            "700101000000+0100",
            "701301000000Z",
            "700100000000Z",
            "700132000000Z",
            "010229000000Z",
            "700101240000Z",
            "700101006000Z",
            "700101000060Z",
            "70010100000aZ",
            "7001010000-0Z",
        ] {
            assert_eq!(time(UTC, bad), None, "{bad}");
        }
        for bad in ["21000229000000Z", "20500101000000.5Z", "205001010000Z"] {
            assert_eq!(time(GT, bad), None, "{bad}");
        }
        assert_eq!(time(der::TAG_UTF8_STRING, "700101000000Z"), None);
    }

    #[test]
    fn names_render_as_rfc4514() {
        let utf8 = der::TAG_UTF8_STRING;
        let printable = der::TAG_PRINTABLE_STRING;
        let simple = name(&[&[(O, printable, b"Example")], &[(CN, utf8, b"app")]]);
        assert_eq!(rfc4514_name(&simple).unwrap(), "CN=app,O=Example");

        let special = name(&[&[(CN, utf8, b" #a,b+c\"d\\e<f>g;h ")]]);
        assert_eq!(
            rfc4514_name(&special).unwrap(),
            r#"CN=\ #a\,b\+c\"d\\e\<f\>g\;h\ "#
        );
        let hash = name(&[&[(CN, utf8, b"#x #")]]);
        assert_eq!(rfc4514_name(&hash).unwrap(), r"CN=\#x #");
        let control = name(&[&[(CN, utf8, "a\nb\u{7f}c\u{85}".as_bytes())]]);
        assert_eq!(rfc4514_name(&control).unwrap(), r"CN=a\0Ab\7Fc\C2\85");
        let unicode = name(&[&[(CN, utf8, "Zoë".as_bytes())]]);
        assert_eq!(rfc4514_name(&unicode).unwrap(), "CN=Zoë");
        let bmp = name(&[&[(CN, der::TAG_BMP_STRING, &[0x00, 0x41, 0x00, 0xeb])]]);
        assert_eq!(rfc4514_name(&bmp).unwrap(), "CN=Aë");

        let multi = name(&[&[(CN, utf8, b"a"), (O, utf8, b"b")]]);
        assert_eq!(rfc4514_name(&multi).unwrap(), "CN=a+O=b");
        let other_type = name(&[&[(EMAIL, der::TAG_IA5_STRING, b"a@b")]]);
        assert_eq!(
            rfc4514_name(&other_type).unwrap(),
            "1.2.840.113549.1.9.1=#1603614062"
        );
        let odd_string = name(&[&[(CN, 0x14, b"x")]]);
        assert_eq!(rfc4514_name(&odd_string).unwrap(), "CN=#140178");
        assert_eq!(rfc4514_name(&[]).unwrap(), "");

        assert!(rfc4514_name(&der::encode(der::TAG_SET, &[])).is_none());
        assert!(rfc4514_name(&der::encode(der::TAG_SEQUENCE, &[])).is_none());
        // Values that do not decode as their string type are shown as hex, not refused.
        let bad_utf8 = name(&[&[(CN, utf8, &[0xff])]]);
        assert_eq!(rfc4514_name(&bad_utf8).unwrap(), "CN=#0C01FF");
        let odd_bmp = name(&[&[(CN, der::TAG_BMP_STRING, &[0x00])]]);
        assert_eq!(rfc4514_name(&odd_bmp).unwrap(), "CN=#1E0100");
        let mut not_a_set = name(&[&[(CN, utf8, b"a")]]);
        not_a_set[0] = der::TAG_SEQUENCE;
        assert!(rfc4514_name(&not_a_set).is_none());
    }
}
