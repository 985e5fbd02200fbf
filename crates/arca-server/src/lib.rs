//! Arca's server: the HTTPS edge of the Key Vault data plane, the token issuer and the admin API.
//!
//! Request flow: `listener` (TLS, HTTP) -> `router` (by Host) -> `auth` (challenge, token) ->
//! `dataplane` (Key Vault routes, `Ctx::authorize` -> `Authorized`) -> `arca_engine` (lifecycle,
//! sealing) -> `arca_store`. Only this crate knows HTTP. Start-up and shutdown have one owner:
//! [`run`].
//!
//! The public modules are the server's API: what the `arca` binary, the benchmark servers, the
//! fuzz targets and the boundary tests under `tests/` use. Route handlers, error mapping,
//! sealing of deployment secrets and the upgrade are private to the crate (`unreachable_pub`
//! keeps their items from claiming more).

#![warn(unreachable_pub)]

pub mod access;
pub(crate) mod admin;
pub mod auth;
pub mod body;
pub mod bootstrap;
pub mod config;
pub mod connections;
pub(crate) mod dataplane;
pub(crate) mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod listener;
pub mod process;
pub mod purger;
pub mod request_id;
pub(crate) mod request_log;
pub mod rotation;
pub mod router;
pub(crate) mod seal;
pub mod start_error;
pub mod state;
pub mod storage;
pub mod throttle;
pub(crate) mod upgrade;
pub mod urls;

use std::future::Future;
use std::sync::Arc;

pub use config::Config;
pub use start_error::StartError;

pub use arca_engine::{self as engine, b64url, b64url_decode, integrity};

/// How often the access snapshot is compared with the store: the bound on how long a change
/// made by another replica takes to apply here.
const ACCESS_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Keeps the access snapshot, the signing keys and the managed-identity header current until
/// shutdown.
async fn access_refresher(
    state: Arc<state::AppState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(ACCESS_REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The sealed identity header as this process last saw it; a rotation through another
    // replica changes the stored one (one metadata read a second).
    let mut header_seen = state.store.meta("identity_header").await.ok().flatten();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = state.refresh_access().await {
            tracing::warn!(error = %e, "access refresh failed; keeping the previous snapshot");
        }
        match bootstrap::reload_identity_header(&state, header_seen.clone()).await {
            Ok(stored) => header_seen = stored,
            Err(e) => tracing::warn!(error = %e, "identity header reload failed"),
        }
        // Retired signing keys leave JWKS when their overlap ends, without any store change.
        let now = state.clock.now();
        if state
            .issuer
            .keys()
            .info
            .iter()
            .any(|k| k.retires.is_some_and(|r| r <= now))
        {
            match identity::keys::load(&*state.store, &state.keyring, now).await {
                Ok(keys) => state.issuer.set_keys(keys),
                Err(e) => tracing::warn!(error = %e, "signing keys reload failed"),
            }
        }
    }
}

/// Starts Arca with `config` and serves until `shutdown` completes.
///
/// Order: bind the port, open storage and keys (initialising on first start), build the state,
/// start background work, serve; on shutdown: stop accepting, drain requests in flight, stop
/// background work, close storage.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
    // First, before any secret is read: no core files, no ptrace by the same user, and every
    // descriptor the hard limit allows.
    let process = process::prepare(config.allow_core_dumps)?;
    if process.dumpable {
        tracing::warn!(
            "CORE DUMPS ARE ALLOWED (allow_core_dumps): a core file, or a debugger attached as \
             this user, holds every secret, token and key in the clear; use this only for \
             debugging, on a machine whose core files are as protected as the key file"
        );
    }
    let limits = connections::Limits::for_descriptors(
        process.descriptors,
        config.max_connections,
        config.max_connections_per_ip,
        std::time::Duration::from_secs(config.idle_timeout_secs.into()),
    )
    .map_err(StartError::Limits)?;
    tracing::info!(
        max_connections = limits.max_connections,
        max_connections_per_ip = limits.max_per_source,
        idle_timeout_secs = config.idle_timeout_secs,
        open_files_limit = process.descriptors,
        open_files_limit_was = process.raised_from,
        automatic = config.max_connections.is_none(),
        "connection limits"
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartError::LocalAddr)?;
    let data_dir = bootstrap::ensure_data_dir(&config.data_dir)?;
    let store = storage::open(&config, &data_dir)?;
    let clock: Arc<dyn arca_core::Clock> = Arc::new(arca_core::SystemClock);
    let prepared = bootstrap::prepare(&config, addr.port(), Arc::clone(&store), clock).await?;
    let tls = listener::tls_config(&prepared.tls_cert_chain_pem, &prepared.tls_key_pkcs8)?;
    let state = prepared.state;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let purger = tokio::spawn(purger::run(state.clone(), stop_rx.clone()));
    let rotation = tokio::spawn(rotation::run(state.clone(), stop_rx.clone()));
    let renewal = tokio::spawn(rotation::run_job(
        arca_core::authz::Job::CertificateRenewal,
        state.clone(),
        stop_rx.clone(),
    ));
    let refresher = tokio::spawn(access_refresher(state.clone(), stop_rx));
    let app = router::build(state.clone());

    tracing::info!(
        listen = %addr,
        vault_url = %state.urls.vault_url("default"),
        bootstrap = %data_dir.join("bootstrap.json").display(),
        ca_cert = %data_dir.join("ca.pem").display(),
        "arca is ready"
    );
    listener::serve(listener, tls, app, limits, shutdown).await;
    let _ = stop_tx.send(true);
    let _ = purger.await;
    let _ = rotation.await;
    let _ = renewal.await;
    let _ = refresher.await;
    drop(state);
    if let Err(error) = store.close().await {
        tracing::error!(%error, "closing storage failed");
    }
    tracing::info!("stopped");
    Ok(())
}
