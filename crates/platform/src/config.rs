//! Configuration: defaults, then a TOML file, then `SELFCARE_*` environment variables (nested
//! keys joined with `__`), then command-line flags. Unknown keys are refused, so that a
//! misspelled setting is an error at start rather than a silently ignored line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// The prefix of every environment variable that carries a setting.
pub const ENV_PREFIX: &str = "SELFCARE_";

/// Builds the figure of the settings: `defaults` < `file` < environment < `overrides`.
pub struct Loader {
    figment: Figment,
}

impl Loader {
    pub fn new<T: Serialize>(defaults: &T) -> Self {
        Self {
            figment: Figment::from(Serialized::defaults(defaults)),
        }
    }

    /// Adds a TOML file; a missing file is an error (figment alone would skip it silently).
    pub fn file(mut self, path: &Path) -> Result<Self, ConfigError> {
        if !path.is_file() {
            return Err(ConfigError::MissingFile(path.to_path_buf()));
        }
        self.figment = self.figment.merge(Toml::file_exact(path));
        Ok(self)
    }

    /// Adds the process environment (`SELFCARE_*`).
    pub fn env(self) -> Self {
        self.env_from(Env::prefixed(ENV_PREFIX))
    }

    fn env_from(mut self, env: Env) -> Self {
        self.figment = self.figment.merge(
            env.filter(|key| !is_test_switch(key.as_str()))
                .split("__")
                .lowercase(true),
        );
        self
    }

    /// Sets one key (dotted path) with the highest precedence, as a command-line flag does.
    pub fn set<V: Serialize>(mut self, key: &str, value: V) -> Self {
        self.figment = self.figment.merge(Serialized::default(key, value));
        self
    }

    pub fn extract<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe(e)))
    }
}

/// `SELFCARE_TEST_*` and `SELFCARE_E2E` switch tests on; they are not settings.
fn is_test_switch(key_after_prefix: &str) -> bool {
    let key = key_after_prefix.to_ascii_lowercase();
    key.starts_with("test_") || key == "e2e"
}

fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                String::new()
            } else {
                format!(" (setting `{}`)", e.path.join("."))
            };
            let source = match &e.metadata {
                Some(m) if m.name.contains("environment") => {
                    let var = format!("{ENV_PREFIX}{}", e.path.join("__").to_ascii_uppercase());
                    format!(", from environment variable {var}")
                }
                Some(m) => match &m.source {
                    Some(src) => format!(", from {src}"),
                    None => format!(", from {}", m.name),
                },
                None => String::new(),
            };
            format!("{}{key}{source}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist or is not a file")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("missing required setting `{key}`: {hint}")]
    Missing {
        key: &'static str,
        hint: &'static str,
    },
}

/// `http.*`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Address and port the server listens on.
    pub listen: SocketAddr,
    /// The URL users and other services reach this server at (issuer of tokens, links).
    /// Defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// Peers whose `X-Forwarded-For` is believed (addresses or networks, IPv4 or IPv6).
    #[serde(deserialize_with = "ip_nets")]
    pub trusted_proxies: Vec<IpNet>,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Largest `multipart/form-data` body accepted (a form with a file: an e-service's
    /// documents of up to 10 MiB), in bytes.
    pub upload_limit_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM, in seconds.
    pub shutdown_timeout_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            trusted_proxies: Vec::new(),
            body_limit_bytes: 1024 * 1024,
            upload_limit_bytes: 11 * 1024 * 1024,
            shutdown_timeout_secs: 30,
        }
    }
}

impl HttpSettings {
    /// The public URL without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }
}

/// `database.*`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: Option<String>,
    /// Connections in the pool (PostgreSQL; on SQLite the readers, at most two per CPU).
    pub max_connections: u32,
    /// How long a request waits for a free connection, in seconds.
    pub acquire_timeout_secs: u64,
    /// When the server is saturated, the least time between two group commits (voucher and
    /// exchange-audit records), in milliseconds: longer makes bigger groups and fewer flushes
    /// (more CPU left for the requests), at the price of that much more latency in a queue
    /// that is long anyway. Below saturation a commit starts as soon as the previous one
    /// ends, whatever this says; 0 never waits.
    pub group_commit_interval_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 16,
            acquire_timeout_secs: 5,
            group_commit_interval_ms: 10,
        }
    }
}

/// `log.*`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `info,sqlx=warn`.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info,sqlx=warn".to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// `signing.*`: the RSA keys that sign the tokens this server issues.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningSettings {
    /// PEM files of RSA private keys (PKCS#8 or PKCS#1). The first signs; all are published
    /// in the JWKS, so that a retired key keeps verifying until its tokens expire.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub key_files: Vec<PathBuf>,
}

