//! Arca from Rust with the official Azure SDK crates, configured from the environment only:
//! AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST and
//! AZURE_KEYVAULT_URL; SSL_CERT_FILE names a bundle holding Arca's ca.pem. Sets, gets, lists,
//! deletes and purges a secret. Run by tests/sdk/test_rust_client.py; quoted by the README.

use azure_identity::ClientSecretCredential;
use azure_security_keyvault_secrets::{
    models::SetSecretParameters, ResourceExt, SecretClient, SecretClientOptions,
};
use futures::TryStreamExt;
use std::env::var;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // azure_identity reads AZURE_AUTHORITY_HOST itself.
    let credential = ClientSecretCredential::new(
        &var("AZURE_TENANT_ID")?,
        var("AZURE_CLIENT_ID")?,
        var("AZURE_CLIENT_SECRET")?.into(),
        None,
    )?;
    // The default vault at https://localhost:<port> names that origin in its challenge, which the
    // SDK accepts only with the check off; vaults at https://<name>.vault.localhost:<port> keep it.
    let vault_url = var("AZURE_KEYVAULT_URL")?;
    let options = SecretClientOptions {
        verify_challenge_resource: Some(!vault_url.starts_with("https://localhost:")),
        ..Default::default()
    };
    let client = SecretClient::new(&vault_url, credential, Some(options))?;

    let name = "greeting-from-rust";
    let params = SetSecretParameters {
        value: Some("hello from Rust".into()),
        ..Default::default()
    };
    client.set_secret(name, params.try_into()?, None).await?;
    let secret = client.get_secret(name, None).await?.into_model()?;
    println!("{name} = {}", secret.value.unwrap_or_default());

    let mut pager = client.list_secret_properties(None)?;
    while let Some(properties) = pager.try_next().await? {
        println!("listed {}", properties.resource_id()?.name);
    }

    client.delete_secret(name, None).await?;
    client.purge_deleted_secret(name, None).await?;
    println!("deleted and purged {name}");
    Ok(())
}
