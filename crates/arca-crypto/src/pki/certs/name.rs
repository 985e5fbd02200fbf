//! Subject and issuer names in Key Vault's string form, both ways.
//!
//! Key Vault takes a policy subject such as `CN=www.example.com, O=Contoso, OU=IT, L=Redmond,
//! S=WA, C=US` and shows certificate names the same way. The form follows Windows'
//! `CertStrToName` / .NET `X500DistinguishedName`: RDNs separated by `,` (or `;`), most specific
//! first, so the DER `Name` holds them in the reverse order (the X.500 order, `C` first); `+`
//! joins the attributes of a multi-valued RDN; a value may be double-quoted (`O="Contoso, Inc."`,
//! `""` for a quote inside) or use RFC 4514 backslash escapes (`\,`, `\22`). Keywords are case
//! insensitive: CN, O, OU, L, S or ST, C, E (or EMAIL, EMAILADDRESS), STREET, DC, T (TITLE),
//! G (GN, GIVENNAME), SN (surname), I (INITIALS), SERIALNUMBER, POSTALCODE, UID, and any
//! attribute as `OID.1.2.3` or a bare dotted OID.
//!
//! Values become a PrintableString when every character allows it, a UTF8String otherwise;
//! C must be two letters (PrintableString), E and DC are IA5String (ASCII). Control characters
//! are refused.
//!
//! Rendering writes `KEY=value` joined by `, ` (`+` inside an RDN), with the keywords above
//! (S for the state, E for e-mail), `OID.<dotted>` for other types, `#hex` for values that are
//! not text, and double quotes around a value holding `, + = " ; < > # \`, or edge spaces
//! (`""` and `\\` inside). Control characters are written as `\XX`, so a name is always one printable line.

use std::fmt::Write as _;

use super::cert_error;
use crate::pki::der::{self, Tlv};
use crate::pki::x509::{attribute_parts, directory_string, render_rdns};
use crate::CryptoError;

/// Longest subject string accepted, bytes.
const MAX_SUBJECT_LEN: usize = 1_024;
/// Most attributes in one subject.
const MAX_ATTRIBUTES: usize = 32;
/// Longest single attribute value, characters (X.520's upper bound for most types is 64 to
/// 128; Key Vault's is not documented, so this is generous).
const MAX_VALUE_LEN: usize = 256;

/// How an attribute's value is encoded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// PrintableString when possible, else UTF8String.
    Text,
    /// Exactly two letters, PrintableString.
    Country,
    /// PrintableString only.
    Printable,
    /// IA5String (ASCII).
    Ascii,
}

/// Keyword, OID arcs and value kind; the first keyword of each OID is the one rendered.
const ATTRIBUTES: &[(&str, &[u64], Kind)] = &[
    ("CN", &[2, 5, 4, 3], Kind::Text),
    ("SN", &[2, 5, 4, 4], Kind::Text),
    ("SERIALNUMBER", &[2, 5, 4, 5], Kind::Printable),
    ("C", &[2, 5, 4, 6], Kind::Country),
    ("L", &[2, 5, 4, 7], Kind::Text),
    ("S", &[2, 5, 4, 8], Kind::Text),
    ("ST", &[2, 5, 4, 8], Kind::Text),
    ("STREET", &[2, 5, 4, 9], Kind::Text),
    ("O", &[2, 5, 4, 10], Kind::Text),
    ("OU", &[2, 5, 4, 11], Kind::Text),
    ("T", &[2, 5, 4, 12], Kind::Text),
    ("TITLE", &[2, 5, 4, 12], Kind::Text),
    ("POSTALCODE", &[2, 5, 4, 17], Kind::Text),
    ("G", &[2, 5, 4, 42], Kind::Text),
    ("GN", &[2, 5, 4, 42], Kind::Text),
    ("GIVENNAME", &[2, 5, 4, 42], Kind::Text),
    ("I", &[2, 5, 4, 43], Kind::Text),
    ("INITIALS", &[2, 5, 4, 43], Kind::Text),
    ("E", &[1, 2, 840, 113_549, 1, 9, 1], Kind::Ascii),
    ("EMAIL", &[1, 2, 840, 113_549, 1, 9, 1], Kind::Ascii),
    ("EMAILADDRESS", &[1, 2, 840, 113_549, 1, 9, 1], Kind::Ascii),
    ("DC", &[0, 9, 2_342, 19_200_300, 100, 1, 25], Kind::Ascii),
    ("UID", &[0, 9, 2_342, 19_200_300, 100, 1, 1], Kind::Text),
];

