//! The `arca` binary: `arca serve` runs the server; the other subcommands are clients of a
//! running server's admin API. Thin by design: it parses arguments, sets up logging and signals,
//! and calls the libraries.

mod attestation;
mod ca;
mod federation;
mod identity_header;
mod issuer_suffixes;
mod log_json;
mod log_output;
mod log_text;
mod logging;
mod network;
mod output;
mod principal;
mod role;
mod session;
mod signing_key;
mod vault;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use session::{AdminArgs, Connection, Operation};

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

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    #[command(flatten)]
    Client(ClientCommand),
}

/// The clients of a running server's admin API.
#[derive(Subcommand)]
enum ClientCommand {
    /// Manage vaults and their network rules through a running server's admin API.
    Vault(AdminArgs<vault::VaultCommand>),
    /// Manage principals and their client secrets and certificates.
    Principal(AdminArgs<principal::PrincipalCommand>),
    /// Manage role definitions and role assignments.
    Role(AdminArgs<role::RoleCommand>),
    /// Manage federated credentials (tokens from external issuers).
    Federation(AdminArgs<federation::FederationCommand>),
    /// Manage the admin API itself (its network rules).
    Admin(AdminArgs<network::AdminCommand>),
    /// List or rotate the token signing keys.
    SigningKey(AdminArgs<signing_key::SigningKeyCommand>),
    /// Rotate the App Service managed-identity endpoint's X-IDENTITY-HEADER.
    IdentityHeader(AdminArgs<identity_header::IdentityHeaderCommand>),
    /// Show or import the issuing CA of the built-in certificate issuer (Arca).
    Ca(AdminArgs<ca::CaCommand>),
    /// Print hosts-file lines (127.0.0.1 and ::1) for every vault's host name.
    Hosts(vault::HostsArgs),
}

