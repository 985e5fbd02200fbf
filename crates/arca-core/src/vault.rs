//! Vault settings and the recovery level they imply.

use crate::limits::{DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS};

/// The settings of one vault that shape object lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaultSettings {
    /// Soft-delete retention in days, 7 to 90.
    pub retention_days: u32,
    /// When on, deleted objects cannot be purged before their retention ends.
    pub purge_protection: bool,
}

impl Default for VaultSettings {
    fn default() -> Self {
        Self {
            retention_days: DEFAULT_RETENTION_DAYS,
            purge_protection: false,
        }
    }
}

impl VaultSettings {
    pub fn new(retention_days: u32, purge_protection: bool) -> Option<Self> {
        (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS)
            .contains(&retention_days)
            .then_some(Self {
                retention_days,
                purge_protection,
            })
    }

    pub fn recovery_level(&self) -> RecoveryLevel {
        match (self.retention_days == 90, self.purge_protection) {
            (true, false) => RecoveryLevel::RecoverablePurgeable,
            (true, true) => RecoveryLevel::Recoverable,
            (false, false) => RecoveryLevel::CustomizedRecoverablePurgeable,
            (false, true) => RecoveryLevel::CustomizedRecoverable,
        }
    }

    /// When an object deleted at `deleted_at` is purged automatically.
    pub fn scheduled_purge(&self, deleted_at: i64) -> i64 {
        deleted_at + i64::from(self.retention_days) * 86_400
    }
}

/// Key Vault's `DeletionRecoveryLevel`, restricted to the values a soft-delete-only store emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryLevel {
    RecoverablePurgeable,
    Recoverable,
    CustomizedRecoverablePurgeable,
    CustomizedRecoverable,
}

impl RecoveryLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryLevel::RecoverablePurgeable => "Recoverable+Purgeable",
            RecoveryLevel::Recoverable => "Recoverable",
            RecoveryLevel::CustomizedRecoverablePurgeable => "CustomizedRecoverable+Purgeable",
            RecoveryLevel::CustomizedRecoverable => "CustomizedRecoverable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_level_follows_retention_and_purge_protection() {
        let level = |d, p| VaultSettings::new(d, p).unwrap().recovery_level().as_str();
        assert_eq!(level(90, false), "Recoverable+Purgeable");
        assert_eq!(level(90, true), "Recoverable");
        assert_eq!(level(7, false), "CustomizedRecoverable+Purgeable");
        assert_eq!(level(30, true), "CustomizedRecoverable");
        assert!(VaultSettings::new(6, false).is_none());
        assert!(VaultSettings::new(91, false).is_none());
    }

    #[test]
    fn purge_is_scheduled_after_retention() {
        let s = VaultSettings::new(7, false).unwrap();
        assert_eq!(s.scheduled_purge(1_000), 1_000 + 7 * 86_400);
    }
}
