//! The conformance suite every [`Store`] backend must pass: one named case per rule stated in
//! the trait's documentation, each run against a fresh, empty store from a factory.
//!
//! This is test-support code (it panics on failure, with the name of the failing case), so the
//! workspace's no-panic lints are lifted here. It must only ever test what the trait documents:
//! a behaviour the docs leave open is not asserted. Backend test crates call [`run_all`] from a
//! multi-threaded Tokio test, for example
//! `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arca_store::ObjectQuery;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Barrier;

use arca_store::prelude::*;
use arca_store::{
    BatchItem, Deletion, DocumentOwner, DocumentRecord, ItemOutcome, LeaseFence, Listing,
    ObjectAddress, ObjectKind, ObjectRecord, ObjectWithVersion, OutboxMessage, PolicyRecord,
    PrincipalRecord, StoreError, StoreResult, VaultRecord, VersionRecord, WriteBatch,
    DOCUMENT_DATA_MAX, POLICY_DATA_MAX, POLICY_ID_MAX, POLICY_KIND_MAX,
};

type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
type CaseFn<S> = fn(Arc<S>) -> CaseFuture;

/// Declares the cases: the list of names and the list of runnable case functions, in one place so
/// that they cannot drift apart.
macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// The names of all conformance cases, in the order they run.
        pub const CASE_NAMES: &[&str] = &[$(stringify!($name)),*];

        fn cases<S: Store>() -> Vec<(&'static str, CaseFn<S>)> {
            vec![$((
                stringify!($name),
                (|store: Arc<S>| -> CaseFuture { Box::pin($name(store)) }) as CaseFn<S>,
            )),*]
        }
    };
}

cases![
    meta_absent_is_none,
    meta_put_and_replace,
    meta_binary_values_round_trip,
    meta_put_if_absent_keeps_first_value,
    meta_put_if_absent_race_has_one_winner,
    vault_create_and_read,
    vault_create_conflict_keeps_original,
    vault_list_is_ordered_by_name,
    vault_delete_missing_is_not_found,
    vault_delete_cascades_to_objects,
    principal_create_read_list_delete,
    principal_list_is_ordered_by_client_id,
    principal_conflict_on_client_id,
    principal_conflict_on_object_id,
    principal_update_replaces_data,
    principal_update_and_delete_missing_are_not_found,
    policy_create_read_and_conflict,
    policy_put_creates_and_replaces,
    policy_absent_is_none,
    policy_keys_are_compared_exactly,
    policy_list_is_ordered_by_id_within_kind,
    policy_data_round_trips,
    policy_over_limits_is_invalid,
    policy_delete_and_not_found,
    delete_access_removes_listed_documents_and_principal,
    delete_access_missing_principal_changes_nothing,
    access_generation_counts_each_access_write,
    access_generation_ignores_failed_writes,
    access_generation_ignores_unrelated_writes,
    access_generation_counts_concurrent_writes,
    vault_delete_keeps_principals_and_policies,
    put_version_creates_object,
    put_version_adds_current_version,
    put_version_names_are_case_insensitive_and_keep_first_spelling,
    put_version_missing_vault_is_not_found,
    put_version_on_deleted_object_is_deleted,
    put_version_duplicate_id_is_conflict,
    objects_are_separated_by_kind_and_vault,
    version_missing_is_none,
    version_of_deleted_object_is_returned,
    version_large_blobs_round_trip,
    update_version_keeps_created,
    update_version_errors,
    list_objects_pages_by_lower_case_name,
    list_objects_separates_active_and_deleted,
    list_objects_filters_vault_and_kind,
    list_versions_pages_by_version_id,
    list_versions_errors,
    delete_object_marks_deleted,
    delete_object_errors,
    recover_object_restores_all_versions,
    recover_object_errors,
    purge_object_removes_everything,
    purge_object_errors,
    purge_expired_respects_now,
    purge_expired_respects_limit,
    purge_expired_spans_vaults_and_kinds,
    restore_object_creates_all_versions,
    restore_object_conflicts,
    restore_object_missing_vault_is_not_found,
    restore_object_corrupt_input,
    head_travels_with_the_current_version,
    object_versions_lists_every_state,
    reseal_object_replaces_head_and_meta_only,
    reseal_object_missing_changes_nothing,
    failed_writes_change_nothing,
    concurrent_put_version_on_one_object,
    concurrent_creates_of_many_objects,
    concurrent_mixed_success_and_failure,
    concurrent_readers_while_writing,
    batch_applies_items_in_order,
    batch_failing_item_leaves_nothing_written,
    batch_items_fail_as_their_single_methods,
    batch_over_limits_is_invalid,
    pending_object_has_no_current_version,
    pending_object_is_deleted_recovered_and_purged,
    managed_by_is_stored_and_returned,
    managed_by_must_share_vault_and_name,
    managed_objects_follow_their_manager_through_delete_and_recover,
    purging_a_manager_purges_what_it_manages,
    documents_put_read_list_delete,
    documents_need_an_existing_owner,
    object_documents_follow_through_delete_recover_and_purge,
    vault_documents_go_with_the_vault,
    outbox_rows_are_listed_in_append_order_and_removed_when_delivered,
    lease_is_exclusive_until_expiry,
    lease_release_starts_a_new_term,
    lease_arguments_are_checked,
    stale_fence_is_refused_in_a_batch,
    close_makes_every_call_unavailable,
];

/// Runs every case against a fresh store from `make`, then panics listing the failed cases, if
/// any. Must be called inside a Tokio runtime (cases spawn tasks); a multi-threaded runtime makes
/// the concurrency cases meaningful.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: Store,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    run_matching(|_| true, make).await;
}

/// Runs the cases whose name satisfies `filter` (for debugging one backend). Panics if no case
/// matches, so a mistyped filter cannot pass silently.
pub async fn run_matching<S, F, Fut, P>(filter: P, make: F)
where
    S: Store,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
    P: Fn(&str) -> bool,
{
    let mut ran = 0usize;
    let mut failures = Vec::new();
    for (name, case) in cases::<S>() {
        if !filter(name) {
            continue;
        }
        ran += 1;
        let store = Arc::new(make().await);
        // Each case runs as its own task so that a failing assertion is caught here and
        // attributed to the case instead of aborting the whole suite.
        if let Err(error) = tokio::spawn(case(store)).await {
            let message = match error.try_into_panic() {
                Ok(payload) => {
                    if let Some(text) = payload.downcast_ref::<String>() {
                        text.clone()
                    } else if let Some(text) = payload.downcast_ref::<&str>() {
                        (*text).to_owned()
                    } else {
                        "non-text panic".to_owned()
                    }
                }
                Err(error) => format!("task failed: {error}"),
            };
            failures.push(format!("{name}: {message}"));
        }
    }
    assert!(ran > 0, "no conformance case matched the filter");
    if !failures.is_empty() {
        panic!(
            "{} of {ran} conformance cases failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
}

// ---- helpers ----

const SECRET: ObjectKind = ObjectKind::Secret;
const KEY: ObjectKind = ObjectKind::Key;
const T0: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

/// A version id: 32 lower-case hex digits.
fn vid(n: u64) -> String {
    format!("{n:032x}")
}

fn version(n: u64, at: i64) -> VersionRecord {
    VersionRecord {
        version: vid(n),
        created: at,
        updated: at,
        enabled: true,
        nbf: None,
        exp: None,
        meta: format!("sealed-meta-{n}").into_bytes(),
        value: format!("sealed-value-{n}").into_bytes(),
    }
}

/// The [`ObjectRecord::head`] the suite writes along with `version` (any bytes do: the store only
/// keeps them).
pub fn head(version: &VersionRecord) -> Vec<u8> {
    head_id(&version.version)
}

/// The [`ObjectRecord::head`] the suite writes when `current` becomes the current version.
pub fn head_id(current: &str) -> Vec<u8> {
    format!("head-of-{current}").into_bytes()
}

fn vault_record(name: &str) -> VaultRecord {
    VaultRecord {
        name: name.to_owned(),
        retention_days: 90,
        purge_protection: false,
        created: T0,
    }
}

fn principal(client_id: &str, object_id: &str) -> PrincipalRecord {
    PrincipalRecord {
        client_id: client_id.to_owned(),
        object_id: object_id.to_owned(),
        created: T0,
        data: format!("data-of-{client_id}").into_bytes(),
    }
}

fn policy_record(kind: &str, id: &str, data: &str) -> PolicyRecord {
    PolicyRecord {
        kind: kind.to_owned(),
        id: id.to_owned(),
        data: data.as_bytes().to_vec(),
    }
}

/// A `(kind, id)` pair as [`Store::delete_access`] takes it.
fn pair(kind: &str, id: &str) -> (String, String) {
    (kind.to_owned(), id.to_owned())
}

fn policy_ids(records: &[PolicyRecord]) -> Vec<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

fn deletion(at: i64) -> Deletion {
    Deletion {
        deleted_at: at,
        scheduled_purge: at + 7 * DAY,
    }
}

fn ok<T>(result: StoreResult<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{what}: unexpected error {error:?}"),
    }
}

macro_rules! assert_err {
    ($result:expr, $pattern:pat, $what:expr) => {
        match $result {
            Err($pattern) => {}
            other => panic!(
                "{}: expected Err({}), got {:?}",
                $what,
                stringify!($pattern),
                other
            ),
        }
    };
}

/// The address of `name` of `kind` in `vault`.
fn addr(vault: &str, kind: ObjectKind, name: &str) -> ObjectAddress {
    ObjectAddress::new(vault, kind, name)
}

async fn make_vault<S: Store>(store: &S, name: &str) {
    ok(
        store.create_vault(&vault_record(name)).await,
        "create_vault",
    );
}

async fn put<S: Store>(
    store: &S,
    vault: &str,
    kind: ObjectKind,
    name: &str,
    version: &VersionRecord,
) -> ObjectRecord {
    ok(
        store
            .put_version(&addr(vault, kind, name), version, &head(version))
            .await,
        "put_version",
    )
}

/// Soft-deletes an active object at `at`; panics on any error.
async fn delete<S: Store>(
    store: &S,
    vault: &str,
    kind: ObjectKind,
    name: &str,
    at: i64,
) -> ObjectRecord {
    ok(
        store
            .delete_object(&addr(vault, kind, name), deletion(at))
            .await,
        "delete_object",
    )
}

async fn get<S: Store>(
    store: &S,
    vault: &str,
    kind: ObjectKind,
    name: &str,
    version: Option<&str>,
) -> Option<ObjectWithVersion> {
    ok(
        store.version(&addr(vault, kind, name), version).await,
        "version",
    )
}

async fn all_versions<S: Store>(
    store: &S,
    vault: &str,
    kind: ObjectKind,
    name: &str,
) -> Vec<VersionRecord> {
    ok(
        store
            .list_versions(&addr(vault, kind, name), None, 10_000)
            .await,
        "list_versions",
    )
}

async fn all_objects<S: Store>(
    store: &S,
    vault: &str,
    kind: ObjectKind,
    which: Listing,
) -> Vec<ObjectWithVersion> {
    ok(
        store
            .list_objects(ObjectQuery::new(vault, kind, which).limit(10_000))
            .await,
        "list_objects",
    )
}

fn names(entries: &[ObjectWithVersion]) -> Vec<String> {
    entries.iter().map(|e| e.object.name.clone()).collect()
}

fn ids(versions: &[VersionRecord]) -> Vec<String> {
    versions.iter().map(|v| v.version.clone()).collect()
}

fn active(name: &str, current: &str) -> ObjectRecord {
    ObjectRecord {
        name: name.to_owned(),
        current_version: Some(current.to_owned()),
        managed_by: None,
        head: head_id(current),
        deleted: None,
    }
}

async fn generation<S: Store>(store: &S) -> u64 {
    ok(store.access_generation().await, "access_generation")
}

async fn stored_policy<S: Store>(store: &S, kind: &str, id: &str) -> Option<PolicyRecord> {
    ok(store.policy(kind, id).await, "policy")
}

async fn listed_policies<S: Store>(store: &S, kind: &str) -> Vec<PolicyRecord> {
    ok(store.list_policies(kind).await, "list_policies")
}

async fn join_all<T: Send + 'static>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("spawned task panicked"));
    }
    out
}

// ---- deployment metadata ----

async fn meta_absent_is_none<S: Store>(s: Arc<S>) {
    assert_eq!(ok(s.meta("nothing").await, "meta"), None);
}

async fn meta_put_and_replace<S: Store>(s: Arc<S>) {
    ok(s.put_meta("k", b"one").await, "put_meta");
    assert_eq!(ok(s.meta("k").await, "meta"), Some(b"one".to_vec()));
    ok(s.put_meta("k", b"two").await, "put_meta again");
    assert_eq!(ok(s.meta("k").await, "meta"), Some(b"two".to_vec()));
    ok(s.put_meta("other", b"x").await, "put_meta other");
    assert_eq!(ok(s.meta("k").await, "meta"), Some(b"two".to_vec()));
    assert_eq!(ok(s.meta("other").await, "meta"), Some(b"x".to_vec()));
}

async fn meta_binary_values_round_trip<S: Store>(s: Arc<S>) {
    let value: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    ok(s.put_meta("bin", &value).await, "put_meta");
    assert_eq!(ok(s.meta("bin").await, "meta"), Some(value));
    ok(s.put_meta("empty", b"").await, "put_meta empty");
    assert_eq!(ok(s.meta("empty").await, "meta"), Some(Vec::new()));
}

async fn meta_put_if_absent_keeps_first_value<S: Store>(s: Arc<S>) {
    assert!(ok(s.put_meta_if_absent("init", b"first").await, "first"));
    assert!(!ok(s.put_meta_if_absent("init", b"second").await, "second"));
    assert_eq!(ok(s.meta("init").await, "meta"), Some(b"first".to_vec()));
    ok(s.put_meta("init", b"third").await, "put_meta");
    assert!(!ok(s.put_meta_if_absent("init", b"fourth").await, "fourth"));
    assert_eq!(ok(s.meta("init").await, "meta"), Some(b"third".to_vec()));
}

async fn meta_put_if_absent_race_has_one_winner<S: Store>(s: Arc<S>) {
    for round in 0..20 {
        let key = format!("race-{round}");
        let barrier = Arc::new(Barrier::new(2));
        let mut handles = Vec::new();
        for contender in 0..2u8 {
            let (s, key, barrier) = (s.clone(), key.clone(), barrier.clone());
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                let won = s.put_meta_if_absent(&key, &[contender]).await.unwrap();
                (contender, won)
            }));
        }
        let results = join_all(handles).await;
        let winners: Vec<u8> = results.iter().filter(|r| r.1).map(|r| r.0).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one must win");
        assert_eq!(
            ok(s.meta(&key).await, "meta"),
            Some(vec![winners[0]]),
            "round {round}: the winner's value is stored"
        );
    }
}

// ---- vaults ----

async fn vault_create_and_read<S: Store>(s: Arc<S>) {
    let record = VaultRecord {
        name: "alpha".into(),
        retention_days: 7,
        purge_protection: true,
        created: T0 + 5,
    };
    ok(s.create_vault(&record).await, "create_vault");
    assert_eq!(ok(s.vault("alpha").await, "vault"), Some(record));
    assert_eq!(ok(s.vault("beta").await, "vault"), None);
}

async fn vault_create_conflict_keeps_original<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let other = VaultRecord {
        name: "alpha".into(),
        retention_days: 30,
        purge_protection: true,
        created: T0 + 99,
    };
    assert_err!(
        s.create_vault(&other).await,
        StoreError::Conflict,
        "duplicate vault"
    );
    assert_eq!(
        ok(s.vault("alpha").await, "vault"),
        Some(vault_record("alpha"))
    );
    assert_eq!(ok(s.list_vaults().await, "list_vaults").len(), 1);
}

async fn vault_list_is_ordered_by_name<S: Store>(s: Arc<S>) {
    assert!(ok(s.list_vaults().await, "list_vaults").is_empty());
    for name in ["delta", "alpha", "charlie", "bravo", "alpha2"] {
        make_vault(&*s, name).await;
    }
    let listed: Vec<String> = ok(s.list_vaults().await, "list_vaults")
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(listed, ["alpha", "alpha2", "bravo", "charlie", "delta"]);
}

