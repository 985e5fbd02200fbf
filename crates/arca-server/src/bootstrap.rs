//! First start and every later start: opens the data directory and brings up, or reuses, the
//! root key, keyring, tenant, token signing key, local CA and server certificate, the issuing
//! CA of the built-in certificate issuer, the `default` vault and the bootstrap administrator,
//! and writes `bootstrap.json`.
//!
//! Initialisation is idempotent and race-safe across replicas: each piece is created with
//! `put_meta_if_absent` and then read back, so the first writer wins and everyone uses its value.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arca_core::{Clock, VaultSettings};
use arca_crypto::{
    CaMaterial, CryptoError, Keyring, ReleaseSigningKey, SecretBytes, SecretString, TokenSigningKey,
};
use arca_store::{PrincipalRecord, Store, VaultRecord};
// `bootstrap.json` is the wire type `BootstrapFile`, defined once for the server and its clients.
use arca_proto::admin::BootstrapFile;
use arca_proto::SecretText;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::identity::principal::{ClientSecretHash, PrincipalData, PrincipalKind};
use crate::identity::Issuer;
use crate::seal::{new_uuid, Sealer, FLAG_BOOTSTRAP_ADMINISTRATOR};
use crate::start_error::StartError;
use crate::state::AppState;
use crate::urls::Urls;

/// What start-up produces: the shared state and the TLS material to serve with.
pub struct Prepared {
    pub state: Arc<AppState>,
    pub tls_cert_chain_pem: String,
    pub tls_key_pkcs8: SecretBytes,
}

const SERVER_CERT_RENEW_BEFORE_SECS: i64 = 30 * 86_400;

/// Reads `key`, or creates it with `make` if absent; the first writer among racing replicas wins.
async fn ensure_meta(
    store: &dyn Store,
    key: &str,
    make: impl FnOnce() -> Result<Vec<u8>, StartError>,
) -> Result<Vec<u8>, StartError> {
    if let Some(v) = store.meta(key).await? {
        return Ok(v);
    }
    store.put_meta_if_absent(key, &make()?).await?;
    store
        .meta(key)
        .await?
        .ok_or_else(|| StartError::MetaVanished {
            key: key.to_owned(),
        })
}

fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), StartError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|source| StartError::CreateFile {
            path: tmp.clone(),
            source,
        })?;
    let written = |source| StartError::WriteFile {
        path: tmp.clone(),
        source,
    };
    f.write_all(bytes).map_err(written)?;
    f.sync_all().map_err(written)?;
    std::fs::rename(&tmp, path).map_err(|source| StartError::WriteFile {
        path: path.to_owned(),
        source,
    })
}

