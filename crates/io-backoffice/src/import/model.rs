//! The rules of the import from the legacy Developer Portal, without IO: how a legacy state
//! maps to the back-office's, when a delegate can be selected, how long to wait before a
//! retry, which failures are worth retrying.

use serde::Serialize;

use crate::model::{Lifecycle, Publication};

/// The state of a service on the legacy portal, as its migration API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Visible in the app now.
    Visible,
    /// Was visible once, hidden now.
    VisibleOnce,
    /// Never reviewed into the app.
    NeverVisible,
}

impl Visibility {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "visible" => Some(Self::Visible),
            "visible_once" => Some(Self::VisibleOnce),
            "never_visible" => Some(Self::NeverVisible),
            _ => None,
        }
    }

    /// visible → approved and published; visible once → approved and unpublished; never
    /// visible → a draft.
    pub fn mapped(self) -> (Lifecycle, Option<Publication>) {
        match self {
            Self::Visible => (Lifecycle::Approved, Some(Publication::Published)),
            Self::VisibleOnce => (Lifecycle::Approved, Some(Publication::Unpublished)),
            Self::NeverVisible => (Lifecycle::Draft, None),
        }
    }
}

/// An import item's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    Initial,
    Processing,
    Completed,
    Failed,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "initial" => Some(Self::Initial),
            "processing" => Some(Self::Processing),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A delegate's items by status (the wire shape of the status API).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub initial: i64,
    pub processing: i64,
    pub failed: i64,
    pub completed: i64,
}

/// What the page says of a delegate's import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportState {
    /// Nothing asked yet, or new services since the last import.
    ToImport,
    Running,
    Completed,
    Failed,
}

impl ImportState {
    /// The message key of the label ("Da importare", "In corso", "Completato", "Fallito").
    pub fn label_key(self) -> &'static str {
        match self {
            Self::ToImport => "io.import.state.to_import",
            Self::Running => "io.import.state.running",
            Self::Completed => "io.import.state.completed",
            Self::Failed => "io.import.state.failed",
        }
    }

    /// The badge's classes.
    pub fn badge(self) -> &'static str {
        match self {
            Self::ToImport => "badge",
            Self::Running => "badge badge-warning",
            Self::Completed => "badge badge-success",
            Self::Failed => "badge badge-danger",
        }
    }
}

impl Counts {
    pub fn total(&self) -> i64 {
        self.initial + self.processing + self.failed + self.completed
    }

    pub fn running(&self) -> bool {
        self.initial + self.processing > 0
    }

    /// The state of an import with these counts: running while anything waits, failed when
    /// something failed, completed when everything arrived.
    pub fn state(&self) -> ImportState {
        if self.running() {
            ImportState::Running
        } else if self.failed > 0 {
            ImportState::Failed
        } else if self.completed > 0 {
            ImportState::Completed
        } else {
            ImportState::ToImport
        }
    }
}

/// The state shown for a delegate in the window, from the portal's count of services still
/// there (`pending`) and the counts of this institution's import of that delegate, if any.
pub fn delegate_state(pending: i64, counts: Option<&Counts>) -> ImportState {
    match counts {
        Some(c) if c.running() => ImportState::Running,
        Some(c) if c.failed > 0 => ImportState::Failed,
        _ if pending > 0 => ImportState::ToImport,
        Some(c) if c.completed > 0 => ImportState::Completed,
        _ => ImportState::ToImport,
    }
}

/// Only delegates with something left to import can be selected: services still on the portal
/// (never imported, failed, or created after a completed import) and no import running.
pub fn selectable(pending: i64, counts: Option<&Counts>) -> bool {
    pending > 0 && !counts.is_some_and(Counts::running)
}

/// The wait before retry number `attempt` (1 for the first retry): doubled each time, from
/// `base_ms` up to `max_ms`.
pub fn backoff_ms(attempt: u32, base_ms: u64, max_ms: u64) -> u64 {
    let factor = 1_u64
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u64::MAX);
    base_ms.saturating_mul(factor).min(max_ms)
}

/// Why an item's step did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// Worth another try later: the portal did not answer, timed out, or failed (5xx, 429).
    Transient(String),
    /// Trying again gives the same answer: the item fails now.
    Permanent(String),
    /// The portal does not know it (any more): permanent too.
    NotFound(String),
}

