//! A minimal DER reader and PEM decoder, enough to read back the certificates this crate issues.
//!
//! It reads definite-length, low-tag-number TLVs and nothing more; it validates structure, not
//! meaning. It exists because the certificate library in use cannot parse certificates with the
//! features this workspace enables.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

#[cfg(test)]
pub(crate) const TAG_BOOLEAN: u8 = 0x01;
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_UTF8_STRING: u8 = 0x0c;
pub(crate) const TAG_PRINTABLE_STRING: u8 = 0x13;
pub(crate) const TAG_IA5_STRING: u8 = 0x16;
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

/// The DER bytes of the first `-----BEGIN <label>-----` block in `text`.
pub(crate) fn pem_decode(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text.get(start..)?.find(&end)?;
    let body: String = text
        .get(start..stop)?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(body).ok()
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
    fn decodes_pem() {
        let pem = "junk\n-----BEGIN THING-----\nAQID\nBA==\n-----END THING-----\n";
        assert_eq!(pem_decode(pem, "THING").unwrap(), vec![1, 2, 3, 4]);
        assert!(pem_decode(pem, "OTHER").is_none());
        assert!(pem_decode("-----BEGIN THING-----\n!!\n-----END THING-----", "THING").is_none());
    }
}
