//! Agreements ("richieste di fruizione"): a consumer's request to use an e-service version,
//! and their state machine.
//!
//! Who may act is the caller's decision, expressed as a [`Side`]: the consumer creates,
//! submits, archives, deletes and upgrades; the producer approves and rejects; either side
//! suspends and reactivates with its own flag. An institution that consumes its own e-service
//! is both sides: it passes the side it acts as (`Side::Consumer` through the consumer's
//! routes, `Side::Producer` through the producer's), so suspending as the producer and
//! reactivating as the consumer leaves the agreement SUSPENDED, as for two institutions.

use serde::{Deserialize, Serialize};

use super::descriptor::{AgreementApprovalPolicy, DescriptorState};
use super::read::check_length;
use super::{FieldError, Refusal, RejectionReason, Side};

pub const CONSUMER_NOTES_MAX: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgreementState {
    Draft,
    Pending,
    Active,
    Suspended,
    Archived,
    Rejected,
    MissingCertifiedAttributes,
}

impl AgreementState {
    pub const ALL: [AgreementState; 7] = [
        AgreementState::Draft,
        AgreementState::Pending,
        AgreementState::Active,
        AgreementState::Suspended,
        AgreementState::Archived,
        AgreementState::Rejected,
        AgreementState::MissingCertifiedAttributes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgreementState::Draft => "DRAFT",
            AgreementState::Pending => "PENDING",
            AgreementState::Active => "ACTIVE",
            AgreementState::Suspended => "SUSPENDED",
            AgreementState::Archived => "ARCHIVED",
            AgreementState::Rejected => "REJECTED",
            AgreementState::MissingCertifiedAttributes => "MISSING_CERTIFIED_ATTRIBUTES",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// An agreement in one of these states keeps a newer agreement for the same consumer and
    /// e-service from being created.
    pub fn blocks_new_agreement(self) -> bool {
        matches!(
            self,
            AgreementState::Draft
                | AgreementState::Pending
                | AgreementState::Active
                | AgreementState::Suspended
        )
    }

    /// An agreement in one of these states keeps its descriptor DEPRECATED (not ARCHIVED)
    /// when a newer version is published.
    pub fn keeps_descriptor_alive(self) -> bool {
        matches!(
            self,
            AgreementState::Active | AgreementState::Suspended | AgreementState::Pending
        )
    }
}

/// What the rules look at in an agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementFacts {
    pub state: AgreementState,
    pub suspended_by_consumer: bool,
    pub suspended_by_producer: bool,
    /// Set by the platform while the consumer's attributes do not hold.
    pub suspended_by_platform: bool,
    pub consumer_id: String,
    pub producer_id: String,
}

impl AgreementFacts {
    /// The institution consumes its own e-service.
    pub fn producer_is_consumer(&self) -> bool {
        self.consumer_id == self.producer_id
    }

    fn unchanged(&self) -> Change {
        Change {
            state: self.state,
            suspended_by_consumer: self.suspended_by_consumer,
            suspended_by_producer: self.suspended_by_producer,
            suspended_by_platform: self.suspended_by_platform,
            rejection_reason: None,
        }
    }

    fn with_state(&self, state: AgreementState) -> Change {
        Change {
            state,
            ..self.unchanged()
        }
    }
}

/// An agreement's new state and flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub state: AgreementState,
    pub suspended_by_consumer: bool,
    pub suspended_by_producer: bool,
    pub suspended_by_platform: bool,
    /// Set by [`reject`] only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
}

/// Which side `caller` is on; the consumer first (see the module's documentation).
pub fn side_of(caller: &str, facts: &AgreementFacts) -> Option<Side> {
    super::side_of(caller, &facts.consumer_id, &facts.producer_id)
}

