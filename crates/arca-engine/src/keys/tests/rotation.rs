//! Automatic rotation with a controlled clock: a `Rotate` action fires exactly once per period
//! (`timeAfterCreate` and `timeBeforeExpiry`), leaves disabled, deleted and policy-less keys
//! alone, survives a restart of the store, isolates a failing key, writes nothing once its lease
//! is lost, and runs only as the key rotation job.

use arca_core::authz::Job;
use arca_store::{BatchItem, DocumentOwner, DocumentRecord, WriteBatch};

use super::*;

const AFTER_30_DAYS: &str =
    r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P30D"},"action":{"type":"Rotate"}}]}"#;

async fn run(s: &Setup) -> RotationRun {
    rotate_due(&s.engine, Job::KeyRotation, &s.vault, None)
        .await
        .unwrap()
}

/// The names rotated by one run.
async fn rotated(s: &Setup) -> Vec<String> {
    run(s).await.rotated.into_iter().map(|r| r.name).collect()
}

impl Setup {
    async fn current(&self, key: &str) -> KeyView {
        let auth = self.proof(Operation::KeyGet, Some(key));
        get(&self.engine, &auth, &self.vault, &name(key), None)
            .await
            .unwrap()
    }
}

fn with_attributes(enabled: bool, exp: Option<i64>) -> NewKey {
    NewKey {
        attributes: KeyAttributesIn {
            common: SecretAttributesIn {
                enabled: Some(enabled),
                nbf: None,
                exp,
            },
            exportable: None,
        },
        ..new_key("EC", None, None)
    }
}

#[tokio::test]
async fn rotate_30_days_after_create_fires_once_at_day_30_and_again_at_day_60() {
    let s = setup().await;
    let first = s.create("k", new_key("EC", None, None)).await.unwrap();
    s.set_policy("k", AFTER_30_DAYS).await.unwrap();
    // Keys the job must leave alone: no policy, a policy with no Rotate action, disabled,
    // deleted.
    s.create("plain", new_key("EC", None, None)).await.unwrap();
    s.create("notify", with_attributes(true, Some(NOW + 40 * DAY)))
        .await
        .unwrap();
    s.set_policy(
        "notify",
        r#"{"lifetimeActions":[{"trigger":{"timeBeforeExpiry":"P30D"},"action":{"type":"Notify"}}]}"#,
    )
    .await
    .unwrap();
    s.create("off", with_attributes(false, None)).await.unwrap();
    s.set_policy("off", AFTER_30_DAYS).await.unwrap();
    s.create("gone", new_key("EC", None, None)).await.unwrap();
    s.set_policy("gone", AFTER_30_DAYS).await.unwrap();
    let auth = s.proof(Operation::KeyDelete, Some("gone"));
    delete(&s.engine, &auth, &s.vault, &name("gone"))
        .await
        .unwrap();

    s.clock.set(NOW + 30 * DAY - 1);
    assert_eq!(run(&s).await, RotationRun::default());
    assert_eq!(s.versions("k").await.len(), 1);

    s.clock.set(NOW + 30 * DAY);
    let done = run(&s).await;
    assert_eq!(done.failed, Vec::<String>::new());
    assert_eq!(done.rotated.len(), 1);
    assert_eq!(done.rotated[0].name, "k");
    let current = s.current("k").await;
    assert_eq!(current.version, done.rotated[0].version);
    assert_ne!(current.version, first.version);
    assert_eq!(current.attributes.common.created, NOW + 30 * DAY);
    assert_eq!(s.versions("k").await.len(), 2);

    // The same day, and up to the end of the new period, nothing more.
    s.clock.set(NOW + 30 * DAY + 3600);
    assert!(rotated(&s).await.is_empty());
    s.clock.set(NOW + 60 * DAY - 1);
    assert!(rotated(&s).await.is_empty());
    s.clock.set(NOW + 60 * DAY);
    assert_eq!(rotated(&s).await, ["k"]);
    assert!(rotated(&s).await.is_empty());
    assert_eq!(s.versions("k").await.len(), 3);
    for other in ["plain", "notify", "off"] {
        assert_eq!(s.versions(other).await.len(), 1, "{other}");
    }
}

