//! Certificate versions on a real embedded store: create (self-signed, and a CSR merged after
//! an outside CA signs it), import (PFX and PEM), update, policy, listing, the lifecycle of the
//! certificate with its key and secret, backup and restore, and the refusals that must change
//! nothing. Results are checked by parsing what Arca stored with the X.509 code of
//! `arca_crypto`, independently of the engine's own views.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arca_core::{ObjectName, Operation};
use arca_crypto::keys::{Curve, PrivateKey};
use arca_crypto::pki::certs::{
    build_pem_secret, build_pfx, issue_certificate, parse_pem_bundle, parse_pfx,
    CertificateDescription, CertificateIssuer, ParsedCertificate,
};
use arca_crypto::{generate_ca, SecretString};
use arca_proto::certificates::{
    CertificateCreateParameters, CertificateImportParameters, CertificatePolicy,
    CertificateUpdateParameters,
};
use arca_proto::SecretText;
use arca_store::Listing;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;

use super::super::{self as certificates, stored, CertificateView, OperationView};
use crate::test_support::{setup, Setup, NOW};
use crate::{keys, secrets, EngineError};

fn name(text: &str) -> ObjectName {
    ObjectName::parse(text).unwrap()
}

fn policy(value: serde_json::Value) -> CertificatePolicy {
    serde_json::from_value(value).unwrap()
}

fn self_policy() -> CertificatePolicy {
    policy(json!({
        "key_props": {"kty": "EC", "crv": "P-256", "exportable": true},
        "x509_props": {
            "subject": "CN=www.example.test",
            "sans": {"dns_names": ["www.example.test", "api.example.test"]},
            "ekus": ["1.3.6.1.5.5.7.3.1"],
            "validity_months": 12
        },
        "issuer": {"name": "Self"}
    }))
}

impl Setup {
    async fn create_cert(
        &self,
        n: &str,
        policy: Option<CertificatePolicy>,
    ) -> Result<OperationView, EngineError> {
        let auth = self.proof(Operation::CertificateCreate, Some(n));
        let params = CertificateCreateParameters {
            policy,
            ..Default::default()
        };
        certificates::create(&self.engine, &auth, &self.vault, &name(n), params).await
    }

    async fn cert_of(&self, n: &str) -> Result<CertificateView, EngineError> {
        let auth = self.proof(Operation::CertificateGet, Some(n));
        certificates::get(&self.engine, &auth, &self.vault, &name(n), None).await
    }

    async fn managed_secret(&self, n: &str) -> Result<secrets::SecretView, EngineError> {
        let auth = self.proof(Operation::SecretGet, Some(n));
        secrets::get(&self.engine, &auth, &self.vault, &name(n), None).await
    }

    async fn managed_key(&self, n: &str) -> Result<keys::KeyView, EngineError> {
        let auth = self.proof(Operation::KeyGet, Some(n));
        keys::get(&self.engine, &auth, &self.vault, &name(n), None).await
    }

    async fn import_cert(
        &self,
        n: &str,
        value: &str,
        pwd: Option<&str>,
        policy: Option<CertificatePolicy>,
    ) -> Result<CertificateView, EngineError> {
        let auth = self.proof(Operation::CertificateImport, Some(n));
        let params = CertificateImportParameters {
            value: SecretText::new(value.to_owned()),
            pwd: pwd.map(|p| SecretText::new(p.to_owned())),
            policy,
            attributes: None,
            tags: None,
            preserve_cert_order: None,
        };
        certificates::import(&self.engine, &auth, &self.vault, &name(n), params).await
    }

    /// Every version id of the object `n` of the certificate, key and secret collections.
    async fn triple_versions(&self, n: &str) -> [Vec<String>; 3] {
        let mut out: [Vec<String>; 3] = Default::default();
        for (i, kind) in [
            arca_core::ObjectKind::Certificate,
            arca_core::ObjectKind::Key,
            arca_core::ObjectKind::Secret,
        ]
        .into_iter()
        .enumerate()
        {
            let address = arca_core::ObjectAddress::new(&self.vault.name, kind, n);
            let mut ids: Vec<String> =
                match self.engine.store().list_versions(&address, None, 100).await {
                    Ok(rows) => rows.into_iter().map(|r| r.version).collect(),
                    Err(_) => Vec::new(),
                };
            ids.sort();
            out[i] = ids;
        }
        out
    }
}