/// Opens (or initialises) everything in the data directory for a server bound to `port`.
pub async fn prepare(
    config: &Config,
    port: u16,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Result<Prepared, StartError> {
    let now = clock.now();
    let data_dir = absolute(&config.data_dir)?;

    // Root key, sealed by the key file.
    let first_start = store.meta("root_key").await?.is_none();
    if !first_start && !config.key_file.exists() {
        return Err(StartError::KeyFileMissing {
            key_file: config.key_file.clone(),
            data_dir,
        });
    }
    let (kek, created) =
        arca_crypto::load_or_create_key_file(&config.key_file).map_err(|source| {
            StartError::KeyFile {
                path: config.key_file.clone(),
                source,
            }
        })?;
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
    let root = kek
        .open_root_key(&sealed_root)
        .map_err(|_| StartError::WrongKeyFile {
            path: config.key_file.clone(),
        })?;
    // A new keyring belongs to a new deployment, whose records are authenticated from the start.
    let sealed_ring = ensure_meta(&*store, crate::upgrade::KEYRING_META, || {
        let mut ring = Keyring::generate()?;
        ring.set_flags(crate::integrity::FLAG_RECORDS_AUTHENTICATED);
        Ok(ring.seal_with(&root)?)
    })
    .await?;
    let mut keyring =
        Keyring::open_with(&root, &sealed_ring).map_err(|_| StartError::KeyringDoesNotOpen)?;
    crate::upgrade::run(&*store, &root, &mut keyring).await?;
    let bootstrap_admin_assigned = keyring.flags() & FLAG_BOOTSTRAP_ADMINISTRATOR != 0;
    let keyring = Arc::new(keyring);

    let sealer = Sealer(&keyring);
    let seal = |item: &str, bytes: &[u8]| sealer.seal(item, bytes);
    let open = |item: &str, bytes: &[u8]| sealer.open(item, bytes);

    // Tenant and token signing key.
    let tenant_id = String::from_utf8(
        ensure_meta(&*store, "tenant_id", || Ok(new_uuid()?.into_bytes())).await?,
    )
    .map_err(|_| StartError::NotText("stored tenant id"))?;
    let sealed_signing = ensure_meta(&*store, "token_signing_key", || {
        let (_, pkcs8) = TokenSigningKey::generate()?;
        Ok(seal("token_signing_key", pkcs8.expose())?)
    })
    .await?;
    // Opened once here so a key file that cannot open it fails start-up early; the issuer loads
    // the current key set (after rotations) below.
    TokenSigningKey::from_pkcs8(open("token_signing_key", &sealed_signing)?.expose())?;

    // The release-signing key: its own key, so a release answer can never pass for a token.
    let sealed_release = ensure_meta(&*store, "release_signing_key", || {
        let (_, pkcs8) = ReleaseSigningKey::generate()?;
        Ok(seal("release_signing_key", pkcs8.expose())?)
    })
    .await?;
    let release_signing = Arc::new(ReleaseSigningKey::from_pkcs8(
        open("release_signing_key", &sealed_release)?.expose(),
    )?);

    // Local CA and server certificate.
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
    let issuing = &config.issuing_dns_suffixes;
    let (ca, ca_replaced) = local_ca(
        &*store,
        &sans,
        issuing,
        config.rotate_local_ca,
        now,
        &sealer,
    )
    .await?;
    let ca_path = data_dir.join("ca.pem");
    if std::fs::read_to_string(&ca_path).ok().as_deref() != Some(ca.cert_pem.as_str()) {
        std::fs::write(&ca_path, &ca.cert_pem).map_err(|source| StartError::WriteFile {
            path: ca_path.clone(),
            source,
        })?;
    }
    let (cert_pem, key_pkcs8) =
        server_certificate(&*store, &ca, ca_replaced, &sans, now, &sealer).await?;

    // Made in the background (one Argon2id hash, tens of milliseconds), so that start-up does
    // not wait for it and the first request for an unknown client id does not pay for it; a
    // request that comes sooner waits for the same hash (`OnceLock`).
    tokio::spawn(async {
        let made = crate::identity::run_hash(|| crate::identity::dummy_secret_hash().is_some());
        if made.await.is_none_or(|made| !made) {
            tracing::error!("the dummy client-secret hash could not be made");
        }
    });

    // Default vault and bootstrap principal, on first start only.
    let mut urls = Urls::new(&config.issuer_host, &config.dns_suffix, port);
    urls.region.clone_from(&config.region);
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
    let identity_header = ensure_meta(&*store, IDENTITY_HEADER_META, || {
        Ok(seal(
            IDENTITY_HEADER_META,
            new_identity_header()?.expose().as_bytes(),
        )?)
    })
    .await?;
    let identity_header = open_identity_header(&keyring, &identity_header)?;

    let client_id = match store.meta("bootstrap_client_id").await? {
        Some(id) => {
            String::from_utf8(id).map_err(|_| StartError::NotText("stored bootstrap client id"))?
        }
        None => {
            let client_id = new_uuid()?;
            let object_id = new_uuid()?;
            let secret = SecretString::new(crate::b64url(&arca_crypto::random_bytes::<30>()?));
            let to_hash = arca_crypto::SecretBytes::from_slice(secret.expose().as_bytes());
            let hash = crate::identity::run_hash(move || {
                arca_crypto::hash_client_secret(to_hash.expose())
            })
            .await
            .ok_or(StartError::HashUnfinished)??;
            let data = PrincipalData {
                display_name: "bootstrap administrator".into(),
                // A service principal: it signs in with its client secret only, never through
                // the managed-identity endpoints (unless the operator configures exactly that).
                kind: PrincipalKind::ServicePrincipal,
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
                    data: data.seal(&keyring, &client_id, &object_id, now)?,
                    client_id: client_id.clone(),
                    object_id,
                    created: now,
                })
                .await?;
            store
                .put_meta("bootstrap_client_id", client_id.as_bytes())
                .await?;
            let file = BootstrapFile {
                tenant_id: tenant_id.clone(),
                client_id: Some(client_id.clone()),
                client_secret: Some(SecretText::new(secret.expose().to_owned())),
                authority_host: urls.authority_host.clone(),
                identity_endpoint: format!(
                    "{}{}",
                    urls.authority_host,
                    crate::identity::endpoints::MANAGED_IDENTITY_PATH
                ),
                identity_header: SecretText::new(identity_header.expose().to_owned()),
                msi_endpoint: format!(
                    "{}{}",
                    urls.authority_host,
                    crate::identity::endpoints::MANAGED_IDENTITY_PATH
                ),
                msi_secret: SecretText::new(identity_header.expose().to_owned()),
                vault_url: urls.vault_url("default"),
                ca_cert: ca_path.display().to_string(),
            };
            write_bootstrap(&bootstrap_path, &file)?;
            client_id
        }
    };
    if !bootstrap_admin_assigned {
        assign_bootstrap_administrator(&*store, &root, &keyring, &client_id, now).await?;
    }

    let access = crate::access::Access::new(crate::access::load(&*store, &keyring).await?);
    let keys = crate::identity::keys::load(&*store, &keyring, now).await?;
    // "bootstrap" names the bootstrap principal; any other value must be a principal's client id.
    let resolve =
        async |setting: &'static str, id: &Option<String>| -> Result<Option<String>, StartError> {
            match id.as_deref() {
                None => Ok(None),
                Some("bootstrap") => Ok(Some(client_id.clone())),
                Some(id) if store.principal(id).await?.is_some() => Ok(Some(id.to_owned())),
                Some(id) => Err(StartError::UnknownPrincipal {
                    setting,
                    client_id: id.to_owned(),
                }),
            }
        };
    let app_service = resolve("app_service_identity", &config.app_service_identity).await?;
    let imds = resolve("imds_identity", &config.imds_identity).await?;
    for (endpoint, configured) in [("App Service", &app_service), ("IMDS", &imds)] {
        if configured.as_deref() == Some(client_id.as_str()) {
            tracing::warn!(
                endpoint,
                "the managed-identity endpoint serves the bootstrap administrator, as configured: every caller it answers gets Key Vault Administrator tokens"
            );
        }
    }
    let mut issuer = Issuer::new(
        &urls,
        tenant_id,
        keys,
        identity_header,
        app_service,
        i64::from(config.token_lifetime_secs),
    )?;
    issuer.imds_client = imds;
    issuer.app_service_remote = config.app_service_remote;
    issuer.bootstrap_file = Some(bootstrap_path.clone());
    let engine = arca_engine::Engine::new(store.clone(), keyring.clone(), clock.clone());
    issuing_ca(&engine, &ca, issuing, &sans, now).await?;
    let state = Arc::new(AppState {
        store,
        keyring,
        clock,
        engine,
        urls,
        issuer,
        tokens: Default::default(),
        access,
        jwks: crate::identity::jwks_fetch::JwksCache::new(),
        lockout: Default::default(),
        vaults: Default::default(),
        bodies: crate::body::BodyBudget::new(config.body_memory_mib),
        release_signing,
        throttle: crate::throttle::Throttle::new(config.throttle),
    });
    // Data directories made before the bootstrap principal became a service principal stored it
    // as a managed identity, which the managed-identity endpoints would serve.
    if crate::admin::principals::make_service_principal(&state, &client_id)
        .await
        .map_err(|e| StartError::BootstrapPrincipalUpdate(format!("{e:?}")))?
    {
        tracing::info!(
            %client_id,
            "the bootstrap principal was a managed identity; it is now a service principal"
        );
    }
    // Last: a bootstrap file naming this server's port is what tools wait for at start.
    refresh_bootstrap(&bootstrap_path, &state.urls, &ca_path)?;
    let chain = format!("{cert_pem}{}", ca.cert_pem);
    Ok(Prepared {
        state,
        tls_cert_chain_pem: chain,
        tls_key_pkcs8: key_pkcs8,
    })
}

