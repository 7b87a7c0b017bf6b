//! The legacy Developer Portal's migration API, over HTTP with its shared secret.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{StepError, classify_status};

/// A delegate with importable services, as the portal lists them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delegate {
    pub source_id: String,
    pub source_name: String,
    pub source_surname: String,
    pub source_email: String,
    pub subscription_counter: i64,
}

#[derive(Debug, Deserialize)]
struct Delegates {
    delegates: Vec<Delegate>,
}

/// A service still on the portal.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PendingService {
    pub id: String,
    pub name: String,
    pub delegate_id: String,
    #[serde(default)]
    pub frozen: bool,
}

#[derive(Debug, Deserialize)]
struct Services {
    services: Vec<PendingService>,
}

/// A service of the institution the import leaves out, and why (`MARKED_DELETED`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExcludedService {
    pub id: String,
    pub name: String,
    pub delegate_id: String,
    pub delegate_name: String,
    pub delegate_surname: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
struct Excluded {
    services: Vec<ExcludedService>,
}

#[derive(Deserialize)]
pub struct FrozenKeys {
    pub primary: String,
    pub secondary: String,
}

impl std::fmt::Debug for FrozenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FrozenKeys(<redacted>)")
    }
}

/// A service as frozen on the portal: its data (with `id`, `organization` and `visibility`)
/// and its keys.
#[derive(Debug, Deserialize)]
pub struct Frozen {
    pub service: Value,
    pub keys: FrozenKeys,
    #[serde(default)]
    pub transferred: bool,
}

/// The portal's migration API.
#[derive(Clone)]
pub struct Portal {
    http: reqwest::Client,
    base: Url,
    key: String,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PortalConfigError {
    #[error("io.import.devportal_url `{0}` is not an http(s) URL")]
    Url(String),
    #[error("io.import.devportal_api_key is required with io.import.devportal_url")]
    MissingKey,
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl Portal {
    pub fn new(base: &str, key: &str, timeout: Duration) -> Result<Self, PortalConfigError> {
        let base = Url::parse(base.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| PortalConfigError::Url(base.to_string()))?;
        if key.is_empty() {
            return Err(PortalConfigError::MissingKey);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PortalConfigError::Client(e.to_string()))?;
        Ok(Self {
            http,
            base,
            key: key.to_string(),
        })
    }

    /// `base/api/v1/organizations/{fc}/...segments`, each segment escaped.
    fn url(&self, fiscal_code: &str, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["api", "v1", "organizations", fiscal_code])
                .extend(segments);
        }
        url
    }

    async fn call<T: DeserializeOwned>(&self, method: Method, url: Url) -> Result<T, StepError> {
        let response = self
            .http
            .request(method, url)
            .header("X-Functions-Key", &self.key)
            .send()
            .await
            .map_err(|e| {
                StepError::Transient(if e.is_timeout() {
                    "the Developer Portal did not answer in time".to_string()
                } else {
                    "the Developer Portal cannot be reached".to_string()
                })
            })?;
        let status = response.status();
        if status != StatusCode::OK {
            // The problem's `detail` says why; only its text is kept.
            let detail = response
                .json::<Value>()
                .await
                .ok()
                .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            return Err(classify_status(status.as_u16(), &detail));
        }
        response.json::<T>().await.map_err(|_| {
            StepError::Transient("the Developer Portal's answer cannot be read".to_string())
        })
    }

    /// The delegates with importable services of the institution.
    pub async fn delegates(&self, fiscal_code: &str) -> Result<Vec<Delegate>, StepError> {
        let r: Delegates = self
            .call(Method::GET, self.url(fiscal_code, &["delegates"]))
            .await?;
        Ok(r.delegates)
    }

    /// One delegate with importable services of the institution (`None`: they have none).
    pub async fn delegate(
        &self,
        fiscal_code: &str,
        delegate_id: &str,
    ) -> Result<Option<Delegate>, StepError> {
        match self
            .call(
                Method::GET,
                self.url(fiscal_code, &["delegates", delegate_id]),
            )
            .await
        {
            Ok(d) => Ok(Some(d)),
            Err(StepError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every service of the institution still on the portal.
    pub async fn pending_services(
        &self,
        fiscal_code: &str,
    ) -> Result<Vec<PendingService>, StepError> {
        let r: Services = self
            .call(Method::GET, self.url(fiscal_code, &["services"]))
            .await?;
        Ok(r.services)
    }

    /// The institution's services the import leaves out, with why.
    pub async fn excluded_services(
        &self,
        fiscal_code: &str,
    ) -> Result<Vec<ExcludedService>, StepError> {
        let r: Excluded = self
            .call(Method::GET, self.url(fiscal_code, &["excluded-services"]))
            .await?;
        Ok(r.services)
    }

    /// A delegate's services of the institution still on the portal.
    pub async fn delegate_services(
        &self,
        fiscal_code: &str,
        delegate_id: &str,
    ) -> Result<Vec<PendingService>, StepError> {
        let r: Services = self
            .call(
                Method::GET,
                self.url(fiscal_code, &["delegates", delegate_id, "services"]),
            )
            .await?;
        Ok(r.services)
    }

    /// Freezes the service (idempotent): its data and keys as they will stay.
    pub async fn freeze(
        &self,
        fiscal_code: &str,
        delegate_id: &str,
        service_id: &str,
    ) -> Result<Frozen, StepError> {
        self.call(
            Method::POST,
            self.url(
                fiscal_code,
                &["delegates", delegate_id, "services", service_id, "freeze"],
            ),
        )
        .await
    }

    /// Completes the transfer (idempotent): the delegate no longer sees the service.
    pub async fn transfer(
        &self,
        fiscal_code: &str,
        delegate_id: &str,
        service_id: &str,
    ) -> Result<(), StepError> {
        let _: Value = self
            .call(
                Method::POST,
                self.url(
                    fiscal_code,
                    &["delegates", delegate_id, "services", service_id, "transfer"],
                ),
            )
            .await?;
        Ok(())
    }
}
