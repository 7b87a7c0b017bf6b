//! Purposes ("finalità"): why a consumer calls an e-service, how much, and with which risk
//! analysis; their versions' state machine and the quota rule.
//!
//! A purpose has versions; at most one is current (ACTIVE or SUSPENDED), at most one is
//! WAITING_FOR_APPROVAL, and the first one starts as a DRAFT. Suspension flags belong to the
//! purpose and are mirrored by the current version's state, as for agreements (see
//! `agreement`'s documentation for an institution that consumes its own e-service).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::agreement::AgreementState;
use super::read::Reader;
use super::risk_analysis::{self, RiskAnswers};
use super::{FieldError, Refusal, RejectionReason, Side, uuid_shape};

pub const TITLE_MIN: usize = 5;
pub const TITLE_MAX: usize = 60;
pub const DESCRIPTION_MIN: usize = 10;
pub const DESCRIPTION_MAX: usize = 250;
pub const FREE_OF_CHARGE_REASON_MAX: usize = 250;
pub const DAILY_CALLS_MIN: i64 = 1;
pub const DAILY_CALLS_MAX: i64 = 1_000_000_000;

/// A new purpose (`POST /purposes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurposeInput {
    /// A UUID, lower-cased.
    pub eservice_id: String,
    pub title: String,
    pub description: String,
    pub is_free_of_charge: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_of_charge_reason: Option<String>,
    pub daily_calls: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_analysis_form: Option<RiskAnswers>,
}

/// The new content of a draft purpose (`PUT /purposes/{id}`): everything but the e-service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurposeUpdate {
    pub title: String,
    pub description: String,
    pub is_free_of_charge: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_of_charge_reason: Option<String>,
    pub daily_calls: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_analysis_form: Option<RiskAnswers>,
}

impl PurposeInput {
    pub fn title_key(&self) -> String {
        title_key(&self.title)
    }
}

/// Reads a new purpose: `eserviceId` a UUID; `title` 5..=60 characters; `description`
/// 10..=250; `isFreeOfCharge` true or false; `freeOfChargeReason` 1..=250 characters, required
/// when free of charge and refused otherwise (blank counts as absent); `dailyCalls` 1..=1e9;
/// `riskAnalysisForm` optional, checked against [`risk_analysis::current_form`] (its errors
/// are named `riskAnalysisForm.answers.<question>`).
pub fn parse_purpose(payload: &Value) -> Result<PurposeInput, Vec<FieldError>> {
    let mut r = Reader::new(payload, "body")?;
    let eservice_id = match r.get("eserviceId") {
        None => {
            r.err("eserviceId".into(), "is required");
            None
        }
        Some(Value::String(s)) if uuid_shape(s.trim()) => Some(s.trim().to_ascii_lowercase()),
        Some(_) => {
            r.err(
                "eserviceId".into(),
                "must be the id (a UUID) of an e-service",
            );
            None
        }
    };
    let content = read_content(&mut r);
    match (eservice_id, content) {
        (Some(eservice_id), Some(c)) if r.errors.is_empty() => Ok(PurposeInput {
            eservice_id,
            title: c.title,
            description: c.description,
            is_free_of_charge: c.is_free_of_charge,
            free_of_charge_reason: c.free_of_charge_reason,
            daily_calls: c.daily_calls,
            risk_analysis_form: c.risk_analysis_form,
        }),
        _ => Err(r.errors),
    }
}

/// Reads the new content of a draft purpose: the rules of [`parse_purpose`] without
/// `eserviceId` (a purpose stays on its e-service; the key is ignored if sent).
pub fn parse_purpose_update(payload: &Value) -> Result<PurposeUpdate, Vec<FieldError>> {
    let mut r = Reader::new(payload, "body")?;
    match read_content(&mut r) {
        Some(c) if r.errors.is_empty() => Ok(c),
        _ => Err(r.errors),
    }
}

