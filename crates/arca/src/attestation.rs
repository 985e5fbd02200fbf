//! `arca vault attestation-issuers list|set|delete`: the attestation issuers a vault trusts for
//! key release, each an issuer URL and its JWK set read from a file (Arca never fetches one).
//! The server judges URLs and key sets.

use std::path::PathBuf;

use anyhow::Context as _;
use arca_client::Request;
use arca_proto::admin::{AttestationIssuer, List};
use clap::Subcommand;

use crate::output::Table;
use crate::session::{Call, Operation};

/// Largest JWK set file read: the admin API's body limit.
const MAX_JWKS_FILE: u64 = 64 * 1024;

#[derive(Subcommand)]
pub enum IssuerCommand {
    /// List the issuers a vault trusts.
    List { vault: String },
    /// Trust an issuer (or replace its keys): its URL as tokens spell `iss`, and its JWK set.
    Set {
        vault: String,
        #[arg(long)]
        issuer: String,
        /// A file holding the issuer's JWK set (`{"keys": [...]}`).
        #[arg(long, value_name = "FILE")]
        jwks: PathBuf,
    },
    /// Stop trusting an issuer.
    Delete {
        vault: String,
        #[arg(long)]
        issuer: String,
    },
}

fn issuers_table(answer: &List<AttestationIssuer>) -> String {
    Table::of(&["ISSUER", "KEYS"], &answer.value, |i| {
        let keys = i
            .jwks
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len);
        vec![i.issuer.clone(), keys.to_string()]
    })
    .render("")
}

fn issuer_fields(i: &AttestationIssuer) -> String {
    issuers_table(&List::new(vec![i.clone()]))
}

fn read_jwks(path: &PathBuf) -> anyhow::Result<serde_json::Value> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    anyhow::ensure!(
        size <= MAX_JWKS_FILE,
        "{} is larger than {MAX_JWKS_FILE} bytes",
        path.display()
    );
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", path.display()))
}

impl Operation for IssuerCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::List { vault } => {
                Call::answer(Request::attestation_issuers(vault)?, issuers_table)
            }
            Self::Set {
                vault,
                issuer,
                jwks,
            } => {
                let body = AttestationIssuer {
                    issuer: issuer.clone(),
                    jwks: read_jwks(jwks)?,
                };
                Call::answer(
                    Request::set_attestation_issuer(vault, &body)?,
                    issuer_fields,
                )
            }
            Self::Delete { vault, issuer } => Call::deleted(
                Request::delete_attestation_issuer(vault, issuer)?,
                "attestation issuer",
                issuer,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use hyper::{Method, StatusCode};

    use crate::tests::sends;

    #[test]
    fn issuer_commands_make_their_requests() {
        sends(
            &["vault", "attestation-issuers", "list", "team-a"],
            Method::GET,
            "/admin/vaults/team-a/attestation-issuers",
            StatusCode::OK,
        );
        let dir = std::env::temp_dir().join(format!("arca-jwks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("jwks.json");
        std::fs::write(&file, r#"{"keys":[]}"#).unwrap();
        let c = sends(
            &[
                "vault",
                "attestation-issuers",
                "set",
                "team-a",
                "--issuer",
                "https://attest.example",
                "--jwks",
                file.to_str().unwrap(),
            ],
            Method::PUT,
            "/admin/vaults/team-a/attestation-issuers",
            StatusCode::OK,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"issuer":"https://attest.example","jwks":{"keys":[]}}"#)
        );
        sends(
            &[
                "vault",
                "attestation-issuers",
                "delete",
                "team-a",
                "--issuer",
                "https://attest.example/x",
            ],
            Method::DELETE,
            "/admin/vaults/team-a/attestation-issuers?issuer=https%3A%2F%2Fattest.example%2Fx",
            StatusCode::NO_CONTENT,
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
