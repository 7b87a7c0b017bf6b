//! Interoperability (PDND): e-services, agreements, purposes, clients and keys, the token
//! endpoint. One instance per environment (Produzione, Collaudo).

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use platform::Platform;
use serde::{Deserialize, Serialize};

/// `interop.*`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub produzione: EnvironmentSettings,
    pub collaudo: EnvironmentSettings,
}

/// `interop.<environment>.*`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSettings {
    /// The `aud` every client assertion must carry (one of its values, when it is a list).
    pub client_assertion_audience: String,
}

impl Default for Settings {
    fn default() -> Self {
        // The audiences of the real platform, so that existing clients work unchanged.
        Self {
            produzione: EnvironmentSettings {
                client_assertion_audience: "auth.interop.pagopa.it/client-assertion".into(),
            },
            collaudo: EnvironmentSettings {
                client_assertion_audience: "auth.uat.interop.pagopa.it/client-assertion".into(),
            },
        }
    }
}

pub fn router(platform: Platform, settings: &Settings) -> Router {
    let _ = (platform, settings);
    Router::new()
}
