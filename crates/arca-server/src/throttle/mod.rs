//! Per-vault throttling in Key Vault's form (`arca_core::throttle` has the buckets, weights and
//! limits; `window.rs` the counting). [`Throttle`] holds every vault's windows, found through a
//! sharded map and each behind its own short lock, so requests to different vaults never wait on
//! each other and no request touches storage: a vault's setting comes from the access snapshot
//! (sealed `throttle` policy documents, refreshed with the rest of access state, so a change
//! made through any replica applies everywhere within a second), else from the deployment's
//! default (`throttle` in the configuration).
//!
//! The data plane asks [`Throttle::admit`] once per request, after the operation is known and
//! authorized and before its body is read; a refused request gets 429 `Throttled` with
//! `Retry-After` and counts nothing. Counts are per process: with several replicas behind a
//! balancer each enforces the limits on what it serves.
//!
//! Key operations weigh by key type and size, which the route learns only when the engine's
//! answer names the key: each vault remembers the class of the keys its answers named (by name,
//! bounded), a key operation is admitted at its key's remembered weight (1 when unknown), and when
//! an answer shows the key weighs more than admitted, the difference is charged at once.

mod window;

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use arca_core::authz::Snapshot;
use arca_core::throttle::{Bucket, KeyClass, ThrottleSettings};
use arca_core::Operation;

use window::VaultWindows;

/// Shards of the vault map.
const SHARDS: usize = 16;
/// Most key classes remembered per vault; past it the memory starts over.
const MAX_KEY_CLASSES: usize = 10_000;

/// One vault's counts and the classes of its keys.
struct VaultState {
    windows: VaultWindows,
    /// By lower-case key name.
    key_classes: HashMap<Box<str>, KeyClass>,
}

type Shard = RwLock<HashMap<Box<str>, Arc<Mutex<VaultState>>>>;

/// Every vault's throttling state.
pub struct Throttle {
    default: ThrottleSettings,
    epoch: Instant,
    hasher: std::collections::hash_map::RandomState,
    shards: Box<[Shard]>,
}

/// What a request was admitted at: the rest of a key's weight is charged against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Admission {
    pub bucket: Bucket,
    pub weight: u32,
}

/// A refusal: the bucket whose limit was reached, and when to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Throttled {
    pub bucket: Bucket,
    pub fair_share: bool,
    pub retry_after: u32,
}

impl Throttle {
    /// Throttling with `default` for vaults that have no setting of their own.
    pub fn new(default: ThrottleSettings) -> Self {
        Throttle {
            default,
            epoch: Instant::now(),
            hasher: Default::default(),
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
        }
    }

    /// The deployment's setting.
    pub fn default_settings(&self) -> ThrottleSettings {
        self.default
    }

