//! `arca identity-header rotate`: replaces the App Service managed-identity endpoint's
//! `X-IDENTITY-HEADER`, through the admin API. The new header is printed exactly once (the
//! server also writes it into `bootstrap.json`); the old one stops working at once.

use arca_client::Request;
use arca_proto::admin::IdentityHeader;
use clap::Subcommand;

use crate::session::{Call, Operation};

#[derive(Subcommand)]
pub enum IdentityHeaderCommand {
    /// Replace the header with a new random one; the old one stops working at once.
    Rotate,
}

/// The new header on a line of its own, and where else it now is.
fn rotated_table(answer: &IdentityHeader) -> String {
    let header = answer.identity_header.expose();
    format!(
        "identity header: {header}\n\
         The previous header no longer works. bootstrap.json (IDENTITY_HEADER) holds the new one; \
         give it to the applications that use the managed-identity endpoint.\n"
    )
}

impl Operation for IdentityHeaderCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::Rotate => Call::answer(Request::rotate_identity_header(), rotated_table),
        })
    }
}

#[cfg(test)]
mod tests {
    use arca_proto::admin::IdentityHeader;
    use arca_proto::SecretText;
    use hyper::{Method, StatusCode};

    use crate::tests::{sends, usage_error};

    #[test]
    fn identity_header_requests() {
        let c = sends(
            &["identity-header", "rotate", "--output", "json"],
            Method::POST,
            "/admin/identity-header/rotate",
            StatusCode::OK,
        );
        assert_eq!(c.body, None);
        assert!(usage_error(&["identity-header"]));
        assert!(usage_error(&["identity-header", "rotate", "now"]));
    }

    #[test]
    fn the_new_header_is_printed_on_its_own_line() {
        let t = super::rotated_table(&IdentityHeader {
            identity_header: SecretText::new("abc".into()),
        });
        assert!(t.starts_with("identity header: abc\n"), "{t}");
    }
}
