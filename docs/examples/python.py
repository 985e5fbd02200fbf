"""Arca from the Python SDK (pip install azure-keyvault-secrets azure-identity).

    export REQUESTS_CA_BUNDLE=arca-data/ca.pem   # trust Arca's CA (the async clients read SSL_CERT_FILE)
    python docs/examples/python.py               # ARCA_BOOTSTRAP=<path> for another bootstrap.json

Tested by tests/sdk/test_readme_python.py.
"""

import json
import os
import socket
from urllib.parse import urlsplit

from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient

b = json.load(open(os.environ.get("ARCA_BOOTSTRAP", "arca-data/bootstrap.json")))
credential = ClientSecretCredential(b["tenant_id"], b["client_id"], b["client_secret"],
                                    authority=b["authority_host"],  # https://localhost:<port>
                                    disable_instance_discovery=True)  # Arca is not a Microsoft cloud

# 1. No DNS setup: the default vault is also served at https://localhost:<port>. The SDK
#    (4.6 and later) accepts a token challenge only from a resource whose domain is a parent of
#    the vault's host name; "localhost" has no parent, so that check is turned off here.
client = SecretClient(b["authority_host"], credential, verify_challenge_resource=False)
client.set_secret("db-password", "s3cr3t")
print(client.get_secret("db-password").value)

# 2. Any vault by name, https://<vault>.vault.localhost:<port> (here: default). No flag is needed,
#    but the name must resolve: systemd-resolved does it; elsewhere add the lines that
#    `arca hosts` prints to /etc/hosts.
host = urlsplit(b["vault_url"]).hostname
try:
    socket.getaddrinfo(host, None)
except socket.gaierror:
    print(f"{host} does not resolve: add the lines of `arca hosts` to /etc/hosts")
else:
    named = SecretClient(b["vault_url"], credential)
    print(named.get_secret("db-password").value)
