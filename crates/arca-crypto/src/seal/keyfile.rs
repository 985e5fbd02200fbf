//! The key file, its key-encryption key ([`Kek`]) and the deployment's [`RootKey`].
//!
//! The key file is the default seal of a single-node deployment: it holds 32 random bytes as
//! `arca-key-file-v1:<base64>\n`, is created once with mode 0600 and never overwritten, and is
//! refused when group or others may access it (as ssh refuses a private key). The key in it only
//! ever seals and opens the root key; it must not be used for anything else.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use aws_lc_rs::aead::LessSafeKey;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::seal::aead::{self, KEY_LEN};
use crate::seal::random::random_bytes;
use crate::CryptoError;

/// First bytes of every key file; the version lets a later format coexist.
const KEY_FILE_PREFIX: &str = "arca-key-file-v1:";
/// A valid key file is 62 bytes; anything much larger is not one.
const MAX_KEY_FILE_LEN: usize = 256;
/// Associated data binding a sealed root key to its purpose.
const ROOT_KEY_AAD: &[u8] = b"arca/root-key/v1";
/// Format byte in front of a sealed root key.
const SEALED_ROOT_KEY_FORMAT: u8 = 0x01;

/// Key-encryption key read from a key file (or another seal); it seals the root key.
pub struct Kek {
    key: LessSafeKey,
}

impl Kek {
    /// Builds a key-encryption key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Self {
            key: aead::key_from_bytes(bytes)?,
        })
    }

    /// Seals the root key: `[0x01][nonce][ciphertext||tag]`, associated data `arca/root-key/v1`.
    pub fn seal_root_key(&self, root: &RootKey) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![SEALED_ROOT_KEY_FORMAT];
        aead::seal_append(&self.key, ROOT_KEY_AAD, root.bytes.as_slice(), &mut out)?;
        Ok(out)
    }

    /// Opens a root key sealed by [`Kek::seal_root_key`]; `Open` if the key or the bytes are wrong.
    pub fn open_root_key(&self, sealed: &[u8]) -> Result<RootKey, CryptoError> {
        let Some((&SEALED_ROOT_KEY_FORMAT, body)) = sealed.split_first() else {
            return Err(CryptoError::Open);
        };
        let plaintext = aead::open(&self.key, ROOT_KEY_AAD, body)?;
        RootKey::from_bytes(plaintext.expose()).map_err(|_| CryptoError::Open)
    }
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek([REDACTED])")
    }
}

/// The deployment's root key: 32 bytes that seal the keyring. Zeroized on drop.
pub struct RootKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
    key: LessSafeKey,
}

impl RootKey {
    /// A fresh random root key.
    pub fn generate() -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(random_bytes::<KEY_LEN>()?);
        Self::from_bytes(bytes.as_slice())
    }

    /// Rebuilds a root key from its 32 bytes (crate-internal: only seals hand these out).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let mut raw = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::InvalidKey);
        }
        raw.copy_from_slice(bytes);
        Ok(Self {
            key: aead::key_from_bytes(raw.as_slice())?,
            bytes: raw,
        })
    }

    /// The AES-256-GCM key used to seal the keyring.
    pub(crate) fn aead(&self) -> &LessSafeKey {
        &self.key
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey([REDACTED])")
    }
}

