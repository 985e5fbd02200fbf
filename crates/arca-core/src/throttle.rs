//! Key Vault's service limits in the form Arca enforces them per vault: which budget
//! ([`Bucket`]) each [`Operation`] draws on, what one call weighs ([`KeyClass::weight`]), Key
//! Vault's numbers per 10-second window ([`KEY_VAULT_LIMITS`]) and a vault's setting
//! ([`ThrottleSettings`]: on or off, and a factor scaling Key Vault's numbers). The limiter that
//! counts requests lives in the server; this is the table it reads.
//!
//! Sources: `shared/docs/keyvault-api.md` §6.1 (Azure's "Key Vault service limits"). Where Key
//! Vault is silent Arca guesses, and says so:
//! - Certificates count against the secret limits: create, import and merge as a secret create,
//!   every other certificate operation as another secret operation (Key Vault says only that
//!   certificates count "against key/secret limits").
//! - A key create is `KeyCreate` and `KeyRotate` (both generate a key); `KeyImport` is one of the
//!   "all other" key operations.
//! - `oct` keys weigh as EC keys (1 in software, 2 in an HSM); key operations on no one key
//!   (listings, restore, random bytes) weigh 1.

use serde::{Deserialize, Serialize};

use crate::{ObjectKind, Operation};

/// The length of Key Vault's throttling window, in milliseconds.
pub const WINDOW_MS: u64 = 10_000;

/// The budgets of one vault, each counted separately per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Secret sets, certificate creates, imports and merges.
    SecretCreate,
    /// Every other secret and certificate operation.
    SecretOther,
    /// Key creates and rotations, weighted: a software key 1, an HSM key 2.
    KeyCreate,
    /// Every other key operation, weighted by key type and size.
    KeyOther,
}

impl Bucket {
    /// Every bucket, in [`Bucket::index`] order.
    pub const ALL: [Bucket; 4] = [
        Bucket::SecretCreate,
        Bucket::SecretOther,
        Bucket::KeyCreate,
        Bucket::KeyOther,
    ];

    /// The bucket an operation draws on.
    pub fn of(operation: Operation) -> Bucket {
        use Operation::*;
        match (operation.kind(), operation) {
            (_, SecretSet | CertificateCreate | CertificateImport | CertificatePendingMerge) => {
                Bucket::SecretCreate
            }
            (_, KeyCreate | KeyRotate) => Bucket::KeyCreate,
            (ObjectKind::Key, _) => Bucket::KeyOther,
            (ObjectKind::Secret | ObjectKind::Certificate, _) => Bucket::SecretOther,
        }
    }

    /// A dense index, for arrays of per-bucket state.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The bucket's name in logs, the admin API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::SecretCreate => "secret_create",
            Bucket::SecretOther => "secret_other",
            Bucket::KeyCreate => "key_create",
            Bucket::KeyOther => "key_other",
        }
    }
}

/// Units per [`WINDOW_MS`] of each bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub secret_create: u32,
    pub secret_other: u32,
    pub key_create: u32,
    pub key_other: u32,
}

/// Key Vault's limits per vault and 10 seconds: 300 secret creates, 4,000 other secret
/// operations, 20 software key creates (an HSM create weighs 2, so 10 of those), and 4,000 units
/// of other key operations (an RSA-2048 software operation is 1 unit).
pub const KEY_VAULT_LIMITS: Limits = Limits {
    secret_create: 300,
    secret_other: 4_000,
    key_create: 20,
    key_other: 4_000,
};

impl Limits {
    /// The limit of one bucket.
    pub fn of(&self, bucket: Bucket) -> u32 {
        match bucket {
            Bucket::SecretCreate => self.secret_create,
            Bucket::SecretOther => self.secret_other,
            Bucket::KeyCreate => self.key_create,
            Bucket::KeyOther => self.key_other,
        }
    }
}

/// What kind of key an operation uses, as far as its weight goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyClass {
    /// An `-HSM` key type.
    pub hsm: bool,
    /// The modulus size of an RSA key, in bits; `None` for EC and `oct` keys.
    pub rsa_bits: Option<u32>,
}