/// Encodes a Key Vault subject string as the DER `Name` (a SEQUENCE of RDN SETs). Refuses an
/// empty subject, unknown keywords, empty values, bad quoting and values the attribute's type
/// cannot hold; the message names the problem and the keyword, never the value.
pub fn encode_subject(subject: &str) -> Result<Vec<u8>, CryptoError> {
    if subject.len() > MAX_SUBJECT_LEN {
        return Err(cert_error("the subject is longer than 1024 bytes"));
    }
    let rdns = split_subject(subject)?;
    if rdns.is_empty() {
        return Err(cert_error("the subject is empty"));
    }
    if rdns.iter().map(Vec::len).sum::<usize>() > MAX_ATTRIBUTES {
        return Err(cert_error("the subject has more than 32 attributes"));
    }
    let mut sequence = Vec::new();
    for rdn in rdns.iter().rev() {
        let mut set: Vec<Vec<u8>> = Vec::with_capacity(rdn.len());
        for (key, value) in rdn {
            set.push(encode_attribute(key, value)?);
        }
        // DER orders the members of a SET OF by their encodings.
        set.sort();
        sequence.extend(der::encode(der::TAG_SET, &set.concat()));
    }
    Ok(der::encode(der::TAG_SEQUENCE, &sequence))
}

fn encode_attribute(key: &str, value: &str) -> Result<Vec<u8>, CryptoError> {
    let (arcs, kind) = attribute_type(key)?;
    if value.is_empty() {
        return Err(CryptoError::Certificate(format!(
            "the subject attribute {key} has an empty value"
        )));
    }
    if value.contains(char::is_control) {
        return Err(CryptoError::Certificate(format!(
            "the subject attribute {key} has a control character"
        )));
    }
    if value.chars().count() > MAX_VALUE_LEN {
        return Err(CryptoError::Certificate(format!(
            "the subject attribute {key} is longer than {MAX_VALUE_LEN} characters"
        )));
    }
    let bad = |what: &str| {
        Err(CryptoError::Certificate(format!(
            "the subject attribute {key} must be {what}"
        )))
    };
    let value_tlv = match kind {
        Kind::Country if value.len() == 2 && value.bytes().all(|b| b.is_ascii_alphabetic()) => {
            der::encode(der::TAG_PRINTABLE_STRING, value.as_bytes())
        }
        Kind::Country => return bad("a two-letter country code"),
        Kind::Printable if value.chars().all(is_printable) => {
            der::encode(der::TAG_PRINTABLE_STRING, value.as_bytes())
        }
        Kind::Printable => return bad("printable ASCII (letters, digits, '()+,-./:=? )"),
        Kind::Ascii if value.is_ascii() => der::encode(der::TAG_IA5_STRING, value.as_bytes()),
        Kind::Ascii => return bad("ASCII"),
        Kind::Text if value.chars().all(is_printable) => {
            der::encode(der::TAG_PRINTABLE_STRING, value.as_bytes())
        }
        Kind::Text => der::encode(der::TAG_UTF8_STRING, value.as_bytes()),
    };
    let oid = der::oid_content(&arcs).ok_or_else(|| cert_error("bad attribute OID"))?;
    let content = [der::encode(der::TAG_OID, &oid), value_tlv].concat();
    Ok(der::encode(der::TAG_SEQUENCE, &content))
}

