//! The `arca` binary: `arca serve` runs the server; the other subcommands are clients of a
//! running server's admin API. Thin by design: it parses arguments, sets up logging and signals,
//! and calls the libraries.

mod client;
mod vault;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "arca",
    version,
    about = "A self-hosted secret store that speaks the Azure Key Vault API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage vaults through a running server's admin API.
    Vault(vault::VaultArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file (keys: data_dir, listen, dns_suffix, key_file, token_lifetime_secs,
    /// issuer_host).
    #[arg(long, env = "ARCA_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory [default: ./arca-data; env ARCA_DATA_DIR].
    #[arg(long)]
    data_dir: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8443; env ARCA_LISTEN].
    #[arg(long)]
    listen: Option<String>,
    /// Vaults are served at <vault>.<dns-suffix> [default: vault.localhost; env ARCA_DNS_SUFFIX].
    #[arg(long)]
    dns_suffix: Option<String>,
    /// Key file sealing the root key [default: <data-dir>/arca.key; env ARCA_KEY_FILE].
    #[arg(long)]
    key_file: Option<String>,
    /// Lifetime of issued access tokens in seconds [default: 3600; env ARCA_TOKEN_LIFETIME_SECS].
    #[arg(long)]
    token_lifetime_secs: Option<String>,
    /// Host name clients reach the token issuer and admin API at [default: localhost; env
    /// ARCA_ISSUER_HOST].
    #[arg(long)]
    issuer_host: Option<String>,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARCA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the server with SIGKILL");
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let flags = arca_server::config::Settings {
        data_dir: args.data_dir,
        listen: args.listen,
        dns_suffix: args.dns_suffix,
        key_file: args.key_file,
        token_lifetime_secs: args.token_lifetime_secs,
        issuer_host: args.issuer_host,
    };
    let (config, unknown_env) = match arca_server::Config::load(args.config.as_deref(), &flags) {
        Ok(c) => c,
        Err(errors) => {
            eprint!("arca: {errors}");
            return ExitCode::from(2);
        }
    };
    init_logging();
    for name in unknown_env {
        tracing::warn!(variable = %name, "ignoring unknown ARCA_* environment variable");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("arca: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(arca_server::run(config, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("arca: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Vault(args) => vault::main(args),
    }
}
