//! Descriptors (the versions of an e-service): their payload and their state machine
//! `DRAFT → PUBLISHED ⇄ SUSPENDED`, `PUBLISHED → DEPRECATED | ARCHIVED` when a newer version
//! is published.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::document::DocumentKind;
use super::read::Reader;
use super::{FieldError, Refusal};

pub const DESCRIPTION_MAX: usize = 250;
pub const VOUCHER_LIFESPAN_MIN: i64 = 60;
pub const VOUCHER_LIFESPAN_MAX: i64 = 86_400;
pub const DAILY_CALLS_MIN: i64 = 1;
pub const DAILY_CALLS_MAX: i64 = 1_000_000_000;
pub const AUDIENCE_MAX_ITEMS: usize = 20;
pub const AUDIENCE_ITEM_MAX: usize = 500;

/// The refusals of the version lifecycle, by the real platform's names.
pub const DRAFT_EXISTS: &str = "draftDescriptorAlreadyExists";
pub const WITHOUT_INTERFACE: &str = "eServiceDescriptorWithoutInterface";
pub const AUDIENCE_EMPTY: &str = "audienceCannotBeEmpty";
pub const PERSONAL_DATA_MISSING: &str = "missingPersonalDataFlag";
pub const DAILY_CALLS_INCONSISTENT: &str = "inconsistentDailyCalls";
/// A file the version's state does not take (an interface after publication, anything once
/// archived).
pub const NOT_VALID: &str = "notValidDescriptor";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AgreementApprovalPolicy {
    /// Agreements become ACTIVE when submitted.
    Automatic,
    /// Agreements wait (PENDING) for the producer's approval.
    Manual,
}

impl AgreementApprovalPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementApprovalPolicy::Automatic => "AUTOMATIC",
            AgreementApprovalPolicy::Manual => "MANUAL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "AUTOMATIC" => Some(AgreementApprovalPolicy::Automatic),
            "MANUAL" => Some(AgreementApprovalPolicy::Manual),
            _ => None,
        }
    }
}

/// The fields of a descriptor its producer writes (create and update of a draft).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescriptorInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// May be empty in a draft; required to publish.
    pub audience: Vec<String>,
    /// Seconds.
    pub voucher_lifespan: i64,
    pub daily_calls_per_consumer: i64,
    pub daily_calls_total: i64,
    pub agreement_approval_policy: AgreementApprovalPolicy,
}

/// Reads a descriptor: `description` optional, at most 250 characters; `audience` a list of
/// non-empty strings (may be empty in a draft); `voucherLifespan` 60..=86400 seconds;
/// `dailyCallsPerConsumer` and `dailyCallsTotal` 1..=1e9 with per-consumer ≤ total;
/// `agreementApprovalPolicy` AUTOMATIC|MANUAL. An absent audience is empty. The server URLs
/// are not written: they come from the interface ([`super::document`]).
pub fn parse_descriptor(payload: &Value) -> Result<DescriptorInput, Vec<FieldError>> {
    let mut r = Reader::new(payload, "body")?;
    let description = r.text("description", 0, DESCRIPTION_MAX, false);
    let audience = r.string_list("audience", AUDIENCE_MAX_ITEMS, AUDIENCE_ITEM_MAX);
    let voucher_lifespan = r.integer(
        "voucherLifespan",
        VOUCHER_LIFESPAN_MIN,
        VOUCHER_LIFESPAN_MAX,
    );
    let (per_consumer, total) = daily_calls(&mut r);
    let policy = r.choice(
        "agreementApprovalPolicy",
        AgreementApprovalPolicy::parse,
        "AUTOMATIC or MANUAL",
        None,
    );
    match (audience, voucher_lifespan, per_consumer, total, policy) {
        (
            Some(audience),
            Some(voucher_lifespan),
            Some(daily_calls_per_consumer),
            Some(daily_calls_total),
            Some(agreement_approval_policy),
        ) if r.errors.is_empty() => Ok(DescriptorInput {
            // An empty description is no description.
            description: description.filter(|d| !d.is_empty()),
            audience,
            voucher_lifespan,
            daily_calls_per_consumer,
            daily_calls_total,
            agreement_approval_policy,
        }),
        _ => Err(r.errors),
    }
}