/// The attributes of a Key Vault subject string in the order written, each as its keyword the
/// way names are rendered (`CN`, `O`, `S` for ST, `E` for EMAIL, `OID.1.2.3` for types without
/// one) and its value unescaped. The subject is checked as [`encode_subject`] checks it.
pub fn subject_attributes(subject: &str) -> Result<Vec<(String, String)>, CryptoError> {
    encode_subject(subject)?;
    let mut out = Vec::new();
    for (key, value) in split_subject(subject)?.into_iter().flatten() {
        let (arcs, _) = attribute_type(&key)?;
        let keyword = match ATTRIBUTES
            .iter()
            .find(|(_, known, _)| *known == arcs.as_slice())
        {
            Some((name, _, _)) => (*name).to_owned(),
            None => {
                let dotted: Vec<String> = arcs.iter().map(u64::to_string).collect();
                format!("OID.{}", dotted.join("."))
            }
        };
        out.push((keyword, value));
    }
    Ok(out)
}

/// The OID and value kind of a keyword, `OID.1.2.3` or a dotted OID.
fn attribute_type(key: &str) -> Result<(Vec<u64>, Kind), CryptoError> {
    if let Some((_, arcs, kind)) = ATTRIBUTES
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(key))
    {
        return Ok((arcs.to_vec(), *kind));
    }
    let dotted = key
        .strip_prefix("OID.")
        .or_else(|| key.strip_prefix("oid."))
        .unwrap_or(key);
    match parse_dotted_oid(dotted) {
        Some(arcs) => {
            let kind = ATTRIBUTES
                .iter()
                .find(|(_, known, _)| *known == arcs.as_slice())
                .map_or(Kind::Text, |(_, _, kind)| *kind);
            Ok((arcs, kind))
        }
        None => Err(CryptoError::Certificate(format!(
            "unknown subject attribute {:?}",
            key.chars().take(32).collect::<String>()
        ))),
    }
}

/// Arcs of a dotted OID string (`1.3.6.1.5.5.7.3.1`), if it is a valid OID.
pub(crate) fn parse_dotted_oid(text: &str) -> Option<Vec<u64>> {
    if text.is_empty() || text.len() > 128 {
        return None;
    }
    let arcs = text
        .split('.')
        .map(|arc| {
            let canonical = !arc.is_empty()
                && arc.bytes().all(|b| b.is_ascii_digit())
                && (arc == "0" || !arc.starts_with('0'));
            canonical.then(|| arc.parse::<u64>().ok()).flatten()
        })
        .collect::<Option<Vec<u64>>>()?;
    der::oid_content(&arcs)?;
    Some(arcs)
}

/// Whether `c` may appear in a PrintableString.
fn is_printable(c: char) -> bool {
    c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c)
}

/// The subject as RDNs (in string order) of (keyword, unescaped value) pairs.
fn split_subject(subject: &str) -> Result<Vec<Vec<(String, String)>>, CryptoError> {
    let mut rdns: Vec<Vec<(String, String)>> = Vec::new();
    let mut rdn: Vec<(String, String)> = Vec::new();
    let mut chars = subject.chars().peekable();
    loop {
        // Keyword up to '='.
        let mut key = String::new();
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
            if matches!(c, ',' | ';' | '+' | '"' | '\\') {
                return Err(cert_error("the subject is not KEY=value pairs"));
            }
            key.push(c);
        }
        let key = key.trim().to_owned();
        if key.is_empty() {
            if rdns.is_empty() && rdn.is_empty() && subject.trim().is_empty() {
                return Ok(Vec::new());
            }
            return Err(cert_error("the subject is not KEY=value pairs"));
        }
        while chars.peek().is_some_and(|c| *c == ' ') {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        value.push('"');
                    }
                    Some('"') => break,
                    Some('\\') => value.push(unescape(&mut chars)?),
                    Some(c) => value.push(c),
                    None => return Err(cert_error("the subject has an unclosed quote")),
                }
            }
            while chars.peek().is_some_and(|c| *c == ' ') {
                chars.next();
            }
        } else {
            // Trailing unescaped spaces are trimmed; escaped ones are kept.
            let mut kept_len = 0;
            while let Some(&c) = chars.peek() {
                if matches!(c, ',' | ';' | '+') {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.push(unescape(&mut chars)?);
                    kept_len = value.len();
                } else if c == '"' {
                    return Err(cert_error("the subject has a quote inside a value"));
                } else {
                    value.push(c);
                    if c != ' ' {
                        kept_len = value.len();
                    }
                }
            }
            value.truncate(kept_len);
        }
        rdn.push((key, value));
        match chars.next() {
            Some('+') => {}
            Some(',' | ';') => rdns.push(std::mem::take(&mut rdn)),
            None => {
                rdns.push(rdn);
                return Ok(rdns);
            }
            Some(_) => return Err(cert_error("the subject has text after a quoted value")),
        }
    }
}

