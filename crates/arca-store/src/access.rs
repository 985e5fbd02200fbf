//! Access control as stored: principals (clients) and access-control documents, and the access
//! generation that tells caches of them when to reload.

use async_trait::async_trait;

use crate::{StoreError, StoreResult};

/// A principal (client) as stored. `data` is an opaque document owned by the server (display
/// name, secret hashes, ...); the store only keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct PrincipalRecord {
    /// The client (application) id; unique, compared exactly.
    pub client_id: String,
    /// The object id placed in tokens (`oid`); unique.
    pub object_id: String,
    pub created: i64,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for PrincipalRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalRecord")
            .field("client_id", &self.client_id)
            .field("object_id", &self.object_id)
            .field("created", &self.created)
            .field("data", &format_args!("[{} bytes]", self.data.len()))
            .finish()
    }
}

/// The longest [`PolicyRecord::kind`], in bytes of UTF-8.
pub const POLICY_KIND_MAX: usize = 64;
/// The longest [`PolicyRecord::id`], in bytes of UTF-8.
pub const POLICY_ID_MAX: usize = 512;
/// The largest [`PolicyRecord::data`], in bytes (1 MiB).
pub const POLICY_DATA_MAX: usize = 1 << 20;

/// An access-control document: a custom role, a role assignment, a federated credential, a
/// network rule set, the token signing keys... `kind` and `id` identify it; `data` is an opaque
/// document owned by the server (it may be sealed ciphertext); the store only keeps it.
///
/// `kind` and `id` are compared exactly (case-sensitive, byte for byte) and may be any UTF-8
/// string of at most [`POLICY_KIND_MAX`] and [`POLICY_ID_MAX`] bytes (the empty string included);
/// `data` is at most [`POLICY_DATA_MAX`] bytes. Every method given a longer kind, id or data
/// fails with [`StoreError::Invalid`] before reading or changing anything.
#[derive(Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    pub kind: String,
    pub id: String,
    pub data: Vec<u8>,
}

impl PolicyRecord {
    /// `Invalid` unless `kind`, `id` and `data` are within the limits above. Backends call it
    /// (and the server may) before any work.
    pub fn check_limits(&self) -> StoreResult<()> {
        check_policy_key(&self.kind, &self.id)?;
        if self.data.len() > POLICY_DATA_MAX {
            return Err(StoreError::Invalid(format!(
                "policy data is larger than {POLICY_DATA_MAX} bytes"
            )));
        }
        Ok(())
    }
}

impl std::fmt::Debug for PolicyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyRecord")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("data", &format_args!("[{} bytes]", self.data.len()))
            .finish()
    }
}

/// `Invalid` unless `kind` is at most [`POLICY_KIND_MAX`] bytes and `id` at most
/// [`POLICY_ID_MAX`] bytes. The message names the limit, never the value.
pub fn check_policy_key(kind: &str, id: &str) -> StoreResult<()> {
    if kind.len() > POLICY_KIND_MAX {
        return Err(StoreError::Invalid(format!(
            "policy kind is longer than {POLICY_KIND_MAX} bytes"
        )));
    }
    if id.len() > POLICY_ID_MAX {
        return Err(StoreError::Invalid(format!(
            "policy id is longer than {POLICY_ID_MAX} bytes"
        )));
    }
    Ok(())
}

/// Principals and access-control documents.
///
/// Access control: principals and access-control documents ([`PolicyRecord`], addressed by
/// `(kind, id)`, both compared exactly) are what the server's authorization reads. Every
/// successful write to either advances one counter, [`AccessStore::access_generation`], in the
/// same transaction, so a cache of them knows it is stale by polling one number.
#[async_trait]
pub trait AccessStore: Send + Sync {
    // ---- principals ----
    //
    // Each successful create, update or delete advances the access generation by one, in the
    // same transaction (see `access_generation`).

    /// Creates a principal. `Conflict` if the client id or object id is taken.
    async fn create_principal(&self, principal: &PrincipalRecord) -> StoreResult<()>;

    /// Replaces the `data` of an existing principal (its ids and `created` are kept as stored).
    /// `NotFound` if there is none. Counts as a change even if `data` is the same.
    async fn update_principal(&self, principal: &PrincipalRecord) -> StoreResult<()>;

    /// The principal with this client id, or `None`.
    async fn principal(&self, client_id: &str) -> StoreResult<Option<PrincipalRecord>>;

