//! Fuzz target: how the router reads a request's host and path (`arca_server::fuzzing`:
//! `request_host`, `origin_of_host`, `data_plane_segments`, `data_plane_query`;
//! `arca_server::router::vault_of_host`). Input: a Host header, a newline, the request target.
//!
//! Properties: never panics; a vault label is one non-empty DNS label of the host, followed by
//! the DNS suffix; a path splits into at most four segments that join back to it; an accepted
//! query names a supported api-version.
#![no_main]

use libfuzzer_sys::fuzz_target;

const DNS_SUFFIX: &str = "vault.localhost";

fuzz_target!(|data: &[u8]| {
    let (host_header, target) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"/"[..]),
    };
    let Ok(target) = std::str::from_utf8(target) else {
        return;
    };
    let Some(host) = arca_server::fuzzing::request_host(target, host_header) else {
        return;
    };
    if let Some(label) = arca_server::router::vault_of_host(&host, DNS_SUFFIX) {
        assert!(!label.is_empty() && !label.contains('.'));
        let rest = host.strip_prefix(label).expect("the label starts the host");
        assert!(rest.starts_with(&format!(".{DNS_SUFFIX}")));
    }
    for port in [443, 8443] {
        let _ = arca_server::fuzzing::origin_of_host("localhost", DNS_SUFFIX, port, &host);
    }
    let Ok(uri) = target.parse::<http::Uri>() else {
        return;
    };
    let path = uri.path();
    if let Some(segments) = arca_server::fuzzing::data_plane_segments(path) {
        assert!(!segments.is_empty() && segments.len() <= 4);
        assert_eq!(segments.join("/"), path.trim_start_matches('/'));
    }
    if let Ok(version) = arca_server::fuzzing::data_plane_query(uri.query()) {
        assert!(arca_proto::is_supported_api_version(&version));
    }
});