/// `existing`: the states of the consumer's agreements on the same e-service (any version);
/// `descriptor`: the state of the version asked for (the caller chooses the latest
/// PUBLISHED one). The new agreement is a DRAFT.
pub fn can_create(
    existing: &[AgreementState],
    descriptor: DescriptorState,
) -> Result<Change, Refusal> {
    if let Some(s) = existing.iter().find(|s| s.blocks_new_agreement()) {
        return Err(Refusal::new(
            "agreement_already_exists",
            format!(
                "the institution already has a {} agreement for this e-service",
                s.as_str()
            ),
        ));
    }
    if descriptor != DescriptorState::Published {
        return Err(Refusal::new(
            "descriptor_not_published",
            format!(
                "agreements are made only on a published version (this one is {})",
                descriptor.as_str()
            ),
        ));
    }
    Ok(Change {
        state: AgreementState::Draft,
        suspended_by_consumer: false,
        suspended_by_producer: false,
        suspended_by_platform: false,
        rejection_reason: None,
    })
}

/// DRAFT → ACTIVE when the institution consumes its own e-service or the policy is
/// AUTOMATIC, else PENDING (the producer decides). `producer_is_consumer` is
/// [`AgreementFacts::producer_is_consumer`] unless the caller knows better.
pub fn submit(
    facts: &AgreementFacts,
    policy: AgreementApprovalPolicy,
    producer_is_consumer: bool,
) -> Result<Change, Refusal> {
    if facts.state != AgreementState::Draft {
        return Err(refused_state(
            "agreement_not_draft",
            "only a draft agreement can be submitted",
            facts.state,
        ));
    }
    let state = if producer_is_consumer || policy == AgreementApprovalPolicy::Automatic {
        AgreementState::Active
    } else {
        AgreementState::Pending
    };
    Ok(facts.with_state(state))
}

/// The producer approves: PENDING → ACTIVE.
pub fn approve(facts: &AgreementFacts) -> Result<Change, Refusal> {
    if facts.state != AgreementState::Pending {
        return Err(refused_state(
            "agreement_not_pending",
            "only a pending agreement can be approved",
            facts.state,
        ));
    }
    Ok(facts.with_state(AgreementState::Active))
}

/// The producer rejects, with a reason: PENDING → REJECTED.
pub fn reject(facts: &AgreementFacts, reason: RejectionReason) -> Result<Change, Refusal> {
    if facts.state != AgreementState::Pending {
        return Err(refused_state(
            "agreement_not_pending",
            "only a pending agreement can be rejected",
            facts.state,
        ));
    }
    Ok(Change {
        rejection_reason: Some(reason.into_string()),
        ..facts.with_state(AgreementState::Rejected)
    })
}

/// `side` suspends: ACTIVE or SUSPENDED (by the other side) → SUSPENDED with its flag set.
pub fn suspend(facts: &AgreementFacts, side: Side) -> Result<Change, Refusal> {
    require_in_use(facts, "suspended")?;
    let mut change = facts.with_state(AgreementState::Suspended);
    let flag = match side {
        Side::Consumer => &mut change.suspended_by_consumer,
        Side::Producer => &mut change.suspended_by_producer,
    };
    if *flag {
        return Err(Refusal::new(
            "agreement_already_suspended",
            format!("the {} has already suspended the agreement", side.as_str()),
        ));
    }
    *flag = true;
    Ok(change)
}