/// The PFX a certificate's secret holds: its key and chain.
fn open_pfx(value: &str) -> (Option<PrivateKey>, Vec<ParsedCertificate>) {
    let bytes = STANDARD.decode(value).unwrap();
    let contents = parse_pfx(&bytes, None).unwrap();
    (contents.key, contents.chain)
}

#[tokio::test]
async fn a_self_signed_certificate_is_issued_at_once_with_its_key_and_secret() {
    let s = setup().await;
    let op = s.create_cert("web", Some(self_policy())).await.unwrap();
    // Accepted in progress, as Key Vault answers a create; completed at the first read.
    assert_eq!(op.status, "inProgress");
    let auth = s.proof(Operation::CertificatePendingGet, Some("web"));
    let op = certificates::get_pending(&s.engine, &auth, &s.vault, &name("web"))
        .await
        .unwrap();
    assert_eq!(op.status, "completed");
    let version = op.target_version.clone().unwrap();
    let cert = s.cert_of("web").await.unwrap();
    assert_eq!(cert.version, version);
    let leaf = ParsedCertificate::from_der(&cert.cer).unwrap();
    assert_eq!(leaf.subject, "CN=www.example.test");
    assert_eq!(
        leaf.sans().dns_names,
        vec!["www.example.test", "api.example.test"]
    );
    assert_eq!(leaf.ekus, vec!["1.3.6.1.5.5.7.3.1"]);
    assert_eq!(cert.nbf, Some(leaf.not_before));
    assert_eq!(cert.exp, Some(leaf.not_after));
    assert_eq!(cert.x5t, crate::b64url(&leaf.sha1));
    // The secret is the PFX with the key of the certificate; the key is the same version.
    let secret = s.managed_secret("web").await.unwrap();
    assert!(secret.managed);
    assert_eq!(secret.version, version);
    assert_eq!(secret.content_type.as_deref(), Some("application/x-pkcs12"));
    let (key, chain) = open_pfx(secret.value.as_ref().unwrap().expose());
    assert!(chain[0].public_key_matches(key.as_ref().unwrap()));
    assert_eq!(chain[0].der, cert.cer);
    let key = s.managed_key("web").await.unwrap();
    assert!(key.managed);
    assert_eq!(key.version, version);
    assert_eq!(key.key.kty, "EC");
    assert_eq!(
        key.key.key_ops,
        vec!["sign", "verify", "wrapKey", "unwrapKey"]
    );
    // All three have exactly this one version.
    let ids = s.triple_versions("web").await;
    assert_eq!(
        ids,
        [vec![version.clone()], vec![version.clone()], vec![version]]
    );
    // The policy is stored with the certificate.
    assert_eq!(
        cert.policy.unwrap().x509_props.unwrap().subject.as_deref(),
        Some("CN=www.example.test")
    );
}

#[tokio::test]
async fn a_pem_policy_without_export_keeps_the_private_key_out_of_the_secret() {
    let s = setup().await;
    let mut p = self_policy();
    p.key_props.as_mut().unwrap().exportable = Some(false);
    p.secret_props =
        Some(serde_json::from_value(json!({"contentType": "application/x-pem-file"})).unwrap());
    s.create_cert("pem", Some(p)).await.unwrap();
    let secret = s.managed_secret("pem").await.unwrap();
    assert_eq!(
        secret.content_type.as_deref(),
        Some("application/x-pem-file")
    );
    let text = secret.value.unwrap();
    assert!(!text.expose().contains("PRIVATE KEY"));
    let bundle = parse_pem_bundle(text.expose(), None).unwrap();
    assert!(bundle.key.is_none());
    assert_eq!(bundle.chain[0].der, s.cert_of("pem").await.unwrap().cer);
}

/// A test CA and what it signs for a pending certificate's key.
fn ca_signed_chain(s: &Setup, n: &str, ca: &CertificateIssuer, ca_der: &[u8]) -> Vec<String> {
    let pending = futures_block(stored::pending(&s.engine, &s.vault.name, &name(n)))
        .unwrap()
        .unwrap();
    let key = pending.private_key().unwrap().unwrap();
    let description = CertificateDescription {
        subject: "CN=merged.example.test".into(),
        validity_months: 6,
        ..Default::default()
    };
    let leaf = issue_certificate(&description, &key.public_key().unwrap(), ca, NOW).unwrap();
    vec![STANDARD.encode(leaf), STANDARD.encode(ca_der)]
}