fn read_content(r: &mut Reader<'_>) -> Option<PurposeUpdate> {
    let title = r.text("title", TITLE_MIN, TITLE_MAX, true);
    let description = r.text("description", DESCRIPTION_MIN, DESCRIPTION_MAX, true);
    let is_free_of_charge = r.boolean("isFreeOfCharge");
    // Blank is absent, so that a form's empty field does not count as a reason.
    let blank_reason =
        matches!(r.get("freeOfChargeReason"), Some(Value::String(s)) if s.trim().is_empty());
    let free_of_charge_reason = match is_free_of_charge {
        Some(true) => {
            if blank_reason || r.get("freeOfChargeReason").is_none() {
                r.err(
                    "freeOfChargeReason".into(),
                    "is required when the purpose is free of charge",
                );
                None
            } else {
                r.text("freeOfChargeReason", 1, FREE_OF_CHARGE_REASON_MAX, true)
            }
        }
        Some(false) => {
            if r.get("freeOfChargeReason").is_some() && !blank_reason {
                r.err(
                    "freeOfChargeReason".into(),
                    "must not be given unless isFreeOfCharge is true",
                );
            }
            None
        }
        None => None,
    };
    let daily_calls = r.integer("dailyCalls", DAILY_CALLS_MIN, DAILY_CALLS_MAX);
    let risk_analysis_form = match r.get("riskAnalysisForm") {
        None => Some(None),
        Some(v) => {
            match risk_analysis::validate_at(&risk_analysis::current_form(), v, "riskAnalysisForm")
            {
                Ok(answers) => Some(Some(answers)),
                Err(errors) => {
                    r.errors.extend(errors);
                    None
                }
            }
        }
    };
    Some(PurposeUpdate {
        title: title?,
        description: description?,
        is_free_of_charge: is_free_of_charge?,
        free_of_charge_reason,
        daily_calls: daily_calls?,
        risk_analysis_form: risk_analysis_form?,
    })
}

/// Reads a new version's payload (`POST /purposes/{id}/versions`): `dailyCalls` 1..=1e9.
pub fn parse_new_version(payload: &Value) -> Result<i64, Vec<FieldError>> {
    let mut r = Reader::new(payload, "body")?;
    match r.integer("dailyCalls", DAILY_CALLS_MIN, DAILY_CALLS_MAX) {
        Some(n) if r.errors.is_empty() => Ok(n),
        _ => Err(r.errors),
    }
}

/// The key of the uniqueness check of titles among a consumer's purposes on one e-service:
/// trimmed, case-folded.
pub fn title_key(title: &str) -> String {
    title.trim().to_lowercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PurposeVersionState {
    Draft,
    Active,
    Suspended,
    Archived,
    WaitingForApproval,
    Rejected,
}

impl PurposeVersionState {
    pub const ALL: [PurposeVersionState; 6] = [
        PurposeVersionState::Draft,
        PurposeVersionState::Active,
        PurposeVersionState::Suspended,
        PurposeVersionState::Archived,
        PurposeVersionState::WaitingForApproval,
        PurposeVersionState::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PurposeVersionState::Draft => "DRAFT",
            PurposeVersionState::Active => "ACTIVE",
            PurposeVersionState::Suspended => "SUSPENDED",
            PurposeVersionState::Archived => "ARCHIVED",
            PurposeVersionState::WaitingForApproval => "WAITING_FOR_APPROVAL",
            PurposeVersionState::Rejected => "REJECTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The current version of a purpose is ACTIVE or SUSPENDED.
    pub fn is_current(self) -> bool {
        matches!(
            self,
            PurposeVersionState::Active | PurposeVersionState::Suspended
        )
    }

    /// Only ACTIVE versions count in the daily-calls sums of [`over_quota`].
    pub fn counts_for_quota(self) -> bool {
        self == PurposeVersionState::Active
    }
}

/// Whether `requested` daily calls exceed the e-service's quota: the consumer's ACTIVE daily
/// calls on the e-service plus these above `per_consumer`, or all consumers' plus these above
/// `total`. Reaching a limit exactly is allowed. For a new version of a purpose, the sums
/// leave out that purpose's own current version (the new one replaces it).
pub fn over_quota(
    consumer_active: i64,
    all_active: i64,
    requested: i64,
    per_consumer: i64,
    total: i64,
) -> bool {
    // i128: no overflow whatever the stored sums.
    let add = |a: i64, b: i64| i128::from(a) + i128::from(b);
    add(consumer_active, requested) > i128::from(per_consumer)
        || add(all_active, requested) > i128::from(total)
}

/// The first version's activation by the consumer: DRAFT → ACTIVE, or WAITING_FOR_APPROVAL
/// (the producer decides) when [`over_quota`].
pub fn activate_draft(
    state: PurposeVersionState,
    over_quota: bool,
) -> Result<PurposeVersionState, Refusal> {
    if state != PurposeVersionState::Draft {
        return Err(Refusal::new(
            "purpose_version_not_draft",
            format!(
                "only a draft version can be activated this way (this one is {})",
                state.as_str()
            ),
        ));
    }
    Ok(if over_quota {
        PurposeVersionState::WaitingForApproval
    } else {
        PurposeVersionState::Active
    })
}

/// One version of a purpose, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFacts {
    pub id: String,
    pub state: PurposeVersionState,
    pub daily_calls: i64,
}

/// What the rules look at in a purpose.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PurposeFacts {
    pub suspended_by_consumer: bool,
    pub suspended_by_producer: bool,
    pub versions: Vec<VersionFacts>,
}

