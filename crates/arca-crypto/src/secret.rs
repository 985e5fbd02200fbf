//! Purpose-built holders for secret material, and constant-time comparison.
//!
//! Secret bytes live only in [`SecretBytes`] and [`SecretString`]: zeroized on drop, a `Debug` that
//! prints the length and never the contents, no `Display`, no `Serialize`, and equality that takes
//! the same time wherever the first difference is. The contents are reached through one explicitly
//! named method, `expose`, so every use is easy to find in review.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Secret bytes: zeroized on drop, redacted in `Debug`, compared in constant time.
#[derive(Clone, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are zeroized when this value is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new secret buffer.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// The secret bytes. Callers must not log, format or persist them unencrypted.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes as secret text, without copying them; `None` (with the bytes zeroized) when
    /// they are not UTF-8.
    pub fn into_utf8(mut self) -> Option<SecretString> {
        let bytes = std::mem::take(&mut *self.0);
        match String::from_utf8(bytes) {
            Ok(text) => Some(SecretString::new(text)),
            Err(e) => {
                drop(Zeroizing::new(e.into_bytes()));
                None
            }
        }
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {} bytes])", self.0.len())
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.expose(), other.expose())
    }
}

impl Eq for SecretBytes {}

/// A secret UTF-8 string: zeroized on drop, redacted in `Debug`, compared in constant time.
#[derive(Clone, Default)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Takes ownership of `text`; it is zeroized when this value is dropped.
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The secret text. Callers must not log, format or persist it unencrypted.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretString([REDACTED; {} bytes])", self.0.len())
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.expose().as_bytes(), other.expose().as_bytes())
    }
}

impl Eq for SecretString {}

/// Compares two byte strings. For inputs of equal length the time taken does not depend on
/// where they differ; inputs of different lengths are unequal at once (lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_bytes_become_text_only_when_utf8() {
        let text = SecretBytes::new("pässword".as_bytes().to_vec()).into_utf8();
        assert_eq!(text.as_ref().map(SecretString::expose), Some("pässword"));
        assert!(SecretBytes::new(vec![0xff, 0xfe]).into_utf8().is_none());
    }

    #[test]
    fn secret_bytes_debug_is_redacted() {
        let secret = SecretBytes::new(b"hunter2-the-password".to_vec());
        let shown = format!("{secret:?}");
        assert_eq!(shown, "SecretBytes([REDACTED; 20 bytes])");
        assert!(!shown.contains("hunter2"));
        let nested = format!("{:?}", Some(&secret));
        assert!(!nested.contains("hunter2"));
    }

    #[test]
    fn secret_string_debug_is_redacted() {
        let secret = SecretString::new("correct horse battery staple".to_owned());
        let shown = format!("{secret:?}");
        assert_eq!(shown, "SecretString([REDACTED; 28 bytes])");
        assert!(!shown.contains("horse"));
        assert!(!format!("{secret:#?}").contains("horse"));
    }

    #[test]
    fn secret_accessors() {
        let secret = SecretBytes::from(vec![1, 2, 3]);
        assert_eq!(secret.expose(), &[1, 2, 3]);
        assert_eq!(secret.len(), 3);
        assert!(!secret.is_empty());
        assert!(SecretBytes::default().is_empty());
        let text = SecretString::from("abc".to_owned());
        assert_eq!(text.expose(), "abc");
        assert_eq!(text.len(), 3);
        assert!(SecretString::default().is_empty());
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(
            SecretBytes::from_slice(b"abc"),
            SecretBytes::from_slice(b"abc")
        );
        assert_ne!(
            SecretBytes::from_slice(b"abc"),
            SecretBytes::from_slice(b"abd")
        );
        assert_ne!(
            SecretBytes::from_slice(b"abc"),
            SecretBytes::from_slice(b"abcd")
        );
        assert_eq!(
            SecretString::from("x".to_owned()),
            SecretString::from("x".to_owned())
        );
        assert_ne!(
            SecretString::from("x".to_owned()),
            SecretString::from("y".to_owned())
        );
    }

    #[test]
    fn ct_eq_matches_ordinary_equality() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"same", b"same"));
        assert!(!ct_eq(b"same", b"sane"));
        assert!(!ct_eq(b"same", b"same "));
        assert!(!ct_eq(b"", b"x"));
    }
}
