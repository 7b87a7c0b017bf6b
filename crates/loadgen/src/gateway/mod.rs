//! The `gateway` scenario: requests with valid vouchers through `selfcare gateway` (in
//! process, its runtime on one worker thread pinned to the first CPU) to an e-service that
//! answers at once, against the same e-service called directly in the same run.
//!
//! The vouchers come from the real token endpoint of the demo app (an ACTIVE agreement and
//! purpose on SEND - UAT, one client); the gateway verifies each request's voucher in full
//! (RSA signature and every claim: a Bearer voucher is not cached). The e-service and the load
//! generator share the other CPU in both phases, so that the only difference between the two
//! is the gateway's hop. Figures: the rate at full load (closed loop), then the latency of both
//! paced at the same rate (half the gateway's), and the gateway's CPU time per request.

mod prepare;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use tokio::sync::oneshot;

use crate::Error;

pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    pub vouchers: usize,
}

const WARMUP: Duration = Duration::from_secs(1);
const REFERENCE: Duration = Duration::from_secs(2);
/// The phase of one request at a time.
const SINGLE: Duration = Duration::from_secs(2);
/// The gateway passes at least this share of the direct rate, on one core.
const TARGET_RATIO: f64 = 0.5;
/// The gateway adds at most this at p50.
const TARGET_ADDED_P50: Duration = Duration::from_micros(300);
const PATH: &str = "/delivery/v2.3/notifications/sent";

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

// ---- cores and threads ----

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    crate::token::cores::allowed_cpus()
}

/// Pins the calling thread (and the threads it starts from now on) to `cpus`.
fn pin(cpus: &[usize]) -> bool {
    crate::token::cores::pin(cpus)
}

fn describe(cpus: &[usize]) -> String {
    if cpus.is_empty() {
        "not pinned".into()
    } else {
        let list: Vec<String> = cpus.iter().map(ToString::to_string).collect();
        format!("CPU {}", list.join(","))
    }
}

/// CPU time of each thread of this process so far (ns), by thread id, with its name.
fn thread_cpu() -> HashMap<u64, (String, u64)> {
    crate::token::cores::thread_cpu()
}

/// CPU time used between two readings by the threads whose name starts with `prefix`.
fn cpu_of(
    before: &HashMap<u64, (String, u64)>,
    after: &HashMap<u64, (String, u64)>,
    prefix: &str,
) -> Duration {
    after
        .iter()
        .filter(|(_, (name, _))| name.starts_with(prefix))
        .map(|(tid, (_, ns))| {
            Duration::from_nanos(ns.saturating_sub(before.get(tid).map_or(0, |(_, b)| *b)))
        })
        .sum()
}

/// CPU time of the calling thread so far.
fn this_thread_cpu() -> Duration {
    crate::token::cores::this_thread_cpu()
}

/// Busy and total jiffies of each CPU (`/proc/stat`).
fn cpu_times() -> Vec<(u64, u64)> {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            let total: u64 = v.iter().sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            (total.saturating_sub(idle), total)
        })
        .collect()
}

/// A server on a thread of its own (pinned to `cpus`), with its own runtime.
struct Running<T> {
    value: T,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), Error>>>,
}

impl<T> Running<T> {
    fn stop(mut self) -> Result<(), Error> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| "a server thread panicked")?,
            None => Ok(()),
        }
    }
}

