//! First start and every later start: opens the data directory and brings up, or reuses, the
//! root key, keyring, tenant, token signing key, local CA and server certificate, the `default`
//! vault and the bootstrap administrator, and writes `bootstrap.json`.
//!
//! Initialisation is idempotent and race-safe across replicas: each piece is created with
//! `put_meta_if_absent` and then read back, so the first writer wins and everyone uses its value.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use arca_core::{Clock, VaultSettings};
use arca_crypto::{record_aad, CaMaterial, Keyring, SecretBytes, SecretString, TokenSigningKey};
use arca_store::{PrincipalRecord, Store, VaultRecord};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::identity::principal::{ClientSecretHash, PrincipalData, PrincipalKind};
use crate::identity::Issuer;
use crate::state::{AppState, Urls};

/// What start-up produces: the shared state and the TLS material to serve with.
pub struct Prepared {
    pub state: Arc<AppState>,
    pub tls_cert_chain_pem: String,
    pub tls_key_pkcs8: SecretBytes,
}

/// The contents of `bootstrap.json`.
#[derive(Serialize, Deserialize, PartialEq, Eq)]
pub struct BootstrapFile {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub authority_host: String,
    pub identity_endpoint: String,
    pub identity_header: String,
    pub vault_url: String,
    pub ca_cert: String,
}

impl std::fmt::Debug for BootstrapFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapFile")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

const SERVER_CERT_RENEW_BEFORE_SECS: i64 = 30 * 86_400;

/// Seals and opens deployment secrets (signing key, CA key, ...) with the keyring.
pub(crate) struct Sealer<'k>(pub(crate) &'k Keyring);

impl Sealer<'_> {
    fn aad(item: &str) -> Vec<u8> {
        record_aad("", "deployment", item, "", "sealed")
    }

    pub(crate) fn seal(&self, item: &str, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(self.0.seal(&Self::aad(item), bytes)?)
    }

    pub(crate) fn open(&self, item: &str, bytes: &[u8]) -> anyhow::Result<SecretBytes> {
        self.0
            .open(&Self::aad(item), bytes)
            .map_err(|_| anyhow!("sealed {item} does not open"))
    }
}

/// Formats 16 random bytes as a version-4 UUID.
pub fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

pub(crate) fn new_uuid() -> anyhow::Result<String> {
    Ok(uuid_v4(arca_crypto::random_bytes::<16>()?))
}