impl PurposeFacts {
    /// The ACTIVE or SUSPENDED version (the latest, should the data hold more than one).
    pub fn current(&self) -> Option<&VersionFacts> {
        self.versions.iter().rev().find(|v| v.state.is_current())
    }

    pub fn waiting(&self) -> Option<&VersionFacts> {
        self.versions
            .iter()
            .find(|v| v.state == PurposeVersionState::WaitingForApproval)
    }

    fn is_suspended(&self) -> bool {
        self.suspended_by_consumer || self.suspended_by_producer
    }

    /// The state a version takes when it becomes the current one: the purpose's suspension
    /// carries over.
    fn current_state(&self) -> PurposeVersionState {
        if self.is_suspended() {
            PurposeVersionState::Suspended
        } else {
            PurposeVersionState::Active
        }
    }
}

/// A version's change of state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionChange {
    pub version_id: String,
    pub from: PurposeVersionState,
    pub to: PurposeVersionState,
    /// Set by [`reject_waiting`] only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
}

impl VersionChange {
    fn of(v: &VersionFacts, to: PurposeVersionState) -> Self {
        Self {
            version_id: v.id.clone(),
            from: v.state,
            to,
            rejection_reason: None,
        }
    }
}

/// A purpose's new flags and the changes of its versions (empty when only a flag changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurposeChange {
    pub suspended_by_consumer: bool,
    pub suspended_by_producer: bool,
    pub versions: Vec<VersionChange>,
}

/// The outcome of a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewVersion {
    /// ACTIVE (SUSPENDED if the purpose is suspended) within the quota, else
    /// WAITING_FOR_APPROVAL.
    pub state: PurposeVersionState,
    /// What happens to the other versions: the current one is ARCHIVED once the new one
    /// takes over; nothing while the new one waits.
    pub changes: Vec<VersionChange>,
}

/// The consumer asks for different daily calls (`over_quota` computed for `daily_calls`
/// without this purpose's current version). Refused while a version waits for approval, on a
/// purpose with no current version, or for the same daily calls as the current version.
pub fn new_version(
    purpose: &PurposeFacts,
    daily_calls: i64,
    over_quota: bool,
) -> Result<NewVersion, Refusal> {
    if purpose.waiting().is_some() {
        return Err(Refusal::new(
            "purpose_version_waiting",
            "a version of the purpose is already waiting for the producer's approval",
        ));
    }
    let Some(current) = purpose.current() else {
        return Err(Refusal::new(
            "purpose_not_active_or_suspended",
            "only an active or suspended purpose gets new versions (change the draft instead)",
        ));
    };
    if current.daily_calls == daily_calls {
        return Err(Refusal::new(
            "purpose_daily_calls_unchanged",
            format!("the current version already has {daily_calls} daily calls"),
        ));
    }
    if over_quota {
        return Ok(NewVersion {
            state: PurposeVersionState::WaitingForApproval,
            changes: Vec::new(),
        });
    }
    Ok(NewVersion {
        state: purpose.current_state(),
        changes: vec![VersionChange::of(current, PurposeVersionState::Archived)],
    })
}

