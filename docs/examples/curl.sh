#!/usr/bin/env bash
# curl against Arca, as Microsoft's REST documentation does it against Entra ID and Key Vault:
# a token from the token endpoint (v2.0 with scope=, v1 with resource=; the client secret in
# the body or as HTTP Basic authentication), then the Key Vault REST API with that token.
#
#   ARCA_BOOTSTRAP  path of bootstrap.json (default: arca-data/bootstrap.json)
#
# The default vault is also served at https://localhost:<port>, so no DNS entry is needed.
# Tested by tests/sdk/test_token_protocols.py.
set -euo pipefail

BOOT="${ARCA_BOOTSTRAP:-arca-data/bootstrap.json}"
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$BOOT" "$1"; }
json() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
expect() { [ "$1" = "$2" ] || { echo "expected '$2', got '$1'" >&2; exit 1; }; }

AUTHORITY="$(field authority_host)"     # https://localhost:8443
TENANT="$(field tenant_id)"
CLIENT_ID="$(field client_id)"
CLIENT_SECRET="$(field client_secret)"
VAULT="$AUTHORITY"                      # the default vault, or https://<vault>.vault.localhost:<port>
CURL=(curl --silent --show-error --fail-with-body --cacert "$(field ca_cert)")

# 1. A token from the v2.0 endpoint, the client secret in the form (client_secret_post).
TOKEN="$("${CURL[@]}" "$AUTHORITY/$TENANT/oauth2/v2.0/token" \
    --data grant_type=client_credentials \
    --data-urlencode "client_id=$CLIENT_ID" \
    --data-urlencode "client_secret=$CLIENT_SECRET" \
    --data-urlencode "scope=$VAULT/.default" | json access_token)"

# 2. The same from the v1 endpoint, which names the resource instead of a scope.
TOKEN_V1="$("${CURL[@]}" "$AUTHORITY/$TENANT/oauth2/token" \
    --data grant_type=client_credentials \
    --data-urlencode "client_id=$CLIENT_ID" \
    --data-urlencode "client_secret=$CLIENT_SECRET" \
    --data-urlencode "resource=$VAULT" | json access_token)"

# 3. HTTP Basic client authentication (client_secret_basic): curl --user sends
#    base64(client_id:client_secret). Arca's ids and secrets need no URL-encoding.
TOKEN_BASIC="$("${CURL[@]}" "$AUTHORITY/$TENANT/oauth2/v2.0/token" \
    --user "$CLIENT_ID:$CLIENT_SECRET" \
    --data grant_type=client_credentials \
    --data-urlencode "scope=$VAULT/.default" | json access_token)"

# Key Vault REST: set a secret, read it back, list, delete (each with one of the tokens).
"${CURL[@]}" -X PUT "$VAULT/secrets/curl-example?api-version=7.4" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data '{"value": "hello from curl", "contentType": "text/plain"}' >/dev/null
expect "$("${CURL[@]}" "$VAULT/secrets/curl-example?api-version=7.4" \
    -H "Authorization: Bearer $TOKEN_V1" | json value)" "hello from curl"
"${CURL[@]}" "$VAULT/secrets?api-version=7.4" -H "Authorization: Bearer $TOKEN_BASIC" \
    | python3 -c 'import json, sys; ids = [s["id"] for s in json.load(sys.stdin)["value"]];
assert any(i.endswith("/secrets/curl-example") for i in ids), ids'
"${CURL[@]}" -X DELETE "$VAULT/secrets/curl-example?api-version=7.4" \
    -H "Authorization: Bearer $TOKEN_BASIC" >/dev/null
echo "curl example: tokens from the v2.0 and v1 endpoints and through HTTP Basic all worked"
