//! `arca vault create|list|show|update|throttling|delete|network-rules|attestation-issuers|certificate-issuer-suffixes`:
//! vault management through the admin API,
//! and `arca hosts`: the hosts-file lines that make every vault's host name resolve to this
//! machine. The server judges names and values; this only keeps a vault name inside its path
//! segment.

use arca_client::Request;
use arca_proto::admin::{CreateVault, List, SetThrottling, Throttling, Vault};
use clap::Subcommand;

use crate::attestation::IssuerCommand;
use crate::issuer_suffixes::SuffixCommand;
use crate::network::VaultRules;
use crate::output::{fields, time, Table};
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
    /// Change a vault's settings.
    Update {
        name: String,
        /// Throttling: on (Key Vault's limits per 10 seconds), off, a factor of Key Vault's
        /// limits from 0.001 to 100 (0.5: half of them), or default (the deployment's setting).
        #[arg(long, value_parser = parse_throttle)]
        throttle: ThrottleChoice,
    },
    /// Show the throttling that applies to a vault and its limits.
    Throttling { name: String },
    /// Delete a vault and everything in it.
    Delete { name: String },
    /// Show or replace a vault's network rules.
    NetworkRules {
        #[command(subcommand)]
        command: VaultRules,
    },
    /// List, trust or stop trusting the attestation issuers of key release.
    AttestationIssuers {
        #[command(subcommand)]
        command: IssuerCommand,
    },
    /// List, set or delete the DNS suffixes each Arca certificate issuer of a vault may sign for.
    CertificateIssuerSuffixes {
        #[command(subcommand)]
        command: SuffixCommand,
    },
}

/// What `--throttle` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ThrottleChoice {
    /// The vault's own setting.
    Set(SetThrottling),
    /// Back to the deployment's setting.
    Default,
}

/// `on`, `off`, `default` or a factor. The server checks the factor's range.
fn parse_throttle(text: &str) -> Result<ThrottleChoice, String> {
    let set = |enabled, factor| ThrottleChoice::Set(SetThrottling { enabled, factor });
    match text.to_ascii_lowercase().as_str() {
        "on" => Ok(set(true, None)),
        "off" => Ok(set(false, None)),
        "default" => Ok(ThrottleChoice::Default),
        other => match other.parse::<f64>() {
            Ok(factor) if factor.is_finite() && factor > 0.0 => Ok(set(true, Some(factor))),
            _ => Err("expected on, off, default or a factor such as 0.5".into()),
        },
    }
}

fn throttling_fields(t: &Throttling) -> String {
    let l = &t.limits;
    fields(&[
        (
            "throttling",
            if t.enabled { "on" } else { "off" }.to_owned(),
        ),
        ("setting of", t.source.clone()),
        ("factor", t.factor.to_string()),
        ("window seconds", t.window_seconds.to_string()),
        ("secret create", l.secret_create.to_string()),
        ("secret other", l.secret_other.to_string()),
        ("key create", l.key_create.to_string()),
        ("key other", l.key_other.to_string()),
    ])
}

fn list_table(answer: &List<Vault>) -> String {
    Table::of(
        &[
            "NAME",
            "RETENTION",
            "PURGE-PROTECTION",
            "RECOVERY-LEVEL",
            "URL",
        ],
        &answer.value,
        |v| {
            vec![
                v.name.clone(),
                v.retention_days.to_string(),
                v.purge_protection.to_string(),
                v.recovery_level.clone(),
                v.url.clone(),
            ]
        },
    )
    .render("")
}

fn vault_fields(v: &Vault) -> String {
    fields(&[
        ("name", v.name.clone()),
        ("url", v.url.clone()),
        ("retention days", v.retention_days.to_string()),
        ("purge protection", v.purge_protection.to_string()),
        ("recovery level", v.recovery_level.clone()),
        ("created", time(v.created)),
    ])
}

impl Operation for VaultCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::Create {
                name,
                retention_days,
                purge_protection,
            } => Call::answer(
                Request::create_vault(&CreateVault {
                    name: name.clone(),
                    purge_protection: Some(*purge_protection),
                    retention_days: Some(*retention_days),
                })?,
                vault_fields,
            ),
            Self::List => Call::answer(Request::vaults(), list_table),
            Self::Show { name } => Call::answer(Request::vault(name)?, vault_fields),
            Self::Update { name, throttle } => match throttle {
                ThrottleChoice::Set(body) => Call::answer(
                    Request::set_vault_throttling(name, body)?,
                    throttling_fields,
                ),
                ThrottleChoice::Default => Call::deleted(
                    Request::reset_vault_throttling(name)?,
                    "throttling setting of vault",
                    name,
                ),
            },
            Self::Throttling { name } => {
                Call::answer(Request::vault_throttling(name)?, throttling_fields)
            }
            Self::Delete { name } => Call::deleted(Request::delete_vault(name)?, "vault", name),
            Self::NetworkRules { command } => command.call()?,
            Self::AttestationIssuers { command } => command.call()?,
            Self::CertificateIssuerSuffixes { command } => command.call()?,
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
        Ok(Call::answer(Request::vaults(), hosts_lines))
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

