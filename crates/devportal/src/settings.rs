//! The `devportal` section of the configuration: the legacy Developer Portal, a service of its
//! own (`selfcare devportal`, or started by `demo` beside the main server).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where the portal listens (the demo's default: 127.0.0.1:8081).
    pub listen: SocketAddr,
    /// Its own database: sqlite://<file> or postgres://... (never the main server's).
    pub database_url: Option<String>,
    /// The shared secret the IO back-office sends in `X-Functions-Key` to the migration API.
    pub migration_api_key: Option<String>,
    /// Failed logins allowed per email address and per client address within the window.
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    /// How long a delegate's session lasts.
    pub session_ttl_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            database_url: None,
            migration_api_key: None,
            login_max_failures: 5,
            login_window_secs: 60,
            session_ttl_secs: 8 * 3600,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The migration key is a secret.
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field(
                "migration_api_key",
                &self.migration_api_key.as_ref().map(|_| "<redacted>"),
            )
            .field("login_max_failures", &self.login_max_failures)
            .field("login_window_secs", &self.login_window_secs)
            .field("session_ttl_secs", &self.session_ttl_secs)
            .finish()
    }
}
