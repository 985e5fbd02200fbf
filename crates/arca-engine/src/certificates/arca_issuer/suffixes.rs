//! The DNS suffixes each vault's `Arca` issuer may sign for: set by an administrator (the admin
//! API authorizes its caller at `/`), never by the data plane, so a vault user who may manage the
//! vault's issuers (`certificatecas/write`) cannot widen what the deployment's CA signs.
//!
//! One sealed vault document per issuer name (kind `arcaissuersuffixes`, id the issuer's
//! lower-case name): the sealing binds vault and issuer, so a database writer can neither forge
//! a list nor move one to another vault or issuer, and the list goes with its vault. A list is
//! kept by issuer name whether or not the vault has that issuer yet, and outlives the issuer's
//! deletion: the administrator says what the issuer of that name may sign, the vault's users say
//! whether it exists.
//!
//! Deny by default: an issuer without a list issues nothing. A suffix permits itself and the
//! names below it, label by label (`example.internal` permits `example.internal` and
//! `a.example.internal`, never `badexample.internal`).

use arca_core::ObjectName;
use serde::{Deserialize, Serialize};

use crate::vault_documents::{vault_not_found, VaultDocuments};
use crate::{Engine, EngineError, EngineResult};

/// Most suffixes one issuer may sign for.
pub const MAX_SUFFIXES: usize = 32;
/// Most issuers of one vault with suffixes (a vault's most issuers).
pub const MAX_LISTS: usize = crate::certificates::issuers::MAX_ISSUERS;
/// Longest suffix, in bytes (the longest DNS name).
pub const MAX_SUFFIX_LEN: usize = 253;

const DOCUMENTS: VaultDocuments = VaultDocuments {
    kind: "arcaissuersuffixes",
    field: "document/arcaissuersuffixes",
};

/// The suffixes one issuer may sign for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerSuffixes {
    /// The issuer name as the administrator wrote it.
    pub issuer: String,
    /// The permitted DNS suffixes, lower case, sorted, without repeats.
    pub suffixes: Vec<String>,
    /// When the list was last set, Unix seconds.
    pub updated: i64,
}

fn invalid(message: String) -> EngineError {
    EngineError::Invalid(message)
}

/// `text` shortened for an error message.
fn shown(text: &str) -> String {
    text.chars().take(MAX_SUFFIX_LEN).collect()
}