async fn vault_delete_missing_is_not_found<S: Store>(s: Arc<S>) {
    assert_err!(
        s.delete_vault("ghost").await,
        StoreError::NotFound,
        "delete missing vault"
    );
    make_vault(&*s, "alpha").await;
    ok(s.delete_vault("alpha").await, "delete_vault");
    assert_err!(
        s.delete_vault("alpha").await,
        StoreError::NotFound,
        "delete vault twice"
    );
}

async fn vault_delete_cascades_to_objects<S: Store>(s: Arc<S>) {
    make_vault(&*s, "doomed").await;
    make_vault(&*s, "kept").await;
    for vault in ["doomed", "kept"] {
        put(&*s, vault, SECRET, "Live", &version(1, T0)).await;
        put(&*s, vault, SECRET, "Live", &version(2, T0)).await;
        put(&*s, vault, KEY, "KeyOne", &version(3, T0)).await;
        put(&*s, vault, SECRET, "Gone", &version(4, T0)).await;
        delete(&*s, vault, SECRET, "Gone", T0).await;
    }
    ok(s.delete_vault("doomed").await, "delete_vault");
    assert_eq!(ok(s.vault("doomed").await, "vault"), None);
    let listed: Vec<String> = ok(s.list_vaults().await, "list_vaults")
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(listed, ["kept"]);

    // A vault of the same name created afterwards starts empty.
    make_vault(&*s, "doomed").await;
    for kind in [SECRET, KEY] {
        for which in [Listing::Active, Listing::Deleted] {
            assert!(
                all_objects(&*s, "doomed", kind, which).await.is_empty(),
                "objects of a deleted vault survived ({kind:?}, {which:?})"
            );
        }
    }
    assert!(get(&*s, "doomed", SECRET, "Live", None).await.is_none());
    assert!(get(&*s, "doomed", SECRET, "Gone", None).await.is_none());
    // The old version ids are free again, so no version row survived either.
    put(&*s, "doomed", SECRET, "Live", &version(1, T0)).await;
    assert_eq!(
        ids(&all_versions(&*s, "doomed", SECRET, "Live").await),
        [vid(1)]
    );
    // Deleted objects of the dropped vault are not purged later: they no longer exist.
    let purged = ok(s.purge_expired(T0 + 365 * DAY, 100).await, "purge_expired");
    assert_eq!(purged.len(), 1, "only the kept vault's deleted object");
    assert_eq!(purged[0].vault, "kept");

    // The other vault is untouched.
    assert_eq!(
        names(&all_objects(&*s, "kept", SECRET, Listing::Active).await),
        ["Live"]
    );
    assert_eq!(all_versions(&*s, "kept", SECRET, "Live").await.len(), 2);
    assert_eq!(
        names(&all_objects(&*s, "kept", KEY, Listing::Active).await),
        ["KeyOne"]
    );
}

// ---- principals ----

async fn principal_create_read_list_delete<S: Store>(s: Arc<S>) {
    let p = principal("client-a", "object-a");
    ok(s.create_principal(&p).await, "create_principal");
    assert_eq!(
        ok(s.principal("client-a").await, "principal"),
        Some(p.clone())
    );
    assert_eq!(ok(s.principal("client-b").await, "principal"), None);
    assert_eq!(
        ok(s.list_principals().await, "list_principals"),
        vec![p.clone()]
    );
    ok(s.delete_principal("client-a").await, "delete_principal");
    assert_eq!(ok(s.principal("client-a").await, "principal"), None);
    assert!(ok(s.list_principals().await, "list_principals").is_empty());
    // Both ids are free again after deletion.
    ok(s.create_principal(&p).await, "create_principal again");
}

async fn principal_list_is_ordered_by_client_id<S: Store>(s: Arc<S>) {
    for (client, object) in [("c", "o1"), ("a", "o2"), ("d", "o3"), ("b", "o4")] {
        ok(
            s.create_principal(&principal(client, object)).await,
            "create_principal",
        );
    }
    let listed: Vec<String> = ok(s.list_principals().await, "list_principals")
        .into_iter()
        .map(|p| p.client_id)
        .collect();
    assert_eq!(listed, ["a", "b", "c", "d"]);
}

async fn principal_conflict_on_client_id<S: Store>(s: Arc<S>) {
    let p = principal("client-a", "object-a");
    ok(s.create_principal(&p).await, "create_principal");
    assert_err!(
        s.create_principal(&principal("client-a", "object-b")).await,
        StoreError::Conflict,
        "duplicate client id"
    );
    assert_eq!(ok(s.principal("client-a").await, "principal"), Some(p));
    assert_eq!(ok(s.list_principals().await, "list").len(), 1);
}

async fn principal_conflict_on_object_id<S: Store>(s: Arc<S>) {
    let p = principal("client-a", "object-a");
    ok(s.create_principal(&p).await, "create_principal");
    assert_err!(
        s.create_principal(&principal("client-b", "object-a")).await,
        StoreError::Conflict,
        "duplicate object id"
    );
    assert_eq!(ok(s.principal("client-b").await, "principal"), None);
    assert_eq!(ok(s.list_principals().await, "list"), vec![p]);
}

async fn principal_update_replaces_data<S: Store>(s: Arc<S>) {
    let p = principal("client-a", "object-a");
    ok(s.create_principal(&p).await, "create_principal");
    ok(
        s.create_principal(&principal("client-b", "object-b")).await,
        "create other",
    );
    let updated = PrincipalRecord {
        data: b"new document".to_vec(),
        ..p.clone()
    };
    ok(s.update_principal(&updated).await, "update_principal");
    assert_eq!(
        ok(s.principal("client-a").await, "principal"),
        Some(updated)
    );
    assert_eq!(
        ok(s.principal("client-b").await, "principal"),
        Some(principal("client-b", "object-b")),
        "another principal changed"
    );
}

async fn principal_update_and_delete_missing_are_not_found<S: Store>(s: Arc<S>) {
    assert_err!(
        s.update_principal(&principal("ghost", "ghost-object"))
            .await,
        StoreError::NotFound,
        "update missing principal"
    );
    assert_eq!(ok(s.principal("ghost").await, "principal"), None);
    assert_err!(
        s.delete_principal("ghost").await,
        StoreError::NotFound,
        "delete missing principal"
    );
}

// ---- access control ----

async fn policy_create_read_and_conflict<S: Store>(s: Arc<S>) {
    let doc = policy_record("role", "reader", "doc-1");
    ok(s.create_policy(&doc).await, "create_policy");
    assert_eq!(
        stored_policy(&*s, "role", "reader").await,
        Some(doc.clone())
    );
    assert_err!(
        s.create_policy(&policy_record("role", "reader", "doc-2"))
            .await,
        StoreError::Conflict,
        "duplicate document"
    );
    assert_eq!(
        stored_policy(&*s, "role", "reader").await,
        Some(doc.clone()),
        "a refused create changed the stored document"
    );
    assert_eq!(listed_policies(&*s, "role").await, vec![doc]);
    // The same id under another kind is another document.
    let other = policy_record("assignment", "reader", "doc-3");
    ok(s.create_policy(&other).await, "create under another kind");
    assert_eq!(
        stored_policy(&*s, "assignment", "reader").await,
        Some(other)
    );
}

async fn policy_put_creates_and_replaces<S: Store>(s: Arc<S>) {
    let first = policy_record("role", "reader", "first");
    ok(s.put_policy(&first).await, "put_policy creates");
    assert_eq!(stored_policy(&*s, "role", "reader").await, Some(first));
    ok(
        s.create_policy(&policy_record("role", "writer", "kept"))
            .await,
        "create sibling",
    );
    let second = policy_record("role", "reader", "second, longer document");
    ok(s.put_policy(&second).await, "put_policy replaces");
    assert_eq!(
        stored_policy(&*s, "role", "reader").await,
        Some(second.clone())
    );
    let shorter = policy_record("role", "reader", "3");
    ok(s.put_policy(&shorter).await, "put_policy replaces again");
    assert_eq!(
        listed_policies(&*s, "role").await,
        vec![shorter, policy_record("role", "writer", "kept")]
    );
    // A document created by put exists for create too.
    assert_err!(
        s.create_policy(&second).await,
        StoreError::Conflict,
        "create over a put document"
    );
}

async fn policy_absent_is_none<S: Store>(s: Arc<S>) {
    assert_eq!(stored_policy(&*s, "role", "reader").await, None);
    assert!(listed_policies(&*s, "role").await.is_empty());
    ok(
        s.create_policy(&policy_record("role", "reader", "doc"))
            .await,
        "create_policy",
    );
    assert_eq!(stored_policy(&*s, "role", "writer").await, None);
    assert_eq!(stored_policy(&*s, "assignment", "reader").await, None);
    assert!(listed_policies(&*s, "assignment").await.is_empty());
}

async fn policy_keys_are_compared_exactly<S: Store>(s: Arc<S>) {
    let keys = [
        ("role", "Reader"),
        ("role", "reader"),
        ("Role", "reader"),
        ("role", "reader "),
    ];
    for (kind, id) in keys {
        ok(
            s.create_policy(&policy_record(kind, id, &format!("{kind}/{id}")))
                .await,
            "create_policy differing only in case or spacing",
        );
    }
    for (kind, id) in keys {
        assert_eq!(
            stored_policy(&*s, kind, id).await,
            Some(policy_record(kind, id, &format!("{kind}/{id}"))),
            "({kind:?}, {id:?})"
        );
    }
    assert_eq!(stored_policy(&*s, "ROLE", "reader").await, None);
    assert_eq!(stored_policy(&*s, "role", "READER").await, None);
    assert_err!(
        s.delete_policy("role", "READER").await,
        StoreError::NotFound,
        "delete with another case"
    );
    assert_eq!(
        policy_ids(&listed_policies(&*s, "role").await),
        ["Reader", "reader", "reader "]
    );
    assert_eq!(policy_ids(&listed_policies(&*s, "Role").await), ["reader"]);
}

async fn policy_list_is_ordered_by_id_within_kind<S: Store>(s: Arc<S>) {
    let ids = [
        "b", "a", "é", "B", "~", "aa", "", "a0", "Z", "a/b", "10", "9",
    ];
    for id in ids {
        ok(
            s.create_policy(&policy_record("role", id, id)).await,
            "create_policy",
        );
    }
    // Other kinds, including a prefix and an extension of "role", with colliding ids.
    for kind in ["rol", "role2", "rolE", "", "assignment"] {
        for id in ["a", "m", "zz"] {
            ok(
                s.create_policy(&policy_record(kind, id, kind)).await,
                "create_policy of another kind",
            );
        }
    }
    let listed = listed_policies(&*s, "role").await;
    // Byte order: digits < upper case < lower case < '~' < any multi-byte character.
    assert_eq!(
        policy_ids(&listed),
        ["", "10", "9", "B", "Z", "a", "a/b", "a0", "aa", "b", "~", "é"]
    );
    for record in &listed {
        assert_eq!(record.kind, "role");
        assert_eq!(record.data, record.id.as_bytes(), "data of {:?}", record.id);
    }
    for kind in ["rol", "role2", "rolE", "", "assignment"] {
        let listed = listed_policies(&*s, kind).await;
        assert_eq!(policy_ids(&listed), ["a", "m", "zz"], "kind {kind:?}");
        assert!(listed
            .iter()
            .all(|r| r.kind == kind && r.data == kind.as_bytes()));
    }
    assert!(listed_policies(&*s, "ro").await.is_empty());
    assert!(listed_policies(&*s, "role%").await.is_empty());
}

async fn policy_data_round_trips<S: Store>(s: Arc<S>) {
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let largest: Vec<u8> = (0..=255u8).rev().cycle().take(POLICY_DATA_MAX).collect();
    let cases = [
        ("binary", binary),
        ("empty", Vec::new()),
        ("largest", largest),
    ];
    for (id, data) in &cases {
        let record = PolicyRecord {
            kind: "keys".into(),
            id: (*id).to_owned(),
            data: data.clone(),
        };
        ok(s.create_policy(&record).await, "create_policy");
        assert_eq!(stored_policy(&*s, "keys", id).await, Some(record), "{id}");
    }
    let listed = listed_policies(&*s, "keys").await;
    assert_eq!(policy_ids(&listed), ["binary", "empty", "largest"]);
    // Replacing the largest document with a small one leaves nothing of the old one behind.
    let small = policy_record("keys", "largest", "small");
    ok(s.put_policy(&small).await, "put_policy");
    assert_eq!(stored_policy(&*s, "keys", "largest").await, Some(small));
}

async fn policy_over_limits_is_invalid<S: Store>(s: Arc<S>) {
    // At the limits, counted in bytes: accepted.
    let kind_max = "k".repeat(POLICY_KIND_MAX);
    let kind_max_wide = "é".repeat(POLICY_KIND_MAX / 2);
    let id_max = "i".repeat(POLICY_ID_MAX);
    for kind in [&kind_max, &kind_max_wide] {
        let record = policy_record(kind, &id_max, "at the limits");
        ok(
            s.create_policy(&record).await,
            "create_policy at the limits",
        );
        assert_eq!(stored_policy(&*s, kind, &id_max).await, Some(record));
    }
    ok(
        s.create_principal(&principal("client-a", "object-a")).await,
        "create_principal",
    );
    let before = generation(&*s).await;

    let long_kinds = [
        format!("{kind_max}k"),
        // 33 two-byte characters: 66 bytes.
        format!("{kind_max_wide}é"),
    ];
    let long_id = format!("{id_max}i");
    let mut bad_keys: Vec<(String, String)> =
        long_kinds.iter().map(|kind| pair(kind, "i")).collect();
    bad_keys.push(pair("role", &long_id));
    for (kind, id) in &bad_keys {
        let record = policy_record(kind, id, "doc");
        let what = format!("kind of {} bytes, id of {} bytes", kind.len(), id.len());
        assert_err!(
            s.create_policy(&record).await,
            StoreError::Invalid(_),
            format!("create_policy with {what}")
        );
        assert_err!(
            s.put_policy(&record).await,
            StoreError::Invalid(_),
            format!("put_policy with {what}")
        );
        assert_err!(
            s.policy(kind, id).await,
            StoreError::Invalid(_),
            format!("policy with {what}")
        );
        assert_err!(
            s.delete_policy(kind, id).await,
            StoreError::Invalid(_),
            format!("delete_policy with {what}")
        );
        // One bad pair fails the whole call: the principal stays.
        assert_err!(
            s.delete_access(
                &[pair(&kind_max, &id_max), pair(kind, id)],
                Some("client-a")
            )
            .await,
            StoreError::Invalid(_),
            format!("delete_access with {what}")
        );
    }
    for kind in &long_kinds {
        assert_err!(
            s.list_policies(kind).await,
            StoreError::Invalid(_),
            "list_policies with a long kind"
        );
    }
    let oversized = PolicyRecord {
        kind: "keys".into(),
        id: "big".into(),
        data: vec![7; POLICY_DATA_MAX + 1],
    };
    assert_err!(
        s.create_policy(&oversized).await,
        StoreError::Invalid(_),
        "create_policy with data over the limit"
    );
    assert_err!(
        s.put_policy(&oversized).await,
        StoreError::Invalid(_),
        "put_policy with data over the limit"
    );

    // Nothing changed.
    assert_eq!(stored_policy(&*s, "keys", "big").await, None);
    assert_eq!(stored_policy(&*s, "role", "i").await, None);
    for kind in [&kind_max, &kind_max_wide] {
        assert_eq!(
            policy_ids(&listed_policies(&*s, kind).await),
            std::slice::from_ref(&id_max)
        );
    }
    assert!(ok(s.principal("client-a").await, "principal").is_some());
    assert_eq!(
        generation(&*s).await,
        before,
        "refused writes moved the generation"
    );
}