/// The producer approves the version waiting for approval: it becomes the current one
/// (ACTIVE, or SUSPENDED if the purpose is suspended) and the previous current one is
/// ARCHIVED.
pub fn approve_waiting(
    purpose: &PurposeFacts,
    version_id: &str,
) -> Result<Vec<VersionChange>, Refusal> {
    let waiting = waiting_version(purpose, version_id, "approved")?;
    let mut changes = vec![VersionChange::of(waiting, purpose.current_state())];
    if let Some(current) = purpose.current() {
        changes.push(VersionChange::of(current, PurposeVersionState::Archived));
    }
    Ok(changes)
}

/// The producer rejects the version waiting for approval, with a reason; the current version,
/// if any, stays.
pub fn reject_waiting(
    purpose: &PurposeFacts,
    version_id: &str,
    reason: RejectionReason,
) -> Result<VersionChange, Refusal> {
    let waiting = waiting_version(purpose, version_id, "rejected")?;
    Ok(VersionChange {
        rejection_reason: Some(reason.into_string()),
        ..VersionChange::of(waiting, PurposeVersionState::Rejected)
    })
}

fn waiting_version<'a>(
    purpose: &'a PurposeFacts,
    version_id: &str,
    verb: &str,
) -> Result<&'a VersionFacts, Refusal> {
    let Some(v) = purpose.versions.iter().find(|v| v.id == version_id) else {
        return Err(Refusal::new(
            "purpose_version_not_found",
            format!("the purpose has no version {version_id:?}"),
        ));
    };
    if v.state != PurposeVersionState::WaitingForApproval {
        return Err(Refusal::new(
            "purpose_version_not_waiting",
            format!(
                "only a version waiting for approval can be {verb} (this one is {})",
                v.state.as_str()
            ),
        ));
    }
    Ok(v)
}

/// `side` suspends the purpose: its flag is set and the current version is SUSPENDED.
pub fn suspend(purpose: &PurposeFacts, side: Side) -> Result<PurposeChange, Refusal> {
    let current = require_current(purpose, "suspended")?;
    let mut change = flags(purpose);
    let flag = match side {
        Side::Consumer => &mut change.suspended_by_consumer,
        Side::Producer => &mut change.suspended_by_producer,
    };
    if *flag {
        return Err(Refusal::new(
            "purpose_already_suspended",
            format!("the {} has already suspended the purpose", side.as_str()),
        ));
    }
    *flag = true;
    if current.state != PurposeVersionState::Suspended {
        change
            .versions
            .push(VersionChange::of(current, PurposeVersionState::Suspended));
    }
    Ok(change)
}

/// `side` reactivates the purpose: its flag is cleared; the current version is ACTIVE again
/// only when the other side's flag is not set either. A SUSPENDED version with no flag at all
/// is reactivated by either side.
pub fn activate(purpose: &PurposeFacts, side: Side) -> Result<PurposeChange, Refusal> {
    let current = match purpose.current() {
        Some(v) if v.state == PurposeVersionState::Suspended => v,
        other => {
            return Err(Refusal::new(
                "purpose_not_suspended",
                format!(
                    "only a suspended purpose can be reactivated (its current version is {})",
                    other.map_or("missing", |v| v.state.as_str())
                ),
            ));
        }
    };
    let mut change = flags(purpose);
    let (own, other) = match side {
        Side::Consumer => (
            &mut change.suspended_by_consumer,
            purpose.suspended_by_producer,
        ),
        Side::Producer => (
            &mut change.suspended_by_producer,
            purpose.suspended_by_consumer,
        ),
    };
    if !*own && other {
        let other_side = match side {
            Side::Consumer => Side::Producer,
            Side::Producer => Side::Consumer,
        };
        return Err(Refusal::new(
            "purpose_suspended_by_other_side",
            format!(
                "the purpose was suspended by the {}, not by the {}: only the {} can reactivate it",
                other_side.as_str(),
                side.as_str(),
                other_side.as_str()
            ),
        ));
    }
    *own = false;
    if !other {
        change
            .versions
            .push(VersionChange::of(current, PurposeVersionState::Active));
    }
    Ok(change)
}

