//! Server configuration: parsed from a TOML file, overlaid by `ARCA_*` environment variables,
//! overlaid by command-line flags, validated as a whole, then frozen before any port is bound.
//!
//! Every problem is reported at once, each naming the key and where it came from.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The validated, frozen configuration of `arca serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the database, CA and bootstrap file live.
    pub data_dir: PathBuf,
    /// The socket address to listen on.
    pub listen: SocketAddr,
    /// Vaults are served at `<vault>.<dns_suffix>`.
    pub dns_suffix: String,
    /// The key file sealing the root key; by default inside the data directory (with a warning).
    pub key_file: PathBuf,
    /// The host name (or IP) clients reach the token issuer and admin API at.
    pub issuer_host: String,
    /// Lifetime of issued access tokens, in seconds.
    pub token_lifetime_secs: u32,
    /// The client id (or `bootstrap`) the App Service managed-identity endpoint issues tokens
    /// for when the request names none; `None`: no principal (only managed identities
    /// requested by id).
    pub app_service_identity: Option<String>,
    /// Likewise for the IMDS endpoint.
    pub imds_identity: Option<String>,
    /// Whether the App Service managed-identity endpoint (`/msi/token`) answers callers that are
    /// not on this machine (default: loopback only).
    pub app_service_remote: bool,
    /// Most connections open at once; `None` sizes it from the descriptor limit at start.
    pub max_connections: Option<u32>,
    /// Most connections open at once from one source address (IPv6: one /64).
    pub max_connections_per_ip: u32,
    /// How long a connection may stay open with no request in flight, in seconds.
    pub idle_timeout_secs: u32,
    /// Most bytes of request bodies held in memory at once, across all requests, in MiB.
    pub body_memory_mib: u32,
    /// Leave the process dumpable and core dumps allowed (for debugging only; a core file holds
    /// secrets in the clear).
    pub allow_core_dumps: bool,
    /// Replace the local CA at this start (a one-time action given on the command line only,
    /// never read from a file or the environment).
    pub rotate_local_ca: bool,
    /// How log lines are written: text, or one JSON object per line.
    pub log_format: LogFormat,
    /// The region data-plane responses name in `x-ms-keyvault-region`.
    pub region: String,
    /// Which storage backend holds the data (opened by `crate::storage`).
    pub storage: Storage,
    /// The DNS suffixes the deployment's issuing CA (the built-in certificate issuer's) may sign
    /// for, checked and sorted; empty: no issuing CA is made (one may still be imported).
    pub issuing_dns_suffixes: Vec<String>,
    /// The throttling of vaults without a setting of their own (`on`, `off` or a factor of Key
    /// Vault's limits); default on, with Key Vault's limits.
    pub throttle: arca_core::throttle::ThrottleSettings,
}

/// The storage backend, as the `storage` setting names it. Only the embedded database exists
/// for now; a networked backend is a new variant (for example one carrying a `postgres://` URL),
/// parsed in [`Storage::parse`] and opened in `crate::storage`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Storage {
    /// `sqlite`: the SQLite database `arca.db` in the data directory (the default).
    #[default]
    Sqlite,
}

impl Storage {
    /// The backend named by `text`; `Err` says what is accepted. The message never quotes the
    /// value, which could be a database URL carrying a password.
    pub fn parse(text: &str) -> Result<Storage, String> {
        if text.trim().eq_ignore_ascii_case("sqlite") {
            Ok(Storage::Sqlite)
        } else if text.contains("://") {
            Err(
                "database URLs are not supported by this build; the only storage is `sqlite`"
                    .into(),
            )
        } else {
            Err("is not a storage backend; the only storage is `sqlite`".into())
        }
    }
}

/// The shape of the log on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Raw settings from one source, before validation. `None` means "not given here".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub data_dir: Option<String>,
    pub listen: Option<String>,
    pub dns_suffix: Option<String>,
    pub key_file: Option<String>,
    pub token_lifetime_secs: Option<String>,
    pub issuer_host: Option<String>,
    pub app_service_identity: Option<String>,
    pub imds_identity: Option<String>,
    pub app_service_remote: Option<String>,
    pub max_connections: Option<String>,
    pub max_connections_per_ip: Option<String>,
    pub idle_timeout_secs: Option<String>,
    pub body_memory_mib: Option<String>,
    pub allow_core_dumps: Option<String>,
    pub log_format: Option<String>,
    pub region: Option<String>,
    pub storage: Option<String>,
    pub issuing_dns_suffixes: Option<String>,
    pub throttle: Option<String>,
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub source: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.key, self.source, self.problem)
    }
}

