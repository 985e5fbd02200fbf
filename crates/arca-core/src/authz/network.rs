//! Network rules of a vault or of the admin API: a default action and the IPv4/IPv6 ranges
//! admitted when that default is `Deny`, as Key Vault's firewall has them.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Most IP rules in one rule set.
pub const MAX_IP_RULES: usize = 1000;

/// What happens to an address no rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultAction {
    Allow,
    Deny,
}

impl DefaultAction {
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.eq_ignore_ascii_case("allow") {
            Some(Self::Allow)
        } else if raw.eq_ignore_ascii_case("deny") {
            Some(Self::Deny)
        } else {
            None
        }
    }
}

/// One address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `addr/n`. Host bits below the prefix
    /// must be zero, so a typo cannot silently widen or shift a range.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let shown: String = raw.chars().take(60).collect();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{shown:?} is not an IPv4 or IPv6 address or CIDR range."))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max && !p.starts_with('+') => n,
                _ => return Err(format!("{shown:?} has an invalid prefix length.")),
            },
        };
        // A rule written as an IPv4-mapped IPv6 address (as dual-stack sockets report IPv4
        // callers) means that IPv4 range, because callers are compared as IPv4.
        let (network, prefix) = match network {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if prefix >= 96 => (IpAddr::V4(v4), prefix - 96),
                Some(_) => {
                    return Err(format!(
                    "{shown:?} mixes IPv4-mapped and other IPv6 addresses; write the IPv4 range."
                ))
                }
                None => (network, prefix),
            },
            v4 => (v4, prefix),
        };
        let range = IpRange { network, prefix };
        if range.mask(network) != network {
            return Err(format!(
                "{shown:?} has bits set below its /{prefix} prefix; write the network address."
            ));
        }
        Ok(range)
    }

    fn mask(&self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V4((bits & mask).into())
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V6((bits & mask).into())
            }
        }
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        match (self.network, addr) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                self.mask(addr) == self.network
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4 peers)
/// are compared as IPv4.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// A rule set as stored and as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRulesDoc {
    pub default_action: String,
    #[serde(default)]
    pub ip_rules: Vec<String>,
}

/// A checked rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRules {
    pub default_action: DefaultAction,
    pub ip_rules: Vec<IpRange>,
}

impl NetworkRules {
    /// Validates a document; the error names the first problem.
    pub fn from_doc(doc: &NetworkRulesDoc) -> Result<Self, String> {
        let default_action = DefaultAction::parse(&doc.default_action)
            .ok_or_else(|| "default_action must be Allow or Deny.".to_owned())?;
        if doc.ip_rules.len() > MAX_IP_RULES {
            return Err(format!("At most {MAX_IP_RULES} IP rules are allowed."));
        }
        let ip_rules = doc
            .ip_rules
            .iter()
            .map(|r| IpRange::parse(r))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            default_action,
            ip_rules,
        })
    }

    /// The canonical document of these rules.
    pub fn to_doc(&self) -> NetworkRulesDoc {
        NetworkRulesDoc {
            default_action: match self.default_action {
                DefaultAction::Allow => "Allow",
                DefaultAction::Deny => "Deny",
            }
            .to_owned(),
            ip_rules: self.ip_rules.iter().map(ToString::to_string).collect(),
        }
    }

    /// Whether a caller at `addr` passes. An unknown address passes only an `Allow` rule set.
    pub fn admits(&self, addr: Option<IpAddr>) -> bool {
        match self.default_action {
            DefaultAction::Allow => true,
            DefaultAction::Deny => {
                addr.is_some_and(|a| self.ip_rules.iter().any(|r| r.contains(a)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let r = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(r.contains(ip("10.1.2.3")));
        assert!(!r.contains(ip("11.0.0.1")));
        assert!(r.contains(ip("::ffff:10.9.9.9")));
        let host = IpRange::parse("192.0.2.7").unwrap();
        assert_eq!(host.to_string(), "192.0.2.7/32");
        assert!(host.contains(ip("192.0.2.7")) && !host.contains(ip("192.0.2.8")));
        let v6 = IpRange::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpRange::parse("::/0").unwrap().contains(ip("::1")));
        let mapped = IpRange::parse("::ffff:10.1.2.3").unwrap();
        assert_eq!(mapped.to_string(), "10.1.2.3/32");
        assert!(mapped.contains(ip("10.1.2.3")) && mapped.contains(ip("::ffff:10.1.2.3")));
        assert_eq!(
            IpRange::parse("::ffff:10.0.0.0/104").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert!(IpRange::parse("::ffff:0.0.0.0/95").is_err());
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "10.0.0.0/",
            "x",
            "10.0.0.0/+8",
            "::1/129",
            "",
        ] {
            assert!(IpRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rule_sets_admit_by_default_action() {
        let deny = NetworkRules::from_doc(&NetworkRulesDoc {
            default_action: "deny".into(),
            ip_rules: vec!["127.0.0.0/8".into()],
        })
        .unwrap();
        assert!(deny.admits(Some(ip("127.0.0.1"))));
        assert!(!deny.admits(Some(ip("10.0.0.1"))));
        assert!(!deny.admits(None));
        assert_eq!(deny.to_doc().default_action, "Deny");
        let allow = NetworkRules::from_doc(&NetworkRulesDoc {
            default_action: "Allow".into(),
            ip_rules: vec![],
        })
        .unwrap();
        assert!(allow.admits(None));
        assert!(NetworkRules::from_doc(&NetworkRulesDoc {
            default_action: "block".into(),
            ip_rules: vec![],
        })
        .is_err());
    }
}