/// The suffixes checked and normalised (lower case, sorted, without repeats): 1 to
/// [`MAX_SUFFIXES`] DNS names without wildcard, none of them one of Arca's own names
/// (`reserved`: the vault domain, the issuer host, `localhost`), below one, or above one (a
/// certificate for a vault's host would let its holder pose as Arca).
pub fn normalise(suffixes: &[String], reserved: &[String]) -> EngineResult<Vec<String>> {
    if suffixes.is_empty() || suffixes.len() > MAX_SUFFIXES {
        return Err(invalid(format!(
            "An issuer is given 1 to {MAX_SUFFIXES} DNS suffixes (delete its list to permit none)."
        )));
    }
    let mut out = Vec::with_capacity(suffixes.len());
    for suffix in suffixes {
        if suffix.len() > MAX_SUFFIX_LEN {
            return Err(invalid(format!(
                "A DNS suffix is at most {MAX_SUFFIX_LEN} characters."
            )));
        }
        let normal = arca_crypto::dns_suffix(suffix).ok_or_else(|| {
            invalid(format!(
                "{:?} is not a DNS suffix: a DNS name without wildcard or leading dot, such as example.internal.",
                shown(suffix)
            ))
        })?;
        if let Some(own) = reserved.iter().find(|own| {
            let own = own.strip_prefix("*.").unwrap_or(own);
            arca_crypto::dns_name_within(own, &normal) || arca_crypto::dns_name_within(&normal, own)
        }) {
            return Err(invalid(format!(
                "The DNS suffix {normal:?} overlaps Arca's own name {own:?}; permit suffixes outside it."
            )));
        }
        out.push(normal);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether `suffixes` permit the DNS name `name`: it is one of them or lies below one. A
/// wildcard name (`*.a.example.internal`) is permitted when the name under its wildcard is.
pub fn permits(suffixes: &[String], name: &str) -> bool {
    let base = name.strip_prefix("*.").unwrap_or(name);
    suffixes
        .iter()
        .any(|suffix| arca_crypto::dns_name_within(base, suffix))
}

/// A document, checked to name the issuer it is stored under.
fn named(id: &str, list: IssuerSuffixes) -> EngineResult<IssuerSuffixes> {
    if list.issuer.eq_ignore_ascii_case(id) {
        Ok(list)
    } else {
        crate::integrity::refused_record(DOCUMENTS.kind, id);
        Err(EngineError::Internal)
    }
}

/// Every list of `vault`, ordered by issuer.
pub async fn list(engine: &Engine, vault: &str) -> EngineResult<Vec<IssuerSuffixes>> {
    let documents = DOCUMENTS.list(engine, vault).await?;
    documents
        .into_iter()
        .map(|(id, list)| named(&id, list))
        .collect()
}

/// The list of `issuer` in `vault`, if one is set.
pub async fn get(
    engine: &Engine,
    vault: &str,
    issuer: &ObjectName,
) -> EngineResult<Option<IssuerSuffixes>> {
    let found = DOCUMENTS.get(engine, vault, issuer.key()).await?;
    found.map(|list| named(issuer.key(), list)).transpose()
}

/// Sets (creates or replaces) what `issuer` of `vault` may sign for; see [`normalise`]. A
/// refusal changes nothing.
pub async fn set(
    engine: &Engine,
    vault: &str,
    issuer: &ObjectName,
    suffixes: &[String],
    reserved: &[String],
) -> EngineResult<IssuerSuffixes> {
    let suffixes = normalise(suffixes, reserved)?;
    if engine.store().vault(vault).await?.is_none() {
        return Err(vault_not_found(vault));
    }
    let replaces = get(engine, vault, issuer).await?.is_some();
    if !replaces && DOCUMENTS.count(engine, vault).await? >= MAX_LISTS {
        return Err(invalid(format!(
            "A vault holds suffix lists for at most {MAX_LISTS} issuers; delete one first."
        )));
    }
    let list = IssuerSuffixes {
        issuer: issuer.as_str().to_owned(),
        suffixes,
        updated: engine.now(),
    };
    DOCUMENTS.put(engine, vault, issuer.key(), &list).await?;
    Ok(list)
}

/// Removes the list of `issuer` in `vault` (it then issues nothing); `false` when there was none.
pub async fn delete(engine: &Engine, vault: &str, issuer: &ObjectName) -> EngineResult<bool> {
    DOCUMENTS.delete(engine, vault, issuer.key()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_suffix_permits_itself_and_what_lies_below_it() {
        let suffixes = strings(&["example.internal", "svc.corp"]);
        for name in [
            "example.internal",
            "a.example.internal",
            "a.b.example.internal",
            "A.Example.Internal",
            "*.example.internal",
            "*.a.example.internal",
            "x.svc.corp",
        ] {
            assert!(permits(&suffixes, name), "{name}");
        }
        for name in [
            "badexample.internal",
            "example.internal.evil",
            "internal",
            "corp",
            "*.internal",
            "xsvc.corp",
            "",
            ".example.internal",
        ] {
            assert!(!permits(&suffixes, name), "{name}");
        }
        assert!(!permits(&[], "example.internal"), "none permits nothing");
    }

    #[test]
    fn suffixes_are_normalised_and_limited() {
        let reserved = strings(&["localhost", "vault.corp.internal", "arca.corp.internal"]);
        assert_eq!(
            normalise(
                &strings(&[" Example.Internal", "b.internal", "example.internal"]),
                &reserved
            )
            .unwrap(),
            ["b.internal", "example.internal"]
        );
        for bad in [
            "*.example.internal",
            ".example.internal",
            "example.internal.",
            "10.0.0.1",
            "a b",
            "",
        ] {
            let refused = normalise(&strings(&[bad]), &reserved).unwrap_err();
            assert!(
                matches!(&refused, EngineError::Invalid(m) if m.contains("not a DNS suffix")),
                "{bad}: {refused:?}"
            );
        }
        // Arca's own names, what lies below them, and what lies above them.
        for own in [
            "localhost",
            "vault.corp.internal",
            "prod.vault.corp.internal",
            "corp.internal",
            "internal",
        ] {
            let refused = normalise(&strings(&[own]), &reserved).unwrap_err();
            assert!(
                matches!(&refused, EngineError::Invalid(m) if m.contains("Arca's own name")),
                "{own}: {refused:?}"
            );
        }
        assert!(normalise(&strings(&["svc.corp.internal"]), &reserved).is_ok());
        assert!(normalise(&[], &reserved).is_err());
        let many: Vec<String> = (0..=MAX_SUFFIXES)
            .map(|i| format!("s{i}.internal"))
            .collect();
        assert!(normalise(&many, &reserved).is_err());
        let long = format!("{}.internal", "a".repeat(MAX_SUFFIX_LEN));
        assert!(normalise(&[long], &reserved).is_err());
    }
}
