//! The issuer's token signing keys and their rotation.
//!
//! One key signs; after a rotation the previous keys stay published in JWKS and keep verifying
//! until every token they signed has expired (rotation time + token lifetime + clock skew), then
//! they are dropped. The keys are stored sealed, as one access-control document, so a rotation
//! reaches every replica with the next access refresh.

use arca_crypto::{Keyring, TokenSigningKey, VerifyingKey};
use arca_store::Store;
use serde::{Deserialize, Serialize};

use crate::access::kinds;
use crate::seal::Sealer;
use crate::start_error::StartError;

/// The id of the signing-keys document.
const DOCUMENT_ID: &str = "keys";
/// The sealing label of signing keys (the same as the first key's, kept in metadata).
const SEAL_ITEM: &str = "token_signing_key";
/// The metadata key of the key created on first start, before any rotation.
const FIRST_KEY_META: &str = "token_signing_key";

/// What JWKS and the admin API say about one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    /// Unknown (`None`) for the key made on first start, before rotation existed.
    pub created: Option<i64>,
    pub active: bool,
    pub retires: Option<i64>,
}

/// The keys in use: one that signs, all that verify.
pub struct SigningKeys {
    pub signing: TokenSigningKey,
    pub verifying: Vec<VerifyingKey>,
    pub info: Vec<KeyInfo>,
}

impl SigningKeys {
    /// A single fresh key (tests).
    pub fn single(signing: TokenSigningKey) -> Self {
        let kid = signing.kid().to_owned();
        Self {
            verifying: vec![signing.verifying_key()],
            signing,
            info: vec![KeyInfo {
                kid,
                created: None,
                active: true,
                retires: None,
            }],
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    /// base64url of the sealed PKCS#8 key.
    sealed: String,
    created: Option<i64>,
    retires: Option<i64>,
}

#[derive(Serialize, Deserialize, Default)]
struct StoredKeys {
    keys: Vec<StoredKey>,
}

async fn stored(store: &dyn Store, keyring: &Keyring) -> Result<StoredKeys, StartError> {
    if let Some(record) = store.policy(kinds::SIGNING_KEYS, DOCUMENT_ID).await? {
        let plain = crate::integrity::open_policy(keyring, &record)
            .ok_or(StartError::SigningKeysUnverified)?;
        return Ok(serde_json::from_slice(plain.expose())?);
    }
    let first = store
        .meta(FIRST_KEY_META)
        .await?
        .ok_or(StartError::NoSigningKey)?;
    Ok(StoredKeys {
        keys: vec![StoredKey {
            sealed: crate::b64url(&first),
            created: None,
            retires: None,
        }],
    })
}

fn open(stored: &StoredKeys, keyring: &Keyring, now: i64) -> Result<SigningKeys, StartError> {
    let sealer = Sealer(keyring);
    let mut signing = None;
    let mut verifying = Vec::new();
    let mut info = Vec::new();
    for key in &stored.keys {
        if key.retires.is_some_and(|r| r <= now) {
            continue;
        }
        let sealed =
            crate::b64url_decode(&key.sealed).ok_or(StartError::SigningKeyDoesNotDecode)?;
        let k = TokenSigningKey::from_pkcs8(sealer.open(SEAL_ITEM, &sealed)?.expose())?;
        verifying.push(k.verifying_key());
        info.push(KeyInfo {
            kid: k.kid().to_owned(),
            created: key.created,
            active: key.retires.is_none(),
            retires: key.retires,
        });
        if key.retires.is_none() {
            signing = Some(k);
        }
    }
    let signing = signing.ok_or(StartError::NoActiveSigningKey)?;
    Ok(SigningKeys {
        signing,
        verifying,
        info,
    })
}

/// Loads the keys valid at `now`.
pub async fn load(
    store: &dyn Store,
    keyring: &Keyring,
    now: i64,
) -> Result<SigningKeys, StartError> {
    open(&stored(store, keyring).await?, keyring, now)
}

/// Makes a new key the signing key; the previous active key retires after `overlap` seconds
/// (token lifetime plus clock skew), and keys already retired are dropped.
pub async fn rotate(
    store: &dyn Store,
    keyring: &Keyring,
    now: i64,
    overlap: i64,
) -> Result<SigningKeys, StartError> {
    let mut doc = stored(store, keyring).await?;
    doc.keys.retain(|k| k.retires.is_none_or(|r| r > now));
    for key in &mut doc.keys {
        if key.retires.is_none() {
            key.retires = Some(now + overlap);
        }
    }
    let (_, pkcs8) = TokenSigningKey::generate()?;
    let sealed = Sealer(keyring).seal(SEAL_ITEM, pkcs8.expose())?;
    doc.keys.push(StoredKey {
        sealed: crate::b64url(&sealed),
        created: Some(now),
        retires: None,
    });
    store
        .put_policy(&crate::access::policy_record(
            keyring,
            kinds::SIGNING_KEYS,
            DOCUMENT_ID,
            &doc,
        )?)
        .await?;
    open(&doc, keyring, now)
}