/// Runs `body` on a new thread named `name` pinned to `cpus`, on a runtime of `workers`
/// worker threads (0: the thread itself); `body` sends its value when it is ready and runs
/// until its stop signal.
fn start_on<T, F, Fut>(
    name: &str,
    cpus: &[usize],
    workers: usize,
    body: F,
) -> Result<Running<T>, Error>
where
    T: Send + 'static,
    F: FnOnce(std::sync::mpsc::Sender<Result<T, String>>, oneshot::Receiver<()>) -> Fut
        + Send
        + 'static,
    Fut: Future<Output = Result<(), Error>>,
{
    let cpus = cpus.to_vec();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let workers_name = format!("{name}-worker");
    let thread =
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || -> Result<(), Error> {
                pin(&cpus);
                let mut builder = if workers == 0 {
                    tokio::runtime::Builder::new_current_thread()
                } else {
                    let mut b = tokio::runtime::Builder::new_multi_thread();
                    b.worker_threads(workers);
                    b
                };
                let runtime = builder.thread_name(workers_name).enable_all().build()?;
                runtime.block_on(body(ready_tx, stop_rx))
            })?;
    match ready_rx.recv() {
        Ok(Ok(value)) => Ok(Running {
            value,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Ok(Err(e)) => Err(format!("{name}: {e}").into()),
        Err(_) => {
            let ended = thread
                .join()
                .map_err(|_| format!("{name}: the thread panicked"))?;
            Err(format!("{name} ended before it was ready: {ended:?}").into())
        }
    }
}

/// Runs `f` on a current-thread runtime in a new thread named `load`, pinned to `cpus`.
fn on_load<T, F>(cpus: &[usize], f: impl FnOnce() -> F + Send + 'static) -> Result<T, Error>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>>,
{
    let cpus = cpus.to_vec();
    let thread = std::thread::Builder::new()
        .name("load".into())
        .spawn(move || {
            pin(&cpus);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(f())
        })?;
    thread.join().map_err(|_| "the load thread panicked")?
}

// ---- the load ----

#[derive(Default)]
struct Phase {
    ok: usize,
    failed: usize,
    failures: Vec<String>,
    /// Microseconds, sorted once finished.
    latencies: Vec<u32>,
    elapsed: Duration,
    gateway_cpu: Duration,
    upstream_cpu: Duration,
    load_cpu: Duration,
    /// Busy share of each CPU (anything running on it, other processes too).
    busy: Vec<f64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i =
            ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        Duration::from_micros(u64::from(self.latencies[i]))
    }

    fn record(&mut self, result: Result<Duration, String>) {
        match result {
            Ok(latency) => {
                self.ok += 1;
                self.latencies
                    .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
            }
            Err(e) => {
                self.failed += 1;
                if self.failures.len() < 5 {
                    self.failures.push(e);
                }
            }
        }
    }

    fn merge(&mut self, other: Phase) {
        self.ok += other.ok;
        self.failed += other.failed;
        for f in other.failures {
            if self.failures.len() < 5 {
                self.failures.push(f);
            }
        }
        self.latencies.extend(other.latencies);
    }

    fn finish(
        &mut self,
        started: Instant,
        threads: &HashMap<u64, (String, u64)>,
        cpus: &[(u64, u64)],
    ) {
        self.elapsed = started.elapsed();
        self.busy = cpu_times()
            .iter()
            .zip(cpus)
            .map(|((busy, total), (b0, t0))| {
                busy.saturating_sub(*b0) as f64 / total.saturating_sub(*t0).max(1) as f64
            })
            .collect();
        let now = thread_cpu();
        self.gateway_cpu = cpu_of(threads, &now, "gateway");
        self.upstream_cpu = cpu_of(threads, &now, "upstream");
        self.load_cpu = cpu_of(threads, &now, "load");
        self.latencies.sort_unstable();
    }

    /// CPU time per answered request.
    fn per_request(&self, cpu: Duration) -> Duration {
        cpu / u32::try_from(self.ok.max(1)).unwrap_or(u32::MAX)
    }
}

fn client(connections: usize) -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .build()?)
}

/// One request: its latency for a 200, what came back otherwise.
async fn one(
    http: &reqwest::Client,
    url: &str,
    authorization: HeaderValue,
) -> Result<Duration, String> {
    let started = Instant::now();
    let r = http
        .get(url)
        .header(AUTHORIZATION, authorization)
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| format!("transport: {e}"))?;
    let elapsed = started.elapsed();
    if status == 200 {
        Ok(elapsed)
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

/// Closed loop: `connections` callers, each sending its next request as soon as the previous
/// one is answered, for `length`; the vouchers taken in turn.
async fn closed_loop(
    url: String,
    vouchers: Arc<Vec<HeaderValue>>,
    connections: usize,
    length: Duration,
) -> Result<Phase, Error> {
    let http = client(connections)?;
    let next = Arc::new(AtomicUsize::new(0));
    let threads = thread_cpu();
    let cpus = cpu_times();
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (http, url, vouchers, next) =
            (http.clone(), url.clone(), vouchers.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut phase = Phase::default();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed) % vouchers.len().max(1);
                let Some(v) = vouchers.get(i) else { break };
                phase.record(one(&http, &url, v.clone()).await);
            }
            phase
        }));
    }
    let mut total = Phase::default();
    for t in tasks {
        total.merge(t.await?);
    }
    total.finish(started, &threads, &cpus);
    Ok(total)
}