/// `side` reactivates: clears its flag; ACTIVE only when the other side's flag is not set
/// either, else it stays SUSPENDED. A SUSPENDED agreement with no flag at all (data from
/// before the flags) is reactivated by either side.
pub fn activate(facts: &AgreementFacts, side: Side) -> Result<Change, Refusal> {
    if facts.state != AgreementState::Suspended {
        return Err(refused_state(
            "agreement_not_suspended",
            "only a suspended agreement can be reactivated",
            facts.state,
        ));
    }
    let mut change = facts.unchanged();
    let (own, other) = match side {
        Side::Consumer => (
            &mut change.suspended_by_consumer,
            facts.suspended_by_producer,
        ),
        Side::Producer => (
            &mut change.suspended_by_producer,
            facts.suspended_by_consumer,
        ),
    };
    if !*own && other {
        let other_side = match side {
            Side::Consumer => Side::Producer,
            Side::Producer => Side::Consumer,
        };
        return Err(Refusal::new(
            "agreement_suspended_by_other_side",
            format!(
                "the agreement was suspended by the {}, not by the {}: only the {} can reactivate it",
                other_side.as_str(),
                side.as_str(),
                other_side.as_str()
            ),
        ));
    }
    if !*own && facts.suspended_by_platform {
        return Err(Refusal::new(
            "agreement_suspended_by_platform",
            "the platform suspended the agreement because the consumer's attributes no longer \
             hold: it comes back by itself when they do",
        ));
    }
    *own = false;
    if !other && !facts.suspended_by_platform {
        change.state = AgreementState::Active;
    }
    Ok(change)
}

/// The consumer archives: ACTIVE or SUSPENDED → ARCHIVED (the flags stay as a record).
pub fn archive(facts: &AgreementFacts) -> Result<Change, Refusal> {
    require_in_use(facts, "archived")?;
    Ok(facts.with_state(AgreementState::Archived))
}

/// The consumer deletes an agreement that never took effect: DRAFT, PENDING or
/// MISSING_CERTIFIED_ATTRIBUTES.
pub fn delete_allowed(facts: &AgreementFacts) -> Result<(), Refusal> {
    match facts.state {
        AgreementState::Draft
        | AgreementState::Pending
        | AgreementState::MissingCertifiedAttributes => Ok(()),
        s => Err(refused_state(
            "agreement_not_deletable",
            "only a draft, pending or missing-certified-attributes agreement can be deleted",
            s,
        )),
    }
}

/// The outcome of an upgrade: the old agreement is archived, a new one on the newer version
/// takes its state and flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Upgrade {
    pub archived: Change,
    pub new: Change,
    /// The version the new agreement is on.
    pub version: u32,
}

/// The consumer moves an ACTIVE or SUSPENDED agreement to the newest PUBLISHED version of
/// the e-service, when it is newer than the current one.
pub fn upgrade(
    facts: &AgreementFacts,
    current_version: u32,
    newest_published_version: Option<u32>,
) -> Result<Upgrade, Refusal> {
    require_in_use(facts, "upgraded")?;
    match newest_published_version {
        Some(newest) if newest > current_version => Ok(Upgrade {
            archived: facts.with_state(AgreementState::Archived),
            new: facts.unchanged(),
            version: newest,
        }),
        _ => Err(Refusal::new(
            "no_newer_descriptor",
            format!("the agreement is already on the latest published version ({current_version})"),
        )),
    }
}

/// The consumer's optional notes to the producer, at most 1000 characters; blank is none.
pub fn consumer_notes(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw {
        None => Ok(None),
        Some(s) => check_length(s, 0, CONSUMER_NOTES_MAX)
            .map(|t| (!t.is_empty()).then_some(t))
            .map_err(|m| FieldError::new("consumerNotes", m)),
    }
}

fn require_in_use(facts: &AgreementFacts, verb: &str) -> Result<(), Refusal> {
    match facts.state {
        AgreementState::Active | AgreementState::Suspended => Ok(()),
        s => Err(refused_state(
            "agreement_not_active_or_suspended",
            &format!("only an active or suspended agreement can be {verb}"),
            s,
        )),
    }
}

