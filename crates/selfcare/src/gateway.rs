//! `selfcare gateway`: the reverse proxy a producer runs in front of its e-service, so that no
//! request reaches the e-service without a voucher that passed every check of
//! [`voucher_verifier`] (signature by the environment's keys, issuer, audience, **e-service and
//! producer**, times, DPoP binding, AUDIT_REST_02 digest).
//!
//! For each request:
//! - `GET`/`HEAD` of [`GatewaySettings::health_path`] and [`GatewaySettings::metrics_path`] are
//!   the gateway's own (never forwarded, no voucher asked);
//! - anything else is verified first. A refusal is a `401` with `WWW-Authenticate` (RFC 6750
//!   for `Bearer`, RFC 9449 for `DPoP`: the scheme the request used, `DPoP` for a voucher bound
//!   to a key) whose `error` is the check's OAuth error and `error_description` its reason in
//!   words, and a problem+json body whose `code` is the check's short reason; the e-service is
//!   not contacted. When the environment's keys cannot be read, a `503`;
//! - a request that passes goes to the e-service on a pool of keep-alive connections, bodies
//!   streamed both ways, without `Authorization`, `DPoP` and the hop-by-hop headers, with the
//!   verified claims in `X-Pdnd-*` headers (any `X-Pdnd-*` header the caller sent is removed
//!   first, so that none can be forged). An e-service that cannot be reached is a `502`, one that
//!   does not answer within [`GatewaySettings::upstream_timeout_secs`] a `504`.
//!
//! Nothing here logs a voucher, a DPoP proof or a tracking evidence: refusals are logged with
//! their reason, the method and the path (not the query).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::uri::{Authority, PathAndQuery, Scheme};
use axum::http::{Method, StatusCode, Uri, Version};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use platform::Problem;
use platform::config::ConfigError;
use platform::verified::VerifiedCache;
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use voucher_verifier::{Verified, Verifier, VerifyError};

/// `gateway.*`: where the gateway listens, the e-service behind it, and what the vouchers must
/// say (the [`voucher_verifier::Config`] of the e-service).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySettings {
    /// Where the gateway listens (`--listen` of `selfcare gateway`).
    pub listen: SocketAddr,
    /// The URL callers reach the gateway at (scheme, host, port, no path): a DPoP proof's
    /// `htu` is `<public_url><path>`. By default `http://<the address it listens on>`.
    pub public_url: Option<String>,
    /// The e-service: `http://<host>:<port>[/<path prefix>]` (`--upstream`). Required.
    pub upstream: Option<String>,
    /// The longest the e-service may take to start answering (its head), in seconds.
    pub upstream_timeout_secs: u64,
    /// Idle keep-alive connections kept open to the e-service.
    pub upstream_idle_connections: usize,
    /// The environment's public keys (`.../.well-known/jwks.json`). Required.
    pub jwks_url: Option<String>,
    /// The vouchers' `iss`. Required.
    pub issuer: Option<String>,
    /// The audience of the e-service's version, as the vouchers' `aud` names it. Required.
    pub audience: Option<String>,
    /// The ids of the e-services served behind the gateway. Required.
    #[serde(deserialize_with = "platform::config::list_or_comma_separated")]
    pub eservice_ids: Vec<String>,
    /// The producer's id, as the vouchers' `producerId` names it. Required.
    pub producer_id: Option<String>,
    /// When not empty, the versions (descriptor ids) served.
    #[serde(deserialize_with = "platform::config::list_or_comma_separated")]
    pub descriptor_ids: Vec<String>,
    /// Tolerance on `exp`, `nbf` and a DPoP proof's `iat`, in seconds.
    pub leeway_secs: u64,
    /// A DPoP proof older than this is refused, in seconds.
    pub dpop_max_age_secs: u64,
    /// The shortest time between two fetches of the JWKS (an unknown `kid` fetches again).
    pub refetch_interval_secs: u64,
    /// Refuse vouchers without a `digest` (AUDIT_REST_02 on every call).
    pub require_tracking_evidence: bool,
    /// The platform's keys endpoint (`GET <keys_url>/<kid>` → `{clientId, jwk}`): when set, a
    /// tracking evidence must be signed by a key of the voucher's client.
    pub keys_url: Option<String>,
    /// The longest a fetch of keys may take, in seconds.
    pub fetch_timeout_secs: u64,
    /// Bearer vouchers (without DPoP or tracking evidence) kept once verified, until they
    /// expire, so that a voucher reused for its lifespan is verified once; 0: every request
    /// verified.
    pub verified_cache_entries: usize,
    /// The gateway's liveness path (`GET`, not forwarded); empty: none, the path is forwarded.
    pub health_path: String,
    /// The gateway's Prometheus metrics (`GET`, not forwarded); empty: none.
    pub metrics_path: String,
    /// After SIGTERM or Ctrl-C, how long in-flight requests may take to finish, in seconds.
    pub shutdown_timeout_secs: u64,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        let verifier = voucher_verifier::Config::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8082)),
            public_url: None,
            upstream: None,
            upstream_timeout_secs: 30,
            upstream_idle_connections: 64,
            jwks_url: None,
            issuer: None,
            audience: None,
            eservice_ids: Vec::new(),
            producer_id: None,
            descriptor_ids: Vec::new(),
            leeway_secs: verifier.leeway.as_secs(),
            dpop_max_age_secs: verifier.dpop_max_age.as_secs(),
            refetch_interval_secs: verifier.refetch_interval.as_secs(),
            require_tracking_evidence: false,
            keys_url: None,
            fetch_timeout_secs: verifier.fetch_timeout.as_secs(),
            verified_cache_entries: 10_000,
            health_path: "/healthz".into(),
            metrics_path: "/metrics".into(),
            shutdown_timeout_secs: 30,
        }
    }
}

