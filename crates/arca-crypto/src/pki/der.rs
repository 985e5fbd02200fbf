//! A minimal DER reader and writer and a PEM splitter, enough for the certificates this crate
//! issues, registered client certificates and PKCS#1 RSA public keys.
//!
//! It reads definite-length, low-tag-number TLVs and nothing more; it validates structure, not
//! meaning. It exists because the certificate library in use cannot parse certificates with the
//! features this workspace enables. The writer only builds the small structures verification
//! needs (an RSA public key from its modulus and exponent).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

pub(crate) const TAG_BOOLEAN: u8 = 0x01;
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_UTF8_STRING: u8 = 0x0c;
pub(crate) const TAG_PRINTABLE_STRING: u8 = 0x13;
pub(crate) const TAG_IA5_STRING: u8 = 0x16;
pub(crate) const TAG_UTC_TIME: u8 = 0x17;
pub(crate) const TAG_GENERALIZED_TIME: u8 = 0x18;
pub(crate) const TAG_BMP_STRING: u8 = 0x1e;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_SET: u8 = 0x31;
/// `[0]` constructed, the certificate version.
pub(crate) const TAG_VERSION: u8 = 0xa0;
/// `[3]` constructed, the certificate extensions.
pub(crate) const TAG_EXTENSIONS: u8 = 0xa3;

/// One tag-length-value element.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    /// The value bytes.
    pub(crate) content: &'a [u8],
    /// The whole element, tag and length included.
    pub(crate) raw: &'a [u8],
}

/// Reads one element from the front of `input`; returns it and the rest.
pub(crate) fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        // DER uses the shortest form.
        if len < 0x80 || bytes.first() == Some(&0) {
            return None;
        }
        len
    };
    let header_len = input.len() - rest.len();
    let (content, after) = rest.split_at_checked(len)?;
    let raw = input.get(..header_len + len)?;
    Some((Tlv { tag, content, raw }, after))
}

/// Reads exactly one element with tag `tag` filling all of `input`.
pub(crate) fn read_only(input: &[u8], tag: u8) -> Option<Tlv<'_>> {
    let (tlv, rest) = read(input)?;
    (tlv.tag == tag && rest.is_empty()).then_some(tlv)
}

/// All elements of a constructed value's content, in order.
pub(crate) fn children(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tlv, after) = read(rest)?;
        out.push(tlv);
        rest = after;
    }
    Some(out)
}

/// Decodes the arcs of an OBJECT IDENTIFIER's content.
pub(crate) fn oid_arcs(content: &[u8]) -> Option<Vec<u64>> {
    let mut arcs = Vec::new();
    let mut value: u64 = 0;
    let mut in_progress = false;
    for &byte in content {
        if !in_progress && byte == 0x80 {
            return None;
        }
        value = value
            .checked_mul(128)?
            .checked_add(u64::from(byte & 0x7f))?;
        in_progress = byte & 0x80 != 0;
        if !in_progress {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    (!in_progress && !arcs.is_empty()).then_some(arcs)
}

/// The content of a BIT STRING with no unused bits (keys and signatures are whole octets).
pub(crate) fn bit_string<'a>(tlv: &Tlv<'a>) -> Option<&'a [u8]> {
    if tlv.tag != TAG_BIT_STRING {
        return None;
    }
    match tlv.content.split_first() {
        Some((0, bits)) => Some(bits),
        _ => None,
    }
}

/// The magnitude of a non-negative INTEGER, without leading zero octets (empty for zero).
/// Refuses negative and empty encodings; tolerates non-minimal leading zeros.
pub(crate) fn unsigned_integer<'a>(tlv: &Tlv<'a>) -> Option<&'a [u8]> {
    if tlv.tag != TAG_INTEGER || tlv.content.first()? & 0x80 != 0 {
        return None;
    }
    Some(strip_leading_zeros(tlv.content))
}

/// The modulus and public exponent of a PKCS#1 `RSAPublicKey` (`SEQUENCE { n, e }`), each
/// without leading zeros. `None` for anything else.
pub(crate) fn rsa_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let sequence = read_only(der, TAG_SEQUENCE)?;
    match children(sequence.content)?.as_slice() {
        [n, e] => Some((unsigned_integer(n)?, unsigned_integer(e)?)),
        _ => None,
    }
}