/// `dailyCallsPerConsumer` and `dailyCallsTotal`, 1..=1e9 each, per-consumer ≤ total.
fn daily_calls(r: &mut Reader) -> (Option<i64>, Option<i64>) {
    let per_consumer = r.integer("dailyCallsPerConsumer", DAILY_CALLS_MIN, DAILY_CALLS_MAX);
    let total = r.integer("dailyCallsTotal", DAILY_CALLS_MIN, DAILY_CALLS_MAX);
    if let (Some(p), Some(t)) = (per_consumer, total)
        && p > t
    {
        r.err(
            "dailyCallsPerConsumer".into(),
            format!("must not exceed dailyCallsTotal ({p} > {t})"),
        );
    }
    (per_consumer, total)
}

/// What may change in a published version (`POST …/descriptors/{id}/update`): the voucher's
/// lifespan and the daily calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedUpdate {
    /// Seconds.
    pub voucher_lifespan: i64,
    pub daily_calls_per_consumer: i64,
    pub daily_calls_total: i64,
}

/// Reads a published version's update, with the rules of a draft's same fields.
pub fn parse_published_update(payload: &Value) -> Result<PublishedUpdate, Vec<FieldError>> {
    let mut r = Reader::new(payload, "body")?;
    let voucher_lifespan = r.integer(
        "voucherLifespan",
        VOUCHER_LIFESPAN_MIN,
        VOUCHER_LIFESPAN_MAX,
    );
    let (per_consumer, total) = daily_calls(&mut r);
    match (voucher_lifespan, per_consumer, total) {
        (Some(voucher_lifespan), Some(daily_calls_per_consumer), Some(daily_calls_total))
            if r.errors.is_empty() =>
        {
            Ok(PublishedUpdate {
                voucher_lifespan,
                daily_calls_per_consumer,
                daily_calls_total,
            })
        }
        _ => Err(r.errors),
    }
}

/// Reads `{agreementApprovalPolicy}`.
pub fn parse_policy(payload: &Value) -> Result<AgreementApprovalPolicy, Vec<FieldError>> {
    let mut r = Reader::new(payload, "body")?;
    match r.choice(
        "agreementApprovalPolicy",
        AgreementApprovalPolicy::parse,
        "AUTOMATIC or MANUAL",
        None,
    ) {
        Some(p) if r.errors.is_empty() => Ok(p),
        _ => Err(r.errors),
    }
}

/// A version that consumers may use (PUBLISHED, SUSPENDED, DEPRECATED) changes its lifespan,
/// its daily calls and its approval policy in place; a draft is edited whole, an archived
/// version no more.
pub fn update_published(state: DescriptorState) -> Result<(), Refusal> {
    match state {
        DescriptorState::Published | DescriptorState::Suspended | DescriptorState::Deprecated => {
            Ok(())
        }
        DescriptorState::Draft | DescriptorState::Archived => Err(Refusal::new(
            "descriptor_not_published",
            format!(
                "only a published, suspended or deprecated version is updated this way (this \
                 one is {}; a draft is changed whole)",
                state.as_str()
            ),
        )),
    }
}

/// Files go to a version while it allows them: the interface only to a draft (consumers rely
/// on the published one), other documents to any version not archived.
pub fn add_document(state: DescriptorState, kind: DocumentKind) -> Result<(), Refusal> {
    let allowed = match kind {
        DocumentKind::Interface => state == DescriptorState::Draft,
        DocumentKind::Document => state != DescriptorState::Archived,
    };
    if allowed {
        Ok(())
    } else {
        Err(Refusal::new(
            NOT_VALID,
            match kind {
                DocumentKind::Interface => format!(
                    "the interface is set only in a draft version (this one is {})",
                    state.as_str()
                ),
                DocumentKind::Document => "an archived version takes no more documents".to_string(),
            },
        ))
    }
}