fn futures_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

fn test_ca() -> (CertificateIssuer, Vec<u8>) {
    let material = generate_ca("Test Issuing CA", NOW - 3_600).unwrap();
    let issuer = CertificateIssuer::from_ca_material(&material).unwrap();
    let der = issuer.cert_der().to_vec();
    (issuer, der)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_issuer_leaves_a_csr_that_a_verified_chain_is_merged_into() {
    let s = setup().await;
    let mut p = self_policy();
    p.issuer = Some(serde_json::from_value(json!({"name": "Unknown"})).unwrap());
    let op = s.create_cert("ext", Some(p)).await.unwrap();
    assert_eq!(op.status, "inProgress");
    assert!(op.csr.is_some());
    // Nothing is issued yet: the certificate, key and secret have no version.
    assert!(matches!(
        s.cert_of("ext").await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        s.managed_key("ext").await,
        Err(EngineError::NotFound { .. })
    ));
    // Listed only with includePending.
    let auth = s.proof(Operation::CertificateList, None);
    let (page, pending) =
        certificates::list(&s.engine, &auth, &s.vault, Listing::Active, None, 25, true)
            .await
            .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(pending.len(), 1);
    let (page, pending) =
        certificates::list(&s.engine, &auth, &s.vault, Listing::Active, None, 25, false)
            .await
            .unwrap();
    assert!(page.items.is_empty() && pending.is_empty());

    let merge = |x5c: Vec<String>| {
        let auth = s.proof(Operation::CertificatePendingMerge, Some("ext"));
        let engine = s.engine.clone();
        let vault = s.vault.clone();
        async move { certificates::merge(&engine, &auth, &vault, &name("ext"), x5c, None, None).await }
    };
    // A chain whose leaf holds another key is refused and changes nothing.
    let other = PrivateKey::generate_ec(Curve::P256).unwrap();
    let (ca, ca_der) = test_ca();
    let foreign = issue_certificate(
        &CertificateDescription {
            subject: "CN=other".into(),
            validity_months: 1,
            ..Default::default()
        },
        &other.public_key().unwrap(),
        &ca,
        NOW,
    )
    .unwrap();
    let refused = merge(vec![STANDARD.encode(foreign), STANDARD.encode(&ca_der)]).await;
    assert!(
        matches!(refused, Err(EngineError::Invalid(_))),
        "{refused:?}"
    );
    assert!(matches!(
        merge(vec!["%%%".into()]).await,
        Err(EngineError::Invalid(_))
    ));
    assert!(matches!(
        merge(Vec::new()).await,
        Err(EngineError::Invalid(_))
    ));
    assert!(matches!(
        s.cert_of("ext").await,
        Err(EngineError::NotFound { .. })
    ));

    let chain = ca_signed_chain(&s, "ext", &ca, &ca_der);
    let merged = merge(chain).await.unwrap();
    let leaf = ParsedCertificate::from_der(&merged.cer).unwrap();
    assert_eq!(leaf.subject, "CN=merged.example.test");
    let secret = s.managed_secret("ext").await.unwrap();
    let (key, chain) = open_pfx(secret.value.as_ref().unwrap().expose());
    assert!(chain[0].public_key_matches(key.as_ref().unwrap()));
    assert_eq!(chain.len(), 2, "the CA certificate is kept in the chain");
    let auth = s.proof(Operation::CertificatePendingGet, Some("ext"));
    let op = certificates::get_pending(&s.engine, &auth, &s.vault, &name("ext"))
        .await
        .unwrap();
    assert_eq!(op.status, "completed");
    // A second merge has nothing to merge into.
    let again = ca_signed_chain_after(&ca, &ca_der);
    assert!(matches!(merge(again).await, Err(EngineError::Invalid(_))));
}

fn ca_signed_chain_after(ca: &CertificateIssuer, ca_der: &[u8]) -> Vec<String> {
    let key = PrivateKey::generate_ec(Curve::P256).unwrap();
    let leaf = issue_certificate(
        &CertificateDescription {
            subject: "CN=late".into(),
            validity_months: 1,
            ..Default::default()
        },
        &key.public_key().unwrap(),
        ca,
        NOW,
    )
    .unwrap();
    vec![STANDARD.encode(leaf), STANDARD.encode(ca_der)]
}

#[tokio::test]
async fn a_pending_operation_is_cancelled_and_deleted_with_its_certificate() {
    let s = setup().await;
    let mut p = self_policy();
    p.issuer = Some(serde_json::from_value(json!({"name": "Unknown"})).unwrap());
    s.create_cert("gone", Some(p.clone())).await.unwrap();
    // A second create while the first waits is a conflict.
    assert!(matches!(
        s.create_cert("gone", Some(p)).await,
        Err(EngineError::Conflict { .. })
    ));
    let auth = s.proof(Operation::CertificatePendingUpdate, Some("gone"));
    let op = certificates::cancel_pending(&s.engine, &auth, &s.vault, &name("gone"), true)
        .await
        .unwrap();
    assert!(op.cancellation_requested);
    assert_eq!(op.status, "cancelled");
    let auth = s.proof(Operation::CertificatePendingDelete, Some("gone"));
    certificates::delete_pending(&s.engine, &auth, &s.vault, &name("gone"))
        .await
        .unwrap();
    let auth = s.proof(Operation::CertificatePendingGet, Some("gone"));
    assert!(matches!(
        certificates::get_pending(&s.engine, &auth, &s.vault, &name("gone")).await,
        Err(EngineError::PendingNotFound { .. })
    ));
    // The name is free again.
    let address = arca_core::ObjectAddress::new("prod", arca_core::ObjectKind::Certificate, "gone");
    assert!(s.engine.store().object(&address).await.unwrap().is_none());
    s.create_cert("gone", Some(self_policy())).await.unwrap();
}

/// A self-signed certificate and its key, for imports.
fn outside_certificate() -> (PrivateKey, Vec<u8>) {
    let key = PrivateKey::generate_rsa(2048).unwrap();
    let der = arca_crypto::pki::certs::self_signed_certificate(
        &CertificateDescription {
            subject: "CN=imported.example.test, O=Outside".into(),
            validity_months: 24,
            key_usages: vec!["digitalSignature".into(), "keyEncipherment".into()],
            ..Default::default()
        },
        &key,
        NOW,
    )
    .unwrap();
    (key, der)
}

#[tokio::test]
async fn imports_of_pfx_and_pem_derive_a_policy_and_refuse_what_they_cannot_read() {
    let s = setup().await;
    let (key, der) = outside_certificate();
    let pfx = build_pfx(Some(&key), std::slice::from_ref(&der)).unwrap();
    let imported = s
        .import_cert("pfx", &STANDARD.encode(pfx.expose()), None, None)
        .await
        .unwrap();
    assert_eq!(imported.cer, der);
    let policy = imported.policy.unwrap();
    let x509 = policy.x509_props.unwrap();
    assert_eq!(
        x509.subject.as_deref(),
        Some("CN=imported.example.test, O=Outside")
    );
    assert_eq!(x509.validity_months, Some(24));
    assert_eq!(policy.issuer.unwrap().name.as_deref(), Some("Unknown"));
    assert_eq!(
        policy.key_props.as_ref().unwrap().kty.as_deref(),
        Some("RSA")
    );
    let secret = s.managed_secret("pfx").await.unwrap();
    let (k, _) = open_pfx(secret.value.as_ref().unwrap().expose());
    assert!(ParsedCertificate::from_der(&der)
        .unwrap()
        .public_key_matches(&k.unwrap()));

    let pem = build_pem_secret(Some(&key), std::slice::from_ref(&der)).unwrap();
    let imported = s
        .import_cert("pem", pem.expose(), None, None)
        .await
        .unwrap();
    assert_eq!(imported.content_type, "application/x-pem-file");

    // Refusals change nothing.
    for (value, pwd) in [
        ("bm90IGEgcGZ4", None),
        ("%%% not base64 %%%", None),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            None,
        ),
    ] {
        let refused = s.import_cert("bad", value, pwd, None).await;
        assert!(
            matches!(refused, Err(EngineError::Invalid(_))),
            "{refused:?}"
        );
    }
    // A certificate without its key, and a policy whose key type does not fit.
    let no_key = build_pem_secret(None, std::slice::from_ref(&der)).unwrap();
    assert!(matches!(
        s.import_cert("bad", no_key.expose(), None, None).await,
        Err(EngineError::Invalid(_))
    ));
    let ec_policy = policy_json_ec();
    assert!(matches!(
        s.import_cert("bad", pem.expose(), None, Some(ec_policy))
            .await,
        Err(EngineError::Invalid(_))
    ));
    assert!(matches!(
        s.cert_of("bad").await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(
        s.triple_versions("bad").await,
        [Vec::<String>::new(), Vec::new(), Vec::new()]
    );
    let _ = SecretString::new(String::new());
}

fn policy_json_ec() -> CertificatePolicy {
    policy(json!({"key_props": {"kty": "EC", "crv": "P-384"}}))
}

#[tokio::test]
async fn update_keeps_key_and_secret_in_step_and_the_policy_patch_merges() {
    let s = setup().await;
    s.create_cert("web", Some(self_policy())).await.unwrap();
    let auth = s.proof(Operation::CertificateUpdate, Some("web"));
    let params: CertificateUpdateParameters = serde_json::from_value(json!({
        "attributes": {"enabled": false},
        "tags": {"team": "edge"},
        "policy": {"x509_props": {"validity_months": 6}}
    }))
    .unwrap();
    let updated = certificates::update(&s.engine, &auth, &s.vault, &name("web"), None, params)
        .await
        .unwrap();
    assert!(!updated.enabled);
    let x509 = updated.policy.unwrap().x509_props.unwrap();
    assert_eq!(x509.validity_months, Some(6));
    assert_eq!(x509.subject.as_deref(), Some("CN=www.example.test"));
    // The key and the secret of the version are disabled too.
    assert!(matches!(
        s.managed_key("web").await,
        Err(EngineError::Disabled { .. })
    ));
    assert!(matches!(
        s.managed_secret("web").await,
        Err(EngineError::Disabled { .. })
    ));
}

#[tokio::test]
async fn delete_recover_purge_act_on_all_three_and_the_key_and_secret_refuse_alone() {
    let s = setup().await;
    s.create_cert("web", Some(self_policy())).await.unwrap();
    // The managed secret refuses a set through the secrets API.
    let auth = s.proof(Operation::SecretSet, Some("web"));
    let set = secrets::set(
        &s.engine,
        &auth,
        &s.vault,
        &name("web"),
        secrets::NewSecret {
            value: SecretString::new("x".into()),
            content_type: None,
            tags: None,
            enabled: true,
            nbf: None,
            exp: None,
        },
    )
    .await;
    assert!(matches!(set, Err(EngineError::Managed { .. })), "{set:?}");

    let auth = s.proof(Operation::CertificateDelete, Some("web"));
    let deleted = certificates::delete(&s.engine, &auth, &s.vault, &name("web"))
        .await
        .unwrap();
    assert!(deleted.deleted.is_some());
    assert!(matches!(
        s.managed_key("web").await,
        Err(EngineError::NotFound { .. })
    ));
    assert!(matches!(
        s.managed_secret("web").await,
        Err(EngineError::NotFound { .. })
    ));

    let auth = s.proof(Operation::CertificateRecover, Some("web"));
    certificates::recover(&s.engine, &auth, &s.vault, &name("web"))
        .await
        .unwrap();
    assert!(s.managed_key("web").await.is_ok());
    assert!(s.managed_secret("web").await.is_ok());

    let auth = s.proof(Operation::CertificateDelete, Some("web"));
    certificates::delete(&s.engine, &auth, &s.vault, &name("web"))
        .await
        .unwrap();
    let auth = s.proof(Operation::CertificatePurge, Some("web"));
    certificates::purge(&s.engine, &auth, &s.vault, &name("web"))
        .await
        .unwrap();
    assert_eq!(
        s.triple_versions("web").await,
        [Vec::<String>::new(), Vec::new(), Vec::new()]
    );
    // The name can be used again.
    s.create_cert("web", Some(self_policy())).await.unwrap();
}

#[tokio::test]
async fn backup_and_restore_bring_back_every_version_of_all_three() {
    let s = setup().await;
    s.create_cert("web", Some(self_policy())).await.unwrap();
    s.create_cert("web", None).await.unwrap();
    let before = s.triple_versions("web").await;
    assert_eq!(before[0].len(), 2);
    let secret_before = s.managed_secret("web").await.unwrap();
    let auth = s.proof(Operation::CertificateBackup, Some("web"));
    let blob = certificates::backup(&s.engine, &auth, &s.vault, &name("web"))
        .await
        .unwrap();
    // Restoring over the living certificate is refused.
    let restore = |blob: String| {
        let auth = s.proof(Operation::CertificateRestore, None);
        let engine = s.engine.clone();
        let vault = s.vault.clone();
        async move { certificates::restore(&engine, &auth, &vault, &blob).await }
    };
    assert!(matches!(
        restore(blob.clone()).await,
        Err(EngineError::Conflict { .. })
    ));
    let auth = s.proof(Operation::CertificateDelete, Some("web"));
    certificates::delete(&s.engine, &auth, &s.vault, &name("web"))
        .await
        .unwrap();
    let auth = s.proof(Operation::CertificatePurge, Some("web"));
    certificates::purge(&s.engine, &auth, &s.vault, &name("web"))
        .await
        .unwrap();
    assert!(matches!(
        restore("AAAA".into()).await,
        Err(EngineError::Invalid(_))
    ));
    let restored = restore(blob).await.unwrap();
    assert_eq!(restored.version, secret_before.version);
    assert_eq!(s.triple_versions("web").await, before);
    let secret_after = s.managed_secret("web").await.unwrap();
    assert_eq!(
        secret_after.value.unwrap().expose(),
        secret_before.value.unwrap().expose()
    );
    assert!(secret_after.managed);
    assert!(s.managed_key("web").await.unwrap().managed);
}

#[tokio::test]
async fn invalid_policies_are_refused_and_create_nothing() {
    let s = setup().await;
    for bad in [
        json!({"key_props": {"kty": "RSA", "key_size": 1000}, "x509_props": {"subject": "CN=a"}}),
        json!({"x509_props": {"subject": "CN=a", "validity_months": 0}}),
        json!({"x509_props": {}}),
        json!({"x509_props": {"subject": "CN=a"}, "issuer": {"name": "Missing"}}),
    ] {
        let refused = s.create_cert("bad", Some(policy(bad.clone()))).await;
        assert!(
            matches!(
                refused,
                Err(EngineError::Invalid(_) | EngineError::IssuerNotFound { .. })
            ),
            "{bad}: {refused:?}"
        );
    }
    assert!(matches!(
        s.create_cert("bad", None).await,
        Err(EngineError::Invalid(_))
    ));
    let address = arca_core::ObjectAddress::new("prod", arca_core::ObjectKind::Certificate, "bad");
    assert!(s.engine.store().object(&address).await.unwrap().is_none());
}

#[tokio::test]
async fn a_pending_operation_left_by_a_purged_certificate_does_not_block_its_name() {
    let s = setup().await;
    s.create_cert("left", Some(self_policy())).await.unwrap();
    let mut p = self_policy();
    p.issuer = Some(serde_json::from_value(json!({"name": "Unknown"})).unwrap());
    s.create_cert("left", Some(p)).await.unwrap();
    let auth = s.proof(Operation::CertificateDelete, Some("left"));
    certificates::delete(&s.engine, &auth, &s.vault, &name("left"))
        .await
        .unwrap();
    // The purger removes the objects at the end of their retention, not the vault's documents.
    let address = arca_core::ObjectAddress::new("prod", arca_core::ObjectKind::Certificate, "left");
    s.engine.store().purge_object(&address).await.unwrap();
    let auth = s.proof(Operation::CertificatePendingGet, Some("left"));
    assert!(matches!(
        certificates::get_pending(&s.engine, &auth, &s.vault, &name("left")).await,
        Err(EngineError::PendingNotFound { .. })
    ));
    s.create_cert("left", Some(self_policy())).await.unwrap();
    assert_eq!(s.cert_of("left").await.unwrap().name, "left");
}
