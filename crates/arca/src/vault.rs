//! `arca vault create|list|show|delete|network-rules`: vault management through the admin API,
//! and `arca hosts`: the hosts-file lines that make every vault's host name resolve to this
//! machine. The server judges names and values; this only keeps a vault name inside its path
//! segment.

use clap::Subcommand;
use serde_json::{json, Value};

use crate::network::VaultRules;
use crate::output::{fields, items, text, time, Table};
use crate::session::{Call, Connection, Operation};

#[derive(Subcommand)]
pub enum VaultCommand {
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
    /// Show or replace a vault's network rules.
    NetworkRules {
        #[command(subcommand)]
        command: VaultRules,
    },
}

/// `/admin/vaults/{name}`, for a name that can only be one path segment.
pub fn path(name: &str) -> anyhow::Result<String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        anyhow::bail!("invalid vault name {name:?}");
    }
    Ok(format!("/admin/vaults/{name}"))
}

fn list_table(answer: &Value) -> String {
    let mut table = Table::new(&[
        "NAME",
        "RETENTION",
        "PURGE-PROTECTION",
        "RECOVERY-LEVEL",
        "URL",
    ]);
    for v in items(answer) {
        table.row(vec![
            text(&v["name"]),
            text(&v["retention_days"]),
            text(&v["purge_protection"]),
            text(&v["recovery_level"]),
            text(&v["url"]),
        ]);
    }
    table.render("")
}

fn vault_fields(v: &Value) -> String {
    fields(&[
        ("name", text(&v["name"])),
        ("url", text(&v["url"])),
        ("retention days", text(&v["retention_days"])),
        ("purge protection", text(&v["purge_protection"])),
        ("recovery level", text(&v["recovery_level"])),
        ("created", time(&v["created"])),
    ])
}

impl Operation for VaultCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::Create {
                name,
                retention_days,
                purge_protection,
            } => Call::create(
                "/admin/vaults".to_owned(),
                json!({ "name": name, "retention_days": retention_days, "purge_protection": purge_protection }),
                vault_fields,
            ),
            Self::List => Call::get("/admin/vaults".to_owned(), list_table),
            Self::Show { name } => Call::get(path(name)?, vault_fields),
            Self::Delete { name } => Call::delete(path(name)?, "vault", name),
            Self::NetworkRules { command } => command.call()?,
        })
    }
}

/// `arca hosts`: prints `127.0.0.1 <vault host>` and `::1 <vault host>` for every vault, to be
/// appended to the hosts file where `*.localhost` names do not resolve.
#[derive(clap::Args)]
pub struct HostsArgs {
    #[command(flatten)]
    pub connection: Connection,
}

impl Operation for HostsArgs {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(Call::get("/admin/vaults".to_owned(), hosts_lines))
    }
}

/// The host name of a vault URL (`https://<host>[:port][/...]`), if it has that shape.
fn host_of(url: &str) -> Option<&str> {
    let authority = url.strip_prefix("https://")?.split('/').next()?;
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    valid.then_some(host)
}

fn hosts_lines(answer: &Value) -> String {
    let mut out = String::new();
    for v in items(answer) {
        if let Some(host) = v["url"].as_str().and_then(host_of) {
            out.push_str(&format!("127.0.0.1 {host}\n::1 {host}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use hyper::{Method, StatusCode};
    use serde_json::json;

    use crate::tests::{call, usage_error};

    #[test]
    fn hosts_lists_every_vault_for_both_loopback_addresses() {
        let c = call(&["hosts"]).unwrap();
        assert_eq!((c.method, c.path.as_str()), (Method::GET, "/admin/vaults"));
        let answer = json!({"value": [
            {"name": "default", "url": "https://default.vault.localhost:8443"},
            {"name": "team-a", "url": "https://team-a.vault.example.com"},
            {"name": "odd", "url": "not a url"},
        ]});
        assert_eq!(
            super::hosts_lines(&answer),
            "127.0.0.1 default.vault.localhost\n::1 default.vault.localhost\n\
             127.0.0.1 team-a.vault.example.com\n::1 team-a.vault.example.com\n"
        );
    }

    #[test]
    fn vault_commands_make_their_requests() {
        let c = call(&[
            "vault",
            "create",
            "team-a",
            "--retention-days",
            "30",
            "--purge-protection",
        ])
        .unwrap();
        assert_eq!((c.method, c.path.as_str()), (Method::POST, "/admin/vaults"));
        assert_eq!(
            c.body,
            Some(json!({"name": "team-a", "retention_days": 30, "purge_protection": true}))
        );
        assert_eq!(c.expected, StatusCode::CREATED);
        let c = call(&["vault", "list", "--output", "json"]).unwrap();
        assert_eq!((c.method, c.path.as_str()), (Method::GET, "/admin/vaults"));
        let c = call(&["vault", "--output", "json", "show", "team-a"]).unwrap();
        assert_eq!(
            (c.method, c.path.as_str()),
            (Method::GET, "/admin/vaults/team-a")
        );
        let c = call(&["vault", "delete", "team-a"]).unwrap();
        assert_eq!(
            (c.method, c.path.as_str()),
            (Method::DELETE, "/admin/vaults/team-a")
        );
        assert_eq!(c.expected, StatusCode::NO_CONTENT);
    }

    #[test]
    fn vault_names_stay_in_their_segment() {
        for bad in ["", "a/b", "..", "a b", "a?b"] {
            assert!(call(&["vault", "show", bad]).is_err(), "{bad:?}");
            assert!(
                call(&["vault", "network-rules", "show", bad]).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn vault_usage_errors() {
        assert!(usage_error(&["vault", "create"]));
        assert!(usage_error(&[
            "vault",
            "create",
            "x",
            "--retention-days",
            "-1"
        ]));
        assert!(usage_error(&["vault", "list", "--output", "yaml"]));
    }

    #[test]
    fn vault_tables() {
        let v = json!({"name": "team-a", "url": "https://team-a.vault.localhost:8443",
                       "retention_days": 30, "purge_protection": false,
                       "recovery_level": "Recoverable+Purgeable", "created": 1_700_000_000});
        let list = super::list_table(&json!({ "value": [v] }));
        assert!(
            list.starts_with("NAME    RETENTION  PURGE-PROTECTION"),
            "{list}"
        );
        assert!(list.contains("team-a  30         false"), "{list}");
        let shown = super::vault_fields(&v);
        assert!(shown.contains("retention days:    30\n"), "{shown}");
        assert!(
            shown.contains("created:           2023-11-14 22:13:20\n"),
            "{shown}"
        );
    }
}