/// Accepts a list, or (from an environment variable) one comma-separated string.
pub fn list_or_comma_separated<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        One(String),
    }
    let items = match Raw::deserialize(deserializer)? {
        Raw::List(items) => items,
        Raw::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    };
    items
        .iter()
        .map(|s| {
            s.trim()
                .parse::<T>()
                .map_err(|e| serde::de::Error::custom(format!("`{s}`: {e}")))
        })
        .collect()
}

fn ip_nets<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    let items: Vec<String> = list_or_comma_separated(deserializer)?;
    items
        .iter()
        .map(|s| parse_ip_net(s).map_err(serde::de::Error::custom))
        .collect()
}

/// Parses a trusted-proxy entry: a network, or a single address (as /32 or /128).
pub fn parse_ip_net(s: &str) -> Result<IpNet, String> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net);
    }
    s.parse::<std::net::IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("`{s}` is neither an IP address nor a network"))
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return its error type
mod tests {
    use super::*;

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Sample {
        http: HttpSettings,
        nested: Nested,
    }

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Nested {
        inner: Inner,
    }

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Inner {
        client_assertion_audience: String,
    }

    #[test]
    fn nested_env_keys_are_joined_with_double_underscore() {
        let mut out = None;
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "SELFCARE_NESTED__INNER__CLIENT_ASSERTION_AUDIENCE",
                "auth.uat.interop.pagopa.it/client-assertion",
            );
            jail.set_env("SELFCARE_HTTP__LISTEN", "127.0.0.1:9999");
            jail.set_env("SELFCARE_HTTP__TRUSTED_PROXIES", "10.0.0.0/8, ::1/128");
            jail.set_env("SELFCARE_TEST_DATABASE_URL", "postgres://ignored");
            jail.set_env("SELFCARE_E2E", "1");
            out = Some(Loader::new(&Sample::default()).env().extract::<Sample>());
            Ok(())
        });
        let s = out.unwrap().unwrap();
        assert_eq!(
            s.nested.inner.client_assertion_audience,
            "auth.uat.interop.pagopa.it/client-assertion"
        );
        assert_eq!(s.http.listen.port(), 9999);
        assert_eq!(s.http.trusted_proxies.len(), 2);
    }

    #[test]
    fn unknown_env_key_is_refused_naming_the_variable() {
        let mut out = None;
        figment::Jail::expect_with(|jail| {
            jail.set_env("SELFCARE_HTTP__LISTN", "127.0.0.1:1");
            out = Some(Loader::new(&Sample::default()).env().extract::<Sample>());
            Ok(())
        });
        let err = out.unwrap().unwrap_err().to_string();
        assert!(err.contains("listn"), "{err}");
        assert!(err.contains("SELFCARE_HTTP__LISTN"), "{err}");
    }

    #[test]
    fn unknown_file_key_is_refused() {
        let mut out = None;
        figment::Jail::expect_with(|jail| {
            jail.create_file("c.toml", "[http]\nlisten = \"127.0.0.1:1\"\nbogus = 1\n")?;
            out = Some(
                Loader::new(&Sample::default())
                    .file(Path::new("c.toml"))
                    .map(|l| l.extract::<Sample>()),
            );
            Ok(())
        });
        let err = out.unwrap().unwrap().unwrap_err().to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(matches!(
            Loader::new(&Sample::default()).file(Path::new("/nonexistent/selfcare.toml")),
            Err(ConfigError::MissingFile(_))
        ));
    }

    #[test]
    fn flags_override_env_and_env_overrides_file() {
        let mut out = None;
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "[http]\nlisten = \"127.0.0.1:1\"\nbody_limit_bytes = 10\n",
            )?;
            jail.set_env("SELFCARE_HTTP__BODY_LIMIT_BYTES", "20");
            out = Some(
                Loader::new(&Sample::default())
                    .file(Path::new("c.toml"))
                    .map(|l| {
                        l.env()
                            .set("http.listen", "127.0.0.1:2")
                            .extract::<Sample>()
                    }),
            );
            Ok(())
        });
        let s = out.unwrap().unwrap().unwrap();
        assert_eq!(s.http.listen.port(), 2);
        assert_eq!(s.http.body_limit_bytes, 20);
    }

    #[test]
    fn trusted_proxy_entries_accept_addresses_and_networks() {
        assert_eq!(parse_ip_net("10.1.2.3").unwrap().prefix_len(), 32);
        assert_eq!(parse_ip_net("10.0.0.0/8").unwrap().prefix_len(), 8);
        assert_eq!(parse_ip_net("::1").unwrap().prefix_len(), 128);
        assert!(parse_ip_net("example.org").is_err());
    }
}
