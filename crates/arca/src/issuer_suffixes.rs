//! `arca vault certificate-issuer-suffixes list|show|set|delete`: the DNS suffixes a vault's
//! `Arca` certificate issuer may sign for, set by an administrator through the admin API (never
//! by the vault's users). An issuer without suffixes issues nothing. The server judges the
//! suffixes.

use arca_client::Request;
use arca_proto::admin::{IssuerSuffixes, List, SetIssuerSuffixes};
use clap::Subcommand;

use crate::output::{time, Table};
use crate::session::{Call, Operation};

#[derive(Subcommand)]
pub enum SuffixCommand {
    /// List the suffixes of every issuer of a vault.
    List { vault: String },
    /// Show the suffixes of one issuer.
    Show {
        vault: String,
        #[arg(long)]
        issuer: String,
    },
    /// Set (replace) the DNS suffixes an issuer may sign for: each permits itself and the names
    /// below it (example.internal permits a.example.internal, never badexample.internal).
    Set {
        vault: String,
        #[arg(long)]
        issuer: String,
        #[arg(long = "suffix", value_name = "SUFFIX", required = true)]
        suffixes: Vec<String>,
    },
    /// Remove an issuer's suffixes: it then issues nothing.
    Delete {
        vault: String,
        #[arg(long)]
        issuer: String,
    },
}

fn lists_table(answer: &List<IssuerSuffixes>) -> String {
    Table::of(&["ISSUER", "SUFFIXES", "UPDATED"], &answer.value, |l| {
        vec![l.issuer.clone(), l.suffixes.join(","), time(l.updated)]
    })
    .render("")
}

fn list_fields(list: &IssuerSuffixes) -> String {
    lists_table(&List::new(vec![list.clone()]))
}

impl Operation for SuffixCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::List { vault } => Call::answer(Request::issuer_suffix_lists(vault)?, lists_table),
            Self::Show { vault, issuer } => {
                Call::answer(Request::issuer_suffixes(vault, issuer)?, list_fields)
            }
            Self::Set {
                vault,
                issuer,
                suffixes,
            } => {
                let body = SetIssuerSuffixes {
                    suffixes: suffixes.clone(),
                };
                Call::answer(
                    Request::set_issuer_suffixes(vault, issuer, &body)?,
                    list_fields,
                )
            }
            Self::Delete { vault, issuer } => Call::deleted(
                Request::delete_issuer_suffixes(vault, issuer)?,
                "certificate issuer suffixes of",
                issuer,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use arca_proto::admin::{IssuerSuffixes, List};
    use hyper::{Method, StatusCode};

    use crate::tests::{sends, usage_error};

    const PATH: &str = "/admin/vaults/team-a/certificate-issuer-suffixes";

    #[test]
    fn suffix_commands_make_their_requests() {
        let words = ["vault", "certificate-issuer-suffixes"];
        let args = |rest: &[&'static str]| [&words[..], rest].concat();
        sends(
            &args(&["list", "team-a"]),
            Method::GET,
            PATH,
            StatusCode::OK,
        );
        sends(
            &args(&["show", "team-a", "--issuer", "internal"]),
            Method::GET,
            &format!("{PATH}/internal"),
            StatusCode::OK,
        );
        let c = sends(
            &args(&[
                "set",
                "team-a",
                "--issuer",
                "internal",
                "--suffix",
                "svc.example.internal",
                "--suffix",
                "b.internal",
            ]),
            Method::PUT,
            &format!("{PATH}/internal"),
            StatusCode::OK,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"suffixes":["svc.example.internal","b.internal"]}"#)
        );
        sends(
            &args(&["delete", "team-a", "--issuer", "internal"]),
            Method::DELETE,
            &format!("{PATH}/internal"),
            StatusCode::NO_CONTENT,
        );
        assert!(usage_error(&args(&[
            "set", "team-a", "--issuer", "internal"
        ])));
        assert!(usage_error(&args(&["delete", "team-a"])));
        assert!(crate::tests::call(&args(&["list", "a/b"])).is_err());
    }

    #[test]
    fn suffix_table() {
        let t = super::lists_table(&List::new(vec![IssuerSuffixes {
            issuer: "internal".into(),
            suffixes: vec!["a.internal".into(), "b.internal".into()],
            updated: 0,
        }]));
        assert_eq!(
            t,
            "ISSUER    SUFFIXES               UPDATED\n\
             internal  a.internal,b.internal  1970-01-01 00:00:00\n"
        );
    }
}