/// The consumer archives the purpose: the current version is ARCHIVED, and so is a version
/// still waiting for approval (nothing is left for the producer to decide).
pub fn archive(purpose: &PurposeFacts) -> Result<PurposeChange, Refusal> {
    let current = require_current(purpose, "archived")?;
    let mut change = flags(purpose);
    change
        .versions
        .push(VersionChange::of(current, PurposeVersionState::Archived));
    if let Some(w) = purpose.waiting() {
        change
            .versions
            .push(VersionChange::of(w, PurposeVersionState::Archived));
    }
    Ok(change)
}

/// A purpose is deleted only while no version has ever served calls: every version is DRAFT,
/// WAITING_FOR_APPROVAL or REJECTED.
pub fn delete_allowed(versions: &[PurposeVersionState]) -> Result<(), Refusal> {
    use PurposeVersionState::*;
    if versions
        .iter()
        .all(|s| matches!(s, Draft | WaitingForApproval | Rejected))
    {
        Ok(())
    } else {
        Err(Refusal::new(
            "purpose_not_deletable",
            "a purpose that has been active can only be archived, not deleted",
        ))
    }
}

/// A purpose's content changes only while it is a draft (its only version is DRAFT).
pub fn update_allowed(versions: &[PurposeVersionState]) -> Result<(), Refusal> {
    if !versions.is_empty() && versions.iter().all(|s| *s == PurposeVersionState::Draft) {
        Ok(())
    } else {
        Err(Refusal::new(
            "purpose_not_draft",
            "only a draft purpose can be changed",
        ))
    }
}

/// A purpose is created, and its draft activated, only under an ACTIVE agreement of the
/// consumer on the e-service.
pub fn require_active_agreement(agreement: Option<AgreementState>) -> Result<(), Refusal> {
    match agreement {
        Some(AgreementState::Active) => Ok(()),
        other => Err(Refusal::new(
            "agreement_not_active",
            format!(
                "the institution needs an active agreement on the e-service ({})",
                other.map_or("there is none".to_string(), |s| format!(
                    "its agreement is {}",
                    s.as_str()
                ))
            ),
        )),
    }
}

/// A purpose is linked to a client only when it has an ACTIVE or SUSPENDED version and its
/// agreement is ACTIVE or SUSPENDED.
pub fn linkable_to_client(
    versions: &[PurposeVersionState],
    agreement: AgreementState,
) -> Result<(), Refusal> {
    if !versions.iter().any(|s| s.is_current()) {
        return Err(Refusal::new(
            "purpose_not_active_or_suspended",
            "only an active or suspended purpose can be linked to a client",
        ));
    }
    if !matches!(
        agreement,
        AgreementState::Active | AgreementState::Suspended
    ) {
        return Err(Refusal::new(
            "agreement_not_active_or_suspended",
            format!(
                "the purpose's agreement must be active or suspended (it is {})",
                agreement.as_str()
            ),
        ));
    }
    Ok(())
}

fn require_current<'a>(purpose: &'a PurposeFacts, verb: &str) -> Result<&'a VersionFacts, Refusal> {
    purpose.current().ok_or_else(|| {
        Refusal::new(
            "purpose_not_active_or_suspended",
            format!("only an active or suspended purpose can be {verb}"),
        )
    })
}

fn flags(purpose: &PurposeFacts) -> PurposeChange {
    PurposeChange {
        suspended_by_consumer: purpose.suspended_by_consumer,
        suspended_by_producer: purpose.suspended_by_producer,
        versions: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