/// A file goes away under the same rule it came by.
pub fn delete_document(state: DescriptorState, kind: DocumentKind) -> Result<(), Refusal> {
    add_document(state, kind)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DescriptorState {
    Draft,
    Published,
    Suspended,
    Deprecated,
    Archived,
}

impl DescriptorState {
    pub const ALL: [DescriptorState; 5] = [
        DescriptorState::Draft,
        DescriptorState::Published,
        DescriptorState::Suspended,
        DescriptorState::Deprecated,
        DescriptorState::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DescriptorState::Draft => "DRAFT",
            DescriptorState::Published => "PUBLISHED",
            DescriptorState::Suspended => "SUSPENDED",
            DescriptorState::Deprecated => "DEPRECATED",
            DescriptorState::Archived => "ARCHIVED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Whether vouchers are issued for agreements on this version (a suspended version
    /// serves none).
    pub fn serves_vouchers(self) -> bool {
        matches!(
            self,
            DescriptorState::Published | DescriptorState::Deprecated
        )
    }
}

/// Only one draft at a time.
pub fn can_add_draft(existing: &[DescriptorState]) -> Result<(), Refusal> {
    if existing.contains(&DescriptorState::Draft) {
        Err(Refusal::new(
            DRAFT_EXISTS,
            "the e-service already has a draft version: change or delete it",
        ))
    } else {
        Ok(())
    }
}

/// The version number of a new descriptor: "1", "2", ... as the real platform numbers them.
pub fn next_version(existing_count: usize) -> String {
    existing_count.saturating_add(1).to_string()
}

/// A version number as written by [`next_version`].
pub fn parse_version(s: &str) -> Option<u32> {
    s.parse().ok().filter(|v| *v > 0)
}

/// What `publish` looks at in the draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorFacts {
    pub state: DescriptorState,
    pub has_interface: bool,
    /// The e-service's `personalData` flag (`None`: not said yet).
    pub personal_data: Option<bool>,
    pub audience: Vec<String>,
    pub daily_calls_per_consumer: i64,
    pub daily_calls_total: i64,
}

/// The latest version published before the draft (PUBLISHED, SUSPENDED or DEPRECATED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousFacts {
    pub state: DescriptorState,
    /// Its agreements that keep it alive: ACTIVE, SUSPENDED or PENDING
    /// (see `AgreementState::keeps_descriptor_alive`).
    pub live_agreements: u64,
}

/// The outcome of publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishPlan {
    /// The draft's new state: PUBLISHED.
    pub state: DescriptorState,
    /// The previous version's new state, when it changes: DEPRECATED while it still has
    /// agreements, else ARCHIVED.
    pub previous: Option<DescriptorState>,
}

/// Publishes a draft: it needs an interface, an audience, the e-service's personal-data flag
/// and per-consumer calls within the total (checked in this order, as the real platform does).
pub fn publish(
    draft: &DescriptorFacts,
    previous: Option<&PreviousFacts>,
) -> Result<PublishPlan, Refusal> {
    if draft.state != DescriptorState::Draft {
        return Err(Refusal::new(
            "descriptor_not_draft",
            format!(
                "only a draft can be published (this version is {})",
                draft.state.as_str()
            ),
        ));
    }
    if !draft.has_interface {
        return Err(Refusal::new(
            WITHOUT_INTERFACE,
            "the version needs its interface (OpenAPI or WSDL) before it is published",
        ));
    }
    if !draft.audience.iter().any(|a| !a.trim().is_empty()) {
        return Err(Refusal::new(
            AUDIENCE_EMPTY,
            "the version needs at least one audience before it is published",
        ));
    }
    if draft.personal_data.is_none() {
        return Err(Refusal::new(
            PERSONAL_DATA_MISSING,
            "say whether the e-service handles personal data before publishing it",
        ));
    }
    if draft.daily_calls_per_consumer > draft.daily_calls_total {
        return Err(Refusal::new(
            DAILY_CALLS_INCONSISTENT,
            format!(
                "the daily calls per consumer ({}) exceed the daily calls in total ({})",
                draft.daily_calls_per_consumer, draft.daily_calls_total
            ),
        ));
    }
    let previous = previous.and_then(|p| match p.state {
        DescriptorState::Published | DescriptorState::Suspended | DescriptorState::Deprecated => {
            let to = if p.live_agreements > 0 {
                DescriptorState::Deprecated
            } else {
                DescriptorState::Archived
            };
            (to != p.state).then_some(to)
        }
        DescriptorState::Draft | DescriptorState::Archived => None,
    });
    Ok(PublishPlan {
        state: DescriptorState::Published,
        previous,
    })
}

/// A DEPRECATED version whose last agreement went away (archived, upgraded, deleted) is
/// archived; any other state stays.
pub fn retire_if_unused(state: DescriptorState, live_agreements: u64) -> Option<DescriptorState> {
    (state == DescriptorState::Deprecated && live_agreements == 0)
        .then_some(DescriptorState::Archived)
}

