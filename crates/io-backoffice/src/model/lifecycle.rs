//! The lifecycle and publication state machines.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    Draft,
    Submitted,
    Approved,
    Rejected,
    Deleted,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 5] = [
        Lifecycle::Draft,
        Lifecycle::Submitted,
        Lifecycle::Approved,
        Lifecycle::Rejected,
        Lifecycle::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Draft => "draft",
            Lifecycle::Submitted => "submitted",
            Lifecycle::Approved => "approved",
            Lifecycle::Rejected => "rejected",
            Lifecycle::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Edit,
    Submit,
    Abort,
    Approve,
    Reject,
    Delete,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Edit,
        Action::Submit,
        Action::Abort,
        Action::Approve,
        Action::Reject,
        Action::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Abort => "abort",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Delete => "delete",
        }
    }
}

/// An action the current state does not allow (HTTP 409), with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// The lifecycle: exactly one transition matches, otherwise a refusal that says why.
pub fn next(from: Lifecycle, action: Action) -> Result<Lifecycle, Refusal> {
    use Action::*;
    use Lifecycle::*;
    let to = match (action, from) {
        (Edit, Draft | Rejected | Approved) => Draft,
        (Submit, Draft) => Submitted,
        (Abort, Submitted) => Draft,
        (Approve, Submitted) => Approved,
        (Reject, Submitted) => Rejected,
        (Delete, Draft | Rejected | Approved) => Deleted,
        _ => {
            let why = match (action, from) {
                (_, Deleted) => "the service has been deleted".to_string(),
                (Edit | Delete, Submitted) => {
                    "the service is under review: withdraw it from review first".to_string()
                }
                (Submit, Submitted) => "the service is already under review".to_string(),
                (Submit, Rejected) => {
                    "a rejected service must be changed before it is submitted again".to_string()
                }
                (Submit, Approved) => {
                    "the service is approved: change it before submitting it again".to_string()
                }
                (a, f) => format!("cannot {} a service that is {}", a.as_str(), f.as_str()),
            };
            return Err(Refusal(why));
        }
    };
    Ok(to)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Publication {
    Published,
    Unpublished,
}

impl Publication {
    pub fn as_str(self) -> &'static str {
        match self {
            Publication::Published => "published",
            Publication::Unpublished => "unpublished",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "published" => Some(Publication::Published),
            "unpublished" => Some(Publication::Unpublished),
            _ => None,
        }
    }
}

/// What the publication rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicationState {
    pub lifecycle: Lifecycle,
    /// The version of the last approval, if any.
    pub approved_version: Option<i64>,
    pub publication: Option<Publication>,
    /// The approved version that is (or was last) published.
    pub published_version: Option<i64>,
}

/// `POST /release`: publishes the last approved version.
pub fn release(s: &PublicationState) -> Result<(), Refusal> {
    if s.lifecycle == Lifecycle::Deleted {
        return Err(Refusal("the service has been deleted".into()));
    }
    let Some(approved) = s.approved_version else {
        return Err(Refusal(
            "the service has never been approved: submit it for review first".into(),
        ));
    };
    if s.publication == Some(Publication::Published) && s.published_version == Some(approved) {
        return Err(Refusal(
            "the last approved version is already published".into(),
        ));
    }
    Ok(())
}

/// `DELETE /release`: takes the service off the app.
pub fn unpublish(s: &PublicationState) -> Result<(), Refusal> {
    match s.publication {
        Some(Publication::Published) => Ok(()),
        _ => Err(Refusal("the service is not published".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_allows_exactly_the_table() {
        use Action::*;
        use Lifecycle::*;
        let allowed = [
            (Edit, Draft, Draft),
            (Edit, Rejected, Draft),
            (Edit, Approved, Draft),
            (Submit, Draft, Submitted),
            (Abort, Submitted, Draft),
            (Approve, Submitted, Approved),
            (Reject, Submitted, Rejected),
            (Delete, Draft, Deleted),
            (Delete, Rejected, Deleted),
            (Delete, Approved, Deleted),
        ];
        for action in Action::ALL {
            for from in Lifecycle::ALL {
                let expected = allowed
                    .iter()
                    .find(|(a, f, _)| *a == action && *f == from)
                    .map(|(_, _, to)| *to);
                match (next(from, action), expected) {
                    (Ok(to), Some(e)) => assert_eq!(to, e),
                    (Err(Refusal(why)), None) => assert!(!why.is_empty()),
                    (got, e) => panic!("{action:?} from {from:?}: {got:?}, expected {e:?}"),
                }
            }
        }
    }

    #[test]
    fn release_needs_an_approval_not_yet_published() {
        let mut s = PublicationState {
            lifecycle: Lifecycle::Draft,
            approved_version: None,
            publication: None,
            published_version: None,
        };
        assert!(release(&s).is_err());
        assert!(unpublish(&s).is_err());
        s.approved_version = Some(3);
        assert!(release(&s).is_ok());
        s.publication = Some(Publication::Published);
        s.published_version = Some(3);
        assert!(release(&s).is_err());
        assert!(unpublish(&s).is_ok());
        s.approved_version = Some(5);
        assert!(release(&s).is_ok());
        s.publication = Some(Publication::Unpublished);
        assert!(unpublish(&s).is_err());
        s.lifecycle = Lifecycle::Deleted;
        assert!(release(&s).is_err());
    }
}
