//! `reserved_area.*` settings.

use std::net::SocketAddr;
use std::path::PathBuf;

use platform::session::SessionSettings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// A TOML product catalogue replacing the shipped one.
    pub products_file: Option<PathBuf>,
    pub session: SessionSettings,
    /// The `aud` of the Reserved Area's own session tokens.
    pub session_token_audience: String,
    /// Lifetime of identity tokens, in seconds (short: they only carry a person into a
    /// back-office).
    pub identity_token_lifetime_secs: u64,
    pub test_idp: TestIdpSettings,
    pub oidc: OidcSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            products_file: None,
            session: SessionSettings::default(),
            session_token_audience: "selfcare.local".into(),
            identity_token_lifetime_secs: 15 * 60,
            test_idp: TestIdpSettings::default(),
            oidc: OidcSettings::default(),
        }
    }
}

/// `reserved_area.test_idp.*`: the built-in test identity provider, for demos and tests.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TestIdpSettings {
    pub enabled: bool,
    /// Lets the test identity provider run on a non-loopback address, a non-loopback public
    /// URL or behind proxies: anyone reaching it could log in as anyone.
    pub unsafe_allow_non_loopback: bool,
}

/// `reserved_area.oidc.*`: login through an OpenID provider (SPID/CIE OIDC, a broker,
/// Keycloak). Off while `issuer_url` is empty. `Debug` hides the client secret.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSettings {
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The claim holding the fiscal code (SPID sends `TINIT-<code>`; the prefix is removed).
    pub fiscal_number_claim: String,
    pub name_claim: String,
    pub family_name_claim: String,
    /// Extra scopes besides `openid`.
    pub scopes: Vec<String>,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            issuer_url: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            fiscal_number_claim: "fiscal_number".into(),
            name_claim: "given_name".into(),
            family_name_claim: "family_name".into(),
            scopes: vec!["profile".into()],
        }
    }
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &if self.client_secret.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field("fiscal_number_claim", &self.fiscal_number_claim)
            .field("name_claim", &self.name_claim)
            .field("family_name_claim", &self.family_name_claim)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl OidcSettings {
    pub fn enabled(&self) -> bool {
        !self.issuer_url.trim().is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "the test identity provider lets anyone log in as anyone, so it runs only on a loopback \
         address ({0}); set reserved_area.test_idp.unsafe_allow_non_loopback = true to force it"
    )]
    TestIdpNotLoopback(String),
}

impl Settings {
    /// Refuses a test identity provider that could be reached from elsewhere.
    pub fn check(
        &self,
        listen: SocketAddr,
        public_url: &str,
        has_trusted_proxies: bool,
    ) -> Result<(), SettingsError> {
        if !self.test_idp.enabled || self.test_idp.unsafe_allow_non_loopback {
            return Ok(());
        }
        if !listen.ip().is_loopback() {
            return Err(SettingsError::TestIdpNotLoopback(format!(
                "it would listen on {listen}"
            )));
        }
        if !is_loopback_url(public_url) {
            return Err(SettingsError::TestIdpNotLoopback(format!(
                "the public URL is {public_url}"
            )));
        }
        if has_trusted_proxies {
            return Err(SettingsError::TestIdpNotLoopback(
                "trusted proxies are configured".into(),
            ));
        }
        Ok(())
    }
}

fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.rsplit_once('@') {
        Some((_, h)) => h,
        None => authority,
    };
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_oidc_client_secret() {
        let mut s = Settings::default();
        s.oidc.client_secret = "s3cr3t-value".into();
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    fn on() -> Settings {
        let mut s = Settings::default();
        s.test_idp.enabled = true;
        s
    }

    #[test]
    fn the_test_idp_stays_on_loopback_unless_forced() {
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(on().check(lo, "http://127.0.0.1:8080", false).is_ok());
        assert!(on().check(lo, "http://localhost:8080/", false).is_ok());
        assert!(
            on().check("[::1]:80".parse().unwrap(), "http://[::1]", false)
                .is_ok()
        );
        assert!(on().check(any, "http://127.0.0.1:8080", false).is_err());
        assert!(
            on().check(lo, "https://selfcare.example.it", false)
                .is_err()
        );
        assert!(
            on().check(lo, "http://127.0.0.1.evil.example", false)
                .is_err()
        );
        assert!(on().check(lo, "http://127.0.0.1:8080", true).is_err());
        let mut forced = on();
        forced.test_idp.unsafe_allow_non_loopback = true;
        assert!(
            forced
                .check(any, "https://selfcare.example.it", true)
                .is_ok()
        );
        assert!(
            Settings::default()
                .check(any, "https://x.example", true)
                .is_ok()
        );
    }
}
