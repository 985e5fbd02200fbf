// Arca from JavaScript with the official Azure SDK (@azure/identity, @azure/keyvault-secrets).
// Run: NODE_EXTRA_CA_CERTS=arca-data/ca.pem node javascript.mjs, with AZURE_TENANT_ID,
// AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST and AZURE_KEYVAULT_URL from
// arca-data/bootstrap.json. Tested by tests/sdk/test_javascript.py.
import { ClientSecretCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";

const credential = new ClientSecretCredential(
  process.env.AZURE_TENANT_ID,
  process.env.AZURE_CLIENT_ID,
  process.env.AZURE_CLIENT_SECRET,
  // MSAL for JavaScript accepts an authority that is not Microsoft's only with this option.
  { authorityHost: process.env.AZURE_AUTHORITY_HOST, disableInstanceDiscovery: true },
);

// The default vault at https://localhost:<port> needs no DNS entry; its challenge names that
// origin, which the SDK accepts only with the check off. Vaults at
// https://<name>.vault.localhost:<port> keep the check (and need that name to resolve).
const vaultUrl = process.env.AZURE_KEYVAULT_URL;
const client = new SecretClient(vaultUrl, credential, {
  disableChallengeResourceVerification: new URL(vaultUrl).hostname === "localhost",
});

await client.setSecret("greeting", "hello from JavaScript");
const secret = await client.getSecret("greeting");
console.log(`${secret.name} = ${secret.value}`);
for await (const properties of client.listPropertiesOfSecrets()) {
  console.log(`listed ${properties.name}, updated ${properties.updatedOn.toISOString()}`);
}