/// Gives the bootstrap principal Key Vault Administrator at `/`, once per deployment (an
/// operator may later remove that assignment once another administrator exists). The assignment
/// id is fixed, so racing replicas or a crash between the two writes cannot duplicate it. That
/// it was done is a keyring flag ([`FLAG_BOOTSTRAP_ADMINISTRATOR`]), not a row someone who can
/// write the database could delete to have the assignment made again (perhaps for a principal
/// of their choosing, named by the unsealed `bootstrap_client_id`).
async fn assign_bootstrap_administrator(
    store: &dyn Store,
    root: &arca_crypto::RootKey,
    keyring: &Keyring,
    client_id: &str,
    now: i64,
) -> Result<(), StartError> {
    let principal = store
        .principal(client_id)
        .await?
        .ok_or(StartError::BootstrapPrincipalMissing)?;
    let doc = crate::access::AssignmentDoc {
        id: "00000000-0000-4000-8000-000000000001".into(),
        role_id: crate::access::ADMINISTRATOR_ROLE_ID.into(),
        principal_client_id: principal.client_id,
        principal_object_id: principal.object_id,
        scope: "/".into(),
        created: now,
    };
    let record =
        crate::access::policy_record(keyring, crate::access::kinds::ASSIGNMENT, &doc.id, &doc)?;
    match store.create_policy(&record).await {
        Ok(()) | Err(arca_store::StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    // Reopened so that the stored keyring (the one the flag goes into) is the one changed.
    let sealed = store
        .meta(crate::upgrade::KEYRING_META)
        .await?
        .ok_or(StartError::KeyringVanished)?;
    let mut stored =
        Keyring::open_with(root, &sealed).map_err(|_| StartError::KeyringDoesNotOpen)?;
    crate::upgrade::add_keyring_flags(store, root, &mut stored, FLAG_BOOTSTRAP_ADMINISTRATOR)
        .await?;
    tracing::info!("assigned Key Vault Administrator at / to the bootstrap principal");
    Ok(())
}

/// Makes, keeps, renews or retires the deployment's generated issuing CA below `ca` for the
/// configured `issuing` suffixes, excluding Arca's own names `sans` (an imported one is kept);
/// see `arca_engine::certificates::arca_issuer::issuing_ca`.
async fn issuing_ca(
    engine: &arca_engine::Engine,
    ca: &CaMaterial,
    issuing: &[String],
    sans: &[String],
    now: i64,
) -> Result<(), StartError> {
    use arca_engine::certificates::arca_issuer::issuing_ca::{ensure_generated, Ensured};
    let ensured = ensure_generated(engine, ca, issuing, sans, now)
        .await
        .map_err(|e| StartError::IssuingCa(e.to_string()))?;
    match ensured {
        Ensured::None => {}
        Ensured::Kept(source) => {
            tracing::debug!(source = source.name(), "kept the issuing CA");
        }
        Ensured::Made(reason) => {
            tracing::info!(reason, suffixes = ?issuing, "made a new issuing CA for the Arca certificate issuer");
        }
        Ensured::Retired => tracing::warn!(
            "no issuing_dns_suffixes are configured any more: the generated issuing CA is retired and the Arca certificate issuer issues nothing"
        ),
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct StoredCa {
    cert_pem: String,
    sealed_key: String,
    /// The names the CA is constrained to (`arca_crypto::ca_constraint_names`); absent for a
    /// CA made before CAs were constrained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    names: Option<Vec<String>>,
    /// The issuing DNS suffixes it also permits (`arca_crypto::issuing_suffixes`), with path
    /// length 1 for the issuing CA below it; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    issuing: Vec<String>,
}

/// How long before its end the local CA is replaced at start.
const CA_RENEW_BEFORE_SECS: i64 = 90 * 86_400;

/// The deployment's local CA, made anew (second element `true`) on first start, when the stored
/// one predates name constraints, no longer covers `sans`, permits other `issuing` suffixes, or
/// ends within 90 days, and when the operator asked for it (`rotate`). A stored CA
/// certificate that does not belong to its sealed key means the database was altered: start-up
/// stops rather than hand clients a certificate to trust that this deployment never made.
async fn local_ca(
    store: &dyn Store,
    sans: &[String],
    issuing: &[String],
    rotate: bool,
    now: i64,
    sealer: &Sealer<'_>,
) -> Result<(CaMaterial, bool), StartError> {
    let wanted = arca_crypto::ca_constraint_names(sans)?;
    if let Some(bytes) = store.meta("ca").await? {
        let stored: StoredCa =
            serde_json::from_slice(&bytes).map_err(StartError::CaDoesNotParse)?;
        let sealed_key =
            crate::b64url_decode(&stored.sealed_key).ok_or(StartError::CaKeyDoesNotParse)?;
        let ca = CaMaterial {
            cert_pem: stored.cert_pem,
            key_pkcs8: sealer.open("ca_key", &sealed_key)?,
        };
        let Some((true, not_after)) = arca_crypto::ca_key_matches(&ca) else {
            tracing::error!(
                "INTEGRITY: the CA certificate stored in the database does not belong to the CA key sealed beside it; the database was altered by something other than Arca"
            );
            return Err(StartError::CaMismatch);
        };
        let reason = match &stored.names {
            _ if rotate => Some("the operator asked for it (--rotate-local-ca)"),
            None => Some("it predates name constraints"),
            Some(names) if *names != wanted => Some("it does not cover the names served now"),
            Some(_) if stored.issuing != issuing => Some("the issuing DNS suffixes changed"),
            Some(_) if not_after - now <= CA_RENEW_BEFORE_SECS => Some("it expires within 90 days"),
            Some(_) => None,
        };
        let Some(reason) = reason else {
            return Ok((ca, false));
        };
        tracing::warn!(
            reason,
            "replacing the local CA: clients must trust the new ca.pem from now on"
        );
    }
    let ca = arca_crypto::generate_local_ca("Arca local CA", sans, issuing, now)?;
    let record = StoredCa {
        cert_pem: ca.cert_pem.clone(),
        sealed_key: crate::b64url(&sealer.seal("ca_key", ca.key_pkcs8.expose())?),
        names: Some(wanted),
        issuing: issuing.to_vec(),
    };
    store.put_meta("ca", &serde_json::to_vec(&record)?).await?;
    Ok((ca, true))
}

#[derive(Serialize, Deserialize)]
struct StoredServerCert {
    cert_pem: String,
    not_after: i64,
    sans: Vec<String>,
}

/// Reuses the stored server certificate unless the CA was just replaced, its names changed or it
/// expires within 30 days.
async fn server_certificate(
    store: &dyn Store,
    ca: &CaMaterial,
    ca_replaced: bool,
    sans: &[String],
    now: i64,
    sealer: &Sealer<'_>,
) -> Result<(String, SecretBytes), StartError> {
    let stored: Option<StoredServerCert> = store
        .meta("server_cert")
        .await?
        .and_then(|b| serde_json::from_slice(&b).ok());
    if let (Some(s), Some(key), false) = (stored, store.meta("server_key").await?, ca_replaced) {
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

/// The meta key of the sealed App Service identity header.
const IDENTITY_HEADER_META: &str = "identity_header";

/// A new random App Service identity header (24 random bytes, base64url).
fn new_identity_header() -> Result<SecretString, CryptoError> {
    Ok(SecretString::new(crate::b64url(
        &arca_crypto::random_bytes::<24>()?,
    )))
}

fn open_identity_header(keyring: &Keyring, sealed: &[u8]) -> Result<SecretString, StartError> {
    let opened = Sealer(keyring).open(IDENTITY_HEADER_META, sealed)?;
    let text = std::str::from_utf8(opened.expose())
        .map_err(|_| StartError::NotText("sealed identity header"))?;
    Ok(SecretString::new(text.to_owned()))
}

/// Replaces the App Service identity header: a new random one is stored sealed in place of the
/// old, which stops working in this process at once (other replicas notice the change within
/// a second, see [`reload_identity_header`]); `bootstrap.json`, if present, gets the new one.
/// Returns the new header.
pub async fn rotate_identity_header(state: &AppState) -> Result<SecretString, StartError> {
    let header = new_identity_header()?;
    let sealed = Sealer(&state.keyring).seal(IDENTITY_HEADER_META, header.expose().as_bytes())?;
    state.store.put_meta(IDENTITY_HEADER_META, &sealed).await?;
    state
        .issuer
        .set_identity_header(SecretString::new(header.expose().to_owned()));
    if let Some(path) = &state.issuer.bootstrap_file {
        rewrite_identity_header(path, &header)?;
    }
    Ok(header)
}

/// Brings the identity header up to date with the store when `sealed` (as last seen) differs
/// from the stored one: a rotation made by another replica. Returns what is stored now.
pub async fn reload_identity_header(
    state: &AppState,
    seen: Option<Vec<u8>>,
) -> Result<Option<Vec<u8>>, StartError> {
    let stored = state.store.meta(IDENTITY_HEADER_META).await?;
    if let Some(sealed) = &stored {
        if seen.as_ref() != Some(sealed) {
            state
                .issuer
                .set_identity_header(open_identity_header(&state.keyring, sealed)?);
        }
    }
    Ok(stored)
}

/// Writes `header` into the `identity_header` and `msi_secret` fields of `bootstrap.json` (atomically, mode 0600).
/// A removed file stays removed.
fn rewrite_identity_header(path: &Path, header: &SecretString) -> Result<(), StartError> {
    let mut text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(path = %path.display(), "no bootstrap file (it was removed); the new identity header is not written anywhere");
            return Ok(());
        }
        Err(source) => {
            return Err(StartError::ReadFile {
                path: path.to_owned(),
                source,
            })
        }
    };
    let parsed = serde_json::from_slice::<BootstrapFile>(&text);
    zeroize::Zeroize::zeroize(&mut text);
    let mut file = parsed.map_err(|source| StartError::FileDoesNotParse {
        path: path.to_owned(),
        source,
    })?;
    file.identity_header = SecretText::new(header.expose().to_owned());
    file.msi_secret = SecretText::new(header.expose().to_owned());
    write_bootstrap(path, &file)
}

/// Writes `file` (its secrets are wiped when it is dropped, and so is the text written).
fn write_bootstrap(path: &Path, file: &BootstrapFile) -> Result<(), StartError> {
    write_private_file(path, &file.to_text()?)
}

/// On later starts, keeps the credentials of `bootstrap.json` and updates its URLs (the port or
/// suffix may have changed). A deleted file stays deleted: its secret cannot be recovered.
fn refresh_bootstrap(path: &Path, urls: &Urls, ca_path: &Path) -> Result<(), StartError> {
    let Ok(text) = std::fs::read(path).map(zeroize::Zeroizing::new) else {
        tracing::info!(path = %path.display(), "no bootstrap file (it was removed); the bootstrap credentials are unchanged");
        return Ok(());
    };
    let mut file: BootstrapFile =
        serde_json::from_slice(&text).map_err(|source| StartError::FileDoesNotParse {
            path: path.to_owned(),
            source,
        })?;
    let before = (
        file.authority_host.clone(),
        file.identity_endpoint.clone(),
        file.msi_endpoint.clone(),
        file.vault_url.clone(),
        file.ca_cert.clone(),
    );
    // Files written before the older App Service protocol was served lack its names.
    let msi_secret_missing = file.msi_secret.is_empty();
    if msi_secret_missing {
        file.msi_secret = file.identity_header.clone();
    }
    file.authority_host = urls.authority_host.clone();
    file.identity_endpoint = format!(
        "{}{}",
        urls.authority_host,
        crate::identity::endpoints::MANAGED_IDENTITY_PATH
    );
    file.msi_endpoint = file.identity_endpoint.clone();
    file.vault_url = urls.vault_url("default");
    file.ca_cert = ca_path.display().to_string();
    let changed = msi_secret_missing
        || before
            != (
                file.authority_host.clone(),
                file.identity_endpoint.clone(),
                file.msi_endpoint.clone(),
                file.vault_url.clone(),
                file.ca_cert.clone(),
            );
    if changed {
        write_bootstrap(path, &file)?;
    }
    Ok(())
}

/// The data directory, created with mode 0700 if missing.
pub fn ensure_data_dir(dir: &Path) -> Result<PathBuf, StartError> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| StartError::DataDir {
                path: dir.to_owned(),
                source,
            })?;
    }
    absolute(dir)
}

/// `dir` made absolute (against the working directory).
fn absolute(dir: &Path) -> Result<PathBuf, StartError> {
    std::path::absolute(dir).map_err(|source| StartError::Absolute {
        path: dir.to_owned(),
        source,
    })
}
