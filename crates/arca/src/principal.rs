//! `arca principal ...`: service principals and managed identities, their client secrets and
//! client certificates, through the admin API. A new client secret is printed exactly once, by
//! `principal secret add`; nothing here prints any other secret or sends a private key.

use std::path::PathBuf;

use anyhow::Context;
use arca_client::Request;
use arca_proto::admin::{
    AddCertificate, AddSecret, Certificate, CreatePrincipal, List, NewSecret, Principal,
    PrincipalKind,
};
use clap::Subcommand;

use crate::output::{fields, opt, opt_time, section, time, Table};
use crate::session::{Call, Operation};

#[derive(Subcommand)]
pub enum PrincipalCommand {
    /// Create a service principal (or, with --managed-identity, a managed identity).
    Create {
        display_name: String,
        /// Create a managed identity instead of a service principal.
        #[arg(long)]
        managed_identity: bool,
    },
    /// List principals.
    List,
    /// Show a principal with its secrets and certificates.
    Show {
        /// Client id or object id.
        principal: String,
    },
    /// Delete a principal with its role assignments and federated credentials.
    Delete {
        /// Client id or object id.
        principal: String,
    },
    /// Add or remove client secrets.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Add or remove client certificates.
    #[command(subcommand)]
    Cert(CertCommand),
}