/// A required setting's value, or the error that names it.
fn required(
    value: &Option<String>,
    key: &'static str,
    hint: &'static str,
) -> Result<String, ConfigError> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or(ConfigError::Missing { key, hint })
}

fn optional(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl GatewaySettings {
    /// The e-service's URL, checked: `http://` with a host, no query.
    pub fn upstream(&self) -> Result<Upstream, ConfigError> {
        let text = required(
            &self.upstream,
            "gateway.upstream",
            "the e-service the gateway forwards to, http://<host>:<port>[/<path>] \
             (`--upstream`), or set SELFCARE_GATEWAY__UPSTREAM",
        )?;
        let invalid = |why: &str| ConfigError::Invalid(format!("gateway.upstream `{text}`: {why}"));
        let uri: Uri = text.parse().map_err(|e| invalid(&format!("{e}")))?;
        if uri.scheme() != Some(&Scheme::HTTP) {
            return Err(invalid(
                "only http:// (the gateway runs beside the e-service; TLS ends in front of the \
                 gateway)",
            ));
        }
        let authority = uri.authority().cloned().ok_or_else(|| invalid("no host"))?;
        if uri.query().is_some() {
            return Err(invalid("a query has no place in it"));
        }
        Ok(Upstream {
            authority,
            prefix: uri.path().trim_end_matches('/').to_string(),
        })
    }

    /// What the verifier checks; the first required setting missing is named.
    pub fn verifier_config(&self) -> Result<voucher_verifier::Config, ConfigError> {
        let jwks_url = required(
            &self.jwks_url,
            "gateway.jwks_url",
            "the environment's public keys, e.g. \
             https://<selfcare>/interop/collaudo/.well-known/jwks.json; or set \
             SELFCARE_GATEWAY__JWKS_URL",
        )?;
        let issuer = required(
            &self.issuer,
            "gateway.issuer",
            "the vouchers' `iss`, e.g. https://<selfcare>/interop/collaudo; or set \
             SELFCARE_GATEWAY__ISSUER",
        )?;
        let audience = required(
            &self.audience,
            "gateway.audience",
            "the audience of the e-service's version, as the vouchers' `aud` carries it; or \
             set SELFCARE_GATEWAY__AUDIENCE",
        )?;
        let eservice_ids: Vec<String> = self
            .eservice_ids
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if eservice_ids.is_empty() {
            return Err(ConfigError::Missing {
                key: "gateway.eservice_ids",
                hint: "the ids of the e-services behind the gateway (the audience alone lets \
                       another institution's e-service with the same audience call yours); or \
                       set SELFCARE_GATEWAY__ESERVICE_IDS, comma-separated",
            });
        }
        let producer_id = required(
            &self.producer_id,
            "gateway.producer_id",
            "your institution's id, as the vouchers' `producerId` names it; or set \
             SELFCARE_GATEWAY__PRODUCER_ID",
        )?;
        Ok(voucher_verifier::Config {
            jwks_url,
            issuer,
            audience,
            eservice_ids,
            producer_id,
            descriptor_ids: self
                .descriptor_ids
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            leeway: Duration::from_secs(self.leeway_secs),
            dpop_max_age: Duration::from_secs(self.dpop_max_age_secs),
            refetch_interval: Duration::from_secs(self.refetch_interval_secs),
            require_tracking_evidence: self.require_tracking_evidence,
            keys_url: optional(&self.keys_url),
            fetch_timeout: Duration::from_secs(self.fetch_timeout_secs.max(1)),
            // After a failed JWKS fetch: retried after the library's default (5 s).
            ..voucher_verifier::Config::default()
        })
    }

    /// Every setting `selfcare gateway` cannot start without, checked in one go.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.upstream()?;
        self.verifier_config()?;
        for (key, path) in [
            ("gateway.health_path", &self.health_path),
            ("gateway.metrics_path", &self.metrics_path),
        ] {
            if !path.is_empty() && !path.starts_with('/') {
                return Err(ConfigError::Invalid(format!(
                    "{key} `{path}`: a path starts with `/` (or is empty: none)"
                )));
            }
        }
        if let Some(url) = optional(&self.public_url)
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid(format!(
                "gateway.public_url `{url}`: an http:// or https:// URL"
            )));
        }
        Ok(())
    }
}