/// All problems found, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

const KEYS: &[&str] = &[
    "data_dir",
    "listen",
    "dns_suffix",
    "key_file",
    "token_lifetime_secs",
    "issuer_host",
    "app_service_identity",
    "imds_identity",
    "app_service_remote",
    "max_connections",
    "max_connections_per_ip",
    "idle_timeout_secs",
    "body_memory_mib",
    "allow_core_dumps",
    "log_format",
    "region",
    "storage",
    "issuing_dns_suffixes",
    "throttle",
];

pub const DEFAULT_DATA_DIR: &str = "./arca-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";
pub const DEFAULT_DNS_SUFFIX: &str = "vault.localhost";
pub const DEFAULT_TOKEN_LIFETIME_SECS: u32 = 3600;
pub const DEFAULT_ISSUER_HOST: &str = "localhost";
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: u32 = 1024;
pub const DEFAULT_IDLE_TIMEOUT_SECS: u32 = 60;
pub const DEFAULT_BODY_MEMORY_MIB: u32 = 64;
/// The region named in `x-ms-keyvault-region` (and in denial messages, `location=arca`).
pub const DEFAULT_REGION: &str = "arca";
/// Longest region name.
const MAX_REGION_LEN: usize = 64;

impl Settings {
    fn set(&mut self, key: &str, value: String) -> bool {
        let slot = match key {
            "data_dir" => &mut self.data_dir,
            "listen" => &mut self.listen,
            "dns_suffix" => &mut self.dns_suffix,
            "key_file" => &mut self.key_file,
            "token_lifetime_secs" => &mut self.token_lifetime_secs,
            "issuer_host" => &mut self.issuer_host,
            "app_service_identity" => &mut self.app_service_identity,
            "imds_identity" => &mut self.imds_identity,
            "app_service_remote" => &mut self.app_service_remote,
            "max_connections" => &mut self.max_connections,
            "max_connections_per_ip" => &mut self.max_connections_per_ip,
            "idle_timeout_secs" => &mut self.idle_timeout_secs,
            "body_memory_mib" => &mut self.body_memory_mib,
            "allow_core_dumps" => &mut self.allow_core_dumps,
            "log_format" => &mut self.log_format,
            "region" => &mut self.region,
            "storage" => &mut self.storage,
            "issuing_dns_suffixes" => &mut self.issuing_dns_suffixes,
            "throttle" => &mut self.throttle,
            _ => return false,
        };
        *slot = Some(value);
        true
    }

    fn get(&self, key: &str) -> Option<&String> {
        match key {
            "data_dir" => self.data_dir.as_ref(),
            "listen" => self.listen.as_ref(),
            "dns_suffix" => self.dns_suffix.as_ref(),
            "key_file" => self.key_file.as_ref(),
            "token_lifetime_secs" => self.token_lifetime_secs.as_ref(),
            "issuer_host" => self.issuer_host.as_ref(),
            "app_service_identity" => self.app_service_identity.as_ref(),
            "imds_identity" => self.imds_identity.as_ref(),
            "app_service_remote" => self.app_service_remote.as_ref(),
            "max_connections" => self.max_connections.as_ref(),
            "max_connections_per_ip" => self.max_connections_per_ip.as_ref(),
            "idle_timeout_secs" => self.idle_timeout_secs.as_ref(),
            "body_memory_mib" => self.body_memory_mib.as_ref(),
            "allow_core_dumps" => self.allow_core_dumps.as_ref(),
            "log_format" => self.log_format.as_ref(),
            "region" => self.region.as_ref(),
            "storage" => self.storage.as_ref(),
            "issuing_dns_suffixes" => self.issuing_dns_suffixes.as_ref(),
            "throttle" => self.throttle.as_ref(),
            _ => None,
        }
    }