impl KeyClass {
    /// The class of a key of Key Vault type `kty` (`RSA`, `RSA-HSM`, `EC`, ...) whose RSA modulus,
    /// if any, has `rsa_bits` bits.
    pub fn new(kty: &str, rsa_bits: Option<u32>) -> KeyClass {
        let hsm = kty.len() > 4 && kty[kty.len() - 4..].eq_ignore_ascii_case("-hsm");
        let rsa = kty.len() >= 3 && kty[..3].eq_ignore_ascii_case("rsa");
        KeyClass {
            hsm,
            rsa_bits: if rsa {
                Some(rsa_bits.unwrap_or(2048))
            } else {
                None
            },
        }
    }

    /// What one operation on such a key costs in `bucket` (§6.1: the limit of each key type is
    /// 4,000 divided by its weight). Buckets other than the key buckets weigh 1.
    pub fn weight(self, bucket: Bucket) -> u32 {
        match bucket {
            Bucket::KeyCreate => {
                if self.hsm {
                    2
                } else {
                    1
                }
            }
            Bucket::KeyOther => match (self.hsm, self.rsa_bits) {
                (false, None) => 1,
                (true, None) => 2,
                (false, Some(bits)) if bits <= 2048 => 1,
                (false, Some(bits)) if bits <= 3072 => 4,
                (false, Some(_)) => 8,
                (true, Some(bits)) if bits <= 2048 => 2,
                (true, Some(bits)) if bits <= 3072 => 8,
                (true, Some(_)) => 16,
            },
            Bucket::SecretCreate | Bucket::SecretOther => 1,
        }
    }
}

/// The smallest and largest factor, in thousandths.
pub const MIN_FACTOR_MILLI: u32 = 1;
pub const MAX_FACTOR_MILLI: u32 = 100_000;

/// A vault's throttling: on or off, and Key Vault's limits scaled by `factor_milli` / 1000
/// (each limit at least 1). Stored per vault as a sealed policy document of kind
/// [`crate::authz::kinds::THROTTLE`]; without one a vault has the deployment's setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSettings {
    pub enabled: bool,
    pub factor_milli: u32,
}

impl Default for ThrottleSettings {
    /// On, with Key Vault's numbers.
    fn default() -> Self {
        ThrottleSettings {
            enabled: true,
            factor_milli: 1_000,
        }
    }
}

impl ThrottleSettings {
    /// Throttling switched off.
    pub const OFF: ThrottleSettings = ThrottleSettings {
        enabled: false,
        factor_milli: 1_000,
    };

    /// On, with Key Vault's limits times `factor`; `None` outside 0.001 to 100.
    pub fn scaled(factor: f64) -> Option<ThrottleSettings> {
        let milli = (factor * 1000.0).round();
        (factor.is_finite()
            && (f64::from(MIN_FACTOR_MILLI)..=f64::from(MAX_FACTOR_MILLI)).contains(&milli))
        .then_some(ThrottleSettings {
            enabled: true,
            // In range, checked above (a NaN or infinite factor gives 0 here and is refused).
            factor_milli: milli as u32,
        })
    }

    /// Whether a stored document holds values this build accepts.
    pub fn is_valid(&self) -> bool {
        (MIN_FACTOR_MILLI..=MAX_FACTOR_MILLI).contains(&self.factor_milli)
    }

    /// The factor as a number (1.0: Key Vault's limits).
    pub fn factor(&self) -> f64 {
        f64::from(self.factor_milli) / 1000.0
    }

