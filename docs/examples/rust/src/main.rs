//! Arca from Rust with the official Azure SDK crates, configured from the environment only:
//! AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST (read by
//! azure_identity itself) and AZURE_KEYVAULT_URL. TLS trust: SSL_CERT_FILE naming a bundle that
//! holds Arca's ca.pem. Sets a secret, reads it back, lists the vault's secrets, then deletes and
//! purges it; prints one line per step and exits non-zero on the first failure.

use azure_identity::ClientSecretCredential;
use azure_security_keyvault_secrets::{
    models::SetSecretParameters, ResourceExt, SecretClient, SecretClientOptions,
};
use futures::TryStreamExt;
use std::env;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| env::var(name).map_err(|_| format!("{name} is not set"));
    let credential = ClientSecretCredential::new(
        &var("AZURE_TENANT_ID")?,
        var("AZURE_CLIENT_ID")?,
        var("AZURE_CLIENT_SECRET")?.into(),
        None,
    )?;
    let vault_url = var("AZURE_KEYVAULT_URL")?;

    // The default vault at https://localhost:<port> names itself in its challenge; the SDK only
    // accepts a challenge resource that is a parent domain of the vault host, so the check is
    // off there. Vaults at <name>.vault.localhost:<port> keep it.
    let host = vault_url.split("://").nth(1).unwrap_or_default();
    let options = SecretClientOptions {
        verify_challenge_resource: Some(!(host.starts_with("localhost:") || host.starts_with("127.0.0.1:"))),
        ..Default::default()
    };
    let client = SecretClient::new(&vault_url, credential, Some(options))?;

    let name = format!("rust-example-{}", std::process::id());
    let params = SetSecretParameters {
        value: Some("s3cr3t from Rust".into()),
        ..Default::default()
    };
    let set = client
        .set_secret(&name, params.try_into()?, None)
        .await?
        .into_model()?;
    println!("set {name} version {:?}", set.resource_id()?.version);

    let got = client.get_secret(&name, None).await?.into_model()?;
    assert_eq!(got.value.as_deref(), Some("s3cr3t from Rust"));
    println!("get {name}: value matches");

    let mut names = Vec::new();
    let mut pager = client.list_secret_properties(None)?;
    while let Some(secret) = pager.try_next().await? {
        names.push(secret.resource_id()?.name);
    }
    assert!(names.contains(&name), "{name} not listed in {names:?}");
    println!("list: {} secret(s), {name} among them", names.len());

    client.delete_secret(&name, None).await?;
    println!("delete {name}");
    client.purge_deleted_secret(&name, None).await?;
    println!("purge {name}");
    Ok(())
}
