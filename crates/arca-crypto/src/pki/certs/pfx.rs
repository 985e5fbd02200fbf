//! PKCS#12 (PFX): reading an imported PFX and writing Key Vault's `application/x-pkcs12`
//! secret.
//!
//! Why Arca's own codec: AWS-LC's `PKCS12_parse`/`PKCS12_create` are reachable only through
//! `unsafe` FFI (the workspace forbids `unsafe`), and the pure-Rust PKCS#12 crates pull a
//! second ASN.1 stack and a dozen RustCrypto crates into a tree built on two cores. PKCS#12 is
//! a handful of nested SEQUENCEs, so it is read with `pki/der.rs` and its cryptography is
//! aws-lc's (PBKDF2, HMAC, AES-CBC, SHA-1/2); the two legacy ciphers aws-lc-rs does not
//! expose, 3DES and RC2, come from the small RustCrypto `des` and `rc2` crates.
//!
//! Read: PBES2 (PBKDF2 with HMAC-SHA-1/256/384/512, AES-128/192/256-CBC), as pyca/cryptography
//! and OpenSSL 3 write; pbeWithSHAAnd3-KeyTripleDES-CBC, pbeWithSHAAnd128BitRC2-CBC and
//! pbeWithSHAAnd40BitRC2-CBC, as Windows and `openssl -legacy` write; unencrypted bags. The
//! MAC (HMAC with SHA-1/256/384/512 under the PKCS#12 key derivation) is checked when present,
//! in constant time; without a password both the empty and the absent password are tried, as
//! OpenSSL does. Bags: keyBag, pkcs8ShroudedKeyBag, certBag (X.509); others are skipped.
//!
//! Limits: input at most `MAX_INPUT_LEN` (256 KiB); at most [`MAX_BAGS`] bags; each key
//! derivation at most [`MAX_PBKDF_ITERATIONS`] iterations (600 000, OWASP's figure for
//! PBKDF2-HMAC-SHA-256; OpenSSL and pyca write 2 048) and all of one PFX at most
//! [`MAX_TOTAL_ITERATIONS`] iterations times hash blocks derived. PBKDF2-HMAC-SHA-256 runs about
//! four million iterations a second on one core of this machine (OpenSSL, measured through
//! Python's hashlib), so a hostile PFX costs about half a second to a second of one core (the
//! PKCS#12 derivation, one SHA-1 per iteration here, is of the same order). BER indefinite
//! lengths are refused (the writers above emit DER).
//!
//! Written: version 3; the certificates (leaf first) in one unencrypted SafeContents, the key
//! (if exportable) as an unencrypted keyBag in a second; the leaf certificate and the key share
//! a localKeyId (SHA-1 of the leaf); a MAC with HMAC-SHA-256 under the empty password (2048
//! iterations, 16-byte salt), so `openssl pkcs12 -passin pass:` and pyca's
//! `load_key_and_certificates(data, None)` read it as they read Key Vault's password-less PFX.

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::{cipher, digest, hmac, pbkdf2};
use des::cipher::{BlockCipherDecrypt, KeyInit};
use zeroize::Zeroizing;

use super::parse::{key_certificate_first, ParsedCertificate};
use super::{cert_error, MAX_CHAIN_LEN, MAX_INPUT_LEN};
use crate::digest::sha1_thumbprint;
use crate::keys::PrivateKey;
use crate::pki::der::{self, Tlv};
use crate::seal::random::random_bytes;
use crate::{CryptoError, SecretBytes, SecretString};

/// Most iterations one key derivation may ask for.
pub const MAX_PBKDF_ITERATIONS: u32 = 600_000;
/// Most iterations all derivations of one PFX may ask for together.
pub const MAX_TOTAL_ITERATIONS: u64 = 2_000_000;
/// Most bags in one PFX.
pub const MAX_BAGS: usize = 32;
/// MAC iterations written.
const MAC_ITERATIONS: u32 = 2_048;

