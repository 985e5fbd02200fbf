//! The api-versions Arca answers. Every stable data-plane version of the secrets API is accepted
//! and answered identically.

/// Stable Key Vault data-plane versions, oldest first.
pub const SUPPORTED_API_VERSIONS: &[&str] = &[
    "2016-10-01",
    "7.0",
    "7.1",
    "7.2",
    "7.3",
    "7.4",
    "7.5",
    "7.6",
    "2025-07-01",
    "2026-04-01",
];

pub fn is_supported_api_version(version: &str) -> bool {
    SUPPORTED_API_VERSIONS.contains(&version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_versions_only() {
        assert!(is_supported_api_version("7.4"));
        assert!(is_supported_api_version("2026-04-01"));
        assert!(!is_supported_api_version("7.7"));
        assert!(!is_supported_api_version("2026-07-01-preview"));
        assert!(!is_supported_api_version(""));
    }
}