/// The character after a backslash: itself if special, or `\XX` hex (one byte, ASCII).
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, CryptoError> {
    let bad = || cert_error("the subject has a bad backslash escape");
    let first = chars.next().ok_or_else(bad)?;
    if first.is_ascii_hexdigit() {
        let second = chars
            .next()
            .filter(char::is_ascii_hexdigit)
            .ok_or_else(bad)?;
        let byte = u8::from_str_radix(&format!("{first}{second}"), 16).map_err(|_| bad())?;
        return if byte.is_ascii() {
            Ok(char::from(byte))
        } else {
            Err(bad())
        };
    }
    if matches!(
        first,
        ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' | ' ' | '#'
    ) {
        Ok(first)
    } else {
        Err(bad())
    }
}

/// A DER `Name`'s content (the RDNSequence) in Key Vault's string form. `None` when the
/// structure is not a Name.
pub(crate) fn render_name_content(rdn_sequence: &[u8]) -> Option<String> {
    render_rdns(rdn_sequence, render_attribute, " + ", ", ")
}

/// A whole DER `Name` (SEQUENCE included) in Key Vault's string form.
pub fn render_name(name_der: &[u8]) -> Result<String, CryptoError> {
    der::read_only(name_der, der::TAG_SEQUENCE)
        .and_then(|name| render_name_content(name.content))
        .ok_or_else(|| cert_error("the name cannot be read"))
}

fn render_attribute(tlv: &Tlv<'_>) -> Option<String> {
    let (arcs, value) = attribute_parts(tlv)?;
    let value = &value;
    let mut out = match ATTRIBUTES
        .iter()
        .find(|(_, known, _)| *known == arcs.as_slice())
    {
        Some((name, _, _)) => format!("{name}="),
        None => {
            let dotted: Vec<String> = arcs.iter().map(u64::to_string).collect();
            format!("OID.{}=", dotted.join("."))
        }
    };
    match directory_string(value) {
        Some(text) => quote_value(&text, &mut out),
        None => {
            out.push('#');
            for byte in value.raw {
                let _ = write!(out, "{byte:02X}");
            }
        }
    }
    Some(out)
}

