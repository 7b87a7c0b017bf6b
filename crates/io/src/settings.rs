//! The `io` section of the configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Master key files (32 random bytes in base64 each), oldest first: the last one encrypts
    /// new API keys, the others still decrypt. Back them up with the database: losing them
    /// loses every stored key.
    #[serde(deserialize_with = "platform::config::list_or_comma_separated")]
    pub master_key_files: Vec<PathBuf>,
    /// The audience of the identity tokens of `prod-io`.
    pub identity_token_audience: String,
    /// Where the issuer's JWKS is read; by default this server's own, over loopback.
    pub jwks_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            master_key_files: Vec::new(),
            identity_token_audience: "api.io.selfcare.local".into(),
            jwks_url: None,
        }
    }
}
