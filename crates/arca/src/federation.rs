//! `arca federation add|list|remove`: federated credentials (workload identity federation)
//! through the admin API. The JWK set or the URL it is fetched from is sent as given; a JWK set
//! holding private or symmetric key material is refused, so that it never leaves this machine.

use std::path::{Path, PathBuf};

use anyhow::Context;
use arca_client::Request;
use arca_proto::admin::{AddFederation, FederatedCredential, FederationQuery, List};
use clap::{ArgGroup, Args, Subcommand};
use serde_json::Value;

use crate::output::{fields, list, opt, time, Table};
use crate::session::{Call, Operation};

#[derive(Subcommand)]
pub enum FederationCommand {
    /// Let a principal sign in with tokens from an external issuer.
    Add(AddArgs),
    /// List federated credentials.
    List {
        /// Only this principal's (client id or object id).
        #[arg(long)]
        principal: Option<String>,
    },
    /// Remove a federated credential; tokens issued through it stop working.
    Remove { id: String },
}

#[derive(Args)]
#[command(group(ArgGroup::new("keys").required(true).args(["jwks_file", "jwks_url"])))]
pub struct AddArgs {
    /// Client id or object id of the principal.
    #[arg(long)]
    principal: String,
    /// The external issuer (`iss` of its tokens).
    #[arg(long, value_name = "URL")]
    issuer: String,
    /// The subject (`sub`) the external tokens must carry.
    #[arg(long)]
    subject: String,
    /// An accepted audience (repeat for more) [server default: api://AzureADTokenExchange].
    #[arg(long = "audience", value_name = "AUDIENCE")]
    audiences: Vec<String>,
    /// A JWK set file with the issuer's public keys.
    #[arg(long, value_name = "FILE")]
    jwks_file: Option<PathBuf>,
    /// An https URL the server fetches the issuer's JWK set from.
    #[arg(long, value_name = "URL")]
    jwks_url: Option<String>,
    /// A PEM file with the CA certificates to trust for --jwks-url.
    #[arg(
        long,
        value_name = "PEM",
        requires = "jwks_url",
        conflicts_with = "jwks_file"
    )]
    jwks_ca_file: Option<PathBuf>,
}

/// Members of a JWK that hold private (`d`, RSA's primes and exponents) or symmetric (`k`) key
/// material.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

fn read_jwks(file: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read(file)
        .with_context(|| format!("cannot read the JWK set {}", file.display()))?;
    let jwks: Value = serde_json::from_slice(&text)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| anyhow::anyhow!("{} is not a JWK set (a JSON object)", file.display()))?;
    // A lone JWK given by mistake is checked as well as the members of a set.
    let keys = jwks["keys"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if std::iter::once(&jwks)
        .chain(keys)
        .any(|key| PRIVATE_MEMBERS.iter().any(|m| key.get(m).is_some()))
    {
        anyhow::bail!(
            "{} holds private or symmetric key material: give the public keys only",
            file.display()
        );
    }
    Ok(jwks)
}

impl AddArgs {
    fn body(&self) -> anyhow::Result<AddFederation> {
        let jwks_ca_pem = match &self.jwks_ca_file {
            Some(file) => Some(
                std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read the CA file {}", file.display()))?,
            ),
            None => None,
        };
        Ok(AddFederation {
            audiences: (!self.audiences.is_empty()).then(|| self.audiences.clone()),
            issuer: self.issuer.clone(),
            jwks: self.jwks_file.as_deref().map(read_jwks).transpose()?,
            jwks_ca_pem,
            jwks_url: self.jwks_url.clone(),
            principal: self.principal.clone(),
            subject: self.subject.clone(),
        })
    }
}

/// Where a credential's keys come from: its URL, or how many were given inline.
fn keys(f: &FederatedCredential) -> String {
    match f.jwks_keys {
        Some(n) => format!("{n} inline"),
        None => opt(f.jwks_url.as_deref()),
    }
}

fn list_table(answer: &List<FederatedCredential>) -> String {
    Table::of(
        &["ID", "PRINCIPAL", "ISSUER", "SUBJECT", "KEYS"],
        &answer.value,
        |f| {
            vec![
                f.id.clone(),
                f.principal_client_id.clone(),
                f.issuer.clone(),
                f.subject.clone(),
                keys(f),
            ]
        },
    )
    .render("")
}

fn credential_table(f: &FederatedCredential) -> String {
    fields(&[
        ("id", f.id.clone()),
        ("principal", f.principal_client_id.clone()),
        ("issuer", f.issuer.clone()),
        ("subject", f.subject.clone()),
        ("audiences", list(&f.audiences)),
        ("keys", keys(f)),
        ("created", time(f.created)),
    ])
}

