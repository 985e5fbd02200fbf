//! The key rotation job of the server: a key created and given a "rotate 30 days after create"
//! policy over HTTP is rotated by the job once the injected clock reaches day 30, exactly once,
//! and only by the replica that holds the `key-rotation` lease; on shutdown the job stops and
//! gives the lease up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use arca_server::rotation::{Pass, Rotator};
use axum::http::StatusCode;
use common::*;
use serde_json::json;

const DAY: i64 = 86_400;

impl Harness {
    async fn key_versions(&self, key: &str) -> usize {
        let (status, body) = self
            .call("GET", &format!("/keys/{key}/versions?{V}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["value"].as_array().unwrap().len()
    }
}

#[tokio::test]
async fn the_job_rotates_due_keys_once_under_the_lease() {
    let mut h = harness().await;
    let (status, _) = h
        .call(
            "POST",
            &format!("/keys/k/create?{V}"),
            Some(json!({"kty": "EC"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let policy = json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": "Rotate"}}]});
    let (status, _) = h
        .call("PUT", &format!("/keys/k/rotationpolicy?{V}"), Some(policy))
        .await;
    assert_eq!(status, StatusCode::OK);

    let mut first = Rotator::new("replica-a");
    let mut second = Rotator::new("replica-b");
    h.clock.advance(29 * DAY);
    assert_eq!(
        first.pass(&h.state).await.unwrap(),
        Pass::Ran {
            rotated: 0,
            failed: 0
        }
    );
    h.clock.advance(DAY);
    // The other replica finds the lease held and does nothing.
    assert_eq!(second.pass(&h.state).await.unwrap(), Pass::Skipped);
    assert_eq!(
        first.pass(&h.state).await.unwrap(),
        Pass::Ran {
            rotated: 1,
            failed: 0
        }
    );
    assert_eq!(
        first.pass(&h.state).await.unwrap(),
        Pass::Ran {
            rotated: 0,
            failed: 0
        }
    );
    h.token = h.mint("client", "object", "s:s1", h.clock_now());
    assert_eq!(h.key_versions("k").await, 2);
    // Once the holder gives the lease up (shutdown), the other replica takes the job over.
    first.release(&h.state).await;
    assert_eq!(
        second.pass(&h.state).await.unwrap(),
        Pass::Ran {
            rotated: 0,
            failed: 0
        }
    );
    assert_eq!(first.pass(&h.state).await.unwrap(), Pass::Skipped);
}

#[tokio::test]
async fn the_job_stops_on_shutdown_and_gives_the_lease_up() {
    let h = harness().await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let job = tokio::spawn(arca_server::rotation::run(h.state.clone(), stop_rx));
    // Stop at once: the job makes its first pass (taking the lease), sees the stop, and ends.
    stop_tx.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), job)
        .await
        .expect("the rotation job did not stop")
        .unwrap();
    // Another replica gets the lease without waiting for it to expire, in the term after the
    // job's.
    let lease = h
        .state
        .store
        .acquire_lease(
            "key-rotation",
            "replica-b",
            arca_server::rotation::LEASE_TTL,
        )
        .await
        .unwrap()
        .expect("the job kept the lease");
    assert_eq!(lease.fence, 2);
}

/// The certificate renewal job: a 12-month certificate renewing at 80 % of its lifetime, created
/// over HTTP, is renewed once the injected clock passes month 9.6, by the holder of the
/// `certificate-renewal` lease only, and not again.
#[tokio::test]
async fn the_renewal_job_renews_due_certificates_once_under_its_lease() {
    let mut h = harness().await;
    let policy = json!({
        "key_props": {"kty": "EC", "crv": "P-256"},
        "x509_props": {"subject": "CN=renew.example.test", "validity_months": 12},
        "lifetime_actions": [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}}],
        "issuer": {"name": "Self"}
    });
    let (status, body) = h
        .call(
            "POST",
            &format!("/certificates/c/create?{V}"),
            Some(json!({"policy": policy})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let mut first = Rotator::for_job(arca_core::authz::Job::CertificateRenewal, "replica-a");
    let mut second = Rotator::for_job(arca_core::authz::Job::CertificateRenewal, "replica-b");
    h.clock.advance(280 * DAY);
    assert_eq!(
        first.pass(&h.state).await.unwrap(),
        Pass::Ran {
            rotated: 0,
            failed: 0
        }
    );
    h.clock.advance(20 * DAY);
    assert_eq!(second.pass(&h.state).await.unwrap(), Pass::Skipped);
    assert_eq!(
        first.pass(&h.state).await.unwrap(),
        Pass::Ran {
            rotated: 1,
            failed: 0
        }
    );
    assert_eq!(
        first.pass(&h.state).await.unwrap(),
        Pass::Ran {
            rotated: 0,
            failed: 0
        }
    );
    h.token = h.mint("client", "object", "s:s1", h.clock_now());
    let (status, body) = h
        .call("GET", &format!("/certificates/c/versions?{V}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
    // The key rotation job's lease is another: holding one does not hold the other.
    let mut rotation = Rotator::new("replica-b");
    assert!(matches!(
        rotation.pass(&h.state).await.unwrap(),
        Pass::Ran { .. }
    ));
}
