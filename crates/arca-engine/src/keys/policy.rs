//! A key's rotation policy: a sealed document owned by the key (it follows the key through
//! delete, recover and purge), validated by Key Vault's rules, and its `expiryTime` read by
//! rotation. Running the policy is `rotation`'s business.
//!
//! Rules, as Key Vault states them: `expiryTime` is an ISO-8601 duration of at least 28 days; at
//! most one `Rotate` and one `Notify` action (types compared ignoring case); each action has
//! exactly one trigger; `Rotate` fires at least 7 days after creation (`timeAfterCreate`) or at
//! least 7 days before expiry (`timeBeforeExpiry`), and, with an `expiryTime`, at least 7 days
//! before that expiry; `Notify` fires only before expiry (`timeBeforeExpiry`).

use arca_core::{ObjectAddress, ObjectName, Operation};
use arca_proto::keys::{
    KeyRotationPolicy, KeyRotationPolicyAttributes, LifetimeAction, LifetimeActionTrigger,
    LifetimeActionType,
};
use arca_store::{BatchItem, DocumentOwner, DocumentRecord, StoreError, VaultRecord, WriteBatch};

use super::KIND;
use crate::objects::{self, require_object};
use crate::{Authorized, Engine, EngineError, EngineResult};

/// The document kind and id of a key's rotation policy.
const DOCUMENT_KIND: &str = "rotationpolicy";
const DOCUMENT_ID: &str = "";
/// The field its sealing binds (with vault, kind and name; no version).
const SEALED_FIELD: &str = "document/rotationpolicy";

const DAY: i64 = 24 * 60 * 60;
const MIN_EXPIRY: i64 = 28 * DAY;
const MIN_TRIGGER: i64 = 7 * DAY;

fn invalid(message: &str) -> EngineError {
    EngineError::Invalid(message.to_owned())
}

/// Seconds in an ISO-8601 duration (`P1Y2M3W4DT5H6M7S`; a year is 365 days and a month 30, as
/// a policy measures them); `None` when it is not one or is zero.
pub(crate) fn duration_seconds(text: &str) -> Option<i64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total: i64 = 0;
    let parts = [
        (
            date,
            &[
                ('Y', 365 * DAY),
                ('M', 30 * DAY),
                ('W', 7 * DAY),
                ('D', DAY),
            ][..],
        ),
        (time.unwrap_or(""), &[('H', 3600), ('M', 60), ('S', 1)][..]),
    ];
    for (mut text, units) in parts {
        let mut allowed = units.iter();
        while !text.is_empty() {
            let end = text.find(|c: char| !c.is_ascii_digit())?;
            let number: i64 = text.get(..end)?.parse().ok()?;
            let designator = text.get(end..)?.chars().next()?;
            // Designators must come in order, each at most once.
            let &(_, unit) = allowed.by_ref().find(|(d, _)| *d == designator)?;
            total = total.checked_add(number.checked_mul(unit)?)?;
            text = text.get(end + 1..)?;
        }
    }
    (total > 0 && !rest.is_empty()).then_some(total)
}

fn duration(text: &str, member: &str) -> EngineResult<i64> {
    duration_seconds(text).ok_or_else(|| {
        EngineError::Invalid(format!(
            "{member} must be an ISO-8601 duration such as P90D."
        ))
    })
}

/// The policy as it will be stored: validated, action types in Key Vault's spelling, no id and
/// no read-only attributes.
pub(crate) fn validated(policy: KeyRotationPolicy) -> EngineResult<KeyRotationPolicy> {
    let expiry_time = policy.attributes.and_then(|a| a.expiry_time);
    let expiry = match &expiry_time {
        Some(text) => Some(duration(text, "expiryTime")?),
        None => None,
    };
    if expiry.is_some_and(|e| e < MIN_EXPIRY) {
        return Err(invalid("expiryTime must be at least 28 days (P28D)."));
    }
    let mut actions = Vec::new();
    let (mut rotate, mut notify) = (false, false);
    for action in policy.lifetime_actions.unwrap_or_default() {
        let kind = action.action.kind.to_ascii_lowercase();
        let seen = match kind.as_str() {
            "rotate" => &mut rotate,
            "notify" => &mut notify,
            _ => {
                return Err(invalid(
                    "A lifetime action's type must be Rotate or Notify.",
                ))
            }
        };
        if std::mem::replace(seen, true) {
            return Err(invalid(
                "A rotation policy may have at most one Rotate and one Notify action.",
            ));
        }
        let trigger = &action.trigger;
        let fires =
            match (&trigger.time_after_create, &trigger.time_before_expiry) {
                (Some(after), None) if kind == "rotate" => duration(after, "timeAfterCreate")?,
                (Some(_), None) => {
                    return Err(invalid(
                        "A Notify action fires only before expiry (timeBeforeExpiry).",
                    ))
                }
                (None, Some(before)) => duration(before, "timeBeforeExpiry")?,
                _ => return Err(invalid(
                    "A lifetime action needs exactly one of timeAfterCreate and timeBeforeExpiry.",
                )),
            };
        if fires < MIN_TRIGGER {
            return Err(invalid(
                "A lifetime action's trigger must be at least 7 days (P7D).",
            ));
        }
        if expiry.is_some_and(|e| e - fires < MIN_TRIGGER) {
            return Err(invalid(
                "A lifetime action's trigger must leave at least 7 days between creation and expiry.",
            ));
        }
        actions.push(LifetimeAction {
            trigger: LifetimeActionTrigger {
                time_after_create: trigger.time_after_create.clone(),
                time_before_expiry: trigger.time_before_expiry.clone(),
            },
            action: LifetimeActionType {
                kind: if kind == "rotate" { "Rotate" } else { "Notify" }.to_owned(),
            },
        });
    }
    Ok(KeyRotationPolicy {
        id: None,
        lifetime_actions: Some(actions),
        attributes: Some(KeyRotationPolicyAttributes {
            expiry_time,
            created: None,
            updated: None,
        }),
    })
}

