//! The Key Vault dataActions each data-plane operation requires, by their Azure names.
//!
//! | operation | dataAction | resource |
//! |---|---|---|
//! | Set secret | `secrets/setSecret/action` | the secret |
//! | Get secret (any version) | `secrets/getSecret/action` | the secret |
//! | Update secret | `secrets/update/action` | the secret |
//! | Delete secret | `secrets/delete` | the secret |
//! | List secret versions | `secrets/readMetadata/action` | the secret |
//! | List secrets, list deleted secrets | `secrets/readMetadata/action` | the vault |
//! | Get deleted secret | `secrets/readMetadata/action` | the secret |
//! | Recover deleted secret | `secrets/recover/action` | the secret |
//! | Purge deleted secret | `secrets/purge/action` | the secret |
//! | Back up secret | `secrets/backup/action` | the secret |
//! | Restore secret | `secrets/restore/action` | the vault |
//!
//! All names are prefixed `Microsoft.KeyVault/vaults/`. Listing a vault needs the action at the
//! vault (or deployment) scope: an assignment on one secret lets its holder read that secret but
//! not enumerate the vault, as in Azure.

pub const SECRET_SET: &str = "Microsoft.KeyVault/vaults/secrets/setSecret/action";
pub const SECRET_GET: &str = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
pub const SECRET_UPDATE: &str = "Microsoft.KeyVault/vaults/secrets/update/action";
pub const SECRET_DELETE: &str = "Microsoft.KeyVault/vaults/secrets/delete";
pub const SECRET_READ_METADATA: &str = "Microsoft.KeyVault/vaults/secrets/readMetadata/action";
pub const SECRET_RECOVER: &str = "Microsoft.KeyVault/vaults/secrets/recover/action";
pub const SECRET_PURGE: &str = "Microsoft.KeyVault/vaults/secrets/purge/action";
pub const SECRET_BACKUP: &str = "Microsoft.KeyVault/vaults/secrets/backup/action";
pub const SECRET_RESTORE: &str = "Microsoft.KeyVault/vaults/secrets/restore/action";