async fn policy_delete_and_not_found<S: Store>(s: Arc<S>) {
    assert_err!(
        s.delete_policy("role", "ghost").await,
        StoreError::NotFound,
        "delete missing document"
    );
    let doc = policy_record("role", "reader", "doc");
    ok(s.create_policy(&doc).await, "create_policy");
    ok(
        s.create_policy(&policy_record("role", "writer", "kept"))
            .await,
        "create sibling",
    );
    ok(
        s.create_policy(&policy_record("assignment", "reader", "kept"))
            .await,
        "create same id, other kind",
    );
    ok(s.delete_policy("role", "reader").await, "delete_policy");
    assert_eq!(stored_policy(&*s, "role", "reader").await, None);
    assert_err!(
        s.delete_policy("role", "reader").await,
        StoreError::NotFound,
        "delete twice"
    );
    assert_eq!(policy_ids(&listed_policies(&*s, "role").await), ["writer"]);
    assert_eq!(
        policy_ids(&listed_policies(&*s, "assignment").await),
        ["reader"]
    );
    // The key is free again.
    ok(s.create_policy(&doc).await, "create after delete");
    assert_eq!(stored_policy(&*s, "role", "reader").await, Some(doc));
}

async fn delete_access_removes_listed_documents_and_principal<S: Store>(s: Arc<S>) {
    for (client, object) in [("client-a", "object-a"), ("client-b", "object-b")] {
        ok(
            s.create_principal(&principal(client, object)).await,
            "create_principal",
        );
    }
    for (kind, id) in [
        ("assignment", "a1"),
        ("assignment", "a2"),
        ("assignment", "a3"),
        ("credential", "a1"),
    ] {
        ok(
            s.create_policy(&policy_record(kind, id, "doc")).await,
            "create_policy",
        );
    }
    ok(
        s.delete_access(
            &[
                pair("assignment", "a1"),
                pair("assignment", "ghost"),
                pair("ghost-kind", "a2"),
                pair("credential", "a1"),
                pair("assignment", "a1"),
            ],
            Some("client-a"),
        )
        .await,
        "delete_access with a principal",
    );
    assert_eq!(ok(s.principal("client-a").await, "principal"), None);
    assert_eq!(
        ok(s.list_principals().await, "list_principals"),
        vec![principal("client-b", "object-b")]
    );
    assert_eq!(
        policy_ids(&listed_policies(&*s, "assignment").await),
        ["a2", "a3"]
    );
    assert!(listed_policies(&*s, "credential").await.is_empty());
    // The principal's ids are free again.
    ok(
        s.create_principal(&principal("client-a", "object-a")).await,
        "create_principal again",
    );

    // Documents only.
    ok(
        s.delete_access(&[pair("assignment", "a2")], None).await,
        "delete_access without a principal",
    );
    assert_eq!(
        policy_ids(&listed_policies(&*s, "assignment").await),
        ["a3"]
    );
    // The principal only.
    ok(
        s.delete_access(&[], Some("client-b")).await,
        "delete_access of a principal only",
    );
    assert_eq!(ok(s.principal("client-b").await, "principal"), None);
    // Nothing listed and nothing found: still a success.
    ok(
        s.delete_access(&[pair("assignment", "ghost")], None).await,
        "delete_access that finds nothing",
    );
    ok(s.delete_access(&[], None).await, "empty delete_access");
    assert_eq!(
        policy_ids(&listed_policies(&*s, "assignment").await),
        ["a3"]
    );
    assert_eq!(
        ok(s.list_principals().await, "list_principals"),
        vec![principal("client-a", "object-a")]
    );
}

async fn delete_access_missing_principal_changes_nothing<S: Store>(s: Arc<S>) {
    ok(
        s.create_principal(&principal("client-a", "object-a")).await,
        "create_principal",
    );
    for id in ["a1", "a2"] {
        ok(
            s.create_policy(&policy_record("assignment", id, "doc"))
                .await,
            "create_policy",
        );
    }
    let before = generation(&*s).await;
    assert_err!(
        s.delete_access(
            &[pair("assignment", "a1"), pair("assignment", "a2")],
            Some("ghost"),
        )
        .await,
        StoreError::NotFound,
        "delete_access of a missing principal"
    );
    assert_eq!(
        policy_ids(&listed_policies(&*s, "assignment").await),
        ["a1", "a2"],
        "documents were removed by a failed delete_access"
    );
    assert!(ok(s.principal("client-a").await, "principal").is_some());
    assert_eq!(generation(&*s).await, before);

    // A principal removed by one call is missing for the next, which then changes nothing.
    ok(
        s.delete_access(&[pair("assignment", "a1")], Some("client-a"))
            .await,
        "delete_access",
    );
    let before = generation(&*s).await;
    assert_err!(
        s.delete_access(&[pair("assignment", "a2")], Some("client-a"))
            .await,
        StoreError::NotFound,
        "delete_access of a principal already removed"
    );
    assert_eq!(
        policy_ids(&listed_policies(&*s, "assignment").await),
        ["a2"]
    );
    assert_eq!(generation(&*s).await, before);
}

async fn access_generation_counts_each_access_write<S: Store>(s: Arc<S>) {
    assert_eq!(generation(&*s).await, 0, "a new store starts at 0");
    let mut expected = 0u64;
    macro_rules! step {
        ($write:expr, $what:expr) => {
            ok($write.await, $what);
            expected += 1;
            assert_eq!(generation(&*s).await, expected, "after {}", $what);
        };
    }
    let p = principal("client-a", "object-a");
    step!(s.create_principal(&p), "create_principal");
    let updated = PrincipalRecord {
        data: b"new data".to_vec(),
        ..p.clone()
    };
    step!(s.update_principal(&updated), "update_principal");
    step!(s.update_principal(&updated), "update_principal, same data");
    let doc = policy_record("role", "reader", "v1");
    step!(s.create_policy(&doc), "create_policy");
    step!(
        s.put_policy(&policy_record("role", "writer", "v1")),
        "put_policy creating"
    );
    step!(
        s.put_policy(&policy_record("role", "reader", "v2")),
        "put_policy replacing"
    );
    step!(
        s.put_policy(&policy_record("role", "reader", "v2")),
        "put_policy, same data"
    );
    step!(s.delete_policy("role", "writer"), "delete_policy");
    step!(
        s.delete_access(&[pair("role", "reader")], None),
        "delete_access of documents"
    );
    step!(
        s.delete_access(&[pair("role", "ghost")], None),
        "delete_access that finds nothing"
    );
    step!(
        s.delete_access(&[], Some("client-a")),
        "delete_access of a principal"
    );
    step!(s.create_principal(&p), "create_principal again");
    step!(s.delete_principal("client-a"), "delete_principal");

    // Reads do not move it.
    ok(s.principal("client-a").await, "principal");
    ok(s.list_principals().await, "list_principals");
    ok(s.policy("role", "reader").await, "policy");
    ok(s.list_policies("role").await, "list_policies");
    assert_eq!(generation(&*s).await, expected, "after reads");
    assert_eq!(expected, 13);
}

async fn access_generation_ignores_failed_writes<S: Store>(s: Arc<S>) {
    ok(
        s.create_principal(&principal("client-a", "object-a")).await,
        "create_principal",
    );
    let doc = policy_record("role", "reader", "doc");
    ok(s.create_policy(&doc).await, "create_policy");
    let before = generation(&*s).await;
    assert_eq!(before, 2);

    macro_rules! refused {
        ($write:expr, $pattern:pat, $what:expr) => {
            assert_err!($write.await, $pattern, $what);
            assert_eq!(generation(&*s).await, before, "after {}", $what);
        };
    }
    refused!(
        s.create_principal(&principal("client-a", "object-b")),
        StoreError::Conflict,
        "create_principal, client id taken"
    );
    refused!(
        s.create_principal(&principal("client-b", "object-a")),
        StoreError::Conflict,
        "create_principal, object id taken"
    );
    refused!(
        s.update_principal(&principal("ghost", "ghost-object")),
        StoreError::NotFound,
        "update_principal of a missing principal"
    );
    refused!(
        s.delete_principal("ghost"),
        StoreError::NotFound,
        "delete_principal of a missing principal"
    );
    refused!(
        s.create_policy(&policy_record("role", "reader", "other")),
        StoreError::Conflict,
        "create_policy of an existing document"
    );
    refused!(
        s.delete_policy("role", "ghost"),
        StoreError::NotFound,
        "delete_policy of a missing document"
    );
    refused!(
        s.delete_access(&[pair("role", "reader")], Some("ghost")),
        StoreError::NotFound,
        "delete_access of a missing principal"
    );
    let too_long = "x".repeat(POLICY_ID_MAX + 1);
    refused!(
        s.create_policy(&policy_record("role", &too_long, "doc")),
        StoreError::Invalid(_),
        "create_policy with a long id"
    );
    refused!(
        s.put_policy(&policy_record("role", &too_long, "doc")),
        StoreError::Invalid(_),
        "put_policy with a long id"
    );
    refused!(
        s.delete_policy("role", &too_long),
        StoreError::Invalid(_),
        "delete_policy with a long id"
    );
    refused!(
        s.delete_access(&[pair("role", &too_long)], None),
        StoreError::Invalid(_),
        "delete_access with a long id"
    );
    assert_eq!(stored_policy(&*s, "role", "reader").await, Some(doc));
    assert_eq!(
        ok(s.list_principals().await, "list_principals"),
        vec![principal("client-a", "object-a")]
    );
}

async fn access_generation_ignores_unrelated_writes<S: Store>(s: Arc<S>) {
    ok(
        s.create_policy(&policy_record("role", "reader", "doc"))
            .await,
        "create_policy",
    );
    assert_eq!(generation(&*s).await, 1);
    ok(s.put_meta("k", b"v").await, "put_meta");
    ok(s.put_meta_if_absent("k2", b"v").await, "put_meta_if_absent");
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    let mut updated = version(1, T0 + 1);
    updated.enabled = false;
    ok(
        s.update_version(&addr("alpha", SECRET, "s"), &updated)
            .await,
        "update_version",
    );
    delete(&*s, "alpha", SECRET, "s", T0).await;
    ok(
        s.recover_object(&addr("alpha", SECRET, "s")).await,
        "recover_object",
    );
    delete(&*s, "alpha", SECRET, "s", T0).await;
    ok(
        s.purge_object(&addr("alpha", SECRET, "s")).await,
        "purge_object",
    );
    ok(
        s.restore_object(
            &addr("alpha", SECRET, "r"),
            &[version(2, T0)],
            &vid(2),
            &head_id(&vid(2)),
        )
        .await,
        "restore_object",
    );
    delete(&*s, "alpha", SECRET, "r", T0).await;
    let purged = ok(s.purge_expired(T0 + 365 * DAY, 10).await, "purge_expired");
    assert_eq!(purged.len(), 1);
    ok(s.delete_vault("alpha").await, "delete_vault");
    // Failed unrelated writes do not move it either.
    assert_err!(
        s.delete_vault("alpha").await,
        StoreError::NotFound,
        "delete missing vault"
    );
    assert_eq!(
        generation(&*s).await,
        1,
        "unrelated writes moved the generation"
    );
}

async fn access_generation_counts_concurrent_writes<S: Store>(s: Arc<S>) {
    ok(
        s.create_policy(&policy_record("role", "taken", "doc"))
            .await,
        "create_policy",
    );
    let start = generation(&*s).await;
    const WRITERS: u64 = 80;
    let done = Arc::new(AtomicBool::new(false));
    let _stop_reader = SetOnDrop(done.clone());
    let reader = {
        let (s, done) = (s.clone(), done.clone());
        tokio::spawn(async move {
            let mut last = 0u64;
            loop {
                let finished = done.load(Ordering::Acquire);
                let now = s.access_generation().await.unwrap();
                assert!(now >= last, "the generation went back from {last} to {now}");
                last = now;
                if finished {
                    break last;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let barrier = Arc::new(Barrier::new(WRITERS as usize));
    let mut handles = Vec::new();
    for n in 0..WRITERS {
        let (s, barrier) = (s.clone(), barrier.clone());
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            match n % 5 {
                // Succeeds.
                0 => {
                    s.create_policy(&policy_record("role", &format!("r{n}"), "doc"))
                        .await
                }
                // Fails: the document exists.
                1 => s.create_policy(&policy_record("role", "taken", "x")).await,
                // Succeeds, all on one document.
                2 => s.put_policy(&policy_record("role", "shared", "doc")).await,
                // Succeeds.
                3 => {
                    s.create_principal(&principal(&format!("c{n}"), &format!("o{n}")))
                        .await
                }
                // Fails: no such principal.
                _ => {
                    s.delete_access(&[pair("role", "taken")], Some("ghost"))
                        .await
                }
            }
        }));
    }
    let mut successes = 0u64;
    for (n, result) in join_all(handles).await.into_iter().enumerate() {
        match n % 5 {
            0 | 2 | 3 => {
                ok(result, "a valid concurrent access write");
                successes += 1;
            }
            1 => assert_err!(result, StoreError::Conflict, "duplicate document"),
            _ => assert_err!(result, StoreError::NotFound, "missing principal"),
        }
    }
    done.store(true, Ordering::Release);
    let end = generation(&*s).await;
    assert_eq!(end - start, successes, "one step per successful write");
    assert_eq!(reader.await.expect("the reader panicked"), end);
    assert!(stored_policy(&*s, "role", "taken").await.is_some());
    assert_eq!(
        listed_policies(&*s, "role").await.len() as u64,
        2 + WRITERS / 5
    );
}

async fn vault_delete_keeps_principals_and_policies<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let p = principal("client-a", "object-a");
    ok(s.create_principal(&p).await, "create_principal");
    let doc = policy_record("assignment", "/vaults/alpha", "reader for alpha");
    ok(s.create_policy(&doc).await, "create_policy");
    let before = generation(&*s).await;
    ok(s.delete_vault("alpha").await, "delete_vault");
    assert_eq!(
        stored_policy(&*s, "assignment", "/vaults/alpha").await,
        Some(doc)
    );
    assert_eq!(ok(s.principal("client-a").await, "principal"), Some(p));
    assert_eq!(generation(&*s).await, before);
}

// ---- head, object_versions, reseal_object ----

async fn head_travels_with_the_current_version<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "s", &version(2, T0)).await;
    let current = get(&*s, "alpha", SECRET, "S", None).await.unwrap();
    assert_eq!(current.object.head, head_id(&vid(2)));
    // Updating a version, deleting and recovering keep the head as stored.
    let update = VersionRecord {
        enabled: false,
        ..version(2, T0 + 5)
    };
    ok(
        s.update_version(&addr("alpha", SECRET, "s"), &update).await,
        "update_version",
    );
    let deleted = delete(&*s, "alpha", SECRET, "s", T0 + 6).await;
    assert_eq!(deleted.head, head_id(&vid(2)));
    let recovered = ok(
        s.recover_object(&addr("alpha", SECRET, "s")).await,
        "recover_object",
    );
    assert_eq!(recovered, active("s", &vid(2)));
    let listed = all_objects(&*s, "alpha", SECRET, Listing::Active).await;
    assert_eq!(listed[0].object.head, head_id(&vid(2)));
    let restored = ok(
        s.restore_object(
            &addr("alpha", SECRET, "r"),
            &[version(3, T0), version(4, T0)],
            &vid(3),
            b"restored head",
        )
        .await,
        "restore_object",
    );
    assert_eq!(restored.head, b"restored head");
    let found = get(&*s, "alpha", SECRET, "r", Some(&vid(4))).await.unwrap();
    assert_eq!(found.object.head, b"restored head");
}

async fn object_versions_lists_every_state<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    assert_err!(
        s.object_versions(&addr("alpha", SECRET, "s")).await,
        StoreError::NotFound,
        "object_versions of a missing object"
    );
    put(&*s, "alpha", SECRET, "s", &version(2, T0)).await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    put(&*s, "alpha", KEY, "s", &version(3, T0)).await;
    let expected = vec![version(1, T0), version(2, T0)];
    assert_eq!(
        ok(
            s.object_versions(&addr("alpha", SECRET, "S")).await,
            "object_versions"
        ),
        expected
    );
    delete(&*s, "alpha", SECRET, "s", T0).await;
    assert_eq!(
        ok(
            s.object_versions(&addr("alpha", SECRET, "s")).await,
            "object_versions of a deleted object"
        ),
        expected
    );
}

