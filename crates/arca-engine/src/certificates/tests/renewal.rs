//! The renewal job's pass over a vault with a controlled clock: a 12-month certificate whose
//! policy says "AutoRenew at 80 % of the lifetime" renews exactly once when the clock passes
//! month 9.6 and not before; `reuse_key` keeps the key; a lost lease writes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arca_core::authz::Job;
use arca_core::{ObjectAddress, ObjectKind, ObjectName, Operation};
use arca_proto::certificates::{CertificateCreateParameters, CertificatePolicy};
use serde_json::json;

use super::super::{self as certificates, renew_due};
use crate::keys;
use crate::test_support::{setup, Setup};

const DAY: i64 = 86_400;

fn policy(reuse_key: bool) -> CertificatePolicy {
    serde_json::from_value(json!({
        "key_props": {"kty": "EC", "crv": "P-256", "reuse_key": reuse_key},
        "x509_props": {"subject": "CN=renew.example.test", "validity_months": 12},
        "lifetime_actions": [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}}],
        "issuer": {"name": "Self"}
    }))
    .unwrap()
}

async fn create(s: &Setup, name: &str, reuse_key: bool) -> (i64, i64, String) {
    let auth = s.proof(Operation::CertificateCreate, Some(name));
    let params = CertificateCreateParameters {
        policy: Some(policy(reuse_key)),
        ..Default::default()
    };
    let n = ObjectName::parse(name).unwrap();
    certificates::create(&s.engine, &auth, &s.vault, &n, params)
        .await
        .unwrap();
    let auth = s.proof(Operation::CertificateGet, Some(name));
    let v = certificates::get(&s.engine, &auth, &s.vault, &n, None)
        .await
        .unwrap();
    (v.nbf.unwrap(), v.exp.unwrap(), v.version)
}

async fn versions(s: &Setup, kind: ObjectKind, name: &str) -> usize {
    let address = ObjectAddress::new(&s.vault.name, kind, name);
    s.engine
        .store()
        .list_versions(&address, None, 100)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_twelve_month_certificate_renews_once_when_the_clock_passes_month_nine_point_six() {
    let s = setup().await;
    let (nbf, exp, first) = create(&s, "site", false).await;
    let trigger = nbf + (exp - nbf) * 80 / 100;
    // 80 % of twelve months is 9.6 months: between 290 and 294 days after the start.
    assert!(
        (290 * DAY..=294 * DAY).contains(&(trigger - nbf)),
        "{}",
        trigger - nbf
    );
    // Month by month up to month 9, and one second before the trigger: nothing.
    for at in (1..=9).map(|m| nbf + m * 30 * DAY).chain([trigger - 1]) {
        s.clock.set(at);
        let run = renew_due(&s.engine, Job::CertificateRenewal, &s.vault, None)
            .await
            .unwrap();
        assert!(
            run.renewed.is_empty() && run.failed.is_empty(),
            "at {at}: {run:?}"
        );
    }
    assert_eq!(versions(&s, ObjectKind::Certificate, "site").await, 1);
    s.clock.set(trigger);
    let run = renew_due(&s.engine, Job::CertificateRenewal, &s.vault, None)
        .await
        .unwrap();
    assert_eq!(run.renewed.len(), 1, "{run:?}");
    let renewed = &run.renewed[0];
    assert_eq!(renewed.name, "site");
    assert_ne!(renewed.version, first);
    for kind in [ObjectKind::Certificate, ObjectKind::Key, ObjectKind::Secret] {
        assert_eq!(versions(&s, kind, "site").await, 2, "{kind:?}");
    }
    // The new version is valid from now and is not due again for months.
    let auth = s.proof(Operation::CertificateGet, Some("site"));
    let n = ObjectName::parse("site").unwrap();
    let current = certificates::get(&s.engine, &auth, &s.vault, &n, None)
        .await
        .unwrap();
    assert_eq!(current.version, renewed.version);
    assert!(current.nbf.unwrap() >= trigger - 300);
    for step in [1, DAY, 30 * DAY, 200 * DAY] {
        s.clock.set(trigger + step);
        let run = renew_due(&s.engine, Job::CertificateRenewal, &s.vault, None)
            .await
            .unwrap();
        assert!(run.renewed.is_empty(), "{step}: {run:?}");
    }
    // A new key: the two versions' keys differ.
    let auth = s.proof(Operation::KeyGet, Some("site"));
    let new_key = keys::get(&s.engine, &auth, &s.vault, &n, None)
        .await
        .unwrap();
    let old_version = arca_core::VersionId::parse(&first).unwrap();
    let old_key = keys::get(&s.engine, &auth, &s.vault, &n, Some(&old_version))
        .await
        .unwrap();
    assert_ne!(new_key.key.x, old_key.key.x);
}

#[tokio::test]
async fn reuse_key_renews_with_the_same_key_and_a_lost_lease_writes_nothing() {
    let s = setup().await;
    let (nbf, exp, first) = create(&s, "kept", true).await;
    s.clock.set(nbf + (exp - nbf) * 80 / 100 + 10);
    // A fence from a lease the job does not hold any more: the renewal is refused, nothing written.
    let lease = s
        .engine
        .store()
        .acquire_lease(
            Job::CertificateRenewal.lease(),
            "a",
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap()
        .unwrap();
    let stale = lease.fence();
    s.engine.store().release_lease(&stale).await.unwrap();
    s.engine
        .store()
        .acquire_lease(
            Job::CertificateRenewal.lease(),
            "b",
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap()
        .unwrap();
    let run = renew_due(&s.engine, Job::CertificateRenewal, &s.vault, Some(&stale))
        .await
        .unwrap();
    assert!(run.renewed.is_empty() && run.failed == ["kept"], "{run:?}");
    assert_eq!(versions(&s, ObjectKind::Certificate, "kept").await, 1);
    assert_eq!(versions(&s, ObjectKind::Key, "kept").await, 1);

    let run = renew_due(&s.engine, Job::CertificateRenewal, &s.vault, None)
        .await
        .unwrap();
    assert_eq!(run.renewed.len(), 1, "{run:?}");
    let n = ObjectName::parse("kept").unwrap();
    let auth = s.proof(Operation::KeyGet, Some("kept"));
    let new_key = keys::get(&s.engine, &auth, &s.vault, &n, None)
        .await
        .unwrap();
    let old = arca_core::VersionId::parse(&first).unwrap();
    let old_key = keys::get(&s.engine, &auth, &s.vault, &n, Some(&old))
        .await
        .unwrap();
    assert_ne!(new_key.version, old_key.version);
    assert_eq!(
        (new_key.key.x, new_key.key.y),
        (old_key.key.x, old_key.key.y)
    );
}