/// The e-service behind the gateway.
#[derive(Debug, Clone)]
pub struct Upstream {
    authority: Authority,
    /// The path prefix, without its trailing `/` (empty for none).
    prefix: String,
}

impl Upstream {
    /// The e-service's URI of a request for `uri`.
    fn uri_for(&self, uri: &Uri) -> Result<Uri, axum::http::Error> {
        let path_and_query = match (self.prefix.is_empty(), uri.path_and_query()) {
            (true, Some(pq)) => pq.clone(),
            (true, None) => PathAndQuery::from_static("/"),
            (false, pq) => {
                let pq = pq.map_or("/", PathAndQuery::as_str);
                PathAndQuery::try_from(format!("{}{pq}", self.prefix))?
            }
        };
        let mut parts = axum::http::uri::Parts::default();
        parts.scheme = Some(Scheme::HTTP);
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Ok(Uri::from_parts(parts)?)
    }
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}{}", self.authority, self.prefix)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the voucher verifier: {0}")]
    Verifier(VerifyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The gateway's counters, at [`GatewaySettings::metrics_path`].
struct GatewayMetrics {
    registry: Registry,
    accepted: IntCounter,
    refused: IntCounterVec,
    upstream_errors: IntCounterVec,
    jwks_fetches: IntGauge,
    cached: IntCounter,
}

impl GatewayMetrics {
    fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let accepted = IntCounter::new(
            "gateway_requests_accepted_total",
            "Requests whose voucher passed every check (forwarded to the e-service)",
        )?;
        let refused = IntCounterVec::new(
            Opts::new(
                "gateway_requests_refused_total",
                "Requests not forwarded, by the check that failed (keys_unavailable: answered \
                 503, every other reason 401)",
            ),
            &["reason"],
        )?;
        let upstream_errors = IntCounterVec::new(
            Opts::new(
                "gateway_upstream_errors_total",
                "Accepted requests the e-service did not answer: unreachable (502) or timeout (504)",
            ),
            &["kind"],
        )?;
        let jwks_fetches = IntGauge::new(
            "gateway_jwks_fetches",
            "Fetches of the environment's JWKS since the start",
        )?;
        let cached = IntCounter::new(
            "gateway_requests_cached_total",
            "Accepted requests whose Bearer voucher had been verified before (not verified again \
             until it expires)",
        )?;
        registry.register(Box::new(cached.clone()))?;
        registry.register(Box::new(accepted.clone()))?;
        registry.register(Box::new(refused.clone()))?;
        registry.register(Box::new(upstream_errors.clone()))?;
        registry.register(Box::new(jwks_fetches.clone()))?;
        Ok(Self {
            registry,
            accepted,
            refused,
            upstream_errors,
            jwks_fetches,
            cached,
        })
    }

    fn render(&self) -> Result<String, prometheus::Error> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
}

