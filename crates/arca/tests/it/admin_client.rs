//! The typed admin client (`arca-client`) against a live `arca serve`: signing in with the
//! bootstrap credentials, typed requests and answers on every kind of route, refusals as typed
//! errors with the envelope's code, and a principal's new secret signing in on its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Stdio};

use arca_client::{load_bootstrap, AdminClient, ClientError, Credentials};
use arca_proto::admin::{
    AddSecret, Assign, AssignmentQuery, CheckAccess, CreatePrincipal, CreateVault, NetworkRules,
    PrincipalKind, RoleType,
};

use crate::common::{free_port, serve};

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path) -> Server {
    let port = free_port();
    let child = serve(dir, port)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    crate::common::wait_until_ready(&mut server.0, port, dir, String::new);
    server
}

#[tokio::test(flavor = "current_thread")]
async fn typed_calls_against_a_live_server() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let _server = start(&dir);
    let bootstrap = load_bootstrap(&dir.join("bootstrap.json")).unwrap();
    let mut admin = AdminClient::new(&bootstrap).unwrap();
    admin
        .login(&Credentials::from_bootstrap(&bootstrap).unwrap())
        .await
        .unwrap();

    // Vaults: create, a refused duplicate as a typed error, list.
    let vault = admin
        .create_vault(&CreateVault {
            name: "team-a".into(),
            purge_protection: None,
            retention_days: Some(7),
        })
        .await
        .unwrap();
    assert_eq!((vault.name.as_str(), vault.retention_days), ("team-a", 7));
    assert_eq!(vault.recovery_level, "CustomizedRecoverable+Purgeable");
    let e = admin
        .create_vault(&CreateVault {
            name: "team-a".into(),
            purge_protection: None,
            retention_days: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(("Conflict", None)), "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(409));
    let names: Vec<String> = admin
        .vaults()
        .await
        .unwrap()
        .value
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["default", "team-a"]);
    let e = admin.vault("missing").await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Api { code, .. } if code == "VaultNotFound"),
        "{e}"
    );

    // A principal with a secret, a role assignment and the access check that follows from it.
    let principal = admin
        .create_principal(&CreatePrincipal {
            display_name: "ci".into(),
            kind: None,
        })
        .await
        .unwrap();
    assert_eq!(principal.kind, PrincipalKind::ServicePrincipal);
    let secret = admin
        .add_secret(
            &principal.client_id,
            &AddSecret {
                description: Some("for CI".into()),
                expires_in_days: Some(1),
            },
        )
        .await
        .unwrap();
    assert!(!format!("{secret:?}").contains(secret.secret.expose()));
    let shown = admin.principal(&principal.object_id).await.unwrap();
    assert_eq!(shown.secrets.len(), 1);
    assert_eq!(shown.secrets[0].description.as_deref(), Some("for CI"));
    let roles = admin.roles().await.unwrap();
    assert!(roles
        .value
        .iter()
        .any(|r| r.name == "Key Vault Administrator" && r.role_type == RoleType::BuiltInRole));
    let assignment = admin
        .assign(&Assign {
            principal: principal.client_id.clone(),
            role: "Key Vault Secrets User".into(),
            scope: "/vaults/team-a".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        assignment.role_name.as_deref(),
        Some("Key Vault Secrets User")
    );
    let listed = admin
        .assignments(&AssignmentQuery {
            principal: Some(principal.client_id.clone()),
            scope: None,
        })
        .await
        .unwrap();
    assert_eq!(listed.value, std::slice::from_ref(&assignment));
    let decision = admin
        .check_access(&CheckAccess {
            action: "Microsoft.KeyVault/vaults/secrets/getSecret/action".into(),
            principal: principal.client_id.clone(),
            scope: "/vaults/team-a/secrets/db".into(),
        })
        .await
        .unwrap();
    assert!(decision.allowed);
    assert_eq!(decision.role_assignment_id, Some(assignment.id.clone()));

    // The new secret signs in; without an administrator role its admin calls are refused.
    let mut ci = AdminClient::new(&bootstrap).unwrap();
    ci.login(&Credentials::new(
        principal.client_id.clone(),
        secret.secret.clone(),
    ))
    .await
    .unwrap();
    let e = ci.vaults().await.unwrap_err();
    assert_eq!(
        e.code(),
        Some(("Forbidden", Some("ForbiddenByRbac"))),
        "{e}"
    );

    // Network rules, signing keys, and deletions answered 204.
    let rules = admin
        .set_vault_network_rules(
            "team-a",
            &NetworkRules {
                default_action: "deny".into(),
                ip_rules: vec!["127.0.0.1".into()],
            },
        )
        .await
        .unwrap();
    assert_eq!(rules.default_action, "Deny");
    assert_eq!(admin.vault_network_rules("team-a").await.unwrap(), rules);
    let keys = admin.signing_keys().await.unwrap();
    assert_eq!(keys.value.iter().filter(|k| k.active).count(), 1);
    admin.unassign(&assignment.id).await.unwrap();
    admin.delete_principal(&principal.client_id).await.unwrap();
    let e = admin.principal(&principal.client_id).await.unwrap_err();
    assert_eq!(e.code(), Some(("PrincipalNotFound", None)), "{e}");
    admin.delete_vault("team-a").await.unwrap();
}
