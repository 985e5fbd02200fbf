//! The built-in issuer on a real embedded store: the issuing CA made, kept, renewed, retired and
//! imported at start; each issuer's suffixes, deny by default; what `issue` signs (a chain that
//! verifies to the root, validity cut at the CA's end) and what it refuses, changing nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arca_core::{ObjectName, Operation};
use arca_crypto::keys::{Curve, PrivateKey};
use arca_crypto::pki::certs::{
    verify_chain, CertificateDescription, ChainOrder, ParsedCertificate, SubjectAltNames,
};
use arca_crypto::{CaMaterial, SecretString};
use arca_store::{BatchItem, DocumentOwner, DocumentRecord, WriteBatch};

use super::issuing_ca::{self, Ensured, Source};
use super::{issue, suffixes};
use crate::certificates::issuers;
use crate::test_support::{setup, Setup, NOW};
use crate::EngineError;

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn name(text: &str) -> ObjectName {
    ObjectName::parse(text).unwrap()
}

/// Arca's own names in these tests.
fn served() -> Vec<String> {
    strings(&[
        "localhost",
        "*.vault.example.internal",
        "vault.example.internal",
    ])
}

fn root(issuing: &[&str]) -> CaMaterial {
    arca_crypto::generate_local_ca("Arca local CA", &served(), &strings(issuing), NOW).unwrap()
}

fn description(subject: &str, dns: &[&str]) -> CertificateDescription {
    CertificateDescription {
        subject: subject.to_owned(),
        sans: SubjectAltNames {
            dns_names: strings(dns),
            ..Default::default()
        },
        ekus: Vec::new(),
        key_usages: strings(&["digitalSignature", "keyEncipherment"]),
        validity_months: 12,
    }
}

impl Setup {
    async fn set_arca_issuer(&self, issuer: &str, provider: &str, enabled: bool) {
        let auth = self.proof(Operation::CertificateIssuerSet, None);
        let params = serde_json::from_value(serde_json::json!({
            "provider": provider,
            "attributes": {"enabled": enabled},
        }))
        .unwrap();
        issuers::set(&self.engine, &auth, &self.vault, &name(issuer), params)
            .await
            .unwrap();
    }

    async fn permit(&self, issuer: &str, list: &[&str]) {
        suffixes::set(
            &self.engine,
            &self.vault.name,
            &name(issuer),
            &strings(list),
            &served(),
        )
        .await
        .unwrap();
    }

    async fn issue_for(
        &self,
        issuer: &str,
        description: &CertificateDescription,
    ) -> Result<(PrivateKey, Vec<Vec<u8>>), EngineError> {
        let key = PrivateKey::generate_ec(Curve::P256).unwrap();
        let chain = issue(
            &self.engine,
            &self.vault,
            &name(issuer),
            description,
            &key.public_key().unwrap(),
            NOW,
        )
        .await?;
        Ok((key, chain))
    }