const DPOP: HeaderName = HeaderName::from_static("dpop");
const TRACKING_EVIDENCE: HeaderName = HeaderName::from_static("agid-jwt-trackingevidence");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
/// The prefix of the headers the gateway writes: a caller's own are removed.
const PDND_PREFIX: &str = "x-pdnd-";

/// Everything a request needs, shared by the connections.
struct Shared {
    verifier: Verifier,
    cache: VerifiedCache<Passed>,
    /// The verifier's leeway on `exp`, in seconds.
    leeway: i64,
    client: Client<HttpConnector, Body>,
    upstream: Upstream,
    /// Without its trailing `/`.
    public_url: String,
    forwarded_proto: HeaderValue,
    timeout: Duration,
    health_path: Option<String>,
    metrics_path: Option<String>,
    metrics: GatewayMetrics,
}

/// A running gateway.
pub struct Gateway {
    addr: SocketAddr,
    url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Gateway {
    /// Checks `settings`, binds `settings.listen` and serves until [`Gateway::stop`].
    pub async fn start(settings: &GatewaySettings) -> Result<Gateway, GatewayError> {
        settings.check()?;
        let upstream = settings.upstream()?;
        let verifier =
            Verifier::new(settings.verifier_config()?).map_err(GatewayError::Verifier)?;
        let metrics = GatewayMetrics::new()?;
        let listen = settings.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| GatewayError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| GatewayError::Bind {
            addr: listen,
            source,
        })?;
        let public_url = optional(&settings.public_url)
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{addr}"));
        let proto = if public_url.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        let timeout = Duration::from_secs(settings.upstream_timeout_secs.max(1));
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(settings.upstream_idle_connections)
            .build(connector);
        let own = |p: &str| (!p.is_empty()).then(|| p.to_string());
        let shared = Arc::new(Shared {
            verifier,
            cache: VerifiedCache::new(settings.verified_cache_entries),
            leeway: i64::try_from(settings.leeway_secs).unwrap_or(0),
            client,
            upstream,
            public_url: public_url.clone(),
            forwarded_proto: HeaderValue::from_static(proto),
            timeout,
            health_path: own(&settings.health_path),
            metrics_path: own(&settings.metrics_path),
            metrics,
        });
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let grace = Duration::from_secs(settings.shutdown_timeout_secs);
        let task = tokio::spawn(platform::server::serve(
            listener,
            router,
            async move {
                let _ = rx.await;
            },
            grace,
        ));
        tracing::info!(%addr, public_url = %public_url, upstream = %shared.upstream, "gateway listening");
        Ok(Gateway {
            addr,
            url: public_url,
            shared,
            shutdown: Some(tx),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL callers use ([`GatewaySettings::public_url`]).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Requests accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.metrics.accepted.get()
    }

    /// Stops accepting connections and lets in-flight requests finish.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Serves until `signal` resolves, then stops gracefully.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        signal.await;
        self.stop().await
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    if let Some(own) = shared.own_route(&parts) {
        return own;
    }
    let (dpop, passed) = shared.verify(&parts).await;
    match passed {
        Ok(passed) => {
            shared.metrics.accepted.inc();
            shared.forward(parts, body, &passed, peer).await
        }
        Err(error) => shared.refuse(&error, dpop, &parts),
    }
}

/// What a voucher that passed puts in the forwarded request: its claims as headers.
struct Passed {
    headers: [(HeaderName, HeaderValue); 7],
    /// The voucher's `exp`.
    expires_at: i64,
}

impl Passed {
    fn new(v: &Verified) -> Result<Passed, VerifyError> {
        let header = |name: &'static str, value: &str| {
            HeaderValue::from_str(value)
                .map(|value| (HeaderName::from_static(name), value))
                .map_err(|_| {
                    VerifyError::Malformed(format!("a claim cannot be sent as the header {name}"))
                })
        };
        Ok(Passed {
            headers: [
                header("x-pdnd-purpose-id", &v.purpose_id)?,
                header("x-pdnd-consumer-id", &v.consumer_id)?,
                header("x-pdnd-client-id", &v.client_id)?,
                header("x-pdnd-eservice-id", &v.eservice_id)?,
                header("x-pdnd-descriptor-id", &v.descriptor_id)?,
                header("x-pdnd-producer-id", &v.producer_id)?,
                header("x-pdnd-voucher-id", &v.voucher_id)?,
            ],
            expires_at: v.expires_at,
        })
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The one value of the header `name`: `Err` when there are several.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<Option<&'a str>, ()> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(());
    }
    Ok(first.and_then(|v| v.to_str().ok()))
}

/// `text` as the inside of a quoted-string: quotes and backslashes escaped, anything but
/// printable ASCII replaced, at most 300 characters.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars().take(300) {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// Removes the hop-by-hop headers (RFC 9110 § 7.6.1): those `Connection` names and the
/// standard ones.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    if headers.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    for name in [
        header::CONNECTION,
        KEEP_ALIVE,
        PROXY_CONNECTION,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
}