async fn reseal_object_replaces_head_and_meta_only<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "s", &version(2, T0 + 1)).await;
    let before = generation(&*s).await;
    ok(
        s.reseal_object(
            &addr("alpha", SECRET, "S"),
            b"new head",
            &[(vid(1), b"new meta 1".to_vec())],
        )
        .await,
        "reseal_object",
    );
    let current = get(&*s, "alpha", SECRET, "s", None).await.unwrap();
    assert_eq!(current.object.head, b"new head");
    assert_eq!(current.object.current_version, Some(vid(2)));
    assert_eq!(current.version, version(2, T0 + 1));
    let old = get(&*s, "alpha", SECRET, "s", Some(&vid(1))).await.unwrap();
    assert_eq!(
        old.version,
        VersionRecord {
            meta: b"new meta 1".to_vec(),
            ..version(1, T0)
        }
    );
    assert_eq!(generation(&*s).await, before);
    // A deleted object is resealed too, and stays deleted.
    delete(&*s, "alpha", SECRET, "s", T0 + 2).await;
    ok(
        s.reseal_object(
            &addr("alpha", SECRET, "s"),
            b"deleted head",
            &[(vid(2), b"new meta 2".to_vec())],
        )
        .await,
        "reseal_object of a deleted object",
    );
    let current = get(&*s, "alpha", SECRET, "s", None).await.unwrap();
    assert_eq!(current.object.head, b"deleted head");
    assert_eq!(current.object.deleted, Some(deletion(T0 + 2)));
    assert_eq!(current.version.meta, b"new meta 2");
}

async fn reseal_object_missing_changes_nothing<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    assert_err!(
        s.reseal_object(&addr("alpha", SECRET, "s"), b"h", &[])
            .await,
        StoreError::NotFound,
        "reseal_object of a missing object"
    );
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    assert_err!(
        s.reseal_object(
            &addr("alpha", SECRET, "s"),
            b"h",
            &[(vid(1), b"m".to_vec()), (vid(9), b"m".to_vec())]
        )
        .await,
        StoreError::NotFound,
        "reseal_object naming a missing version"
    );
    let current = get(&*s, "alpha", SECRET, "s", None).await.unwrap();
    assert_eq!(current.object, active("s", &vid(1)));
    assert_eq!(current.version, version(1, T0));
}

// ---- put_version / version ----

async fn put_version_creates_object<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let v1 = VersionRecord {
        nbf: Some(T0 - 10),
        exp: Some(T0 + 10),
        enabled: false,
        ..version(1, T0)
    };
    let record = put(&*s, "alpha", SECRET, "MySecret", &v1).await;
    assert_eq!(record, active("MySecret", &vid(1)));
    let current = get(&*s, "alpha", SECRET, "MySecret", None).await.unwrap();
    assert_eq!(current.object, record);
    assert_eq!(current.version, v1);
    let exact = get(&*s, "alpha", SECRET, "MySecret", Some(&vid(1)))
        .await
        .unwrap();
    assert_eq!(exact, current);
}

async fn put_version_adds_current_version<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let v1 = version(1, T0);
    let v2 = version(2, T0 + 1);
    put(&*s, "alpha", SECRET, "s", &v1).await;
    let record = put(&*s, "alpha", SECRET, "s", &v2).await;
    assert_eq!(record, active("s", &vid(2)));
    let current = get(&*s, "alpha", SECRET, "s", None).await.unwrap();
    assert_eq!(current.version, v2);
    assert_eq!(current.object.current_version, Some(vid(2)));
    let old = get(&*s, "alpha", SECRET, "s", Some(&vid(1))).await.unwrap();
    assert_eq!(old.version, v1);
    assert_eq!(old.object.current_version, Some(vid(2)));
    // The newest put is current even when its id sorts lower than the others.
    let v0 = version(0, T0 + 2);
    let record = put(&*s, "alpha", SECRET, "s", &v0).await;
    assert_eq!(record.current_version, Some(vid(0)));
    assert_eq!(
        get(&*s, "alpha", SECRET, "s", None).await.unwrap().version,
        v0
    );
    assert_eq!(
        ids(&all_versions(&*s, "alpha", SECRET, "s").await),
        [vid(0), vid(1), vid(2)]
    );
}

async fn put_version_names_are_case_insensitive_and_keep_first_spelling<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "MySecret", &version(1, T0)).await;
    let record = put(&*s, "alpha", SECRET, "mysecret", &version(2, T0)).await;
    assert_eq!(record, active("MySecret", &vid(2)));
    let record = put(&*s, "alpha", SECRET, "MYSECRET", &version(3, T0)).await;
    assert_eq!(record.name, "MySecret");
    for spelling in ["mysecret", "MYSECRET", "mYsEcReT", "MySecret"] {
        let found = get(&*s, "alpha", SECRET, spelling, None).await.unwrap();
        assert_eq!(found.object, active("MySecret", &vid(3)), "{spelling}");
        assert_eq!(
            all_versions(&*s, "alpha", SECRET, spelling).await.len(),
            3,
            "{spelling}"
        );
    }
    assert_eq!(
        names(&all_objects(&*s, "alpha", SECRET, Listing::Active).await),
        ["MySecret"]
    );
}

async fn put_version_missing_vault_is_not_found<S: Store>(s: Arc<S>) {
    assert_err!(
        s.put_version(
            &addr("ghost", SECRET, "s"),
            &version(1, T0),
            &head(&version(1, T0))
        )
        .await,
        StoreError::NotFound,
        "put into missing vault"
    );
    make_vault(&*s, "ghost").await;
    assert!(get(&*s, "ghost", SECRET, "s", None).await.is_none());
}

async fn put_version_on_deleted_object_is_deleted<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "Gone", &version(1, T0)).await;
    delete(&*s, "alpha", SECRET, "Gone", T0).await;
    for spelling in ["Gone", "gone", "GONE"] {
        assert_err!(
            s.put_version(
                &addr("alpha", SECRET, spelling),
                &version(2, T0),
                &head(&version(2, T0))
            )
            .await,
            StoreError::Deleted,
            format!("put onto deleted object spelled {spelling}")
        );
    }
    let found = get(&*s, "alpha", SECRET, "gone", None).await.unwrap();
    assert_eq!(found.object.current_version, Some(vid(1)));
    assert!(get(&*s, "alpha", SECRET, "gone", Some(&vid(2)))
        .await
        .is_none());
}

async fn put_version_duplicate_id_is_conflict<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "s", &version(2, T0)).await;
    let mut duplicate = version(1, T0 + 50);
    duplicate.value = b"other value".to_vec();
    assert_err!(
        s.put_version(&addr("alpha", SECRET, "S"), &duplicate, &head(&duplicate))
            .await,
        StoreError::Conflict,
        "duplicate version id"
    );
    // Nothing changed: the old version keeps its value and the current one stays current.
    let current = get(&*s, "alpha", SECRET, "s", None).await.unwrap();
    assert_eq!(current.object.current_version, Some(vid(2)));
    let old = get(&*s, "alpha", SECRET, "s", Some(&vid(1))).await.unwrap();
    assert_eq!(old.version, version(1, T0));
    assert_err!(
        s.put_version(
            &addr("alpha", SECRET, "s"),
            &version(2, T0),
            &head(&version(2, T0))
        )
        .await,
        StoreError::Conflict,
        "duplicate of the current version id"
    );
    assert_eq!(all_versions(&*s, "alpha", SECRET, "s").await.len(), 2);
}

async fn objects_are_separated_by_kind_and_vault<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    make_vault(&*s, "beta").await;
    // The same name and version id may exist once per (vault, kind).
    put(&*s, "alpha", SECRET, "Same", &version(1, T0)).await;
    put(&*s, "alpha", KEY, "same", &version(1, T0 + 1)).await;
    put(
        &*s,
        "alpha",
        ObjectKind::Certificate,
        "SAME",
        &version(1, T0 + 2),
    )
    .await;
    put(&*s, "beta", SECRET, "same", &version(1, T0 + 3)).await;
    let expected = [
        ("alpha", SECRET, "Same", T0),
        ("alpha", KEY, "same", T0 + 1),
        ("alpha", ObjectKind::Certificate, "SAME", T0 + 2),
        ("beta", SECRET, "same", T0 + 3),
    ];
    for (vault, kind, spelled, created) in expected {
        let found = get(&*s, vault, kind, "same", None).await.unwrap();
        assert_eq!(found.object.name, spelled, "{vault}/{kind:?}");
        assert_eq!(found.version.created, created, "{vault}/{kind:?}");
    }
    delete(&*s, "alpha", KEY, "same", T0).await;
    assert!(get(&*s, "alpha", SECRET, "same", None)
        .await
        .unwrap()
        .object
        .deleted
        .is_none());
    assert!(get(&*s, "beta", SECRET, "same", None)
        .await
        .unwrap()
        .object
        .deleted
        .is_none());
}

async fn version_missing_is_none<S: Store>(s: Arc<S>) {
    assert!(get(&*s, "ghost", SECRET, "s", None).await.is_none());
    make_vault(&*s, "alpha").await;
    assert!(get(&*s, "alpha", SECRET, "s", None).await.is_none());
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    assert!(get(&*s, "alpha", SECRET, "s", Some(&vid(2)))
        .await
        .is_none());
    assert!(get(&*s, "alpha", KEY, "s", None).await.is_none());
    assert!(get(&*s, "alpha", SECRET, "t", None).await.is_none());
}

async fn version_of_deleted_object_is_returned<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "s", &version(2, T0)).await;
    let d = deletion(T0 + 100);
    ok(
        s.delete_object(&addr("alpha", SECRET, "s"), d).await,
        "delete_object",
    );
    let current = get(&*s, "alpha", SECRET, "s", None).await.unwrap();
    assert_eq!(current.object.deleted, Some(d));
    assert_eq!(current.version, version(2, T0));
    let old = get(&*s, "alpha", SECRET, "s", Some(&vid(1))).await.unwrap();
    assert_eq!(old.object.deleted, Some(d));
    assert_eq!(old.version, version(1, T0));
}

async fn version_large_blobs_round_trip<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let mut v = version(1, T0);
    v.value = (0..=255u8).cycle().take(40 * 1024).collect();
    v.meta = (0..=255u8).rev().cycle().take(3000).collect();
    put(&*s, "alpha", SECRET, "big", &v).await;
    assert_eq!(
        get(&*s, "alpha", SECRET, "big", None)
            .await
            .unwrap()
            .version,
        v
    );
    let mut empty = version(2, T0);
    empty.value = Vec::new();
    empty.meta = Vec::new();
    put(&*s, "alpha", SECRET, "big", &empty).await;
    assert_eq!(
        get(&*s, "alpha", SECRET, "big", None)
            .await
            .unwrap()
            .version,
        empty
    );
}

// ---- update_version ----

async fn update_version_keeps_created<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "s", &version(2, T0 + 1)).await;
    let update = VersionRecord {
        version: vid(1),
        created: T0 + 999,
        updated: T0 + 500,
        enabled: false,
        nbf: Some(T0 + 10),
        exp: Some(T0 + 20),
        meta: b"new meta".to_vec(),
        value: b"new value".to_vec(),
    };
    ok(
        s.update_version(&addr("alpha", SECRET, "S"), &update).await,
        "update_version",
    );
    let stored = get(&*s, "alpha", SECRET, "s", Some(&vid(1))).await.unwrap();
    assert_eq!(
        stored.version,
        VersionRecord {
            created: T0,
            ..update.clone()
        }
    );
    // Updating an old version does not make it current, nor touch the other version.
    assert_eq!(stored.object.current_version, Some(vid(2)));
    assert_eq!(
        get(&*s, "alpha", SECRET, "s", None).await.unwrap().version,
        version(2, T0 + 1)
    );
    // Fields can be cleared again.
    let cleared = VersionRecord {
        nbf: None,
        exp: None,
        enabled: true,
        ..update
    };
    ok(
        s.update_version(&addr("alpha", SECRET, "s"), &cleared)
            .await,
        "update_version again",
    );
    let stored = get(&*s, "alpha", SECRET, "s", Some(&vid(1))).await.unwrap();
    assert_eq!(
        stored.version,
        VersionRecord {
            created: T0,
            ..cleared
        }
    );
}

async fn update_version_errors<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    assert_err!(
        s.update_version(&addr("alpha", SECRET, "s"), &version(1, T0))
            .await,
        StoreError::NotFound,
        "update of missing object"
    );
    assert_err!(
        s.update_version(&addr("ghost", SECRET, "s"), &version(1, T0))
            .await,
        StoreError::NotFound,
        "update in missing vault"
    );
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    assert_err!(
        s.update_version(&addr("alpha", SECRET, "s"), &version(2, T0))
            .await,
        StoreError::NotFound,
        "update of missing version"
    );
    assert!(get(&*s, "alpha", SECRET, "s", Some(&vid(2)))
        .await
        .is_none());
    delete(&*s, "alpha", SECRET, "s", T0).await;
    let mut changed = version(1, T0);
    changed.value = b"changed".to_vec();
    assert_err!(
        s.update_version(&addr("alpha", SECRET, "s"), &changed)
            .await,
        StoreError::Deleted,
        "update of deleted object"
    );
    assert_eq!(
        get(&*s, "alpha", SECRET, "s", None).await.unwrap().version,
        version(1, T0),
        "a refused update changed the version"
    );
}

// ---- listings ----

async fn list_objects_pages_by_lower_case_name<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let spelled = ["delta", "Bravo", "alpha", "ECHO", "charlie", "Alpha-2", "b"];
    for (i, name) in spelled.iter().enumerate() {
        let n = i as u64;
        put(&*s, "alpha", SECRET, name, &version(n * 10, T0)).await;
        put(&*s, "alpha", SECRET, name, &version(n * 10 + 1, T0 + 1)).await;
    }
    let expected = ["alpha", "Alpha-2", "b", "Bravo", "charlie", "delta", "ECHO"];
    let all = all_objects(&*s, "alpha", SECRET, Listing::Active).await;
    assert_eq!(names(&all), expected);
    for entry in &all {
        assert_eq!(entry.object.deleted, None);
        assert!(entry.is_current());
        let index = spelled
            .iter()
            .position(|n| *n == entry.object.name)
            .unwrap() as u64;
        assert_eq!(entry.version, version(index * 10 + 1, T0 + 1));
    }

    // Page through with limit 3, continuing after the lower-case name of each page's end.
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ok(
            s.list_objects(
                ObjectQuery::new("alpha", SECRET, Listing::Active)
                    .after(after.as_deref())
                    .limit(3),
            )
            .await,
            "list_objects page",
        );
        assert!(page.len() <= 3, "page longer than the limit");
        if page.is_empty() {
            break;
        }
        assert!(pages.len() < 10, "paging does not advance");
        after = Some(page.last().unwrap().object.name.to_ascii_lowercase());
        pages.push(names(&page));
    }
    assert_eq!(
        pages,
        vec![
            vec!["alpha", "Alpha-2", "b"],
            vec!["Bravo", "charlie", "delta"],
            vec!["ECHO"],
        ]
    );
    // `after` is exclusive, and need not be an existing name.
    let page = ok(
        s.list_objects(
            ObjectQuery::new("alpha", SECRET, Listing::Active)
                .after(Some("bravo"))
                .limit(100),
        )
        .await,
        "list after bravo",
    );
    assert_eq!(names(&page), ["charlie", "delta", "ECHO"]);
    let page = ok(
        s.list_objects(
            ObjectQuery::new("alpha", SECRET, Listing::Active)
                .after(Some("bz"))
                .limit(1),
        )
        .await,
        "list after bz",
    );
    assert_eq!(names(&page), ["charlie"]);
    let page = ok(
        s.list_objects(
            ObjectQuery::new("alpha", SECRET, Listing::Active)
                .after(Some("zzz"))
                .limit(10),
        )
        .await,
        "list past the end",
    );
    assert!(page.is_empty());
    let page = ok(
        s.list_objects(ObjectQuery::new("alpha", SECRET, Listing::Active).limit(0))
            .await,
        "limit 0",
    );
    assert!(page.is_empty());
}

