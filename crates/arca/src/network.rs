//! Network rules, of a vault (`arca vault network-rules`) and of the admin API itself
//! (`arca admin network-rules`): arguments, request body and table. Addresses are not checked
//! here: the server is the one judge of what a rule may be.

use arca_client::Request;
use arca_proto::admin::NetworkRules;
use clap::{Args, Subcommand, ValueEnum};

use crate::output::{fields, list_section};
use crate::session::{Call, Operation};

#[derive(Subcommand)]
pub enum VaultRules {
    /// Show a vault's network rules.
    Show { vault: String },
    /// Replace all of a vault's network rules.
    Set {
        vault: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

/// `arca admin ...`: settings of the admin API itself.
#[derive(Subcommand)]
pub enum AdminCommand {
    /// Show or replace the network rules of the admin API.
    NetworkRules {
        #[command(subcommand)]
        command: AdminRules,
    },
}

#[derive(Subcommand)]
pub enum AdminRules {
    /// Show the admin API's network rules.
    Show,
    /// Replace all of the admin API's network rules (refused if they would shut out this caller).
    Set(RuleArgs),
}

#[derive(Args)]
pub struct RuleArgs {
    /// What happens to a caller no --allow rule matches.
    #[arg(long, value_enum, ignore_case = true)]
    default_action: DefaultAction,
    /// An address or CIDR range to admit (repeat for more); without any, the list is emptied.
    #[arg(long = "allow", value_name = "CIDR")]
    allow: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DefaultAction {
    Allow,
    Deny,
}

impl RuleArgs {
    fn body(&self) -> NetworkRules {
        let action = match self.default_action {
            DefaultAction::Allow => "Allow",
            DefaultAction::Deny => "Deny",
        };
        NetworkRules {
            default_action: action.to_owned(),
            ip_rules: self.allow.clone(),
        }
    }
}

fn rules_table(rules: &NetworkRules) -> String {
    fields(&[("default action", rules.default_action.clone())])
        + &list_section("allowed", &rules.ip_rules)
}

impl Operation for VaultRules {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::Show { vault } => Call::answer(Request::vault_network_rules(vault)?, rules_table),
            Self::Set { vault, rules } => Call::answer(
                Request::set_vault_network_rules(vault, &rules.body())?,
                rules_table,
            ),
        })
    }
}

impl Operation for AdminCommand {
    fn call(&self) -> anyhow::Result<Call> {
        let Self::NetworkRules { command } = self;
        Ok(match command {
            AdminRules::Show => Call::answer(Request::admin_network_rules(), rules_table),
            AdminRules::Set(rules) => Call::answer(
                Request::set_admin_network_rules(&rules.body())?,
                rules_table,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use arca_proto::admin::NetworkRules;
    use hyper::{Method, StatusCode};

    use crate::tests::{call, sends, usage_error};

    #[test]
    fn vault_rules_requests() {
        sends(
            &["vault", "network-rules", "show", "team-a"],
            Method::GET,
            "/admin/vaults/team-a/network-rules",
            StatusCode::OK,
        );
        let c = sends(
            &[
                "vault",
                "network-rules",
                "set",
                "team-a",
                "--default-action",
                "deny",
                "--allow",
                "10.0.0.0/8",
                "--allow",
                "192.0.2.7",
            ],
            Method::PUT,
            "/admin/vaults/team-a/network-rules",
            StatusCode::OK,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"default_action":"Deny","ip_rules":["10.0.0.0/8","192.0.2.7"]}"#)
        );
    }

    #[test]
    fn set_without_allow_empties_the_list() {
        let c = call(&[
            "vault",
            "network-rules",
            "set",
            "v1",
            "--default-action",
            "Allow",
        ])
        .unwrap();
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"default_action":"Allow","ip_rules":[]}"#)
        );
    }

    #[test]
    fn admin_rules_requests() {
        sends(
            &["admin", "network-rules", "show"],
            Method::GET,
            "/admin/network-rules",
            StatusCode::OK,
        );
        let c = sends(
            &[
                "admin",
                "network-rules",
                "set",
                "--default-action",
                "deny",
                "--allow",
                "127.0.0.1",
                "--output",
                "json",
            ],
            Method::PUT,
            "/admin/network-rules",
            StatusCode::OK,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"default_action":"Deny","ip_rules":["127.0.0.1"]}"#)
        );
    }

    #[test]
    fn rule_usage_errors() {
        assert!(usage_error(&["admin", "network-rules", "set"]));
        assert!(usage_error(&[
            "admin",
            "network-rules",
            "set",
            "--default-action",
            "block"
        ]));
        assert!(usage_error(&[
            "admin",
            "network-rules",
            "set",
            "--default-action",
            "deny",
            "--allow"
        ]));
        assert!(usage_error(&[
            "vault",
            "network-rules",
            "set",
            "--default-action",
            "deny"
        ]));
        assert!(usage_error(&["vault", "network-rules", "show"]));
        assert!(usage_error(&["admin", "network-rules", "show", "extra"]));
    }

    #[test]
    fn rules_table() {
        let t = super::rules_table(&NetworkRules {
            default_action: "Deny".into(),
            ip_rules: vec!["10.0.0.0/8".into()],
        });
        assert_eq!(t, "default action:  Deny\nallowed:\n  10.0.0.0/8\n");
        let t = super::rules_table(&NetworkRules {
            default_action: "Allow".into(),
            ip_rules: vec![],
        });
        assert_eq!(t, "default action:  Allow\nallowed: none\n");
    }
}