fn refused_state(code: &'static str, what: &str, state: AgreementState) -> Refusal {
    Refusal::new(code, format!("{what} (this one is {})", state.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AgreementApprovalPolicy::*;
    use AgreementState::*;

    fn facts(state: AgreementState, by_consumer: bool, by_producer: bool) -> AgreementFacts {
        AgreementFacts {
            state,
            suspended_by_consumer: by_consumer,
            suspended_by_producer: by_producer,
            suspended_by_platform: false,
            consumer_id: "consumer".into(),
            producer_id: "producer".into(),
        }
    }

    fn at(state: AgreementState) -> AgreementFacts {
        facts(state, false, false)
    }

    fn change(state: AgreementState, by_consumer: bool, by_producer: bool) -> Change {
        Change {
            state,
            suspended_by_consumer: by_consumer,
            suspended_by_producer: by_producer,
            suspended_by_platform: false,
            rejection_reason: None,
        }
    }

    fn code<T: std::fmt::Debug>(r: Result<T, Refusal>) -> &'static str {
        r.unwrap_err().code
    }

    fn others(allowed: &[AgreementState]) -> impl Iterator<Item = AgreementState> + '_ {
        AgreementState::ALL
            .into_iter()
            .filter(move |s| !allowed.contains(s))
    }

    #[test]
    fn states_round_trip_in_upper_snake_case() {
        for s in AgreementState::ALL {
            assert_eq!(AgreementState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(
            MissingCertifiedAttributes.as_str(),
            "MISSING_CERTIFIED_ATTRIBUTES"
        );
        assert_eq!(AgreementState::parse("active"), None);
        let alive: Vec<_> = AgreementState::ALL
            .into_iter()
            .filter(|s| s.keeps_descriptor_alive())
            .collect();
        assert_eq!(alive, vec![Pending, Active, Suspended]);
    }

    #[test]
    fn one_live_agreement_per_consumer_and_eservice_on_a_published_version() {
        assert_eq!(
            can_create(&[], DescriptorState::Published).unwrap(),
            change(Draft, false, false)
        );
        assert!(
            can_create(
                &[Archived, Rejected, MissingCertifiedAttributes],
                DescriptorState::Published
            )
            .is_ok()
        );
        for s in [Draft, Pending, Active, Suspended] {
            assert_eq!(
                code(can_create(&[Archived, s], DescriptorState::Published)),
                "agreement_already_exists"
            );
        }
        for d in [
            DescriptorState::Draft,
            DescriptorState::Suspended,
            DescriptorState::Deprecated,
            DescriptorState::Archived,
        ] {
            assert_eq!(code(can_create(&[], d)), "descriptor_not_published");
        }
    }

    #[test]
    fn submit_activates_unless_the_producer_must_approve() {
        assert_eq!(submit(&at(Draft), Automatic, false).unwrap().state, Active);
        assert_eq!(submit(&at(Draft), Manual, false).unwrap().state, Pending);
        assert_eq!(submit(&at(Draft), Manual, true).unwrap().state, Active);
        assert_eq!(submit(&at(Draft), Automatic, true).unwrap().state, Active);
        for s in others(&[Draft]) {
            assert_eq!(
                code(submit(&at(s), Automatic, false)),
                "agreement_not_draft"
            );
        }
        let mut own = at(Draft);
        own.producer_id = own.consumer_id.clone();
        assert!(own.producer_is_consumer());
        assert!(!at(Draft).producer_is_consumer());
    }

    #[test]
    fn the_producer_decides_on_pending_agreements() {
        assert_eq!(approve(&at(Pending)).unwrap(), change(Active, false, false));
        let reason = RejectionReason::of_agreement("reason", " Finalità non pertinente ").unwrap();
        let rejected = reject(&at(Pending), reason.clone()).unwrap();
        assert_eq!(rejected.state, Rejected);
        assert_eq!(
            rejected.rejection_reason.as_deref(),
            Some("Finalità non pertinente")
        );
        assert_eq!(
            serde_json::to_value(&rejected).unwrap()["rejectionReason"],
            "Finalità non pertinente"
        );
        for s in others(&[Pending]) {
            assert_eq!(code(approve(&at(s))), "agreement_not_pending");
            assert_eq!(
                code(reject(&at(s), reason.clone())),
                "agreement_not_pending"
            );
        }
    }

    #[test]
    fn each_side_suspends_with_its_own_flag() {
        use Side::*;
        assert_eq!(
            suspend(&at(Active), Consumer).unwrap(),
            change(Suspended, true, false)
        );
        assert_eq!(
            suspend(&at(Active), Producer).unwrap(),
            change(Suspended, false, true)
        );
        assert_eq!(
            suspend(&facts(Suspended, true, false), Producer).unwrap(),
            change(Suspended, true, true)
        );
        assert_eq!(
            suspend(&facts(Suspended, false, true), Consumer).unwrap(),
            change(Suspended, true, true)
        );
        assert_eq!(
            code(suspend(&facts(Suspended, true, false), Consumer)),
            "agreement_already_suspended"
        );
        assert_eq!(
            code(suspend(&facts(Suspended, true, true), Producer)),
            "agreement_already_suspended"
        );
        for s in others(&[Active, Suspended]) {
            for side in [Consumer, Producer] {
                assert_eq!(
                    code(suspend(&at(s), side)),
                    "agreement_not_active_or_suspended"
                );
            }
        }
    }

    #[test]
    fn reactivation_waits_for_both_sides() {
        use Side::*;
        assert_eq!(
            activate(&facts(Suspended, true, false), Consumer).unwrap(),
            change(Active, false, false)
        );
        assert_eq!(
            activate(&facts(Suspended, false, true), Producer).unwrap(),
            change(Active, false, false)
        );
        assert_eq!(
            activate(&facts(Suspended, true, true), Consumer).unwrap(),
            change(Suspended, false, true)
        );
        assert_eq!(
            activate(&facts(Suspended, true, true), Producer).unwrap(),
            change(Suspended, true, false)
        );
        assert_eq!(
            code(activate(&facts(Suspended, false, true), Consumer)),
            "agreement_suspended_by_other_side"
        );
        assert_eq!(
            code(activate(&facts(Suspended, true, false), Producer)),
            "agreement_suspended_by_other_side"
        );
        // No flag at all: either side may lift the suspension.
        assert_eq!(
            activate(&facts(Suspended, false, false), Producer).unwrap(),
            change(Active, false, false)
        );
        for s in others(&[Suspended]) {
            for side in [Consumer, Producer] {
                assert_eq!(code(activate(&at(s), side)), "agreement_not_suspended");
            }
        }
    }

    #[test]
    fn an_institution_consuming_its_own_eservice_acts_as_the_side_it_says() {
        let mut own = at(Active);
        own.producer_id = own.consumer_id.clone();
        assert_eq!(side_of("consumer", &own), Some(Side::Consumer));
        let by_producer = suspend(&own, Side::Producer).unwrap();
        own.state = by_producer.state;
        own.suspended_by_producer = true;
        let by_consumer = activate(&own, Side::Consumer);
        assert_eq!(code(by_consumer), "agreement_suspended_by_other_side");
        assert_eq!(activate(&own, Side::Producer).unwrap().state, Active);
        assert_eq!(side_of("producer", &at(Active)), Some(Side::Producer));
        assert_eq!(side_of("someone", &at(Active)), None);
    }

    #[test]
    fn archive_and_delete_follow_the_table() {
        assert_eq!(
            archive(&at(Active)).unwrap(),
            change(Archived, false, false)
        );
        assert_eq!(
            archive(&facts(Suspended, true, false)).unwrap(),
            change(Archived, true, false)
        );
        for s in others(&[Active, Suspended]) {
            assert_eq!(code(archive(&at(s))), "agreement_not_active_or_suspended");
        }
        for s in [Draft, Pending, MissingCertifiedAttributes] {
            assert!(delete_allowed(&at(s)).is_ok());
        }
        for s in others(&[Draft, Pending, MissingCertifiedAttributes]) {
            assert_eq!(code(delete_allowed(&at(s))), "agreement_not_deletable");
        }
    }

    #[test]
    fn upgrade_moves_to_a_newer_published_version_keeping_state_and_flags() {
        let u = upgrade(&facts(Suspended, false, true), 1, Some(3)).unwrap();
        assert_eq!(u.archived, change(Archived, false, true));
        assert_eq!(u.new, change(Suspended, false, true));
        assert_eq!(u.version, 3);
        let u = upgrade(&at(Active), 2, Some(3)).unwrap();
        assert_eq!(u.new, change(Active, false, false));
        assert_eq!(
            code(upgrade(&at(Active), 3, Some(3))),
            "no_newer_descriptor"
        );
        assert_eq!(
            code(upgrade(&at(Active), 3, Some(2))),
            "no_newer_descriptor"
        );
        assert_eq!(code(upgrade(&at(Active), 1, None)), "no_newer_descriptor");
        for s in others(&[Active, Suspended]) {
            assert_eq!(
                code(upgrade(&at(s), 1, Some(2))),
                "agreement_not_active_or_suspended"
            );
        }
    }

    #[test]
    fn consumer_notes_are_optional_and_bounded() {
        assert_eq!(consumer_notes(None).unwrap(), None);
        assert_eq!(consumer_notes(Some("  ")).unwrap(), None);
        assert_eq!(consumer_notes(Some(" ok ")).unwrap().as_deref(), Some("ok"));
        assert!(consumer_notes(Some(&"n".repeat(1000))).is_ok());
        assert_eq!(
            consumer_notes(Some(&"n".repeat(1001))).unwrap_err().field,
            "consumerNotes"
        );
    }

    #[derive(Debug, Clone, Copy)]
    enum Action {
        Submit(bool),
        Approve,
        Reject,
        Suspend(bool),
        Activate(bool),
        Archive,
    }

    fn action() -> impl proptest::strategy::Strategy<Value = Action> {
        use proptest::prelude::*;
        prop_oneof![
            any::<bool>().prop_map(Action::Submit),
            Just(Action::Approve),
            Just(Action::Reject),
            any::<bool>().prop_map(Action::Suspend),
            any::<bool>().prop_map(Action::Activate),
            Just(Action::Archive),
        ]
    }

    fn side(consumer: bool) -> Side {
        if consumer {
            Side::Consumer
        } else {
            Side::Producer
        }
    }

    proptest::proptest! {
        /// Whatever the sequence of actions from a draft: SUSPENDED exactly when a side's flag
        /// is set, ACTIVE never with a flag, ARCHIVED and REJECTED final, and approve/reject
        /// only from PENDING.
        #[test]
        fn any_sequence_keeps_the_flags_and_the_state_in_step(
            actions in proptest::collection::vec(action(), 0..40)
        ) {
            let mut f = facts(Draft, false, false);
            for a in actions {
                let before = f.state;
                let result = match a {
                    Action::Submit(auto) => {
                        submit(&f, if auto { Automatic } else { Manual }, false)
                    }
                    Action::Approve => approve(&f),
                    Action::Reject => reject(&f, RejectionReason::of_agreement("reason", "Non ci sono i presupposti").unwrap()),
                    Action::Suspend(c) => suspend(&f, side(c)),
                    Action::Activate(c) => activate(&f, side(c)),
                    Action::Archive => archive(&f),
                };
                if matches!(before, Archived | Rejected) {
                    proptest::prop_assert!(result.is_err(), "{before:?} changed by {a:?}");
                }
                if matches!(a, Action::Approve | Action::Reject) && result.is_ok() {
                    proptest::prop_assert_eq!(before, Pending);
                }
                if let Ok(change) = result {
                    f.state = change.state;
                    f.suspended_by_consumer = change.suspended_by_consumer;
                    f.suspended_by_producer = change.suspended_by_producer;
                }
                let flagged = f.suspended_by_consumer || f.suspended_by_producer;
                if f.state == Suspended {
                    proptest::prop_assert!(flagged, "suspended with no flag");
                }
                if f.state == Active {
                    proptest::prop_assert!(!flagged, "active with a flag");
                }
            }
        }
    }
}