#[tokio::test]
async fn rotate_before_expiry_fires_once_when_the_current_version_nears_its_exp() {
    let s = setup().await;
    s.create("k", with_attributes(true, Some(NOW + 90 * DAY)))
        .await
        .unwrap();
    s.set_policy(
        "k",
        r#"{"lifetimeActions":[{"trigger":{"timeBeforeExpiry":"P30D"},"action":{"type":"Rotate"}}],"attributes":{"expiryTime":"P90D"}}"#,
    )
    .await
    .unwrap();
    // Without an expiry date a timeBeforeExpiry trigger never fires.
    s.create("no-exp", new_key("EC", None, None)).await.unwrap();
    s.set_policy(
        "no-exp",
        r#"{"lifetimeActions":[{"trigger":{"timeBeforeExpiry":"P30D"},"action":{"type":"Rotate"}}]}"#,
    )
    .await
    .unwrap();

    s.clock.set(NOW + 60 * DAY - 1);
    assert!(rotated(&s).await.is_empty());
    s.clock.set(NOW + 60 * DAY);
    assert_eq!(rotated(&s).await, ["k"]);
    assert!(rotated(&s).await.is_empty());
    // The new version expires after the policy's expiryTime, so it is due 30 days before that.
    let current = s.current("k").await;
    assert_eq!(current.attributes.common.exp, Some(NOW + 150 * DAY));
    s.clock.set(NOW + 120 * DAY - 1);
    assert!(rotated(&s).await.is_empty());
    s.clock.set(NOW + 120 * DAY);
    assert_eq!(rotated(&s).await, ["k"]);
    assert_eq!(s.versions("k").await.len(), 3);
    assert_eq!(s.versions("no-exp").await.len(), 1);
}

#[tokio::test]
async fn automatic_rotation_survives_a_restart_of_the_store() {
    let keyring = Arc::new(Keyring::generate().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir, keyring.clone(), Arc::new(FixedClock::new(NOW))).await;
    s.create("k", new_key("EC", None, None)).await.unwrap();
    s.set_policy("k", AFTER_30_DAYS).await.unwrap();
    s.engine.store().close().await.unwrap();
    let Setup { _dir: dir, .. } = s;

    // A new engine on the same file, thirty days later.
    let clock = Arc::new(FixedClock::new(NOW + 30 * DAY));
    let s = open(dir, keyring, clock).await;
    assert_eq!(rotated(&s).await, ["k"]);
    assert!(rotated(&s).await.is_empty());
    assert_eq!(s.versions("k").await.len(), 2);
    assert_eq!(
        s.current("k").await.attributes.common.created,
        NOW + 30 * DAY
    );
}

#[tokio::test]
async fn a_key_that_fails_does_not_stop_the_others() {
    let s = setup().await;
    for key in ["a-bad", "b-good"] {
        s.create(key, new_key("EC", None, None)).await.unwrap();
        s.set_policy(key, AFTER_30_DAYS).await.unwrap();
    }
    // A policy document that does not open (as if altered in the database).
    let mut batch = WriteBatch::new();
    batch.push(BatchItem::PutDocument(DocumentRecord {
        owner: DocumentOwner::Object(arca_core::ObjectAddress::new(
            "prod",
            ObjectKind::Key,
            "a-bad",
        )),
        kind: "rotationpolicy".into(),
        id: String::new(),
        data: vec![7; 64],
    }));
    s.engine.store().write(&batch).await.unwrap();
    s.clock.set(NOW + 30 * DAY);
    let done = run(&s).await;
    assert_eq!(done.failed, ["a-bad"]);
    assert_eq!(
        done.rotated
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["b-good"]
    );
}

#[tokio::test]
async fn a_holder_that_lost_the_lease_rotates_nothing() {
    let s = setup().await;
    s.create("k", new_key("EC", None, None)).await.unwrap();
    s.set_policy("k", AFTER_30_DAYS).await.unwrap();
    let store = s.engine.store();
    let ttl = std::time::Duration::from_secs(300);
    let lost = store.acquire_lease("key-rotation", "a", ttl).await.unwrap();
    let lost = lost.unwrap().fence();
    store.release_lease(&lost).await.unwrap();
    let held = store.acquire_lease("key-rotation", "b", ttl).await.unwrap();
    let held = held.unwrap().fence();
    s.clock.set(NOW + 30 * DAY);
    let stale = rotate_due(&s.engine, Job::KeyRotation, &s.vault, Some(&lost));
    assert_eq!(stale.await.unwrap().failed, ["k"]);
    assert_eq!(s.versions("k").await.len(), 1);
    let current = rotate_due(&s.engine, Job::KeyRotation, &s.vault, Some(&held));
    assert_eq!(current.await.unwrap().rotated.len(), 1);
    assert_eq!(s.versions("k").await.len(), 2);
}

#[tokio::test]
async fn only_the_key_rotation_job_may_rotate() {
    let s = setup().await;
    s.create("k", new_key("EC", None, None)).await.unwrap();
    s.set_policy("k", AFTER_30_DAYS).await.unwrap();
    s.clock.set(NOW + 30 * DAY);
    let refused = rotate_due(&s.engine, Job::Purger, &s.vault, None).await;
    assert!(matches!(refused, Err(EngineError::Internal)), "{refused:?}");
    assert_eq!(s.versions("k").await.len(), 1);
}
