//! The load: a full-speed phase and a paced one, their latencies.

use super::*;

#[derive(Default)]
pub(crate) struct Phase {
    pub(crate) ok: usize,
    pub(crate) failed: usize,
    /// The first failures, as `status: body`.
    pub(crate) failures: Vec<String>,
    /// Latency of each 200, in microseconds.
    pub(crate) latencies: Vec<u32>,
    pub(crate) elapsed: Duration,
    /// The pre-signed requests ran out before the time did.
    pub(super) exhausted: bool,
    /// Largest delay of a paced request behind its schedule.
    pub(super) max_lag: Duration,
    /// Busy share of each CPU.
    pub(crate) cpu: Vec<(f64, f64)>,
    /// CPU time of the server's threads, and of SQLite's among them.
    pub(crate) server_cpu: Duration,
    pub(crate) sqlite_cpu: Duration,
    pub(super) writer_cpu: Duration,
    /// Group commits of voucher records during the phase.
    pub(super) commits: u64,
    /// Paced: the p99 latency of the requests of each second of the schedule.
    pub(super) p99_by_second: Vec<Duration>,
    /// Paced: how late the generator was at most in each second of the schedule, and the
    /// CPU time the hypervisor stole from all CPUs in it (a stall of the whole machine shows
    /// in both, one of the server alone in neither).
    pub(super) lag_by_second: Vec<Duration>,
    pub(super) steal_by_second: Vec<Duration>,
}

impl Phase {
    pub(crate) fn merge(&mut self, other: Phase) {
        self.ok += other.ok;
        self.failed += other.failed;
        for f in other.failures {
            if self.failures.len() < 10 {
                self.failures.push(f);
            }
        }
        self.latencies.extend(other.latencies);
        self.exhausted |= other.exhausted;
    }

    pub(crate) fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Vouchers per second of the server's CPU time.
    pub(super) fn cpu_rate(&self) -> f64 {
        self.ok as f64 / self.server_cpu.as_secs_f64().max(1e-9)
    }

    pub(crate) fn finish(
        &mut self,
        started: Instant,
        cpu: &[CpuTimes],
        threads: &std::collections::HashMap<u64, (String, u64)>,
    ) {
        self.elapsed = started.elapsed();
        self.cpu = cpu_busy(cpu, &cpu_times());
        let cpu = server_cpu(threads, &thread_cpu());
        (self.server_cpu, self.sqlite_cpu, self.writer_cpu) = (cpu.all, cpu.sqlite, cpu.writer);
        self.latencies.sort_unstable();
    }

    /// "CPU0 100% (stolen 0.0%), CPU1 35% (stolen 0.0%), server 99% of its CPU(s) (…)".
    pub(crate) fn describe_cpu(&self, server_cpus: &[usize]) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut parts: Vec<String> = self
            .cpu
            .iter()
            .enumerate()
            .map(|(i, (busy, steal))| {
                format!("CPU{i} {:.0}% (stolen {:.1}%)", busy * 100.0, steal * 100.0)
            })
            .collect();
        if !server_cpus.is_empty() {
            let busy: f64 = server_cpus
                .iter()
                .filter_map(|&c| self.cpu.get(c))
                .map(|(busy, steal)| busy - steal)
                .sum::<f64>();
            let server = self.server_cpu.as_secs_f64() / secs;
            parts.push(format!(
                "server {:.0}% of its CPU(s) (SQLite threads {:.0}%, group-commit writer {:.0}%), \
                 other processes {:.0}%",
                100.0 * server / server_cpus.len() as f64,
                100.0 * self.sqlite_cpu.as_secs_f64() / secs / server_cpus.len() as f64,
                100.0 * self.writer_cpu.as_secs_f64() / secs / server_cpus.len() as f64,
                100.0 * (busy - server).max(0.0) / server_cpus.len() as f64
            ));
        }
        parts.join(", ")
    }

    pub(crate) fn percentile(&self, p: f64) -> Duration {
        sorted_percentile(&self.latencies, p)
    }
}

/// The `p` percentile of latencies in microseconds, sorted.
pub(super) fn sorted_percentile(sorted: &[u32], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    Duration::from_micros(u64::from(sorted[i]))
}

/// The `p` percentile of latencies in microseconds (sorts them).
pub(super) fn percentile(latencies: &mut [u32], p: f64) -> Duration {
    latencies.sort_unstable();
    sorted_percentile(latencies, p)
}

pub(crate) fn client(connections: usize) -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .build()?)
}

