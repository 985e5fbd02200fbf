//! `arca federation add|list|remove`: federated credentials (workload identity federation)
//! through the admin API. The JWK set or the URL it is fetched from is sent as given; a JWK set
//! holding private or symmetric key material is refused, so that it never leaves this machine.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{ArgGroup, Args, Subcommand};
use serde_json::{Map, Value};

use crate::output::{fields, items, text, time, Table};
use crate::session::{segment, with_query, Call, Operation};

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
    fn body(&self) -> anyhow::Result<Value> {
        let mut body = Map::new();
        body.insert("principal".into(), self.principal.clone().into());
        body.insert("issuer".into(), self.issuer.clone().into());
        body.insert("subject".into(), self.subject.clone().into());
        if !self.audiences.is_empty() {
            body.insert("audiences".into(), self.audiences.clone().into());
        }
        if let Some(file) = &self.jwks_file {
            body.insert("jwks".into(), read_jwks(file)?);
        }
        if let Some(url) = &self.jwks_url {
            body.insert("jwks_url".into(), url.clone().into());
        }
        if let Some(file) = &self.jwks_ca_file {
            let pem = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the CA file {}", file.display()))?;
            body.insert("jwks_ca_pem".into(), pem.into());
        }
        Ok(Value::Object(body))
    }
}

/// Where a credential's keys come from: its URL, or how many were given inline.
fn keys(f: &Value) -> String {
    match f["jwks_keys"].as_u64() {
        Some(n) => format!("{n} inline"),
        None => text(&f["jwks_url"]),
    }
}

fn list_table(answer: &Value) -> String {
    let mut table = Table::new(&["ID", "PRINCIPAL", "ISSUER", "SUBJECT", "KEYS"]);
    for f in items(answer) {
        table.row(vec![
            text(&f["id"]),
            text(&f["principal_client_id"]),
            text(&f["issuer"]),
            text(&f["subject"]),
            keys(f),
        ]);
    }
    table.render("")
}

fn credential_table(f: &Value) -> String {
    fields(&[
        ("id", text(&f["id"])),
        ("principal", text(&f["principal_client_id"])),
        ("issuer", text(&f["issuer"])),
        ("subject", text(&f["subject"])),
        ("audiences", text(&f["audiences"])),
        ("keys", keys(f)),
        ("created", time(&f["created"])),
    ])
}

impl Operation for FederationCommand {
    fn call(&self) -> anyhow::Result<Call> {
        const PATH: &str = "/admin/federated-credentials";
        Ok(match self {
            Self::Add(args) => Call::create(PATH.to_owned(), args.body()?, credential_table),
            Self::List { principal } => Call::get(
                with_query(PATH, &[("principal", principal.as_ref())])?,
                list_table,
            ),
            Self::Remove { id } => Call::delete(
                format!("{PATH}/{}", segment(id)?),
                "federated credential",
                id,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use hyper::{Method, StatusCode};
    use serde_json::json;

    use crate::tests::{call, usage_error};

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
        let c = add(&["--jwks-url", "https://issuer.example/keys"]).unwrap();
        assert_eq!(
            (c.method, c.path.as_str(), c.expected),
            (
                Method::POST,
                "/admin/federated-credentials",
                StatusCode::CREATED
            )
        );
        assert_eq!(
            c.body,
            Some(
                json!({"principal": "ci", "issuer": "https://token.actions.githubusercontent.com",
                        "subject": "repo:o/r:ref:refs/heads/main",
                        "jwks_url": "https://issuer.example/keys"})
            )
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
        let body = c.body.unwrap();
        assert_eq!(body["jwks_ca_pem"], "-----BEGIN CERTIFICATE-----\n");
        assert_eq!(body["audiences"], json!(["a1", "a2"]));
    }

    #[test]
    fn add_with_a_jwks_file() {
        let dir = tempfile::tempdir().unwrap();
        let jwks =
            json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "BB", "kid": "1"}]});
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, jwks.to_string()).unwrap();
        let c = add(&["--jwks-file", file.to_str().unwrap()]).unwrap();
        assert_eq!(c.body.unwrap()["jwks"], jwks);

        for bad in [
            json!({"keys": [{"kty": "EC", "d": "secret"}]}),
            json!({"keys": [{"kty": "oct", "k": "secret"}]}),
            json!({"kty": "RSA", "n": "AQ", "e": "AQAB", "d": "secret"}),
        ] {
            std::fs::write(&file, bad.to_string()).unwrap();
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
        let c = call(&["federation", "list"]).unwrap();
        assert_eq!(
            (c.method, c.path.as_str()),
            (Method::GET, "/admin/federated-credentials")
        );
        let c = call(&["federation", "list", "--principal", "ci"]).unwrap();
        assert_eq!(c.path, "/admin/federated-credentials?principal=ci");
        let c = call(&["federation", "remove", "f1"]).unwrap();
        assert_eq!(
            (c.method, c.path.as_str(), c.expected),
            (
                Method::DELETE,
                "/admin/federated-credentials/f1",
                StatusCode::NO_CONTENT
            )
        );
        assert!(usage_error(&["federation", "remove"]));
    }

    #[test]
    fn federation_tables() {
        let f = json!({"id": "f1", "principal_client_id": "c1", "issuer": "https://i", "subject": "s",
                       "audiences": ["api://AzureADTokenExchange"], "jwks_url": null, "jwks_keys": 2,
                       "created": 0});
        let list = super::list_table(&json!({ "value": [f] }));
        assert_eq!(list, "ID  PRINCIPAL  ISSUER     SUBJECT  KEYS\nf1  c1         https://i  s        2 inline\n");
        let shown = super::credential_table(&f);
        assert!(
            shown.contains("audiences:  api://AzureADTokenExchange\n"),
            "{shown}"
        );
    }
}
