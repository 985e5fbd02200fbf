//! Validated names: vaults, objects and version ids.
//!
//! Object names compare case-insensitively, as in Key Vault; [`ObjectName::key`] is the canonical
//! lower-case form used for storage and associated data, while [`ObjectName::as_str`] keeps the
//! case the caller used.

use std::fmt;

use crate::limits::MAX_OBJECT_NAME_CHARS;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("invalid object name")]
    Object,
    #[error("invalid vault name")]
    Vault,
    #[error("invalid version")]
    Version,
}

/// An object (secret, key, certificate) name: 1 to 127 of `[0-9a-zA-Z-]`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ObjectName {
    original: String,
    key: String,
}

impl ObjectName {
    pub fn parse(name: &str) -> Result<Self, NameError> {
        let ok = !name.is_empty()
            && name.len() <= MAX_OBJECT_NAME_CHARS
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(NameError::Object);
        }
        Ok(Self {
            original: name.to_owned(),
            key: name.to_ascii_lowercase(),
        })
    }

    /// The name as the caller spelled it.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The canonical (lower-case) form: the storage key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectName({})", self.original)
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// A vault name: 3 to 24 characters of letters, digits and dashes, starting with a letter,
/// ending with a letter or digit, without consecutive dashes (Key Vault's rules). Stored lower-case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VaultName(String);

impl VaultName {
    pub fn parse(name: &str) -> Result<Self, NameError> {
        let bytes = name.as_bytes();
        let ok = (3..=24).contains(&bytes.len())
            && bytes[0].is_ascii_alphabetic()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes[bytes.len() - 1] != b'-'
            && !name.contains("--");
        if !ok {
            return Err(NameError::Vault);
        }
        Ok(Self(name.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for VaultName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaultName({})", self.0)
    }
}

impl fmt::Display for VaultName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A version id: 32 lower-case hexadecimal digits. Parsing accepts upper case and folds it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionId(String);

impl VersionId {
    pub fn parse(version: &str) -> Result<Self, NameError> {
        if version.len() == 32 && version.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(version.to_ascii_lowercase()))
        } else {
            Err(NameError::Version)
        }
    }

    /// Builds a version id from 16 random bytes supplied by the caller.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        let mut s = String::with_capacity(32);
        for b in bytes {
            s.push(char::from(HEX[(b >> 4) as usize]));
            s.push(char::from(HEX[(b & 15) as usize]));
        }
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VersionId({})", self.0)
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_follow_key_vault_rules() {
        assert!(ObjectName::parse("a").is_ok());
        assert!(ObjectName::parse("Db-Password-1").is_ok());
        assert!(ObjectName::parse("-leading-dash").is_ok());
        assert!(ObjectName::parse(&"x".repeat(127)).is_ok());
        assert_eq!(ObjectName::parse(&"x".repeat(128)), Err(NameError::Object));
        for bad in ["", "a_b", "a.b", "a b", "ä", "a/b"] {
            assert_eq!(ObjectName::parse(bad), Err(NameError::Object), "{bad:?}");
        }
        let n = ObjectName::parse("MiXed").unwrap();
        assert_eq!((n.as_str(), n.key()), ("MiXed", "mixed"));
    }

    #[test]
    fn vault_names_follow_key_vault_rules() {
        for good in ["abc", "Default", "team-a-prod", "a1b2c3d4e5f6g7h8i9j0k1l2"] {
            assert!(VaultName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "1abc",
            "-abc",
            "abc-",
            "a--b",
            "a_b",
            "a1b2c3d4e5f6g7h8i9j0k1l2m",
        ] {
            assert_eq!(VaultName::parse(bad), Err(NameError::Vault), "{bad}");
        }
        assert_eq!(VaultName::parse("Default").unwrap().as_str(), "default");
    }

    #[test]
    fn version_ids_are_32_hex_digits() {
        let v = VersionId::from_random([0xab; 16]);
        assert_eq!(v.as_str(), "abababababababababababababababab");
        assert_eq!(
            VersionId::parse("ABABABABABABABABABABABABABABABAB").unwrap(),
            v
        );
        assert!(VersionId::parse("abc").is_err());
        assert!(VersionId::parse(&"g".repeat(32)).is_err());
    }
}
