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
    /// The import from the legacy Developer Portal.
    pub import: ImportSettings,
}

/// `io.import.*`: where the legacy Developer Portal's migration API is, and how the import job
/// runs. Delays are in milliseconds.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportSettings {
    /// The portal's base URL, e.g. `http://127.0.0.1:8081` (the demo sets it itself). Without
    /// it the import box says that the portal is not configured.
    pub devportal_url: Option<String>,
    /// The shared secret sent as `X-Functions-Key` (the portal's
    /// `devportal.migration_api_key`).
    pub devportal_api_key: Option<String>,
    /// Items imported at the same time by each instance.
    pub workers: usize,
    /// How long one call to the portal may take.
    pub request_timeout_ms: u64,
    /// The wait before the first retry of a failed step; it doubles at each retry...
    pub retry_base_ms: u64,
    /// ...up to this.
    pub retry_max_ms: u64,
    /// Attempts of an item before it ends FAILED with its last reason.
    pub max_attempts: u32,
    /// How long a claimed item stays with its worker: an instance that dies mid-item leaves
    /// it to another (or to itself after a restart) when this runs out.
    pub lease_ms: u64,
    /// How often an idle worker looks for work started by another instance.
    pub poll_interval_ms: u64,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            devportal_url: None,
            devportal_api_key: None,
            workers: 32,
            request_timeout_ms: 10_000,
            retry_base_ms: 1_000,
            retry_max_ms: 60_000,
            max_attempts: 8,
            lease_ms: 60_000,
            poll_interval_ms: 1_000,
        }
    }
}

impl std::fmt::Debug for ImportSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The shared secret stays out of logs.
        f.debug_struct("ImportSettings")
            .field("devportal_url", &self.devportal_url)
            .field(
                "devportal_api_key",
                &self.devportal_api_key.as_ref().map(|_| "<redacted>"),
            )
            .field("workers", &self.workers)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("retry_base_ms", &self.retry_base_ms)
            .field("retry_max_ms", &self.retry_max_ms)
            .field("max_attempts", &self.max_attempts)
            .field("lease_ms", &self.lease_ms)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            master_key_files: Vec::new(),
            identity_token_audience: "api.io.selfcare.local".into(),
            jwks_url: None,
            import: ImportSettings::default(),
        }
    }
}