fn problem(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    Problem::new(status, code, title)
        .with_detail(detail)
        .into_response()
}

impl Shared {
    /// `/healthz` and `/metrics` (or as configured): the gateway's own, for `GET` and `HEAD`.
    fn own_route(&self, parts: &Parts) -> Option<Response> {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return None;
        }
        let path = parts.uri.path();
        if self.health_path.as_deref() == Some(path) {
            return Some(
                (
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "ok\n",
                )
                    .into_response(),
            );
        }
        if self.metrics_path.as_deref() == Some(path) {
            self.metrics
                .jwks_fetches
                .set(i64::try_from(self.verifier.jwks_fetches()).unwrap_or(i64::MAX));
            return Some(match self.metrics.render() {
                Ok(text) => {
                    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
                }
                Err(e) => Problem::internal(&e).into_response(),
            });
        }
        None
    }

    /// The verifier's answer on the request's headers, and whether a refusal is told with the
    /// `DPoP` scheme (the request used it, or the voucher is bound to a key).
    async fn verify(&self, parts: &Parts) -> (bool, Result<Arc<Passed>, VerifyError>) {
        let headers = &parts.headers;
        let Ok(authorization) = single(headers, &header::AUTHORIZATION) else {
            return (
                false,
                Err(VerifyError::Malformed(
                    "more than one Authorization header".into(),
                )),
            );
        };
        let dpop_scheme = authorization
            .and_then(|a| a.get(..5))
            .is_some_and(|s| s.eq_ignore_ascii_case("DPoP "));
        let Ok(dpop) = single(headers, &DPOP) else {
            return (
                true,
                Err(VerifyError::DpopInvalid("more than one DPoP header".into())),
            );
        };
        let Ok(tracking_evidence) = single(headers, &TRACKING_EVIDENCE) else {
            return (
                dpop_scheme,
                Err(VerifyError::TrackingEvidenceInvalid(
                    "more than one Agid-JWT-TrackingEvidence header".into(),
                )),
            );
        };
        // A Bearer voucher alone: verified once, then taken from the cache until it expires.
        let now = now_secs();
        let cacheable = match (authorization, dpop, tracking_evidence) {
            (Some(a), None, None) => a
                .get(..7)
                .filter(|s| s.eq_ignore_ascii_case("Bearer "))
                .and_then(|_| a.get(7..))
                .map(str::trim),
            _ => None,
        };
        if let Some(passed) = cacheable.and_then(|token| self.cache.get(token, now)) {
            self.metrics.cached.inc();
            return (false, Ok(passed));
        }
        let path_and_query = parts.uri.path_and_query().map_or("/", PathAndQuery::as_str);
        let url = format!("{}{path_and_query}", self.public_url);
        let result = self
            .verifier
            .verify(&voucher_verifier::Request {
                method: parts.method.as_str(),
                url: &url,
                authorization,
                dpop,
                tracking_evidence,
            })
            .await;
        let bound = dpop_scheme
            || matches!(result, Err(VerifyError::DpopBoundUsedAsBearer))
            || matches!(&result, Ok(v) if v.dpop);
        let passed = result.and_then(|v| {
            let passed = Arc::new(Passed::new(&v)?);
            if let Some(token) = cacheable.filter(|_| !v.dpop) {
                // Kept until it expires as the verifier counts it: `exp` plus the leeway.
                let dies_at = passed.expires_at.saturating_add(self.leeway);
                self.cache.insert(token, passed.clone(), dies_at, now);
            }
            Ok(passed)
        });
        (bound, passed)
    }

    /// A `401` with its challenge, or a `503` when the fault is not the caller's.
    fn refuse(&self, error: &VerifyError, dpop: bool, parts: &Parts) -> Response {
        let reason = error.reason();
        self.metrics.refused.with_label_values(&[reason]).inc();
        let Some(oauth_error) = error.oauth_error() else {
            tracing::warn!(reason, error = %error, method = %parts.method, path = parts.uri.path(), "cannot verify a voucher");
            let detail = match error {
                VerifyError::KeysUnavailable(_) => {
                    "the environment's keys cannot be read now: try again later"
                }
                _ => "the gateway cannot verify vouchers now: try again later",
            };
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                reason,
                "Service Unavailable",
                detail,
            );
        };
        tracing::info!(reason, method = %parts.method, path = parts.uri.path(), "voucher refused: {error}");
        let description = error.to_string();
        let scheme = if dpop { "DPoP" } else { "Bearer" };
        let mut challenge = format!(
            "{scheme} error=\"{oauth_error}\", error_description=\"{}\"",
            quoted(&description)
        );
        if dpop {
            challenge.push_str(", algs=\"RS256 ES256\"");
        }
        let mut response = problem(
            StatusCode::UNAUTHORIZED,
            reason,
            "Unauthorized",
            &description,
        );
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    /// The request, its voucher verified, to the e-service; the e-service's answer back.
    async fn forward(
        &self,
        mut parts: Parts,
        body: Body,
        passed: &Passed,
        peer: SocketAddr,
    ) -> Response {
        let headers = &mut parts.headers;
        let host = headers.remove(header::HOST);
        strip_hop_by_hop(headers);
        headers.remove(header::AUTHORIZATION);
        headers.remove(DPOP);
        let forged: Vec<HeaderName> = headers
            .keys()
            .filter(|name| name.as_str().starts_with(PDND_PREFIX))
            .cloned()
            .collect();
        for name in forged {
            headers.remove(name);
        }
        for (name, value) in &passed.headers {
            headers.insert(name.clone(), value.clone());
        }
        let client_ip = peer.ip().to_string();
        let forwarded_for = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {client_ip}"),
            None => client_ip,
        };
        if let Ok(v) = HeaderValue::from_str(&forwarded_for) {
            headers.insert(X_FORWARDED_FOR, v);
        }
        if let Some(host) = host {
            headers.insert(X_FORWARDED_HOST, host);
        }
        headers.insert(X_FORWARDED_PROTO, self.forwarded_proto.clone());
        parts.uri = match self.upstream.uri_for(&parts.uri) {
            Ok(uri) => uri,
            Err(e) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "bad_path",
                    "Bad Request",
                    &format!("the path cannot be forwarded: {e}"),
                );
            }
        };
        parts.version = Version::HTTP_11;
        let method = parts.method.clone();
        let path = parts.uri.path().to_string();
        let request = axum::http::Request::from_parts(parts, body);
        match tokio::time::timeout(self.timeout, self.client.request(request)).await {
            Ok(Ok(response)) => {
                let (mut parts, incoming) = response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, Body::new(incoming))
            }
            Ok(Err(e)) => {
                self.metrics
                    .upstream_errors
                    .with_label_values(&["unreachable"])
                    .inc();
                let cause = std::error::Error::source(&e)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                tracing::warn!(upstream = %self.upstream, %method, path, error = %e, cause, "the e-service cannot be reached");
                problem(
                    StatusCode::BAD_GATEWAY,
                    "upstream_unreachable",
                    "Bad Gateway",
                    "the e-service cannot be reached",
                )
            }
            Err(_) => {
                self.metrics
                    .upstream_errors
                    .with_label_values(&["timeout"])
                    .inc();
                tracing::warn!(upstream = %self.upstream, %method, path, seconds = self.timeout.as_secs(), "the e-service did not answer in time");
                problem(
                    StatusCode::GATEWAY_TIMEOUT,
                    "upstream_timeout",
                    "Gateway Timeout",
                    "the e-service did not answer in time",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> GatewaySettings {
        GatewaySettings {
            upstream: Some("http://127.0.0.1:9000/api/".into()),
            jwks_url: Some("http://127.0.0.1:8080/interop/collaudo/.well-known/jwks.json".into()),
            issuer: Some("http://127.0.0.1:8080/interop/collaudo".into()),
            audience: Some("https://api.example.it".into()),
            eservice_ids: vec!["e1".into()],
            producer_id: Some("p1".into()),
            ..GatewaySettings::default()
        }
    }

    #[test]
    fn the_first_missing_setting_is_named() {
        let missing = |change: fn(&mut GatewaySettings)| {
            let mut s = settings();
            change(&mut s);
            match s.check() {
                Err(ConfigError::Missing { key, .. }) => key,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(missing(|s| s.upstream = None), "gateway.upstream");
        assert_eq!(
            missing(|s| s.jwks_url = Some(" ".into())),
            "gateway.jwks_url"
        );
        assert_eq!(missing(|s| s.issuer = None), "gateway.issuer");
        assert_eq!(missing(|s| s.audience = None), "gateway.audience");
        assert_eq!(missing(|s| s.eservice_ids.clear()), "gateway.eservice_ids");
        assert_eq!(missing(|s| s.producer_id = None), "gateway.producer_id");
        settings().check().unwrap();
    }

    #[test]
    fn only_plain_http_upstreams_and_paths_are_accepted() {
        for bad in ["https://api.example.it", "http://h:1/x?y=1", "/relative"] {
            let mut s = settings();
            s.upstream = Some(bad.into());
            assert!(matches!(s.check(), Err(ConfigError::Invalid(_))), "{bad}");
        }
        let mut s = settings();
        s.metrics_path = "metrics".into();
        assert!(matches!(s.check(), Err(ConfigError::Invalid(_))));
    }

    #[test]
    fn the_upstream_prefix_is_joined_with_the_request_path() {
        let upstream = settings().upstream().unwrap();
        let uri = upstream
            .uri_for(&"/v1/x?a=b".parse::<Uri>().unwrap())
            .unwrap();
        assert_eq!(uri.to_string(), "http://127.0.0.1:9000/api/v1/x?a=b");
        let mut s = settings();
        s.upstream = Some("http://127.0.0.1:9000".into());
        let uri = s
            .upstream()
            .unwrap()
            .uri_for(&"/v1/x".parse::<Uri>().unwrap())
            .unwrap();
        assert_eq!(uri.to_string(), "http://127.0.0.1:9000/v1/x");
    }

    #[test]
    fn descriptions_are_quoted_strings_of_printable_ascii() {
        assert_eq!(
            quoted("the voucher's typ is \"JWT\" \\ è\r\n"),
            "the voucher's typ is \\\"JWT\\\" \\\\ ???"
        );
    }

    #[test]
    fn claims_that_are_no_header_values_are_refused() {
        let mut v = Verified {
            purpose_id: "p".into(),
            consumer_id: "c".into(),
            client_id: "k".into(),
            eservice_id: "e".into(),
            descriptor_id: "d".into(),
            producer_id: "r".into(),
            voucher_id: "j".into(),
            expires_at: 0,
            dpop: false,
        };
        v.voucher_id = "a\r\nX-Pdnd-Purpose-Id: forged".into();
        assert!(matches!(Passed::new(&v), Err(VerifyError::Malformed(_))));
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-hop"),
        );
        h.insert("x-hop", HeaderValue::from_static("1"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert("x-end", HeaderValue::from_static("2"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key("x-end"));
    }
}