    /// Parses a TOML document. Unknown keys and non-scalar values are errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigErrors> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            ConfigErrors(vec![ConfigError {
                key: "(file)".into(),
                source: origin.into(),
                problem: format!("not valid TOML: {}", e.message()),
            }])
        })?;
        let mut settings = Settings::default();
        let mut errors = Vec::new();
        for (key, value) in table {
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    errors.push(ConfigError {
                        key: key.clone(),
                        source: origin.into(),
                        problem: format!(
                            "expected a string, integer or boolean, found {}",
                            other.type_str()
                        ),
                    });
                    continue;
                }
            };
            if !settings.set(&key, text) {
                errors.push(ConfigError {
                    key,
                    source: origin.into(),
                    problem: format!("unknown key (known keys: {})", KEYS.join(", ")),
                });
            }
        }
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// Reads `ARCA_<KEY>` variables from the given environment (`ARCA_CONFIG` and `ARCA_LOG` are
    /// read elsewhere). Other `ARCA_*` variables are returned as the second element so the caller
    /// can warn about them.
    pub fn from_env<I: IntoIterator<Item = (String, String)>>(vars: I) -> (Self, Vec<String>) {
        let mut settings = Settings::default();
        let mut unknown = Vec::new();
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix("ARCA_") else {
                continue;
            };
            if rest == "CONFIG" || rest == "LOG" {
                continue;
            }
            if !settings.set(&rest.to_ascii_lowercase(), value) {
                unknown.push(name);
            }
        }
        (settings, unknown)
    }
}

