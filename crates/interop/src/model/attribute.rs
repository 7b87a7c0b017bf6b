//! Attributes: who may use an e-service.
//!
//! - **Certified** attributes come from a registry (origin `IPA`, or a certifier's origin),
//!   unique by `(origin, code)`; only that origin's certifier assigns and revokes them.
//! - **Declared** attributes are stated by the consumer's admin.
//! - **Verified** attributes are confirmed by a producer on a request that requires them,
//!   optionally until a date; each verification counts for that producer only.
//!
//! A version requires attributes in groups of each kind: every group must hold (AND), one
//! attribute of a group suffices (OR); an empty group is dropped. [`check`] evaluates the
//! requirements against what an institution holds, and [`recompute`] is the platform's
//! reaction when that changes: an ACTIVE agreement whose attributes no longer hold is
//! SUSPENDED by the platform, a DRAFT or PENDING one waits in MISSING_CERTIFIED_ATTRIBUTES.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::agreement::{AgreementFacts, AgreementState, Change};
use super::read::check_length;
use super::{FieldError, Refusal};

pub const NAME_MAX: usize = 160;

/// The real platform's refusals, by name (HTTP 400 unless said).
pub const MISSING_CERTIFIED: &str = "missingCertifiedAttributesError";
pub const SUBMISSION_FAILED: &str = "agreementSubmissionFailed";
pub const ACTIVATION_FAILED: &str = "agreementActivationFailed";
pub const NO_CONTACT_EMAIL: &str = "consumerWithNotValidEmail";
/// 409.
pub const DUPLICATE_NAME: &str = "attributeDuplicateByName";
/// 403.
pub const NOT_THE_CERTIFIER: &str = "attributeDoesNotBelongToCertifier";
/// 403.
pub const VERIFICATION_NOT_ALLOWED: &str = "attributeVerificationNotAllowed";
pub const DESCRIPTION_MAX: usize = 1000;
/// The longest a group may be, and the most groups of one kind: generous, bounded.
pub const GROUP_MAX: usize = 50;
pub const GROUPS_MAX: usize = 50;

/// The three kinds of attribute.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[schema(as = InteropAttributeKind)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttributeKind {
    Certified,
    Declared,
    Verified,
}

impl AttributeKind {
    pub const ALL: [AttributeKind; 3] = [
        AttributeKind::Certified,
        AttributeKind::Declared,
        AttributeKind::Verified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttributeKind::Certified => "CERTIFIED",
            AttributeKind::Declared => "DECLARED",
            AttributeKind::Verified => "VERIFIED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// The key of the requirements' object (`certified`, `declared`, `verified`).
    pub fn key(self) -> &'static str {
        match self {
            AttributeKind::Certified => "certified",
            AttributeKind::Declared => "declared",
            AttributeKind::Verified => "verified",
        }
    }
}

/// A declared or verified attribute an institution creates: `{name, description}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = InteropAttributeInput)]
pub struct AttributeInput {
    /// 3 to 160 characters, unique among declared and verified attributes (any case).
    pub name: String,
    /// 10 to 1000 characters.
    pub description: String,
}

/// The name's key: trimmed, lower-case (one name, in any case).
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Reads `{name, description}`; every problem with its field.
pub fn parse_attribute(input: &AttributeInput) -> Result<AttributeInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = check_length(&input.name, 3, NAME_MAX)
        .map_err(|m| errors.push(FieldError::new("name", m)))
        .ok();
    let description = check_length(&input.description, 10, DESCRIPTION_MAX)
        .map_err(|m| errors.push(FieldError::new("description", m)))
        .ok();
    match (name, description) {
        (Some(name), Some(description)) if errors.is_empty() => {
            Ok(AttributeInput { name, description })
        }
        _ => Err(errors),
    }
}

/// One attribute of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = InteropRequirement)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    pub id: String,
    /// Kept as the real platform's API has it; verification is always explicit here.
    #[serde(default)]
    pub explicit_attribute_verification: bool,
    /// Certified attributes only: the daily calls a consumer holding it may ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_calls_per_consumer: Option<i64>,
}

