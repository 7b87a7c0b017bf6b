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
    /// RSA-2048 private keys (PEM) that sign this environment's vouchers, the last one active;
    /// the demo generates one per environment.
    #[serde(deserialize_with = "platform::config::list_or_comma_separated")]
    pub signing_key_files: Vec<PathBuf>,
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
            },
            collaudo: EnvironmentSettings {
                client_assertion_audience: "auth.uat.interop.pagopa.it/client-assertion".into(),
                identity_token_audience: "uat.interop.selfcare.local".into(),
                issuer: None,
                signing_key_files: Vec::new(),
            },
            jwks_url: None,
        }
    }
}

impl Default for EnvironmentSettings {
    fn default() -> Self {
        Settings::default().produzione
    }
}