/// Open loop: requests sent at `rate` per second on a fixed schedule for `length`, whatever
/// the answers (at most `connections` in flight; waiting for one counts in the latency).
async fn paced(
    url: String,
    vouchers: Arc<Vec<HeaderValue>>,
    rate: f64,
    connections: usize,
    length: Duration,
) -> Result<Phase, Error> {
    let http = client(connections)?;
    let slots = Arc::new(tokio::sync::Semaphore::new(connections));
    let count = (rate * length.as_secs_f64()) as usize;
    let threads = thread_cpu();
    let cpus = cpu_times();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let at = started + Duration::from_secs_f64(i as f64 / rate.max(1.0));
        tokio::time::sleep_until(at.into()).await;
        let Some(v) = vouchers.get(i % vouchers.len().max(1)).cloned() else {
            break;
        };
        let (http, url, slots) = (http.clone(), url.clone(), slots.clone());
        tasks.push(tokio::spawn(async move {
            let queued = Instant::now();
            let _slot = slots.acquire_owned().await;
            one(&http, &url, v).await.map(|_| queued.elapsed())
        }));
    }
    let mut phase = Phase::default();
    for t in tasks {
        phase.record(t.await?);
    }
    phase.finish(started, &threads, &cpus);
    Ok(phase)
}

/// Raw RSA-2048 PKCS#1 SHA-256 verifications per second on the first of `cpus` (aws-lc-rs,
/// which the gateway's verifier uses): the cost floor of one request.
fn raw_verify_rate(cpus: &[usize]) -> Result<(f64, f64), Error> {
    let cpus: Vec<usize> = cpus.iter().copied().take(1).collect();
    let thread = std::thread::Builder::new().name("reference".into()).spawn(
        move || -> Result<(f64, f64), Error> {
            pin(&cpus);
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| "no RSA key")?;
            // About a voucher's signing input.
            let message = vec![b'a'; 900];
            let mut signature = vec![0u8; pair.public_modulus_len()];
            pair.sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                &message,
                &mut signature,
            )
            .map_err(|_| "signing failed")?;
            let key = UnparsedPublicKey::new(
                &RSA_PKCS1_2048_8192_SHA256,
                pair.public_key().as_ref().to_vec(),
            );
            let started = Instant::now();
            let cpu = this_thread_cpu();
            let mut n = 0u64;
            while started.elapsed() < REFERENCE {
                key.verify(&message, &signature)
                    .map_err(|_| "verification failed")?;
                n += 1;
            }
            let cpu = this_thread_cpu().saturating_sub(cpu).as_secs_f64();
            Ok((
                n as f64 / started.elapsed().as_secs_f64(),
                n as f64 / cpu.max(1e-9),
            ))
        },
    )?;
    thread.join().map_err(|_| "the reference thread panicked")?
}

/// The counter `name` of the gateway's metrics.
async fn counter(http: &reqwest::Client, gateway: &str, name: &str) -> Result<u64, Error> {
    let text = http
        .get(format!("{gateway}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("no {name} in the gateway's metrics").into())
}

/// Verifications per second of the gateway's verifier alone (`voucher_verifier`, the JWKS
/// cached) on the first of `cpus`, over `tokens` in turn: the share of a request that is the
/// voucher's check.
fn verifier_rate(
    cpus: &[usize],
    config: voucher_verifier::Config,
    tokens: Vec<String>,
) -> Result<(f64, f64), Error> {
    let cpus: Vec<usize> = cpus.iter().copied().take(1).collect();
    let thread = std::thread::Builder::new().name("reference".into()).spawn(
        move || -> Result<(f64, f64), Error> {
            pin(&cpus);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let verifier =
                    voucher_verifier::Verifier::new(config).map_err(|e| e.to_string())?;
                let headers: Vec<String> = tokens.iter().map(|t| format!("Bearer {t}")).collect();
                for h in &headers {
                    check(&verifier, h).await?;
                }
                let started = Instant::now();
                let cpu = this_thread_cpu();
                let mut n = 0usize;
                while started.elapsed() < REFERENCE {
                    check(&verifier, &headers[n % headers.len()]).await?;
                    n += 1;
                }
                let cpu = this_thread_cpu().saturating_sub(cpu).as_secs_f64();
                Ok((
                    n as f64 / started.elapsed().as_secs_f64(),
                    n as f64 / cpu.max(1e-9),
                ))
            })
        },
    )?;
    thread.join().map_err(|_| "the reference thread panicked")?
}

