//! Identity tests that need a deployment as `bootstrap::prepare` makes it (the bootstrap
//! administrator, bootstrap.json, the configured managed-identity defaults): who the IMDS and
//! App Service endpoints serve, from where, the conversion of old data directories, the rotation
//! of the identity header; and, on the shared harness, tenant checks and the bearer scheme.
//! Everything runs in-process through the whole router over a real SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use arca_server::identity::principal::{PrincipalData, PrincipalKind};
use arca_store::PrincipalRecord;
use axum::http::StatusCode;
use common::{
    deployment, from_ip, get, secret_form, split, text, token_form, Deployment, Harness,
    ADMIN_HOST, CLIENT_SECRET, V,
};
use serde_json::Value;

const RESOURCE: &str = "https%3A%2F%2Fvault.localhost%3A8443";

impl Deployment {
    fn client_id(&self) -> String {
        self.boot("client_id")
    }

    /// The bootstrap principal's stored record.
    async fn bootstrap_principal(&self) -> PrincipalRecord {
        let client_id = self.client_id();
        self.state
            .store
            .principal(&client_id)
            .await
            .unwrap()
            .unwrap()
    }

    /// The bootstrap principal's stored kind.
    async fn bootstrap_kind(&self) -> PrincipalKind {
        let record = self.bootstrap_principal().await;
        PrincipalData::open(&self.state.keyring, &record)
            .unwrap()
            .kind
    }

    async fn object_id(&self) -> String {
        self.bootstrap_principal().await.object_id
    }

    /// An IMDS request with `Metadata: true` from `ip`.
    async fn imds(&self, query: &str, ip: &str) -> (StatusCode, Value) {
        let uri = format!(
            "/metadata/identity/oauth2/token?api-version=2018-02-01&resource={RESOURCE}{query}"
        );
        let request = get(ADMIN_HOST, &uri, &[("metadata", "true")]);
        self.send(from_ip(request, ip)).await
    }

    /// An App Service managed-identity request with `header` from `ip`.
    async fn app_service(&self, query: &str, header: &str, ip: &str) -> (StatusCode, Value) {
        self.send(from_ip(app_service_request(query, header), ip))
            .await
    }

    fn header(&self) -> String {
        self.boot("identity_header")
    }

    /// A token of the bootstrap administrator through its client secret.
    async fn admin_token(&self) -> String {
        self.token_for(common::SCOPE).await
    }
}

/// An App Service managed-identity request with `header`, from no known peer.
fn app_service_request(query: &str, header: &str) -> axum::http::Request<axum::body::Body> {
    let uri = format!("/msi/token?api-version=2019-08-01&resource={RESOURCE}{query}");
    get(ADMIN_HOST, &uri, &[("x-identity-header", header)])
}

#[track_caller]
fn assert_no_token(reply: &(StatusCode, Value), case: &str) {
    assert!(
        reply.0.is_client_error() && reply.1.get("access_token").is_none(),
        "{case}: {} {}",
        reply.0,
        reply.1
    );
}

#[track_caller]
fn assert_token_of(reply: &(StatusCode, Value), client_id: &str, case: &str) {
    assert_eq!(reply.0, StatusCode::OK, "{case}: {}", reply.1);
    assert_eq!(reply.1["client_id"], client_id, "{case}");
}

// ---- who the managed-identity endpoints serve ----

/// The attack: any local process that knows the administrator's client id got a Key Vault
/// Administrator token from IMDS with `Metadata: true` and nothing else, and from the App
/// Service endpoint with the static header.
#[tokio::test]
async fn managed_identity_endpoints_never_serve_the_administrator_by_default() {
    let d = deployment(|_| {}).await;
    assert_eq!(d.bootstrap_kind().await, PrincipalKind::ServicePrincipal);
    let (client_id, object_id) = (d.client_id(), d.object_id().await);
    let named = [
        format!("&client_id={client_id}"),
        format!("&object_id={object_id}"),
        format!("&principal_id={object_id}"),
        String::new(),
    ];
    for query in &named {
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert_no_token(&d.imds(query, ip).await, &format!("IMDS {query} from {ip}"));
            assert_no_token(
                &d.app_service(query, &d.header(), ip).await,
                &format!("App Service {query} from {ip}"),
            );
        }
    }
    // Managed identities the operator creates are still served, by id.
    let mi = d.managed_identity().await;
    let query = format!("&client_id={mi}");
    assert_token_of(&d.imds(&query, "127.0.0.1").await, &mi, "IMDS");
    assert_token_of(
        &d.app_service(&query, &d.header(), "127.0.0.1").await,
        &mi,
        "App Service",
    );
}