    /// The setting that governs `vault`: its own, else the deployment's.
    pub fn settings(&self, snapshot: &Snapshot, vault: &str) -> ThrottleSettings {
        snapshot
            .throttle
            .get(vault)
            .copied()
            .unwrap_or(self.default)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn shard(&self, vault: &str) -> &Shard {
        &self.shards[(self.hasher.hash_one(vault) as usize) % SHARDS]
    }

    /// The state of `vault`, made on first use.
    fn vault(&self, vault: &str) -> Arc<Mutex<VaultState>> {
        let shard = self.shard(vault);
        if let Some(v) = shard.read().unwrap_or_else(|p| p.into_inner()).get(vault) {
            return Arc::clone(v);
        }
        let mut map = shard.write().unwrap_or_else(|p| p.into_inner());
        let now = self.now();
        Arc::clone(map.entry(vault.into()).or_insert_with(|| {
            Arc::new(Mutex::new(VaultState {
                windows: VaultWindows::new(now),
                key_classes: HashMap::new(),
            }))
        }))
    }

    /// Admits `operation` by `caller` (an object id) on `vault` (and the key `key`, for key
    /// operations on one key), or refuses it. `None` when the vault's throttling is off.
    pub(crate) fn admit(
        &self,
        snapshot: &Snapshot,
        vault: &str,
        caller: &str,
        operation: Operation,
        key: Option<&str>,
    ) -> Result<Option<Admission>, Throttled> {
        let settings = self.settings(snapshot, vault);
        if !settings.enabled {
            return Ok(None);
        }
        let bucket = Bucket::of(operation);
        let limit = settings.limits().of(bucket);
        let state = self.vault(vault);
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        let weight = match (bucket, key) {
            (Bucket::KeyCreate | Bucket::KeyOther, Some(name)) => state
                .key_classes
                .get(name.to_ascii_lowercase().as_str())
                .map_or(1, |class| class.weight(bucket)),
            _ => 1,
        };
        let now = self.now();
        match state.windows.admit(now, bucket, caller, weight, limit) {
            Ok(()) => Ok(Some(Admission { bucket, weight })),
            Err(r) => Err(Throttled {
                bucket: r.bucket,
                fair_share: r.fair_share,
                retry_after: r.retry_after,
            }),
        }
    }

    /// Notes that `vault`'s key `name` is of `class`, and charges what a request admitted at
    /// `admitted` owes beyond it now that its key is known.
    pub(crate) fn key_seen(
        &self,
        vault: &str,
        caller: &str,
        name: &str,
        class: KeyClass,
        admitted: Option<Admission>,
    ) {
        let state = self.vault(vault);
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        let name = name.to_ascii_lowercase();
        if state.key_classes.get(name.as_str()) != Some(&class) {
            if state.key_classes.len() >= MAX_KEY_CLASSES {
                state.key_classes.clear();
            }
            state.key_classes.insert(name.into(), class);
        }
        if let Some(a) = admitted {
            let owed = class.weight(a.bucket).saturating_sub(a.weight);
            if owed > 0 {
                let now = self.now();
                state.windows.charge(now, a.bucket, caller, owed);
            }
        }
    }

    /// Forgets a deleted vault's counts.
    pub fn forget(&self, vault: &str) {
        self.shard(vault)
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(vault);
    }
}

/// The class of a key from its public JWK: its type and, for RSA, the modulus size (from the
/// length of the base64url `n`, rounded down to a multiple of 256 bits so a leading zero byte
/// does not move a key up a class).
pub(crate) fn key_class(key: &arca_proto::keys::JsonWebKey) -> KeyClass {
    let bits = key.n.as_ref().map(|n| {
        let bytes = n.trim_end_matches('=').len() * 3 / 4;
        u32::try_from(bytes * 8 / 256 * 256).unwrap_or(u32::MAX)
    });
    KeyClass::new(&key.kty, bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_settings_come_from_the_snapshot_else_the_deployment() {
        let t = Throttle::new(ThrottleSettings::default());
        let mut snapshot = Snapshot::default();
        snapshot
            .throttle
            .insert("quiet".into(), ThrottleSettings::OFF);
        let low = ThrottleSettings::scaled(0.01).unwrap();
        snapshot.throttle.insert("low".into(), low);
        let set = |vault: &str| {
            (0..400)
                .filter(|_| {
                    t.admit(&snapshot, vault, "c", Operation::SecretSet, None)
                        .is_ok()
                })
                .count()
        };
        assert_eq!(set("default"), 300);
        assert_eq!(set("quiet"), 400);
        assert_eq!(set("low"), 3);
        assert_eq!(
            t.admit(&snapshot, "quiet", "c", Operation::SecretGet, None),
            Ok(None)
        );
        let Err(refused) = t.admit(&snapshot, "low", "c", Operation::SecretSet, None) else {
            panic!("admitted");
        };
        assert_eq!(refused.bucket, Bucket::SecretCreate);
        assert!(refused.retry_after >= 1);
        // Other buckets of the vault are separate.
        assert!(t
            .admit(&snapshot, "low", "c", Operation::SecretGet, None)
            .is_ok());
        let off = Throttle::new(ThrottleSettings::OFF);
        assert_eq!(
            off.admit(&snapshot, "default", "c", Operation::SecretSet, None),
            Ok(None)
        );
    }

    #[test]
    fn keys_are_admitted_at_their_known_weight_and_charged_the_rest() {
        let t = Throttle::new(ThrottleSettings::default());
        let snapshot = Snapshot::default();
        let sign = |name| t.admit(&snapshot, "v", "c", Operation::KeySign, Some(name));
        // Unknown key: admitted at 1, then its answer shows an RSA-4096 HSM key (16).
        let first = sign("Big").unwrap();
        assert_eq!(
            first,
            Some(Admission {
                bucket: Bucket::KeyOther,
                weight: 1
            })
        );
        let hsm4096 = KeyClass::new("RSA-HSM", Some(4096));
        t.key_seen("v", "c", "Big", hsm4096, first);
        // 16 units are used; the next operations on it are admitted at 16: 249 more fit.
        let mut n = 0;
        while let Ok(Some(a)) = sign("big") {
            assert_eq!(a.weight, 16);
            n += 1;
        }
        assert_eq!(n, 249);
        // A key create admitted at 1 owes 1 more for an HSM key.
        let create = t
            .admit(&snapshot, "w", "c", Operation::KeyCreate, Some("k"))
            .unwrap();
        t.key_seen("w", "c", "k", KeyClass::new("EC-HSM", None), create);
        let mut creates = 1;
        while t
            .admit(&snapshot, "w", "c", Operation::KeyCreate, Some("k"))
            .is_ok()
        {
            creates += 1;
        }
        assert_eq!(creates, 10, "HSM key creates: 10 per window");
    }

    #[test]
    fn the_class_of_a_jwk() {
        let rsa = |kty: &str, bytes: usize| arca_proto::keys::JsonWebKey {
            kid: None,
            kty: kty.into(),
            key_ops: vec![],
            n: Some("A".repeat((bytes * 4).div_ceil(3))),
            e: Some("AQAB".into()),
            crv: None,
            x: None,
            y: None,
        };
        let weight = |k| key_class(&k).weight(Bucket::KeyOther);
        assert_eq!(weight(rsa("RSA", 256)), 1);
        assert_eq!(weight(rsa("RSA", 257)), 1, "a leading zero byte");
        assert_eq!(weight(rsa("RSA", 384)), 4);
        assert_eq!(weight(rsa("RSA", 512)), 8);
        assert_eq!(weight(rsa("RSA-HSM", 256)), 2);
        assert_eq!(weight(rsa("RSA-HSM", 512)), 16);
        let ec = arca_proto::keys::JsonWebKey {
            n: None,
            e: None,
            kty: "EC-HSM".into(),
            ..rsa("EC-HSM", 0)
        };
        assert_eq!(weight(ec), 2);
    }
}
