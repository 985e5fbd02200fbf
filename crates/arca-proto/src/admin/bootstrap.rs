//! `bootstrap.json`: what `arca serve` writes into the data directory on first start (mode 0600)
//! and keeps up to date at every start, and what the CLI signs in with.

use serde::{Deserialize, Serialize};

use crate::SecretText;

/// The contents of `bootstrap.json`: the bootstrap administrator's credentials (a service
/// principal: tenant, client id and secret), where the issuer and the default vault are, and the
/// App Service managed-identity endpoint with its header, for the managed identities the
/// operator creates. The same endpoint and secret serve the older App Service protocol
/// (api-version 2017-09-01) under the names its clients read: `msi_endpoint` (`MSI_ENDPOINT`) and
/// `msi_secret` (`MSI_SECRET`). `arca identity-header rotate` rewrites `identity_header` and
/// `msi_secret`.
///
/// The server always writes every member, in this order. A reader also accepts a copy without
/// the credentials or the managed-identity members (a caller who brings their own credentials
/// needs only `tenant_id`, `authority_host` and `ca_cert`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapFile {
    pub tenant_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretText>,
    pub authority_host: String,
    #[serde(default)]
    pub identity_endpoint: String,
    #[serde(default)]
    pub identity_header: SecretText,
    /// `MSI_ENDPOINT`: the same endpoint as `identity_endpoint`. Absent from files written by
    /// builds before it; the next start adds it.
    #[serde(default)]
    pub msi_endpoint: String,
    /// `MSI_SECRET`: the same secret as `identity_header`.
    #[serde(default)]
    pub msi_secret: SecretText,
    #[serde(default)]
    pub vault_url: String,
    /// Path of the deployment's CA certificate (`ca.pem`).
    pub ca_cert: String,
}

impl std::fmt::Debug for BootstrapFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapFile")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("authority_host", &self.authority_host)
            .field("vault_url", &self.vault_url)
            .field("ca_cert", &self.ca_cert)
            .finish_non_exhaustive()
    }
}

impl BootstrapFile {
    /// The file's text as the server writes it: pretty-printed, ending in a newline. The text
    /// holds secrets, so it comes zeroizing.
    pub fn to_text(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, serde_json::Error> {
        let mut text = zeroize::Zeroizing::new(serde_json::to_vec_pretty(self)?);
        text.push(b'\n');
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BootstrapFile {
        BootstrapFile {
            tenant_id: "t".into(),
            client_id: Some("c".into()),
            client_secret: Some(SecretText::new("client-secret".into())),
            authority_host: "https://localhost:8443".into(),
            identity_endpoint: "https://localhost:8443/msi/token".into(),
            identity_header: SecretText::new("header-secret".into()),
            msi_endpoint: "https://localhost:8443/msi/token".into(),
            msi_secret: SecretText::new("header-secret".into()),
            vault_url: "https://default.vault.localhost:8443".into(),
            ca_cert: "/data/ca.pem".into(),
        }
    }

    const WRITTEN: &str = r#"{
  "tenant_id": "t",
  "client_id": "c",
  "client_secret": "client-secret",
  "authority_host": "https://localhost:8443",
  "identity_endpoint": "https://localhost:8443/msi/token",
  "identity_header": "header-secret",
  "msi_endpoint": "https://localhost:8443/msi/token",
  "msi_secret": "header-secret",
  "vault_url": "https://default.vault.localhost:8443",
  "ca_cert": "/data/ca.pem"
}
"#;

    #[test]
    fn written_exactly_so() {
        let text = sample().to_text().unwrap();
        assert_eq!(std::str::from_utf8(&text).unwrap(), WRITTEN);
        let read: BootstrapFile = serde_json::from_str(WRITTEN).unwrap();
        assert_eq!(read, sample());
    }

    #[test]
    fn files_from_older_builds_and_copies_without_credentials_are_read() {
        let older: BootstrapFile = serde_json::from_str(
            r#"{"tenant_id":"t","client_id":"c","client_secret":"s","authority_host":"https://h",
                "identity_endpoint":"https://h/msi/token","identity_header":"x",
                "vault_url":"https://v","ca_cert":"/ca.pem"}"#,
        )
        .unwrap();
        assert!(older.msi_endpoint.is_empty() && older.msi_secret.is_empty());
        let bare: BootstrapFile = serde_json::from_str(
            r#"{"tenant_id":"t","authority_host":"https://h","ca_cert":"/ca.pem"}"#,
        )
        .unwrap();
        assert_eq!((bare.client_id, bare.client_secret), (None, None));
        assert!(serde_json::from_str::<BootstrapFile>(r#"{"tenant_id":"t"}"#).is_err());
    }

    #[test]
    fn debug_shows_no_secret() {
        let shown = format!("{:?}", sample());
        assert!(shown.contains("\"c\""), "{shown}");
        assert!(!shown.contains("secret\""), "{shown}");
        assert!(!shown.contains("client-secret") && !shown.contains("header-secret"));
    }
}