    /// The limits these settings enforce (Key Vault's, scaled, each at least 1).
    pub fn limits(&self) -> Limits {
        let scale = |n: u32| -> u32 {
            let scaled = u64::from(n) * u64::from(self.factor_milli) / 1000;
            u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
        };
        Limits {
            secret_create: scale(KEY_VAULT_LIMITS.secret_create),
            secret_other: scale(KEY_VAULT_LIMITS.secret_other),
            key_create: scale(KEY_VAULT_LIMITS.key_create),
            key_other: scale(KEY_VAULT_LIMITS.key_other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_draw_on_key_vaults_buckets() {
        assert_eq!(Bucket::of(Operation::SecretSet), Bucket::SecretCreate);
        assert_eq!(Bucket::of(Operation::SecretGet), Bucket::SecretOther);
        assert_eq!(Bucket::of(Operation::SecretPurge), Bucket::SecretOther);
        assert_eq!(Bucket::of(Operation::SecretRestore), Bucket::SecretOther);
        assert_eq!(
            Bucket::of(Operation::CertificateCreate),
            Bucket::SecretCreate
        );
        assert_eq!(
            Bucket::of(Operation::CertificateImport),
            Bucket::SecretCreate
        );
        assert_eq!(
            Bucket::of(Operation::CertificatePendingMerge),
            Bucket::SecretCreate
        );
        assert_eq!(Bucket::of(Operation::CertificateGet), Bucket::SecretOther);
        assert_eq!(Bucket::of(Operation::KeyCreate), Bucket::KeyCreate);
        assert_eq!(Bucket::of(Operation::KeyRotate), Bucket::KeyCreate);
        assert_eq!(Bucket::of(Operation::KeyImport), Bucket::KeyOther);
        assert_eq!(Bucket::of(Operation::KeySign), Bucket::KeyOther);
        assert_eq!(Bucket::of(Operation::KeyRandomBytes), Bucket::KeyOther);
        for (i, b) in Bucket::ALL.iter().enumerate() {
            assert_eq!(b.index(), i);
        }
    }

    #[test]
    fn key_weights_follow_the_service_limits_table() {
        // §6.1: the "all other" limit of each key type is 4,000 / weight.
        let other = |kty: &str, bits: Option<u32>| {
            KEY_VAULT_LIMITS.key_other / KeyClass::new(kty, bits).weight(Bucket::KeyOther)
        };
        assert_eq!(other("RSA", Some(2048)), 4_000);
        assert_eq!(other("RSA", Some(3072)), 1_000);
        assert_eq!(other("RSA", Some(4096)), 500);
        assert_eq!(other("EC", None), 4_000);
        assert_eq!(other("RSA-HSM", Some(2048)), 2_000);
        assert_eq!(other("RSA-HSM", Some(3072)), 500);
        assert_eq!(other("RSA-HSM", Some(4096)), 250);
        assert_eq!(other("EC-HSM", None), 2_000);
        assert_eq!(other("oct", None), 4_000);
        assert_eq!(other("oct-HSM", None), 2_000);
        let create = |kty: &str| {
            KEY_VAULT_LIMITS.key_create / KeyClass::new(kty, None).weight(Bucket::KeyCreate)
        };
        assert_eq!(create("RSA"), 20);
        assert_eq!(create("EC"), 20);
        assert_eq!(create("RSA-HSM"), 10);
        assert_eq!(create("ec-hsm"), 10);
        assert_eq!(
            KeyClass::new("RSA-HSM", Some(4096)).weight(Bucket::SecretOther),
            1
        );
    }

    #[test]
    fn settings_scale_key_vaults_limits() {
        assert_eq!(ThrottleSettings::default().limits(), KEY_VAULT_LIMITS);
        let low = ThrottleSettings::scaled(0.01).unwrap();
        assert_eq!(low.factor_milli, 10);
        assert_eq!(
            low.limits(),
            Limits {
                secret_create: 3,
                secret_other: 40,
                key_create: 1,
                key_other: 40
            }
        );
        let tiny = ThrottleSettings::scaled(0.001).unwrap().limits();
        assert_eq!(tiny.key_create, 1, "never below 1");
        assert_eq!(
            ThrottleSettings::scaled(2.5)
                .unwrap()
                .limits()
                .secret_create,
            750
        );
        for bad in [0.0, 0.0004, -1.0, 100.1, f64::NAN, f64::INFINITY] {
            assert!(ThrottleSettings::scaled(bad).is_none(), "{bad}");
        }
        assert!(ThrottleSettings::default().is_valid());
        assert!(!ThrottleSettings {
            enabled: true,
            factor_milli: 0
        }
        .is_valid());
        let doc = serde_json::to_string(&ThrottleSettings::OFF).unwrap();
        assert_eq!(doc, r#"{"enabled":false,"factor_milli":1000}"#);
    }
}