mod ids {
    pub(super) const DATA: &[u64] = &[1, 2, 840, 113_549, 1, 7, 1];
    pub(super) const ENCRYPTED_DATA: &[u64] = &[1, 2, 840, 113_549, 1, 7, 6];
    pub(super) const KEY_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 1];
    pub(super) const SHROUDED_KEY_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 2];
    pub(super) const CERT_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 3];
    pub(super) const X509_CERT: &[u64] = &[1, 2, 840, 113_549, 1, 9, 22, 1];
    pub(super) const LOCAL_KEY_ID: &[u64] = &[1, 2, 840, 113_549, 1, 9, 21];
    pub(super) const PBES2: &[u64] = &[1, 2, 840, 113_549, 1, 5, 13];
    pub(super) const PBKDF2: &[u64] = &[1, 2, 840, 113_549, 1, 5, 12];
    pub(super) const HMAC_SHA1: &[u64] = &[1, 2, 840, 113_549, 2, 7];
    pub(super) const HMAC_SHA256: &[u64] = &[1, 2, 840, 113_549, 2, 9];
    pub(super) const HMAC_SHA384: &[u64] = &[1, 2, 840, 113_549, 2, 10];
    pub(super) const HMAC_SHA512: &[u64] = &[1, 2, 840, 113_549, 2, 11];
    pub(super) const AES128_CBC: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 1, 2];
    pub(super) const AES192_CBC: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 1, 22];
    pub(super) const AES256_CBC: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 1, 42];
    pub(super) const PBE_SHA1_3DES: &[u64] = &[1, 2, 840, 113_549, 1, 12, 1, 3];
    pub(super) const PBE_SHA1_RC2_128: &[u64] = &[1, 2, 840, 113_549, 1, 12, 1, 5];
    pub(super) const PBE_SHA1_RC2_40: &[u64] = &[1, 2, 840, 113_549, 1, 12, 1, 6];
}

/// What a PFX holds.
#[derive(Debug)]
pub struct PfxContents {
    /// The private key, if the PFX had one.
    pub key: Option<PrivateKey>,
    /// The certificates: the key's certificate first when there is a key, then the others in
    /// the order found.
    pub chain: Vec<ParsedCertificate>,
}

fn malformed() -> CryptoError {
    cert_error("the PFX is malformed")
}

fn wrong_password() -> CryptoError {
    cert_error("the PFX password is wrong or the PFX is damaged")
}

/// The password in the two forms PKCS#12 uses.
struct Password {
    /// The raw bytes (UTF-8), for PBES2.
    utf8: Zeroizing<Vec<u8>>,
    /// BMPString with a terminating NUL, for the PKCS#12 key derivation; empty for the absent
    /// password.
    bmp: Zeroizing<Vec<u8>>,
}

impl Password {
    fn new(text: &str) -> Self {
        let mut bmp = Zeroizing::new(Vec::with_capacity(text.len() * 2 + 2));
        for unit in text.encode_utf16() {
            bmp.extend_from_slice(&unit.to_be_bytes());
        }
        bmp.extend_from_slice(&[0, 0]);
        Self {
            utf8: Zeroizing::new(text.as_bytes().to_vec()),
            bmp,
        }
    }

    fn absent() -> Self {
        Self {
            utf8: Zeroizing::new(Vec::new()),
            bmp: Zeroizing::new(Vec::new()),
        }
    }
}

/// Counts key-derivation work against the PFX's budget: iterations times the hash-output
/// blocks derived (a 3DES key and IV under the PKCS#12 derivation are three SHA-1 blocks).
struct Budget(u64);

impl Budget {
    fn spend(&mut self, iterations: u64, blocks: usize) -> Result<NonZeroU32, CryptoError> {
        if iterations == 0 || iterations > u64::from(MAX_PBKDF_ITERATIONS) {
            return Err(cert_error(
                "the PFX asks for more than 600000 key-derivation iterations",
            ));
        }
        self.0 += iterations * u64::try_from(blocks).map_err(|_| malformed())?;
        if self.0 > MAX_TOTAL_ITERATIONS {
            return Err(cert_error(
                "the PFX asks for more than 2000000 key-derivation iterations in all",
            ));
        }
        NonZeroU32::new(u32::try_from(iterations).map_err(|_| malformed())?).ok_or_else(malformed)
    }
}

