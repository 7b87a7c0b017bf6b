//! The DPoP proofs' `jti`s seen, each kept until its proof could no longer be accepted.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub(crate) struct Seen {
    until: Mutex<HashMap<String, i64>>,
}

impl Seen {
    /// Records `jti` until `keep_until` (seconds); false when it was already there.
    pub(crate) fn first_time(&self, jti: &str, keep_until: i64, now: i64) -> bool {
        let mut map = match self.until.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() > 10_000 {
            map.retain(|_, until| *until > now);
        }
        match map.get(jti) {
            Some(until) if *until > now => false,
            _ => {
                map.insert(jti.to_string(), keep_until);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_refused_the_second_time_until_it_is_forgotten() {
        let seen = Seen::default();
        assert!(seen.first_time("a", 100, 10));
        assert!(!seen.first_time("a", 100, 50));
        assert!(seen.first_time("b", 100, 50));
        // After its time, the proof is refused for its age anyway: the jti may go.
        assert!(seen.first_time("a", 200, 100));
    }
}
