//! The built-in certificate issuer's administration: the issuing CA a deployment makes at start
//! for its `issuing_dns_suffixes` (kept across restarts, retired without them), `GET` and `PUT
//! /admin/issuing-ca` (show, import), and each vault issuer's permitted DNS suffixes, with their
//! limits and refusals. What the issuer signs verifies with `openssl verify -CAfile` against the
//! chain the admin API shows (`arca ca show`).

use std::process::Command;

use arca_core::ObjectName;
use arca_crypto::keys::{Curve, PrivateKey};
use arca_crypto::pki::certs::{certificate_pem, CertificateDescription, SubjectAltNames};
use arca_engine::certificates::arca_issuer;
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

const ISSUING_CA: &str = "/admin/issuing-ca";

fn suffixes_path(vault: &str, issuer: Option<&str>) -> String {
    let base = format!("/admin/vaults/{vault}/certificate-issuer-suffixes");
    issuer.map_or(base.clone(), |issuer| format!("{base}/{issuer}"))
}

fn subjects(answer: &Value) -> Vec<String> {
    answer["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| text(&c["subject"]))
        .collect()
}

fn operator_ca_pem(ca: &arca_crypto::CaMaterial) -> String {
    format!(
        "{}{}",
        arca_crypto::private_key_pem(&ca.key_pkcs8).expose(),
        ca.cert_pem
    )
}

#[tokio::test]
async fn a_deployment_makes_its_issuing_ca_and_what_it_signs_verifies_with_openssl() {
    let d = deployment(|s| s.issuing_dns_suffixes = Some("example.internal".into())).await;
    let (status, shown) = d.admin("GET", ISSUING_CA, None).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["source"], "generated");
    assert_eq!(subjects(&shown), ["CN=Arca issuing CA", "CN=Arca local CA"]);
    let ca_pem = std::fs::read_to_string(d.dir.path().join("data").join("ca.pem")).unwrap();
    let chain_pem = text(&shown["chain_pem"]);
    assert!(
        chain_pem.ends_with(&ca_pem),
        "the chain ends with ca.pem's root"
    );

    // A vault user makes an Arca issuer; the administrator permits it one suffix.
    let token = d.token_for(SCOPE).await;
    let issuer = json!({"provider": "Arca"});
    let path = format!("/certificates/issuers/internal?{V}");
    let request = json_request(Some(&token), HOST, "PUT", &path, json_body(Some(issuer)));
    let (status, body) = d.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = json!({"suffixes": ["svc.example.internal"]});
    let (status, set) = d
        .admin(
            "PUT",
            &suffixes_path("default", Some("internal")),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");

    let vault = d.state.store.vault("default").await.unwrap().unwrap();
    let key = PrivateKey::generate_ec(Curve::P256).unwrap();
    let described = |name: &str| CertificateDescription {
        subject: format!("CN={name}"),
        sans: SubjectAltNames {
            dns_names: vec![name.to_owned()],
            ..Default::default()
        },
        validity_months: 12,
        ..Default::default()
    };
    let issue = |name: &str| {
        let (engine, vault, public) = (
            d.state.engine.clone(),
            vault.clone(),
            key.public_key().unwrap(),
        );
        let description = described(name);
        async move {
            arca_issuer::issue(
                &engine,
                &vault,
                &ObjectName::parse("internal").unwrap(),
                &description,
                &public,
                START,
            )
            .await
        }
    };
    let chain = issue("api.svc.example.internal").await.unwrap();
    assert_eq!(chain.len(), 2);
    assert!(matches!(
        issue("api.other.example.internal").await,
        Err(arca_engine::EngineError::Invalid(m)) if m.contains("\"api.other.example.internal\"")
    ));

    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: `openssl` is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let chain_file = dir.path().join("chain.pem");
    let leaf_file = dir.path().join("leaf.pem");
    std::fs::write(&chain_file, &chain_pem).unwrap();
    std::fs::write(&leaf_file, certificate_pem(&chain[0])).unwrap();
    let out = Command::new("openssl")
        .args(["verify", "-attime", &START.to_string(), "-CAfile"])
        .arg(&chain_file)
        .args(["-verify_hostname", "api.svc.example.internal"])
        .arg(&leaf_file)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.contains(": OK"), "{said}");
}