#[derive(Subcommand)]
pub enum SecretCommand {
    /// Add a client secret; it is printed now and can never be shown again.
    Add {
        /// Client id or object id.
        principal: String,
        /// Days until the secret expires (1 to 3650) [server default: 365].
        #[arg(long, value_name = "N")]
        expires_in_days: Option<u32>,
        /// What the secret is for.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// Remove a client secret; tokens issued with it stop working.
    Remove {
        /// Client id or object id.
        principal: String,
        secret_id: String,
    },
}

#[derive(Subcommand)]
pub enum CertCommand {
    /// Register a client certificate (a PEM file holding one certificate, no private key).
    Add {
        /// Client id or object id.
        principal: String,
        pem_file: PathBuf,
    },
    /// Remove a client certificate; tokens issued with it stop working.
    Remove {
        /// Client id or object id.
        principal: String,
        /// The certificate's SHA-1 thumbprint, as `principal show` lists it.
        cert_id: String,
    },
}

/// Reads a certificate to register, refusing a file that also holds a private key: the key must
/// never leave the machine that uses it.
fn read_certificate(file: &PathBuf) -> anyhow::Result<String> {
    let pem = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the certificate file {}", file.display()))?;
    if pem.contains("PRIVATE KEY-----") {
        anyhow::bail!(
            "{} holds a private key: give a file with the certificate only",
            file.display()
        );
    }
    Ok(pem)
}

fn list_table(answer: &List<Principal>) -> String {
    Table::of(
        &[
            "DISPLAY-NAME",
            "CLIENT-ID",
            "KIND",
            "SECRETS",
            "CERTIFICATES",
            "CREATED",
        ],
        &answer.value,
        |p| {
            vec![
                p.display_name.clone(),
                p.client_id.clone(),
                p.kind.as_str().to_owned(),
                p.secrets.len().to_string(),
                p.certificates.len().to_string(),
                time(p.created),
            ]
        },
    )
    .render("")
}

fn principal_table(p: &Principal) -> String {
    let secrets = Table::of(
        &["ID", "DESCRIPTION", "HINT", "CREATED", "EXPIRES"],
        &p.secrets,
        |s| {
            vec![
                s.id.clone(),
                opt(s.description.as_deref()),
                s.hint.clone(),
                time(s.created),
                opt_time(s.expires),
            ]
        },
    );
    let certificates = Table::of(
        &["THUMBPRINT", "SUBJECT", "NOT-BEFORE", "NOT-AFTER"],
        &p.certificates,
        |c| {
            vec![
                c.id.clone(),
                c.subject.clone(),
                time(c.not_before),
                time(c.not_after),
            ]
        },
    );
    fields(&[
        ("display name", p.display_name.clone()),
        ("client id", p.client_id.clone()),
        ("object id", p.object_id.clone()),
        ("kind", p.kind.as_str().to_owned()),
        ("created", time(p.created)),
    ]) + &section("secrets", &secrets)
        + &section("certificates", &certificates)
}

/// The new secret: its details, then the value on a line of its own and the warning last, where
/// the eye lands.
fn new_secret_table(s: &NewSecret) -> String {
    let details = fields(&[
        ("id", s.id.clone()),
        ("description", opt(s.description.as_deref())),
        ("hint", s.hint.clone()),
        ("created", time(s.created)),
        ("expires", opt_time(s.expires)),
    ]);
    let value = s.secret.expose();
    format!(
        "{details}\nsecret: {value}\n\
         Store this secret now: it will not be shown again (add a new one if it is lost).\n"
    )
}

fn certificate_table(c: &Certificate) -> String {
    fields(&[
        ("thumbprint", c.id.clone()),
        ("sha-256 thumbprint", c.thumbprint_sha256.clone()),
        ("subject", c.subject.clone()),
        ("not before", time(c.not_before)),
        ("not after", time(c.not_after)),
        ("added", time(c.added)),
    ])
}

impl Operation for PrincipalCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::Create {
                display_name,
                managed_identity,
            } => {
                let kind = if *managed_identity {
                    PrincipalKind::ManagedIdentity
                } else {
                    PrincipalKind::ServicePrincipal
                };
                let body = CreatePrincipal {
                    display_name: display_name.clone(),
                    kind: Some(kind),
                };
                Call::answer(Request::create_principal(&body)?, principal_table)
            }
            Self::List => Call::answer(Request::principals(), list_table),
            Self::Show { principal } => {
                Call::answer(Request::principal(principal)?, principal_table)
            }
            Self::Delete { principal } => Call::deleted(
                Request::delete_principal(principal)?,
                "principal",
                principal,
            ),
            Self::Secret(SecretCommand::Add {
                principal,
                expires_in_days,
                description,
            }) => {
                let body = AddSecret {
                    description: description.clone(),
                    expires_in_days: *expires_in_days,
                };
                Call::answer(Request::add_secret(principal, &body)?, new_secret_table)
            }
            Self::Secret(SecretCommand::Remove {
                principal,
                secret_id,
            }) => Call::deleted(
                Request::remove_secret(principal, secret_id)?,
                "secret",
                secret_id,
            ),
            Self::Cert(CertCommand::Add {
                principal,
                pem_file,
            }) => {
                let body = AddCertificate {
                    certificate: read_certificate(pem_file)?,
                };
                Call::answer(
                    Request::add_certificate(principal, &body)?,
                    certificate_table,
                )
            }
            Self::Cert(CertCommand::Remove { principal, cert_id }) => Call::deleted(
                Request::remove_certificate(principal, cert_id)?,
                "certificate",
                cert_id,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use arca_proto::admin::{List, NewSecret, Principal};
    use hyper::{Method, StatusCode};

    use crate::tests::{call, sends, usage_error};

    const ID: &str = "6f1c2a8e-0b7d-4a51-9c3e-2f4b5d6e7a8b";

    #[test]
    fn create_list_show_delete() {
        let c = sends(
            &["principal", "create", "ci pipeline"],
            Method::POST,
            "/admin/principals",
            StatusCode::CREATED,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"display_name":"ci pipeline","kind":"service_principal"}"#)
        );
        let c = call(&["principal", "create", "web", "--managed-identity"]).unwrap();
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"display_name":"web","kind":"managed_identity"}"#)
        );
        sends(
            &["principal", "list"],
            Method::GET,
            "/admin/principals",
            StatusCode::OK,
        );
        let c = call(&["principal", "show", ID]).unwrap();
        assert_eq!(c.path, format!("/admin/principals/{ID}"));
        sends(
            &["principal", "delete", ID, "--output", "json"],
            Method::DELETE,
            &format!("/admin/principals/{ID}"),
            StatusCode::NO_CONTENT,
        );
        assert!(call(&["principal", "show", ""]).is_err());
    }

    #[test]
    fn secrets() {
        let c = sends(
            &["principal", "secret", "add", ID],
            Method::POST,
            &format!("/admin/principals/{ID}/secrets"),
            StatusCode::CREATED,
        );
        assert_eq!(c.body.as_deref(), Some("{}"));
        let c = call(&[
            "principal",
            "secret",
            "add",
            ID,
            "--expires-in-days",
            "30",
            "--description",
            "for CI",
        ])
        .unwrap();
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"description":"for CI","expires_in_days":30}"#)
        );
        sends(
            &["principal", "secret", "remove", ID, "s/1"],
            Method::DELETE,
            &format!("/admin/principals/{ID}/secrets/s%2F1"),
            StatusCode::NO_CONTENT,
        );
    }

    #[test]
    fn certificates() {
        let dir = tempfile::tempdir().unwrap();
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let file = dir.path().join("client.pem");
        std::fs::write(&file, pem).unwrap();
        let c = sends(
            &["principal", "cert", "add", ID, file.to_str().unwrap()],
            Method::POST,
            &format!("/admin/principals/{ID}/certificates"),
            StatusCode::CREATED,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(
                r#"{"certificate":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}"#
            )
        );

        let with_key = dir.path().join("both.pem");
        std::fs::write(
            &with_key,
            format!("{pem}-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n"),
        )
        .unwrap();
        let e = call(&["principal", "cert", "add", ID, with_key.to_str().unwrap()])
            .err()
            .unwrap();
        assert!(e.to_string().contains("private key"), "{e}");
        let missing = dir.path().join("missing.pem");
        assert!(call(&["principal", "cert", "add", ID, missing.to_str().unwrap()]).is_err());

        sends(
            &["principal", "cert", "remove", ID, "AB12"],
            Method::DELETE,
            &format!("/admin/principals/{ID}/certificates/AB12"),
            StatusCode::NO_CONTENT,
        );
    }

    #[test]
    fn principal_usage_errors() {
        assert!(usage_error(&["principal", "create"]));
        assert!(usage_error(&["principal", "show"]));
        assert!(usage_error(&[
            "principal",
            "secret",
            "add",
            ID,
            "--expires-in-days",
            "soon"
        ]));
        assert!(usage_error(&["principal", "secret", "remove", ID]));
        assert!(usage_error(&["principal", "cert", "add", ID]));
        assert!(usage_error(&["principal", "secret"]));
    }

    #[test]
    fn principal_tables() {
        let p: Principal = serde_json::from_str(
            r#"{"client_id": "c1", "object_id": "o1", "display_name": "ci", "kind": "service_principal",
                "created": 0,
                "secrets": [{"id": "s1", "description": null, "hint": "abc", "created": 0, "expires": null}],
                "certificates": []}"#,
        )
        .unwrap();
        let shown = super::principal_table(&p);
        assert!(shown.starts_with("display name:  ci\n"), "{shown}");
        assert!(shown.contains("secrets:\n  ID  DESCRIPTION  HINT  CREATED              EXPIRES\n  s1  -            abc   1970-01-01 00:00:00  -\n"), "{shown}");
        assert!(shown.ends_with("certificates: none\n"), "{shown}");
        let list = super::list_table(&List::new(vec![p]));
        assert!(
            list.contains("\nci            c1         service_principal  1        0"),
            "{list}"
        );
    }

    #[test]
    fn a_new_secret_is_shown_on_its_own_line_with_a_warning() {
        let s: NewSecret = serde_json::from_str(
            r#"{"id": "s1", "secret": "abc8Q~xyz", "hint": "abc", "created": 0, "expires": 86400,
                "description": "ci"}"#,
        )
        .unwrap();
        let shown = super::new_secret_table(&s);
        assert!(shown.lines().any(|l| l == "secret: abc8Q~xyz"), "{shown}");
        assert!(shown.contains("will not be shown again"), "{shown}");
        assert!(
            shown.contains("expires:      1970-01-02 00:00:00"),
            "{shown}"
        );
    }
}