impl ClientCommand {
    fn parts(&self) -> (&Connection, &dyn Operation) {
        match self {
            Self::Vault(a) => (&a.connection, &a.command),
            Self::Principal(a) => (&a.connection, &a.command),
            Self::Role(a) => (&a.connection, &a.command),
            Self::Federation(a) => (&a.connection, &a.command),
            Self::Admin(a) => (&a.connection, &a.command),
            Self::SigningKey(a) => (&a.connection, &a.command),
            Self::IdentityHeader(a) => (&a.connection, &a.command),
            Self::Ca(a) => (&a.connection, &a.command),
            Self::Hosts(a) => (&a.connection, a),
        }
    }
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file (keys: data_dir, listen, dns_suffix, key_file, token_lifetime_secs,
    /// issuer_host, app_service_identity, imds_identity, app_service_remote, max_connections,
    /// max_connections_per_ip, idle_timeout_secs, body_memory_mib, allow_core_dumps, log_format,
    /// region, storage, issuing_dns_suffixes, throttle).
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
    /// Client id (or "bootstrap") of the principal the App Service managed-identity endpoint
    /// serves when a request names none [default: none, only managed identities requested by id;
    /// env ARCA_APP_SERVICE_IDENTITY].
    #[arg(long)]
    app_service_identity: Option<String>,
    /// Client id (or "bootstrap") of the principal the IMDS endpoint serves when a request names
    /// none [default: none, only managed identities requested by id; env ARCA_IMDS_IDENTITY].
    #[arg(long)]
    imds_identity: Option<String>,
    /// Answer the App Service managed-identity endpoint for callers on other machines too
    /// (true|false) [default: false, loopback only; env ARCA_APP_SERVICE_REMOTE].
    #[arg(long)]
    app_service_remote: Option<String>,
    /// Most connections open at once [default: sized from the descriptor limit; env
    /// ARCA_MAX_CONNECTIONS].
    #[arg(long)]
    max_connections: Option<String>,
    /// Most connections open at once from one address (IPv6: one /64) [default: 1024; env
    /// ARCA_MAX_CONNECTIONS_PER_IP].
    #[arg(long)]
    max_connections_per_ip: Option<String>,
    /// Seconds a connection may stay open with no request in flight [default: 60; env
    /// ARCA_IDLE_TIMEOUT_SECS].
    #[arg(long)]
    idle_timeout_secs: Option<String>,
    /// MiB of request bodies held in memory at once, over all requests; a body finding no room
    /// within half a second is refused with 503, and one larger than the whole budget with 413
    /// (below 24, the largest restores) [default: 64; env ARCA_BODY_MEMORY_MIB].
    #[arg(long)]
    body_memory_mib: Option<String>,
    /// INSECURE, for debugging only: leave the process dumpable and core dumps allowed; a core
    /// file holds secrets in the clear (true|false) [default: false; env ARCA_ALLOW_CORE_DUMPS].
    #[arg(long)]
    allow_core_dumps: Option<String>,
    /// Log lines as text or as JSON lines, one object per line (text|json) [default: text; env
    /// ARCA_LOG_FORMAT].
    #[arg(long)]
    log_format: Option<String>,
    /// Region named in the x-ms-keyvault-region header of data-plane responses [default: arca;
    /// env ARCA_REGION].
    #[arg(long)]
    region: Option<String>,
    /// Storage backend: sqlite, the database arca.db in the data directory (the only one for
    /// now) [default: sqlite; env ARCA_STORAGE].
    #[arg(long)]
    storage: Option<String>,
    /// DNS suffixes, comma-separated, the deployment's issuing CA may sign for (the built-in
    /// certificate issuer `Arca`); the local CA then also permits them, and changing them replaces
    /// it (clients trust the new ca.pem) [default: none, no issuing CA is made; env
    /// ARCA_ISSUING_DNS_SUFFIXES].
    #[arg(long)]
    issuing_dns_suffixes: Option<String>,
    /// Throttling of vaults without a setting of their own (arca vault update --throttle): on
    /// (Key Vault's limits per vault and 10 seconds), off, or a factor of Key Vault's limits from
    /// 0.001 to 100 [default: on; env ARCA_THROTTLE].
    #[arg(long)]
    throttle: Option<String>,
    /// Replace the local CA (and the server certificate) at this start; clients must then trust
    /// the new ca.pem. A one-time action: command line only.
    #[arg(long)]
    rotate_local_ca: bool,
}

/// Installs the SIGTERM and SIGINT handlers at once (inside the runtime) and returns the future
/// that ends on the first of them. Installing them before the server starts, rather than when it
/// first awaits them, means a signal that arrives while it starts or just after it is ready stops
/// it cleanly instead of killing it with the default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = handlers else {
            tracing::error!("cannot install signal handlers; stop the server with SIGKILL");
            std::future::pending::<()>().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
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
        app_service_identity: args.app_service_identity,
        imds_identity: args.imds_identity,
        app_service_remote: args.app_service_remote,
        max_connections: args.max_connections,
        max_connections_per_ip: args.max_connections_per_ip,
        idle_timeout_secs: args.idle_timeout_secs,
        body_memory_mib: args.body_memory_mib,
        allow_core_dumps: args.allow_core_dumps,
        log_format: args.log_format,
        region: args.region,
        storage: args.storage,
        issuing_dns_suffixes: args.issuing_dns_suffixes,
        throttle: args.throttle,
    };
    let (mut config, unknown_env) = match arca_server::Config::load(args.config.as_deref(), &flags)
    {
        Ok(c) => c,
        Err(errors) => {
            eprint!("arca: {errors}");
            return ExitCode::from(2);
        }
    };
    config.rotate_local_ca = args.rotate_local_ca;
    let log_format = config.log_format;
    // Dropped when `serve` returns, after the runtime: writes the request lines still pending.
    let _log = logging::init(log_format);
    for name in unknown_env {
        tracing::warn!(variable = %name, "ignoring unknown ARCA_* environment variable");
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    match block_on(&mut runtime, async {
        arca_server::run(config, shutdown_signal()).await
    }) {
        Err(code) => code,
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            // Through anyhow for `{:#}`: the error and its causes, "what failed: why".
            let e = anyhow::Error::from(e);
            tracing::error!("{e:#}");
            // With JSON lines, the log line above is the whole report: nothing else may be
            // written between them.
            if log_format == arca_server::config::LogFormat::Text {
                eprintln!("arca: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs `future` on a runtime made by `builder`; a runtime that cannot start is reported and
/// becomes exit status 1.
fn block_on<F: std::future::Future>(
    builder: &mut tokio::runtime::Builder,
    future: F,
) -> Result<F::Output, ExitCode> {
    match builder.enable_all().build() {
        Ok(runtime) => Ok(runtime.block_on(future)),
        Err(e) => {
            eprintln!("arca: cannot start the runtime: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Client(client) => {
            let (connection, operation) = client.parts();
            session::main(connection, operation)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use hyper::{Method, StatusCode};

    use super::{Cli, Command};
    use crate::session::Call;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("arca").chain(args.iter().copied()))
    }

    /// The request `arca <args>` would make (without sending it).
    pub fn call(args: &[&str]) -> anyhow::Result<Call> {
        match parse(args)?.command {
            Command::Client(client) => client.parts().1.call(),
            Command::Serve(_) => anyhow::bail!("not an admin command"),
        }
    }

    /// The request `arca <args>` would make, after checking that it is a `method` to `path` that
    /// succeeds with `expected`.
    #[track_caller]
    pub fn sends(args: &[&str], method: Method, path: &str, expected: StatusCode) -> Call {
        let c = call(args).unwrap();
        assert_eq!(
            (&c.method, c.path.as_str(), c.expected),
            (&method, path, expected),
            "arca {args:?}"
        );
        c
    }

    /// Whether clap refuses `arca <args>` as a usage error (exit status 2).
    pub fn usage_error(args: &[&str]) -> bool {
        parse(args).err().is_some_and(|e| e.exit_code() == 2)
    }

    #[test]
    fn connection_options_go_anywhere_after_the_group() {
        for args in [
            &["principal", "--data-dir", "/d", "--output", "json", "list"][..],
            &["principal", "list", "--data-dir", "/d", "--output", "json"],
            &[
                "principal",
                "secret",
                "add",
                "p",
                "--output",
                "json",
                "--bootstrap",
                "/b.json",
            ],
        ] {
            let Command::Client(client) = parse(args).unwrap().command else {
                panic!("{args:?}")
            };
            assert_eq!(
                client.parts().0.output,
                crate::output::Output::Json,
                "{args:?}"
            );
        }
        assert!(!usage_error(&["role", "list"]));
        assert!(usage_error(&["principal", "list", "--output", "xml"]));
        assert!(usage_error(&["nonsense"]));
    }
}
