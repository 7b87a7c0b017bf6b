//! The cores: which ones this process may use, pinning threads to them, their busy and stolen time.

use super::*;

/// The CPUs this process may run on.
#[allow(unsafe_code)]
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `set` is a plain bitset the call fills in; its size is passed along.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Pins the calling thread (and the threads it starts from now on) to `cpus`.
#[allow(unsafe_code)]
pub(crate) fn pin(cpus: &[usize]) -> bool {
    if cpus.is_empty() {
        return false;
    }
    // SAFETY: `set` is a plain bitset built here; its size is passed along; pid 0 is this
    // thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Where each part runs: the server's runtime (and every thread it starts: SQLite's connection
/// threads too) on the first `server_threads` CPUs, the load generator on the remaining ones.
pub(crate) struct Placement {
    pub(crate) server: Vec<usize>,
    pub(crate) load: Vec<usize>,
}

impl Placement {
    pub(crate) fn new(server_threads: usize) -> Placement {
        let cpus = allowed_cpus();
        if cpus.len() > server_threads {
            Placement {
                server: cpus[..server_threads].to_vec(),
                load: cpus[server_threads..].to_vec(),
            }
        } else {
            Placement {
                server: Vec::new(),
                load: Vec::new(),
            }
        }
    }

    pub(crate) fn describe(cpus: &[usize]) -> String {
        if cpus.is_empty() {
            "not pinned".into()
        } else {
            let list: Vec<String> = cpus.iter().map(ToString::to_string).collect();
            format!("CPU {}", list.join(","))
        }
    }
}

/// Jiffies of one CPU (`/proc/stat`).
#[derive(Clone, Copy)]
pub(crate) struct CpuTimes {
    /// Not idle: this machine's work, and the time the hypervisor gave to others (steal).
    pub(super) busy: u64,
    pub(super) steal: u64,
    pub(super) total: u64,
}

/// The jiffies of each CPU.
pub(crate) fn cpu_times() -> Vec<CpuTimes> {
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
            CpuTimes {
                busy: total - idle,
                steal: v.get(7).copied().unwrap_or(0),
                total,
            }
        })
        .collect()
}

/// The busy share of each CPU between two readings of [`cpu_times`], and the share stolen by
/// the hypervisor (a virtual CPU that did not run: everything on it waited).
pub(super) fn cpu_busy(before: &[CpuTimes], after: &[CpuTimes]) -> Vec<(f64, f64)> {
    before
        .iter()
        .zip(after)
        .map(|(b, a)| {
            let total = a.total.saturating_sub(b.total).max(1) as f64;
            (
                a.busy.saturating_sub(b.busy) as f64 / total,
                a.steal.saturating_sub(b.steal) as f64 / total,
            )
        })
        .collect()
}

/// The CPU time stolen by the hypervisor from all CPUs between two readings of [`cpu_times`]
/// (jiffies of 1/`USER_HZ` = 10 ms as `/proc/stat` counts them).
pub(super) fn stolen(before: &[CpuTimes], after: &[CpuTimes]) -> Duration {
    let jiffies: u64 = before
        .iter()
        .zip(after)
        .map(|(b, a)| a.steal.saturating_sub(b.steal))
        .sum();
    Duration::from_millis(jiffies * 10)
}

/// The server's threads: its runtime's (and any they start), SQLite's connections and the
/// group-commit writers.
pub(super) fn is_server_thread(name: &str) -> bool {
    name.starts_with("server")
        || name.starts_with("sqlx-sqlite")
        || name.starts_with("group-commit")
}

/// CPU time of each thread of this process so far (ns, `/proc/self/task/*/schedstat`), by
/// thread id, with the thread's name.
pub(crate) fn thread_cpu() -> std::collections::HashMap<u64, (String, u64)> {
    let mut out = std::collections::HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u64>().ok())
        else {
            continue;
        };
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let ns = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        out.insert(tid, (name.trim().to_string(), ns));
    }
    out
}

/// CPU time the server's threads used between two readings of [`thread_cpu`]: all of them,
/// and among them sqlx's SQLite connection threads and the group-commit writers.
pub(super) fn server_cpu(
    before: &std::collections::HashMap<u64, (String, u64)>,
    after: &std::collections::HashMap<u64, (String, u64)>,
) -> ServerCpu {
    let mut cpu = ServerCpu::default();
    for (tid, (name, ns)) in after {
        if !is_server_thread(name) {
            continue;
        }
        let used = Duration::from_nanos(ns.saturating_sub(before.get(tid).map_or(0, |(_, b)| *b)));
        cpu.all += used;
        if name.starts_with("sqlx-sqlite") {
            cpu.sqlite += used;
        }
        if name.starts_with("group-commit") {
            cpu.writer += used;
        }
    }
    cpu
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ServerCpu {
    pub(super) all: Duration,
    pub(super) sqlite: Duration,
    pub(super) writer: Duration,
}

/// CPU time of the calling thread so far.
pub(crate) fn this_thread_cpu() -> Duration {
    Duration::from_nanos(
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0),
    )
}

/// Runs `f` on a current-thread runtime in a new thread pinned to `cpus`.
pub(crate) fn on_cpus<T, F>(
    name: &str,
    cpus: &[usize],
    f: impl FnOnce() -> F + Send + 'static,
) -> Result<T, Error>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, Error>>,
{
    let cpus = cpus.to_vec();
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            pin(&cpus);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .thread_name("load")
                .enable_all()
                .build()?;
            runtime.block_on(f())
        })?;
    thread.join().map_err(|_| "a load thread panicked")?
}