impl StepError {
    pub fn message(&self) -> &str {
        match self {
            Self::Transient(m) | Self::Permanent(m) | Self::NotFound(m) => m,
        }
    }
}

/// Classifies an HTTP status of the portal's answer that is not a success.
pub fn classify_status(status: u16, detail: &str) -> StepError {
    let text = if detail.is_empty() {
        format!("the Developer Portal answered {status}")
    } else {
        format!("the Developer Portal answered {status}: {detail}")
    };
    match status {
        408 | 425 | 429 | 500..=599 => StepError::Transient(text),
        404 => StepError::NotFound(text),
        _ => StepError::Permanent(text),
    }
}

/// A key as the legacy portal hands it over: letters and digits, 16 to 128 of them. Anything
/// else is refused rather than stored as a key nobody could type.
pub fn key_shape(key: &str) -> bool {
    (16..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The `source` recorded on a service copied from the portal: the same source service always
/// gives the same value, which is how a retry recognises its own earlier copy.
pub fn source_of(service_id: &str) -> String {
    format!("devportal:{service_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_states_map_to_lifecycle_and_publication() {
        assert_eq!(
            Visibility::parse("visible").unwrap().mapped(),
            (Lifecycle::Approved, Some(Publication::Published))
        );
        assert_eq!(
            Visibility::parse("visible_once").unwrap().mapped(),
            (Lifecycle::Approved, Some(Publication::Unpublished))
        );
        assert_eq!(
            Visibility::parse("never_visible").unwrap().mapped(),
            (Lifecycle::Draft, None)
        );
        assert_eq!(Visibility::parse("VISIBLE"), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff_ms(1, 100, 5_000), 100);
        assert_eq!(backoff_ms(2, 100, 5_000), 200);
        assert_eq!(backoff_ms(4, 100, 5_000), 800);
        assert_eq!(backoff_ms(10, 100, 5_000), 5_000);
        assert_eq!(backoff_ms(200, 100, 5_000), 5_000);
        assert_eq!(backoff_ms(0, 100, 5_000), 100);
    }

    #[test]
    fn server_errors_and_throttling_are_retried_client_errors_are_not() {
        for s in [500, 502, 503, 504, 429, 408] {
            assert!(
                matches!(classify_status(s, ""), StepError::Transient(_)),
                "{s}"
            );
        }
        for s in [400, 401, 403, 409] {
            assert!(
                matches!(classify_status(s, "x"), StepError::Permanent(_)),
                "{s}"
            );
        }
        assert!(matches!(classify_status(404, ""), StepError::NotFound(_)));
    }

    #[test]
    fn states_and_selection() {
        let running = Counts {
            initial: 1,
            processing: 2,
            failed: 0,
            completed: 3,
        };
        let failed = Counts {
            failed: 1,
            completed: 2,
            ..Default::default()
        };
        let done = Counts {
            completed: 4,
            ..Default::default()
        };
        assert_eq!(running.state(), ImportState::Running);
        assert_eq!(failed.state(), ImportState::Failed);
        assert_eq!(done.state(), ImportState::Completed);
        assert_eq!(Counts::default().state(), ImportState::ToImport);

        // Never imported: selectable when the portal has something.
        assert!(selectable(2, None));
        assert!(!selectable(0, None));
        // Running: never, even with new services.
        assert!(!selectable(5, Some(&running)));
        // Failed items are still on the portal, so they count as pending.
        assert!(selectable(1, Some(&failed)));
        assert_eq!(delegate_state(1, Some(&failed)), ImportState::Failed);
        // Completed, then the delegate made a new service: selectable again.
        assert!(!selectable(0, Some(&done)));
        assert_eq!(delegate_state(0, Some(&done)), ImportState::Completed);
        assert!(selectable(1, Some(&done)));
        assert_eq!(delegate_state(1, Some(&done)), ImportState::ToImport);
    }

    #[test]
    fn keys_are_letters_and_digits() {
        assert!(key_shape("0123456789abcdef0123456789abcdef"));
        assert!(!key_shape("short"));
        assert!(!key_shape("0123456789abcdef 0123456789abcdef"));
        assert!(!key_shape(&"a".repeat(129)));
    }
}