/// `bytes` without its leading zero octets.
pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// Encodes one element: tag, shortest-form length, content.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let len_bytes = len.to_be_bytes();
    let len_bytes = strip_leading_zeros(&len_bytes);
    let mut out = Vec::with_capacity(content.len() + 2 + len_bytes.len());
    out.push(tag);
    if len < 0x80 {
        out.extend_from_slice(len_bytes);
        if len == 0 {
            out.push(0);
        }
    } else {
        // At most 8 length octets for a usize, so the count fits the low seven bits.
        out.push(0x80 | (len_bytes.len() as u8));
        out.extend_from_slice(len_bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Encodes a non-negative INTEGER from its big-endian magnitude, minimally.
pub(crate) fn encode_unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let magnitude = strip_leading_zeros(magnitude);
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    // A set high bit would read as negative; an empty magnitude is zero, encoded as one octet.
    if magnitude.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    encode(TAG_INTEGER, &content)
}

/// The content octets of an OBJECT IDENTIFIER from its arcs; `None` when the arcs are not a
/// valid OID (fewer than two, a first arc above 2, or a second above 39 under arcs 0 and 1).
pub(crate) fn oid_content(arcs: &[u64]) -> Option<Vec<u8>> {
    let [first, second, rest @ ..] = arcs else {
        return None;
    };
    if *first > 2 || (*first < 2 && *second > 39) {
        return None;
    }
    let mut out = Vec::new();
    let head = first.checked_mul(40)?.checked_add(*second)?;
    for arc in std::iter::once(head).chain(rest.iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut value = arc >> 7;
        while value > 0 {
            groups.push(((value & 0x7f) as u8) | 0x80);
            value >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    Some(out)
}

/// An OBJECT IDENTIFIER element from arcs known to be valid (constants of this crate).
pub(crate) fn encode_oid(arcs: &[u64]) -> Vec<u8> {
    encode(TAG_OID, &oid_content(arcs).unwrap_or_default())
}

/// One `-----BEGIN <label>-----` … `-----END <label>-----` block, not yet decoded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PemBlock<'a> {
    /// The label, e.g. `CERTIFICATE` or `PRIVATE KEY`.
    pub(crate) label: &'a str,
    /// The base64 text between the boundaries.
    body: &'a str,
}

impl PemBlock<'_> {
    /// The DER bytes: the body with whitespace removed, base64-decoded.
    pub(crate) fn decode(&self) -> Option<Vec<u8>> {
        let body: String = self
            .body
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        STANDARD.decode(body).ok()
    }

    /// The DER bytes of a block holding a secret (a private key), decoded without leaving a
    /// copy of the text or the bytes outside zeroizing buffers.
    pub(crate) fn decode_secret(&self) -> Option<crate::SecretBytes> {
        let mut body = zeroize::Zeroizing::new(String::with_capacity(self.body.len()));
        body.extend(self.body.chars().filter(|c| !c.is_ascii_whitespace()));
        let mut out = zeroize::Zeroizing::new(vec![0u8; body.len() / 4 * 3 + 3]);
        let len = STANDARD.decode_slice(body.as_bytes(), &mut out[..]).ok()?;
        Some(crate::SecretBytes::from_slice(out.get(..len)?))
    }
}

/// Every PEM block in `text`, in order, without decoding any (so a private key in the text is
/// never copied). Text between blocks is ignored, as RFC 7468 allows. `None` when a block is not
/// closed by the matching END line or contains another boundary.
pub(crate) fn pem_blocks(text: &str) -> Option<Vec<PemBlock<'_>>> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(BEGIN) {
        let after_begin = rest.get(at + BEGIN.len()..)?;
        let label_len = after_begin.find(DASHES)?;
        let label = after_begin.get(..label_len)?;
        let after_label = after_begin.get(label_len + DASHES.len()..)?;
        let end = format!("-----END {label}-----");
        let body_len = after_label.find(&end)?;
        let body = after_label.get(..body_len)?;
        if body.contains(DASHES) {
            return None;
        }
        blocks.push(PemBlock { label, body });
        rest = after_label.get(body_len + end.len()..)?;
    }
    Some(blocks)
}