/// What a version requires: groups of each kind (every group must hold, one attribute of a
/// group suffices).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = InteropRequirements)]
pub struct Requirements {
    #[serde(default)]
    pub certified: Vec<Vec<Requirement>>,
    #[serde(default)]
    pub declared: Vec<Vec<Requirement>>,
    #[serde(default)]
    pub verified: Vec<Vec<Requirement>>,
}

impl Requirements {
    pub fn groups(&self, kind: AttributeKind) -> &[Vec<Requirement>] {
        match kind {
            AttributeKind::Certified => &self.certified,
            AttributeKind::Declared => &self.declared,
            AttributeKind::Verified => &self.verified,
        }
    }

    pub fn is_empty(&self) -> bool {
        AttributeKind::ALL
            .iter()
            .all(|k| self.groups(*k).is_empty())
    }

    /// Every attribute id named, once.
    pub fn ids(&self) -> BTreeSet<&str> {
        AttributeKind::ALL
            .iter()
            .flat_map(|k| self.groups(*k).iter().flatten())
            .map(|r| r.id.as_str())
            .collect()
    }

    /// Every attribute id of `kind`, once.
    pub fn ids_of(&self, kind: AttributeKind) -> BTreeSet<&str> {
        self.groups(kind)
            .iter()
            .flatten()
            .map(|r| r.id.as_str())
            .collect()
    }

    /// The stored form (a JSON object); an unreadable one is no requirement.
    pub fn from_stored(stored: &str) -> Option<Self> {
        serde_json::from_str(stored).ok()
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// Reads a version's `attributes`: absent or `null` is none. Empty groups are dropped; an
/// attribute twice in one group is refused (`attributeDuplicatedInGroup`). `kinds` says the
/// kind of each id the registry knows (the caller looks them up): an unknown id, or one of
/// another kind than its place, is refused (`attributeNotFound`).
pub fn parse_requirements(
    value: Option<&Value>,
    kind_of: impl Fn(&str) -> Option<AttributeKind>,
) -> Result<Requirements, Vec<FieldError>> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Requirements::default());
    };
    let parsed: Requirements = match serde_json::from_value(value.clone()) {
        Ok(r) => r,
        Err(e) => {
            return Err(vec![FieldError::new(
                "attributes",
                format!(
                    "must be {{certified, declared, verified}}, each a list of groups of \
                     {{id, explicitAttributeVerification, dailyCallsPerConsumer}} ({e})"
                ),
            )]);
        }
    };
    let mut errors = Vec::new();
    let mut out = Requirements::default();
    for kind in AttributeKind::ALL {
        let groups = parsed.groups(kind);
        if groups.len() > GROUPS_MAX {
            errors.push(FieldError::new(
                format!("attributes.{}", kind.key()),
                format!("at most {GROUPS_MAX} groups"),
            ));
            continue;
        }
        let mut kept = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            let path = format!("attributes.{}[{g}]", kind.key());
            if group.len() > GROUP_MAX {
                errors.push(FieldError::new(
                    path,
                    format!("at most {GROUP_MAX} attributes"),
                ));
                continue;
            }
            let mut seen = BTreeSet::new();
            for (i, r) in group.iter().enumerate() {
                let path = format!("{path}[{i}]");
                if !seen.insert(r.id.as_str()) {
                    errors.push(FieldError::new(
                        format!("{path}.id"),
                        "attributeDuplicatedInGroup: this attribute is already in the group",
                    ));
                }
                match kind_of(&r.id) {
                    Some(k) if k == kind => {}
                    Some(k) => errors.push(FieldError::new(
                        format!("{path}.id"),
                        format!(
                            "attributeNotFound: this attribute is {}, not {}",
                            k.as_str(),
                            kind.as_str()
                        ),
                    )),
                    None => errors.push(FieldError::new(
                        format!("{path}.id"),
                        "attributeNotFound: no such attribute",
                    )),
                }
                match (kind, r.daily_calls_per_consumer) {
                    (AttributeKind::Certified, Some(n)) if !(1..=1_000_000_000).contains(&n) => {
                        errors.push(FieldError::new(
                            format!("{path}.dailyCallsPerConsumer"),
                            "must be between 1 and 1000000000",
                        ))
                    }
                    (AttributeKind::Certified, _) | (_, None) => {}
                    (_, Some(_)) => errors.push(FieldError::new(
                        format!("{path}.dailyCallsPerConsumer"),
                        "only a certified attribute sets the daily calls",
                    )),
                }
            }
            if !group.is_empty() {
                kept.push(group.clone());
            }
        }
        match kind {
            AttributeKind::Certified => out.certified = kept,
            AttributeKind::Declared => out.declared = kept,
            AttributeKind::Verified => out.verified = kept,
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The attribute ids an institution holds now, by kind (the verified ones: verified by the
/// producer in question, not revoked, not expired; see [`verification_counts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    pub certified: BTreeSet<String>,
    pub declared: BTreeSet<String>,
    pub verified: BTreeSet<String>,
}

impl Held {
    pub fn of(&self, kind: AttributeKind) -> &BTreeSet<String> {
        match kind {
            AttributeKind::Certified => &self.certified,
            AttributeKind::Declared => &self.declared,
            AttributeKind::Verified => &self.verified,
        }
    }
}

/// Every group holds: each has at least one attribute in `held`.
pub fn groups_hold(groups: &[Vec<Requirement>], held: &BTreeSet<String>) -> bool {
    groups
        .iter()
        .filter(|g| !g.is_empty())
        .all(|g| g.iter().any(|r| held.contains(&r.id)))
}

/// The groups that do not hold, each as its attributes' ids.
pub fn failing_groups(groups: &[Vec<Requirement>], held: &BTreeSet<String>) -> Vec<Vec<String>> {
    groups
        .iter()
        .filter(|g| !g.is_empty() && !g.iter().any(|r| held.contains(&r.id)))
        .map(|g| g.iter().map(|r| r.id.clone()).collect())
        .collect()
}

/// How the requirements stand for one consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub certified: bool,
    pub declared: bool,
    pub verified: bool,
    /// The groups that fail, with their kind.
    pub missing: Vec<(AttributeKind, Vec<String>)>,
}

