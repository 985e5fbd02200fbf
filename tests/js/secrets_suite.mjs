// Every secret operation of the official JavaScript SDK against Arca, run by
// tests/sdk/test_javascript.py with the connection details in the environment:
//
//   ARCA_VAULT_URL   the vault (https://localhost:PORT for the default vault, or
//                    https://NAME.vault.localhost:PORT with resolve-localhost.cjs preloaded)
//   ARCA_SDK         "4.12" (@azure/keyvault-secrets) or "4.11" (the npm alias keyvault-secrets-4.11)
//   ARCA_CREDENTIAL  "client_secret": ClientSecretCredential from AZURE_TENANT_ID, AZURE_CLIENT_ID,
//                    AZURE_CLIENT_SECRET and AZURE_AUTHORITY_HOST;
//                    "managed_identity": ManagedIdentityCredential({ clientId: ARCA_MI_CLIENT_ID });
//                    "default": DefaultAzureCredential() (managed identity from AZURE_CLIENT_ID)
//   NODE_EXTRA_CA_CERTS  Arca's ca.pem
//
// Prints "ok <step>" per step and "PASS <n> steps" at the end; exits 1 on the first failure.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
} from "@azure/identity";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const sdkModule = { "4.12": "@azure/keyvault-secrets", "4.11": "keyvault-secrets-4.11" }[env("ARCA_SDK")];
if (!sdkModule) throw new Error(`unknown ARCA_SDK ${process.env.ARCA_SDK}`);
const { SecretClient } = await import(sdkModule);

function makeCredential(kind) {
  switch (kind) {
    case "client_secret":
      return new ClientSecretCredential(
        env("AZURE_TENANT_ID"),
        env("AZURE_CLIENT_ID"),
        env("AZURE_CLIENT_SECRET"),
        { authorityHost: env("AZURE_AUTHORITY_HOST"), disableInstanceDiscovery: true },
      );
    case "managed_identity":
      return new ManagedIdentityCredential({ clientId: env("ARCA_MI_CLIENT_ID") });
    case "default":
      return new DefaultAzureCredential();
    default:
      throw new Error(`unknown ARCA_CREDENTIAL ${kind}`);
  }
}

const vaultUrl = env("ARCA_VAULT_URL");
const vaultHost = new URL(vaultUrl).hostname;
// The default vault at the issuer's own origin names that origin in its challenge; the SDK only
// accepts a challenge resource that is a proper parent domain of the vault host.
const atIssuerOrigin = ["localhost", "127.0.0.1", "[::1]"].includes(vaultHost);
const client = new SecretClient(vaultUrl, makeCredential(env("ARCA_CREDENTIAL")), {
  disableChallengeResourceVerification: atIssuerOrigin,
});
const fastPoll = { intervalInMs: 50 };

let steps = 0;
async function step(name, body) {
  await body();
  steps += 1;
  console.log(`ok ${name}`);
}

async function collect(iterator) {
  const items = [];
  for await (const item of iterator) items.push(item);
  return items;
}

const suffix = randomBytes(6).toString("hex");
const name = `js-${suffix}`;
let first;
let second;
let backup;

await step("setSecret", async () => {
  first = await client.setSecret(name, "first value", { contentType: "text/plain", tags: { by: "js" } });
  assert.equal(first.name, name);
  assert.equal(first.value, "first value");
  assert.equal(first.properties.contentType, "text/plain");
  assert.deepEqual(first.properties.tags, { by: "js" });
  assert.ok(first.properties.version);
  second = await client.setSecret(name, "second value");
  assert.notEqual(second.properties.version, first.properties.version);
});

await step("getSecret latest", async () => {
  const got = await client.getSecret(name);
  assert.equal(got.value, "second value");
  assert.equal(got.properties.version, second.properties.version);
});

await step("getSecret by version", async () => {
  const got = await client.getSecret(name, { version: first.properties.version });
  assert.equal(got.value, "first value");
  assert.equal(got.properties.contentType, "text/plain");
});

await step("updateSecretProperties", async () => {
  const updated = await client.updateSecretProperties(name, first.properties.version, {
    contentType: "application/json",
    tags: { by: "js", step: "update" },
    enabled: false,
  });
  assert.equal(updated.version, first.properties.version);
  assert.equal(updated.contentType, "application/json");
  assert.deepEqual(updated.tags, { by: "js", step: "update" });
  assert.equal(updated.enabled, false);
  assert.equal(updated.value, undefined);
  await assert.rejects(client.getSecret(name, { version: first.properties.version }), (err) => err.statusCode === 403);
});

await step("listPropertiesOfSecrets", async () => {
  const listed = await collect(client.listPropertiesOfSecrets());
  const mine = listed.filter((p) => p.name === name);
  assert.equal(mine.length, 1, `${name} listed ${mine.length} times`);
  assert.equal(mine[0].value, undefined);
  // Page by page as well: the SDK follows nextLink itself.
  let paged = 0;
  for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 1 })) paged += page.length;
  assert.equal(paged, listed.length);
});

await step("listPropertiesOfSecretVersions", async () => {
  const versions = (await collect(client.listPropertiesOfSecretVersions(name))).map((p) => p.version).sort();
  assert.deepEqual(versions, [first.properties.version, second.properties.version].sort());
});

await step("backupSecret", async () => {
  backup = await client.backupSecret(name);
  assert.ok(backup instanceof Uint8Array && backup.length > 0);
});

await step("beginDeleteSecret", async () => {
  const poller = await client.beginDeleteSecret(name, fastPoll);
  const deleted = await poller.pollUntilDone();
  assert.equal(deleted.name, name);
  assert.ok(deleted.recoveryId);
  await assert.rejects(client.getSecret(name), (err) => err.statusCode === 404);
});

await step("getDeletedSecret", async () => {
  const deleted = await client.getDeletedSecret(name);
  assert.equal(deleted.name, name);
  assert.ok(deleted.properties.deletedOn instanceof Date);
  assert.ok(deleted.properties.scheduledPurgeDate instanceof Date);
});

await step("listDeletedSecrets", async () => {
  const deleted = await collect(client.listDeletedSecrets());
  assert.ok(deleted.some((d) => d.name === name), `${name} not among the deleted secrets`);
});

await step("beginRecoverDeletedSecret", async () => {
  const poller = await client.beginRecoverDeletedSecret(name, fastPoll);
  const recovered = await poller.pollUntilDone();
  assert.equal(recovered.name, name);
  const got = await client.getSecret(name);
  assert.equal(got.value, "second value");
});

await step("purgeDeletedSecret", async () => {
  await (await client.beginDeleteSecret(name, fastPoll)).pollUntilDone();
  await client.purgeDeletedSecret(name);
  await assert.rejects(client.getDeletedSecret(name), (err) => err.statusCode === 404);
});

await step("restoreSecretBackup", async () => {
  const restored = await client.restoreSecretBackup(backup);
  assert.equal(restored.name, name);
  const versions = (await collect(client.listPropertiesOfSecretVersions(name))).map((p) => p.version).sort();
  assert.deepEqual(versions, [first.properties.version, second.properties.version].sort());
  assert.equal((await client.getSecret(name)).value, "second value");
});

await step("cleanup", async () => {
  await (await client.beginDeleteSecret(name, fastPoll)).pollUntilDone();
  await client.purgeDeletedSecret(name);
});

console.log(`PASS ${steps} steps`);
