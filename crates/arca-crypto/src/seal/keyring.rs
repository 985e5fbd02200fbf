//! The keyring of data keys and the record envelopes sealed with it (backups: [`super::backup`]).
//!
//! A record envelope is `[0x01][key id: u32 BE][12-byte random nonce][ciphertext || 16-byte tag]`.
//! The AES-256-GCM associated data is the 5-byte header followed by the caller's associated data
//! (normally [`record_aad`]), so a ciphertext moved to another vault, kind, name, version or field
//! does not open. The keyring itself is stored only sealed under the root key. Nothing here
//! decides *which* record is sealed: that is the caller's job; this module guarantees that what
//! is sealed only opens in the place it was sealed for.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::aead::LessSafeKey;
use zeroize::Zeroizing;

use crate::seal::aead::{self, KEY_LEN, OVERHEAD};
use crate::seal::random::random_bytes;
use crate::{CryptoError, RootKey, SecretBytes};

/// Format byte of a record envelope.
const ENVELOPE_FORMAT: u8 = 0x01;
/// Format byte plus key id.
const HEADER_LEN: usize = 1 + 4;
/// Shortest possible envelope: header, nonce and tag around an empty plaintext.
const MIN_ENVELOPE_LEN: usize = HEADER_LEN + OVERHEAD;

/// Format byte of a sealed keyring.
const SEALED_KEYRING_FORMAT: u8 = 0x01;
/// Associated data binding a sealed keyring to its purpose.
const KEYRING_AAD: &[u8] = b"arca/keyring/v1";
/// Version byte of the keyring's first plaintext encoding (no flags); still read.
const KEYRING_ENCODING: u8 = 0x01;
/// Version byte of the keyring's plaintext encoding with deployment flags; always written.
const KEYRING_ENCODING_FLAGS: u8 = 0x02;
/// One encoded keyring entry: id and key bytes.
const ENTRY_LEN: usize = 4 + KEY_LEN;

/// Domain tag of record associated data.
const RECORD_AAD_TAG: &[u8] = b"arca/record/v1";

/// One AES-256-GCM data key; the raw bytes are kept (zeroizing) so the keyring can be re-sealed.
struct DataKey {
    raw: Zeroizing<[u8; KEY_LEN]>,
    aead: LessSafeKey,
}

impl DataKey {
    fn generate() -> Result<Self, CryptoError> {
        let raw = Zeroizing::new(random_bytes::<KEY_LEN>()?);
        Self::from_raw(raw)
    }

    fn from_raw(raw: Zeroizing<[u8; KEY_LEN]>) -> Result<Self, CryptoError> {
        Ok(Self {
            aead: aead::key_from_bytes(raw.as_slice())?,
            raw,
        })
    }
}

/// Data keys by id, one of them active for sealing; older keys stay to open older records.
///
/// It also carries a few deployment flags: facts about the deployment that only the holder of
/// the root key may assert (for example "every stored record is authenticated"), so that someone
/// who can write the database but lacks the key file can neither set nor clear them. Their meaning
/// belongs to the caller.
pub struct Keyring {
    active: u32,
    keys: BTreeMap<u32, DataKey>,
    flags: u32,
}

