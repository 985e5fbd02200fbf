//! The benchmark's ceiling: an HTTPS server on exactly Arca's listener
//! (`arca_server::listener::serve` with `tls_config`) that answers every request with one fixed
//! 200 JSON body shaped like a secret bundle, after reading the request body. It does no
//! authentication, routing or storage, so it shows what Arca's HTTP and TLS stack alone can do on
//! this machine. It also writes certificates for the other benchmarked servers (OpenBao) from
//! Arca's own CA code, so every server in a run presents the same kind of key (ECDSA P-256).
//!
//! For `bench/run` only: never a place for product code, and nothing here is served in
//! production.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Router;
use clap::{Parser, Subcommand};

/// A secret bundle of the size Arca answers for a 100-byte value (the value is 100 characters).
const BODY: &str = concat!(
    r#"{"value":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","#,
    r#""id":"https://default.vault.localhost:8443/secrets/bench-r-0/0123456789abcdef0123456789abcdef","#,
    r#""attributes":{"enabled":true,"created":1700000000,"updated":1700000000,"#,
    r#""recoveryLevel":"Recoverable+Purgeable","recoverableDays":90}}"#
);

#[derive(Parser)]
#[command(
    name = "arca-bench-ceiling",
    about = "Static-response HTTPS server on Arca's listener (benchmark ceiling)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the fixed response until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on; only loopback addresses are accepted.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Directory where a fresh CA (`ca.pem`) is written for clients to trust.
        #[arg(long)]
        cert_dir: PathBuf,
    },
    /// Write `ca.pem`, `cert.pem` (server certificate and CA) and `key.pem` (PKCS#8) for NAMEs.
    Cert {
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// A DNS name or IP address for the certificate (repeat for more).
        #[arg(long = "name", required = true)]
        names: Vec<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { listen, cert_dir } => serve(listen, &cert_dir),
        Command::Cert { out, names } => {
            write_cert(&out, &names)?;
            Ok(())
        }
    }
}

/// Issues a CA and a server certificate for `names` and writes them into `out`. Returns the
/// certificate chain (server, then CA) and the key, for serving.
fn write_cert(out: &Path, names: &[String]) -> anyhow::Result<(String, arca_crypto::SecretBytes)> {
    let now = arca_core::Clock::now(&arca_core::SystemClock);
    let ca = arca_crypto::generate_ca("Arca bench CA", now)?;
    let issued = arca_crypto::issue_server_cert(&ca, names, now)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let chain = format!("{}{}", issued.cert_pem, ca.cert_pem);
    std::fs::write(out.join("ca.pem"), &ca.cert_pem)?;
    std::fs::write(out.join("cert.pem"), &chain)?;
    write_private(
        &out.join("key.pem"),
        arca_crypto::private_key_pem(&issued.key_pkcs8).expose(),
    )?;
    Ok((chain, issued.key_pkcs8))
}

/// Writes `text` to a new file readable by its owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// Reads the whole request body (as Arca does before answering), then answers the fixed bundle.
async fn answer(body: Bytes) -> impl IntoResponse {
    drop(body);
    (
        [
            (CONTENT_TYPE, "application/json; charset=utf-8"),
            // Arca tags every response with a request id; this keeps the response size alike
            // and lets the benchmark recognise the ceiling.
            (
                axum::http::HeaderName::from_static("x-ms-request-id"),
                "arca-bench-ceiling-000000000000",
            ),
        ],
        BODY,
    )
}

fn serve(listen: SocketAddr, cert_dir: &Path) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() {
        bail!("the ceiling listens on loopback addresses only, not {listen}");
    }
    let names = ["localhost", "127.0.0.1", "*.vault.localhost"].map(String::from);
    let (chain, key) = write_cert(cert_dir, &names)?;
    let tls = arca_server::listener::tls_config(&chain, &key)?;
    // The same runtime as `arca serve`: multi-threaded, one worker per CPU the process may use.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        println!("listening on {}", listener.local_addr()?);
        let app = Router::new().fallback(answer);
        // The same process settings and connection limits as `arca serve` with its defaults.
        let process = arca_server::process::prepare(false)?;
        let limits = arca_server::connections::Limits::for_descriptors(
            process.descriptors,
            None,
            arca_server::config::DEFAULT_MAX_CONNECTIONS_PER_IP,
            std::time::Duration::from_secs(arca_server::config::DEFAULT_IDLE_TIMEOUT_SECS.into()),
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        arca_server::listener::serve(listener, tls, app, limits, shutdown_signal()).await;
        Ok(())
    })
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