async fn list_objects_separates_active_and_deleted<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    for (i, name) in ["a", "B", "c", "D", "e"].iter().enumerate() {
        put(&*s, "alpha", SECRET, name, &version(i as u64, T0)).await;
    }
    let d = deletion(T0 + 5);
    for name in ["b", "d"] {
        ok(
            s.delete_object(&addr("alpha", SECRET, name), d).await,
            "delete_object",
        );
    }
    assert_eq!(
        names(&all_objects(&*s, "alpha", SECRET, Listing::Active).await),
        ["a", "c", "e"]
    );
    let deleted = all_objects(&*s, "alpha", SECRET, Listing::Deleted).await;
    assert_eq!(names(&deleted), ["B", "D"]);
    for entry in &deleted {
        assert_eq!(entry.object.deleted, Some(d));
        assert!(entry.is_current());
    }
    assert_eq!(deleted[1].version, version(3, T0));
    let page = ok(
        s.list_objects(
            ObjectQuery::new("alpha", SECRET, Listing::Deleted)
                .after(Some("b"))
                .limit(10),
        )
        .await,
        "deleted after b",
    );
    assert_eq!(names(&page), ["D"]);
    let page = ok(
        s.list_objects(ObjectQuery::new("alpha", SECRET, Listing::Deleted).limit(1))
            .await,
        "deleted limit 1",
    );
    assert_eq!(names(&page), ["B"]);

    ok(
        s.recover_object(&addr("alpha", SECRET, "b")).await,
        "recover",
    );
    assert_eq!(
        names(&all_objects(&*s, "alpha", SECRET, Listing::Active).await),
        ["a", "B", "c", "e"]
    );
    assert_eq!(
        names(&all_objects(&*s, "alpha", SECRET, Listing::Deleted).await),
        ["D"]
    );
}

async fn list_objects_filters_vault_and_kind<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    make_vault(&*s, "beta").await;
    put(&*s, "alpha", SECRET, "s1", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "s2", &version(2, T0)).await;
    put(&*s, "alpha", KEY, "k1", &version(3, T0)).await;
    put(&*s, "beta", SECRET, "b1", &version(4, T0)).await;
    assert_eq!(
        names(&all_objects(&*s, "alpha", SECRET, Listing::Active).await),
        ["s1", "s2"]
    );
    assert_eq!(
        names(&all_objects(&*s, "alpha", KEY, Listing::Active).await),
        ["k1"]
    );
    assert!(
        all_objects(&*s, "alpha", ObjectKind::Certificate, Listing::Active)
            .await
            .is_empty()
    );
    assert_eq!(
        names(&all_objects(&*s, "beta", SECRET, Listing::Active).await),
        ["b1"]
    );
    assert!(all_objects(&*s, "beta", SECRET, Listing::Deleted)
        .await
        .is_empty());
}

async fn list_versions_pages_by_version_id<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    // Inserted out of id order; listed in id order.
    for n in [5u64, 1, 0xff, 3, 0x10, 2] {
        put(&*s, "alpha", SECRET, "s", &version(n, T0 + n as i64)).await;
    }
    let all = all_versions(&*s, "alpha", SECRET, "S").await;
    assert_eq!(
        ids(&all),
        [vid(1), vid(2), vid(3), vid(5), vid(0x10), vid(0xff)]
    );
    for v in &all {
        let n = u64::from_str_radix(&v.version, 16).unwrap();
        assert_eq!(*v, version(n, T0 + n as i64));
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ok(
            s.list_versions(&addr("alpha", SECRET, "s"), after.as_deref(), 4)
                .await,
            "list_versions page",
        );
        assert!(page.len() <= 4, "page longer than the limit");
        if page.is_empty() {
            break;
        }
        assert!(seen.len() < 10, "paging does not advance");
        after = Some(page.last().unwrap().version.clone());
        seen.push(ids(&page));
    }
    assert_eq!(
        seen,
        vec![
            vec![vid(1), vid(2), vid(3), vid(5)],
            vec![vid(0x10), vid(0xff)]
        ]
    );
    let page = ok(
        s.list_versions(&addr("alpha", SECRET, "s"), Some(&vid(4)), 2)
            .await,
        "after a missing id",
    );
    assert_eq!(ids(&page), [vid(5), vid(0x10)]);
    let page = ok(
        s.list_versions(&addr("alpha", SECRET, "s"), None, 0).await,
        "limit 0",
    );
    assert!(page.is_empty());
}

async fn list_versions_errors<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    assert_err!(
        s.list_versions(&addr("alpha", SECRET, "s"), None, 10).await,
        StoreError::NotFound,
        "versions of missing object"
    );
    assert_err!(
        s.list_versions(&addr("ghost", SECRET, "s"), None, 10).await,
        StoreError::NotFound,
        "versions in missing vault"
    );
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    assert_err!(
        s.list_versions(&addr("alpha", KEY, "s"), None, 10).await,
        StoreError::NotFound,
        "versions of another kind"
    );
    delete(&*s, "alpha", SECRET, "s", T0).await;
    assert_err!(
        s.list_versions(&addr("alpha", SECRET, "s"), None, 10).await,
        StoreError::Deleted,
        "versions of deleted object"
    );
}

// ---- lifecycle ----

async fn delete_object_marks_deleted<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "MySecret", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "MySecret", &version(2, T0)).await;
    let d = Deletion {
        deleted_at: T0 + 10,
        scheduled_purge: T0 + 10 + 30 * DAY,
    };
    let record = ok(
        s.delete_object(&addr("alpha", SECRET, "mysecret"), d).await,
        "delete_object",
    );
    assert_eq!(
        record,
        ObjectRecord {
            name: "MySecret".into(),
            current_version: Some(vid(2)),
            head: head_id(&vid(2)),
            deleted: Some(d),
            managed_by: None,
        }
    );
    assert_eq!(
        get(&*s, "alpha", SECRET, "MySecret", None)
            .await
            .unwrap()
            .object,
        record
    );
    assert!(all_objects(&*s, "alpha", SECRET, Listing::Active)
        .await
        .is_empty());
}

async fn delete_object_errors<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    assert_err!(
        s.delete_object(&addr("alpha", SECRET, "s"), deletion(T0))
            .await,
        StoreError::NotFound,
        "delete missing object"
    );
    assert_err!(
        s.delete_object(&addr("ghost", SECRET, "s"), deletion(T0))
            .await,
        StoreError::NotFound,
        "delete in missing vault"
    );
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    let first = deletion(T0);
    ok(
        s.delete_object(&addr("alpha", SECRET, "s"), first).await,
        "delete_object",
    );
    assert_err!(
        s.delete_object(&addr("alpha", SECRET, "S"), deletion(T0 + 100))
            .await,
        StoreError::Deleted,
        "delete twice"
    );
    assert_eq!(
        get(&*s, "alpha", SECRET, "s", None)
            .await
            .unwrap()
            .object
            .deleted,
        Some(first),
        "a refused delete changed the deletion"
    );
}

async fn recover_object_restores_all_versions<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    for n in 1..=3 {
        put(&*s, "alpha", SECRET, "MySecret", &version(n, T0)).await;
    }
    delete(&*s, "alpha", SECRET, "MySecret", T0).await;
    let record = ok(
        s.recover_object(&addr("alpha", SECRET, "MYSECRET")).await,
        "recover_object",
    );
    assert_eq!(record, active("MySecret", &vid(3)));
    assert_eq!(
        get(&*s, "alpha", SECRET, "mysecret", None)
            .await
            .unwrap()
            .object,
        record
    );
    let versions = all_versions(&*s, "alpha", SECRET, "MySecret").await;
    assert_eq!(
        versions,
        vec![version(1, T0), version(2, T0), version(3, T0)]
    );
    // Active again: writable, and not purged by the expiry scan.
    put(&*s, "alpha", SECRET, "MySecret", &version(4, T0)).await;
    assert!(ok(s.purge_expired(T0 + 365 * DAY, 10).await, "purge_expired").is_empty());
}

async fn recover_object_errors<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    assert_err!(
        s.recover_object(&addr("alpha", SECRET, "s")).await,
        StoreError::NotFound,
        "recover missing object"
    );
    assert_err!(
        s.recover_object(&addr("ghost", SECRET, "s")).await,
        StoreError::NotFound,
        "recover in missing vault"
    );
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    assert_err!(
        s.recover_object(&addr("alpha", SECRET, "s")).await,
        StoreError::NotFound,
        "recover active object"
    );
    delete(&*s, "alpha", SECRET, "s", T0).await;
    ok(
        s.recover_object(&addr("alpha", SECRET, "s")).await,
        "recover",
    );
    assert_err!(
        s.recover_object(&addr("alpha", SECRET, "s")).await,
        StoreError::NotFound,
        "recover twice"
    );
}

async fn purge_object_removes_everything<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "Old", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "Old", &version(2, T0)).await;
    put(&*s, "alpha", SECRET, "other", &version(9, T0)).await;
    delete(&*s, "alpha", SECRET, "old", T0).await;
    ok(
        s.purge_object(&addr("alpha", SECRET, "OLD")).await,
        "purge_object",
    );
    assert!(get(&*s, "alpha", SECRET, "old", None).await.is_none());
    assert!(get(&*s, "alpha", SECRET, "old", Some(&vid(1)))
        .await
        .is_none());
    assert!(all_objects(&*s, "alpha", SECRET, Listing::Deleted)
        .await
        .is_empty());
    assert_err!(
        s.list_versions(&addr("alpha", SECRET, "old"), None, 10)
            .await,
        StoreError::NotFound,
        "versions after purge"
    );
    // The name and its version ids are free: a new object gets the new spelling.
    let record = put(&*s, "alpha", SECRET, "OLD", &version(1, T0 + 5)).await;
    assert_eq!(record, active("OLD", &vid(1)));
    assert_eq!(
        ids(&all_versions(&*s, "alpha", SECRET, "old").await),
        [vid(1)]
    );
    assert_eq!(
        names(&all_objects(&*s, "alpha", SECRET, Listing::Active).await),
        ["OLD", "other"]
    );
}

async fn purge_object_errors<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    assert_err!(
        s.purge_object(&addr("alpha", SECRET, "s")).await,
        StoreError::NotFound,
        "purge missing object"
    );
    assert_err!(
        s.purge_object(&addr("ghost", SECRET, "s")).await,
        StoreError::NotFound,
        "purge in missing vault"
    );
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    assert_err!(
        s.purge_object(&addr("alpha", SECRET, "s")).await,
        StoreError::NotFound,
        "purge active object"
    );
    assert!(get(&*s, "alpha", SECRET, "s", None).await.is_some());
    delete(&*s, "alpha", SECRET, "s", T0).await;
    ok(s.purge_object(&addr("alpha", SECRET, "s")).await, "purge");
    assert_err!(
        s.purge_object(&addr("alpha", SECRET, "s")).await,
        StoreError::NotFound,
        "purge twice"
    );
}

fn purged_set(purged: &[arca_store::PurgedObject]) -> BTreeSet<(String, ObjectKind, String)> {
    purged
        .iter()
        .map(|p| (p.vault.clone(), p.kind, p.name.to_ascii_lowercase()))
        .collect()
}

async fn purge_expired_respects_now<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    for (i, (name, purge_at)) in [("Early", 100), ("onTime", 200), ("late", 300)]
        .into_iter()
        .enumerate()
    {
        put(&*s, "alpha", SECRET, name, &version(i as u64, T0)).await;
        let d = Deletion {
            deleted_at: 50,
            scheduled_purge: purge_at,
        };
        ok(
            s.delete_object(&addr("alpha", SECRET, name), d).await,
            "delete",
        );
    }
    put(&*s, "alpha", SECRET, "active", &version(9, T0)).await;

    assert!(ok(s.purge_expired(99, 10).await, "before any").is_empty());
    let purged = ok(s.purge_expired(200, 10).await, "at 200");
    assert_eq!(
        purged_set(&purged),
        BTreeSet::from([
            ("alpha".to_owned(), SECRET, "early".to_owned()),
            ("alpha".to_owned(), SECRET, "ontime".to_owned()),
        ]),
        "scheduled_purge <= now is inclusive"
    );
    for p in &purged {
        assert!(
            ["Early", "onTime"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&p.name)),
            "unexpected purged name"
        );
    }
    assert!(get(&*s, "alpha", SECRET, "early", None).await.is_none());
    assert!(get(&*s, "alpha", SECRET, "ontime", None).await.is_none());
    assert!(get(&*s, "alpha", SECRET, "late", None).await.is_some());
    assert!(ok(s.purge_expired(200, 10).await, "again at 200").is_empty());
    let purged = ok(s.purge_expired(1_000, 10).await, "at 1000");
    assert_eq!(
        purged_set(&purged),
        BTreeSet::from([("alpha".to_owned(), SECRET, "late".to_owned())])
    );
    assert!(all_objects(&*s, "alpha", SECRET, Listing::Deleted)
        .await
        .is_empty());
    assert_eq!(
        names(&all_objects(&*s, "alpha", SECRET, Listing::Active).await),
        ["active"],
        "an active object was purged"
    );
}

async fn purge_expired_respects_limit<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    for n in 0..5u64 {
        let name = format!("s{n}");
        put(&*s, "alpha", SECRET, &name, &version(n, T0)).await;
        delete(&*s, "alpha", SECRET, &name, T0).await;
    }
    let now = T0 + 8 * DAY;
    assert!(ok(s.purge_expired(now, 0).await, "limit 0").is_empty());
    let mut all = BTreeSet::new();
    for expected in [2usize, 2, 1, 0] {
        let purged = ok(s.purge_expired(now, 2).await, "purge_expired");
        assert_eq!(purged.len(), expected);
        for p in purged_set(&purged) {
            assert!(all.insert(p), "an object was purged twice");
        }
    }
    let expected: BTreeSet<_> = (0..5)
        .map(|n| ("alpha".to_owned(), SECRET, format!("s{n}")))
        .collect();
    assert_eq!(all, expected);
}

async fn purge_expired_spans_vaults_and_kinds<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    make_vault(&*s, "beta").await;
    let targets = [
        ("alpha", SECRET, "one"),
        ("alpha", KEY, "one"),
        ("beta", ObjectKind::Certificate, "two"),
    ];
    for (i, (vault, kind, name)) in targets.iter().enumerate() {
        put(&*s, vault, *kind, name, &version(i as u64, T0)).await;
        delete(&*s, vault, *kind, name, T0).await;
    }
    // Same name, other kind, still within retention: must stay.
    put(&*s, "beta", SECRET, "two", &version(7, T0)).await;
    delete(&*s, "beta", SECRET, "two", T0 + 30 * DAY).await;
    let purged = ok(s.purge_expired(T0 + 7 * DAY, 100).await, "purge_expired");
    let expected: BTreeSet<_> = targets
        .iter()
        .map(|(v, k, n)| ((*v).to_owned(), *k, (*n).to_owned()))
        .collect();
    assert_eq!(purged_set(&purged), expected);
    assert!(get(&*s, "beta", SECRET, "two", None).await.is_some());
}

// ---- restore ----

async fn restore_object_creates_all_versions<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let versions = vec![version(3, T0 + 3), version(1, T0 + 1), version(2, T0 + 2)];
    let record = ok(
        s.restore_object(
            &addr("alpha", SECRET, "Restored"),
            &versions,
            &vid(1),
            &head_id(&vid(1)),
        )
        .await,
        "restore_object",
    );
    assert_eq!(record, active("Restored", &vid(1)));
    let current = get(&*s, "alpha", SECRET, "restored", None).await.unwrap();
    assert_eq!(current.object, record);
    assert_eq!(current.version, version(1, T0 + 1));
    assert_eq!(
        all_versions(&*s, "alpha", SECRET, "RESTORED").await,
        vec![version(1, T0 + 1), version(2, T0 + 2), version(3, T0 + 3)]
    );
    assert_eq!(
        names(&all_objects(&*s, "alpha", SECRET, Listing::Active).await),
        ["Restored"]
    );
    // A restored object behaves like any other.
    let record = put(&*s, "alpha", SECRET, "restored", &version(4, T0)).await;
    assert_eq!(record, active("Restored", &vid(4)));

    // A single-version restore works too.
    let record = ok(
        s.restore_object(
            &addr("alpha", KEY, "Single"),
            &[version(8, T0)],
            &vid(8),
            &head_id(&vid(8)),
        )
        .await,
        "restore single",
    );
    assert_eq!(record, active("Single", &vid(8)));
}