/// PUBLISHED or DEPRECATED → SUSPENDED: no voucher is issued for it until reactivated.
pub fn suspend(state: DescriptorState) -> Result<DescriptorState, Refusal> {
    match state {
        DescriptorState::Published | DescriptorState::Deprecated => Ok(DescriptorState::Suspended),
        DescriptorState::Suspended => Err(Refusal::new(
            "descriptor_already_suspended",
            "the version is already suspended",
        )),
        DescriptorState::Draft | DescriptorState::Archived => Err(Refusal::new(
            "descriptor_not_published",
            format!(
                "only a published or deprecated version can be suspended (this one is {})",
                state.as_str()
            ),
        )),
    }
}

/// SUSPENDED → PUBLISHED when it is the latest non-draft version, else DEPRECATED (a newer
/// version was published meanwhile).
pub fn activate(state: DescriptorState, is_latest: bool) -> Result<DescriptorState, Refusal> {
    match state {
        DescriptorState::Suspended if is_latest => Ok(DescriptorState::Published),
        DescriptorState::Suspended => Ok(DescriptorState::Deprecated),
        _ => Err(Refusal::new(
            "descriptor_not_suspended",
            format!(
                "only a suspended version can be reactivated (this one is {})",
                state.as_str()
            ),
        )),
    }
}

/// Only a draft is changed or deleted.
pub fn edit_draft(state: DescriptorState) -> Result<(), Refusal> {
    if state == DescriptorState::Draft {
        Ok(())
    } else {
        Err(Refusal::new(
            "descriptor_not_draft",
            format!(
                "only a draft version can be changed or deleted (this one is {})",
                state.as_str()
            ),
        ))
    }
}