#[tokio::test]
async fn the_administrator_is_served_only_where_the_operator_configured_it() {
    let d = deployment(|s| s.imds_identity = Some("bootstrap".into())).await;
    let admin = d.client_id();
    assert_token_of(&d.imds("", "127.0.0.1").await, &admin, "IMDS default");
    assert_token_of(
        &d.imds(&format!("&client_id={admin}"), "127.0.0.1").await,
        &admin,
        "IMDS named",
    );
    assert_no_token(
        &d.app_service("", &d.header(), "127.0.0.1").await,
        "App Service is not configured",
    );
    assert_no_token(
        &d.app_service(&format!("&client_id={admin}"), &d.header(), "127.0.0.1")
            .await,
        "App Service is not configured",
    );

    // By client id, on the App Service endpoint.
    let d = d
        .reopen(|s| s.app_service_identity = Some(admin.clone()))
        .await;
    assert_token_of(
        &d.app_service("", &d.header(), "127.0.0.1").await,
        &admin,
        "App Service default",
    );
    assert_no_token(&d.imds("", "127.0.0.1").await, "IMDS is not configured");
    assert_no_token(
        &d.imds(&format!("&client_id={admin}"), "127.0.0.1").await,
        "IMDS is not configured",
    );
}

/// A data directory made before the fix stored the bootstrap principal as a managed identity;
/// the next start makes it a service principal (and again, idempotently).
#[tokio::test]
async fn an_old_bootstrap_managed_identity_becomes_a_service_principal_at_start() {
    let d = deployment(|_| {}).await;
    let client_id = d.client_id();
    let mut record = d.bootstrap_principal().await;
    let mut data = PrincipalData::open(&d.state.keyring, &record).unwrap();
    data.kind = PrincipalKind::ManagedIdentity;
    record.data = data
        .seal(
            &d.state.keyring,
            &record.client_id,
            &record.object_id,
            record.created,
        )
        .unwrap();
    d.state.store.update_principal(&record).await.unwrap();

    let d = d.reopen(|_| {}).await;
    assert_eq!(d.bootstrap_kind().await, PrincipalKind::ServicePrincipal);
    assert_no_token(
        &d.imds(&format!("&client_id={client_id}"), "127.0.0.1")
            .await,
        "IMDS",
    );
    // The administrator still signs in with its secret.
    d.admin_token().await;
    let d = d.reopen(|_| {}).await;
    assert_eq!(d.bootstrap_kind().await, PrincipalKind::ServicePrincipal);
}

/// The App Service endpoint answered any network caller; now loopback only, unless configured.
#[tokio::test]
async fn the_app_service_endpoint_answers_remote_callers_only_when_configured() {
    let d = deployment(|_| {}).await;
    let mi = d.managed_identity().await;
    let query = format!("&client_id={mi}");
    for ip in ["192.0.2.10", "2001:db8::1", "::ffff:192.0.2.10"] {
        let reply = d.app_service(&query, &d.header(), ip).await;
        assert_eq!(reply.0, StatusCode::FORBIDDEN, "{ip}: {}", reply.1);
        assert_no_token(&reply, ip);
    }
    assert_eq!(
        d.send(app_service_request(&query, &d.header())).await.0,
        StatusCode::FORBIDDEN,
        "no known peer"
    );

    let d = d
        .reopen(|s| s.app_service_remote = Some("true".into()))
        .await;
    assert_token_of(
        &d.app_service(&query, &d.header(), "192.0.2.10").await,
        &mi,
        "remote allowed",
    );
    assert_no_token(
        &d.app_service(&query, "wrong", "192.0.2.10").await,
        "wrong header",
    );
}

// ---- identity header rotation ----

