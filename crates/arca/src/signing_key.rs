//! `arca signing-key list|rotate`: the token signing keys, through the admin API.

use clap::Subcommand;
use hyper::{Method, StatusCode};
use serde_json::Value;

use crate::output::{items, text, time, Table};
use crate::session::{Call, Operation};

#[derive(Subcommand)]
pub enum SigningKeyCommand {
    /// List the token signing keys.
    List,
    /// Sign new tokens with a new key; the old keys verify until their tokens have expired.
    Rotate,
}

fn keys_table(answer: &Value) -> String {
    let mut table = Table::new(&["KID", "ACTIVE", "CREATED", "RETIRES"]);
    for k in items(answer) {
        table.row(vec![
            text(&k["kid"]),
            text(&k["active"]),
            time(&k["created"]),
            time(&k["retires"]),
        ]);
    }
    table.render("")
}

impl Operation for SigningKeyCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::List => Call::get("/admin/signing-keys".to_owned(), keys_table),
            Self::Rotate => Call::new(
                Method::POST,
                "/admin/signing-keys/rotate".to_owned(),
                None,
                StatusCode::OK,
                keys_table,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use hyper::{Method, StatusCode};
    use serde_json::json;

    use crate::tests::{call, usage_error};

    #[test]
    fn signing_key_requests() {
        let c = call(&["signing-key", "list"]).unwrap();
        assert_eq!(
            (c.method, c.path.as_str()),
            (Method::GET, "/admin/signing-keys")
        );
        let c = call(&["signing-key", "rotate", "--output", "json"]).unwrap();
        assert_eq!(
            (c.method, c.path.as_str(), c.expected, c.body),
            (
                Method::POST,
                "/admin/signing-keys/rotate",
                StatusCode::OK,
                None
            )
        );
        assert!(usage_error(&["signing-key"]));
        assert!(usage_error(&["signing-key", "rotate", "now"]));
    }

    #[test]
    fn keys_table() {
        let t = super::keys_table(&json!({"value": [
            {"kid": "k2", "created": 86400, "active": true, "retires": null},
            {"kid": "k1", "created": 0, "active": false, "retires": 90000}]}));
        assert_eq!(
            t,
            "KID  ACTIVE  CREATED              RETIRES\n\
             k2   true    1970-01-02 00:00:00  -\n\
             k1   false   1970-01-01 00:00:00  1970-01-02 01:00:00\n"
        );
    }
}