/// Reads `key`, or creates it with `make` if absent; the first writer among racing replicas wins.
async fn ensure_meta(
    store: &dyn Store,
    key: &str,
    make: impl FnOnce() -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<Vec<u8>> {
    if let Some(v) = store.meta(key).await? {
        return Ok(v);
    }
    store.put_meta_if_absent(key, &make()?).await?;
    store
        .meta(key)
        .await?
        .ok_or_else(|| anyhow!("metadata {key} vanished after it was written"))
}

fn write_private_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Opens (or initialises) everything in the data directory for a server bound to `port`.
pub async fn prepare(
    config: &Config,
    port: u16,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Prepared> {
    let now = clock.now();
    let data_dir = std::path::absolute(&config.data_dir)?;

    // Root key, sealed by the key file.
    let first_start = store.meta("root_key").await?.is_none();
    if !first_start && !config.key_file.exists() {
        bail!(
            "the key file {} is missing; it seals the root key of {} and is required to open it",
            config.key_file.display(),
            data_dir.display()
        );
    }
    let (kek, created) = arca_crypto::load_or_create_key_file(&config.key_file)
        .with_context(|| format!("key file {}", config.key_file.display()))?;
    if created {
        tracing::info!(path = %config.key_file.display(), "created a new key file");
    }
    if config.key_file_inside_data_dir() {
        tracing::warn!(
            path = %config.key_file.display(),
            "THE KEY FILE LIVES INSIDE THE DATA DIRECTORY: anyone with a copy of the directory can open every secret. Keep it elsewhere (--key-file) in production."
        );
    }
    let sealed_root = ensure_meta(&*store, "root_key", || {
        Ok(kek.seal_root_key(&arca_crypto::RootKey::generate()?)?)
    })
    .await?;
    let root = kek.open_root_key(&sealed_root).map_err(|_| {
        anyhow!(
            "the key file {} does not open this data directory's root key",
            config.key_file.display()
        )
    })?;
    let sealed_ring = ensure_meta(&*store, "keyring", || {
        Ok(Keyring::generate()?.seal_with(&root)?)
    })
    .await?;
    let keyring = Arc::new(
        Keyring::open_with(&root, &sealed_ring)
            .map_err(|_| anyhow!("the keyring does not open"))?,
    );

    let sealer = Sealer(&keyring);
    let seal = |item: &str, bytes: &[u8]| sealer.seal(item, bytes);
    let open = |item: &str, bytes: &[u8]| sealer.open(item, bytes);

    // Tenant and token signing key.
    let tenant_id = String::from_utf8(
        ensure_meta(&*store, "tenant_id", || Ok(new_uuid()?.into_bytes())).await?,
    )?;
    let sealed_signing = ensure_meta(&*store, "token_signing_key", || {
        let (_, pkcs8) = TokenSigningKey::generate()?;
        seal("token_signing_key", pkcs8.expose())
    })
    .await?;
    // Opened once here so a key file that cannot open it fails start-up early; the issuer loads
    // the current key set (after rotations) below.
    TokenSigningKey::from_pkcs8(open("token_signing_key", &sealed_signing)?.expose())?;

    // Local CA and server certificate.
    let stored_ca = ensure_meta(&*store, "ca", || {
        let ca = arca_crypto::generate_ca("Arca local CA", now)?;
        let record = StoredCa {
            cert_pem: ca.cert_pem.clone(),
            sealed_key: crate::b64url(&seal("ca_key", ca.key_pkcs8.expose())?),
        };
        Ok(serde_json::to_vec(&record)?)
    })
    .await?;
    let stored_ca: StoredCa =
        serde_json::from_slice(&stored_ca).context("stored CA does not parse")?;
    let sealed_ca_key = crate::b64url_decode(&stored_ca.sealed_key)
        .ok_or_else(|| anyhow!("stored CA key does not parse"))?;
    let ca = CaMaterial {
        cert_pem: stored_ca.cert_pem,
        key_pkcs8: open("ca_key", &sealed_ca_key)?,
    };
    let ca_path = data_dir.join("ca.pem");
    if std::fs::read_to_string(&ca_path).ok().as_deref() != Some(ca.cert_pem.as_str()) {
        std::fs::write(&ca_path, &ca.cert_pem)
            .with_context(|| format!("cannot write {}", ca_path.display()))?;
    }

    let mut sans = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        format!("*.{}", config.dns_suffix),
        config.dns_suffix.clone(),
    ];
    if !sans.contains(&config.issuer_host) {
        sans.push(config.issuer_host.clone());
    }
    let (cert_pem, key_pkcs8) = server_certificate(&*store, &ca, &sans, now, &sealer).await?;

    // Default vault and bootstrap principal, on first start only.
    let urls = Urls::new(&config.issuer_host, &config.dns_suffix, port);
    let bootstrap_path = data_dir.join("bootstrap.json");
    if first_start {
        let settings = VaultSettings::default();
        match store
            .create_vault(&VaultRecord {
                name: "default".into(),
                retention_days: settings.retention_days,
                purge_protection: settings.purge_protection,
                created: now,
            })
            .await
        {
            Ok(()) | Err(arca_store::StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let identity_header = ensure_meta(&*store, "identity_header", || {
        seal(
            "identity_header",
            crate::b64url(&arca_crypto::random_bytes::<24>()?).as_bytes(),
        )
    })
    .await?;
    let identity_header = SecretString::new(String::from_utf8(
        open("identity_header", &identity_header)?.expose().to_vec(),
    )?);

    let client_id = match store.meta("bootstrap_client_id").await? {
        Some(id) => String::from_utf8(id)?,
        None => {
            let client_id = new_uuid()?;
            let object_id = new_uuid()?;
            let secret = SecretString::new(crate::b64url(&arca_crypto::random_bytes::<30>()?));
            let to_hash = arca_crypto::SecretBytes::from_slice(secret.expose().as_bytes());
            let hash = crate::identity::run_hash(move || {
                arca_crypto::hash_client_secret(to_hash.expose())
            })
            .await
            .ok_or_else(|| anyhow::anyhow!("the client-secret hash did not finish"))??;
            let data = PrincipalData {
                display_name: "bootstrap administrator".into(),
                kind: PrincipalKind::ManagedIdentity,
                secrets: vec![ClientSecretHash {
                    id: new_uuid()?,
                    hash,
                    created: now,
                    expires: None,
                    description: Some("bootstrap.json".into()),
                    hint: secret.expose().chars().take(3).collect(),
                }],
                certificates: Vec::new(),
            };
            store
                .create_principal(&PrincipalRecord {
                    client_id: client_id.clone(),
                    object_id,
                    created: now,
                    data: data.encode(),
                })
                .await?;
            store
                .put_meta("bootstrap_client_id", client_id.as_bytes())
                .await?;
            let file = BootstrapFile {
                tenant_id: tenant_id.clone(),
                client_id: client_id.clone(),
                client_secret: secret.expose().to_owned(),
                authority_host: urls.authority_host.clone(),
                identity_endpoint: format!(
                    "{}{}",
                    urls.authority_host,
                    crate::identity::endpoints::MANAGED_IDENTITY_PATH
                ),
                identity_header: identity_header.expose().to_owned(),
                vault_url: urls.vault_url("default"),
                ca_cert: ca_path.display().to_string(),
            };
            write_bootstrap(&bootstrap_path, &file)?;
            client_id
        }
    };
    refresh_bootstrap(&bootstrap_path, &urls, &ca_path)?;
    assign_bootstrap_administrator(&*store, &client_id, now).await?;

    let access = crate::access::Access::new(crate::access::Snapshot::load(&*store).await?);
    let keys = crate::identity::keys::load(&*store, &keyring, now).await?;
    // "bootstrap" names the bootstrap principal; any other value must be a principal's client id.
    let resolve = async |key: &str, id: &Option<String>| -> anyhow::Result<Option<String>> {
        match id.as_deref() {
            None => Ok(None),
            Some("bootstrap") => Ok(Some(client_id.clone())),
            Some(id) if store.principal(id).await?.is_some() => Ok(Some(id.to_owned())),
            Some(id) => bail!("{key} names {id}, which is not the client id of any principal"),
        }
    };
    let app_service = resolve("app_service_identity", &config.app_service_identity).await?;
    let imds = resolve("imds_identity", &config.imds_identity).await?;
    let mut issuer = Issuer::new(
        &urls,
        tenant_id,
        keys,
        identity_header,
        app_service.unwrap_or_else(|| client_id.clone()),
        i64::from(config.token_lifetime_secs),
    )?;
    issuer.imds_client = imds;
    let state = Arc::new(AppState {
        store,
        keyring,
        clock,
        urls,
        issuer,
        tokens: Default::default(),
        access,
        jwks: crate::identity::jwks_fetch::JwksCache::new(),
        lockout: Default::default(),
        vaults: Default::default(),
        bodies: crate::body::BodyBudget::new(config.body_memory_mib),
    });
    let chain = format!("{cert_pem}{}", ca.cert_pem);
    Ok(Prepared {
        state,
        tls_cert_chain_pem: chain,
        tls_key_pkcs8: key_pkcs8,
    })
}

/// Gives the bootstrap principal Key Vault Administrator at `/`, once per deployment (an
/// operator may later remove that assignment once another administrator exists). The assignment
/// id is fixed, so racing replicas or a crash between the two writes cannot duplicate it.
async fn assign_bootstrap_administrator(
    store: &dyn Store,
    client_id: &str,
    now: i64,
) -> anyhow::Result<()> {
    const MARKER: &str = "bootstrap_administrator_assigned";
    if store.meta(MARKER).await?.is_some() {
        return Ok(());
    }
    let principal = store
        .principal(client_id)
        .await?
        .ok_or_else(|| anyhow!("the bootstrap principal is missing"))?;
    let doc = crate::access::AssignmentDoc {
        id: "00000000-0000-4000-8000-000000000001".into(),
        role_id: crate::access::ADMINISTRATOR_ROLE_ID.into(),
        principal_client_id: principal.client_id,
        principal_object_id: principal.object_id,
        scope: "/".into(),
        created: now,
    };
    let record = crate::access::policy_record(crate::access::kinds::ASSIGNMENT, &doc.id, &doc);
    match store.create_policy(&record).await {
        Ok(()) | Err(arca_store::StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    store.put_meta(MARKER, b"1").await?;
    tracing::info!("assigned Key Vault Administrator at / to the bootstrap principal");
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct StoredCa {
    cert_pem: String,
    sealed_key: String,
}

#[derive(Serialize, Deserialize)]
struct StoredServerCert {
    cert_pem: String,
    not_after: i64,
    sans: Vec<String>,
}

/// Reuses the stored server certificate unless its names changed or it expires within 30 days.
async fn server_certificate(
    store: &dyn Store,
    ca: &CaMaterial,
    sans: &[String],
    now: i64,
    sealer: &Sealer<'_>,
) -> anyhow::Result<(String, SecretBytes)> {
    let stored: Option<StoredServerCert> = store
        .meta("server_cert")
        .await?
        .and_then(|b| serde_json::from_slice(&b).ok());
    if let (Some(s), Some(key)) = (stored, store.meta("server_key").await?) {
        if s.sans == sans && s.not_after - now > SERVER_CERT_RENEW_BEFORE_SECS {
            return Ok((s.cert_pem, sealer.open("server_key", &key)?));
        }
    }
    let issued = arca_crypto::issue_server_cert(ca, sans, now)?;
    store
        .put_meta(
            "server_key",
            &sealer.seal("server_key", issued.key_pkcs8.expose())?,
        )
        .await?;
    let record = StoredServerCert {
        cert_pem: issued.cert_pem.clone(),
        not_after: issued.not_after,
        sans: sans.to_vec(),
    };
    store
        .put_meta("server_cert", &serde_json::to_vec(&record)?)
        .await?;
    tracing::info!(names = ?sans, "issued a new server certificate");
    Ok((issued.cert_pem, issued.key_pkcs8))
}

fn write_bootstrap(path: &Path, file: &BootstrapFile) -> anyhow::Result<()> {
    let mut text = serde_json::to_vec_pretty(file)?;
    text.push(b'\n');
    let result = write_private_file(path, &text);
    zeroize::Zeroize::zeroize(&mut text);
    result
}

/// On later starts, keeps the credentials of `bootstrap.json` and updates its URLs (the port or
/// suffix may have changed). A deleted file stays deleted: its secret cannot be recovered.
fn refresh_bootstrap(path: &Path, urls: &Urls, ca_path: &Path) -> anyhow::Result<()> {
    let Ok(text) = std::fs::read(path) else {
        tracing::info!(path = %path.display(), "no bootstrap file (it was removed); the bootstrap credentials are unchanged");
        return Ok(());
    };
    let mut file: BootstrapFile = serde_json::from_slice(&text)
        .with_context(|| format!("{} does not parse", path.display()))?;
    let before = (
        file.authority_host.clone(),
        file.identity_endpoint.clone(),
        file.vault_url.clone(),
        file.ca_cert.clone(),
    );
    file.authority_host = urls.authority_host.clone();
    file.identity_endpoint = format!(
        "{}{}",
        urls.authority_host,
        crate::identity::endpoints::MANAGED_IDENTITY_PATH
    );
    file.vault_url = urls.vault_url("default");
    file.ca_cert = ca_path.display().to_string();
    if before
        != (
            file.authority_host.clone(),
            file.identity_endpoint.clone(),
            file.vault_url.clone(),
            file.ca_cert.clone(),
        )
    {
        write_bootstrap(path, &file)?;
    }
    Ok(())
}

/// The data directory, created with mode 0700 if missing.
pub fn ensure_data_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    }
    Ok(std::path::absolute(dir)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_version_and_variant_bits() {
        let u = uuid_v4([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(u.len(), 36);
    }
}
