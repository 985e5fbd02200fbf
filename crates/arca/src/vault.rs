//! `arca vault create|list|show|delete`: vault management through the admin API.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use hyper::{Method, StatusCode};
use serde_json::json;

use crate::client::{error_message, AdminClient, Bootstrap};

#[derive(Args)]
pub struct VaultArgs {
    #[command(subcommand)]
    command: VaultCommand,
    /// Data directory of the server, whose bootstrap.json holds the credentials.
    #[arg(
        long,
        global = true,
        env = "ARCA_DATA_DIR",
        default_value = "./arca-data"
    )]
    data_dir: PathBuf,
    /// Bootstrap file to use instead of <data-dir>/bootstrap.json.
    #[arg(long, global = true, env = "ARCA_BOOTSTRAP")]
    bootstrap: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    output: Output,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Subcommand)]
enum VaultCommand {
    /// Create a vault.
    Create {
        name: String,
        /// Soft-delete retention in days (7 to 90).
        #[arg(long, default_value_t = 90)]
        retention_days: u32,
        /// Forbid purging deleted objects before their retention ends (irreversible).
        #[arg(long)]
        purge_protection: bool,
    },
    /// List vaults.
    List,
    /// Show one vault.
    Show { name: String },
    /// Delete a vault and everything in it.
    Delete { name: String },
}

fn print_vaults(output: Output, vaults: &[serde_json::Value]) {
    match output {
        Output::Json => {}
        Output::Table => {
            println!(
                "{:<24}  {:>9}  {:<16}  {:<32}  URL",
                "NAME", "RETENTION", "PURGE-PROTECTION", "RECOVERY-LEVEL"
            );
            for v in vaults {
                println!(
                    "{:<24}  {:>9}  {:<16}  {:<32}  {}",
                    v["name"].as_str().unwrap_or_default(),
                    v["retention_days"],
                    v["purge_protection"],
                    v["recovery_level"].as_str().unwrap_or_default(),
                    v["url"].as_str().unwrap_or_default()
                );
            }
        }
    }
}

async fn run(args: VaultArgs) -> anyhow::Result<()> {
    let path = args
        .bootstrap
        .clone()
        .unwrap_or_else(|| args.data_dir.join("bootstrap.json"));
    let bootstrap = Bootstrap::load(&path)?;
    let mut client = AdminClient::new(&bootstrap)?;
    client.login(&bootstrap).await?;
    let (method, path, body, expected) = match &args.command {
        VaultCommand::Create {
            name,
            retention_days,
            purge_protection,
        } => (
            Method::POST,
            "/admin/vaults".to_owned(),
            Some(
                json!({ "name": name, "retention_days": retention_days, "purge_protection": purge_protection }),
            ),
            StatusCode::CREATED,
        ),
        VaultCommand::List => (
            Method::GET,
            "/admin/vaults".to_owned(),
            None,
            StatusCode::OK,
        ),
        VaultCommand::Show { name } => (
            Method::GET,
            format!("/admin/vaults/{name}"),
            None,
            StatusCode::OK,
        ),
        VaultCommand::Delete { name } => (
            Method::DELETE,
            format!("/admin/vaults/{name}"),
            None,
            StatusCode::NO_CONTENT,
        ),
    };
    if let VaultCommand::Show { name } | VaultCommand::Delete { name } = &args.command {
        // The server validates names; this only keeps the name inside its path segment.
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            anyhow::bail!("invalid vault name {name:?}");
        }
    }
    let (status, json) = client.call(method, &path, body).await?;
    if status != expected {
        anyhow::bail!("{}", error_message(status, &json));
    }
    match (&args.command, args.output) {
        (VaultCommand::Delete { name }, Output::Table) => println!("deleted vault {name}"),
        (VaultCommand::Delete { name }, Output::Json) => println!("{}", json!({ "deleted": name })),
        (_, Output::Json) => println!("{}", serde_json::to_string_pretty(&json)?),
        (VaultCommand::List, Output::Table) => print_vaults(
            Output::Table,
            json["value"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default(),
        ),
        (_, Output::Table) => print_vaults(Output::Table, std::slice::from_ref(&json)),
    }
    Ok(())
}

pub fn main(args: VaultArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("arca: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arca: {e:#}");
            ExitCode::FAILURE
        }
    }
}