impl Config {
    /// Merges the sources (later wins: file, then environment, then flags) and validates.
    pub fn resolve(
        file: Option<(&Settings, &str)>,
        env: &Settings,
        flags: &Settings,
    ) -> Result<Config, ConfigErrors> {
        let mut merged: BTreeMap<&str, (String, String)> = BTreeMap::new();
        let layers: [(Option<&Settings>, String); 3] = [
            (
                file.map(|f| f.0),
                file.map(|f| format!("config file {}", f.1))
                    .unwrap_or_default(),
            ),
            (Some(env), "environment".into()),
            (Some(flags), "command line".into()),
        ];
        for (layer, origin) in layers.iter() {
            let Some(layer) = layer else { continue };
            for key in KEYS {
                if let Some(v) = layer.get(key) {
                    merged.insert(key, (v.clone(), origin.clone()));
                }
            }
        }
        let mut errors = Vec::new();
        let value = |key: &str, default: &str| -> (String, String) {
            merged
                .get(key)
                .cloned()
                .unwrap_or_else(|| (default.to_owned(), "default".to_owned()))
        };
        let mut fail = |key: &str, origin: &str, problem: String| {
            errors.push(ConfigError {
                key: key.into(),
                source: origin.into(),
                problem,
            })
        };

        let (data_dir, origin) = value("data_dir", DEFAULT_DATA_DIR);
        if data_dir.trim().is_empty() {
            fail("data_dir", &origin, "must not be empty".into());
        }
        let data_dir = PathBuf::from(data_dir);

        let (listen_text, origin) = value("listen", DEFAULT_LISTEN);
        let listen = match listen_text.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                fail(
                    "listen",
                    &origin,
                    format!("{listen_text:?} is not an IP:port address"),
                );
                None
            }
        };

        let (dns_suffix, origin) = value("dns_suffix", DEFAULT_DNS_SUFFIX);
        let dns_suffix = dns_suffix.to_ascii_lowercase();
        if !is_dns_name(&dns_suffix) {
            fail(
                "dns_suffix",
                &origin,
                format!("{dns_suffix:?} is not a DNS name such as vault.example.com"),
            );
        }

        let key_file = match merged.get("key_file") {
            Some((path, origin)) if path.trim().is_empty() => {
                fail("key_file", origin, "must not be empty".into());
                PathBuf::new()
            }
            Some((path, _)) => PathBuf::from(path),
            None => data_dir.join("arca.key"),
        };

        let (lifetime, origin) = value(
            "token_lifetime_secs",
            &DEFAULT_TOKEN_LIFETIME_SECS.to_string(),
        );
        let token_lifetime_secs = match lifetime.parse::<u32>() {
            Ok(v) if (60..=86_400).contains(&v) => v,
            _ => {
                fail(
                    "token_lifetime_secs",
                    &origin,
                    format!("{lifetime:?} is not a number of seconds from 60 to 86400"),
                );
                DEFAULT_TOKEN_LIFETIME_SECS
            }
        };

        let (issuer_host, origin) = value("issuer_host", DEFAULT_ISSUER_HOST);
        let issuer_host = issuer_host.to_ascii_lowercase();
        if !is_dns_name(&issuer_host) && issuer_host.parse::<std::net::IpAddr>().is_err() {
            fail(
                "issuer_host",
                &origin,
                format!("{issuer_host:?} is not a host name or IP address"),
            );
        } else if issuer_host.ends_with(&format!(".{dns_suffix}")) {
            fail(
                "issuer_host",
                &origin,
                format!("{issuer_host:?} lies inside the vault domain {dns_suffix}"),
            );
        }

        let issuing_dns_suffixes = match merged.get("issuing_dns_suffixes") {
            Some((text, origin)) => {
                issuing_suffixes(text, &["localhost", &dns_suffix, &issuer_host]).unwrap_or_else(
                    |problem| {
                        fail("issuing_dns_suffixes", origin, problem);
                        Vec::new()
                    },
                )
            }
            None => Vec::new(),
        };

        let mut identity = |key: &str| match merged.get(key) {
            Some((id, origin)) => {
                let ok = !id.is_empty()
                    && id.len() <= 128
                    && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                if !ok {
                    fail(key, origin, format!("{id:?} is not a client id"));
                }
                Some(id.clone())
            }
            None => None,
        };
        let app_service_identity = identity("app_service_identity");
        let imds_identity = identity("imds_identity");

        let mut flag = |key: &str| {
            let (text, origin) = value(key, "false");
            match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    fail(key, &origin, format!("{text:?} is not true or false"));
                    false
                }
            }
        };
        let app_service_remote = flag("app_service_remote");
        let allow_core_dumps = flag("allow_core_dumps");

        let mut number = |key: &str, default: Option<u32>, range: std::ops::RangeInclusive<u32>| {
            let (text, origin) = match (merged.get(key), default) {
                (Some(given), _) => given.clone(),
                (None, Some(d)) => (d.to_string(), "default".to_owned()),
                (None, None) => return None,
            };
            match text.parse::<u32>() {
                Ok(v) if range.contains(&v) => Some(v),
                _ => {
                    fail(
                        key,
                        &origin,
                        format!(
                            "{text:?} is not a number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    );
                    default
                }
            }
        };
        let max_connections = number("max_connections", None, 16..=1_000_000);
        let max_connections_per_ip = number(
            "max_connections_per_ip",
            Some(DEFAULT_MAX_CONNECTIONS_PER_IP),
            1..=1_000_000,
        )
        .unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_IP);
        let idle_timeout_secs = number(
            "idle_timeout_secs",
            Some(DEFAULT_IDLE_TIMEOUT_SECS),
            1..=3600,
        )
        .unwrap_or(DEFAULT_IDLE_TIMEOUT_SECS);
        let body_memory_mib = number("body_memory_mib", Some(DEFAULT_BODY_MEMORY_MIB), 1..=4096)
            .unwrap_or(DEFAULT_BODY_MEMORY_MIB);

        let (format_text, origin) = value("log_format", "text");
        let log_format = match format_text.to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => {
                fail(
                    "log_format",
                    &origin,
                    format!("{format_text:?} is not text or json"),
                );
                LogFormat::Text
            }
        };

        let (region, origin) = value("region", DEFAULT_REGION);
        let region_ok = !region.is_empty()
            && region.len() <= MAX_REGION_LEN
            && region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !region_ok {
            fail(
                "region",
                &origin,
                format!(
                    "{region:?} is not a region name (letters, digits, - and _, at most {MAX_REGION_LEN})"
                ),
            );
        }

        let (storage_text, origin) = value("storage", "sqlite");
        let storage = Storage::parse(&storage_text).unwrap_or_else(|problem| {
            fail("storage", &origin, problem);
            Storage::Sqlite
        });

        let (throttle_text, origin) = value("throttle", "on");
        let throttle = throttle_setting(&throttle_text).unwrap_or_else(|problem| {
            fail("throttle", &origin, problem);
            Default::default()
        });

        match (errors.is_empty(), listen) {
            (true, Some(listen)) => Ok(Config {
                storage,
                throttle,
                app_service_identity,
                imds_identity,
                app_service_remote,
                max_connections,
                max_connections_per_ip,
                idle_timeout_secs,
                body_memory_mib,
                allow_core_dumps,
                rotate_local_ca: false,
                log_format,
                region,
                issuing_dns_suffixes,
                issuer_host,
                data_dir,
                listen,
                dns_suffix,
                key_file,
                token_lifetime_secs,
            }),
            _ => Err(ConfigErrors(errors)),
        }
    }

    /// Reads the optional file, the process environment and the flags, and resolves them.
    pub fn load(
        file: Option<&Path>,
        flags: &Settings,
    ) -> Result<(Config, Vec<String>), ConfigErrors> {
        let file_settings = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigErrors(vec![ConfigError {
                        key: "config".into(),
                        source: path.display().to_string(),
                        problem: format!("cannot read: {e}"),
                    }])
                })?;
                Some(Settings::from_toml(&text, &path.display().to_string())?)
            }
            None => None,
        };
        let (env, unknown) = Settings::from_env(std::env::vars());
        let origin = file.map(|p| p.display().to_string()).unwrap_or_default();
        let config = Config::resolve(
            file_settings.as_ref().map(|s| (s, origin.as_str())),
            &env,
            flags,
        )?;
        Ok((config, unknown))
    }

    /// True when the key file lives inside the data directory (a backup of the directory then
    /// carries the key that opens it).
    pub fn key_file_inside_data_dir(&self) -> bool {
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        abs(&self.key_file).starts_with(abs(&self.data_dir))
    }
}