impl Operation for FederationCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::Add(args) => Call::answer(
                Request::add_federated_credential(&args.body()?)?,
                credential_table,
            ),
            Self::List { principal } => {
                let query = FederationQuery {
                    principal: principal.clone(),
                };
                Call::answer(Request::federated_credentials(&query)?, list_table)
            }
            Self::Remove { id } => Call::deleted(
                Request::remove_federated_credential(id)?,
                "federated credential",
                id,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use arca_proto::admin::{FederatedCredential, List};
    use hyper::{Method, StatusCode};
    use serde_json::Value;

    use crate::tests::{call, sends, usage_error};

    const ADD: [&str; 8] = [
        "federation",
        "add",
        "--principal",
        "ci",
        "--issuer",
        "https://token.actions.githubusercontent.com",
        "--subject",
        "repo:o/r:ref:refs/heads/main",
    ];

    fn add(extra: &[&str]) -> anyhow::Result<crate::session::Call> {
        call(&[&ADD[..], extra].concat())
    }

    #[test]
    fn add_with_a_jwks_url() {
        let c = sends(
            &[&ADD[..], &["--jwks-url", "https://issuer.example/keys"]].concat(),
            Method::POST,
            "/admin/federated-credentials",
            StatusCode::CREATED,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(concat!(
                r#"{"issuer":"https://token.actions.githubusercontent.com","#,
                r#""jwks_url":"https://issuer.example/keys","principal":"ci","#,
                r#""subject":"repo:o/r:ref:refs/heads/main"}"#
            ))
        );
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let c = add(&[
            "--jwks-url",
            "https://issuer.example/keys",
            "--jwks-ca-file",
            ca.to_str().unwrap(),
            "--audience",
            "a1",
            "--audience",
            "a2",
        ])
        .unwrap();
        let body: Value = serde_json::from_str(&c.body.unwrap()).unwrap();
        assert_eq!(body["jwks_ca_pem"], "-----BEGIN CERTIFICATE-----\n");
        assert_eq!(body["audiences"].to_string(), r#"["a1","a2"]"#);
    }

    #[test]
    fn add_with_a_jwks_file() {
        let dir = tempfile::tempdir().unwrap();
        let jwks = r#"{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "BB", "kid": "1"}]}"#;
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, jwks).unwrap();
        let c = add(&["--jwks-file", file.to_str().unwrap()]).unwrap();
        let body: Value = serde_json::from_str(&c.body.unwrap()).unwrap();
        assert_eq!(body["jwks"], serde_json::from_str::<Value>(jwks).unwrap());

        for bad in [
            r#"{"keys": [{"kty": "EC", "d": "secret"}]}"#,
            r#"{"keys": [{"kty": "oct", "k": "secret"}]}"#,
            r#"{"kty": "RSA", "n": "AQ", "e": "AQAB", "d": "secret"}"#,
        ] {
            std::fs::write(&file, bad).unwrap();
            let e = add(&["--jwks-file", file.to_str().unwrap()]).err().unwrap();
            assert!(e.to_string().contains("private"), "{e}");
            assert!(!format!("{e:#}").contains("secret"), "{e:#}");
        }
        std::fs::write(&file, "[1]").unwrap();
        assert!(add(&["--jwks-file", file.to_str().unwrap()]).is_err());
    }

    #[test]
    fn add_needs_exactly_one_key_source() {
        assert!(usage_error(&ADD));
        assert!(usage_error(
            &[&ADD[..], &["--jwks-file", "f", "--jwks-url", "u"]].concat()
        ));
        assert!(usage_error(
            &[&ADD[..], &["--jwks-file", "f", "--jwks-ca-file", "c"]].concat()
        ));
        assert!(usage_error(&[
            "federation",
            "add",
            "--principal",
            "ci",
            "--jwks-url",
            "u"
        ]));
    }

    #[test]
    fn list_and_remove() {
        sends(
            &["federation", "list"],
            Method::GET,
            "/admin/federated-credentials",
            StatusCode::OK,
        );
        let c = call(&["federation", "list", "--principal", "ci"]).unwrap();
        assert_eq!(c.path, "/admin/federated-credentials?principal=ci");
        sends(
            &["federation", "remove", "f1"],
            Method::DELETE,
            "/admin/federated-credentials/f1",
            StatusCode::NO_CONTENT,
        );
        assert!(usage_error(&["federation", "remove"]));
    }

    #[test]
    fn federation_tables() {
        let f: FederatedCredential = serde_json::from_str(
            r#"{"id": "f1", "principal_client_id": "c1", "issuer": "https://i", "subject": "s",
                "audiences": ["api://AzureADTokenExchange"], "jwks_url": null, "jwks_keys": 2,
                "created": 0}"#,
        )
        .unwrap();
        let list = super::list_table(&List::new(vec![f.clone()]));
        assert_eq!(list, "ID  PRINCIPAL  ISSUER     SUBJECT  KEYS\nf1  c1         https://i  s        2 inline\n");
        let shown = super::credential_table(&f);
        assert!(
            shown.contains("audiences:  api://AzureADTokenExchange\n"),
            "{shown}"
        );
    }
}
