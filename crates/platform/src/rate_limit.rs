//! Token-bucket rate limits by key (a client address, an institution), counted in this process:
//! `limit` requests per `interval`, replenished continuously.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SHARDS: usize = 16;
/// Buckets kept per shard before the full ones are dropped.
const PRUNE_AT: usize = 16_384;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What a request learns of its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Requests left now.
    pub remaining: u32,
    pub interval_ms: u64,
}

pub struct RateLimiter {
    limit: u32,
    interval: Duration,
    shards: Vec<Mutex<HashMap<String, Bucket>>>,
}

impl RateLimiter {
    pub fn new(limit: u32, interval: Duration) -> Self {
        Self {
            limit: limit.max(1),
            interval: interval.max(Duration::from_millis(1)),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        let rate = f64::from(self.limit) / self.interval.as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(f64::from(self.limit));
        bucket.at = now;
    }

    /// Takes one request from `key`'s bucket, if there is one left.
    pub fn check(&self, key: &str) -> Decision {
        let now = Instant::now();
        let shard = shard_of(key);
        let mut decision = Decision {
            allowed: true,
            limit: self.limit,
            remaining: self.limit.saturating_sub(1),
            interval_ms: u64::try_from(self.interval.as_millis()).unwrap_or(u64::MAX),
        };
        let Some(shard) = self.shards.get(shard) else {
            return decision;
        };
        let mut map = match shard.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= PRUNE_AT {
            let full = f64::from(self.limit);
            map.retain(|_, b| {
                self.refill(b, now);
                b.tokens < full
            });
        }
        let bucket = map.entry(key.to_string()).or_insert(Bucket {
            tokens: f64::from(self.limit),
            at: now,
        });
        self.refill(bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
        } else {
            decision.allowed = false;
        }
        decision.remaining = bucket.tokens.floor() as u32;
        decision
    }
}

fn shard_of(key: &str) -> usize {
    // FNV-1a: cheap and good enough to spread keys over the shards.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % SHARDS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_runs_out_and_others_are_apart() {
        let limiter = RateLimiter::new(3, Duration::from_secs(3600));
        let d: Vec<Decision> = (0..4).map(|_| limiter.check("a")).collect();
        assert_eq!(
            d.iter().map(|d| d.allowed).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        assert_eq!(d[0].remaining, 2);
        assert_eq!(d[2].remaining, 0);
        assert!(limiter.check("b").allowed);
        assert_eq!(d[0].interval_ms, 3_600_000);
    }

    #[test]
    fn tokens_come_back_with_time() {
        let limiter = RateLimiter::new(2, Duration::from_millis(20));
        assert!(limiter.check("a").allowed);
        assert!(limiter.check("a").allowed);
        assert!(!limiter.check("a").allowed);
        std::thread::sleep(Duration::from_millis(30));
        assert!(limiter.check("a").allowed);
    }
}
