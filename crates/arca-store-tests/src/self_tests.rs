//! The suite judged against itself: the in-memory reference store must pass it (bare and behind
//! `CachedStore`), and the same store with one deliberate flaw must fail it, naming the case
//! that caught it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::conformance::{run_all, run_matching, CASE_NAMES};
use crate::memory::{Flaw, MemoryStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cached_reference_store_passes() {
    run_all(|| {
        std::future::ready(arca_store::CachedStore::new(
            Arc::new(MemoryStore::new()),
            arca_store::cache::DEFAULT_BUDGET_BYTES,
        ))
    })
    .await;
}

/// Runs the suite against a store with `flaw` and returns the failure message, if any.
async fn failure_with(flaw: Flaw) -> Option<String> {
    let outcome = tokio::spawn(run_all(move || {
        std::future::ready(MemoryStore::flawed(flaw))
    }))
    .await;
    match outcome {
        Ok(()) => None,
        Err(error) => {
            let payload = error.into_panic();
            Some(
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_default(),
            )
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_store_passes() {
    assert_eq!(failure_with(Flaw::None).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flaw_is_caught_by_name() {
    let expectations = [
        (
            Flaw::KeepsLatestSpelling,
            "put_version_names_are_case_insensitive_and_keep_first_spelling",
        ),
        (Flaw::UpdateReplacesCreated, "update_version_keeps_created"),
        (Flaw::PurgeIgnoresLimit, "purge_expired_respects_limit"),
        (
            Flaw::InclusiveAfter,
            "list_objects_pages_by_lower_case_name",
        ),
        (
            Flaw::DuplicateVersionOverwrites,
            "put_version_duplicate_id_is_conflict",
        ),
        (
            Flaw::VaultDeleteKeepsObjects,
            "vault_delete_cascades_to_objects",
        ),
        (
            Flaw::MetaIfAbsentOverwrites,
            "meta_put_if_absent_race_has_one_winner",
        ),
        (
            Flaw::PolicyCreateOverwrites,
            "policy_create_read_and_conflict",
        ),
        (
            Flaw::PolicyKeysIgnoreCase,
            "policy_keys_are_compared_exactly",
        ),
        (
            Flaw::PolicyListIgnoresKind,
            "policy_list_is_ordered_by_id_within_kind",
        ),
        (
            Flaw::DeleteAccessNotAtomic,
            "delete_access_missing_principal_changes_nothing",
        ),
        (
            Flaw::GenerationCountsFailedWrites,
            "access_generation_ignores_failed_writes",
        ),
        (
            Flaw::PrincipalWritesKeepGeneration,
            "access_generation_counts_each_access_write",
        ),
        (
            Flaw::BatchNotAtomic,
            "batch_failing_item_leaves_nothing_written",
        ),
        (
            Flaw::PurgeKeepsDocuments,
            "object_documents_follow_through_delete_recover_and_purge",
        ),
        (
            Flaw::VaultDeleteKeepsDocuments,
            "vault_documents_go_with_the_vault",
        ),
        (
            Flaw::ListsPendingObjects,
            "pending_object_has_no_current_version",
        ),
        (
            Flaw::DeleteSkipsManaged,
            "managed_objects_follow_their_manager_through_delete_and_recover",
        ),
        (
            Flaw::RecoverSkipsManaged,
            "managed_objects_follow_their_manager_through_delete_and_recover",
        ),
        (
            Flaw::OutboxNewestFirst,
            "outbox_rows_are_listed_in_append_order_and_removed_when_delivered",
        ),
        (
            Flaw::OutboxKeepsDelivered,
            "outbox_rows_are_listed_in_append_order_and_removed_when_delivered",
        ),
        (Flaw::LeaseNotExclusive, "lease_is_exclusive_until_expiry"),
        (Flaw::FenceNeverGrows, "lease_release_starts_a_new_term"),
        (Flaw::BatchIgnoresFence, "stale_fence_is_refused_in_a_batch"),
        (Flaw::CloseIgnored, "close_makes_every_call_unavailable"),
    ];
    for (flaw, case) in expectations {
        let message = failure_with(flaw)
            .await
            .unwrap_or_else(|| panic!("{flaw:?} went unnoticed"));
        assert!(
            message.contains(&format!("\n  {case}: ")),
            "{flaw:?} was not caught by {case}: {message}"
        );
    }
}

#[tokio::test]
async fn case_names_are_unique_and_selectable() {
    let unique: BTreeSet<&str> = CASE_NAMES.iter().copied().collect();
    assert_eq!(unique.len(), CASE_NAMES.len());
    assert!(CASE_NAMES.len() >= 90);
    // A filter selects a subset; here it is a case the reference store passes.
    run_matching(
        |name| name == "meta_absent_is_none",
        || std::future::ready(MemoryStore::new()),
    )
    .await;
}

#[tokio::test]
#[should_panic(expected = "no conformance case matched")]
async fn an_empty_selection_fails() {
    run_matching(|_| false, || std::future::ready(MemoryStore::new())).await;
}