async fn restore_object_conflicts<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "Live", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "Gone", &version(2, T0)).await;
    delete(&*s, "alpha", SECRET, "Gone", T0).await;
    let versions = [version(10, T0), version(11, T0)];
    for name in ["Live", "LIVE", "live"] {
        assert_err!(
            s.restore_object(
                &addr("alpha", SECRET, name),
                &versions,
                &vid(11),
                &head_id(&vid(11))
            )
            .await,
            StoreError::Conflict,
            format!("restore over active {name}")
        );
    }
    for name in ["Gone", "gone"] {
        assert_err!(
            s.restore_object(
                &addr("alpha", SECRET, name),
                &versions,
                &vid(11),
                &head_id(&vid(11))
            )
            .await,
            StoreError::Conflict,
            format!("restore over deleted {name}")
        );
    }
    // Nothing was added to the existing objects.
    assert_eq!(
        ids(&all_versions(&*s, "alpha", SECRET, "live").await),
        [vid(1)]
    );
    let gone = get(&*s, "alpha", SECRET, "gone", None).await.unwrap();
    assert_eq!(gone.object.current_version, Some(vid(2)));
    assert!(gone.object.deleted.is_some());
    assert!(get(&*s, "alpha", SECRET, "gone", Some(&vid(10)))
        .await
        .is_none());
}

async fn restore_object_missing_vault_is_not_found<S: Store>(s: Arc<S>) {
    assert_err!(
        s.restore_object(
            &addr("ghost", SECRET, "s"),
            &[version(1, T0)],
            &vid(1),
            &head_id(&vid(1))
        )
        .await,
        StoreError::NotFound,
        "restore into missing vault"
    );
}

async fn restore_object_corrupt_input<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    assert_err!(
        s.restore_object(&addr("alpha", SECRET, "s"), &[], &vid(1), &head_id(&vid(1)))
            .await,
        StoreError::Corrupt(_),
        "restore without versions"
    );
    assert_err!(
        s.restore_object(
            &addr("alpha", SECRET, "s"),
            &[version(1, T0), version(2, T0), version(1, T0 + 1)],
            &vid(1),
            &head_id(&vid(1))
        )
        .await,
        StoreError::Corrupt(_),
        "restore with duplicate ids"
    );
    assert_err!(
        s.restore_object(
            &addr("alpha", SECRET, "s"),
            &[version(1, T0), version(2, T0)],
            &vid(3),
            &head_id(&vid(3))
        )
        .await,
        StoreError::Corrupt(_),
        "restore without the current version"
    );
    assert!(get(&*s, "alpha", SECRET, "s", None).await.is_none());
    assert!(all_objects(&*s, "alpha", SECRET, Listing::Active)
        .await
        .is_empty());
    // The name is still free.
    ok(
        s.restore_object(
            &addr("alpha", SECRET, "s"),
            &[version(1, T0)],
            &vid(1),
            &head_id(&vid(1)),
        )
        .await,
        "restore after refusals",
    );
}

// ---- atomicity and concurrency ----

async fn failed_writes_change_nothing<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    delete(&*s, "alpha", SECRET, "s", T0).await;
    assert_err!(
        s.put_version(
            &addr("alpha", SECRET, "s"),
            &version(2, T0),
            &head(&version(2, T0))
        )
        .await,
        StoreError::Deleted,
        "put onto deleted"
    );
    ok(
        s.recover_object(&addr("alpha", SECRET, "s")).await,
        "recover",
    );
    // The refused put left no version behind.
    assert_eq!(
        ids(&all_versions(&*s, "alpha", SECRET, "s").await),
        [vid(1)]
    );
    assert_err!(
        s.put_version(
            &addr("missing", SECRET, "t"),
            &version(1, T0),
            &head(&version(1, T0))
        )
        .await,
        StoreError::NotFound,
        "put into missing vault"
    );
    make_vault(&*s, "missing").await;
    assert!(all_objects(&*s, "missing", SECRET, Listing::Active)
        .await
        .is_empty());
}

async fn concurrent_put_version_on_one_object<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    const WRITERS: u64 = 50;
    let barrier = Arc::new(Barrier::new(WRITERS as usize));
    let mut handles = Vec::new();
    for n in 0..WRITERS {
        let (s, barrier) = (s.clone(), barrier.clone());
        handles.push(tokio::spawn(async move {
            // Different spellings race to create the same object.
            let name = if n % 2 == 0 { "HotSecret" } else { "hotsecret" };
            let v = version(1000 + n, T0 + n as i64);
            barrier.wait().await;
            let record = s
                .put_version(&addr("alpha", SECRET, name), &v, &head(&v))
                .await;
            (v.version, record)
        }));
    }
    let results = join_all(handles).await;
    let mut spellings = BTreeSet::new();
    for (id, record) in results {
        let record = ok(record, "concurrent put_version");
        assert_eq!(
            record.current_version,
            Some(id),
            "put returns its own version as current"
        );
        assert!(record.name.eq_ignore_ascii_case("hotsecret"));
        spellings.insert(record.name);
    }
    assert_eq!(spellings.len(), 1, "the object has one spelling");
    let listed = all_versions(&*s, "alpha", SECRET, "HOTSECRET").await;
    let expected: Vec<String> = (0..WRITERS).map(|n| vid(1000 + n)).collect();
    assert_eq!(ids(&listed), expected);
    let current = get(&*s, "alpha", SECRET, "hotsecret", None).await.unwrap();
    assert!(expected.contains(current.object.current_version.as_ref().unwrap()));
    assert!(current.is_current());
    assert_eq!(
        all_objects(&*s, "alpha", SECRET, Listing::Active)
            .await
            .len(),
        1
    );
}

async fn concurrent_creates_of_many_objects<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let mut handles = Vec::new();
    for n in 0..60u64 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let kind = if n % 3 == 0 { KEY } else { SECRET };
            let name = format!("obj-{n:03}");
            s.put_version(
                &addr("alpha", kind, &name),
                &version(n, T0),
                &head(&version(n, T0)),
            )
            .await
            .map(|_| ())
        }));
    }
    for result in join_all(handles).await {
        ok(result, "concurrent create");
    }
    let keys = all_objects(&*s, "alpha", KEY, Listing::Active).await;
    let secrets = all_objects(&*s, "alpha", SECRET, Listing::Active).await;
    assert_eq!(keys.len(), 20);
    assert_eq!(secrets.len(), 40);
    for entry in keys.iter().chain(secrets.iter()) {
        let n: u64 = entry.object.name["obj-".len()..].parse().unwrap();
        assert_eq!(entry.version, version(n, T0));
    }
}

async fn concurrent_mixed_success_and_failure<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    let barrier = Arc::new(Barrier::new(60));
    let mut handles = Vec::new();
    for n in 0..60u64 {
        let (s, barrier) = (s.clone(), barrier.clone());
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            match n % 4 {
                // Succeeds: a fresh version.
                0 => s
                    .put_version(
                        &addr("alpha", SECRET, "s"),
                        &version(100 + n, T0),
                        &head(&version(100 + n, T0)),
                    )
                    .await
                    .map(|_| "put"),
                // Fails: the version id exists.
                1 => s
                    .put_version(
                        &addr("alpha", SECRET, "s"),
                        &version(1, T0),
                        &head(&version(1, T0)),
                    )
                    .await
                    .map(|_| "dup"),
                // Fails: the vault exists.
                2 => s
                    .create_vault(&vault_record("alpha"))
                    .await
                    .map(|_| "vault"),
                // Succeeds: a metadata write.
                _ => s
                    .put_meta(&format!("m{n}"), &n.to_be_bytes())
                    .await
                    .map(|_| "meta"),
            }
        }));
    }
    let results = join_all(handles).await;
    for (n, result) in results.into_iter().enumerate() {
        match n % 4 {
            0 | 3 => {
                ok(result, "a valid concurrent write");
            }
            1 => assert_err!(result, StoreError::Conflict, "duplicate version"),
            _ => assert_err!(result, StoreError::Conflict, "duplicate vault"),
        }
    }
    let mut expected = vec![vid(1)];
    expected.extend((0..60u64).filter(|n| n % 4 == 0).map(|n| vid(100 + n)));
    expected.sort();
    assert_eq!(
        ids(&all_versions(&*s, "alpha", SECRET, "s").await),
        expected
    );
    assert_eq!(
        get(&*s, "alpha", SECRET, "s", Some(&vid(1)))
            .await
            .unwrap()
            .version,
        version(1, T0)
    );
    for n in (0..60u64).filter(|n| n % 4 == 3) {
        assert_eq!(
            ok(s.meta(&format!("m{n}")).await, "meta"),
            Some(n.to_be_bytes().to_vec())
        );
    }
    assert_eq!(ok(s.list_vaults().await, "list_vaults").len(), 1);
}

/// Sets its flag when dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

async fn concurrent_readers_while_writing<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "s", &version(1, T0)).await;
    const LAST: u64 = 40;
    let done = Arc::new(AtomicBool::new(false));
    // Set when the writing below ends, even by a failed assertion, so readers always stop.
    let _stop_readers = SetOnDrop(done.clone());
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (s, done) = (s.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let mut last_seen = 1u64;
            let mut reads = 0u32;
            loop {
                let finished = done.load(Ordering::Acquire);
                let found = s
                    .version(&addr("alpha", SECRET, "s"), None)
                    .await
                    .unwrap()
                    .expect("the object exists throughout");
                let n = u64::from_str_radix(found.object.current_version.as_deref().unwrap(), 16)
                    .unwrap();
                assert!(n >= last_seen, "a read went back in time");
                assert_eq!(found.version, version(n, T0 + n as i64 - 1));
                last_seen = n;
                let listed = s
                    .list_versions(&addr("alpha", SECRET, "s"), None, 1000)
                    .await
                    .unwrap();
                // Versions are only added, so a later listing holds at least the versions up to
                // the current one seen just before.
                assert!(listed.len() as u64 >= n, "a listing lost versions");
                assert_eq!(
                    ids(&listed),
                    (1..=listed.len() as u64).map(vid).collect::<Vec<_>>()
                );
                reads += 1;
                if finished {
                    break;
                }
                tokio::task::yield_now().await;
            }
            (last_seen, reads)
        }));
    }
    for n in 2..=LAST {
        put(&*s, "alpha", SECRET, "s", &version(n, T0 + n as i64 - 1)).await;
        tokio::task::yield_now().await;
    }
    done.store(true, Ordering::Release);
    for (last_seen, reads) in join_all(readers).await {
        assert_eq!(last_seen, LAST, "a read after the last write saw it");
        assert!(reads >= 1);
    }
}

// ---- write batches ----

fn batch(items: Vec<BatchItem>) -> WriteBatch {
    WriteBatch { items, fence: None }
}

fn put_item(address: &ObjectAddress, n: u64) -> BatchItem {
    let v = version(n, T0 + n as i64);
    BatchItem::PutVersion {
        address: address.clone(),
        head: head(&v),
        version: v,
        managed_by: None,
    }
}

fn managed_put(address: &ObjectAddress, n: u64, manager: &ObjectAddress) -> BatchItem {
    let v = version(n, T0 + n as i64);
    BatchItem::PutVersion {
        address: address.clone(),
        head: head(&v),
        version: v,
        managed_by: Some(manager.clone()),
    }
}

fn document(owner: DocumentOwner, kind: &str, id: &str, data: &str) -> DocumentRecord {
    DocumentRecord {
        owner,
        kind: kind.to_owned(),
        id: id.to_owned(),
        data: data.as_bytes().to_vec(),
    }
}

fn vault_owner(vault: &str) -> DocumentOwner {
    DocumentOwner::Vault(vault.to_owned())
}

fn object_owner(vault: &str, kind: ObjectKind, name: &str) -> DocumentOwner {
    DocumentOwner::Object(addr(vault, kind, name))
}

fn message(topic: &str, n: u64) -> OutboxMessage {
    OutboxMessage {
        topic: topic.to_owned(),
        created: T0 + n as i64,
        payload: format!("payload-{n}").into_bytes(),
    }
}

async fn stored_document<S: Store>(
    s: &S,
    owner: &DocumentOwner,
    kind: &str,
    id: &str,
) -> Option<DocumentRecord> {
    ok(s.document(owner, kind, id).await, "document")
}

async fn pending_ids<S: Store>(s: &S) -> Vec<u64> {
    ok(s.outbox_pending(None, 10_000).await, "outbox_pending")
        .iter()
        .map(|r| r.id)
        .collect()
}

async fn batch_applies_items_in_order<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let a = addr("alpha", SECRET, "A");
    let b = addr("alpha", KEY, "b");
    // Read first (nothing yet), so that a store that keeps reads in memory has them to get wrong.
    assert!(get(&*s, "alpha", SECRET, "a", None).await.is_none());
    let outcomes = ok(
        s.write(&batch(vec![
            put_item(&a, 1),
            put_item(&b, 2),
            // Sees the object created by the first item.
            BatchItem::PutDocument(document(
                object_owner("alpha", SECRET, "a"),
                "policy",
                "p",
                "doc",
            )),
            BatchItem::Append(message("t", 1)),
            put_item(&a, 3),
            BatchItem::UpdateVersion {
                address: a.clone(),
                version: VersionRecord {
                    enabled: false,
                    ..version(1, T0 + 50)
                },
            },
        ]))
        .await,
        "write",
    );
    assert_eq!(outcomes.len(), 6);
    assert_eq!(outcomes[0], ItemOutcome::Object(active("A", &vid(1))));
    assert_eq!(outcomes[1], ItemOutcome::Object(active("b", &vid(2))));
    assert_eq!(outcomes[2], ItemOutcome::Done);
    assert!(matches!(outcomes[3], ItemOutcome::Appended(id) if id >= 1));
    assert_eq!(outcomes[4], ItemOutcome::Object(active("A", &vid(3))));
    assert_eq!(outcomes[5], ItemOutcome::Done);
    let current = get(&*s, "alpha", SECRET, "a", None).await.unwrap();
    assert_eq!(current.version, version(3, T0 + 3));
    assert_eq!(
        ids(&all_versions(&*s, "alpha", SECRET, "a").await),
        [vid(1), vid(3)]
    );
    let first = get(&*s, "alpha", SECRET, "a", Some(&vid(1))).await.unwrap();
    assert!(!first.version.enabled);
    assert_eq!(first.version.created, T0 + 1, "update keeps created");
    assert!(get(&*s, "alpha", KEY, "B", None).await.is_some());
    assert_eq!(
        stored_document(&*s, &object_owner("alpha", SECRET, "A"), "policy", "p")
            .await
            .map(|d| d.data),
        Some(b"doc".to_vec())
    );
    assert_eq!(pending_ids(&*s).await.len(), 1);
    // An empty batch is fine and writes nothing.
    assert_eq!(ok(s.write(&WriteBatch::new()).await, "empty write"), []);
}