impl Verdict {
    pub fn all(&self) -> bool {
        self.certified && self.declared && self.verified
    }

    /// Everything holds (an institution that consumes its own e-service needs nothing).
    pub fn everything() -> Self {
        Self {
            certified: true,
            declared: true,
            verified: true,
            missing: Vec::new(),
        }
    }
}

pub fn check(requirements: &Requirements, held: &Held) -> Verdict {
    let mut missing = Vec::new();
    for kind in AttributeKind::ALL {
        for g in failing_groups(requirements.groups(kind), held.of(kind)) {
            missing.push((kind, g));
        }
    }
    Verdict {
        certified: groups_hold(&requirements.certified, &held.certified),
        declared: groups_hold(&requirements.declared, &held.declared),
        verified: groups_hold(&requirements.verified, &held.verified),
        missing,
    }
}

/// The daily calls a consumer may ask for: the largest `dailyCallsPerConsumer` among the
/// version's certified attributes it holds, else the version's own figure.
pub fn quota(requirements: &Requirements, held: &Held, version_per_consumer: i64) -> i64 {
    requirements
        .certified
        .iter()
        .flatten()
        .filter(|r| held.certified.contains(&r.id))
        .filter_map(|r| r.daily_calls_per_consumer)
        .max()
        .unwrap_or(version_per_consumer)
}

/// One producer's verification of an attribute, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub verifier_id: String,
    /// Milliseconds since the epoch.
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A verification counts for `producer` when it is that producer's, not revoked, and not
/// expired at `now`.
pub fn verification_counts(v: &Verification, producer: &str, now: i64) -> bool {
    v.verifier_id == producer && v.revoked_at.is_none() && v.expires_at.is_none_or(|t| t > now)
}