/// Loads the key file at `path`, creating it with a fresh random key if it does not exist.
///
/// Returns the key and whether the file was created by this call. An existing file is never
/// overwritten. Errors name the path and the problem, never the key.
pub fn load_or_create_key_file(path: &Path) -> Result<(Kek, bool), CryptoError> {
    match File::open(path) {
        Ok(file) => return Ok((read_key_file(path, file)?, false)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(key_file_error(path, &format!("cannot be opened: {err}"))),
    }
    if let Some(kek) = create_key_file(path)? {
        return Ok((kek, true));
    }
    // Another process created the file between our open and our create: use its key.
    let file = File::open(path)
        .map_err(|err| key_file_error(path, &format!("cannot be opened: {err}")))?;
    Ok((read_key_file(path, file)?, false))
}

fn key_file_error(path: &Path, problem: &str) -> CryptoError {
    CryptoError::KeyFile(format!("{}: {problem}", path.display()))
}

fn read_key_file(path: &Path, file: File) -> Result<Kek, CryptoError> {
    let meta = file
        .metadata()
        .map_err(|err| key_file_error(path, &format!("cannot be inspected: {err}")))?;
    if !meta.is_file() {
        return Err(key_file_error(path, "is not a regular file"));
    }
    check_private_mode(path, &meta)?;
    // Capacity well above the read limit, so reading never reallocates and strands a key copy.
    let mut content = Zeroizing::new(Vec::with_capacity(4 * MAX_KEY_FILE_LEN));
    file.take(MAX_KEY_FILE_LEN as u64 + 1)
        .read_to_end(&mut content)
        .map_err(|err| key_file_error(path, &format!("cannot be read: {err}")))?;
    if content.len() > MAX_KEY_FILE_LEN {
        return Err(key_file_error(path, "is too large to be an Arca key file"));
    }
    let key = parse_key_file(&content).map_err(|problem| key_file_error(path, problem))?;
    Kek::from_bytes(key.as_slice())
}

#[cfg(unix)]
fn check_private_mode(path: &Path, meta: &std::fs::Metadata) -> Result<(), CryptoError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(key_file_error(
            path,
            &format!(
                "is accessible by group or others (mode {mode:03o}); restrict it with chmod 600"
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_mode(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), CryptoError> {
    // Only Unix permission bits are checked; elsewhere the operator secures the file with ACLs.
    Ok(())
}

/// Parses `arca-key-file-v1:<base64 of 32 bytes>` with at most one trailing newline.
fn parse_key_file(content: &[u8]) -> Result<Zeroizing<Vec<u8>>, &'static str> {
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    let encoded = content
        .strip_prefix(KEY_FILE_PREFIX.as_bytes())
        .ok_or("does not start with \"arca-key-file-v1:\"; it is not an Arca key file")?;
    let mut key = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_LEN));
    STANDARD
        .decode_vec(encoded, &mut key)
        .map_err(|_| "holds a key that is not valid base64")?;
    if key.len() != KEY_LEN {
        return Err("holds a key that is not 32 bytes long");
    }
    Ok(key)
}

/// Creates the key file; `Ok(None)` if it appeared meanwhile (nothing is ever overwritten).
fn create_key_file(path: &Path) -> Result<Option<Kek>, CryptoError> {
    // Draw the key first so a failing generator does not leave an empty file behind.
    let key = Zeroizing::new(random_bytes::<KEY_LEN>()?);
    let mut content = Zeroizing::new(String::with_capacity(MAX_KEY_FILE_LEN));
    content.push_str(KEY_FILE_PREFIX);
    STANDARD.encode_string(key.as_slice(), &mut content);
    content.push('\n');

    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
        Err(err) => return Err(key_file_error(path, &format!("cannot be created: {err}"))),
    };
    let written = file
        .write_all(content.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(err) = written {
        drop(file);
        // A half-written key file would refuse every later start; remove our own partial file.
        let _ = std::fs::remove_file(path);
        return Err(key_file_error(path, &format!("cannot be written: {err}")));
    }
    sync_parent_dir(path)?;
    Kek::from_bytes(key.as_slice()).map(Some)
}

/// Makes the new directory entry durable, so a crash cannot lose a key that already sealed data.
#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> Result<(), CryptoError> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| key_file_error(path, &format!("parent directory cannot be synced: {err}")))
}

