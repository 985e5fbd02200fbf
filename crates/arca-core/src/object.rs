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
