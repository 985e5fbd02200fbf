//! Reading `bootstrap.json` and choosing the client credentials to sign in with: those in
//! `ARCA_CLIENT_ID`/`ARCA_CLIENT_SECRET` when both are set, else the bootstrap administrator's.

use std::path::Path;

use arca_proto::admin::BootstrapFile;
use arca_proto::SecretText;
use zeroize::Zeroizing;

use crate::ClientError;

/// Reads the bootstrap file at `path`. A copy without the credentials serves callers who bring
/// their own in the environment.
pub fn load_bootstrap(path: &Path) -> Result<BootstrapFile, ClientError> {
    let text =
        Zeroizing::new(
            std::fs::read(path).map_err(|source| ClientError::ReadBootstrap {
                path: path.display().to_string(),
                source,
            })?,
        );
    serde_json::from_slice(&text).map_err(|source| ClientError::ParseBootstrap {
        path: path.display().to_string(),
        source,
    })
}

/// The client credentials a client signs in with.
pub struct Credentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretText,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Credentials given directly (a test's principal, a secret from elsewhere).
    pub fn new(client_id: String, client_secret: SecretText) -> Self {
        Self {
            client_id,
            client_secret,
        }
    }

    /// `ARCA_CLIENT_ID` and `ARCA_CLIENT_SECRET` when both are set, else bootstrap.json's.
    pub fn from_env_or(bootstrap: &BootstrapFile) -> Result<Self, ClientError> {
        let client_id = env_var("ARCA_CLIENT_ID")?;
        let client_secret = env_var("ARCA_CLIENT_SECRET")?.map(SecretText::new);
        Self::choose(bootstrap, client_id, client_secret)
    }

    /// The bootstrap administrator's credentials from bootstrap.json.
    pub fn from_bootstrap(bootstrap: &BootstrapFile) -> Result<Self, ClientError> {
        Self::choose(bootstrap, None, None)
    }

    fn choose(
        bootstrap: &BootstrapFile,
        client_id: Option<String>,
        client_secret: Option<SecretText>,
    ) -> Result<Self, ClientError> {
        match (client_id, client_secret) {
            (Some(client_id), Some(client_secret)) => Ok(Self {
                client_id,
                client_secret,
            }),
            // Half an override is a mistake: falling back to the bootstrap administrator would
            // act with more rights than the caller meant to use.
            (Some(_), None) => Err(ClientError::Credentials(
                "ARCA_CLIENT_ID is set but ARCA_CLIENT_SECRET is not",
            )),
            (None, Some(_)) => Err(ClientError::Credentials(
                "ARCA_CLIENT_SECRET is set but ARCA_CLIENT_ID is not",
            )),
            (None, None) => match (&bootstrap.client_id, &bootstrap.client_secret) {
                (Some(client_id), Some(client_secret)) => Ok(Self {
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                }),
                _ => Err(ClientError::Credentials(
                    "the bootstrap file holds no client credentials: set ARCA_CLIENT_ID and \
                     ARCA_CLIENT_SECRET",
                )),
            },
        }
    }
}

/// An environment variable, unset when empty; its value is never quoted in an error.
fn env_var(name: &'static str) -> Result<Option<String>, ClientError> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => match value.into_string() {
            Ok(value) => Ok(Some(value)),
            Err(_) => Err(ClientError::Environment(name)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bootstrap(credentials: bool) -> BootstrapFile {
        let mut b = BootstrapFile {
            tenant_id: "t".into(),
            authority_host: "https://localhost:8443".into(),
            ca_cert: "/ca.pem".into(),
            ..BootstrapFile::default()
        };
        if credentials {
            b.client_id = Some("boot-id".into());
            b.client_secret = Some(SecretText::new("boot-secret".into()));
        }
        b
    }

    fn pair(c: &Credentials) -> (&str, &str) {
        (c.client_id.as_str(), c.client_secret.expose())
    }

    #[test]
    fn environment_credentials_override_the_bootstrap_file_only_when_both_are_set() {
        let boot = bootstrap(true);
        let c = Credentials::choose(&boot, None, None).unwrap();
        assert_eq!(pair(&c), ("boot-id", "boot-secret"));
        let c = Credentials::choose(
            &boot,
            Some("env-id".into()),
            Some(SecretText::new("env-secret".into())),
        )
        .unwrap();
        assert_eq!(pair(&c), ("env-id", "env-secret"));
        let e = Credentials::choose(&boot, Some("env-id".into()), None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("ARCA_CLIENT_SECRET is not"), "{e}");
        let e = Credentials::choose(&boot, None, Some(SecretText::new("env-secret".into())))
            .err()
            .unwrap();
        assert!(!e.to_string().contains("env-secret"), "{e}");
        let bare = bootstrap(false);
        assert!(Credentials::choose(&bare, None, None).is_err());
        let c = Credentials::choose(
            &bare,
            Some("env-id".into()),
            Some(SecretText::new("s".into())),
        )
        .unwrap();
        assert_eq!(c.client_id, "env-id");
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let c = Credentials::new("id".into(), SecretText::new("hunter2".into()));
        let shown = format!("{c:?}");
        assert!(
            shown.contains("\"id\"") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn bootstrap_files_are_read_and_their_problems_named() {
        let dir = std::env::temp_dir().join(format!("arca-client-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("bootstrap.json");
        std::fs::write(
            &good,
            r#"{"tenant_id":"t","authority_host":"https://h","ca_cert":"/ca.pem"}"#,
        )
        .unwrap();
        assert_eq!(load_bootstrap(&good).unwrap().tenant_id, "t");
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{}").unwrap();
        let e = load_bootstrap(&bad).unwrap_err();
        assert!(
            e.to_string().ends_with("bad.json is not a bootstrap file"),
            "{e}"
        );
        let e = load_bootstrap(&dir.join("missing.json")).unwrap_err();
        assert!(e.to_string().contains("is the server initialised?"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