/// Reads a PFX. `password` is the import's `pwd`; `None` tries the empty and absent passwords.
pub fn parse_pfx(data: &[u8], password: Option<&SecretString>) -> Result<PfxContents, CryptoError> {
    if data.len() > MAX_INPUT_LEN {
        return Err(cert_error("the PFX is larger than 256 KiB"));
    }
    let pfx = der::read_only(data, der::TAG_SEQUENCE).ok_or_else(malformed)?;
    let fields = der::children(pfx.content).ok_or_else(malformed)?;
    let (version, auth_safe, mac) = match fields.as_slice() {
        [v, a] => (v, a, None),
        [v, a, m] => (v, a, Some(m)),
        _ => return Err(malformed()),
    };
    if der::unsigned_integer(version) != Some(&[3][..]) {
        return Err(cert_error("the PFX is not version 3"));
    }
    let content = data_content(auth_safe).ok_or_else(malformed)?;
    let mut budget = Budget(0);
    let password = match (mac, password) {
        (Some(mac), Some(text)) => {
            let password = Password::new(text.expose());
            check_mac(mac, &content, &password, &mut budget)?;
            password
        }
        (Some(mac), None) => {
            let empty = Password::new("");
            if check_mac(mac, &content, &empty, &mut budget).is_ok() {
                empty
            } else {
                let absent = Password::absent();
                check_mac(mac, &content, &absent, &mut budget)?;
                absent
            }
        }
        (None, Some(text)) => Password::new(text.expose()),
        (None, None) => Password::new(""),
    };

    let safes = der::read_only(&content, der::TAG_SEQUENCE).ok_or_else(malformed)?;
    let mut keys: Vec<(SecretBytes, Option<Vec<u8>>)> = Vec::new();
    let mut certs: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    let mut bags = 0usize;
    for info in der::children(safes.content).ok_or_else(malformed)? {
        let (kind, _) = content_info(&info).ok_or_else(malformed)?;
        let safe_contents: Zeroizing<Vec<u8>> = if kind == ids::DATA {
            Zeroizing::new(data_content(&info).ok_or_else(malformed)?)
        } else if kind == ids::ENCRYPTED_DATA {
            encrypted_data(&info, &password, &mut budget)?
        } else {
            return Err(cert_error(
                "the PFX uses a content type other than data and encryptedData",
            ));
        };
        let list = der::read_only(&safe_contents, der::TAG_SEQUENCE).ok_or_else(malformed)?;
        for bag in der::children(list.content).ok_or_else(malformed)? {
            bags += 1;
            if bags > MAX_BAGS {
                return Err(cert_error("the PFX holds more than 32 bags"));
            }
            read_bag(&bag, &password, &mut budget, &mut keys, &mut certs)?;
        }
    }
    if keys.len() > 1 {
        return Err(cert_error("the PFX holds more than one private key"));
    }
    if certs.len() > MAX_CHAIN_LEN {
        return Err(cert_error("the PFX holds more than 10 certificates"));
    }
    let key = match keys.first() {
        Some((pkcs8, _)) => Some(
            PrivateKey::from_pkcs8(pkcs8.expose())
                .map_err(|e| CryptoError::Certificate(format!("the PFX private key: {e}")))?,
        ),
        None => None,
    };
    let mut chain = certs
        .iter()
        .map(|(d, _)| ParsedCertificate::from_der(d))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(key) = &key {
        key_certificate_first(&mut chain, key)?;
    }
    if chain.is_empty() {
        return Err(cert_error("the PFX holds no certificate"));
    }
    Ok(PfxContents { key, chain })
}

/// The OID and the `[0]` content of a ContentInfo.
fn content_info<'a>(info: &Tlv<'a>) -> Option<(Vec<u64>, Tlv<'a>)> {
    if info.tag != der::TAG_SEQUENCE {
        return None;
    }
    let parts = der::children(info.content)?;
    let [kind, content] = parts.as_slice() else {
        return None;
    };
    if kind.tag != der::TAG_OID || content.tag != 0xa0 {
        return None;
    }
    let (inner, rest) = der::read(content.content)?;
    rest.is_empty().then_some(())?;
    Some((der::oid_arcs(kind.content)?, inner))
}

/// The OCTET STRING bytes of a `data` ContentInfo (a constructed OCTET STRING is joined).
fn data_content(info: &Tlv<'_>) -> Option<Vec<u8>> {
    let (kind, inner) = content_info(info)?;
    if kind != ids::DATA {
        return None;
    }
    octets(&inner)
}

fn octets(tlv: &Tlv<'_>) -> Option<Vec<u8>> {
    match tlv.tag {
        der::TAG_OCTET_STRING | 0x80 => Some(tlv.content.to_vec()),
        0x24 | 0xa0 => {
            let mut out = Vec::new();
            for part in der::children(tlv.content)? {
                if part.tag != der::TAG_OCTET_STRING {
                    return None;
                }
                out.extend_from_slice(part.content);
            }
            Some(out)
        }
        _ => None,
    }
}

fn check_mac(
    mac: &Tlv<'_>,
    content: &[u8],
    password: &Password,
    budget: &mut Budget,
) -> Result<(), CryptoError> {
    let fields = (mac.tag == der::TAG_SEQUENCE)
        .then(|| der::children(mac.content))
        .flatten()
        .ok_or_else(malformed)?;
    let (digest_info, salt, iterations) = match fields.as_slice() {
        [d, s] => (d, s, 1),
        [d, s, i] => (d, s, small_integer(i).ok_or_else(malformed)?),
        _ => return Err(malformed()),
    };
    let digest_info = der::children(digest_info.content).ok_or_else(malformed)?;
    let [algorithm, expected] = digest_info.as_slice() else {
        return Err(malformed());
    };
    if salt.tag != der::TAG_OCTET_STRING || expected.tag != der::TAG_OCTET_STRING {
        return Err(malformed());
    }
    let hash = algorithm_oid(algorithm)
        .and_then(|id| hash_for(&id))
        .ok_or_else(|| cert_error("the PFX MAC uses an unsupported hash"))?;
    let iterations = budget.spend(iterations, 1)?;
    let key = pkcs12_kdf(
        hash,
        &password.bmp,
        salt.content,
        3,
        iterations,
        hash.output_len(),
    );
    let key = hmac::Key::new(hmac_for(hash), &key);
    hmac::verify(&key, content, expected.content).map_err(|_| wrong_password())
}