#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> Result<(), CryptoError> {
    // Directories cannot be opened for syncing on this platform; the file itself was synced.
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;
    use std::path::PathBuf;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TestDir(PathBuf);

    impl TestDir {
        fn new() -> Self {
            let suffix: String = random_bytes::<8>()
                .unwrap()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let dir = std::env::temp_dir().join(format!("arca-crypto-test-{suffix}"));
            std::fs::create_dir(&dir).unwrap();
            Self(dir)
        }

        fn join(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn write_with_mode(path: &Path, content: &[u8], mode: u32) {
        std::fs::write(path, content).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn error_text(result: Result<(Kek, bool), CryptoError>) -> String {
        match result {
            Err(err @ CryptoError::KeyFile(_)) => err.to_string(),
            other => panic!("expected a key file error, got {other:?}"),
        }
    }

    #[test]
    fn creates_a_private_key_file_then_loads_the_same_key() {
        let dir = TestDir::new();
        let path = dir.join("arca.key");
        let (created_kek, created) = load_or_create_key_file(&path).unwrap();
        assert!(created);

        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let content = std::fs::read_to_string(&path).unwrap();
        let encoded = content
            .strip_prefix("arca-key-file-v1:")
            .and_then(|rest| rest.strip_suffix('\n'))
            .unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap().len(), 32);

        let (loaded_kek, created_again) = load_or_create_key_file(&path).unwrap();
        assert!(!created_again);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content);

        let root = RootKey::generate().unwrap();
        let sealed = created_kek.seal_root_key(&root).unwrap();
        let reopened = loaded_kek.open_root_key(&sealed).unwrap();
        assert_eq!(reopened.bytes, root.bytes);
    }

    #[test]
    fn accepts_a_key_file_without_trailing_newline() {
        let dir = TestDir::new();
        let path = dir.join("k");
        let line = format!("arca-key-file-v1:{}", STANDARD.encode([9u8; 32]));
        write_with_mode(&path, line.as_bytes(), 0o600);
        let (kek, created) = load_or_create_key_file(&path).unwrap();
        assert!(!created);
        let expected = Kek::from_bytes(&[9u8; 32]).unwrap();
        let root = RootKey::generate().unwrap();
        assert!(expected
            .open_root_key(&kek.seal_root_key(&root).unwrap())
            .is_ok());
    }

    #[test]
    fn refuses_a_wrong_prefix_and_names_the_path() {
        let dir = TestDir::new();
        let path = dir.join("wrong-prefix.key");
        let encoded = STANDARD.encode([1u8; 32]);
        write_with_mode(
            &path,
            format!("arca-key-file-v2:{encoded}\n").as_bytes(),
            0o600,
        );
        let text = error_text(load_or_create_key_file(&path));
        assert!(text.contains("wrong-prefix.key"), "{text}");
        assert!(text.contains("does not start with"), "{text}");
        assert!(!text.contains(&encoded), "{text}");
    }

    #[test]
    fn refuses_a_key_of_the_wrong_length() {
        let dir = TestDir::new();
        let path = dir.join("short.key");
        let encoded = STANDARD.encode([1u8; 31]);
        write_with_mode(
            &path,
            format!("arca-key-file-v1:{encoded}\n").as_bytes(),
            0o600,
        );
        let text = error_text(load_or_create_key_file(&path));
        assert!(
            text.contains("short.key") && text.contains("32 bytes"),
            "{text}"
        );
        assert!(!text.contains(&encoded), "{text}");
    }

    #[test]
    fn refuses_bad_base64_and_extra_lines() {
        let dir = TestDir::new();
        let path = dir.join("bad.key");
        write_with_mode(&path, b"arca-key-file-v1:not base64!\n", 0o600);
        let text = error_text(load_or_create_key_file(&path));
        assert!(text.contains("base64"), "{text}");

        let encoded = STANDARD.encode([1u8; 32]);
        write_with_mode(
            &path,
            format!("arca-key-file-v1:{encoded}\n\n").as_bytes(),
            0o600,
        );
        error_text(load_or_create_key_file(&path));
    }

    #[test]
    fn refuses_a_key_file_readable_by_others() {
        let dir = TestDir::new();
        let path = dir.join("open.key");
        let line = format!("arca-key-file-v1:{}\n", STANDARD.encode([1u8; 32]));
        write_with_mode(&path, line.as_bytes(), 0o644);
        let text = error_text(load_or_create_key_file(&path));
        assert!(text.contains("open.key") && text.contains("644"), "{text}");
        write_with_mode(&path, line.as_bytes(), 0o640);
        error_text(load_or_create_key_file(&path));
        write_with_mode(&path, line.as_bytes(), 0o400);
        assert!(load_or_create_key_file(&path).is_ok());
    }

    #[test]
    fn refuses_an_oversized_file_and_a_directory() {
        let dir = TestDir::new();
        let path = dir.join("big.key");
        write_with_mode(&path, &[b'a'; 4096], 0o600);
        let text = error_text(load_or_create_key_file(&path));
        assert!(text.contains("too large"), "{text}");

        let subdir = dir.join("a-directory");
        std::fs::create_dir(&subdir).unwrap();
        std::fs::set_permissions(&subdir, std::fs::Permissions::from_mode(0o700)).unwrap();
        error_text(load_or_create_key_file(&subdir));
    }

    #[test]
    fn missing_parent_directory_is_an_error_naming_the_path() {
        let dir = TestDir::new();
        let path = dir.join("no-such-dir").join("arca.key");
        let text = error_text(load_or_create_key_file(&path));
        assert!(text.contains("no-such-dir"), "{text}");
        assert!(!path.exists());
    }

    #[test]
    fn root_key_opens_only_with_its_kek_and_intact_bytes() {
        let kek = Kek::from_bytes(&[3u8; 32]).unwrap();
        let other = Kek::from_bytes(&[4u8; 32]).unwrap();
        let root = RootKey::generate().unwrap();
        let sealed = kek.seal_root_key(&root).unwrap();
        assert_eq!(sealed.len(), 1 + 12 + 32 + 16);
        assert_eq!(kek.open_root_key(&sealed).unwrap().bytes, root.bytes);
        assert!(matches!(
            other.open_root_key(&sealed),
            Err(CryptoError::Open)
        ));
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert!(
                matches!(kek.open_root_key(&tampered), Err(CryptoError::Open)),
                "byte {i}"
            );
        }
        assert!(matches!(kek.open_root_key(&[]), Err(CryptoError::Open)));
        assert!(matches!(
            kek.open_root_key(&sealed[..20]),
            Err(CryptoError::Open)
        ));
        // Two seals of the same key differ (fresh nonce).
        assert_ne!(sealed, kek.seal_root_key(&root).unwrap());
    }

    #[test]
    fn kek_and_root_key_debug_are_redacted() {
        assert_eq!(
            format!("{:?}", Kek::from_bytes(&[5u8; 32]).unwrap()),
            "Kek([REDACTED])"
        );
        let root = RootKey::from_bytes(&[0xabu8; 32]).unwrap();
        let shown = format!("{root:?}");
        assert_eq!(shown, "RootKey([REDACTED])");
        assert!(!shown.to_lowercase().contains("ab, "));
        assert!(matches!(
            Kek::from_bytes(&[0u8; 31]),
            Err(CryptoError::InvalidKey)
        ));
        assert!(matches!(
            RootKey::from_bytes(&[0u8; 33]),
            Err(CryptoError::InvalidKey)
        ));
    }
}
