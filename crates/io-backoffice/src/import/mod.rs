//! The import from the legacy Developer Portal: a durable job of one item per service, run by
//! workers in every instance. Each item freezes the service on the portal, copies it into the
//! back-office (only if absent, same id, same keys) and completes the transfer; every step is
//! idempotent, so a retry — after an error, a timeout or a crash — never duplicates or loses a
//! service.

/// How the back-office records the import as the actor of a service's arrival, followed by the
/// delegate's id on the old portal.
pub const IMPORT_ACTOR_PREFIX: &str = "devportal:";

pub mod api;
pub mod client;
pub mod model;
pub mod pages;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use platform::db::Db;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use self::client::Portal;
use self::model::{StepError, Visibility, backoff_ms, key_shape};
use crate::error::IoError;
use crate::model::{PayloadKind, parse_service};
use crate::secrets::{ApiKey, KeyRing};
use crate::settings::ImportSettings;

/// Items a worker claims at once: fewer commits per item, still little work in one lease.
const CLAIM_BATCH: i64 = 4;

/// The import's shared parts: the portal (when configured), the settings and the wake-up of
/// the local workers.
#[derive(Clone)]
pub struct Importer {
    inner: Arc<Shared>,
}

struct Shared {
    db: Db,
    ring: Arc<KeyRing>,
    portal: Option<Portal>,
    settings: ImportSettings,
    wake: Notify,
    /// This instance, as recorded on the items it runs: host and process id.
    instance: String,
}

impl std::fmt::Debug for Importer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer")
            .field("portal", &self.inner.portal)
            .finish_non_exhaustive()
    }
}

/// The running workers; dropping it does not stop them, [`Workers::stop`] does.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl platform::context::Worker for Workers {
    /// Lets each worker finish the item in hand, then returns.
    fn stop(self: Box<Self>) -> platform::context::BoxFuture<'static, ()> {
        let _ = self.stop.send(true);
        let tasks = self.tasks;
        Box::pin(async move {
            for t in tasks {
                let _ = t.await;
            }
        })
    }
}

