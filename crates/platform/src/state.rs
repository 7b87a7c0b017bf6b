use std::ops::Deref;
use std::sync::Arc;

use crate::client_addr::TrustedProxies;
use crate::config::HttpSettings;
use crate::db::Db;
use crate::i18n::Catalogue;
use crate::keys::SigningKeys;
use crate::mail::Mailer;
use crate::metrics::Metrics;

/// What every context is given: the database, the HTTP settings, the signing keys, metrics,
/// the message catalogue and the mail worker's wake-up handle. Cheap to clone.
#[derive(Clone)]
pub struct Platform {
    inner: Arc<PlatformInner>,
}

pub struct PlatformInner {
    pub db: Db,
    pub http: HttpSettings,
    /// `http.public_url` without a trailing slash: the issuer of the tokens this server signs.
    pub public_url: String,
    pub trusted_proxies: TrustedProxies,
    pub keys: SigningKeys,
    pub metrics: Metrics,
    pub catalogue: Arc<Catalogue>,
    /// Wakes the mail worker: call `mail.wake()` after committing a transaction that queued
    /// emails with `platform::mail::enqueue`.
    pub mail: Mailer,
    /// The audit trail for hot paths: each record durable before the answer, in group commits.
    pub audit: crate::audit::GroupWriter,
}

impl Platform {
    pub fn new(inner: PlatformInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Where a back-office fetches the keys of the identity tokens: `configured`, or this
    /// server's own `/.well-known/jwks.json` on its listening address (loopback when it listens
    /// on every address).
    pub fn jwks_url(&self, configured: Option<&str>) -> String {
        if let Some(url) = configured {
            return url.to_string();
        }
        let mut addr = self.http.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::IpAddr::from([127, 0, 0, 1]));
        }
        format!("http://{addr}/.well-known/jwks.json")
    }
}

impl Deref for Platform {
    type Target = PlatformInner;

    fn deref(&self) -> &PlatformInner {
        &self.inner
    }
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("db", &self.inner.db)
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}
