//! Tokens verified once and kept by their exact text until they expire, so that a token sent
//! again is not verified again (an RSA verification costs tens of microseconds). Only what a
//! token's verdict draws from its text and the time may be kept: the caller checks at each use
//! what can change meanwhile (a key taken out of the ring, a session ended).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// At most `max` tokens, each kept with what its verification gave (`T`) until its expiry:
/// when full, the expired ones go (at most once a second), else any one.
pub struct VerifiedCache<T> {
    max: usize,
    inner: Mutex<Inner<T>>,
}

struct Inner<T> {
    /// By the token's last [`KEY_BYTES`] characters (its signature's: as random as the
    /// signature, and hashed in a few nanoseconds where the whole token takes a microsecond),
    /// with the whole token compared on a hit.
    map: HashMap<Box<[u8]>, Kept<T>>,
    swept_at: i64,
}

struct Kept<T> {
    token: Box<str>,
    value: Arc<T>,
    /// The first second (Unix time) at which the token no longer passes.
    dies_at: i64,
}

/// How much of a token's end keys the cache.
pub const KEY_BYTES: usize = 32;

fn cache_key(token: &str) -> &[u8] {
    let bytes = token.as_bytes();
    &bytes[bytes.len().saturating_sub(KEY_BYTES)..]
}

impl<T> VerifiedCache<T> {
    /// A cache of at most `max` tokens (0: off, nothing kept).
    pub fn new(max: usize) -> Self {
        Self {
            max,
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                swept_at: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What `token` was verified as, if it is kept and `now` (Unix seconds) is before its
    /// expiry; an expired entry is dropped.
    pub fn get(&self, token: &str, now: i64) -> Option<Arc<T>> {
        if self.max == 0 {
            return None;
        }
        let key = cache_key(token);
        let mut inner = self.lock();
        let fresh = match inner.map.get(key) {
            Some(kept) if *kept.token == *token => (now < kept.dies_at, kept.value.clone()),
            _ => return None,
        };
        match fresh {
            (true, value) => Some(value),
            (false, _) => {
                inner.map.remove(key);
                None
            }
        }
    }

    /// Keeps `token`, verified as `value`, until `dies_at` (the first second at which it no
    /// longer passes). `now` is the time of the verification.
    pub fn insert(&self, token: &str, value: Arc<T>, dies_at: i64, now: i64) {
        if self.max == 0 || dies_at <= now {
            return;
        }
        let mut inner = self.lock();
        if inner.map.len() >= self.max {
            if inner.swept_at != now {
                inner.swept_at = now;
                inner.map.retain(|_, kept| now < kept.dies_at);
            }
            if inner.map.len() >= self.max
                && let Some(any) = inner.map.keys().next().cloned()
            {
                inner.map.remove(&any);
            }
        }
        inner.map.insert(
            cache_key(token).into(),
            Kept {
                token: token.into(),
                value,
                dies_at,
            },
        );
    }

    /// How many tokens are kept.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no token is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_until_they_expire_and_the_cache_is_bounded() {
        let cache = VerifiedCache::new(2);
        cache.insert("a", Arc::new(1), 105, 50);
        assert_eq!(cache.get("a", 104).as_deref(), Some(&1));
        assert!(cache.get("a", 105).is_none(), "expired");
        assert!(cache.get("a", 50).is_none(), "removed once expired");
        cache.insert("a", Arc::new(1), 100, 50);
        cache.insert("b", Arc::new(2), 100, 50);
        cache.insert("c", Arc::new(3), 100, 51);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("c", 60).as_deref(), Some(&3));
        // When full, the expired entries go first.
        let cache = VerifiedCache::new(2);
        cache.insert("old", Arc::new(1), 10, 5);
        cache.insert("new", Arc::new(2), 100, 5);
        cache.insert("newer", Arc::new(3), 100, 20);
        assert!(cache.get("new", 20).is_some() && cache.get("newer", 20).is_some());
        // Already expired: not kept.
        cache.insert("dead", Arc::new(4), 20, 20);
        assert!(cache.get("dead", 19).is_none());
        // The same end, another token: a miss, never the other's value.
        let cache = VerifiedCache::new(10);
        let end = "x".repeat(KEY_BYTES);
        cache.insert(&format!("one.{end}"), Arc::new(1), 100, 5);
        assert!(cache.get(&format!("two.{end}"), 5).is_none());
        assert_eq!(cache.get(&format!("one.{end}"), 5).as_deref(), Some(&1));
        // Off.
        let off = VerifiedCache::new(0);
        off.insert("a", Arc::new(1), 100, 5);
        assert!(off.get("a", 5).is_none());
        assert!(off.is_empty());
    }
}