/// Only a draft is deleted.
pub fn delete_draft(state: DescriptorState) -> Result<(), Refusal> {
    edit_draft(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DescriptorState::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "description": "Prima versione",
            "audience": ["api.notifichedigitali.it"],
            "voucherLifespan": 600,
            "dailyCallsPerConsumer": 1000,
            "dailyCallsTotal": 10000,
            "agreementApprovalPolicy": "AUTOMATIC"
        })
    }

    fn fields(v: Value) -> Vec<String> {
        testkit::error_fields(parse_descriptor(&v))
    }

    #[test]
    fn a_valid_descriptor_is_read() {
        let d = parse_descriptor(&valid()).unwrap();
        assert_eq!(d.description.as_deref(), Some("Prima versione"));
        assert_eq!(d.audience, vec!["api.notifichedigitali.it"]);
        assert_eq!(d.voucher_lifespan, 600);
        assert_eq!(d.daily_calls_per_consumer, 1000);
        assert_eq!(d.daily_calls_total, 10000);
        assert_eq!(
            d.agreement_approval_policy,
            AgreementApprovalPolicy::Automatic
        );
        assert_eq!(serde_json::to_value(&d).unwrap(), valid());
    }

    #[test]
    fn a_draft_may_have_no_audience_or_description() {
        let mut v = valid();
        let obj = v.as_object_mut().unwrap();
        obj.remove("description");
        obj.insert("audience".into(), json!([]));
        let d = parse_descriptor(&v).unwrap();
        assert!(d.audience.is_empty());
        assert_eq!(d.description, None);
        let mut v = valid();
        v["description"] = json!("   ");
        assert_eq!(parse_descriptor(&v).unwrap().description, None);
    }

    #[test]
    fn numbers_are_checked_at_their_exact_boundaries() {
        let cases: [(&str, i64, i64); 3] = [
            ("voucherLifespan", 60, 86_400),
            ("dailyCallsPerConsumer", 1, 1_000_000_000),
            ("dailyCallsTotal", 1, 1_000_000_000),
        ];
        for (key, min, max) in cases {
            for (n, ok) in [(min - 1, false), (min, true), (max, true), (max + 1, false)] {
                let mut v = valid();
                v[key] = json!(n);
                // Keep per-consumer ≤ total so that only the field under test matters.
                if key == "dailyCallsPerConsumer" {
                    v["dailyCallsTotal"] = json!(1_000_000_000);
                }
                if key == "dailyCallsTotal" {
                    v["dailyCallsPerConsumer"] = json!(1);
                }
                let got = fields(v);
                if ok {
                    assert!(got.is_empty(), "{key} = {n}: {got:?}");
                } else {
                    assert_eq!(got, vec![key], "{key} = {n}");
                }
            }
        }
    }

    #[test]
    fn per_consumer_calls_may_equal_but_not_exceed_the_total() {
        let mut v = valid();
        v["dailyCallsPerConsumer"] = json!(10000);
        assert!(parse_descriptor(&v).is_ok());
        v["dailyCallsPerConsumer"] = json!(10001);
        let errors = parse_descriptor(&v).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "dailyCallsPerConsumer");
        assert!(errors[0].message.contains("dailyCallsTotal"));
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("description", json!("d".repeat(251)), "description"),
            ("description", json!(3), "description"),
            ("audience", json!("api.example.it"), "audience"),
            ("audience", json!(["a", ""]), "audience[1]"),
            ("audience", json!(["a", 7]), "audience[1]"),
            ("audience", json!(["a", "a"]), "audience[1]"),
            ("audience", json!(vec!["a"; 21]), "audience"),
            ("voucherLifespan", json!(600.5), "voucherLifespan"),
            ("voucherLifespan", json!("600"), "voucherLifespan"),
            ("voucherLifespan", json!(null), "voucherLifespan"),
            ("dailyCallsTotal", json!(1e30), "dailyCallsTotal"),
            ("dailyCallsTotal", json!(u64::MAX), "dailyCallsTotal"),
            (
                "agreementApprovalPolicy",
                json!("AUTO"),
                "agreementApprovalPolicy",
            ),
            (
                "agreementApprovalPolicy",
                json!(null),
                "agreementApprovalPolicy",
            ),
        ];
        for (key, value, field) in cases {
            let mut v = valid();
            v[key] = value.clone();
            assert_eq!(fields(v), vec![field], "{key} = {value}");
        }
        let mut v = valid();
        v["voucherLifespan"] = json!(6e2);
        assert_eq!(parse_descriptor(&v).unwrap().voucher_lifespan, 600);
        assert_eq!(fields(json!([])), vec!["body"]);
    }

    #[test]
    fn states_round_trip_in_upper_snake_case() {
        for s in DescriptorState::ALL {
            assert_eq!(DescriptorState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(DescriptorState::parse("draft"), None);
        let serving: Vec<_> = DescriptorState::ALL
            .into_iter()
            .filter(|s| s.serves_vouchers())
            .collect();
        assert_eq!(serving, vec![Published, Deprecated]);
    }

    #[test]
    fn only_one_draft_at_a_time() {
        assert!(can_add_draft(&[]).is_ok());
        assert!(can_add_draft(&[Published, Deprecated, Archived, Suspended]).is_ok());
        assert_eq!(
            can_add_draft(&[Published, Draft]).unwrap_err().code,
            "draftDescriptorAlreadyExists"
        );
    }

    #[test]
    fn versions_count_from_one() {
        assert_eq!(next_version(0), "1");
        assert_eq!(next_version(1), "2");
        assert_eq!(next_version(9), "10");
        assert_eq!(parse_version("10"), Some(10));
        assert_eq!(parse_version("0"), None);
        assert_eq!(parse_version("v1"), None);
    }

    fn draft() -> DescriptorFacts {
        DescriptorFacts {
            state: Draft,
            has_interface: true,
            personal_data: Some(false),
            audience: vec!["api.example.it".into()],
            daily_calls_per_consumer: 10,
            daily_calls_total: 10,
        }
    }

    #[test]
    fn publishing_needs_a_complete_draft() {
        for s in [Published, Suspended, Deprecated, Archived] {
            let d = DescriptorFacts {
                state: s,
                ..draft()
            };
            assert_eq!(publish(&d, None).unwrap_err().code, "descriptor_not_draft");
        }
        let code = |d: DescriptorFacts| publish(&d, None).unwrap_err().code;
        // In the real platform's order: the interface first, the audience, the flag.
        let bare = DescriptorFacts {
            has_interface: false,
            audience: vec![],
            personal_data: None,
            ..draft()
        };
        assert_eq!(code(bare.clone()), "eServiceDescriptorWithoutInterface");
        let bare = DescriptorFacts {
            has_interface: true,
            ..bare
        };
        assert_eq!(code(bare.clone()), "audienceCannotBeEmpty");
        let blank = DescriptorFacts {
            audience: vec!["  ".into()],
            ..bare.clone()
        };
        assert_eq!(code(blank), "audienceCannotBeEmpty");
        let bare = DescriptorFacts {
            audience: vec!["api.example.it".into()],
            ..bare
        };
        assert_eq!(code(bare), "missingPersonalDataFlag");
        // Either answer to the flag will do.
        for personal_data in [Some(true), Some(false)] {
            assert!(
                publish(
                    &DescriptorFacts {
                        personal_data,
                        ..draft()
                    },
                    None
                )
                .is_ok()
            );
        }
        let d = DescriptorFacts {
            daily_calls_per_consumer: 11,
            ..draft()
        };
        assert_eq!(code(d), "inconsistentDailyCalls");
        assert_eq!(
            publish(&draft(), None).unwrap(),
            PublishPlan {
                state: Published,
                previous: None
            }
        );
    }

    #[test]
    fn publishing_deprecates_a_used_previous_version_and_archives_an_unused_one() {
        let plan = |state, live_agreements| {
            publish(
                &draft(),
                Some(&PreviousFacts {
                    state,
                    live_agreements,
                }),
            )
            .unwrap()
            .previous
        };
        assert_eq!(plan(Published, 1), Some(Deprecated));
        assert_eq!(plan(Published, 0), Some(Archived));
        assert_eq!(plan(Suspended, 3), Some(Deprecated));
        assert_eq!(plan(Suspended, 0), Some(Archived));
        // Already deprecated: stays while used.
        assert_eq!(plan(Deprecated, 1), None);
        assert_eq!(plan(Deprecated, 0), Some(Archived));
        assert_eq!(plan(Archived, 0), None);
        assert_eq!(plan(Draft, 5), None);
    }

    #[test]
    fn deprecated_versions_retire_with_their_last_agreement() {
        assert_eq!(retire_if_unused(Deprecated, 0), Some(Archived));
        assert_eq!(retire_if_unused(Deprecated, 1), None);
        for s in [Draft, Published, Suspended, Archived] {
            assert_eq!(retire_if_unused(s, 0), None);
        }
    }

    #[test]
    fn suspend_and_activate_follow_the_table() {
        assert_eq!(suspend(Published).unwrap(), Suspended);
        assert_eq!(suspend(Deprecated).unwrap(), Suspended);
        assert_eq!(
            suspend(Suspended).unwrap_err().code,
            "descriptor_already_suspended"
        );
        assert_eq!(suspend(Draft).unwrap_err().code, "descriptor_not_published");
        assert_eq!(
            suspend(Archived).unwrap_err().code,
            "descriptor_not_published"
        );
        assert_eq!(activate(Suspended, true).unwrap(), Published);
        assert_eq!(activate(Suspended, false).unwrap(), Deprecated);
        for s in [Draft, Published, Deprecated, Archived] {
            for latest in [true, false] {
                assert_eq!(
                    activate(s, latest).unwrap_err().code,
                    "descriptor_not_suspended"
                );
            }
        }
    }

    #[test]
    fn published_versions_update_in_place_and_files_follow_the_state() {
        for s in [Published, Suspended, Deprecated] {
            assert!(update_published(s).is_ok());
        }
        for s in [Draft, Archived] {
            assert_eq!(
                update_published(s).unwrap_err().code,
                "descriptor_not_published"
            );
        }
        let u = parse_published_update(
            &json!({"voucherLifespan": 120, "dailyCallsPerConsumer": 5, "dailyCallsTotal": 5}),
        )
        .unwrap();
        assert_eq!(u.voucher_lifespan, 120);
        let errors = parse_published_update(
            &json!({"voucherLifespan": 59, "dailyCallsPerConsumer": 6, "dailyCallsTotal": 5}),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["voucherLifespan", "dailyCallsPerConsumer"]);
        assert_eq!(
            parse_policy(&json!({"agreementApprovalPolicy": "MANUAL"})).unwrap(),
            AgreementApprovalPolicy::Manual
        );
        assert!(parse_policy(&json!({"agreementApprovalPolicy": "manual"})).is_err());
        use DocumentKind::*;
        assert!(add_document(Draft, Interface).is_ok());
        for s in [Published, Suspended, Deprecated, Archived] {
            assert_eq!(
                add_document(s, Interface).unwrap_err().code,
                "notValidDescriptor"
            );
            assert_eq!(
                delete_document(s, Interface).unwrap_err().code,
                "notValidDescriptor"
            );
        }
        for s in [Draft, Published, Suspended, Deprecated] {
            assert!(add_document(s, Document).is_ok());
            assert!(delete_document(s, Document).is_ok());
        }
        assert_eq!(
            add_document(Archived, Document).unwrap_err().code,
            "notValidDescriptor"
        );
    }

    #[test]
    fn only_drafts_are_edited_or_deleted() {
        assert!(edit_draft(Draft).is_ok());
        assert!(delete_draft(Draft).is_ok());
        for s in [Published, Suspended, Deprecated, Archived] {
            assert_eq!(edit_draft(s).unwrap_err().code, "descriptor_not_draft");
            assert_eq!(delete_draft(s).unwrap_err().code, "descriptor_not_draft");
        }
    }

    /// What a producer (and its consumers) may do to an e-service's versions.
    #[derive(Debug, Clone)]
    enum Op {
        AddDraft,
        /// Publish the draft; the previous version has this many live agreements.
        Publish(u64),
        Suspend(usize),
        Activate(usize),
        /// The last agreement of version `i` went away.
        LastAgreementGone(usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Op::AddDraft),
            (0u64..3).prop_map(Op::Publish),
            (0usize..6).prop_map(Op::Suspend),
            (0usize..6).prop_map(Op::Activate),
            (0usize..6).prop_map(Op::LastAgreementGone),
        ]
    }

    proptest::proptest! {
        /// Whatever happens, in any order: at most one draft and it is the newest version; at
        /// most one PUBLISHED version and it is the newest non-draft one; an archived version
        /// never comes back; a refused step changes nothing.
        #[test]
        fn the_version_lifecycle_keeps_its_invariants(
            ops in proptest::collection::vec(op(), 0..60)
        ) {
            let mut versions: Vec<DescriptorState> = Vec::new();
            for o in ops {
                let before = versions.clone();
                match o {
                    Op::AddDraft => {
                        if can_add_draft(&versions).is_ok() {
                            versions.push(Draft);
                        }
                    }
                    Op::Publish(live) => {
                        let Some(d) = versions.iter().position(|s| *s == Draft) else {
                            continue;
                        };
                        let previous = versions[..d].iter().rposition(|s| {
                            matches!(s, Published | Suspended | Deprecated)
                        });
                        let facts = previous.map(|p| PreviousFacts {
                            state: versions[p],
                            live_agreements: live,
                        });
                        let plan = publish(&draft(), facts.as_ref()).unwrap();
                        versions[d] = plan.state;
                        if let (Some(p), Some(to)) = (previous, plan.previous) {
                            versions[p] = to;
                        }
                    }
                    Op::Suspend(i) => {
                        if let Some(s) = versions.get(i).copied()
                            && let Ok(to) = suspend(s)
                        {
                            versions[i] = to;
                        }
                    }
                    Op::Activate(i) => {
                        let latest = versions.iter().rposition(|s| *s != Draft);
                        if let Some(s) = versions.get(i).copied()
                            && let Ok(to) = activate(s, latest == Some(i))
                        {
                            versions[i] = to;
                        }
                    }
                    Op::LastAgreementGone(i) => {
                        if let Some(s) = versions.get(i).copied()
                            && let Some(to) = retire_if_unused(s, 0)
                        {
                            versions[i] = to;
                        }
                    }
                }
                let drafts: Vec<usize> =
                    versions.iter().enumerate().filter(|(_, s)| **s == Draft).map(|(i, _)| i).collect();
                proptest::prop_assert!(drafts.len() <= 1, "{versions:?}");
                if let Some(d) = drafts.first() {
                    proptest::prop_assert_eq!(*d, versions.len() - 1, "the draft is the newest: {:?}", versions);
                }
                let published: Vec<usize> = versions
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| **s == Published)
                    .map(|(i, _)| i)
                    .collect();
                proptest::prop_assert!(published.len() <= 1, "{versions:?}");
                if let Some(p) = published.first() {
                    let newest = versions.iter().rposition(|s| *s != Draft);
                    proptest::prop_assert_eq!(Some(*p), newest, "published is the newest: {:?}", versions);
                }
                for (i, s) in before.iter().enumerate() {
                    if *s == Archived {
                        proptest::prop_assert_eq!(versions[i], Archived, "{:?}", versions);
                    }
                }
            }
        }
    }
}
