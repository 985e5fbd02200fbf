//! The kinds of object a vault holds.

use std::fmt;

/// The kind of a vault object; it is part of every record's address and of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Secret,
    Key,
    Certificate,
}

impl ObjectKind {
    /// The stable lower-case tag used in storage and in sealed-record associated data.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Secret => "secret",
            ObjectKind::Key => "key",
            ObjectKind::Certificate => "certificate",
        }
    }

    /// The collection of the REST API and of authorization scopes: `secrets`, `keys` or
    /// `certificates`.
    pub fn collection(self) -> &'static str {
        match self {
            ObjectKind::Secret => "secrets",
            ObjectKind::Key => "keys",
            ObjectKind::Certificate => "certificates",
        }
    }

    pub fn parse(tag: &str) -> Option<Self> {
        match tag {
            "secret" => Some(ObjectKind::Secret),
            "key" => Some(ObjectKind::Key),
            "certificate" => Some(ObjectKind::Certificate),
            _ => None,
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an object lives: its vault (a lower-case vault name), its kind and its name. The name
/// keeps the caller's spelling; stores compare it ASCII-case-insensitively, as Key Vault does, so
/// [`ObjectAddress::same_object`] is the comparison to use (the derived `==` is exact).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectAddress {
    pub vault: String,
    pub kind: ObjectKind,
    pub name: String,
}

impl ObjectAddress {
    pub fn new(vault: impl Into<String>, kind: ObjectKind, name: impl Into<String>) -> Self {
        Self {
            vault: vault.into(),
            kind,
            name: name.into(),
        }
    }

    /// A secret's address.
    pub fn secret(vault: impl Into<String>, name: impl Into<String>) -> Self {
        Self::new(vault, ObjectKind::Secret, name)
    }

    /// The name in the lower-case form stores key objects by.
    pub fn lower_name(&self) -> String {
        self.name.to_ascii_lowercase()
    }

    /// Whether both addresses name the same object: same vault and kind, names equal ignoring
    /// ASCII case.
    pub fn same_object(&self, other: &ObjectAddress) -> bool {
        self.vault == other.vault
            && self.kind == other.kind
            && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl fmt::Display for ObjectAddress {
    /// `vault/kind/name`, for messages and logs (names are not secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.vault, self.kind, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_compare_names_ignoring_ascii_case_only_through_same_object() {
        let a = ObjectAddress::secret("v", "Db");
        let b = ObjectAddress::secret("v", "dB");
        assert!(a.same_object(&b));
        assert_ne!(a, b);
        assert!(!a.same_object(&ObjectAddress::new("v", ObjectKind::Key, "Db")));
        assert!(!a.same_object(&ObjectAddress::secret("w", "Db")));
        assert_eq!(a.lower_name(), "db");
        assert_eq!(a.to_string(), "v/secret/Db");
    }
}