/// A throttling setting as written in the configuration and the CLI: `on` (Key Vault's limits),
/// `off`, or a factor of Key Vault's limits from 0.001 to 100 (`0.5`: half of them).
pub fn throttle_setting(text: &str) -> Result<arca_core::throttle::ThrottleSettings, String> {
    use arca_core::throttle::ThrottleSettings;
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" => Ok(ThrottleSettings::default()),
        "off" | "false" => Ok(ThrottleSettings::OFF),
        other => other
            .parse::<f64>()
            .ok()
            .and_then(ThrottleSettings::scaled)
            .ok_or_else(|| {
                let shown: String = text.chars().take(20).collect();
                format!(
                    "{shown:?} is not on, off or a factor of Key Vault's limits from 0.001 to 100"
                )
            }),
    }
}

/// The comma-separated DNS suffixes of `issuing_dns_suffixes`, checked (`arca_crypto`'s rules:
/// DNS names without wildcard, at most 32), none of them one of Arca's own names `own` or below
/// one (every name it could sign would be Arca's). A suffix above one of them is allowed: the
/// issuing CA excludes Arca's own names.
fn issuing_suffixes(text: &str, own: &[&str]) -> Result<Vec<String>, String> {
    let given: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let suffixes = arca_crypto::issuing_suffixes(&given).map_err(|e| match e {
        arca_crypto::CryptoError::Certificate(problem) => problem,
        _ => "is not a list of DNS suffixes".to_owned(),
    })?;
    if let Some((suffix, name)) = suffixes.iter().find_map(|suffix| {
        own.iter()
            .find(|name| arca_crypto::dns_name_within(suffix, name))
            .map(|name| (suffix, name))
    }) {
        return Err(format!(
            "{suffix:?} is {name:?} or lies below it, one of Arca's own names"
        ));
    }
    Ok(suffixes)
}

fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(pairs: &[(&str, &str)]) -> Settings {
        let mut s = Settings::default();
        for (k, v) in pairs {
            assert!(s.set(k, (*v).to_owned()));
        }
        s
    }

    #[test]
    fn issuer_host_is_checked() {
        let ok = Config::resolve(
            None,
            &Settings::default(),
            &flags(&[("issuer_host", "Arca.Example.COM")]),
        )
        .unwrap();
        assert_eq!(ok.issuer_host, "arca.example.com");
        assert!(Config::resolve(
            None,
            &Settings::default(),
            &flags(&[("issuer_host", "10.1.2.3")])
        )
        .is_ok());
        for bad in ["not a host", "login.vault.localhost"] {
            let err = Config::resolve(None, &Settings::default(), &flags(&[("issuer_host", bad)]))
                .unwrap_err();
            assert_eq!(err.0[0].key, "issuer_host", "{bad}");
        }
    }

    #[test]
    fn defaults_apply() {
        let c = Config::resolve(None, &Settings::default(), &Settings::default()).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("./arca-data"));
        assert_eq!(c.listen, "127.0.0.1:8443".parse().unwrap());
        assert_eq!(c.dns_suffix, "vault.localhost");
        assert_eq!(c.key_file, PathBuf::from("./arca-data/arca.key"));
        assert!(c.key_file_inside_data_dir());
        assert!(!c.app_service_remote && !c.allow_core_dumps);
        assert_eq!(c.max_connections, None);
        assert_eq!(c.max_connections_per_ip, DEFAULT_MAX_CONNECTIONS_PER_IP);
        assert_eq!(c.idle_timeout_secs, DEFAULT_IDLE_TIMEOUT_SECS);
        assert_eq!(c.body_memory_mib, DEFAULT_BODY_MEMORY_MIB);
        assert_eq!(c.throttle, arca_core::throttle::ThrottleSettings::default());
    }

    #[test]
    fn throttle_is_on_off_or_a_factor() {
        use arca_core::throttle::ThrottleSettings;
        let with =
            |v: &str| Config::resolve(None, &Settings::default(), &flags(&[("throttle", v)]));
        assert_eq!(with("OFF").unwrap().throttle, ThrottleSettings::OFF);
        assert_eq!(with("on").unwrap().throttle, ThrottleSettings::default());
        assert_eq!(with("0.25").unwrap().throttle.factor_milli, 250);
        let (env, _) = Settings::from_env([("ARCA_THROTTLE".to_owned(), "off".to_owned())]);
        let c = Config::resolve(None, &env, &Settings::default()).unwrap();
        assert!(!c.throttle.enabled);
        for bad in ["0", "-1", "1000", "sometimes", "NaN"] {
            let err = with(bad).unwrap_err();
            assert_eq!(err.0[0].key, "throttle", "{bad}");
        }
    }

    #[test]
    fn limits_and_switches_are_parsed_and_checked() {
        let file = Settings::from_toml(
            "max_connections = 500\nallow_core_dumps = true\napp_service_remote = \"yes\"",
            "f.toml",
        )
        .unwrap();
        let c =
            Config::resolve(Some((&file, "f.toml")), &Settings::default(), &flags(&[])).unwrap();
        assert_eq!(c.max_connections, Some(500));
        assert!(c.allow_core_dumps && c.app_service_remote);
        let cli = flags(&[
            ("max_connections", "3"),
            ("max_connections_per_ip", "0"),
            ("idle_timeout_secs", "forever"),
            ("body_memory_mib", "0"),
            ("allow_core_dumps", "maybe"),
        ]);
        let err = Config::resolve(None, &Settings::default(), &cli).unwrap_err();
        let mut keys: Vec<_> = err.0.iter().map(|e| e.key.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "allow_core_dumps",
                "body_memory_mib",
                "idle_timeout_secs",
                "max_connections",
                "max_connections_per_ip"
            ]
        );
    }

    #[test]
    fn issuing_dns_suffixes_are_a_checked_list_outside_arcas_own_names() {
        let c = Config::resolve(None, &Settings::default(), &Settings::default()).unwrap();
        assert!(c.issuing_dns_suffixes.is_empty());
        let file = Settings::from_toml(
            "issuing_dns_suffixes = \"Svc.Internal, example.internal,,svc.internal\"\ndns_suffix = \"vault.example.internal\"",
            "f.toml",
        )
        .unwrap();
        let c =
            Config::resolve(Some((&file, "f.toml")), &Settings::default(), &flags(&[])).unwrap();
        // Above the vault domain is allowed: the issuing CA excludes Arca's own names.
        assert_eq!(c.issuing_dns_suffixes, ["example.internal", "svc.internal"]);
        let (env, unknown) = Settings::from_env([(
            "ARCA_ISSUING_DNS_SUFFIXES".to_owned(),
            "a.internal".to_owned(),
        )]);
        assert!(unknown.is_empty());
        let c = Config::resolve(None, &env, &flags(&[])).unwrap();
        assert_eq!(c.issuing_dns_suffixes, ["a.internal"]);
        for bad in [
            "*.example.internal",
            "10.0.0.1",
            "localhost",
            "a.vault.localhost",
            "vault.localhost",
        ] {
            let err = Config::resolve(
                None,
                &Settings::default(),
                &flags(&[("issuing_dns_suffixes", bad)]),
            )
            .unwrap_err();
            assert_eq!(err.0.len(), 1, "{bad}");
            assert_eq!(err.0[0].key, "issuing_dns_suffixes", "{bad}");
        }
    }

    #[test]
    fn log_format_and_region_are_checked() {
        let c = Config::resolve(None, &Settings::default(), &Settings::default()).unwrap();
        assert_eq!((c.log_format, c.region.as_str()), (LogFormat::Text, "arca"));
        let file =
            Settings::from_toml("log_format = \"JSON\"\nregion = \"west-1\"", "f.toml").unwrap();
        let c =
            Config::resolve(Some((&file, "f.toml")), &Settings::default(), &flags(&[])).unwrap();
        assert_eq!(
            (c.log_format, c.region.as_str()),
            (LogFormat::Json, "west-1")
        );
        let (env, unknown) =
            Settings::from_env([("ARCA_LOG_FORMAT".to_owned(), "json".to_owned())]);
        assert!(unknown.is_empty());
        assert_eq!(env.log_format.as_deref(), Some("json"));
        let bad = flags(&[("log_format", "xml"), ("region", "two words")]);
        let err = Config::resolve(None, &Settings::default(), &bad).unwrap_err();
        let keys: Vec<_> = err.0.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["log_format", "region"]);
    }

    #[test]
    fn storage_is_sqlite_unless_told_otherwise_and_refuses_the_rest() {
        let c = Config::resolve(None, &Settings::default(), &Settings::default()).unwrap();
        assert_eq!(c.storage, Storage::Sqlite);
        let file = Settings::from_toml("storage = \"SQLite\"", "f.toml").unwrap();
        let c =
            Config::resolve(Some((&file, "f.toml")), &Settings::default(), &flags(&[])).unwrap();
        assert_eq!(c.storage, Storage::Sqlite);
        let (env, unknown) = Settings::from_env([("ARCA_STORAGE".to_owned(), "sqlite".to_owned())]);
        assert!(unknown.is_empty());
        assert_eq!(env.storage.as_deref(), Some("sqlite"));
        for bad in ["postgres://arca:hunter2@db.internal/arca", "mysql", ""] {
            let err = Config::resolve(None, &Settings::default(), &flags(&[("storage", bad)]))
                .unwrap_err();
            assert_eq!(err.0.len(), 1, "{bad}");
            assert_eq!(err.0[0].key, "storage");
            let shown = err.to_string();
            assert!(shown.contains("sqlite"), "{shown}");
            assert!(
                !shown.contains("hunter2"),
                "a URL's password is never shown"
            );
        }
        let env = flags(&[("storage", "postgres://x")]);
        let err = Config::resolve(None, &env, &Settings::default()).unwrap_err();
        assert_eq!(err.0[0].key, "storage");
    }

    #[test]
    fn flags_override_env_override_file() {
        let file = Settings::from_toml(
            "listen = \"127.0.0.1:1\"\ndns_suffix = \"a.test\"\ndata_dir = \"/f\"",
            "f.toml",
        )
        .unwrap();
        let env = flags(&[("listen", "127.0.0.1:2"), ("dns_suffix", "b.test")]);
        let cli = flags(&[("listen", "127.0.0.1:3")]);
        let c = Config::resolve(Some((&file, "f.toml")), &env, &cli).unwrap();
        assert_eq!(c.listen.port(), 3);
        assert_eq!(c.dns_suffix, "b.test");
        assert_eq!(c.data_dir, PathBuf::from("/f"));
    }

    #[test]
    fn unknown_file_keys_are_named() {
        let err = Settings::from_toml("listen = \"x\"\nlsiten = \"y\"", "f.toml").unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].key, "lsiten");
        assert!(err.to_string().contains("unknown key"));
    }

    #[test]
    fn all_bad_values_are_reported_together() {
        let cli = flags(&[
            ("listen", "nowhere"),
            ("dns_suffix", "bad_suffix"),
            ("token_lifetime_secs", "5"),
        ]);
        let err = Config::resolve(None, &Settings::default(), &cli).unwrap_err();
        let keys: Vec<_> = err.0.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["listen", "dns_suffix", "token_lifetime_secs"]);
        assert!(err.0.iter().all(|e| e.source == "command line"));
    }

    #[test]
    fn environment_is_read_and_unknown_variables_returned() {
        let (env, unknown) = Settings::from_env([
            ("ARCA_LISTEN".to_owned(), "127.0.0.1:9".to_owned()),
            ("ARCA_BOGUS".to_owned(), "1".to_owned()),
            ("ARCA_LOG".to_owned(), "debug".to_owned()),
            ("PATH".to_owned(), "/bin".to_owned()),
        ]);
        assert_eq!(env.listen.as_deref(), Some("127.0.0.1:9"));
        assert_eq!(unknown, ["ARCA_BOGUS"]);
    }
}
