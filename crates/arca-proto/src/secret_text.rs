//! [`SecretText`]: a secret string that travels in a JSON body (a new client secret, the
//! managed-identity header, the credentials in `bootstrap.json`).
//!
//! Wire types must serialize what they carry, so this is not `arca_crypto::SecretString` (which
//! has no `Serialize`, and would pull key material code into the wire crate). What it keeps of the
//! house rules for secrets: the text is wiped when the value is dropped (also when the rest of a
//! body fails to parse), `Debug` prints only the length, there is no `Display`, equality is
//! constant-time, and the text is read through one named method.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A secret string of a wire body: zeroized on drop, redacted in `Debug`.
#[derive(Clone, Default)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Takes ownership of `text`; it is zeroized when this value is dropped.
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The secret text. Callers must not log it or keep copies of it in plain `String`s.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl PartialEq for SecretText {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretText {}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretText([REDACTED; {} bytes])", self.0.len())
    }
}

impl Serialize for SecretText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Zeroizing::<String>::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_the_length() {
        let s = SecretText::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "SecretText([REDACTED; 7 bytes])");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }

    #[test]
    fn equality_compares_the_text() {
        let s = |t: &str| SecretText::new(t.into());
        assert_eq!(s("abc"), s("abc"));
        assert_ne!(s("abc"), s("abd"));
        assert_ne!(s("abc"), s("abcd"));
        assert_eq!(s(""), SecretText::default());
    }

    #[test]
    fn travels_as_a_plain_string() {
        let s: SecretText = serde_json::from_str(r#""abc""#).unwrap();
        assert_eq!(s.expose(), "abc");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""abc""#);
        assert!(serde_json::from_str::<SecretText>("1").is_err());
    }
}
