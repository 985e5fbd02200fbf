#!/usr/bin/env bash
# The Azure CLI against Arca: register Arca as a cloud, sign in as the bootstrap service
# principal, and use every `az keyvault secret` command on the default vault.
#
#   ARCA_BOOTSTRAP  path of bootstrap.json (default: arca-data/bootstrap.json)
#   AZ              the az command (default: az)
#
# Needs no DNS entry: the default vault is also served at https://localhost:<port>, which
# `--vault-name localhost` reaches once the cloud's Key Vault suffix is ":<port>". Where
# *.localhost resolves (systemd-resolved) or with the lines of `arca hosts` in /etc/hosts,
# register `--suffix-keyvault-dns .vault.localhost:<port>` instead and name any vault:
# `--vault-name default`. Tested by tests/sdk/test_azure_cli.py.
set -euo pipefail

BOOT="${ARCA_BOOTSTRAP:-arca-data/bootstrap.json}"
AZ="${AZ:-az}"
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$BOOT" "$1"; }
expect() { [ "$1" = "$2" ] || { echo "expected '$2', got '$1'" >&2; exit 1; }; }

AUTHORITY="$(field authority_host)"       # https://localhost:8443
PORT="${AUTHORITY##*:}"
export REQUESTS_CA_BUNDLE="$(field ca_cert)"  # trust Arca's CA (az, MSAL and the SDKs use requests)

# Arca as a cloud. MSAL must not ask Microsoft's instance discovery about this authority.
"$AZ" config set core.instance_discovery=false --only-show-errors
"$AZ" cloud register --name Arca --skip-endpoint-discovery \
    --endpoint-active-directory "$AUTHORITY" \
    --endpoint-active-directory-resource-id "$AUTHORITY/management" \
    --endpoint-resource-manager "$AUTHORITY" \
    --suffix-keyvault-dns ":$PORT" --only-show-errors
"$AZ" cloud set --name Arca --only-show-errors
"$AZ" login --service-principal --username "$(field client_id)" --password "$(field client_secret)" \
    --tenant "$(field tenant_id)" --allow-no-subscriptions --only-show-errors >/dev/null

V=(--vault-name localhost)   # https://localhost:<port>: the default vault
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$AZ" keyvault secret set "${V[@]}" --name db-password --value 's3cr3t!' --tags env=dev -o none
"$AZ" keyvault secret set "${V[@]}" --name db-password --value 'rotated' -o none
expect "$("$AZ" keyvault secret show "${V[@]}" --name db-password --query value -o tsv)" rotated
expect "$("$AZ" keyvault secret list "${V[@]}" --query "[?name=='db-password'] | length(@)")" 1
expect "$("$AZ" keyvault secret list-versions "${V[@]}" --name db-password --query 'length(@)')" 2
"$AZ" keyvault secret set-attributes "${V[@]}" --name db-password --content-type text/plain -o none
expect "$("$AZ" keyvault secret show "${V[@]}" --name db-password --query contentType -o tsv)" text/plain
"$AZ" keyvault secret download "${V[@]}" --name db-password --file "$WORK/value.txt"
expect "$(cat "$WORK/value.txt")" rotated
"$AZ" keyvault secret backup "${V[@]}" --name db-password --file "$WORK/db-password.backup"

"$AZ" keyvault secret delete "${V[@]}" --name db-password -o none --only-show-errors
expect "$("$AZ" keyvault secret list-deleted "${V[@]}" --query "[?name=='db-password'] | length(@)")" 1
expect "$("$AZ" keyvault secret show-deleted "${V[@]}" --name db-password --query name -o tsv)" db-password
"$AZ" keyvault secret recover "${V[@]}" --name db-password -o none
expect "$("$AZ" keyvault secret show "${V[@]}" --name db-password --query value -o tsv)" rotated

"$AZ" keyvault secret delete "${V[@]}" --name db-password -o none --only-show-errors
"$AZ" keyvault secret purge "${V[@]}" --name db-password
"$AZ" keyvault secret restore "${V[@]}" --file "$WORK/db-password.backup" -o none
expect "$("$AZ" keyvault secret show "${V[@]}" --name db-password --query value -o tsv)" rotated
echo "azure-cli example: every az keyvault secret command worked"