async fn batch_failing_item_leaves_nothing_written<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "gone", &version(1, T0)).await;
    delete(&*s, "alpha", SECRET, "gone", T0 + 1).await;
    put(&*s, "alpha", SECRET, "kept", &version(2, T0)).await;
    let kept_before = get(&*s, "alpha", SECRET, "kept", None).await;
    let generation_before = generation(&*s).await;
    for (what, last) in [
        (
            "a deleted name",
            put_item(&addr("alpha", SECRET, "GONE"), 9),
        ),
        (
            "a duplicate version",
            put_item(&addr("alpha", SECRET, "kept"), 2),
        ),
        (
            "a missing document",
            BatchItem::DeleteDocument {
                owner: vault_owner("alpha"),
                kind: "k".into(),
                id: "absent".into(),
            },
        ),
    ] {
        let result = s
            .write(&batch(vec![
                put_item(&addr("alpha", SECRET, "new"), 3),
                put_item(&addr("alpha", SECRET, "kept"), 4),
                BatchItem::PutDocument(document(vault_owner("alpha"), "k", "d", "x")),
                BatchItem::Append(message("t", 1)),
                last,
            ]))
            .await;
        assert!(
            result.is_err(),
            "{what}: the batch must fail, got {result:?}"
        );
        assert!(
            get(&*s, "alpha", SECRET, "new", None).await.is_none(),
            "{what}: an object of a failed batch was created"
        );
        assert_eq!(
            get(&*s, "alpha", SECRET, "kept", None).await,
            kept_before,
            "{what}: a version of a failed batch was added"
        );
        assert_eq!(
            stored_document(&*s, &vault_owner("alpha"), "k", "d").await,
            None,
            "{what}: a document of a failed batch was written"
        );
        assert_eq!(
            pending_ids(&*s).await,
            Vec::<u64>::new(),
            "{what}: an outbox row of a failed batch was appended"
        );
    }
    assert_eq!(generation(&*s).await, generation_before);
}

async fn batch_items_fail_as_their_single_methods<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "live", &version(1, T0)).await;
    put(&*s, "alpha", SECRET, "gone", &version(2, T0)).await;
    delete(&*s, "alpha", SECRET, "gone", T0 + 1).await;
    let pending = |name: &str| BatchItem::CreatePending {
        address: addr("alpha", SECRET, name),
        head: b"pending".to_vec(),
        managed_by: None,
    };
    type Expect = fn(&StoreError) -> bool;
    let cases: Vec<(&str, BatchItem, Expect)> = vec![
        (
            "put in a missing vault",
            put_item(&addr("nope", SECRET, "x"), 1),
            |e| matches!(e, StoreError::NotFound),
        ),
        (
            "put on a deleted name",
            put_item(&addr("alpha", SECRET, "gone"), 3),
            |e| matches!(e, StoreError::Deleted),
        ),
        (
            "put of an existing version",
            put_item(&addr("alpha", SECRET, "live"), 1),
            |e| matches!(e, StoreError::Conflict),
        ),
        ("pending on a used name", pending("LIVE"), |e| {
            matches!(e, StoreError::Conflict)
        }),
        ("pending on a deleted name", pending("gone"), |e| {
            matches!(e, StoreError::Deleted)
        }),
        (
            "pending in a missing vault",
            BatchItem::CreatePending {
                address: addr("nope", SECRET, "x"),
                head: Vec::new(),
                managed_by: None,
            },
            |e| matches!(e, StoreError::NotFound),
        ),
        (
            "update of a missing version",
            BatchItem::UpdateVersion {
                address: addr("alpha", SECRET, "live"),
                version: version(7, T0),
            },
            |e| matches!(e, StoreError::NotFound),
        ),
        (
            "update on a deleted object",
            BatchItem::UpdateVersion {
                address: addr("alpha", SECRET, "gone"),
                version: version(2, T0),
            },
            |e| matches!(e, StoreError::Deleted),
        ),
        (
            "document of a deleted object",
            BatchItem::PutDocument(document(
                object_owner("alpha", SECRET, "gone"),
                "k",
                "i",
                "d",
            )),
            |e| matches!(e, StoreError::Deleted),
        ),
        (
            "document of a missing object",
            BatchItem::PutDocument(document(
                object_owner("alpha", SECRET, "absent"),
                "k",
                "i",
                "d",
            )),
            |e| matches!(e, StoreError::NotFound),
        ),
        (
            "document of a missing vault",
            BatchItem::PutDocument(document(vault_owner("nope"), "k", "i", "d")),
            |e| matches!(e, StoreError::NotFound),
        ),
        (
            "delete of a missing document",
            BatchItem::DeleteDocument {
                owner: vault_owner("alpha"),
                kind: "k".into(),
                id: "i".into(),
            },
            |e| matches!(e, StoreError::NotFound),
        ),
    ];
    for (what, item, expected) in cases {
        match s.write(&batch(vec![item])).await {
            Err(error) if expected(&error) => {}
            other => panic!("{what}: unexpected {other:?}"),
        }
    }
}

async fn batch_over_limits_is_invalid<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let big = DocumentRecord {
        data: vec![0; DOCUMENT_DATA_MAX + 1],
        ..document(vault_owner("alpha"), "k", "i", "")
    };
    let long_id = document(vault_owner("alpha"), "k", &"i".repeat(513), "d");
    let long_topic = OutboxMessage {
        topic: "t".repeat(65),
        ..message("t", 1)
    };
    for (what, item) in [
        ("document data", BatchItem::PutDocument(big)),
        ("document id", BatchItem::PutDocument(long_id)),
        ("outbox topic", BatchItem::Append(long_topic)),
    ] {
        assert_err!(
            s.write(&batch(vec![put_item(&addr("alpha", SECRET, "a"), 1), item]))
                .await,
            StoreError::Invalid(_),
            what
        );
        assert!(
            get(&*s, "alpha", SECRET, "a", None).await.is_none(),
            "{what}"
        );
    }
    let exact = DocumentRecord {
        data: vec![7; DOCUMENT_DATA_MAX],
        ..document(vault_owner("alpha"), &"k".repeat(64), &"i".repeat(512), "")
    };
    ok(
        s.write(&batch(vec![BatchItem::PutDocument(exact.clone())]))
            .await,
        "a document at the limits",
    );
    assert_eq!(
        stored_document(&*s, &exact.owner, &exact.kind, &exact.id).await,
        Some(exact)
    );
}

// ---- pending objects ----

async fn pending_object_has_no_current_version<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "a", &version(1, T0)).await;
    let cert = addr("alpha", ObjectKind::Certificate, "Cert");
    let outcomes = ok(
        s.write(&batch(vec![BatchItem::CreatePending {
            address: cert.clone(),
            head: b"pending-head".to_vec(),
            managed_by: None,
        }]))
        .await,
        "create pending",
    );
    let expected = ObjectRecord {
        name: "Cert".into(),
        current_version: None,
        head: b"pending-head".to_vec(),
        deleted: None,
        managed_by: None,
    };
    assert_eq!(outcomes, [ItemOutcome::Object(expected.clone())]);
    let lower = addr("alpha", ObjectKind::Certificate, "cert");
    assert_eq!(ok(s.object(&lower).await, "object"), Some(expected));
    assert_eq!(ok(s.version(&lower, None).await, "version"), None);
    assert_eq!(
        ok(s.list_versions(&lower, None, 10).await, "list_versions"),
        []
    );
    for which in [Listing::Active, Listing::Deleted] {
        assert!(
            all_objects(&*s, "alpha", ObjectKind::Certificate, which)
                .await
                .is_empty(),
            "listings leave pending objects out"
        );
    }
    // The first version makes it current and listed.
    let record = ok(
        s.put_version(&lower, &version(5, T0 + 5), &head(&version(5, T0 + 5)))
            .await,
        "put_version",
    );
    assert_eq!(record.current_version, Some(vid(5)));
    assert_eq!(record.name, "Cert");
    assert_eq!(
        names(&all_objects(&*s, "alpha", ObjectKind::Certificate, Listing::Active).await),
        ["Cert"]
    );
    assert_eq!(
        ok(s.object(&addr("alpha", SECRET, "a")).await, "object").and_then(|o| o.current_version),
        Some(vid(1))
    );
    assert_eq!(
        ok(s.object(&addr("alpha", SECRET, "zz")).await, "object"),
        None
    );
}

async fn pending_object_is_deleted_recovered_and_purged<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let cert = addr("alpha", ObjectKind::Certificate, "c");
    ok(
        s.write(&batch(vec![BatchItem::CreatePending {
            address: cert.clone(),
            head: Vec::new(),
            managed_by: None,
        }]))
        .await,
        "create pending",
    );
    let d = deletion(T0);
    let deleted = ok(s.delete_object(&cert, d).await, "delete_object");
    assert_eq!(deleted.deleted, Some(d));
    assert_eq!(deleted.current_version, None);
    let recovered = ok(s.recover_object(&cert).await, "recover_object");
    assert_eq!(recovered.deleted, None);
    ok(s.delete_object(&cert, d).await, "delete_object");
    ok(s.purge_object(&cert).await, "purge_object");
    assert_eq!(ok(s.object(&cert).await, "object"), None);
}

// ---- managed objects ----

async fn managed_by_is_stored_and_returned<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let cert = addr("alpha", ObjectKind::Certificate, "Web");
    let key = addr("alpha", KEY, "web");
    let secret = addr("alpha", SECRET, "WEB");
    let outcomes = ok(
        s.write(&batch(vec![
            put_item(&cert, 1),
            managed_put(&key, 2, &cert),
            managed_put(&secret, 3, &cert),
        ]))
        .await,
        "write",
    );
    match &outcomes[1] {
        ItemOutcome::Object(record) => assert_eq!(record.managed_by, Some(cert.clone())),
        other => panic!("unexpected {other:?}"),
    }
    for address in [&key, &secret] {
        let found = get(&*s, "alpha", address.kind, "web", None).await.unwrap();
        assert_eq!(found.object.managed_by, Some(cert.clone()), "{address}");
    }
    assert_eq!(
        get(&*s, "alpha", ObjectKind::Certificate, "web", None)
            .await
            .unwrap()
            .object
            .managed_by,
        None
    );
    // A later put naming the same manager (spelled otherwise) adds a version and keeps the link.
    let same = addr("alpha", ObjectKind::Certificate, "WEB");
    ok(
        s.write(&batch(vec![managed_put(&key, 4, &same)])).await,
        "write",
    );
    // A put naming no manager, or another one, cannot add to a managed object, and changes
    // nothing.
    assert_err!(
        s.put_version(&key, &version(5, T0), &head(&version(5, T0)))
            .await,
        StoreError::Conflict,
        "an unmanaged put on a managed object"
    );
    let found = get(&*s, "alpha", KEY, "web", None).await.unwrap();
    assert_eq!(found.object.managed_by, Some(cert.clone()));
    assert_eq!(found.object.current_version, Some(vid(4)));
    // Nor can a manager take over an object it does not manage.
    let plain = addr("alpha", SECRET, "api");
    let api = addr("alpha", ObjectKind::Certificate, "api");
    ok(
        s.put_version(&plain, &version(6, T0), &head(&version(6, T0)))
            .await,
        "put_version",
    );
    assert_err!(
        s.write(&batch(vec![
            put_item(&api, 7),
            managed_put(&plain, 8, &api)
        ]))
        .await,
        StoreError::Conflict,
        "a managed put on an unmanaged object"
    );
    let found = get(&*s, "alpha", SECRET, "api", None).await.unwrap();
    assert_eq!(
        (found.object.managed_by, found.object.current_version),
        (None, Some(vid(6)))
    );
    assert!(get(&*s, "alpha", ObjectKind::Certificate, "api", None)
        .await
        .is_none());
    // Listings carry it too.
    let listed = all_objects(&*s, "alpha", KEY, Listing::Active).await;
    assert_eq!(listed[0].object.managed_by, Some(cert));
}

async fn managed_by_must_share_vault_and_name<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    make_vault(&*s, "beta").await;
    let key = addr("alpha", KEY, "web");
    for (what, manager) in [
        (
            "another vault",
            addr("beta", ObjectKind::Certificate, "web"),
        ),
        (
            "another name",
            addr("alpha", ObjectKind::Certificate, "api"),
        ),
        ("the same kind", addr("alpha", KEY, "WEB")),
    ] {
        assert_err!(
            s.write(&batch(vec![managed_put(&key, 1, &manager)])).await,
            StoreError::Invalid(_),
            what
        );
        assert_err!(
            s.write(&batch(vec![BatchItem::CreatePending {
                address: key.clone(),
                head: Vec::new(),
                managed_by: Some(manager),
            }]))
            .await,
            StoreError::Invalid(_),
            what
        );
    }
    assert_eq!(ok(s.object(&key).await, "object"), None);
}

/// A certificate `web` managing key and secret `web`, and an unrelated key `api`.
async fn managed_family<S: Store>(s: &S) -> [ObjectAddress; 3] {
    make_vault(s, "alpha").await;
    let cert = addr("alpha", ObjectKind::Certificate, "web");
    let key = addr("alpha", KEY, "web");
    let secret = addr("alpha", SECRET, "web");
    ok(
        s.write(&batch(vec![
            put_item(&cert, 1),
            managed_put(&key, 2, &cert),
            managed_put(&secret, 3, &cert),
            put_item(&addr("alpha", KEY, "api"), 4),
        ]))
        .await,
        "write",
    );
    [cert, key, secret]
}

async fn deletion_of<S: Store>(s: &S, address: &ObjectAddress) -> Option<Deletion> {
    ok(s.object(address).await, "object")
        .unwrap_or_else(|| panic!("{address} is missing"))
        .deleted
}

async fn managed_objects_follow_their_manager_through_delete_and_recover<S: Store>(s: Arc<S>) {
    let [cert, key, secret] = managed_family(&*s).await;
    let api = addr("alpha", KEY, "api");
    // Read first, so that a store that keeps reads in memory has them to get wrong.
    for address in [&cert, &key, &secret] {
        assert!(get(&*s, "alpha", address.kind, "web", None).await.is_some());
    }
    let d = deletion(T0 + 10);
    ok(
        s.delete_object(&addr("alpha", ObjectKind::Certificate, "WEB"), d)
            .await,
        "delete_object",
    );
    for address in [&cert, &key, &secret] {
        assert_eq!(deletion_of(&*s, address).await, Some(d), "{address}");
        let read = get(&*s, "alpha", address.kind, "web", None).await.unwrap();
        assert_eq!(
            read.object.deleted,
            Some(d),
            "{address} read through version"
        );
    }
    assert_eq!(deletion_of(&*s, &api).await, None, "unmanaged objects stay");
    ok(s.recover_object(&cert).await, "recover_object");
    for address in [&cert, &key, &secret] {
        assert_eq!(deletion_of(&*s, address).await, None, "{address}");
        let read = get(&*s, "alpha", address.kind, "web", None).await.unwrap();
        assert_eq!(read.object.deleted, None, "{address} read through version");
    }
    // The cascade does not run upwards: deleting a managed object deletes it alone.
    ok(s.delete_object(&key, d).await, "delete_object");
    assert_eq!(deletion_of(&*s, &cert).await, None);
    assert_eq!(deletion_of(&*s, &secret).await, None);
    assert_eq!(deletion_of(&*s, &key).await, Some(d));
    // A managed object already deleted keeps its own deletion when its manager is deleted.
    let later = deletion(T0 + 20);
    ok(s.delete_object(&cert, later).await, "delete_object");
    assert_eq!(deletion_of(&*s, &key).await, Some(d));
    assert_eq!(deletion_of(&*s, &secret).await, Some(later));
}

async fn purging_a_manager_purges_what_it_manages<S: Store>(s: Arc<S>) {
    let [cert, key, secret] = managed_family(&*s).await;
    let d = deletion(T0);
    ok(s.delete_object(&cert, d).await, "delete_object");
    ok(s.purge_object(&cert).await, "purge_object");
    for address in [&cert, &key, &secret] {
        assert_eq!(ok(s.object(address).await, "object"), None, "{address}");
    }
    assert!(ok(s.object(&addr("alpha", KEY, "api")).await, "object").is_some());

    // purge_expired purges them too, and names them.
    let cert2 = addr("alpha", ObjectKind::Certificate, "two");
    let key2 = addr("alpha", KEY, "two");
    ok(
        s.write(&batch(vec![
            put_item(&cert2, 5),
            managed_put(&key2, 6, &cert2),
        ]))
        .await,
        "write",
    );
    // The key is deleted on its own with a later schedule, so only the certificate is due.
    ok(
        s.delete_object(&key2, deletion(T0 + DAY)).await,
        "delete_object",
    );
    ok(s.delete_object(&cert2, d).await, "delete_object");
    let purged = ok(s.purge_expired(d.scheduled_purge, 1).await, "purge_expired");
    let purged = purged_set(&purged);
    assert!(
        purged.contains(&("alpha".into(), ObjectKind::Certificate, "two".into())),
        "{purged:?}"
    );
    assert!(
        purged.contains(&("alpha".into(), KEY, "two".into())),
        "{purged:?}"
    );
    assert_eq!(ok(s.object(&key2).await, "object"), None);
}