fn hosts_lines(answer: &List<Vault>) -> String {
    let mut out = String::new();
    for v in &answer.value {
        if let Some(host) = host_of(&v.url) {
            out.push_str(&format!("127.0.0.1 {host}\n::1 {host}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use arca_proto::admin::{List, Throttling, Vault};
    use hyper::{Method, StatusCode};

    use crate::tests::{call, sends, usage_error};

    fn vault(name: &str, url: &str) -> Vault {
        Vault {
            created: 1_700_000_000,
            name: name.into(),
            purge_protection: false,
            recovery_level: "Recoverable+Purgeable".into(),
            retention_days: 30,
            url: url.into(),
        }
    }

    #[test]
    fn hosts_lists_every_vault_for_both_loopback_addresses() {
        sends(&["hosts"], Method::GET, "/admin/vaults", StatusCode::OK);
        let answer = List::new(vec![
            vault("default", "https://default.vault.localhost:8443"),
            vault("team-a", "https://team-a.vault.example.com"),
            vault("odd", "not a url"),
        ]);
        assert_eq!(
            super::hosts_lines(&answer),
            "127.0.0.1 default.vault.localhost\n::1 default.vault.localhost\n\
             127.0.0.1 team-a.vault.example.com\n::1 team-a.vault.example.com\n"
        );
    }

    #[test]
    fn vault_commands_make_their_requests() {
        let c = sends(
            &[
                "vault",
                "create",
                "team-a",
                "--retention-days",
                "30",
                "--purge-protection",
            ],
            Method::POST,
            "/admin/vaults",
            StatusCode::CREATED,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"name":"team-a","purge_protection":true,"retention_days":30}"#)
        );
        sends(
            &["vault", "list", "--output", "json"],
            Method::GET,
            "/admin/vaults",
            StatusCode::OK,
        );
        sends(
            &["vault", "--output", "json", "show", "team-a"],
            Method::GET,
            "/admin/vaults/team-a",
            StatusCode::OK,
        );
        let c = sends(
            &["vault", "delete", "team-a"],
            Method::DELETE,
            "/admin/vaults/team-a",
            StatusCode::NO_CONTENT,
        );
        assert_eq!(c.expected, StatusCode::NO_CONTENT);
    }

    #[test]
    fn vault_update_sets_throttling() {
        let put = |arg: &str| {
            sends(
                &["vault", "update", "team-a", "--throttle", arg],
                Method::PUT,
                "/admin/vaults/team-a/throttling",
                StatusCode::OK,
            )
            .body
        };
        assert_eq!(put("off").as_deref(), Some(r#"{"enabled":false}"#));
        assert_eq!(put("ON").as_deref(), Some(r#"{"enabled":true}"#));
        assert_eq!(
            put("0.25").as_deref(),
            Some(r#"{"enabled":true,"factor":0.25}"#)
        );
        sends(
            &["vault", "update", "team-a", "--throttle", "default"],
            Method::DELETE,
            "/admin/vaults/team-a/throttling",
            StatusCode::NO_CONTENT,
        );
        sends(
            &["vault", "throttling", "team-a"],
            Method::GET,
            "/admin/vaults/team-a/throttling",
            StatusCode::OK,
        );
        for bad in ["sometimes", "0", "-1", "inf"] {
            assert!(
                usage_error(&["vault", "update", "team-a", "--throttle", bad]),
                "{bad}"
            );
        }
        assert!(usage_error(&["vault", "update", "team-a"]));
        let shown = super::throttling_fields(&Throttling {
            enabled: true,
            factor: 0.01,
            limits: arca_proto::admin::ThrottleLimits {
                key_create: 1,
                key_other: 40,
                secret_create: 3,
                secret_other: 40,
            },
            source: "vault".into(),
            window_seconds: 10,
        });
        assert!(shown.contains("throttling:      on\n"), "{shown}");
        assert!(shown.contains("secret create:   3\n"), "{shown}");
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
        let v = vault("team-a", "https://team-a.vault.localhost:8443");
        let list = super::list_table(&List::new(vec![v.clone()]));
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