#[tokio::test]
async fn rotating_the_identity_header_retires_the_old_one_at_once() {
    let d = deployment(|_| {}).await;
    let mi = d.managed_identity().await;
    let query = format!("&client_id={mi}");
    let old = d.header();
    let sealed_before = d.state.store.meta("identity_header").await.unwrap();

    let (status, body) = d.admin("POST", "/admin/identity-header/rotate", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = text(&body["identity_header"]);
    assert_ne!(new, old);
    assert!(new.len() >= 32, "as random as before");

    assert_eq!(
        d.app_service(&query, &old, "127.0.0.1").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_token_of(&d.app_service(&query, &new, "127.0.0.1").await, &mi, "new");

    // Stored sealed in place of the old one (never in the clear).
    let sealed_after = d
        .state
        .store
        .meta("identity_header")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(Some(&sealed_after), sealed_before.as_ref());
    assert!(!sealed_after.windows(new.len()).any(|w| w == new.as_bytes()));

    // bootstrap.json holds the new header, still private, the rest unchanged.
    let path = d.dir.path().join("data/bootstrap.json");
    let boot: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(boot["identity_header"], new.as_str());
    assert_eq!(
        boot["msi_secret"],
        new.as_str(),
        "MSI_SECRET is the same secret"
    );
    let mut unchanged = boot.clone();
    unchanged["identity_header"] = d.boot["identity_header"].clone();
    unchanged["msi_secret"] = d.boot["msi_secret"].clone();
    assert_eq!(unchanged, d.boot);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A restart (or another replica) uses the stored header.
    let d = d.reopen(|_| {}).await;
    assert_token_of(
        &d.app_service(&query, &new, "127.0.0.1").await,
        &mi,
        "after restart",
    );
    assert_eq!(
        d.app_service(&query, &old, "127.0.0.1").await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// Another replica rotated: this one's refresher notices the stored header changed.
#[tokio::test]
async fn a_header_rotated_elsewhere_is_picked_up() {
    let d = deployment(|_| {}).await;
    let mi = d.managed_identity().await;
    let query = format!("&client_id={mi}");
    let seen = d.state.store.meta("identity_header").await.unwrap();
    let old = d.header();
    // What the other replica's rotation leaves in the shared store.
    let new = arca_server::bootstrap::rotate_identity_header(&d.state)
        .await
        .unwrap();
    d.state
        .issuer
        .set_identity_header(arca_crypto::SecretString::new(old.clone()));
    assert_eq!(
        d.app_service(&query, new.expose(), "127.0.0.1").await.0,
        StatusCode::UNAUTHORIZED
    );
    arca_server::bootstrap::reload_identity_header(&d.state, seen)
        .await
        .unwrap();
    assert_token_of(
        &d.app_service(&query, new.expose(), "127.0.0.1").await,
        &mi,
        "reloaded",
    );
    assert_eq!(
        d.app_service(&query, &old, "127.0.0.1").await.0,
        StatusCode::UNAUTHORIZED
    );
}

// ---- tenants ----

#[tokio::test]
async fn only_this_tenant_and_its_aliases_are_served() {
    let h = common::harness().await;
    let form = secret_form("client", CLIENT_SECRET);
    let token_at = |tenant: &str| {
        let mut request = token_form(&form);
        *request.uri_mut() = format!("/{tenant}/oauth2/v2.0/token").parse().unwrap();
        request
    };
    for tenant in ["tenant", "TENANT", "organizations", "common", "Common"] {
        let (status, body) = split(h.send(token_at(tenant)).await).await;
        assert_eq!(status, StatusCode::OK, "{tenant}: {body}");
    }
    let long = "x".repeat(500);
    for tenant in [
        "other",
        "consumers",
        "00000000-0000-0000-0000-000000000000",
        long.as_str(),
        "a%22b%3Cc",
    ] {
        let (status, body) = split(h.send(token_at(tenant)).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_tenant")),
            "{tenant}: {body}"
        );
        let description = text(&body["error_description"]);
        assert!(
            description.starts_with("AADSTS90002: Tenant '"),
            "{description}"
        );
        assert!(description.len() < 250, "{description}");
        assert!(!description.contains('"') && !description.contains('<'));
        for path in [
            format!("/{tenant}/v2.0/.well-known/openid-configuration"),
            format!("/{tenant}/discovery/v2.0/keys"),
        ] {
            let (status, body) = split(h.send(get(ADMIN_HOST, &path, &[])).await).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::BAD_REQUEST, Some("invalid_tenant")),
                "{path}"
            );
        }
    }
    for tenant in ["tenant", "organizations", "common"] {
        let request = get(ADMIN_HOST, &format!("/{tenant}/discovery/v2.0/keys"), &[]);
        assert_eq!(h.send(request).await.status(), StatusCode::OK, "{tenant}");
    }
}

// ---- the Authorization scheme ----

/// RFC 7235: the auth-scheme is case-insensitive.
#[tokio::test]
async fn the_bearer_scheme_is_compared_without_regard_to_case() {
    let h: Harness = common::harness().await;
    let list = |authorization: &str| {
        get(
            common::HOST,
            &format!("/secrets?{V}"),
            &[("authorization", authorization)],
        )
    };
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let request = list(&format!("{scheme} {}", h.token));
        let (status, body) = split(h.send(request).await).await;
        assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
    }
    for value in [
        format!("Basic {}", h.token),
        format!("Bearer{}", h.token),
        "Bearer ".to_owned(),
    ] {
        assert_eq!(
            h.send(list(&value)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}
