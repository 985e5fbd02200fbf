//! Scopes of role assignments and the resources requests act on: `/` (the deployment),
//! `/vaults/<vault>`, and one object, `/vaults/<vault>/<secrets|keys|certificates>/<name>`.
//!
//! Scopes are kept in a canonical lower-case form, because vault and object names compare
//! case-insensitively. An assignment applies to a resource when its scope is the resource or one
//! of the resource's ancestors.

use crate::{ObjectName, VaultName};

/// The collections an object scope can name.
const COLLECTIONS: &[&str] = &["secrets", "keys", "certificates"];

/// A parsed scope or resource path in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope(String);

impl Scope {
    /// The deployment.
    pub fn root() -> Self {
        Scope("/".to_owned())
    }

    /// A whole vault. `vault` must already be a valid vault name.
    pub fn vault(vault: &str) -> Self {
        Self::build(&["/vaults/", vault])
    }

    /// One object of a vault; `collection` is `secrets`, `keys` or `certificates`.
    pub fn object(vault: &str, collection: &str, name: &str) -> Self {
        Self::build(&["/vaults/", vault, "/", collection, "/", name])
    }

    /// Concatenates `parts` in lower case with one allocation.
    fn build(parts: &[&str]) -> Self {
        let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            out.extend(part.chars().map(|c| c.to_ascii_lowercase()));
        }
        Scope(out)
    }

    /// Parses a scope given by an administrator. Trailing slashes are ignored.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let shown: String = raw.chars().take(80).collect();
        let bad = || {
            format!(
                "Invalid scope {shown:?}: use /, /vaults/<vault> or /vaults/<vault>/<secrets|keys|certificates>/<name>."
            )
        };
        let trimmed = raw.trim_end_matches('/');
        if trimmed.is_empty() {
            return if raw.starts_with('/') {
                Ok(Self::root())
            } else {
                Err(bad())
            };
        }
        let mut parts = trimmed.split('/');
        if parts.next() != Some("")
            || !parts
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case("vaults"))
        {
            return Err(bad());
        }
        let rest: Vec<&str> = parts.collect();
        match rest.as_slice() {
            [vault] => {
                let vault = VaultName::parse(vault).map_err(|_| bad())?;
                Ok(Self::vault(vault.as_str()))
            }
            [vault, collection, name] => {
                let vault = VaultName::parse(vault).map_err(|_| bad())?;
                let collection = collection.to_ascii_lowercase();
                if !COLLECTIONS.contains(&collection.as_str()) {
                    return Err(bad());
                }
                let name = ObjectName::parse(name).map_err(|_| bad())?;
                Ok(Self::object(vault.as_str(), &collection, name.as_str()))
            }
            _ => Err(bad()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The vault this scope lies in, if any.
    pub fn vault_name(&self) -> Option<&str> {
        self.0
            .strip_prefix("/vaults/")
            .map(|r| r.split('/').next().unwrap_or(r))
    }

    /// Whether this is the vault `vault` (compared as the canonical form would), without
    /// allocating.
    pub fn is_vault(&self, vault: &str) -> bool {
        self.0
            .strip_prefix("/vaults/")
            .is_some_and(|rest| rest.eq_ignore_ascii_case(vault))
    }

    /// Whether this is the object `name` of `collection` in `vault` (compared as the canonical
    /// form would), without allocating.
    pub fn is_object(&self, vault: &str, collection: &str, name: &str) -> bool {
        let Some(rest) = self.0.strip_prefix("/vaults/") else {
            return false;
        };
        let mut parts = rest.splitn(3, '/');
        parts.next().is_some_and(|v| v.eq_ignore_ascii_case(vault))
            && parts
                .next()
                .is_some_and(|c| c.eq_ignore_ascii_case(collection))
            && parts.next().is_some_and(|n| n.eq_ignore_ascii_case(name))
    }

    /// Whether an assignment at this scope applies to `resource`.
    pub fn covers(&self, resource: &Scope) -> bool {
        covers(&self.0, resource)
    }
}

/// Whether an assignment at `scope`, a scope in canonical form (as stored), applies to
/// `resource`. Compares strings only, so deciding allocates nothing.
pub fn covers(scope: &str, resource: &Scope) -> bool {
    if scope == "/" {
        return true;
    }
    match resource.0.strip_prefix(scope) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_and_object_checks_agree_with_the_canonical_form() {
        let object = Scope::object("Prod", "secrets", "DB");
        assert!(object.is_object("prod", "secrets", "db"));
        assert!(object.is_object("PROD", "Secrets", "Db"));
        assert!(!object.is_object("prod", "keys", "db"));
        assert!(!object.is_object("prod", "secrets", "db2"));
        assert!(!object.is_object("pro", "secrets", "db"));
        assert!(!object.is_vault("prod"));
        let vault = Scope::vault("Prod");
        assert!(vault.is_vault("prod"));
        assert!(!vault.is_vault("prod2"));
        assert!(!vault.is_object("prod", "secrets", "db"));
        assert!(!Scope::root().is_vault("prod"));
    }

    #[test]
    fn scopes_parse_to_canonical_form() {
        assert_eq!(Scope::parse("/").unwrap().as_str(), "/");
        assert_eq!(
            Scope::parse("/vaults/Prod/").unwrap().as_str(),
            "/vaults/prod"
        );
        assert_eq!(
            Scope::parse("/Vaults/prod/Secrets/Db-Password")
                .unwrap()
                .as_str(),
            "/vaults/prod/secrets/db-password"
        );
        for bad in [
            "",
            "vaults/prod",
            "/vaults",
            "/vaults/p",
            "/vaults/prod/secrets",
            "/vaults/prod/blobs/x",
            "/vaults/prod/secrets/a/b",
            "/vaults/prod/secrets/bad_name",
            "/subscriptions/x",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coverage_follows_the_hierarchy() {
        let root = Scope::root();
        let vault = Scope::vault("prod");
        let secret = Scope::object("prod", "secrets", "db");
        assert!(root.covers(&secret) && root.covers(&vault) && root.covers(&root));
        assert!(vault.covers(&secret) && vault.covers(&vault));
        assert!(!vault.covers(&root));
        assert!(!Scope::vault("pro").covers(&secret));
        assert!(secret.covers(&secret));
        assert!(!secret.covers(&vault));
        assert!(!secret.covers(&Scope::object("prod", "secrets", "db2")));
        assert_eq!(secret.vault_name(), Some("prod"));
        assert_eq!(vault.vault_name(), Some("prod"));
        assert_eq!(root.vault_name(), None);
    }
}