    /// All principals, ordered by client id.
    async fn list_principals(&self) -> StoreResult<Vec<PrincipalRecord>>;

    /// Deletes a principal. `NotFound` if there is none.
    async fn delete_principal(&self, client_id: &str) -> StoreResult<()>;

    // ---- access control ----
    //
    // Documents are addressed by `(kind, id)`, compared exactly. Every method here fails with
    // `Invalid`, before reading or changing anything, if a kind, id or data it is given is over
    // the limits stated on `PolicyRecord`.

    /// Creates the document `(record.kind, record.id)`. `Conflict` if a document with that kind
    /// and id exists (it is left unchanged).
    async fn create_policy(&self, record: &PolicyRecord) -> StoreResult<()>;

    /// Creates the document `(record.kind, record.id)`, or replaces the `data` of the one that
    /// exists. Counts as a change even if `data` is the same.
    async fn put_policy(&self, record: &PolicyRecord) -> StoreResult<()>;

    /// The document `(kind, id)`, or `None`.
    async fn policy(&self, kind: &str, id: &str) -> StoreResult<Option<PolicyRecord>>;

    /// All documents of exactly this kind, ordered by id in byte order (so `"B" < "a"`); empty
    /// if there are none.
    async fn list_policies(&self, kind: &str) -> StoreResult<Vec<PolicyRecord>>;

    /// Deletes the document `(kind, id)`. `NotFound` if there is none.
    async fn delete_policy(&self, kind: &str, id: &str) -> StoreResult<()>;

    /// Deletes several documents and/or one principal in one transaction: every listed
    /// `(kind, id)` that exists is removed (absent ones, and repeats, are ignored), and if
    /// `principal` is `Some(client_id)` that principal is removed too. `NotFound` if that
    /// principal does not exist, and then nothing at all changes (no document is removed, the
    /// access generation stays). Any successful call advances the access generation by exactly
    /// one, even if it found nothing to remove.
    async fn delete_access(
        &self,
        policies: &[(String, String)],
        principal: Option<&str>,
    ) -> StoreResult<()>;

    /// A counter that grows by exactly one with every successful call of `create_principal`,
    /// `update_principal`, `delete_principal`, `create_policy`, `put_policy`, `delete_policy`
    /// and `delete_access`, committed in the same transaction as that write: once either the
    /// write or the new value is visible to a reader, so is the other. Failed writes leave it
    /// unchanged, and no other method changes it (vault, object and metadata writes included).
    /// It is 0 on a new store and is stored with the data, so it survives reopening. Caches of
    /// principals and documents poll it to know when to reload.
    async fn access_generation(&self) -> StoreResult<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, id: &str, data: Vec<u8>) -> PolicyRecord {
        PolicyRecord {
            kind: kind.to_owned(),
            id: id.to_owned(),
            data,
        }
    }

    #[test]
    fn policy_debug_prints_the_length_of_data_not_data() {
        let shown = format!("{:?}", record("role", "reader", b"top-secret-doc".to_vec()));
        assert_eq!(
            shown,
            r#"PolicyRecord { kind: "role", id: "reader", data: [14 bytes] }"#
        );
        assert!(!shown.contains("top-secret"));
    }

    #[test]
    fn policy_limits_are_inclusive_and_counted_in_bytes() {
        let kind = "k".repeat(POLICY_KIND_MAX);
        let id = "i".repeat(POLICY_ID_MAX);
        record(&kind, &id, vec![0; POLICY_DATA_MAX])
            .check_limits()
            .unwrap();
        record("", "", Vec::new()).check_limits().unwrap();
        let too_long = [
            record(&format!("{kind}k"), "i", Vec::new()),
            // 33 two-byte characters: 66 bytes, though only 33 characters.
            record(&"é".repeat(33), "i", Vec::new()),
            record("k", &format!("{id}i"), Vec::new()),
            record("k", "i", vec![0; POLICY_DATA_MAX + 1]),
        ];
        for bad in too_long {
            match bad.check_limits() {
                Err(StoreError::Invalid(message)) => {
                    assert!(!message.contains("kkk") && !message.contains("iii"));
                }
                other => panic!("expected Invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_display_names_the_limit_only() {
        let error = check_policy_key("role", &"secret-id-".repeat(60)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid storage request: policy id is longer than 512 bytes"
        );
    }
}
