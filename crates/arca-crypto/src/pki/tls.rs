//! The rustls crypto provider: the one place that decides which library Arca's TLS runs on.
//!
//! Every TLS endpoint (the server's listener, the JWKS fetcher, the CLI's client, the benches and
//! tests) builds its configuration with `builder_with_provider(tls_provider())`, so TLS uses the
//! same library as the rest of this crate (aws-lc-rs) and nothing relies on a process-wide default
//! provider being installed. Callers may reorder or narrow the returned provider's lists (the
//! listener puts AES-128-GCM first), never extend them.

/// The crypto provider for rustls: aws-lc-rs with rustls's default cipher suites (TLS 1.3
/// AES-256-GCM, AES-128-GCM, ChaCha20-Poly1305, then the TLS 1.2 ECDHE suites) and key exchange
/// groups (X25519, P-256, P-384, then the X25519+ML-KEM-768 hybrid last).
pub fn tls_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{CipherSuite, NamedGroup};

    #[test]
    fn provider_offers_the_expected_suites_and_groups() {
        let provider = tls_provider();
        let suites: Vec<CipherSuite> = provider.cipher_suites.iter().map(|s| s.suite()).collect();
        assert_eq!(
            suites[..3],
            [
                CipherSuite::TLS13_AES_256_GCM_SHA384,
                CipherSuite::TLS13_AES_128_GCM_SHA256,
                CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            ]
        );
        // No CBC, no RSA key exchange, no static DH: every TLS 1.2 suite is ECDHE with an AEAD.
        for suite in &suites[3..] {
            let name = format!("{suite:?}");
            assert!(name.starts_with("TLS_ECDHE_"), "{name}");
            assert!(name.contains("GCM") || name.contains("CHACHA20"), "{name}");
        }
        let groups: Vec<NamedGroup> = provider.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(
            groups,
            [
                NamedGroup::X25519,
                NamedGroup::secp256r1,
                NamedGroup::secp384r1,
                NamedGroup::X25519MLKEM768,
            ]
        );
    }
}