/// What a key without a policy answers: Key Vault's default, a notification 30 days before
/// expiry.
fn default_policy() -> KeyRotationPolicy {
    KeyRotationPolicy {
        id: None,
        lifetime_actions: Some(vec![LifetimeAction {
            trigger: LifetimeActionTrigger {
                time_after_create: None,
                time_before_expiry: Some("P30D".to_owned()),
            },
            action: LifetimeActionType {
                kind: "Notify".to_owned(),
            },
        }]),
        attributes: Some(KeyRotationPolicyAttributes::default()),
    }
}

fn owner(vault: &str, name: &ObjectName) -> DocumentOwner {
    DocumentOwner::Object(ObjectAddress::new(vault, KIND, name.as_str()))
}

/// The stored policy of a key, if any. Callers have checked their proof.
async fn stored(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
) -> EngineResult<Option<KeyRotationPolicy>> {
    let Some(document) = engine
        .store()
        .document(&owner(vault, name), DOCUMENT_KIND, DOCUMENT_ID)
        .await?
    else {
        return Ok(None);
    };
    let plain = objects::open_field(engine, vault, KIND, name, "", SEALED_FIELD, &document.data)
        .map_err(|_| {
            crate::integrity::refused_object(vault, KIND, name.key(), "", "rotation policy");
            EngineError::Internal
        })?;
    serde_json::from_slice(plain.expose())
        .map(Some)
        .map_err(|_| {
            tracing::error!(vault, "a stored rotation policy does not parse");
            EngineError::Internal
        })
}

/// The `expiryTime` of a key's policy, in seconds, for rotation. Callers have checked their
/// proof.
pub(super) async fn expiry_seconds(
    engine: &Engine,
    vault: &str,
    name: &ObjectName,
) -> EngineResult<Option<i64>> {
    let policy = stored(engine, vault, name).await?;
    Ok(policy
        .and_then(|p| p.attributes)
        .and_then(|a| a.expiry_time)
        .and_then(|text| duration_seconds(&text)))
}

/// The rotation policy of an active key (Key Vault's default when none was set).
pub async fn rotation_policy(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
) -> EngineResult<KeyRotationPolicy> {
    require_object(auth, Operation::KeyRotationPolicyGet, &vault.name, name)?;
    objects::active(engine, &vault.name, KIND, name, None).await?;
    Ok(stored(engine, &vault.name, name)
        .await?
        .unwrap_or_else(default_policy))
}

/// Replaces the rotation policy of an active key; returns it as stored.
pub async fn update_rotation_policy(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    policy: KeyRotationPolicy,
) -> EngineResult<KeyRotationPolicy> {
    require_object(auth, Operation::KeyRotationPolicySet, &vault.name, name)?;
    let mut policy = validated(policy)?;
    objects::active(engine, &vault.name, KIND, name, None).await?;
    let now = engine.now();
    let created = stored(engine, &vault.name, name)
        .await?
        .and_then(|p| p.attributes)
        .and_then(|a| a.created)
        .unwrap_or(now);
    if let Some(attributes) = policy.attributes.as_mut() {
        attributes.created = Some(created);
        attributes.updated = Some(now);
    }
    let json = serde_json::to_vec(&policy).map_err(|_| EngineError::Internal)?;
    let data = objects::seal_field(engine, &vault.name, KIND, name, "", SEALED_FIELD, &json)?;
    let mut batch = WriteBatch::new();
    batch.push(BatchItem::PutDocument(DocumentRecord {
        owner: owner(&vault.name, name),
        kind: DOCUMENT_KIND.to_owned(),
        id: DOCUMENT_ID.to_owned(),
        data,
    }));
    match engine.store().write(&batch).await {
        Ok(_) => Ok(policy),
        Err(StoreError::NotFound | StoreError::Deleted) => Err(objects::not_found(KIND, name)),
        Err(e) => Err(e.into()),
    }
}