impl Importer {
    pub fn new(
        db: Db,
        ring: Arc<KeyRing>,
        settings: &ImportSettings,
    ) -> Result<Self, client::PortalConfigError> {
        let portal = match &settings.devportal_url {
            Some(url) => Some(Portal::new(
                url,
                settings.devportal_api_key.as_deref().unwrap_or_default(),
                Duration::from_millis(settings.request_timeout_ms.max(1)),
            )?),
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Shared {
                db,
                ring,
                portal,
                settings: settings.clone(),
                wake: Notify::new(),
                instance: format!(
                    "{}:{}",
                    std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into()),
                    std::process::id()
                ),
            }),
        })
    }

    /// The portal, or why there is none.
    pub fn portal(&self) -> Result<&Portal, IoError> {
        self.inner.portal.as_ref().ok_or_else(|| {
            IoError::Unavailable("the Developer Portal is not configured".to_string())
        })
    }

    pub fn configured(&self) -> bool {
        self.inner.portal.is_some()
    }

    /// Tells the local workers that there is new work.
    pub fn wake(&self) {
        self.inner.wake.notify_waiters();
    }

    /// Starts `io.import.workers` workers (none when no portal is configured).
    pub fn spawn_workers(&self) -> Workers {
        let (stop, rx) = watch::channel(false);
        let n = if self.configured() {
            self.inner.settings.workers.max(1)
        } else {
            0
        };
        let tasks = (0..n)
            .map(|_| {
                let me = self.clone();
                let rx = rx.clone();
                tokio::spawn(async move { me.work(rx).await })
            })
            .collect();
        Workers { stop, tasks }
    }

    async fn work(&self, mut stop: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.inner.settings.poll_interval_ms.max(10));
        loop {
            if *stop.borrow() {
                return;
            }
            let claimed = store::claim(
                &self.inner.db,
                self.inner.settings.lease_ms,
                &self.inner.instance,
                CLAIM_BATCH,
            )
            .await;
            match claimed {
                Ok(items) if items.is_empty() => self.pause(&mut stop, idle).await,
                Ok(items) => {
                    if let Err(e) = self.run(&items).await {
                        // The database itself failed: the leases run out and the items are
                        // claimed again.
                        tracing::warn!(error = %e, "import items interrupted");
                        self.pause(&mut stop, idle).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim import items");
                    self.pause(&mut stop, idle).await;
                }
            }
        }
    }

    async fn pause(&self, stop: &mut watch::Receiver<bool>, idle: Duration) {
        let notified = self.inner.wake.notified();
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(idle) => {}
            _ = stop.changed() => {}
        }
    }

    /// Runs claimed items one after the other and records how they went: the failures one by
    /// one, the successes together.
    async fn run(&self, items: &[store::Item]) -> Result<(), IoError> {
        let mut done = Vec::with_capacity(items.len());
        for item in items {
            match self.step(item).await? {
                Ok(()) => done.push(item),
                Err(e) => {
                    let s = &self.inner.settings;
                    let attempts = u32::try_from(item.attempts).unwrap_or(u32::MAX);
                    let retry = match &e {
                        StepError::Transient(_) if attempts < s.max_attempts => {
                            Some(backoff_ms(attempts, s.retry_base_ms, s.retry_max_ms))
                        }
                        _ => None,
                    };
                    tracing::info!(
                        item = %item.id, service = %item.service_id, attempts,
                        retry_in_ms = ?retry, reason = %e.message(), "import step failed"
                    );
                    store::fail(&self.inner.db, item, e.message(), retry).await?;
                }
            }
        }
        store::complete(&self.inner.db, &done).await
    }

    /// Freeze on the portal, copy in, complete the transfer.
    async fn step(&self, item: &store::Item) -> Result<Result<(), StepError>, IoError> {
        let portal = match self.portal() {
            Ok(p) => p,
            Err(_) => {
                return Ok(Err(StepError::Transient(
                    "the Developer Portal is not configured".into(),
                )));
            }
        };
        let tenant = match crate::store::institution(&self.inner.db, &item.institution_id).await? {
            Some(t) => t,
            None => return Ok(Err(StepError::Permanent("unknown institution".into()))),
        };
        let frozen = match portal
            .freeze(&item.fiscal_code, &item.delegate_id, &item.service_id)
            .await
        {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        let checked = check_frozen(&frozen, &item.service_id, &tenant.fiscal_code);
        let (data, visibility) = match checked {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let (lifecycle, publication) = visibility.mapped();
        let primary = ApiKey::presented(&frozen.keys.primary);
        let secondary = ApiKey::presented(&frozen.keys.secondary);
        let arrival = store::Arrival {
            id: &item.service_id,
            data: &data,
            lifecycle,
            publication,
            keys: (&primary, &secondary),
            delegate_id: &item.delegate_id,
        };
        if let Err(e) = store::copy_in(&self.inner.db, &self.inner.ring, &tenant, &arrival).await? {
            return Ok(Err(e));
        }
        Ok(portal
            .transfer(&item.fiscal_code, &item.delegate_id, &item.service_id)
            .await)
    }
}

/// What the portal handed over must be this institution's service, with readable data, a
/// known state and usable keys.
fn check_frozen(
    frozen: &client::Frozen,
    service_id: &str,
    fiscal_code: &str,
) -> Result<(crate::model::ServiceData, Visibility), StepError> {
    let s = &frozen.service;
    if s.get("id").and_then(|v| v.as_str()) != Some(service_id) {
        return Err(StepError::Permanent(
            "the Developer Portal answered with another service".into(),
        ));
    }
    let org = s
        .get("organization")
        .and_then(|o| o.get("fiscal_code"))
        .and_then(|v| v.as_str());
    if org != Some(fiscal_code) {
        return Err(StepError::Permanent(
            "the service belongs to another institution".into(),
        ));
    }
    let visibility = s
        .get("visibility")
        .and_then(|v| v.as_str())
        .and_then(Visibility::parse)
        .ok_or_else(|| StepError::Permanent("unknown state on the Developer Portal".into()))?;
    if !key_shape(&frozen.keys.primary) || !key_shape(&frozen.keys.secondary) {
        return Err(StepError::Permanent(
            "the service's keys cannot be used here".into(),
        ));
    }
    let data = parse_service(s, PayloadKind::Import).map_err(|errors| {
        let first = errors
            .first()
            .map(|e| format!("{}: {}", e.field, e.message))
            .unwrap_or_default();
        StepError::Permanent(format!("invalid service data ({first})"))
    })?;
    Ok((data, visibility))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frozen(service: serde_json::Value) -> client::Frozen {
        serde_json::from_value(json!({
            "service": service,
            "keys": {"primary": "0123456789abcdef0123456789abcdef",
                     "secondary": "fedcba9876543210fedcba9876543210"},
        }))
        .unwrap()
    }

    fn legacy(visibility: &str) -> serde_json::Value {
        json!({
            "id": "01SERVICE", "name": "Tari", "description": "La tassa sui rifiuti.",
            "organization": {"name": "Comune", "fiscal_code": "00123456782"},
            "metadata": {"scope": "LOCAL"},
            "visibility": visibility,
        })
    }

    #[test]
    fn a_frozen_service_must_be_ours_readable_and_with_usable_keys() {
        let (data, v) =
            check_frozen(&frozen(legacy("visible")), "01SERVICE", "00123456782").unwrap();
        assert_eq!(data.name, "Tari");
        assert_eq!(v, Visibility::Visible);
        // Without a topic: legacy services had none.
        assert_eq!(data.metadata.topic_id, None);

        let other = check_frozen(&frozen(legacy("visible")), "01SERVICE", "80001234568");
        assert!(matches!(other, Err(StepError::Permanent(m)) if m.contains("another institution")));
        let wrong_id = check_frozen(&frozen(legacy("visible")), "01OTHER", "00123456782");
        assert!(matches!(wrong_id, Err(StepError::Permanent(_))));
        let state = check_frozen(&frozen(legacy("hidden")), "01SERVICE", "00123456782");
        assert!(matches!(state, Err(StepError::Permanent(m)) if m.contains("state")));
        let mut bad = legacy("visible");
        bad["metadata"]["privacy_url"] = json!("not a url");
        let invalid = check_frozen(&frozen(bad), "01SERVICE", "00123456782");
        assert!(
            matches!(invalid, Err(StepError::Permanent(m)) if m.contains("metadata.privacy_url"))
        );
    }
}