// ---- documents ----

async fn documents_put_read_list_delete<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "Db", &version(1, T0)).await;
    let object = object_owner("alpha", SECRET, "Db");
    let vault = vault_owner("alpha");
    let put_docs = batch(vec![
        BatchItem::PutDocument(document(object.clone(), "rotation", "b", "1")),
        BatchItem::PutDocument(document(object.clone(), "rotation", "B", "2")),
        BatchItem::PutDocument(document(object.clone(), "rotation", "a", "3")),
        BatchItem::PutDocument(document(object.clone(), "other", "a", "4")),
        BatchItem::PutDocument(document(vault.clone(), "rotation", "a", "5")),
    ]);
    ok(s.write(&put_docs).await, "write");
    // The object is found by its name in any case; kinds and ids compare exactly.
    let any_case = object_owner("alpha", SECRET, "DB");
    let listed = ok(
        s.list_documents(&any_case, "rotation").await,
        "list_documents",
    );
    let ids: Vec<&str> = listed.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["B", "a", "b"], "byte order of ids, within the kind");
    assert_eq!(
        stored_document(&*s, &any_case, "rotation", "a")
            .await
            .map(|d| d.data),
        Some(b"3".to_vec())
    );
    assert_eq!(stored_document(&*s, &any_case, "Rotation", "a").await, None);
    assert_eq!(
        stored_document(&*s, &vault, "rotation", "a")
            .await
            .map(|d| d.data),
        Some(b"5".to_vec())
    );
    assert_eq!(
        ok(
            s.list_documents(&vault_owner("beta"), "rotation").await,
            "list"
        ),
        []
    );
    // Put replaces; delete removes.
    ok(
        s.write(&batch(vec![
            BatchItem::PutDocument(document(any_case.clone(), "rotation", "a", "new")),
            BatchItem::DeleteDocument {
                owner: object.clone(),
                kind: "rotation".into(),
                id: "b".into(),
            },
        ]))
        .await,
        "write",
    );
    assert_eq!(
        stored_document(&*s, &object, "rotation", "a")
            .await
            .map(|d| d.data),
        Some(b"new".to_vec())
    );
    assert_eq!(stored_document(&*s, &object, "rotation", "b").await, None);
    assert_eq!(
        ok(s.list_documents(&object, "other").await, "list").len(),
        1
    );
}

async fn documents_need_an_existing_owner<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    // Owned by a different kind of the same name: not the same owner.
    put(&*s, "alpha", KEY, "x", &version(1, T0)).await;
    assert_err!(
        s.write(&batch(vec![BatchItem::PutDocument(document(
            object_owner("alpha", SECRET, "x"),
            "k",
            "i",
            "d"
        ))]))
        .await,
        StoreError::NotFound,
        "document of a missing object"
    );
    ok(
        s.write(&batch(vec![BatchItem::PutDocument(document(
            object_owner("alpha", KEY, "X"),
            "k",
            "i",
            "d",
        ))]))
        .await,
        "document of the key",
    );
    assert_eq!(
        stored_document(&*s, &object_owner("alpha", SECRET, "x"), "k", "i").await,
        None
    );
}

async fn object_documents_follow_through_delete_recover_and_purge<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "db", &version(1, T0)).await;
    let owner = object_owner("alpha", SECRET, "db");
    let address = addr("alpha", SECRET, "db");
    ok(
        s.write(&batch(vec![BatchItem::PutDocument(document(
            owner.clone(),
            "k",
            "i",
            "d",
        ))]))
        .await,
        "write",
    );
    ok(
        s.delete_object(&address, deletion(T0)).await,
        "delete_object",
    );
    assert!(
        stored_document(&*s, &owner, "k", "i").await.is_some(),
        "documents stay readable while their object is deleted"
    );
    ok(
        s.write(&batch(vec![BatchItem::DeleteDocument {
            owner: owner.clone(),
            kind: "k".into(),
            id: "absent".into(),
        }]))
        .await
        .map(|_| ())
        .or_else(|e| match e {
            StoreError::NotFound => Ok(()),
            other => Err(other),
        }),
        "delete of a missing document of a deleted object",
    );
    ok(s.recover_object(&address).await, "recover_object");
    assert!(stored_document(&*s, &owner, "k", "i").await.is_some());
    ok(
        s.delete_object(&address, deletion(T0)).await,
        "delete_object",
    );
    ok(s.purge_object(&address).await, "purge_object");
    assert_eq!(stored_document(&*s, &owner, "k", "i").await, None);
    // A new object of the same name starts without documents.
    put(&*s, "alpha", SECRET, "DB", &version(2, T0)).await;
    assert_eq!(stored_document(&*s, &owner, "k", "i").await, None);
    assert_eq!(ok(s.list_documents(&owner, "k").await, "list"), []);
    // Expiry purges them too.
    ok(
        s.write(&batch(vec![BatchItem::PutDocument(document(
            owner.clone(),
            "k",
            "j",
            "d",
        ))]))
        .await,
        "write",
    );
    ok(
        s.delete_object(&address, deletion(T0)).await,
        "delete_object",
    );
    ok(
        s.purge_expired(deletion(T0).scheduled_purge, 10).await,
        "purge_expired",
    );
    put(&*s, "alpha", SECRET, "db", &version(3, T0)).await;
    assert_eq!(stored_document(&*s, &owner, "k", "j").await, None);
}

async fn vault_documents_go_with_the_vault<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    make_vault(&*s, "beta").await;
    put(&*s, "alpha", SECRET, "db", &version(1, T0)).await;
    ok(
        s.write(&batch(vec![
            BatchItem::PutDocument(document(vault_owner("alpha"), "contacts", "c", "1")),
            BatchItem::PutDocument(document(object_owner("alpha", SECRET, "db"), "k", "i", "2")),
            BatchItem::PutDocument(document(vault_owner("beta"), "contacts", "c", "3")),
        ]))
        .await,
        "write",
    );
    ok(s.delete_vault("alpha").await, "delete_vault");
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "db", &version(1, T0)).await;
    assert_eq!(
        stored_document(&*s, &vault_owner("alpha"), "contacts", "c").await,
        None
    );
    assert_eq!(
        stored_document(&*s, &object_owner("alpha", SECRET, "db"), "k", "i").await,
        None
    );
    assert!(
        stored_document(&*s, &vault_owner("beta"), "contacts", "c")
            .await
            .is_some(),
        "other vaults keep theirs"
    );
}

// ---- outbox ----

async fn outbox_rows_are_listed_in_append_order_and_removed_when_delivered<S: Store>(s: Arc<S>) {
    assert_eq!(pending_ids(&*s).await, Vec::<u64>::new());
    let mut appended = Vec::new();
    for round in 0..3u64 {
        let outcomes = ok(
            s.write(&batch(vec![
                BatchItem::Append(message("a", round * 2)),
                BatchItem::Append(message("b", round * 2 + 1)),
            ]))
            .await,
            "write",
        );
        for outcome in outcomes {
            match outcome {
                ItemOutcome::Appended(id) => appended.push(id),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(appended.windows(2).all(|w| w[0] < w[1]), "{appended:?}");
    assert!(appended[0] >= 1);
    let rows = ok(s.outbox_pending(None, 100).await, "outbox_pending");
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), appended);
    assert_eq!(rows[0].message, message("a", 0));
    assert_eq!(rows[5].message, message("b", 5));
    let page = ok(
        s.outbox_pending(Some(appended[1]), 2).await,
        "outbox_pending",
    );
    assert_eq!(
        page.iter().map(|r| r.id).collect::<Vec<_>>(),
        &appended[2..4]
    );
    let removed = ok(
        s.outbox_delivered(&[appended[0], appended[2], 999_999])
            .await,
        "outbox_delivered",
    );
    assert_eq!(removed, 2);
    assert_eq!(
        pending_ids(&*s).await,
        [appended[1], appended[3], appended[4], appended[5]]
    );
    assert_eq!(ok(s.outbox_delivered(&[appended[0]]).await, "again"), 0);
    // Ids are never reused, even once every row is delivered.
    ok(s.outbox_delivered(&appended).await, "outbox_delivered");
    assert_eq!(pending_ids(&*s).await, Vec::<u64>::new());
    let outcomes = ok(
        s.write(&batch(vec![BatchItem::Append(message("c", 9))]))
            .await,
        "write",
    );
    match outcomes[..] {
        [ItemOutcome::Appended(id)] => assert!(id > appended[5], "{id} reused"),
        ref other => panic!("unexpected {other:?}"),
    }
}

// ---- leases ----

const LEASE_TTL: std::time::Duration = std::time::Duration::from_millis(400);

async fn lease_is_exclusive_until_expiry<S: Store>(s: Arc<S>) {
    let a = ok(s.acquire_lease("purger", "a", LEASE_TTL).await, "acquire")
        .expect("a free lease is granted");
    assert_eq!(
        (a.name.as_str(), a.holder.as_str(), a.fence),
        ("purger", "a", 1)
    );
    assert_eq!(
        ok(s.acquire_lease("purger", "b", LEASE_TTL).await, "acquire"),
        None,
        "a held lease is not granted to another holder"
    );
    let renewed =
        ok(s.acquire_lease("purger", "a", LEASE_TTL).await, "renew").expect("the holder renews");
    assert_eq!(renewed.fence, a.fence, "a renewal keeps the fence");
    assert!(renewed.expires_at_ms >= a.expires_at_ms);
    // Leases are independent by name.
    assert!(ok(s.acquire_lease("rotation", "b", LEASE_TTL).await, "acquire").is_some());
    // Once expired on the store's clock, another holder gets it in a new term.
    tokio::time::sleep(LEASE_TTL * 2).await;
    let b = ok(s.acquire_lease("purger", "b", LEASE_TTL).await, "acquire")
        .expect("an expired lease is granted");
    assert_eq!(b.fence, a.fence + 1);
    assert_eq!(
        ok(s.acquire_lease("purger", "a", LEASE_TTL).await, "acquire"),
        None
    );
}

async fn lease_release_starts_a_new_term<S: Store>(s: Arc<S>) {
    let ttl = std::time::Duration::from_secs(60);
    let a = ok(s.acquire_lease("l", "a", ttl).await, "acquire").unwrap();
    assert!(ok(s.release_lease(&a.fence()).await, "release"));
    assert!(!ok(s.release_lease(&a.fence()).await, "release again"));
    let b = ok(s.acquire_lease("l", "b", ttl).await, "acquire").expect("a released lease is free");
    assert_eq!(b.fence, a.fence + 1);
    assert!(!ok(s.release_lease(&a.fence()).await, "a stale release"));
    assert_eq!(ok(s.acquire_lease("l", "a", ttl).await, "acquire"), None);
    assert!(ok(s.release_lease(&b.fence()).await, "release"));
    // Even the same holder starts a new term after a release.
    let again = ok(s.acquire_lease("l", "b", ttl).await, "acquire").unwrap();
    assert_eq!(again.fence, b.fence + 1);
    assert!(!ok(
        s.release_lease(&LeaseFence {
            name: "never".into(),
            fence: 1
        })
        .await,
        "release of an unknown lease"
    ));
}

async fn lease_arguments_are_checked<S: Store>(s: Arc<S>) {
    let ttl = std::time::Duration::from_secs(1);
    let long = "n".repeat(129);
    for (what, name, holder, ttl) in [
        ("empty name", "", "a", ttl),
        ("empty holder", "l", "", ttl),
        ("long name", long.as_str(), "a", ttl),
        ("long holder", "l", long.as_str(), ttl),
        ("zero ttl", "l", "a", std::time::Duration::ZERO),
    ] {
        assert_err!(
            s.acquire_lease(name, holder, ttl).await,
            StoreError::Invalid(_),
            what
        );
    }
    // Nothing was granted by the refused calls.
    let granted = ok(s.acquire_lease("l", "b", ttl).await, "acquire").unwrap();
    assert_eq!(granted.fence, 1);
}

async fn stale_fence_is_refused_in_a_batch<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    let a = ok(s.acquire_lease("bg", "a", LEASE_TTL).await, "acquire").unwrap();
    let fenced = |n: u64, fence: LeaseFence| {
        batch(vec![
            put_item(&addr("alpha", SECRET, &format!("s{n}")), n),
            BatchItem::Append(message("t", n)),
        ])
        .fenced(fence)
    };
    ok(
        s.write(&fenced(1, a.fence())).await,
        "a batch under a held fence",
    );
    assert!(get(&*s, "alpha", SECRET, "s1", None).await.is_some());
    assert_err!(
        s.write(&fenced(
            2,
            LeaseFence {
                name: "bg".into(),
                fence: a.fence + 1
            }
        ))
        .await,
        StoreError::LeaseLost,
        "a fence from the future"
    );
    assert_err!(
        s.write(&fenced(
            2,
            LeaseFence {
                name: "other".into(),
                fence: 1
            }
        ))
        .await,
        StoreError::LeaseLost,
        "a fence of a lease never granted"
    );
    // Expired: refused even though nobody else took the lease.
    tokio::time::sleep(LEASE_TTL * 2).await;
    assert_err!(
        s.write(&fenced(3, a.fence())).await,
        StoreError::LeaseLost,
        "an expired fence"
    );
    let b = ok(s.acquire_lease("bg", "b", LEASE_TTL).await, "acquire").unwrap();
    assert_err!(
        s.write(&fenced(4, a.fence())).await,
        StoreError::LeaseLost,
        "the previous holder's fence"
    );
    for n in 2..=4 {
        assert!(
            get(&*s, "alpha", SECRET, &format!("s{n}"), None)
                .await
                .is_none(),
            "a refused batch wrote s{n}"
        );
    }
    assert_eq!(pending_ids(&*s).await.len(), 1, "a refused batch appended");
    ok(
        s.write(&fenced(5, b.fence())).await,
        "the new holder's batch",
    );
    // Released: refused.
    assert!(ok(s.release_lease(&b.fence()).await, "release"));
    assert_err!(
        s.write(&fenced(6, b.fence())).await,
        StoreError::LeaseLost,
        "a released fence"
    );
}

// ---- close ----

async fn close_makes_every_call_unavailable<S: Store>(s: Arc<S>) {
    make_vault(&*s, "alpha").await;
    put(&*s, "alpha", SECRET, "a", &version(1, T0)).await;
    ok(s.close().await, "close");
    let a = addr("alpha", SECRET, "a");
    assert_err!(s.meta("k").await, StoreError::Unavailable(_), "meta");
    assert_err!(
        s.put_meta("k", b"v").await,
        StoreError::Unavailable(_),
        "put_meta"
    );
    assert_err!(s.vault("alpha").await, StoreError::Unavailable(_), "vault");
    assert_err!(
        s.version(&a, None).await,
        StoreError::Unavailable(_),
        "version"
    );
    assert_err!(
        s.put_version(&a, &version(2, T0), b"h").await,
        StoreError::Unavailable(_),
        "put_version"
    );
    assert_err!(
        s.write(&batch(vec![BatchItem::Append(message("t", 1))]))
            .await,
        StoreError::Unavailable(_),
        "write"
    );
    assert_err!(
        s.principal("c").await,
        StoreError::Unavailable(_),
        "principal"
    );
    assert_err!(
        s.outbox_pending(None, 1).await,
        StoreError::Unavailable(_),
        "outbox_pending"
    );
    assert_err!(
        s.acquire_lease("l", "h", LEASE_TTL).await,
        StoreError::Unavailable(_),
        "acquire_lease"
    );
    ok(s.close().await, "a second close");
}