async fn check(verifier: &voucher_verifier::Verifier, authorization: &str) -> Result<(), Error> {
    let request = voucher_verifier::Request {
        method: "GET",
        url: "http://127.0.0.1/delivery/v2.3/notifications/sent",
        authorization: Some(authorization),
        dpop: None,
        tracking_evidence: None,
    };
    verifier
        .verify(&request)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string().into())
}

/// The gateway in front of `upstream`, on its own thread pinned to `cpus`: its URL.
fn start_gateway(
    name: &str,
    cpus: &[usize],
    settings: selfcare::gateway::GatewaySettings,
) -> Result<Running<String>, Error> {
    start_on(name, cpus, 1, move |ready, stop| async move {
        let gateway = match selfcare::gateway::Gateway::start(&settings).await {
            Ok(g) => g,
            Err(e) => {
                let _ = ready.send(Err(e.to_string()));
                return Ok(());
            }
        };
        let _ = ready.send(Ok(gateway.url().to_string()));
        let _ = stop.await;
        gateway.stop().await?;
        Ok(())
    })
}

fn busy(phase: &Phase) -> String {
    phase
        .busy
        .iter()
        .enumerate()
        .map(|(i, b)| format!("CPU{i} {:.0}%", b * 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- the scenario ----

pub fn run(options: &Options) -> Result<(), Error> {
    let cpus = allowed_cpus();
    let (gateway_cpus, load_cpus) = if cpus.len() >= 2 {
        (cpus[..1].to_vec(), cpus[1..].to_vec())
    } else {
        (Vec::new(), Vec::new())
    };
    let dir = tempfile::tempdir()?;

    println!("gateway: starting the demo app, which issues the vouchers…");
    let mut settings = selfcare::Settings::default();
    settings.http.listen = "127.0.0.1:0".parse()?;
    settings.devportal.listen = "127.0.0.1:0".parse()?;
    settings.log.level = "warn".into();
    let data_dir = dir.path().join("data");
    let issuer = start_on("issuer", &[], 2, move |ready, stop| async move {
        let app = match selfcare::App::start(settings, selfcare::Mode::Demo { data_dir }).await {
            Ok(app) => app,
            Err(e) => {
                let _ = ready.send(Err(e.to_string()));
                return Ok(());
            }
        };
        let _ = ready.send(Ok(format!("http://{}", app.addr())));
        let _ = stop.await;
        app.stop().await?;
        Ok(())
    })?;
    let base = issuer.value.clone();

    println!(
        "gateway: preparing through the JSON API (agreement, purpose, client, key) and asking \
         for {} vouchers…",
        options.vouchers
    );
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let http = reqwest::Client::new();
    let vouchers = setup.block_on(prepare::vouchers(&http, &base, options.vouchers))?;
    let claims = vouchers.claims.clone();
    let headers: Vec<HeaderValue> = vouchers
        .tokens
        .iter()
        .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
        .collect::<Result<_, _>>()?;
    let headers = Arc::new(headers);

    // The e-service: answers at once, on the load generator's CPU.
    let upstream = start_on("upstream", &load_cpus, 0, move |ready, stop| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let _ = ready.send(Ok(format!("http://{}", listener.local_addr()?)));
        let router = axum::Router::new().fallback(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                "{\"notifications\":[]}",
            )
        });
        platform::server::serve(
            listener,
            router,
            async move {
                let _ = stop.await;
            },
            Duration::from_secs(5),
        )
        .await?;
        Ok(())
    })?;
    let upstream_url = upstream.value.clone();

    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let cached_settings = selfcare::gateway::GatewaySettings {
        listen: "127.0.0.1:0".parse()?,
        upstream: Some(upstream_url.clone()),
        upstream_idle_connections: options.connections,
        jwks_url: Some(format!("{base}/interop/collaudo/.well-known/jwks.json")),
        issuer: text(&claims["iss"]),
        audience: text(&claims["aud"]),
        eservice_ids: text(&claims["eserviceId"]).into_iter().collect(),
        producer_id: text(&claims["producerId"]),
        shutdown_timeout_secs: 5,
        ..selfcare::gateway::GatewaySettings::default()
    };
    let verifier_config = cached_settings.verifier_config()?;
    // Two gateways on the same core, loaded in turn: every voucher verified, and the default
    // (a Bearer voucher verified once, until it expires).
    let full_settings = selfcare::gateway::GatewaySettings {
        verified_cache_entries: 0,
        ..cached_settings.clone()
    };
    let verifying = start_gateway("gateway", &gateway_cpus, full_settings)?;
    let caching = start_gateway("gateway-cached", &gateway_cpus, cached_settings)?;
    println!(
        "gateway: the gateway on {} (one worker thread); the e-service and the load generator \
         on {}",
        describe(&gateway_cpus),
        describe(&load_cpus)
    );

    let direct = format!("{upstream_url}{PATH}");
    let verified_url = format!("{}{PATH}", verifying.value);
    let cached_url = format!("{}{PATH}", caching.value);
    let c = options.connections;
    let d = options.duration;
    let mut full = Vec::new();
    for (name, url, length) in [
        ("warm-up, direct", &direct, WARMUP),
        (
            "warm-up, gateway (every voucher verified)",
            &verified_url,
            WARMUP,
        ),
        (
            "warm-up, gateway (vouchers verified once)",
            &cached_url,
            WARMUP,
        ),
        ("full load, direct", &direct, d),
        (
            "full load, gateway (every voucher verified)",
            &verified_url,
            d,
        ),
        (
            "full load, gateway (vouchers verified once)",
            &cached_url,
            d,
        ),
    ] {
        println!("gateway: {name}, {c} connections, {} s…", length.as_secs());
        let (u, h) = (url.clone(), headers.clone());
        full.push(on_load(&load_cpus, move || closed_loop(u, h, c, length))?);
    }
    let warm = full.drain(..3).collect::<Vec<_>>();
    let rate = (full.iter().map(Phase::rate).fold(f64::MAX, f64::min) / 2.0).max(1.0);
    let mut paced_phases = Vec::new();
    for (name, url) in [
        ("direct", &direct),
        ("gateway (every voucher verified)", &verified_url),
        ("gateway (vouchers verified once)", &cached_url),
    ] {
        println!(
            "gateway: paced at {rate:.0} requests/s, {name}, {} s…",
            d.as_secs()
        );
        let (u, h) = (url.clone(), headers.clone());
        paced_phases.push(on_load(&load_cpus, move || paced(u, h, rate, c, d))?);
    }
    // One request at a time: the hop's own latency, without any queue.
    let mut single = Vec::new();
    for (name, url) in [
        ("direct", &direct),
        ("gateway (every voucher verified)", &verified_url),
        ("gateway (vouchers verified once)", &cached_url),
    ] {
        println!("gateway: one connection, {name}, {} s…", SINGLE.as_secs());
        let (u, h) = (url.clone(), headers.clone());
        single.push(on_load(&load_cpus, move || closed_loop(u, h, 1, SINGLE))?);
    }

    println!("gateway: references on the gateway's core: RSA-2048 verifications, the verifier…");
    let reference = raw_verify_rate(&gateway_cpus)?;
    let verifier = verifier_rate(&gateway_cpus, verifier_config, vouchers.tokens.clone())?;
    let accepted = setup.block_on(async {
        let a = counter(&http, &verifying.value, "gateway_requests_accepted_total").await?;
        let b = counter(&http, &caching.value, "gateway_requests_accepted_total").await?;
        let hits = counter(&http, &caching.value, "gateway_requests_cached_total").await?;
        Ok::<_, Error>((a, b, hits))
    })?;
    verifying.stop()?;
    caching.stop()?;
    upstream.stop()?;
    issuer.stop()?;

    let names = ["direct", "every voucher verified", "vouchers verified once"];
    println!();
    println!(
        "gateway: GET {PATH} with {} Bearer vouchers of SEND - UAT, {c} keep-alive \
         connections, {} s per phase",
        headers.len(),
        d.as_secs()
    );
    println!(
        "  the gateway on {} (one tokio worker thread); the e-service (axum, answers at once) \
         and the load generator on {}",
        describe(&gateway_cpus),
        describe(&load_cpus)
    );
    println!("  full load (closed loop):");
    for (name, phase) in names.iter().zip(&full) {
        println!(
            "    {name:<24} {:>7.0} requests/s  p50 {}  p99 {}  ({} in {:.2} s)",
            phase.rate(),
            ms(phase.percentile(0.5)),
            ms(phase.percentile(0.99)),
            phase.ok,
            phase.elapsed.as_secs_f64(),
        );
        println!(
            "    {:<24} CPU per request: gateway {:.1} µs, e-service {:.1} µs, load generator \
             {:.1} µs; {}",
            "",
            phase.per_request(phase.gateway_cpu).as_secs_f64() * 1e6,
            phase.per_request(phase.upstream_cpu).as_secs_f64() * 1e6,
            phase.per_request(phase.load_cpu).as_secs_f64() * 1e6,
            busy(phase)
        );
    }
    let direct_rate = full[0].rate().max(1e-9);
    for (name, phase) in names.iter().zip(&full).skip(1) {
        let ratio = phase.rate() / direct_rate;
        let per = phase.per_request(phase.gateway_cpu).as_secs_f64().max(1e-9);
        println!(
            "  ratio, {name:<22} {:>6.1}% of the direct rate (target ≥ {:.0}%) → {}; by the \
             gateway's CPU time, one core passes {:.0}/s = {:.0}% of it",
            ratio * 100.0,
            TARGET_RATIO * 100.0,
            if ratio >= TARGET_RATIO {
                "met"
            } else {
                "NOT met"
            },
            1.0 / per,
            100.0 / per / direct_rate
        );
    }
    println!("  paced at {rate:.0} requests/s (half the slowest full-load rate):");
    for (name, phase) in names.iter().zip(&paced_phases) {
        println!(
            "    {name:<24} p50 {}  p90 {}  p99 {}  max {}  ({})",
            ms(phase.percentile(0.5)),
            ms(phase.percentile(0.9)),
            ms(phase.percentile(0.99)),
            ms(phase.percentile(1.0)),
            busy(phase)
        );
    }
    for (name, phase) in names.iter().zip(&paced_phases).skip(1) {
        let added = phase
            .percentile(0.5)
            .saturating_sub(paced_phases[0].percentile(0.5));
        println!(
            "  added, {name:<22} p50 +{}  p99 +{}  (target: p50 ≤ +{}) → {}",
            ms(added),
            ms(phase
                .percentile(0.99)
                .saturating_sub(paced_phases[0].percentile(0.99))),
            ms(TARGET_ADDED_P50),
            if added <= TARGET_ADDED_P50 {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    println!("  one request at a time (one connection):");
    for (name, phase) in names.iter().zip(&single) {
        let added = phase
            .percentile(0.5)
            .saturating_sub(single[0].percentile(0.5));
        println!(
            "    {name:<24} p50 {}  p99 {}  ({:.0} requests/s){}",
            ms(phase.percentile(0.5)),
            ms(phase.percentile(0.99)),
            phase.rate(),
            if phase.gateway_cpu.is_zero() {
                String::new()
            } else {
                format!(
                    "; added p50 +{} → {}",
                    ms(added),
                    if added <= TARGET_ADDED_P50 {
                        "met"
                    } else {
                        "NOT met"
                    }
                )
            }
        );
    }
    println!(
        "  references on {}: RSA-2048 PKCS#1 SHA-256 verifications (aws-lc-rs) {:.0}/s ({:.0}/s \
         of CPU time, {:.1} µs each); the verifier alone (voucher_verifier::Verifier::verify, \
         keys cached) {:.0}/s ({:.0}/s of CPU time, {:.1} µs each)",
        describe(&gateway_cpus),
        reference.0,
        reference.1,
        1e6 / reference.1.max(1e-9),
        verifier.0,
        verifier.1,
        1e6 / verifier.1.max(1e-9)
    );
    let (verified_accepted, cached_accepted, hits) = accepted;
    let through_verified = warm[1].ok + full[1].ok + paced_phases[1].ok + single[1].ok;
    let through_cached = warm[2].ok + full[2].ok + paced_phases[2].ok + single[2].ok;
    let all: Vec<&Phase> = warm
        .iter()
        .chain(&full)
        .chain(&paced_phases)
        .chain(&single)
        .collect();
    let failures: usize = all.iter().map(|p| p.failed).sum();
    println!(
        "  accepted: {verified_accepted} by the verifying gateway ({through_verified} 200s), \
         {cached_accepted} by the other ({through_cached} 200s, {hits} from its cache); \
         {failures} failures"
    );
    for f in all.iter().flat_map(|p| p.failures.iter()).take(10) {
        println!("    failure: {f}");
    }
    if failures > 0 {
        return Err(format!("{failures} requests were not answered 200").into());
    }
    if verified_accepted != through_verified as u64 || cached_accepted != through_cached as u64 {
        return Err("the gateways' accepted counts are not their 200s".into());
    }
    Ok(())
}
