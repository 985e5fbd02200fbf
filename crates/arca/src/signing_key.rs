//! `arca signing-key list|rotate`: the token signing keys, through the admin API.

use arca_client::Request;
use arca_proto::admin::{List, SigningKey};
use clap::Subcommand;

use crate::output::{opt_time, Table};
use crate::session::{Call, Operation};

#[derive(Subcommand)]
pub enum SigningKeyCommand {
    /// List the token signing keys.
    List,
    /// Sign new tokens with a new key; the old keys verify until their tokens have expired.
    Rotate,
}

fn keys_table(answer: &List<SigningKey>) -> String {
    Table::of(
        &["KID", "ACTIVE", "CREATED", "RETIRES"],
        &answer.value,
        |k| {
            vec![
                k.kid.clone(),
                k.active.to_string(),
                opt_time(k.created),
                opt_time(k.retires),
            ]
        },
    )
    .render("")
}

impl Operation for SigningKeyCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::List => Call::answer(Request::signing_keys(), keys_table),
            Self::Rotate => Call::answer(Request::rotate_signing_key(), keys_table),
        })
    }
}

#[cfg(test)]
mod tests {
    use arca_proto::admin::{List, SigningKey};
    use hyper::{Method, StatusCode};

    use crate::tests::{sends, usage_error};

    #[test]
    fn signing_key_requests() {
        sends(
            &["signing-key", "list"],
            Method::GET,
            "/admin/signing-keys",
            StatusCode::OK,
        );
        let c = sends(
            &["signing-key", "rotate", "--output", "json"],
            Method::POST,
            "/admin/signing-keys/rotate",
            StatusCode::OK,
        );
        assert_eq!(c.body, None);
        assert!(usage_error(&["signing-key"]));
        assert!(usage_error(&["signing-key", "rotate", "now"]));
    }

    #[test]
    fn keys_table() {
        let t = super::keys_table(&List::new(vec![
            SigningKey {
                kid: "k2".into(),
                created: Some(86400),
                active: true,
                retires: None,
            },
            SigningKey {
                kid: "k1".into(),
                created: Some(0),
                active: false,
                retires: Some(90000),
            },
        ]));
        assert_eq!(
            t,
            "KID  ACTIVE  CREATED              RETIRES\n\
             k2   true    1970-01-02 00:00:00  -\n\
             k1   false   1970-01-01 00:00:00  1970-01-02 01:00:00\n"
        );
    }
}
