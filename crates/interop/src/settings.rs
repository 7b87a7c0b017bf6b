//! The `interop` section of the configuration: one sub-section per environment, each with its
//! own audiences, issuer and signing keys.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `interop.*`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub produzione: EnvironmentSettings,
    pub collaudo: EnvironmentSettings,
    /// Where the identity tokens' issuer publishes its keys; by default this server's own
    /// `/.well-known/jwks.json`, over loopback.
    pub jwks_url: Option<String>,
    /// Keys a client holds at most.
    pub max_keys_per_client: usize,
    /// `interop.token.*`: the token endpoint of both environments.
    pub token: TokenSettings,
}

/// `interop.token.*`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// Refuse client assertions with claims other than iss, sub, aud, jti, iat, exp,
    /// purposeId and digest. Off by default: existing clients send more.
    pub strict_claims: bool,
    /// Refuse client assertions whose `exp - iat` is longer than this. Off by default, like
    /// the real platform (clients send `exp` 30 days ahead).
    pub max_assertion_lifetime_secs: Option<i64>,
    /// Refuse a client assertion whose `jti` was already used by the same client (until it
    /// expires). Off by default, like the real platform.
    pub jti_replay_check: bool,
    /// Vouchers per consumer institution per interval (after validation).
    pub rate_limit_per_consumer: u32,
    /// Requests per client address per interval (before validation, so that floods of invalid
    /// requests are bounded).
    pub rate_limit_per_address: u32,
    /// The interval of both limits, in milliseconds. Counted per instance.
    pub rate_limit_interval_ms: u64,
    /// The lifetime of the platform tokens of API clients, in seconds.
    pub platform_token_lifespan_secs: i64,
    /// Voucher records older than this are deleted (days).
    pub voucher_retention_days: u32,
    /// A DPoP proof's `iat` may be this many seconds ahead of the server's clock.
    pub dpop_iat_leeway_secs: i64,
    /// A DPoP proof older than this (seconds since its `iat`) is refused; its `jti` is kept
    /// as long, across instances.
    pub dpop_max_age_secs: i64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            strict_claims: false,
            max_assertion_lifetime_secs: None,
            jti_replay_check: false,
            rate_limit_per_consumer: 2_000,
            rate_limit_per_address: 5_000,
            rate_limit_interval_ms: 1_000,
            platform_token_lifespan_secs: 600,
            voucher_retention_days: 90,
            dpop_iat_leeway_secs: 10,
            dpop_max_age_secs: 60,
        }
    }
}

/// `interop.<environment>.*`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvironmentSettings {
    /// The `aud` every client assertion must carry (one of its values, when it is a list).
    pub client_assertion_audience: String,
    /// The `aud` of the identity tokens that open this environment (the product catalogue's
    /// for its product).
    pub identity_token_audience: String,
    /// The `iss` of the vouchers; by default `<http.public_url>/interop/<environment>`.
    pub issuer: Option<String>,
    /// RSA-2048 private keys (PEM) that sign this environment's vouchers: the first signs, all
    /// are published (a retired key keeps verifying); the demo generates one per environment.
    #[serde(deserialize_with = "platform::config::list_or_comma_separated")]
    pub signing_key_files: Vec<PathBuf>,
    /// The `aud` of the platform tokens issued to API clients.
    pub platform_token_audience: String,
    /// The token endpoint's URL as clients call it, which a DPoP proof's `htu` must be
    /// exactly; by default `<http.public_url>/interop/<environment>/token.oauth2`.
    pub token_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        // The client-assertion audiences of the real platform, so that existing clients work
        // unchanged.
        Self {
            produzione: EnvironmentSettings {
                client_assertion_audience: "auth.interop.pagopa.it/client-assertion".into(),
                identity_token_audience: "interop.selfcare.local".into(),
                issuer: None,
                signing_key_files: Vec::new(),
                platform_token_audience: "m2m.interop.pagopa.it".into(),
                token_url: None,
            },
            collaudo: EnvironmentSettings {
                client_assertion_audience: "auth.uat.interop.pagopa.it/client-assertion".into(),
                identity_token_audience: "uat.interop.selfcare.local".into(),
                issuer: None,
                signing_key_files: Vec::new(),
                platform_token_audience: "m2m.uat.interop.pagopa.it".into(),
                token_url: None,
            },
            jwks_url: None,
            max_keys_per_client: 100,
            token: TokenSettings::default(),
        }
    }
}

impl Default for EnvironmentSettings {
    fn default() -> Self {
        Settings::default().produzione
    }
}