impl Keyring {
    /// A new keyring holding one fresh key, id 1, which is active.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut keys = BTreeMap::new();
        keys.insert(1, DataKey::generate()?);
        Ok(Self {
            active: 1,
            keys,
            flags: 0,
        })
    }

    /// The deployment flags (0 for a new keyring and for one sealed before flags existed).
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Replaces the deployment flags; they are stored by the next [`Keyring::seal_with`].
    pub fn set_flags(&mut self, flags: u32) {
        self.flags = flags;
    }

    /// Id of the key new seals use.
    pub fn active_id(&self) -> u32 {
        self.active
    }

    /// Ids of all keys held, ascending.
    pub fn key_ids(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// Adds a fresh key and makes it active; returns its id. Older keys are kept for opening.
    ///
    /// Rotate well before 2^32 seals under one key: nonces are random 96-bit values.
    pub fn rotate(&mut self) -> Result<u32, CryptoError> {
        let newest = self.keys.keys().next_back().copied().unwrap_or(0);
        // Ids are never reused; running out of them would take four billion rotations.
        let id = newest.checked_add(1).ok_or(CryptoError::Seal)?;
        self.keys.insert(id, DataKey::generate()?);
        self.active = id;
        Ok(id)
    }

    /// Seals the whole keyring, flags included, under the root key:
    /// `[0x01][nonce][ciphertext || tag]`, associated data `arca/keyring/v1`.
    pub fn seal_with(&self, root: &RootKey) -> Result<Vec<u8>, CryptoError> {
        let count = u32::try_from(self.keys.len()).map_err(|_| CryptoError::Seal)?;
        let mut encoded = Zeroizing::new(Vec::with_capacity(13 + ENTRY_LEN * self.keys.len()));
        encoded.push(KEYRING_ENCODING_FLAGS);
        encoded.extend_from_slice(&self.active.to_be_bytes());
        encoded.extend_from_slice(&count.to_be_bytes());
        for (id, key) in &self.keys {
            encoded.extend_from_slice(&id.to_be_bytes());
            encoded.extend_from_slice(key.raw.as_slice());
        }
        encoded.extend_from_slice(&self.flags.to_be_bytes());
        let mut out = vec![SEALED_KEYRING_FORMAT];
        aead::seal_append(root.aead(), KEYRING_AAD, &encoded, &mut out)?;
        Ok(out)
    }

    /// Opens a keyring sealed by [`Keyring::seal_with`]; `Open` for a wrong root key or bad bytes.
    pub fn open_with(root: &RootKey, sealed: &[u8]) -> Result<Keyring, CryptoError> {
        let Some((&SEALED_KEYRING_FORMAT, body)) = sealed.split_first() else {
            return Err(CryptoError::Open);
        };
        let encoded = aead::open(root.aead(), KEYRING_AAD, body)?;
        Self::decode(encoded.expose()).ok_or(CryptoError::Open)
    }

    /// Strict decoding of the keyring plaintext: exact length, ids ascending, active id present;
    /// the flags (a trailing u32) only in the second encoding.
    fn decode(bytes: &[u8]) -> Option<Keyring> {
        let (&version, rest) = bytes.split_first()?;
        let (rest, flags) = match version {
            KEYRING_ENCODING => (rest, 0),
            KEYRING_ENCODING_FLAGS => {
                let (rest, flags) = rest.split_last_chunk::<4>()?;
                (rest, u32::from_be_bytes(*flags))
            }
            _ => return None,
        };
        let (active, rest) = split_u32(rest)?;
        let (count, mut rest) = split_u32(rest)?;
        let count = usize::try_from(count).ok()?;
        if count == 0 || rest.len() != count.checked_mul(ENTRY_LEN)? {
            return None;
        }
        let mut keys = BTreeMap::new();
        let mut previous: Option<u32> = None;
        while !rest.is_empty() {
            let (id, after_id) = split_u32(rest)?;
            if previous.is_some_and(|p| p >= id) {
                return None;
            }
            let (raw, after_key) = after_id.split_at_checked(KEY_LEN)?;
            let mut key = Zeroizing::new([0u8; KEY_LEN]);
            key.copy_from_slice(raw);
            keys.insert(id, DataKey::from_raw(key).ok()?);
            previous = Some(id);
            rest = after_key;
        }
        if !keys.contains_key(&active) {
            return None;
        }
        Some(Keyring {
            active,
            keys,
            flags,
        })
    }

    /// Seals `plaintext` under the active key, bound to `aad` (normally from [`record_aad`]).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self.keys.get(&self.active).ok_or(CryptoError::UnknownKey)?;
        let mut out = Vec::with_capacity(MIN_ENVELOPE_LEN + plaintext.len());
        out.push(ENVELOPE_FORMAT);
        out.extend_from_slice(&self.active.to_be_bytes());
        let full_aad = envelope_aad(&out, aad);
        aead::seal_append(&key.aead, &full_aad, plaintext, &mut out)?;
        Ok(out)
    }

    /// Opens an envelope from [`Keyring::seal`] with the same `aad`.
    ///
    /// `UnknownKey` if the envelope names a key id this keyring does not hold; `Open` for anything
    /// else that is wrong (other associated data, tampering, truncation, unknown format).
    pub fn open(&self, aad: &[u8], envelope: &[u8]) -> Result<SecretBytes, CryptoError> {
        if envelope.len() < MIN_ENVELOPE_LEN {
            return Err(CryptoError::Open);
        }
        let (header, body) = envelope.split_at(HEADER_LEN);
        let id = envelope_key_id(envelope).ok_or(CryptoError::Open)?;
        let key = self.keys.get(&id).ok_or(CryptoError::UnknownKey)?;
        aead::open(&key.aead, &envelope_aad(header, aad), body)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// The key id an envelope was sealed with, if it is a well-formed envelope of a known format.
/// Useful to find records still sealed under an old key; says nothing about authenticity.
pub fn envelope_key_id(envelope: &[u8]) -> Option<u32> {
    if envelope.len() < MIN_ENVELOPE_LEN {
        return None;
    }
    let (&format, rest) = envelope.split_first()?;
    if format != ENVELOPE_FORMAT {
        return None;
    }
    split_u32(rest).map(|(id, _)| id)
}

/// Associated data for a stored record field: the domain tag `arca/record/v1`, then vault, kind,
/// name, version and field, each prefixed with its length as a u32 BE, so no two different
/// tuples encode alike.
pub fn record_aad(vault: &str, kind: &str, name: &str, version: &str, field: &str) -> Vec<u8> {
    encode_parts(&[
        RECORD_AAD_TAG,
        vault.as_bytes(),
        kind.as_bytes(),
        name.as_bytes(),
        version.as_bytes(),
        field.as_bytes(),
    ])
}

pub(super) fn encode_parts(parts: &[&[u8]]) -> Vec<u8> {
    let total = parts.iter().map(|part| 4 + part.len()).sum();
    let mut out = Vec::with_capacity(total);
    for part in parts {
        // Parts are names and short strings; a part of 4 GiB cannot occur, but saturate rather
        // than wrap so an impossible input still cannot collide with a shorter one silently.
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// The AEAD associated data of an envelope: its fixed-length header, then the caller's data.
fn envelope_aad(header: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(header.len() + aad.len());
    full.extend_from_slice(header);
    full.extend_from_slice(aad);
    full
}

fn split_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*head), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::random::random_vec;

    fn aad() -> Vec<u8> {
        crate::seal::test_record_aad()
    }

    fn random_below(limit: usize) -> usize {
        let bytes = random_bytes::<4>().unwrap();
        u32::from_be_bytes(bytes) as usize % limit
    }

    #[test]
    fn seal_then_open_round_trips() {
        let ring = Keyring::generate().unwrap();
        let envelope = ring.seal(&aad(), b"s3cr3t value").unwrap();
        assert_eq!(envelope[0], 0x01);
        assert_eq!(&envelope[1..5], &1u32.to_be_bytes());
        assert_eq!(envelope.len(), 5 + 12 + 12 + 16);
        assert_eq!(
            ring.open(&aad(), &envelope).unwrap().expose(),
            b"s3cr3t value"
        );
        assert_eq!(envelope_key_id(&envelope), Some(1));
        let empty = ring.seal(&aad(), b"").unwrap();
        assert!(ring.open(&aad(), &empty).unwrap().is_empty());
    }

    #[test]
    fn ciphertext_moved_to_another_place_does_not_open() {
        let ring = Keyring::generate().unwrap();
        let parts = ["prod", "secret", "db-password", "v1", "value"];
        let original = record_aad(parts[0], parts[1], parts[2], parts[3], parts[4]);
        let envelope = ring.seal(&original, b"payload").unwrap();
        for i in 0..parts.len() {
            let mut moved = parts;
            moved[i] = "other";
            let aad = record_aad(moved[0], moved[1], moved[2], moved[3], moved[4]);
            assert!(
                matches!(ring.open(&aad, &envelope), Err(CryptoError::Open)),
                "part {i}"
            );
        }
        assert!(matches!(ring.open(b"", &envelope), Err(CryptoError::Open)));
    }

    #[test]
    fn record_aad_is_unambiguous() {
        assert_ne!(
            record_aad("ab", "c", "n", "v", "f"),
            record_aad("a", "bc", "n", "v", "f")
        );
        assert_ne!(
            record_aad("a", "", "n", "v", "f"),
            record_aad("", "a", "n", "v", "f")
        );
        assert_ne!(
            record_aad("a", "b", "c", "d", "e"),
            record_aad("a", "b", "c", "de", "")
        );
        let encoded = record_aad("v", "k", "n", "1", "f");
        assert!(encoded.starts_with(&[0, 0, 0, 14]));
        assert_eq!(&encoded[4..18], b"arca/record/v1");
        assert_eq!(encoded.len(), 4 + 14 + 5 * 5);
    }

    #[test]
    fn flipped_byte_anywhere_does_not_open() {
        let ring = Keyring::generate().unwrap();
        let envelope = ring.seal(&aad(), b"a secret of some length").unwrap();
        for i in 0..envelope.len() {
            for bit in [0x01u8, 0x80] {
                let mut tampered = envelope.clone();
                tampered[i] ^= bit;
                let result = ring.open(&aad(), &tampered);
                if (1..5).contains(&i) {
                    // A changed key id names a key this keyring does not hold.
                    assert!(
                        matches!(result, Err(CryptoError::UnknownKey | CryptoError::Open)),
                        "byte {i}"
                    );
                } else {
                    assert!(matches!(result, Err(CryptoError::Open)), "byte {i}");
                }
            }
        }
    }

    #[test]
    fn truncated_or_extended_envelope_does_not_open() {
        let ring = Keyring::generate().unwrap();
        let envelope = ring.seal(&aad(), b"payload").unwrap();
        for len in 0..envelope.len() {
            assert!(
                matches!(ring.open(&aad(), &envelope[..len]), Err(CryptoError::Open)),
                "{len}"
            );
        }
        let mut extended = envelope.clone();
        extended.push(0);
        assert!(matches!(
            ring.open(&aad(), &extended),
            Err(CryptoError::Open)
        ));
    }

    #[test]
    fn unknown_format_and_unknown_key_are_refused() {
        let ring = Keyring::generate().unwrap();
        let envelope = ring.seal(&aad(), b"payload").unwrap();
        let mut other_format = envelope.clone();
        other_format[0] = 0x02;
        assert!(matches!(
            ring.open(&aad(), &other_format),
            Err(CryptoError::Open)
        ));
        assert_eq!(envelope_key_id(&other_format), None);
        let mut other_id = envelope.clone();
        other_id[1..5].copy_from_slice(&77u32.to_be_bytes());
        assert!(matches!(
            ring.open(&aad(), &other_id),
            Err(CryptoError::UnknownKey)
        ));
    }

    #[test]
    fn nonces_are_fresh() {
        let ring = Keyring::generate().unwrap();
        let a = ring.seal(&aad(), b"same").unwrap();
        let b = ring.seal(&aad(), b"same").unwrap();
        assert_ne!(a[5..17], b[5..17]);
        assert_ne!(a, b);
    }

    #[test]
    fn keyring_seals_under_root_key_and_reopens() {
        let root = RootKey::generate().unwrap();
        let mut ring = Keyring::generate().unwrap();
        let old = ring.seal(&aad(), b"old").unwrap();
        ring.rotate().unwrap();
        let new = ring.seal(&aad(), b"new").unwrap();
        let sealed = ring.seal_with(&root).unwrap();

        let reopened = Keyring::open_with(&root, &sealed).unwrap();
        assert_eq!(reopened.active_id(), 2);
        assert_eq!(reopened.key_ids(), vec![1, 2]);
        assert_eq!(reopened.open(&aad(), &old).unwrap().expose(), b"old");
        assert_eq!(reopened.open(&aad(), &new).unwrap().expose(), b"new");

        let other_root = RootKey::generate().unwrap();
        assert!(matches!(
            Keyring::open_with(&other_root, &sealed),
            Err(CryptoError::Open)
        ));
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x04;
            assert!(
                matches!(Keyring::open_with(&root, &tampered), Err(CryptoError::Open)),
                "{i}"
            );
        }
        assert!(matches!(
            Keyring::open_with(&root, &sealed[..40]),
            Err(CryptoError::Open)
        ));
        assert!(matches!(
            Keyring::open_with(&root, &[]),
            Err(CryptoError::Open)
        ));
    }

    #[test]
    fn keyring_decoding_is_strict() {
        let mut good = vec![KEYRING_ENCODING];
        good.extend_from_slice(&2u32.to_be_bytes());
        good.extend_from_slice(&2u32.to_be_bytes());
        for id in [1u32, 2] {
            good.extend_from_slice(&id.to_be_bytes());
            good.extend_from_slice(&[id as u8; KEY_LEN]);
        }
        assert!(Keyring::decode(&good).is_some());

        let mut active_missing = good.clone();
        active_missing[1..5].copy_from_slice(&3u32.to_be_bytes());
        assert!(Keyring::decode(&active_missing).is_none());

        let mut unsorted = good.clone();
        unsorted[9..13].copy_from_slice(&2u32.to_be_bytes());
        assert!(Keyring::decode(&unsorted).is_none());

        let mut bad_count = good.clone();
        bad_count[5..9].copy_from_slice(&3u32.to_be_bytes());
        assert!(Keyring::decode(&bad_count).is_none());

        let mut empty = vec![KEYRING_ENCODING];
        empty.extend_from_slice(&1u32.to_be_bytes());
        empty.extend_from_slice(&0u32.to_be_bytes());
        assert!(Keyring::decode(&empty).is_none());

        assert!(Keyring::decode(&good[..good.len() - 1]).is_none());
        let mut version = good.clone();
        version[0] = 9;
        assert!(Keyring::decode(&version).is_none());
    }

    #[test]
    fn flags_are_sealed_with_the_keyring() {
        let root = RootKey::generate().unwrap();
        let mut ring = Keyring::generate().unwrap();
        assert_eq!(ring.flags(), 0);
        ring.set_flags(0x8000_0001);
        let sealed = ring.seal_with(&root).unwrap();
        let reopened = Keyring::open_with(&root, &sealed).unwrap();
        assert_eq!(reopened.flags(), 0x8000_0001);
        let record = ring.seal(&aad(), b"x").unwrap();
        assert_eq!(reopened.open(&aad(), &record).unwrap().expose(), b"x");
    }

    #[test]
    fn a_keyring_encoded_before_flags_still_opens_without_flags() {
        let mut old = vec![KEYRING_ENCODING];
        old.extend_from_slice(&1u32.to_be_bytes());
        old.extend_from_slice(&1u32.to_be_bytes());
        old.extend_from_slice(&1u32.to_be_bytes());
        old.extend_from_slice(&[7; KEY_LEN]);
        let ring = Keyring::decode(&old).unwrap();
        assert_eq!(ring.flags(), 0);
        assert_eq!(ring.key_ids(), vec![1]);
        // The same bytes with flags appended are not a valid first-encoding keyring.
        let mut longer = old.clone();
        longer.extend_from_slice(&1u32.to_be_bytes());
        assert!(Keyring::decode(&longer).is_none());
        longer[0] = KEYRING_ENCODING_FLAGS;
        assert_eq!(Keyring::decode(&longer).unwrap().flags(), 1);
        // A flags encoding too short to hold its flags is refused.
        let mut short = old.clone();
        short[0] = KEYRING_ENCODING_FLAGS;
        assert!(Keyring::decode(&short).is_none());
    }

    #[test]
    fn rotation_keeps_old_records_openable() {
        let mut ring = Keyring::generate().unwrap();
        let before = ring.seal(&aad(), b"before").unwrap();
        assert_eq!(ring.rotate().unwrap(), 2);
        assert_eq!(ring.rotate().unwrap(), 3);
        assert_eq!(ring.active_id(), 3);
        let after = ring.seal(&aad(), b"after").unwrap();
        assert_eq!(envelope_key_id(&before), Some(1));
        assert_eq!(envelope_key_id(&after), Some(3));
        assert_eq!(ring.open(&aad(), &before).unwrap().expose(), b"before");
        assert_eq!(ring.open(&aad(), &after).unwrap().expose(), b"after");
        assert_eq!(format!("{ring:?}"), "Keyring { active: 3, keys: 3 }");
    }

    #[test]
    fn debug_is_redacted() {
        let ring = Keyring::generate().unwrap();
        assert_eq!(format!("{ring:?}"), "Keyring { active: 1, keys: 1 }");
    }

    #[test]
    fn random_inputs_round_trip_and_any_damage_is_refused() {
        let ring = Keyring::generate().unwrap();
        for _ in 0..300 {
            let plaintext = random_vec(random_below(300)).unwrap();
            let aad = random_vec(random_below(64)).unwrap();
            let envelope = ring.seal(&aad, &plaintext).unwrap();
            assert_eq!(envelope.len(), MIN_ENVELOPE_LEN + plaintext.len());
            assert_eq!(
                ring.open(&aad, &envelope).unwrap().expose(),
                plaintext.as_slice()
            );

            let mut tampered = envelope.clone();
            let position = random_below(tampered.len());
            tampered[position] ^= 1 << random_below(8);
            assert!(ring.open(&aad, &tampered).is_err());

            let cut = random_below(envelope.len());
            assert!(ring.open(&aad, &envelope[..cut]).is_err());

            let mut other_aad = aad.clone();
            other_aad.push(random_bytes::<1>().unwrap()[0]);
            assert!(ring.open(&other_aad, &envelope).is_err());

            let garbage = random_vec(random_below(200)).unwrap();
            assert!(ring.open(&aad, &garbage).is_err());
            assert!(ring.open_backup("secret", &garbage).is_err());
            assert!(Keyring::open_with(&RootKey::generate().unwrap(), &garbage).is_err());
        }
    }
}
