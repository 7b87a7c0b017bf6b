//! The environment's keys (its JWKS), fetched once and again only for a `kid` not seen, at
//! most once per refetch interval; and the clients' keys of the tracking evidence.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tokio::sync::{Mutex, RwLock};

use crate::{Config, VerifyError};

struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
    /// Why the last fetch failed (the keys it had before are kept).
    failure: Option<String>,
}

pub(crate) struct KeyCache {
    http: reqwest::Client,
    url: String,
    refetch: Duration,
    /// After a failed fetch, the next may come this soon.
    retry: Duration,
    keys: RwLock<Keys>,
    /// One fetch at a time.
    fetching: Mutex<()>,
    fetches: AtomicU64,
}

impl KeyCache {
    pub(crate) fn new(
        http: reqwest::Client,
        url: String,
        refetch: Duration,
        retry: Duration,
    ) -> Self {
        Self {
            http,
            url,
            refetch,
            retry: retry.min(refetch),
            keys: RwLock::new(Keys {
                by_kid: HashMap::new(),
                fetched_at: None,
                failure: None,
            }),
            fetching: Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key named `kid`: from the cache, else from a new fetch when the last one is older
    /// than the refetch interval (the retry interval, when it failed). While a failed fetch
    /// cannot be retried yet, a kid not in the cache is `KeysUnavailable`, not unknown.
    pub(crate) async fn key(&self, kid: &str) -> Result<DecodingKey, VerifyError> {
        if let Some(k) = self.keys.read().await.by_kid.get(kid) {
            return Ok(k.clone());
        }
        let _one = self.fetching.lock().await;
        {
            let keys = self.keys.read().await;
            if let Some(k) = keys.by_kid.get(kid) {
                return Ok(k.clone());
            }
            let wait = if keys.failure.is_some() {
                self.retry
            } else {
                self.refetch
            };
            if keys.fetched_at.is_some_and(|t| t.elapsed() < wait) {
                return Err(match &keys.failure {
                    Some(why) => VerifyError::KeysUnavailable(why.clone()),
                    None => VerifyError::UnknownKey(kid.to_string()),
                });
            }
        }
        let fetched = self.fetch().await;
        let mut keys = self.keys.write().await;
        keys.fetched_at = Some(Instant::now());
        match fetched {
            Ok(by_kid) => {
                keys.by_kid = by_kid;
                keys.failure = None;
            }
            Err(e) => {
                keys.failure = Some(match &e {
                    VerifyError::KeysUnavailable(why) => why.clone(),
                    other => other.to_string(),
                });
                return Err(e);
            }
        }
        keys.by_kid
            .get(kid)
            .cloned()
            .ok_or_else(|| VerifyError::UnknownKey(kid.to_string()))
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, VerifyError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let unavailable = |e: reqwest::Error| VerifyError::KeysUnavailable(e.to_string());
        let set: JwkSet = self
            .http
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|k| (kid, k))
            })
            .collect())
    }

    /// The tracking evidence is a JWS signed by a key of the voucher's client, as the
    /// platform's keys endpoint gives it (`GET <keys_url>/<kid>` → `{clientId, jwk}`).
    pub(crate) async fn check_evidence(
        &self,
        keys_url: &str,
        evidence: &str,
        client_id: &str,
        config: &Config,
    ) -> Result<(), VerifyError> {
        let invalid = |why: String| VerifyError::TrackingEvidenceInvalid(why);
        let header = jsonwebtoken::decode_header(evidence).map_err(|e| invalid(e.to_string()))?;
        let kid = header.kid.ok_or_else(|| invalid("no kid".into()))?;
        #[derive(serde::Deserialize)]
        struct ClientKey {
            #[serde(rename = "clientId")]
            client_id: String,
            jwk: Jwk,
        }
        let url = format!("{}/{kid}", keys_url.trim_end_matches('/'));
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| VerifyError::KeysUnavailable(e.to_string()))?;
        // No such key: the evidence is not signed by a key of this environment.
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(invalid(format!(
                "no key of this environment has the kid {kid}"
            )));
        }
        let key: ClientKey = response
            .error_for_status()
            .map_err(|e| VerifyError::KeysUnavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| VerifyError::KeysUnavailable(e.to_string()))?;
        if key.client_id != client_id {
            return Err(invalid("the key is another client's".into()));
        }
        let decoding = DecodingKey::from_jwk(&key.jwk).map_err(|e| invalid(e.to_string()))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_required_spec_claims::<&str>(&[]);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.leeway = config.leeway.as_secs();
        jsonwebtoken::decode::<serde_json::Value>(evidence, &decoding, &validation)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(())
    }
}
