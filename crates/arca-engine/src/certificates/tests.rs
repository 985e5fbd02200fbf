//! The certificates engine's vault documents on a real embedded store: contacts and issuers,
//! their limits, proofs, and that an issuer's password is kept but never shown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arca_core::{ObjectName, Operation};
use arca_proto::certificates::{CertificateIssuerParameters, Contact};

use super::{contacts, issuers};
use crate::test_support::{setup, Setup, NOW};
use crate::EngineError;

fn contact(email: &str) -> Contact {
    Contact {
        email: Some(email.to_owned()),
        name: Some("Ops".to_owned()),
        phone: None,
    }
}

/// An issuer name as the route parses it (400 `Invalid` when it is not an object name).
fn issuer(name: &str) -> Result<ObjectName, EngineError> {
    ObjectName::parse(name).map_err(|_| EngineError::Invalid("not a name".to_owned()))
}

fn issuer_params(value: serde_json::Value) -> CertificateIssuerParameters {
    serde_json::from_value(value).unwrap()
}

impl Setup {
    async fn contacts(&self) -> Vec<Contact> {
        let auth = self.proof(Operation::CertificateContactsGet, None);
        contacts::get(&self.engine, &auth, &self.vault)
            .await
            .unwrap()
    }

    async fn set_contacts(&self, list: Vec<Contact>) -> Result<Vec<Contact>, EngineError> {
        let auth = self.proof(Operation::CertificateContactsSet, None);
        contacts::set(&self.engine, &auth, &self.vault, list).await
    }

    async fn set_issuer(
        &self,
        name: &str,
        value: serde_json::Value,
    ) -> Result<issuers::Issuer, EngineError> {
        let auth = self.proof(Operation::CertificateIssuerSet, None);
        issuers::set(
            &self.engine,
            &auth,
            &self.vault,
            &issuer(name)?,
            issuer_params(value),
        )
        .await
    }

    async fn issuer(&self, name: &str) -> Result<issuers::Issuer, EngineError> {
        let auth = self.proof(Operation::CertificateIssuerGet, None);
        issuers::get(&self.engine, &auth, &self.vault, &issuer(name)?).await
    }
}

#[tokio::test]
async fn contacts_are_empty_until_set_and_a_delete_returns_what_it_removed() {
    let s = setup().await;
    assert!(s.contacts().await.is_empty());
    let set = s
        .set_contacts(vec![contact("a@example.com"), contact("b@example.com")])
        .await
        .unwrap();
    assert_eq!(s.contacts().await, set);
    let auth = s.proof(Operation::CertificateContactsDelete, None);
    let removed = contacts::delete(&s.engine, &auth, &s.vault).await.unwrap();
    assert_eq!(removed, set);
    assert!(s.contacts().await.is_empty());
    // Deleting again removes nothing and is not an error.
    let removed = contacts::delete(&s.engine, &auth, &s.vault).await.unwrap();
    assert!(removed.is_empty());
}

#[tokio::test]
async fn bad_contact_lists_are_refused_and_change_nothing() {
    let s = setup().await;
    s.set_contacts(vec![contact("kept@example.com")])
        .await
        .unwrap();
    let too_many = (0..=contacts::MAX_CONTACTS)
        .map(|i| contact(&format!("c{i}@example.com")))
        .collect();
    let long = format!("{}@example.com", "a".repeat(contacts::MAX_CONTACT_FIELD));
    for bad in [
        vec![Contact::default()],
        vec![contact("no-at-sign")],
        vec![contact("@example.com")],
        vec![contact("a b@example.com")],
        vec![contact(&long)],
        too_many,
    ] {
        assert!(matches!(
            s.set_contacts(bad).await,
            Err(EngineError::Invalid(_))
        ));
    }
    assert_eq!(s.contacts().await, vec![contact("kept@example.com")]);
}

