//! A vault's certificate contacts: the people Key Vault tells about certificate lifetime events
//! (`EmailContacts` actions). One sealed document per vault; getting, setting and deleting it
//! each need their own operation's proof for the vault.
//!
//! Key Vault answers an empty list, not 404, when no contacts are set (observed on the real
//! service, azure-keyvault-emulator issue #246); a delete answers the contacts it removed.

use arca_core::Operation;
use arca_proto::certificates::Contact;
use arca_store::VaultRecord;

use crate::objects::require_vault;
use crate::vault_documents::VaultDocuments;
use crate::{Authorized, Engine, EngineError, EngineResult};

/// The most contacts a vault keeps.
pub const MAX_CONTACTS: usize = 64;
/// The longest e-mail address, name or phone number of a contact.
pub const MAX_CONTACT_FIELD: usize = 256;

const DOCUMENTS: VaultDocuments = VaultDocuments {
    kind: "certificatecontacts",
    field: "document/certificatecontacts",
};
const DOCUMENT_ID: &str = "";

fn invalid(message: String) -> EngineError {
    EngineError::Invalid(message)
}

/// Refuses a list Key Vault would refuse: every contact needs an e-mail address that looks like
/// one; no field is longer than [`MAX_CONTACT_FIELD`]; at most [`MAX_CONTACTS`].
fn check(contacts: &[Contact]) -> EngineResult<()> {
    if contacts.len() > MAX_CONTACTS {
        return Err(invalid(format!(
            "A vault has at most {MAX_CONTACTS} certificate contacts."
        )));
    }
    for contact in contacts {
        let email = contact.email.as_deref().unwrap_or_default();
        let shaped = email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
            && !email.chars().any(char::is_whitespace);
        if !shaped {
            return Err(invalid(
                "Every certificate contact needs an e-mail address (email).".to_owned(),
            ));
        }
        let fields = [
            Some(email),
            contact.name.as_deref(),
            contact.phone.as_deref(),
        ];
        if fields.iter().flatten().any(|f| f.len() > MAX_CONTACT_FIELD) {
            return Err(invalid(format!(
                "A contact's e-mail address, name and phone are at most {MAX_CONTACT_FIELD} characters each."
            )));
        }
    }
    Ok(())
}

/// The vault's contacts (empty when none are set).
pub async fn get(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
) -> EngineResult<Vec<Contact>> {
    require_vault(auth, Operation::CertificateContactsGet, &vault.name)?;
    Ok(DOCUMENTS
        .get(engine, &vault.name, DOCUMENT_ID)
        .await?
        .unwrap_or_default())
}

/// Replaces the vault's contacts; returns them as stored.
pub async fn set(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    contacts: Vec<Contact>,
) -> EngineResult<Vec<Contact>> {
    require_vault(auth, Operation::CertificateContactsSet, &vault.name)?;
    check(&contacts)?;
    DOCUMENTS
        .put(engine, &vault.name, DOCUMENT_ID, &contacts)
        .await?;
    Ok(contacts)
}

/// Removes the vault's contacts; returns those removed (empty when there were none).
pub async fn delete(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
) -> EngineResult<Vec<Contact>> {
    require_vault(auth, Operation::CertificateContactsDelete, &vault.name)?;
    let removed: Vec<Contact> = DOCUMENTS
        .get(engine, &vault.name, DOCUMENT_ID)
        .await?
        .unwrap_or_default();
    DOCUMENTS.delete(engine, &vault.name, DOCUMENT_ID).await?;
    Ok(removed)
}
