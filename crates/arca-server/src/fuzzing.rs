//! Entry points for the fuzz targets in `fuzz/`, and nothing else: each one runs a parser of
//! untrusted bytes that is private to this crate exactly as a request runs it, and hands back
//! what it parsed in a form a target can check. The parsers stay private; this file is the one
//! narrow door to them, hidden from the documentation and not part of the server's API.
//!
//! What is not reachable from here: the whole restore path (it needs a store and a vault), the
//! token endpoint's decisions after parsing (they need a state with principals) and the router's
//! choice between a vault and the deployment endpoints (it needs a state); their parsers are.

use axum::http::{header, HeaderMap, HeaderValue, Request};
use zeroize::Zeroizing;

/// Fuzzing entry point: the token endpoint's `application/x-www-form-urlencoded` body parser
/// (`identity::endpoints`). `None` when the body is refused (a name or value that is not
/// UTF-8 once decoded), else the decoded pairs in order.
pub fn token_form(body: &[u8]) -> Option<Vec<(Zeroizing<String>, Zeroizing<String>)>> {
    crate::identity::endpoints::parse_form(body)
}

/// Fuzzing entry point: the token endpoint's `Authorization: Basic` client authentication
/// (`identity::endpoints`), given the header's raw value. `Ok(None)` when the header is not a
/// usable header value or not Basic, `Ok(Some((client id, secret)))` when it is accepted, and
/// `Err(status)` with the refusal's HTTP status otherwise.
#[allow(clippy::type_complexity)]
pub fn basic_credentials(
    value: &[u8],
) -> Result<Option<(Zeroizing<String>, Zeroizing<String>)>, u16> {
    let Ok(value) = HeaderValue::from_bytes(value) else {
        return Ok(None);
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    match crate::identity::endpoints::basic_credentials(&headers) {
        Ok(found) => Ok(found.map(|c| (c.client_id, c.secret))),
        Err(refusal) => Err(refusal.status().as_u16()),
    }
}

/// Fuzzing entry point: the host a request addresses, as the router reads it (the URI's
/// authority, else the `Host` header), for a request line target `uri` and a `Host` header
/// `host`. `None` when hyper would not have built such a request, or it names no host.
pub fn request_host(uri: &str, host: &[u8]) -> Option<String> {
    let mut builder = Request::builder().uri(uri);
    if let Ok(value) = HeaderValue::from_bytes(host) {
        builder = builder.header(header::HOST, value);
    }
    let request = builder.body(axum::body::Body::empty()).ok()?;
    crate::router::request_host(&request)
}

/// Fuzzing entry point: whether `host` is one of the issuer's origins for a deployment whose
/// issuer host is `issuer_host` on `port` (the router serves the `default` vault there).
pub fn origin_of_host(issuer_host: &str, dns_suffix: &str, port: u16, host: &str) -> bool {
    crate::urls::Urls::new(issuer_host, dns_suffix, port)
        .origin_of_host(host)
        .is_some()
}

/// Fuzzing entry point: the data plane's split of a request path into at most four segments
/// (`api`); `None` for a longer path, which is answered as an unknown path.
pub fn data_plane_segments(path: &str) -> Option<Vec<&str>> {
    let (segments, count) = crate::dataplane::segments(path)?;
    segments.get(..count).map(<[&str]>::to_vec)
}

/// Fuzzing entry point: the data plane's query-string parser (`api`). `Ok(api-version)` when
/// the query is accepted, `Err(status)` with the refusal's HTTP status otherwise.
pub fn data_plane_query(raw: Option<&str>) -> Result<String, u16> {
    use axum::response::IntoResponse;
    match crate::dataplane::Query::parse(raw) {
        Ok(query) => Ok(query.api_version.into_owned()),
        Err(e) => Err(e.into_response().status().as_u16()),
    }
}

/// Fuzzing entry point: the data plane's one JSON body parser (`dataplane::parse_json`), which
/// every Key Vault request body goes through. `Err` is the refusal's HTTP status.
pub fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, u16> {
    crate::dataplane::parse_json(bytes).map_err(|e| {
        use axum::response::IntoResponse as _;
        e.into_response().status().as_u16()
    })
}

/// Fuzzing entry point: the JSON document inside a secret's backup blob, as restore parses it
/// once the blob has opened (`arca_engine::secrets`). `None` when restore would refuse it as
/// malformed JSON; else the document serialized again, which must parse to the same document.
pub fn backup_document(plain: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    arca_engine::secrets::reparse_backup_document(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_points_run_the_parsers_they_name() {
        let form = token_form(b"client_id=a%2Bb&client_secret=c+d&&scope").unwrap();
        let pairs: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("client_id", "a+b"),
                ("client_secret", "c d"),
                ("scope", "")
            ]
        );
        assert!(token_form(b"a=%FF").is_none());

        let (id, secret) = basic_credentials(b"Basic YXBwOnMlM0FlY3JldA==")
            .unwrap()
            .unwrap();
        assert_eq!((id.as_str(), secret.as_str()), ("app", "s:ecret"));
        assert_eq!(basic_credentials(b"Basic !!!").err(), Some(401));
        assert!(matches!(basic_credentials(b"Bearer x"), Ok(None)));

        assert_eq!(
            request_host("/secrets", b"Demo.Vault.Localhost:8443").as_deref(),
            Some("demo.vault.localhost:8443")
        );
        assert!(origin_of_host(
            "localhost",
            "vault.localhost",
            8443,
            "127.0.0.1:8443"
        ));
        assert_eq!(
            data_plane_segments("/secrets/a/b"),
            Some(vec!["secrets", "a", "b"])
        );
        assert_eq!(data_plane_segments("/a/b/c/d/e"), None);
        assert_eq!(
            data_plane_query(Some("api-version=7.4")).as_deref(),
            Ok("7.4")
        );
        assert_eq!(data_plane_query(None), Err(400));
        assert!(backup_document(b"{}").is_none());
        let document = br#"{"format":1,"name":"a","current":"v","versions":[{"version":"v","created":1,"updated":2,"enabled":true,"value":"x"}]}"#;
        let written = backup_document(document).unwrap();
        assert_eq!(backup_document(&written).as_deref(), Some(&*written));
    }
}