#[tokio::test]
async fn the_issuing_ca_is_kept_across_restarts_and_retired_without_suffixes() {
    let with = |s: &mut arca_server::config::Settings| {
        s.issuing_dns_suffixes = Some("example.internal".into());
    };
    let d = deployment(with).await;
    let (_, first) = d.admin("GET", ISSUING_CA, None).await;
    let d = d.reopen(with).await;
    let (_, again) = d.admin("GET", ISSUING_CA, None).await;
    assert_eq!(first, again, "kept while the suffixes and the root stay");
    let ca_before = std::fs::read_to_string(d.dir.path().join("data").join("ca.pem")).unwrap();
    let d = d.reopen(|_| {}).await;
    let ca_after = std::fs::read_to_string(d.dir.path().join("data").join("ca.pem")).unwrap();
    assert_ne!(
        ca_before, ca_after,
        "the local CA no longer permits the suffixes"
    );
    let gone = d.admin("GET", ISSUING_CA, None).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "IssuingCaNotFound");
    let d = d.reopen(with).await;
    let (_, renewed) = d.admin("GET", ISSUING_CA, None).await;
    assert_ne!(renewed["chain_pem"], first["chain_pem"]);
}

#[tokio::test]
async fn an_operator_ca_is_imported_and_bad_ones_are_refused_changing_nothing() {
    let h = harness().await;
    let none = h.admin("GET", ISSUING_CA, None).await;
    assert_error(&none, StatusCode::NOT_FOUND, "IssuingCaNotFound");
    let operator = arca_crypto::generate_ca("Operator CA", START - 60).unwrap();
    let imported = h
        .admin_ok(
            StatusCode::OK,
            "PUT",
            ISSUING_CA,
            Some(json!({"pem": operator_ca_pem(&operator)})),
        )
        .await;
    assert_eq!(imported["source"], "imported");
    assert_eq!(subjects(&imported), ["CN=Operator CA"]);
    assert_eq!(text(&imported["chain_pem"]), operator.cert_pem);
    assert_eq!(h.admin_get(ISSUING_CA).await, imported);

    let leaf = arca_crypto::issue_server_cert(&operator, &["a.example".to_owned()], START).unwrap();
    let other = arca_crypto::generate_ca("Other CA", START - 60).unwrap();
    for (body, expected) in [
        (json!({"pem": "not pem"}), "cannot be imported"),
        (json!({"pem": operator.cert_pem}), "no private key"),
        (
            json!({"pem": format!("{}{}", arca_crypto::private_key_pem(&other.key_pkcs8).expose(), operator.cert_pem)}),
            "private key",
        ),
        (
            json!({"pem": format!("{}{}", arca_crypto::private_key_pem(&leaf.key_pkcs8).expose(), leaf.cert_pem)}),
            "not a CA",
        ),
        (json!({"pem": "x", "extra": 1}), "member"),
    ] {
        let reply = h.admin("PUT", ISSUING_CA, Some(body)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BadParameter");
        let message = text(&reply.1["error"]["message"]);
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(!message.contains("PRIVATE KEY"), "{message}");
    }
    let expired = arca_crypto::generate_ca("Old CA", START - 11 * 365 * 86_400).unwrap();
    let reply = h
        .admin(
            "PUT",
            ISSUING_CA,
            Some(json!({"pem": operator_ca_pem(&expired)})),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "BadParameter");
    assert!(text(&reply.1["error"]["message"]).contains("not valid now"));
    assert_eq!(h.admin_get(ISSUING_CA).await, imported, "nothing changed");

    // The body limit of the admin API.
    let huge = json!({"pem": "x".repeat(70 * 1024)});
    let (status, _) = h.admin("PUT", ISSUING_CA, Some(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn issuer_suffixes_are_set_shown_listed_and_deleted_by_administrators_only() {
    let h = harness().await;
    let list = suffixes_path("default", None);
    let one = suffixes_path("default", Some("Internal"));
    assert_eq!(h.admin_get(&list).await, json!({"value": []}));
    let missing = h.admin("GET", &one, None).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "IssuerSuffixesNotFound");

    let set = h
        .admin_ok(
            StatusCode::OK,
            "PUT",
            &one,
            Some(json!({"suffixes": ["B.example.internal", "a.example.internal", "a.example.internal"]})),
        )
        .await;
    assert_eq!(set["issuer"], "Internal");
    assert_eq!(
        set["suffixes"],
        json!(["a.example.internal", "b.example.internal"])
    );
    assert_eq!(set["updated"], START);
    assert_eq!(
        h.admin_get(&suffixes_path("default", Some("internal")))
            .await,
        set
    );
    assert_eq!(h.admin_get(&list).await, json!({"value": [set]}));
    // Another vault's lists are its own.
    assert_eq!(
        h.admin_get(&suffixes_path("short", None)).await,
        json!({"value": []})
    );

    let many: Vec<String> = (0..33).map(|i| format!("s{i}.internal")).collect();
    for (body, expected) in [
        (json!({"suffixes": ["vault.localhost"]}), "Arca's own name"),
        (
            json!({"suffixes": ["a.vault.localhost"]}),
            "Arca's own name",
        ),
        (json!({"suffixes": ["localhost"]}), "Arca's own name"),
        (
            json!({"suffixes": ["*.example.internal"]}),
            "not a DNS suffix",
        ),
        (
            json!({"suffixes": [".example.internal"]}),
            "not a DNS suffix",
        ),
        (json!({"suffixes": ["10.0.0.1"]}), "not a DNS suffix"),
        (json!({"suffixes": []}), "1 to 32"),
        (json!({"suffixes": many}), "1 to 32"),
        (json!({"suffix": ["a.internal"]}), "member"),
    ] {
        let reply = h.admin("PUT", &one, Some(body)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BadParameter");
        let message = text(&reply.1["error"]["message"]);
        assert!(message.contains(expected), "{expected}: {message}");
    }
    assert_eq!(h.admin_get(&one).await, set, "a refusal changes nothing");
    let bad_name = h
        .admin(
            "PUT",
            &suffixes_path("default", Some("not_a_name")),
            Some(json!({"suffixes": ["a.internal"]})),
        )
        .await;
    assert_error(&bad_name, StatusCode::BAD_REQUEST, "BadParameter");
    let no_vault = h
        .admin(
            "PUT",
            &suffixes_path("nosuchvault", Some("x")),
            Some(json!({"suffixes": ["a.internal"]})),
        )
        .await;
    assert_eq!(no_vault.0, StatusCode::NOT_FOUND, "{}", no_vault.1);

    // A vault's Certificates Officer (who may manage the vault's issuers, certificatecas/write),
    // and a caller without a token, change nothing.
    let officer = h
        .app_with(
            "officer",
            "Key Vault Certificates Officer",
            "/vaults/default",
        )
        .await;
    let widen = json!({"suffixes": ["evil.internal"]});
    let (status, _) = h
        .call_as(&officer.token, ADMIN_HOST, "PUT", &one, Some(widen))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .call_as(
            &officer.token,
            ADMIN_HOST,
            "PUT",
            ISSUING_CA,
            Some(json!({"pem": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let request = json_request(None, ADMIN_HOST, "DELETE", &one, json_body(None));
    let (status, _) = split(h.send(request).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.admin_get(&one).await, set);

    let (status, _) = h.admin("DELETE", &one, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let again = h.admin("DELETE", &one, None).await;
    assert_error(&again, StatusCode::NOT_FOUND, "IssuerSuffixesNotFound");
    assert_eq!(h.admin_get(&list).await, json!({"value": []}));
}