/// Appends `value`, in double quotes when it holds a character that would otherwise end or
/// change it (a quote inside becomes `""`, a backslash `\\`); control characters become `\XX`.
fn quote_value(value: &str, out: &mut String) {
    let needs_quotes = value.is_empty()
        || value.starts_with(' ')
        || value.ends_with(' ')
        || value
            .chars()
            .any(|c| matches!(c, ',' | '+' | '=' | '"' | ';' | '<' | '>' | '#' | '\\'));
    if needs_quotes {
        out.push('"');
    }
    for c in value.chars() {
        if c.is_control() {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                let _ = write!(out, "\\{byte:02X}");
            }
        } else if c == '"' {
            out.push_str("\"\"");
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    if needs_quotes {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(subject: &str) -> String {
        render_name(&encode_subject(subject).unwrap()).unwrap()
    }

    #[test]
    fn key_vault_subjects_round_trip() {
        let subject = "CN=www.example.com, O=Contoso, OU=IT, L=Redmond, S=WA, C=US";
        assert_eq!(round_trip(subject), subject);
        assert_eq!(
            round_trip("cn=a;st=WA ;  OU = x y  ,OU=z"),
            "CN=a, S=WA, OU=x y, OU=z"
        );
        assert_eq!(
            round_trip(r#"CN=a, O="Contoso, Inc.""#),
            r#"CN=a, O="Contoso, Inc.""#
        );
        assert_eq!(round_trip(r"O=Contoso\, Inc."), r#"O="Contoso, Inc.""#);
        assert_eq!(round_trip(r#"CN="say ""hi""""#), r#"CN="say ""hi""""#);
        assert_eq!(round_trip(r"CN=a\\b"), r#"CN="a\\b""#);
        assert_eq!(round_trip(r"CN=a\20"), r#"CN="a ""#);
        assert_eq!(round_trip("CN=a + O=b, C=us"), "CN=a + O=b, C=us");
        assert_eq!(round_trip("E=a@b.c, DC=example"), "E=a@b.c, DC=example");
        assert_eq!(round_trip("CN=Zoë"), "CN=Zoë");
        assert_eq!(
            round_trip("OID.2.5.4.3=x, 1.2.3.4=y"),
            "CN=x, OID.1.2.3.4=y"
        );
    }

    #[test]
    fn der_holds_rdns_in_x500_order() {
        let der = encode_subject("CN=leaf, C=US").unwrap();
        let name = der::read_only(&der, der::TAG_SEQUENCE).unwrap();
        let rdns = der::children(name.content).unwrap();
        // C first, CN last; C as PrintableString, CN printable too.
        assert!(rdns[0].raw.ends_with(&[0x13, 0x02, b'U', b'S']));
        assert!(rdns[1].raw.ends_with(b"leaf"));
        let utf8 = encode_subject("CN=Zoë").unwrap();
        assert!(utf8.windows(2).any(|w| w == [der::TAG_UTF8_STRING, 4]));
    }

    #[test]
    fn bad_subjects_are_refused_without_echoing_values() {
        for bad in [
            "",
            "   ",
            "CN",
            "=x",
            "CN=",
            "CN=a,",
            "CN=a,,O=b",
            "XX=secretvalue",
            "C=USA",
            "C=1A",
            "E=zoë@example.com",
            "CN=\"open",
            "CN=\"a\"b",
            "CN=a\"b",
            "CN=a\\q",
            "CN=a\\",
            "CN=a\\C3",
            "CN=a\\0Ab",
            "1=x",
            "OID.99.1=x",
        ] {
            let err = encode_subject(bad).unwrap_err().to_string();
            assert!(!err.contains("secretvalue"), "{bad}: {err}");
        }
        assert!(encode_subject(&format!("CN={}", "a".repeat(257))).is_err());
        assert!(encode_subject(&"CN=a,".repeat(33)).is_err());
    }

    #[test]
    fn rendering_escapes_and_falls_back_to_hex() {
        let odd = [
            der::encode_oid(&[2, 5, 4, 3]),
            der::encode(der::TAG_UTF8_STRING, b" a\nb "),
        ]
        .concat();
        let name = der::encode(
            der::TAG_SEQUENCE,
            &der::encode(der::TAG_SET, &der::encode(der::TAG_SEQUENCE, &odd)),
        );
        assert_eq!(render_name(&name).unwrap(), "CN=\" a\\0Ab \"");
        let octets = [der::encode_oid(&[2, 5, 4, 3]), der::encode(0x04, &[1, 2])].concat();
        let name = der::encode(
            der::TAG_SEQUENCE,
            &der::encode(der::TAG_SET, &der::encode(der::TAG_SEQUENCE, &octets)),
        );
        assert_eq!(render_name(&name).unwrap(), "CN=#04020102");
        assert!(render_name(&der::encode(
            der::TAG_SEQUENCE,
            &der::encode(der::TAG_SET, &[])
        ))
        .is_err());
    }

    #[test]
    fn subject_attributes_name_each_attribute_once_as_rendered() {
        assert_eq!(
            subject_attributes(
                "cn=a.example, ST=WA, email=x@y, 2.5.4.10=\"Contoso, Inc.\", OID.1.2.3=v"
            )
            .unwrap(),
            [
                ("CN".to_owned(), "a.example".to_owned()),
                ("S".to_owned(), "WA".to_owned()),
                ("E".to_owned(), "x@y".to_owned()),
                ("O".to_owned(), "Contoso, Inc.".to_owned()),
                ("OID.1.2.3".to_owned(), "v".to_owned()),
            ]
        );
        assert!(subject_attributes("").is_err());
        assert!(subject_attributes("CN=").is_err());
        assert!(subject_attributes("XX=1").is_err());
    }
}