/// `POST url` with a form body (a token request).
pub(crate) fn post_form(http: &reqwest::Client, url: &str, body: Bytes) -> reqwest::RequestBuilder {
    http.post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
}

/// One request: Ok(latency) for a 200 with a voucher, Err(what came back) otherwise.
pub(super) async fn one(
    http: &reqwest::Client,
    url: &str,
    body: Bytes,
) -> Result<Duration, String> {
    let started = Instant::now();
    let r = post_form(http, url, body)
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| format!("transport: {e}"))?;
    let elapsed = started.elapsed();
    if status == 200 && body.starts_with(b"{\"access_token\":\"") {
        Ok(elapsed)
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

pub(crate) fn record(phase: &mut Phase, result: Result<Duration, String>) {
    match result {
        Ok(latency) => {
            phase.ok += 1;
            phase
                .latencies
                .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
        }
        Err(e) => {
            phase.failed += 1;
            if phase.failures.len() < 10 {
                phase.failures.push(e);
            }
        }
    }
}

/// Closed loop: `connections` callers, each sending the next request as soon as its previous
/// one is answered, until `length` has passed or the requests run out.
pub(super) async fn full_load(
    url: String,
    requests: Arc<Vec<Bytes>>,
    next: Arc<AtomicUsize>,
    connections: usize,
    length: Duration,
) -> Result<Phase, Error> {
    let http = client(connections)?;
    let threads = thread_cpu();
    let cpu_before = cpu_times();
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (http, url, requests, next) =
            (http.clone(), url.clone(), requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut phase = Phase::default();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = requests.get(i) else {
                    phase.exhausted = true;
                    break;
                };
                record(&mut phase, one(&http, &url, body.clone()).await);
            }
            phase
        }));
    }
    let mut total = Phase::default();
    for t in tasks {
        total.merge(t.await?);
    }
    total.finish(started, &cpu_before, &threads);
    Ok(total)
}

/// Open loop: the requests sent at `rate` per second on a fixed schedule, whatever the answers
/// (at most `connections` in flight), for `length`.
pub(super) async fn paced_load(
    url: String,
    requests: Vec<Bytes>,
    rate: f64,
    connections: usize,
) -> Result<Phase, Error> {
    let http = client(connections)?;
    let slots = Arc::new(tokio::sync::Semaphore::new(connections));
    let threads = thread_cpu();
    let cpu_before = cpu_times();
    let started = Instant::now();
    let mut max_lag = Duration::ZERO;
    let per_second = (rate.max(1.0) as usize).max(1);
    let mut lag_by_second = Vec::new();
    let mut steal_by_second = Vec::new();
    let mut second_lag = Duration::ZERO;
    let mut second_cpu = cpu_times();
    let mut tasks = Vec::with_capacity(requests.len());
    for (i, body) in requests.into_iter().enumerate() {
        if i > 0 && i % per_second == 0 {
            let now_cpu = cpu_times();
            lag_by_second.push(std::mem::take(&mut second_lag));
            steal_by_second.push(stolen(&second_cpu, &now_cpu));
            second_cpu = now_cpu;
        }
        let at = started + Duration::from_secs_f64(i as f64 / rate);
        let now = Instant::now();
        if now < at {
            tokio::time::sleep_until(at.into()).await;
        } else {
            max_lag = max_lag.max(now - at);
            second_lag = second_lag.max(now - at);
        }
        let (http, url, slots) = (http.clone(), url.clone(), slots.clone());
        tasks.push(tokio::spawn(async move {
            // Waiting for a free connection counts in the latency.
            let queued = Instant::now();
            let _slot = slots.acquire_owned().await;
            one(&http, &url, body).await.map(|_| queued.elapsed())
        }));
    }
    lag_by_second.push(second_lag);
    steal_by_second.push(stolen(&second_cpu, &cpu_times()));
    let mut phase = Phase {
        lag_by_second,
        steal_by_second,
        ..Phase::default()
    };
    let mut second: Vec<u32> = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let result = t.await?;
        if let Ok(latency) = &result {
            second.push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
        }
        // The tail of each second of the schedule: a slow episode shows as such.
        if (i + 1) % per_second == 0 {
            phase.p99_by_second.push(percentile(&mut second, 0.99));
            second.clear();
        }
        record(&mut phase, result);
    }
    phase.finish(started, &cpu_before, &threads);
    phase.max_lag = max_lag;
    Ok(phase)
}
