//! `arca ca show|import`: the issuing CA of the built-in certificate issuer (`Arca`), through the
//! admin API. `show` prints the chain clients trust for what it signs (PEM, the issuing CA
//! first, then its issuers up to the root); `import` sends an operator's own CA (its
//! certificate, its private key and, optionally, the certificates above it, each read from a
//! file) in place of the current one for new issuance. The server judges the CA; this only
//! reads the files, within the admin API's body limit, into buffers that are wiped.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use arca_client::Request;
use arca_proto::admin::{ImportCa, IssuingCa};
use arca_proto::SecretText;
use clap::Subcommand;
use zeroize::Zeroizing;

use crate::output::{time, Table};
use crate::session::{Call, Operation};

/// Most bytes read from the files of one import: the admin API's body limit.
const MAX_IMPORT: u64 = 64 * 1024;

#[derive(Subcommand)]
pub enum CaCommand {
    /// Print the chain to trust for certificates of the Arca issuer (PEM; with --output json, the
    /// chain and what each certificate is).
    Show,
    /// Replace the issuing CA with your own CA, for certificates issued from now on.
    Import {
        /// The CA certificate (PEM).
        #[arg(long, value_name = "FILE")]
        cert: PathBuf,
        /// The CA private key (PEM: PKCS#8, PKCS#1 or SEC1; PKCS#8 encrypted with
        /// --password-file).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The certificates above the CA, up to the root (PEM).
        #[arg(long, value_name = "FILE")]
        chain: Option<PathBuf>,
        /// A file whose first line is the password of an encrypted key.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

fn chain_pem(answer: &IssuingCa) -> String {
    answer.chain_pem.clone()
}

fn imported(answer: &IssuingCa) -> String {
    let table = Table::of(
        &["SUBJECT", "ISSUER", "NOT-AFTER"],
        &answer.certificates,
        |c| vec![c.subject.clone(), c.issuer.clone(), time(c.not_after)],
    );
    format!(
        "imported the issuing CA ({}):\n{}",
        answer.source,
        table.render("  ")
    )
}

/// Appends the text of `path` to `into`, refusing a file that would take the total past
/// [`MAX_IMPORT`] or is not text.
fn append(into: &mut Zeroizing<String>, path: &Path) -> anyhow::Result<()> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let room = MAX_IMPORT.saturating_sub(into.len() as u64);
    let mut bytes = Zeroizing::new(Vec::new());
    file.by_ref()
        .take(room + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(
        bytes.len() as u64 <= room,
        "the files of an import are larger than {MAX_IMPORT} bytes together"
    );
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{} is not PEM text", path.display()))?;
    into.push_str(text);
    if !into.ends_with('\n') {
        into.push('\n');
    }
    Ok(())
}

fn import_body(
    cert: &Path,
    key: &Path,
    chain: Option<&Path>,
    password_file: Option<&Path>,
) -> anyhow::Result<ImportCa> {
    // Sized once, so that the key's text is never left behind by a growing buffer.
    let mut pem = Zeroizing::new(String::with_capacity(MAX_IMPORT as usize + 2));
    append(&mut pem, key)?;
    append(&mut pem, cert)?;
    if let Some(chain) = chain {
        append(&mut pem, chain)?;
    }
    let password = match password_file {
        Some(path) => {
            let mut text = Zeroizing::new(String::with_capacity(1024 + 2));
            append(&mut text, path)?;
            let line = text.lines().next().unwrap_or_default();
            Some(SecretText::new(line.to_owned()))
        }
        None => None,
    };
    Ok(ImportCa {
        password,
        pem: SecretText::new(pem.as_str().to_owned()),
    })
}

impl Operation for CaCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::Show => Call::answer(Request::issuing_ca(), chain_pem),
            Self::Import {
                cert,
                key,
                chain,
                password_file,
            } => {
                let body = import_body(cert, key, chain.as_deref(), password_file.as_deref())?;
                Call::answer(Request::import_issuing_ca(&body)?, imported)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use arca_proto::admin::{CaCertificate, IssuingCa};
    use hyper::{Method, StatusCode};

    use crate::tests::{sends, usage_error};

    fn files(names: &[(&str, &str)]) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("arca-ca-{}-{}", std::process::id(), names.len()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in names {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn ca_commands_make_their_requests() {
        let c = sends(
            &["ca", "show"],
            Method::GET,
            "/admin/issuing-ca",
            StatusCode::OK,
        );
        assert_eq!(c.body, None);
        let dir = files(&[
            ("ca.pem", "CERT\n"),
            ("ca.key", "KEY"),
            ("up.pem", "ROOT\n"),
            ("pw", "secret\nignored\n"),
        ]);
        let path = |name: &str| dir.join(name).display().to_string();
        let import = |extra: &[&str]| {
            let (cert, key) = (path("ca.pem"), path("ca.key"));
            let mut args = vec!["ca", "import", "--cert", &cert, "--key", &key];
            args.extend_from_slice(extra);
            sends(&args, Method::PUT, "/admin/issuing-ca", StatusCode::OK).body
        };
        let (up, pw) = (path("up.pem"), path("pw"));
        assert_eq!(
            import(&["--chain", &up, "--password-file", &pw]).as_deref(),
            Some(r#"{"password":"secret","pem":"KEY\nCERT\nROOT\n"}"#)
        );
        assert_eq!(import(&[]).as_deref(), Some(r#"{"pem":"KEY\nCERT\n"}"#));
        assert!(usage_error(&["ca", "import", "--cert", "x"]));
        assert!(usage_error(&["ca"]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_import_too_large_or_unreadable_is_refused_before_sending() {
        let big = "A".repeat(40 * 1024);
        let dir = files(&[("a", big.as_str()), ("b", big.as_str()), ("bin", "\u{0}")]);
        std::fs::write(dir.join("bin"), [0xff, 0xfe]).unwrap();
        let path = |name: &str| dir.join(name).display().to_string();
        let refused = |cert: &str, key: &str| {
            let (cert, key) = (path(cert), path(key));
            crate::tests::call(&["ca", "import", "--cert", &cert, "--key", &key])
                .err()
                .unwrap()
                .to_string()
        };
        let said = refused("a", "b");
        assert!(said.contains("larger than"), "{said}");
        let said = refused("bin", "a");
        assert!(said.contains("not PEM text"), "{said}");
        let said = refused("nope", "a");
        assert!(said.contains("cannot read"), "{said}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn show_prints_the_chain_and_import_what_it_holds() {
        let answer = IssuingCa {
            certificates: vec![CaCertificate {
                issuer: "CN=Root".into(),
                not_after: 86_400,
                not_before: 0,
                sha256: "ab".into(),
                subject: "CN=Operator CA".into(),
            }],
            chain_pem: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n".into(),
            source: "imported".into(),
        };
        assert_eq!(super::chain_pem(&answer), answer.chain_pem);
        assert_eq!(
            super::imported(&answer),
            "imported the issuing CA (imported):\n  SUBJECT         ISSUER   NOT-AFTER\n  CN=Operator CA  CN=Root  1970-01-02 00:00:00\n"
        );
    }
}