    /// A deployment whose generated issuing CA signs under `example.internal`, and the vault's
    /// issuer `internal` of provider Arca, permitted `svc.example.internal`.
    async fn deployment(&self) -> CaMaterial {
        let root = root(&["example.internal"]);
        let made = issuing_ca::ensure_generated(
            &self.engine,
            &root,
            &strings(&["example.internal"]),
            &served(),
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(made, Ensured::Made("there was none"));
        self.set_arca_issuer("internal", "Arca", true).await;
        self.permit("internal", &["svc.example.internal"]).await;
        root
    }
}

fn refusal(result: Result<(PrivateKey, Vec<Vec<u8>>), EngineError>) -> String {
    match result {
        Err(EngineError::Invalid(message)) => message,
        other => panic!("expected a refusal, got {:?}", other.map(|(_, c)| c.len())),
    }
}

#[tokio::test]
async fn an_issued_chain_verifies_to_the_root_and_ends_with_the_ca() {
    let s = setup().await;
    let root = s.deployment().await;
    let mut asked = description(
        "CN=api.svc.example.internal",
        &["api.svc.example.internal", "*.api.svc.example.internal"],
    );
    asked.validity_months = 1_200;
    let (key, chain) = s.issue_for("internal", &asked).await.unwrap();
    assert_eq!(chain.len(), 2, "the leaf and the issuing CA, not the root");
    let parsed: Vec<ParsedCertificate> = chain
        .iter()
        .map(|der| ParsedCertificate::from_der(der).unwrap())
        .collect();
    let (leaf, ca) = (&parsed[0], &parsed[1]);
    assert_eq!(leaf.subject, "CN=api.svc.example.internal");
    assert_eq!(ca.subject, "CN=Arca issuing CA");
    assert_eq!(
        leaf.sans().dns_names,
        ["api.svc.example.internal", "*.api.svc.example.internal"]
    );
    // No EKU asked: serverAuth and clientAuth.
    assert_eq!(leaf.ekus, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    assert!(!leaf.is_ca);
    assert_eq!(leaf.not_after, ca.not_after, "validity cut at the CA's end");
    let anchor = ParsedCertificate::from_pem(&root.cert_pem).unwrap();
    let verified = verify_chain(parsed.clone(), &key, NOW, ChainOrder::LeafFirst, &[anchor]);
    assert_eq!(verified.unwrap().len(), 2);
    // What `arca ca show` prints is the same CA, then the root.
    let shown = issuing_ca::show(&s.engine).await.unwrap().unwrap();
    assert_eq!(shown.source, Source::Generated);
    assert_eq!(shown.chain[0].der, ca.der);
    assert_eq!(
        shown.chain[1].der,
        ParsedCertificate::from_pem(&root.cert_pem).unwrap().der
    );
}

#[tokio::test]
async fn nothing_is_issued_without_a_ca_or_without_suffixes() {
    let s = setup().await;
    s.set_arca_issuer("internal", "Arca", true).await;
    s.permit("internal", &["svc.example.internal"]).await;
    let asked = description("CN=a.svc.example.internal", &[]);
    assert!(refusal(s.issue_for("internal", &asked).await).contains("no issuing CA"));
    assert!(issuing_ca::show(&s.engine).await.unwrap().is_none());

    let s = setup().await;
    s.deployment().await;
    s.set_arca_issuer("other", "arca", true).await;
    let refused = refusal(s.issue_for("other", &asked).await);
    assert!(refused.contains("may not sign any name yet"), "{refused}");
    // Suffixes of one issuer are not another's.
    assert!(s.issue_for("internal", &asked).await.is_ok());
    assert!(
        suffixes::delete(&s.engine, &s.vault.name, &name("internal"))
            .await
            .unwrap()
    );
    let refused = refusal(s.issue_for("internal", &asked).await);
    assert!(refused.contains("may not sign any name yet"), "{refused}");
}

#[tokio::test]
async fn names_outside_the_suffixes_and_other_claims_are_refused() {
    let s = setup().await;
    s.deployment().await;
    let mut cases: Vec<(CertificateDescription, &str)> = vec![
        (
            description("CN=badsvc.example.internal", &[]),
            "\"badsvc.example.internal\"",
        ),
        (
            description("CN=a.svc.example.internal", &["a.other.internal"]),
            "\"a.other.internal\"",
        ),
        (
            description("CN=a.svc.example.internal", &["*.example.internal"]),
            "\"*.example.internal\"",
        ),
        (
            description("CN=a.svc.example.internal, O=Contoso", &[]),
            "attribute O",
        ),
        (description("CN=My Service", &[]), "\"My Service\""),
        (description("O=Contoso", &[]), "attribute O"),
    ];
    let mut email = description("CN=a.svc.example.internal", &[]);
    email.sans.emails = strings(&["ops@svc.example.internal"]);
    cases.push((email, "e-mail address"));
    let mut ip = description("CN=a.svc.example.internal", &[]);
    ip.sans.ip_addresses = strings(&["10.0.0.1"]);
    cases.push((ip, "IP address"));
    let mut code_signing = description("CN=a.svc.example.internal", &[]);
    code_signing.ekus = strings(&["1.3.6.1.5.5.7.3.3"]);
    cases.push((code_signing, "1.3.6.1.5.5.7.3.3"));
    let mut ca = description("CN=a.svc.example.internal", &[]);
    ca.key_usages.push("keyCertSign".into());
    cases.push((ca, "cannot be a CA"));
    for (asked, expected) in cases {
        let refused = refusal(s.issue_for("internal", &asked).await);
        assert!(refused.contains(expected), "{expected}: {refused}");
        assert!(!refused.contains("PRIVATE"), "{refused}");
    }
}

#[tokio::test]
async fn the_issuer_must_be_an_enabled_arca_issuer() {
    let s = setup().await;
    s.deployment().await;
    let asked = description("CN=a.svc.example.internal", &[]);
    assert!(matches!(
        s.issue_for("missing", &asked).await,
        Err(EngineError::IssuerNotFound { name }) if name == "missing"
    ));
    s.set_arca_issuer("digicert", "DigiCert", true).await;
    s.permit("digicert", &["svc.example.internal"]).await;
    assert!(refusal(s.issue_for("digicert", &asked).await).contains("not the built-in issuer"));
    s.set_arca_issuer("internal", "ARCA", false).await;
    assert!(refusal(s.issue_for("internal", &asked).await).contains("disabled"));
    s.set_arca_issuer("internal", "arca", true).await;
    assert!(s.issue_for("internal", &asked).await.is_ok());
}

#[tokio::test]
async fn the_ca_constraints_hold_even_where_the_suffixes_permit() {
    let s = setup().await;
    s.deployment().await;
    // An administrator permits a suffix over Arca's own names without the check the admin API
    // makes (no reserved names given): the generated CA's exclusions still refuse them, and it
    // never signs outside its own suffixes.
    suffixes::set(
        &s.engine,
        &s.vault.name,
        &name("internal"),
        &strings(&["example.internal", "other.internal"]),
        &[],
    )
    .await
    .unwrap();
    for (asked, expected) in [
        ("prod.vault.example.internal", "name constraints"),
        ("a.other.internal", "name constraints"),
        // A wildcard that would cover Arca's vault domain.
        ("*.example.internal", "name constraints"),
    ] {
        let refused = refusal(
            s.issue_for("internal", &description(&format!("CN={asked}"), &[]))
                .await,
        );
        assert!(refused.contains(expected), "{asked}: {refused}");
    }
    assert!(s
        .issue_for("internal", &description("CN=a.example.internal", &[]))
        .await
        .is_ok());
}

#[tokio::test]
async fn start_up_keeps_remakes_and_retires_the_generated_ca() {
    let s = setup().await;
    let first_root = s.deployment().await;
    let ensure = |root: &CaMaterial, list: &[&str]| {
        let (engine, root, list) = (s.engine.clone(), root.clone(), strings(list));
        async move {
            issuing_ca::ensure_generated(&engine, &root, &list, &served(), NOW)
                .await
                .unwrap()
        }
    };
    let chain = || async {
        issuing_ca::show(&s.engine)
            .await
            .unwrap()
            .map(|ca| ca.chain)
    };
    assert_eq!(
        ensure(&first_root, &["example.internal"]).await,
        Ensured::Kept(Source::Generated)
    );
    let before = chain().await.unwrap();
    let second_root = root(&["example.internal"]);
    assert_eq!(
        ensure(&second_root, &["example.internal"]).await,
        Ensured::Made("the local CA it was made under was replaced")
    );
    let after = chain().await.unwrap();
    assert_ne!(after[0].der, before[0].der);
    assert_eq!(
        after[1].der,
        ParsedCertificate::from_pem(&second_root.cert_pem)
            .unwrap()
            .der
    );
    assert_eq!(
        ensure(&second_root, &["example.internal", "corp.example"]).await,
        Ensured::Made("its DNS suffixes changed")
    );
    assert_eq!(ensure(&second_root, &[]).await, Ensured::Retired);
    assert!(chain().await.is_none());
    let asked = description("CN=a.svc.example.internal", &[]);
    assert!(refusal(s.issue_for("internal", &asked).await).contains("no issuing CA"));
    assert_eq!(ensure(&second_root, &[]).await, Ensured::None);
    assert_eq!(
        ensure(&second_root, &["example.internal"]).await,
        Ensured::Made("there was none")
    );
    assert!(s.issue_for("internal", &asked).await.is_ok());
}

#[tokio::test]
async fn a_generated_ca_near_its_end_is_renewed() {
    let s = setup().await;
    let root = s.deployment().await;
    let end = issuing_ca::show(&s.engine).await.unwrap().unwrap().chain[0].not_after;
    // The same root, 89 days before the CA (and the root) end.
    let made = issuing_ca::ensure_generated(
        &s.engine,
        &root,
        &strings(&["example.internal"]),
        &served(),
        end - 89 * 86_400,
    )
    .await
    .unwrap();
    assert_eq!(made, Ensured::Made("it expires within 90 days"));
    let changed = issuing_ca::ensure_generated(
        &s.engine,
        &root,
        &strings(&["example.internal"]),
        &strings(&["localhost"]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(changed, Ensured::Made("Arca's own names changed"));
}

#[tokio::test]
async fn an_imported_ca_replaces_the_generated_one_and_is_kept_at_start() {
    let s = setup().await;
    let generated_root = s.deployment().await;
    let operator = arca_crypto::generate_ca("Operator CA", NOW - 60).unwrap();
    let pem = SecretString::new(format!(
        "{}{}",
        arca_crypto::private_key_pem(&operator.key_pkcs8).expose(),
        operator.cert_pem
    ));
    let imported = issuing_ca::import(&s.engine, &pem, None, NOW)
        .await
        .unwrap();
    assert_eq!(imported.source, Source::Imported);
    assert_eq!(imported.chain[0].subject, "CN=Operator CA");
    let (key, chain) = s
        .issue_for("internal", &description("CN=a.svc.example.internal", &[]))
        .await
        .unwrap();
    assert_eq!(
        chain.len(),
        2,
        "the leaf and the imported CA, itself a root"
    );
    let parsed: Vec<ParsedCertificate> = chain
        .iter()
        .map(|der| ParsedCertificate::from_der(der).unwrap())
        .collect();
    assert_eq!(parsed[0].issuer, "CN=Operator CA");
    let anchor = ParsedCertificate::from_pem(&operator.cert_pem).unwrap();
    assert!(verify_chain(parsed, &key, NOW, ChainOrder::LeafFirst, &[anchor]).is_ok());
    let kept = issuing_ca::ensure_generated(
        &s.engine,
        &generated_root,
        &strings(&["example.internal"]),
        &served(),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(kept, Ensured::Kept(Source::Imported));

    // A refused import changes nothing.
    let leaf_only = SecretString::new(format!(
        "{}{}",
        arca_crypto::private_key_pem(&operator.key_pkcs8).expose(),
        generated_root.cert_pem
    ));
    let refused = issuing_ca::import(&s.engine, &leaf_only, None, NOW).await;
    assert!(
        matches!(&refused, Err(EngineError::Invalid(m)) if m.contains("cannot be imported") && !m.contains("PRIVATE")),
        "{refused:?}"
    );
    let still = issuing_ca::show(&s.engine).await.unwrap().unwrap();
    assert_eq!(still.chain[0].subject, "CN=Operator CA");
}

#[tokio::test]
async fn a_record_from_elsewhere_opens_nothing() {
    let s = setup().await;
    s.deployment().await;
    // A sealed deployment item of another purpose, moved into the issuing CA's place.
    let other = s
        .engine
        .keyring()
        .seal(
            &arca_crypto::record_aad("", "deployment", "ca_key", "", "sealed"),
            b"{\"source\":\"none\"}",
        )
        .unwrap();
    s.engine
        .store()
        .put_meta(issuing_ca::META_KEY, &other)
        .await
        .unwrap();
    assert!(matches!(
        issuing_ca::show(&s.engine).await,
        Err(EngineError::Internal)
    ));
    let asked = description("CN=a.svc.example.internal", &[]);
    assert!(matches!(
        s.issue_for("internal", &asked).await,
        Err(EngineError::Internal)
    ));

    // One issuer's suffix list moved to another issuer, or another vault, opens nothing.
    let owner = DocumentOwner::Vault(s.vault.name.clone());
    let stored = s
        .engine
        .store()
        .document(&owner, "arcaissuersuffixes", "internal")
        .await
        .unwrap()
        .unwrap();
    let mut batch = WriteBatch::new();
    batch.push(BatchItem::PutDocument(DocumentRecord {
        id: "other".into(),
        ..stored
    }));
    s.engine.store().write(&batch).await.unwrap();
    assert!(matches!(
        suffixes::get(&s.engine, &s.vault.name, &name("other")).await,
        Err(EngineError::Internal)
    ));
}

#[tokio::test]
async fn suffix_lists_are_limited_and_listed_by_issuer() {
    let s = setup().await;
    s.permit("b-issuer", &["b.internal"]).await;
    s.permit("A-Issuer", &["a.internal", "A.internal", "x.internal"])
        .await;
    let lists = suffixes::list(&s.engine, &s.vault.name).await.unwrap();
    let shown: Vec<(&str, Vec<String>)> = lists
        .iter()
        .map(|l| (l.issuer.as_str(), l.suffixes.clone()))
        .collect();
    assert_eq!(
        shown,
        [
            ("A-Issuer", strings(&["a.internal", "x.internal"])),
            ("b-issuer", strings(&["b.internal"])),
        ]
    );
    // Set again under another spelling: replaced, not added.
    s.permit("a-issuer", &["y.internal"]).await;
    let one = suffixes::get(&s.engine, &s.vault.name, &name("A-ISSUER"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.suffixes, ["y.internal"]);
    assert_eq!(
        suffixes::list(&s.engine, &s.vault.name)
            .await
            .unwrap()
            .len(),
        2
    );
    // A refused list changes nothing.
    let refused = suffixes::set(
        &s.engine,
        &s.vault.name,
        &name("a-issuer"),
        &strings(&["vault.example.internal"]),
        &served(),
    )
    .await;
    assert!(matches!(refused, Err(EngineError::Invalid(_))));
    let one = suffixes::get(&s.engine, &s.vault.name, &name("a-issuer"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.suffixes, ["y.internal"]);
    // The vault must exist.
    let missing = suffixes::set(
        &s.engine,
        "nope",
        &name("a"),
        &strings(&["a.internal"]),
        &[],
    )
    .await;
    assert!(matches!(missing, Err(EngineError::VaultNotFound { .. })));
    assert!(!suffixes::delete(&s.engine, &s.vault.name, &name("never"))
        .await
        .unwrap());
}

/// The whole way through the certificates API: a create naming the built-in issuer is issued at
/// once with the deployment's chain (in the secret too), a name outside the issuer's suffixes is
/// refused with nothing created, and the renewal job renews through the same issuer.
#[tokio::test]
async fn certificates_created_and_renewed_through_the_arca_issuer() {
    use crate::certificates::{self, renew_due};
    use arca_proto::certificates::CertificateCreateParameters;

    let s = setup().await;
    let root = s.deployment().await;
    let create = |n: &'static str, subject: &'static str| {
        let auth = s.proof(Operation::CertificateCreate, Some(n));
        let policy = serde_json::from_value(serde_json::json!({
            "key_props": {"kty": "EC", "crv": "P-256"},
            "x509_props": {"subject": subject, "sans": {"dns_names": [&subject[3..]]}, "validity_months": 12},
            "issuer": {"name": "internal"}
        }))
        .unwrap();
        let params = CertificateCreateParameters {
            policy: Some(policy),
            ..Default::default()
        };
        let engine = s.engine.clone();
        let vault = s.vault.clone();
        async move { certificates::create(&engine, &auth, &vault, &name(n), params).await }
    };
    create("web", "CN=web.svc.example.internal").await.unwrap();
    let auth = s.proof(Operation::CertificatePendingGet, Some("web"));
    let op = certificates::get_pending(&s.engine, &auth, &s.vault, &name("web"))
        .await
        .unwrap();
    assert_eq!(op.status, "completed");
    let auth = s.proof(Operation::CertificateGet, Some("web"));
    let cert = certificates::get(&s.engine, &auth, &s.vault, &name("web"), None)
        .await
        .unwrap();
    let leaf = ParsedCertificate::from_der(&cert.cer).unwrap();
    assert_eq!(leaf.subject, "CN=web.svc.example.internal");
    // The secret carries the leaf and the issuing CA; the chain verifies to the root.
    let auth = s.proof(Operation::SecretGet, Some("web"));
    let secret = crate::secrets::get(&s.engine, &auth, &s.vault, &name("web"), None)
        .await
        .unwrap();
    let pfx = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        secret.value.unwrap().expose(),
    )
    .unwrap();
    let contents = arca_crypto::pki::certs::parse_pfx(&pfx, None).unwrap();
    assert_eq!(contents.chain.len(), 2);
    let key = contents.key.unwrap();
    let root_der = arca_crypto::pki::certs::chain_from_pem(&root.cert_pem).unwrap();
    verify_chain(contents.chain, &key, NOW, ChainOrder::LeafFirst, &root_der).unwrap();

    // Outside the issuer's suffixes: refused, nothing created.
    let refused = create("other", "CN=web.elsewhere.example.internal").await;
    assert!(
        matches!(refused, Err(EngineError::Invalid(_))),
        "{refused:?}"
    );
    let auth = s.proof(Operation::CertificateGet, Some("other"));
    assert!(matches!(
        certificates::get(&s.engine, &auth, &s.vault, &name("other"), None).await,
        Err(EngineError::NotFound { .. })
    ));

    // Renewal at 80 % of the lifetime goes through the same issuer.
    let (nbf, exp) = (cert.nbf.unwrap(), cert.exp.unwrap());
    s.clock.set(nbf + (exp - nbf) * 80 / 100 + 1);
    let run = renew_due(
        &s.engine,
        arca_core::authz::Job::CertificateRenewal,
        &s.vault,
        None,
    )
    .await
    .unwrap();
    assert_eq!(run.renewed.len(), 1, "{run:?}");
    let auth = s.proof(Operation::CertificateGet, Some("web"));
    let renewed = certificates::get(&s.engine, &auth, &s.vault, &name("web"), None)
        .await
        .unwrap();
    let renewed_leaf = ParsedCertificate::from_der(&renewed.cer).unwrap();
    assert_eq!(renewed_leaf.issuer, leaf.issuer);
    assert_ne!(renewed.version, cert.version);
}