#[tokio::test]
async fn a_proof_for_another_operation_touches_no_contacts() {
    let s = setup().await;
    let wrong = s.proof(Operation::CertificateContactsGet, None);
    let refused = contacts::set(&s.engine, &wrong, &s.vault, vec![contact("a@example.com")]).await;
    assert!(refused.is_err());
    assert!(s.contacts().await.is_empty());
}

#[tokio::test]
async fn an_issuer_is_set_read_updated_listed_and_deleted_without_showing_its_password() {
    let s = setup().await;
    let set = s
        .set_issuer(
            "Corp-CA",
            serde_json::json!({
                "provider": "Test",
                "credentials": {"account_id": "acct", "pwd": "issuer-secret-42"},
                "org_details": {"admin_details": [{"first_name": "A", "email": "a@example.com"}]}
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            set.name.as_str(),
            set.provider.as_str(),
            set.account_id.as_deref(),
            set.enabled
        ),
        ("Corp-CA", "Test", Some("acct"), true)
    );
    assert_eq!((set.created, set.updated), (NOW, NOW));
    assert!(!format!("{set:?}").contains("issuer-secret-42"));
    // Names are compared ignoring case.
    assert_eq!(s.issuer("corp-ca").await.unwrap(), set);

    s.clock.advance(60);
    let auth = s.proof(Operation::CertificateIssuerUpdate, None);
    let updated = issuers::update(
        &s.engine,
        &auth,
        &s.vault,
        &issuer("CORP-CA").unwrap(),
        issuer_params(serde_json::json!({"attributes": {"enabled": false}})),
    )
    .await
    .unwrap();
    assert_eq!(
        (updated.enabled, updated.account_id.as_deref()),
        (false, Some("acct"))
    );
    assert_eq!((updated.created, updated.updated), (NOW, NOW + 60));

    let auth = s.proof(Operation::CertificateIssuersList, None);
    let listed = issuers::list(&s.engine, &auth, &s.vault).await.unwrap();
    assert_eq!(listed, vec![updated.clone()]);

    let auth = s.proof(Operation::CertificateIssuerDelete, None);
    let deleted = issuers::delete(&s.engine, &auth, &s.vault, &issuer("corp-ca").unwrap())
        .await
        .unwrap();
    assert_eq!(deleted, updated);
    assert!(matches!(
        s.issuer("Corp-CA").await,
        Err(EngineError::IssuerNotFound { .. })
    ));
    assert!(matches!(
        issuers::delete(&s.engine, &auth, &s.vault, &issuer("corp-ca").unwrap()).await,
        Err(EngineError::IssuerNotFound { .. })
    ));
}

#[tokio::test]
async fn bad_issuers_are_refused_and_change_nothing() {
    let s = setup().await;
    let long = "x".repeat(2000);
    for (name, value) in [
        ("Self", serde_json::json!({"provider": "Test"})),
        ("unknown", serde_json::json!({"provider": "Test"})),
        ("bad name", serde_json::json!({"provider": "Test"})),
        ("ok", serde_json::json!({})),
        ("ok", serde_json::json!({"provider": ""})),
        (
            "ok",
            serde_json::json!({"provider": "Test", "credentials": {"pwd": long}}),
        ),
        (
            "ok",
            serde_json::json!({"provider": "Test", "credentials": {"account_id": long}}),
        ),
    ] {
        assert!(
            matches!(
                s.set_issuer(name, value.clone()).await,
                Err(EngineError::Invalid(_))
            ),
            "{name} {value}"
        );
    }
    let auth = s.proof(Operation::CertificateIssuersList, None);
    assert!(issuers::list(&s.engine, &auth, &s.vault)
        .await
        .unwrap()
        .is_empty());
    // Updating an issuer that does not exist is not found, and creates nothing.
    let auth = s.proof(Operation::CertificateIssuerUpdate, None);
    assert!(matches!(
        issuers::update(
            &s.engine,
            &auth,
            &s.vault,
            &issuer("ghost").unwrap(),
            issuer_params(serde_json::json!({"provider": "Test"}))
        )
        .await,
        Err(EngineError::IssuerNotFound { .. })
    ));
}

mod renewal;
mod versions;