fn small_integer(tlv: &Tlv<'_>) -> Option<u64> {
    let magnitude = der::unsigned_integer(tlv)?;
    (magnitude.len() <= 4).then(|| magnitude.iter().fold(0u64, |n, b| n * 256 + u64::from(*b)))
}

fn algorithm_oid(algorithm: &Tlv<'_>) -> Option<Vec<u64>> {
    if algorithm.tag != der::TAG_SEQUENCE {
        return None;
    }
    let parts = der::children(algorithm.content)?;
    let id = parts.first().filter(|t| t.tag == der::TAG_OID)?;
    der::oid_arcs(id.content)
}

fn hash_for(id: &[u64]) -> Option<&'static digest::Algorithm> {
    use super::oid;
    match id {
        a if a == oid::SHA1 => Some(&digest::SHA1_FOR_LEGACY_USE_ONLY),
        a if a == oid::SHA256 => Some(&digest::SHA256),
        a if a == oid::SHA384 => Some(&digest::SHA384),
        a if a == oid::SHA512 => Some(&digest::SHA512),
        _ => None,
    }
}

fn hmac_for(hash: &'static digest::Algorithm) -> hmac::Algorithm {
    if hash == &digest::SHA256 {
        hmac::HMAC_SHA256
    } else if hash == &digest::SHA384 {
        hmac::HMAC_SHA384
    } else if hash == &digest::SHA512 {
        hmac::HMAC_SHA512
    } else {
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY
    }
}