/// The DER bytes of the first `-----BEGIN <label>-----` block in `text`.
pub(crate) fn pem_decode(text: &str, label: &str) -> Option<Vec<u8>> {
    pem_blocks(text)?
        .into_iter()
        .find(|block| block.label == label)?
        .decode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let (tlv, rest) = read(&[0x04, 0x02, 0xaa, 0xbb, 0xff]).unwrap();
        assert_eq!(
            (tlv.tag, tlv.content, tlv.raw.len(), rest),
            (0x04, &[0xaa, 0xbb][..], 4, &[0xff][..])
        );

        let mut long = vec![0x04, 0x81, 0x80];
        long.extend_from_slice(&[7u8; 0x80]);
        let (tlv, rest) = read(&long).unwrap();
        assert_eq!(tlv.content.len(), 0x80);
        assert!(rest.is_empty());
    }

    #[test]
    fn refuses_truncated_and_non_minimal_encodings() {
        assert!(read(&[]).is_none());
        assert!(read(&[0x04]).is_none());
        assert!(read(&[0x04, 0x03, 0x00]).is_none());
        assert!(read(&[0x04, 0x81, 0x05, 0, 0, 0, 0, 0]).is_none());
        assert!(read(&[0x04, 0x80]).is_none());
        assert!(read(&[0x1f, 0x01, 0x00]).is_none());
        assert!(read_only(&[0x04, 0x00, 0x00], 0x04).is_none());
        assert!(read_only(&[0x04, 0x00], 0x30).is_none());
    }

    #[test]
    fn decodes_oids() {
        assert_eq!(oid_arcs(&[0x55, 0x04, 0x03]).unwrap(), vec![2, 5, 4, 3]);
        let server_auth = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
        assert_eq!(
            oid_arcs(&server_auth).unwrap(),
            vec![1, 3, 6, 1, 5, 5, 7, 3, 1]
        );
        assert_eq!(oid_arcs(&[0x2a, 0x86, 0x48]).unwrap(), vec![1, 2, 840]);
        assert!(oid_arcs(&[0x2a, 0x86]).is_none());
        assert!(oid_arcs(&[]).is_none());
    }

    #[test]
    fn encodes_oids_that_decode_to_the_same_arcs() {
        for arcs in [
            &[2, 5, 4, 3][..],
            &[1, 2, 840, 113_549, 1, 1, 11],
            &[1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
            &[2, 999, 3],
            &[0, 39],
        ] {
            let content = oid_content(arcs).unwrap();
            assert_eq!(oid_arcs(&content).unwrap(), arcs);
        }
        assert_eq!(oid_content(&[2, 5, 4, 3]).unwrap(), [0x55, 0x04, 0x03]);
        assert!(oid_content(&[1]).is_none());
        assert!(oid_content(&[3, 1]).is_none());
        assert!(oid_content(&[1, 40]).is_none());
    }

    #[test]
    fn decodes_pem() {
        let pem = "junk\n-----BEGIN THING-----\nAQID\nBA==\n-----END THING-----\n";
        assert_eq!(pem_decode(pem, "THING").unwrap(), vec![1, 2, 3, 4]);
        assert!(pem_decode(pem, "OTHER").is_none());
        assert!(pem_decode("-----BEGIN THING-----\n!!\n-----END THING-----", "THING").is_none());
    }

    #[test]
    fn splits_pem_blocks_without_decoding_them() {
        let pem = "intro\n-----BEGIN A-----\nAQID\n-----END A-----\nbetween\n\
                   -----BEGIN B C-----\n!! not base64 !!\n-----END B C-----\n";
        let blocks = pem_blocks(pem).unwrap();
        let labels: Vec<&str> = blocks.iter().map(|b| b.label).collect();
        assert_eq!(labels, ["A", "B C"]);
        assert_eq!(blocks[0].decode().unwrap(), vec![1, 2, 3]);
        assert!(blocks[1].decode().is_none());
        assert!(pem_blocks("no pem here").unwrap().is_empty());

        // Unclosed, mismatched and nested blocks are refused.
        assert!(pem_blocks("-----BEGIN A-----\nAQID\n").is_none());
        assert!(pem_blocks("-----BEGIN A-----\nAQID\n-----END B-----").is_none());
        let nested = "-----BEGIN A-----\n-----BEGIN B-----\nAQ==\n-----END B-----\n-----END A-----";
        assert!(pem_blocks(nested).is_none());
    }

    #[test]
    fn encodes_lengths_and_unsigned_integers() {
        assert_eq!(encode(0x04, &[]), [0x04, 0x00]);
        assert_eq!(encode(0x04, &[9; 3]), [0x04, 0x03, 9, 9, 9]);
        let long = encode(0x04, &[1; 0x80]);
        assert_eq!(long[..3], [0x04, 0x81, 0x80]);
        let longer = encode(0x04, &[1; 0x1234]);
        assert_eq!(longer[..4], [0x04, 0x82, 0x12, 0x34]);
        for content in [&[][..], &[1; 0x7f][..], &[1; 0x80][..], &[1; 0x1234][..]] {
            let encoded = encode(0x30, content);
            let tlv = read_only(&encoded, 0x30).unwrap();
            assert_eq!(tlv.content, content);
        }

        assert_eq!(encode_unsigned_integer(&[]), [0x02, 0x01, 0x00]);
        assert_eq!(encode_unsigned_integer(&[0, 0, 0x7f]), [0x02, 0x01, 0x7f]);
        assert_eq!(encode_unsigned_integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(
            encode_unsigned_integer(&[0x01, 0x00, 0x01]),
            [0x02, 0x03, 0x01, 0x00, 0x01]
        );
    }

    #[test]
    fn reads_unsigned_integers_and_bit_strings() {
        let tlv = |bytes: &'static [u8]| read(bytes).unwrap().0;
        assert_eq!(
            unsigned_integer(&tlv(&[0x02, 0x02, 0x00, 0x80])),
            Some(&[0x80][..])
        );
        assert_eq!(unsigned_integer(&tlv(&[0x02, 0x01, 0x00])), Some(&[][..]));
        assert_eq!(unsigned_integer(&tlv(&[0x02, 0x01, 0x80])), None);
        assert_eq!(unsigned_integer(&tlv(&[0x02, 0x00])), None);
        assert_eq!(unsigned_integer(&tlv(&[0x04, 0x01, 0x01])), None);

        assert_eq!(
            bit_string(&tlv(&[0x03, 0x02, 0x00, 0xaa])),
            Some(&[0xaa][..])
        );
        assert_eq!(bit_string(&tlv(&[0x03, 0x02, 0x01, 0xaa])), None);
        assert_eq!(bit_string(&tlv(&[0x03, 0x00])), None);
        assert_eq!(bit_string(&tlv(&[0x04, 0x02, 0x00, 0xaa])), None);
    }
}
