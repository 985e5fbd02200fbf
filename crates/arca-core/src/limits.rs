//! Key Vault's documented limits, in one place so handlers and tests agree on them.

/// Longest secret value, in bytes of UTF-8 (Key Vault: 25 KiB).
pub const MAX_SECRET_VALUE_BYTES: usize = 25 * 1024;
/// Most tags on one object version.
pub const MAX_TAGS: usize = 15;
/// Longest tag name, in characters.
pub const MAX_TAG_NAME_CHARS: usize = 256;
/// Longest tag value, in characters.
pub const MAX_TAG_VALUE_CHARS: usize = 256;
/// Longest `contentType`, in characters.
pub const MAX_CONTENT_TYPE_CHARS: usize = 255;
/// Longest object name.
pub const MAX_OBJECT_NAME_CHARS: usize = 127;
/// Largest and default page size of list operations.
pub const MAX_PAGE_SIZE: usize = 25;
/// Most versions one backup may hold (Key Vault refuses larger backups).
pub const MAX_BACKUP_VERSIONS: usize = 500;
/// Largest request body for ordinary operations.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest request body for restore, whose blob carries up to 500 versions.
pub const MAX_RESTORE_BODY_BYTES: usize = 24 * 1024 * 1024;
/// Soft-delete retention bounds and default, in days.
pub const MIN_RETENTION_DAYS: u32 = 7;
pub const MAX_RETENTION_DAYS: u32 = 90;
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
