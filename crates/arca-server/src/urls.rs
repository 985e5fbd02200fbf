//! The deployment's public URLs ([`Urls`]): the issuer host, the token audiences and challenge
//! resources, the origins that serve the `default` vault, the management-plane resource. Derived
//! once from the configuration and the bound port; a leaf every layer may read.

/// Public URLs derived from the configuration and the bound port.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `https://<issuer-host>[:port]`: the issuer and admin host.
    pub authority_host: String,
    /// `https://<dns-suffix>[:port]`: the token audience and challenge resource.
    pub resource: String,
    /// The origins that also serve the `default` vault, so a newcomer needs no DNS entry:
    /// `https://localhost[:port]`, `https://127.0.0.1[:port]`, `https://[::1][:port]` and the
    /// issuer host's own origin. Each is also a token audience and a challenge resource.
    pub origins: Vec<String>,
    /// The resource id of the management plane (`<authority>/management`): `az login` asks for a
    /// token for it; such tokens are accepted by `GET /subscriptions` and `GET /tenants` only.
    pub management_resource: String,
    /// The DNS suffix vault hosts end with.
    pub dns_suffix: String,
    /// The port clients connect to (443 is omitted from URLs).
    pub port: u16,
    /// The region data-plane responses name in `x-ms-keyvault-region` (configuration `region`).
    pub region: String,
    /// The DNS names Arca itself answers at (`localhost`, the vault domain, the issuer host
    /// when it is a name): no certificate of the built-in issuer may claim them or a name below
    /// them.
    pub own_dns_names: Vec<String>,
}

impl Urls {
    pub fn new(issuer_host: &str, dns_suffix: &str, port: u16) -> Self {
        let host = if issuer_host.contains(':') {
            format!("[{issuer_host}]")
        } else {
            issuer_host.to_owned()
        };
        let port_part = if port == 443 {
            String::new()
        } else {
            format!(":{port}")
        };
        let authority_host = format!("https://{host}{port_part}");
        let mut origins = vec![authority_host.clone()];
        for loopback in ["localhost", "127.0.0.1", "[::1]"] {
            let origin = format!("https://{loopback}{port_part}");
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        let mut own_dns_names = vec!["localhost".to_owned(), dns_suffix.to_owned()];
        if issuer_host.parse::<std::net::IpAddr>().is_err()
            && !own_dns_names.iter().any(|n| n == issuer_host)
        {
            own_dns_names.push(issuer_host.to_owned());
        }
        Self {
            own_dns_names,
            management_resource: format!("{authority_host}/management"),
            origins,
            authority_host,
            resource: format!("https://{dns_suffix}{port_part}"),
            dns_suffix: dns_suffix.to_owned(),
            port,
            region: crate::config::DEFAULT_REGION.to_owned(),
        }
    }

    /// The origin of `origins` a request's host names (`host[:port]`, any case), if any: such a
    /// request is for the `default` vault.
    pub fn origin_of_host(&self, host: &str) -> Option<&str> {
        let host = host.to_ascii_lowercase();
        self.origins.iter().map(String::as_str).find(|origin| {
            let authority = &origin["https://".len()..];
            host == authority || (self.port == 443 && host == format!("{authority}:443"))
        })
    }

    pub fn vault_url(&self, vault: &str) -> String {
        let port_part = if self.port == 443 {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        format!("https://{vault}.{}{port_part}", self.dns_suffix)
    }
}