/// Creating an agreement: refused when the certified attributes fail, unless the consumer is
/// the producer.
pub fn can_create(verdict: &Verdict, self_consumption: bool) -> Result<(), Refusal> {
    if self_consumption || verdict.certified {
        Ok(())
    } else {
        Err(Refusal::new(
            MISSING_CERTIFIED,
            "the institution does not have the certified attributes the version requires",
        ))
    }
}

/// What submitting leads to, before the approval policy: refused, or MISSING_CERTIFIED_ATTRIBUTES
/// when the certified attributes fail (the agreement is kept in that state), or the state the
/// policy gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission {
    /// Certified attributes fail: the agreement moves to MISSING_CERTIFIED_ATTRIBUTES.
    MissingCertified,
    /// ACTIVE (self-consumption, or AUTOMATIC with declared and verified holding).
    Active,
    /// PENDING: the producer decides (and verifies first).
    Pending,
}

/// The spec's submission: certified fail → MISSING_CERTIFIED_ATTRIBUTES; AUTOMATIC with
/// declared and verified holding → ACTIVE; MANUAL with declared holding → PENDING; else
/// refused (`agreementSubmissionFailed`) naming what is missing.
pub fn submission(
    verdict: &Verdict,
    automatic: bool,
    self_consumption: bool,
) -> Result<Submission, Refusal> {
    if self_consumption {
        return Ok(Submission::Active);
    }
    if !verdict.certified {
        return Ok(Submission::MissingCertified);
    }
    if !verdict.declared {
        return Err(Refusal::new(
            SUBMISSION_FAILED,
            "the institution has not declared the attributes the version requires",
        ));
    }
    if automatic && verdict.verified {
        Ok(Submission::Active)
    } else {
        Ok(Submission::Pending)
    }
}

/// The producer approves a PENDING agreement only once the declared and verified attributes
/// hold (`agreementActivationFailed`): it verifies first.
pub fn can_approve(verdict: &Verdict, self_consumption: bool) -> Result<(), Refusal> {
    if self_consumption || (verdict.certified && verdict.declared && verdict.verified) {
        Ok(())
    } else {
        Err(Refusal::new(
            ACTIVATION_FAILED,
            "the consumer's attributes do not hold yet: verify the verified ones first",
        ))
    }
}

/// The platform's reaction to a change of the consumer's attributes: `None` when nothing
/// changes.
///
/// - DRAFT or PENDING with certified failing → MISSING_CERTIFIED_ATTRIBUTES;
///   MISSING_CERTIFIED_ATTRIBUTES with certified holding → DRAFT;
/// - ACTIVE or SUSPENDED: the platform's flag is set when any kind fails and cleared when all
///   hold; the agreement is SUSPENDED while any flag is set, ACTIVE when none is.
pub fn recompute(facts: &AgreementFacts, verdict: &Verdict) -> Option<Change> {
    use AgreementState::*;
    let unchanged = Change {
        state: facts.state,
        suspended_by_consumer: facts.suspended_by_consumer,
        suspended_by_producer: facts.suspended_by_producer,
        suspended_by_platform: facts.suspended_by_platform,
        rejection_reason: None,
    };
    let next = match facts.state {
        Draft | Pending if !verdict.certified => Change {
            state: MissingCertifiedAttributes,
            ..unchanged.clone()
        },
        MissingCertifiedAttributes if verdict.certified => Change {
            state: Draft,
            ..unchanged.clone()
        },
        Active | Suspended => {
            let platform = !verdict.all();
            let flagged = platform || facts.suspended_by_consumer || facts.suspended_by_producer;
            // SUSPENDED with no flag at all (data from before the flags) is not the
            // platform's to lift.
            let unflagged_before = facts.state == Suspended && !facts.suspended_by_platform;
            Change {
                state: if flagged || unflagged_before {
                    Suspended
                } else {
                    Active
                },
                suspended_by_platform: platform,
                ..unchanged.clone()
            }
        }
        _ => unchanged.clone(),
    };
    (next != unchanged).then_some(next)
}

#[cfg(test)]
mod tests;