/// The PKCS#12 key derivation (RFC 7292 appendix B.2): `len` bytes for purpose `id` (1 key,
/// 2 IV, 3 MAC key) from the BMPString password and salt.
fn pkcs12_kdf(
    hash: &'static digest::Algorithm,
    password: &[u8],
    salt: &[u8],
    id: u8,
    iterations: NonZeroU32,
    len: usize,
) -> Zeroizing<Vec<u8>> {
    let u = hash.output_len();
    let v = hash.block_len();
    let fill = |input: &[u8]| -> Vec<u8> {
        if input.is_empty() {
            return Vec::new();
        }
        let total = v * input.len().div_ceil(v);
        input.iter().copied().cycle().take(total).collect()
    };
    let mut i = Zeroizing::new(fill(salt));
    i.extend_from_slice(&Zeroizing::new(fill(password)));
    let mut out = Zeroizing::new(Vec::with_capacity(len + u));
    while out.len() < len {
        let mut context = digest::Context::new(hash);
        context.update(&vec![id; v]);
        context.update(&i);
        let mut a = Zeroizing::new(context.finish().as_ref().to_vec());
        for _ in 1..iterations.get() {
            *a = digest::digest(hash, &a).as_ref().to_vec();
        }
        out.extend_from_slice(&a);
        if out.len() >= len {
            break;
        }
        // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
        let b: Zeroizing<Vec<u8>> = Zeroizing::new(a.iter().copied().cycle().take(v).collect());
        for block in i.chunks_mut(v) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().zip(b.iter()).rev() {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(len);
    out
}

/// Decrypts an encryptedData ContentInfo's content.
fn encrypted_data(
    info: &Tlv<'_>,
    password: &Password,
    budget: &mut Budget,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (_, inner) = content_info(info).ok_or_else(malformed)?;
    let fields = (inner.tag == der::TAG_SEQUENCE)
        .then(|| der::children(inner.content))
        .flatten()
        .ok_or_else(malformed)?;
    let encrypted = fields
        .get(1)
        .filter(|t| t.tag == der::TAG_SEQUENCE)
        .and_then(|t| der::children(t.content))
        .ok_or_else(malformed)?;
    let [_, algorithm, ciphertext] = encrypted.as_slice() else {
        return Err(malformed());
    };
    let ciphertext = octets(ciphertext).ok_or_else(malformed)?;
    decrypt(algorithm, &ciphertext, password, budget)
}

/// Decrypts `ciphertext` under a password-based encryption AlgorithmIdentifier.
fn decrypt(
    algorithm: &Tlv<'_>,
    ciphertext: &[u8],
    password: &Password,
    budget: &mut Budget,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let unsupported = || cert_error("the PFX uses an unsupported encryption algorithm");
    let parts = (algorithm.tag == der::TAG_SEQUENCE)
        .then(|| der::children(algorithm.content))
        .flatten()
        .ok_or_else(malformed)?;
    let [id, params] = parts.as_slice() else {
        return Err(malformed());
    };
    let id = (id.tag == der::TAG_OID)
        .then(|| der::oid_arcs(id.content))
        .flatten()
        .ok_or_else(malformed)?;
    if id == ids::PBES2 {
        return pbes2(params, ciphertext, password, budget);
    }
    let (key_len, rc2_bits): (usize, _) = match id.as_slice() {
        a if a == ids::PBE_SHA1_3DES => (24, None),
        a if a == ids::PBE_SHA1_RC2_128 => (16, Some(128)),
        a if a == ids::PBE_SHA1_RC2_40 => (5, Some(40)),
        _ => return Err(unsupported()),
    };
    let fields = der::children(params.content).ok_or_else(malformed)?;
    let [salt, iterations] = fields.as_slice() else {
        return Err(malformed());
    };
    if salt.tag != der::TAG_OCTET_STRING {
        return Err(malformed());
    }
    let blocks = key_len.div_ceil(20) + 1;
    let iterations = budget.spend(small_integer(iterations).ok_or_else(malformed)?, blocks)?;
    let sha1 = &digest::SHA1_FOR_LEGACY_USE_ONLY;
    let key = pkcs12_kdf(sha1, &password.bmp, salt.content, 1, iterations, key_len);
    let iv = pkcs12_kdf(sha1, &password.bmp, salt.content, 2, iterations, 8);
    let plaintext = match rc2_bits {
        None => {
            let cipher = des::TdesEde3::new_from_slice(&key).map_err(|_| malformed())?;
            cbc_decrypt(|block| cipher.decrypt_block(block.into()), &iv, ciphertext)
        }
        Some(bits) => {
            let cipher = rc2::Rc2::new_with_eff_key_len(&key, bits);
            cbc_decrypt(|block| cipher.decrypt_block(block.into()), &iv, ciphertext)
        }
    };
    plaintext.ok_or_else(wrong_password)
}

/// CBC decryption over an 8-byte block cipher, PKCS#7 padding checked and removed.
fn cbc_decrypt(
    decrypt_block: impl Fn(&mut [u8; 8]),
    iv: &[u8],
    ciphertext: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if ciphertext.is_empty() || ciphertext.len() % 8 != 0 {
        return None;
    }
    let mut previous: [u8; 8] = iv.try_into().ok()?;
    let mut out = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    for chunk in ciphertext.chunks_exact(8) {
        let mut block: [u8; 8] = chunk.try_into().ok()?;
        decrypt_block(&mut block);
        for (byte, prev) in block.iter_mut().zip(previous) {
            *byte ^= prev;
        }
        out.extend_from_slice(&block);
        previous.copy_from_slice(chunk);
    }
    let pad = usize::from(*out.last()?);
    if pad == 0
        || pad > 8
        || !out[out.len() - pad..]
            .iter()
            .all(|&b| usize::from(b) == pad)
    {
        return None;
    }
    let len = out.len() - pad;
    out.truncate(len);
    Some(out)
}

/// PBES2 (RFC 8018): PBKDF2 then AES-CBC.
fn pbes2(
    params: &Tlv<'_>,
    ciphertext: &[u8],
    password: &Password,
    budget: &mut Budget,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let unsupported = || cert_error("the PFX uses an unsupported PBES2 scheme");
    let fields = der::children(params.content).ok_or_else(malformed)?;
    let [kdf, scheme] = fields.as_slice() else {
        return Err(malformed());
    };
    let kdf = der::children(kdf.content).ok_or_else(malformed)?;
    let [kdf_id, kdf_params] = kdf.as_slice() else {
        return Err(malformed());
    };
    if der::oid_arcs(kdf_id.content).as_deref() != Some(ids::PBKDF2) {
        return Err(unsupported());
    }
    let kdf_fields = der::children(kdf_params.content).ok_or_else(malformed)?;
    let salt = kdf_fields
        .first()
        .filter(|t| t.tag == der::TAG_OCTET_STRING)
        .ok_or_else(unsupported)?;
    let iterations = kdf_fields
        .get(1)
        .and_then(small_integer)
        .ok_or_else(malformed)?;
    let mut prf = pbkdf2::PBKDF2_HMAC_SHA1;
    for field in kdf_fields.iter().skip(2) {
        if field.tag == der::TAG_SEQUENCE {
            prf = match algorithm_oid(field).ok_or_else(malformed)?.as_slice() {
                a if a == ids::HMAC_SHA1 => pbkdf2::PBKDF2_HMAC_SHA1,
                a if a == ids::HMAC_SHA256 => pbkdf2::PBKDF2_HMAC_SHA256,
                a if a == ids::HMAC_SHA384 => pbkdf2::PBKDF2_HMAC_SHA384,
                a if a == ids::HMAC_SHA512 => pbkdf2::PBKDF2_HMAC_SHA512,
                _ => return Err(unsupported()),
            };
        }
    }
    let scheme = der::children(scheme.content).ok_or_else(malformed)?;
    let [scheme_id, iv] = scheme.as_slice() else {
        return Err(malformed());
    };
    let (aes, key_len): (&'static cipher::Algorithm, usize) = match der::oid_arcs(scheme_id.content)
        .ok_or_else(malformed)?
        .as_slice()
    {
        a if a == ids::AES128_CBC => (&cipher::AES_128, 16),
        a if a == ids::AES192_CBC => (&cipher::AES_192, 24),
        a if a == ids::AES256_CBC => (&cipher::AES_256, 32),
        _ => return Err(unsupported()),
    };
    let iv: [u8; 16] = (iv.tag == der::TAG_OCTET_STRING)
        .then(|| iv.content.try_into().ok())
        .flatten()
        .ok_or_else(malformed)?;
    // Counted as SHA-1-sized blocks, the most any PRF here needs for the key.
    let iterations = budget.spend(iterations, key_len.div_ceil(20))?;
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    pbkdf2::derive(prf, iterations, salt.content, &password.utf8, &mut key);
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(malformed());
    }
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let len = UnboundCipherKey::new(aes, &key)
        .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
        .and_then(|k| {
            k.decrypt(&mut buffer, DecryptionContext::Iv128(iv.into()))
                .map(|p| p.len())
        })
        .map_err(|_| wrong_password())?;
    buffer.truncate(len);
    Ok(buffer)
}

/// An `EncryptedPrivateKeyInfo` (PKCS#8 under PBES2 or a PKCS#12 PBE) decrypted to PKCS#8.
pub(crate) fn decrypt_pkcs8(
    encrypted: &[u8],
    password: &SecretString,
) -> Result<SecretBytes, CryptoError> {
    let info = der::read_only(encrypted, der::TAG_SEQUENCE).ok_or_else(malformed)?;
    let parts = der::children(info.content).ok_or_else(malformed)?;
    let [algorithm, data] = parts.as_slice() else {
        return Err(malformed());
    };
    if data.tag != der::TAG_OCTET_STRING {
        return Err(malformed());
    }
    let plain = decrypt(
        algorithm,
        data.content,
        &Password::new(password.expose()),
        &mut Budget(0),
    )?;
    Ok(SecretBytes::from_slice(&plain))
}

/// The localKeyId attribute of a bag, if any.
fn local_key_id(attributes: Option<&Tlv<'_>>) -> Option<Vec<u8>> {
    let attributes = attributes.filter(|a| a.tag == der::TAG_SET)?;
    der::children(attributes.content)?
        .iter()
        .find_map(|attribute| {
            let parts = der::children(attribute.content)?;
            let [id, values] = parts.as_slice() else {
                return None;
            };
            if der::oid_arcs(id.content)? != ids::LOCAL_KEY_ID {
                return None;
            }
            let value = der::read_only(values.content, der::TAG_OCTET_STRING)?;
            Some(value.content.to_vec())
        })
}

type KeyBags = Vec<(SecretBytes, Option<Vec<u8>>)>;
type CertBags = Vec<(Vec<u8>, Option<Vec<u8>>)>;

fn read_bag(
    bag: &Tlv<'_>,
    password: &Password,
    budget: &mut Budget,
    keys: &mut KeyBags,
    certs: &mut CertBags,
) -> Result<(), CryptoError> {
    let parts = (bag.tag == der::TAG_SEQUENCE)
        .then(|| der::children(bag.content))
        .flatten()
        .ok_or_else(malformed)?;
    let (id, value, attributes) = match parts.as_slice() {
        [i, v] => (i, v, None),
        [i, v, a] => (i, v, Some(a)),
        _ => return Err(malformed()),
    };
    let id = (id.tag == der::TAG_OID && value.tag == 0xa0)
        .then(|| der::oid_arcs(id.content))
        .flatten()
        .ok_or_else(malformed)?;
    let (inner, rest) = der::read(value.content).ok_or_else(malformed)?;
    if !rest.is_empty() {
        return Err(malformed());
    }
    let local_id = local_key_id(attributes);
    match id.as_slice() {
        a if a == ids::KEY_BAG => keys.push((SecretBytes::from_slice(inner.raw), local_id)),
        a if a == ids::SHROUDED_KEY_BAG => {
            let parts = der::children(inner.content).ok_or_else(malformed)?;
            let [algorithm, data] = parts.as_slice() else {
                return Err(malformed());
            };
            let data = octets(data).ok_or_else(malformed)?;
            let plain = decrypt(algorithm, &data, password, budget)?;
            keys.push((SecretBytes::from_slice(&plain), local_id));
        }
        a if a == ids::CERT_BAG => {
            let parts = der::children(inner.content).ok_or_else(malformed)?;
            let [kind, value] = parts.as_slice() else {
                return Err(malformed());
            };
            if der::oid_arcs(kind.content).as_deref() != Some(ids::X509_CERT) {
                return Ok(());
            }
            let cert = (value.tag == 0xa0)
                .then(|| der::read_only(value.content, der::TAG_OCTET_STRING))
                .flatten()
                .ok_or_else(malformed)?;
            certs.push((cert.content.to_vec(), local_id));
        }
        _ => {}
    }
    Ok(())
}

fn bag(id: &[u64], value: &[u8], local_id: Option<&[u8]>) -> Zeroizing<Vec<u8>> {
    let mut content = Zeroizing::new(der::encode_oid(id));
    content.extend_from_slice(&Zeroizing::new(der::encode(0xa0, value)));
    if let Some(local_id) = local_id {
        let attribute = [
            der::encode_oid(ids::LOCAL_KEY_ID),
            der::encode(der::TAG_SET, &der::encode(der::TAG_OCTET_STRING, local_id)),
        ]
        .concat();
        content.extend(der::encode(
            der::TAG_SET,
            &der::encode(der::TAG_SEQUENCE, &attribute),
        ));
    }
    Zeroizing::new(der::encode(der::TAG_SEQUENCE, &content))
}

/// A `data` ContentInfo around `content`.
fn data_info(content: &[u8]) -> Zeroizing<Vec<u8>> {
    let octets = Zeroizing::new(der::encode(der::TAG_OCTET_STRING, content));
    let wrapped = Zeroizing::new(der::encode(0xa0, &octets));
    let mut info = der::encode_oid(ids::DATA);
    info.extend_from_slice(&wrapped);
    let out = Zeroizing::new(der::encode(der::TAG_SEQUENCE, &info));
    drop(Zeroizing::new(info));
    out
}

/// Key Vault's password-less PFX for `chain` (DER, leaf first) and, when exportable, `key`.
pub fn build_pfx(key: Option<&PrivateKey>, chain: &[Vec<u8>]) -> Result<SecretBytes, CryptoError> {
    let leaf = chain
        .first()
        .ok_or_else(|| cert_error("a PFX needs at least one certificate"))?;
    if chain.len() > MAX_CHAIN_LEN {
        return Err(cert_error("the chain has more than 10 certificates"));
    }
    let local_id = sha1_thumbprint(leaf);
    let mut cert_bags = Vec::new();
    for (index, cert) in chain.iter().enumerate() {
        let value = [
            der::encode_oid(ids::X509_CERT),
            der::encode(0xa0, &der::encode(der::TAG_OCTET_STRING, cert)),
        ]
        .concat();
        let id = (index == 0 && key.is_some()).then_some(&local_id[..]);
        cert_bags.extend_from_slice(&bag(
            ids::CERT_BAG,
            &der::encode(der::TAG_SEQUENCE, &value),
            id,
        ));
    }
    let mut safes = Zeroizing::new(data_info(&der::encode(der::TAG_SEQUENCE, &cert_bags)).to_vec());
    if let Some(key) = key {
        let pkcs8 = key
            .to_pkcs8()
            .map_err(|_| cert_error("the certificate key cannot be exported"))?;
        let key_bag = bag(ids::KEY_BAG, pkcs8.expose(), Some(&local_id));
        let contents = Zeroizing::new(der::encode(der::TAG_SEQUENCE, &key_bag));
        safes.extend_from_slice(&data_info(&contents));
    }
    let auth_safe_content = Zeroizing::new(der::encode(der::TAG_SEQUENCE, &safes));

    let salt = random_bytes::<16>()?;
    let iterations = NonZeroU32::new(MAC_ITERATIONS).ok_or_else(malformed)?;
    let password = Password::new("");
    let mac_key = pkcs12_kdf(&digest::SHA256, &password.bmp, &salt, 3, iterations, 32);
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &mac_key),
        &auth_safe_content,
    );
    let algorithm = der::encode(
        der::TAG_SEQUENCE,
        &[
            der::encode_oid(super::oid::SHA256),
            der::encode(der::TAG_NULL, &[]),
        ]
        .concat(),
    );
    let digest_info = der::encode(
        der::TAG_SEQUENCE,
        &[algorithm, der::encode(der::TAG_OCTET_STRING, tag.as_ref())].concat(),
    );
    let mac_data = der::encode(
        der::TAG_SEQUENCE,
        &[
            digest_info,
            der::encode(der::TAG_OCTET_STRING, &salt),
            der::encode_unsigned_integer(&MAC_ITERATIONS.to_be_bytes()),
        ]
        .concat(),
    );
    let mut pfx = Zeroizing::new(der::encode_unsigned_integer(&[3]));
    pfx.extend_from_slice(&data_info(&auth_safe_content));
    pfx.extend_from_slice(&mac_data);
    Ok(SecretBytes::new(der::encode(der::TAG_SEQUENCE, &pfx)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Curve;
    use crate::pki::certs::build::test_certificate;

    fn cert_for(key: &PrivateKey) -> Vec<u8> {
        test_certificate(key, "CN=pfx")
    }

    #[test]
    fn pkcs12_kdf_matches_a_known_vector() {
        // RFC 7292's KDF for password "smeg", salt 0A58CF64530D823F, id 1, 1 iteration, 24
        // bytes (a vector widely used by PKCS#12 implementations' tests).
        let password = Password::new("smeg");
        let salt = [0x0a, 0x58, 0xcf, 0x64, 0x53, 0x0d, 0x82, 0x3f];
        let one = NonZeroU32::new(1).unwrap();
        let key = pkcs12_kdf(
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            &password.bmp,
            &salt,
            1,
            one,
            24,
        );
        let expected = [
            0x8a, 0xaa, 0xe6, 0x29, 0x7b, 0x6c, 0xb0, 0x46, 0x42, 0xab, 0x5b, 0x07, 0x78, 0x51,
            0x28, 0x4e, 0xb7, 0x12, 0x8f, 0x1a, 0x2a, 0x7f, 0xbc, 0xa3,
        ];
        assert_eq!(key.as_slice(), expected);
    }

    #[test]
    fn built_pfx_round_trips() {
        let key = PrivateKey::generate_rsa(2048).unwrap();
        let leaf = cert_for(&key);
        let other = cert_for(&PrivateKey::generate_ec(Curve::P256).unwrap());
        let pfx = build_pfx(Some(&key), &[leaf.clone(), other.clone()]).unwrap();
        let read = parse_pfx(pfx.expose(), None).unwrap();
        assert!(read.chain[0].public_key_matches(read.key.as_ref().unwrap()));
        assert_eq!(read.chain[0].der, leaf);
        assert_eq!(read.chain[1].der, other);
        let empty = SecretString::new(String::new());
        assert!(parse_pfx(pfx.expose(), Some(&empty)).is_ok());
        let wrong = SecretString::new("hunter2".into());
        let err = parse_pfx(pfx.expose(), Some(&wrong))
            .unwrap_err()
            .to_string();
        assert!(err.contains("password"), "{err}");
        assert!(!err.contains("hunter2"));

        let public = build_pfx(None, std::slice::from_ref(&leaf)).unwrap();
        let read = parse_pfx(public.expose(), None).unwrap();
        assert!(read.key.is_none());
        assert_eq!(read.chain.len(), 1);
    }

    #[test]
    fn tampering_and_garbage_are_refused() {
        let key = PrivateKey::generate_ec(Curve::P256).unwrap();
        let pfx = build_pfx(Some(&key), &[cert_for(&key)]).unwrap();
        let mut tampered = pfx.expose().to_vec();
        let middle = tampered.len() / 2;
        tampered[middle] ^= 1;
        assert!(parse_pfx(&tampered, None).is_err());
        for cut in [0, 1, 10, pfx.len() - 1] {
            assert!(parse_pfx(&pfx.expose()[..cut], None).is_err());
        }
        assert!(parse_pfx(&vec![0x30; MAX_INPUT_LEN + 1], None).is_err());
        assert!(build_pfx(Some(&key), &[]).is_err());
    }

    #[test]
    fn iteration_budget_is_enforced() {
        let mut budget = Budget(0);
        assert!(budget.spend(0, 1).is_err());
        assert!(budget
            .spend(u64::from(MAX_PBKDF_ITERATIONS) + 1, 1)
            .is_err());
        for _ in 0..3 {
            assert!(budget.spend(u64::from(MAX_PBKDF_ITERATIONS), 1).is_ok());
        }
        assert!(budget.spend(u64::from(MAX_PBKDF_ITERATIONS), 1).is_err());
        // A 3DES key and IV (three blocks) at 600000 iterations is over the budget at once.
        assert!(Budget(0).spend(u64::from(MAX_PBKDF_ITERATIONS), 3).is_ok());
        assert!(Budget(0).spend(u64::from(MAX_PBKDF_ITERATIONS), 4).is_err());
    }
}
