//! The purposes' payloads, quota rule and state machine.

use super::*;
use PurposeVersionState::*;
use serde_json::json;

const ESERVICE: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

fn valid() -> Value {
    json!({
        "eserviceId": ESERVICE,
        "title": "Notifiche TARI",
        "description": "Invio degli avvisi di pagamento della TARI",
        "isFreeOfCharge": false,
        "dailyCalls": 1000
    })
}

fn fields(v: Value) -> Vec<String> {
    testkit::error_fields(parse_purpose(&v))
}

#[test]
fn a_valid_purpose_is_read() {
    let p = parse_purpose(&valid()).unwrap();
    assert_eq!(p.eservice_id, ESERVICE);
    assert_eq!(p.title, "Notifiche TARI");
    assert!(!p.is_free_of_charge);
    assert_eq!(p.free_of_charge_reason, None);
    assert_eq!(p.daily_calls, 1000);
    assert_eq!(p.risk_analysis_form, None);
    assert_eq!(p.title_key(), "notifiche tari");
    assert_eq!(serde_json::to_value(&p).unwrap(), valid());
    let mut v = valid();
    v["eserviceId"] = json!(ESERVICE.to_uppercase());
    assert_eq!(parse_purpose(&v).unwrap().eservice_id, ESERVICE);
}

#[test]
fn a_valid_update_has_no_eservice() {
    let mut v = valid();
    v.as_object_mut().unwrap().remove("eserviceId");
    let u = parse_purpose_update(&v).unwrap();
    assert_eq!(u.title, "Notifiche TARI");
    assert_eq!(fields(v), vec!["eserviceId"]);
    assert_eq!(
        parse_purpose_update(&json!({})).unwrap_err().len(),
        4,
        "title, description, isFreeOfCharge, dailyCalls"
    );
}

#[test]
fn lengths_and_calls_are_checked_at_their_exact_boundaries() {
    for (key, min, max) in [
        ("title", TITLE_MIN, TITLE_MAX),
        ("description", DESCRIPTION_MIN, DESCRIPTION_MAX),
    ] {
        for (n, ok) in [(min - 1, false), (min, true), (max, true), (max + 1, false)] {
            let mut v = valid();
            v[key] = json!("à".repeat(n));
            assert_eq!(fields(v).is_empty(), ok, "{key} with {n} characters");
        }
    }
    for (n, ok) in [
        (0, false),
        (1, true),
        (1_000_000_000, true),
        (1_000_000_001, false),
    ] {
        let mut v = valid();
        v["dailyCalls"] = json!(n);
        assert_eq!(fields(v).is_empty(), ok, "dailyCalls = {n}");
        assert_eq!(
            parse_new_version(&json!({ "dailyCalls": n })).is_ok(),
            ok,
            "new version dailyCalls = {n}"
        );
    }
    assert_eq!(
        parse_new_version(&json!({})).unwrap_err()[0].field,
        "dailyCalls"
    );
}

#[test]
fn a_free_of_charge_purpose_says_why_and_only_then() {
    let mut v = valid();
    v["isFreeOfCharge"] = json!(true);
    assert_eq!(fields(v.clone()), vec!["freeOfChargeReason"]);
    v["freeOfChargeReason"] = json!("  ");
    let errors = parse_purpose(&v).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("free of charge"), "{errors:?}");
    v["freeOfChargeReason"] = json!("r".repeat(250));
    assert!(parse_purpose(&v).is_ok());
    v["freeOfChargeReason"] = json!("r".repeat(251));
    assert_eq!(fields(v.clone()), vec!["freeOfChargeReason"]);
    v["freeOfChargeReason"] = json!(" Servizio pubblico gratuito ");
    assert_eq!(
        parse_purpose(&v).unwrap().free_of_charge_reason.as_deref(),
        Some("Servizio pubblico gratuito")
    );
    v["isFreeOfCharge"] = json!(false);
    assert_eq!(fields(v.clone()), vec!["freeOfChargeReason"]);
    v["freeOfChargeReason"] = json!("");
    assert_eq!(parse_purpose(&v).unwrap().free_of_charge_reason, None);
    v["isFreeOfCharge"] = json!("no");
    assert_eq!(fields(v), vec!["isFreeOfCharge"]);
}

#[test]
fn each_rule_names_its_field() {
    let cases: Vec<(&str, Value)> = vec![
        ("eserviceId", json!(null)),
        ("eserviceId", json!("not-a-uuid")),
        ("eserviceId", json!(42)),
        ("title", json!(["x"])),
        ("description", json!(null)),
        ("isFreeOfCharge", json!(null)),
        ("dailyCalls", json!(10.5)),
        ("dailyCalls", json!("10")),
        ("riskAnalysisForm", json!("yes")),
    ];
    for (key, value) in cases {
        let mut v = valid();
        v[key] = value.clone();
        assert_eq!(fields(v), vec![key], "{key} = {value}");
    }
    assert_eq!(fields(json!(null)), vec!["body"]);
}

#[test]
fn the_risk_analysis_is_checked_against_the_current_form() {
    let mut v = valid();
    v["riskAnalysisForm"] = risk_analysis::tests::complete_answers();
    let p = parse_purpose(&v).unwrap();
    let form = p.risk_analysis_form.unwrap();
    assert_eq!(form.version, risk_analysis::FORM_VERSION);
    v["riskAnalysisForm"]["answers"]["purpose"] = json!([]);
    v["riskAnalysisForm"]["version"] = json!("0.1");
    assert_eq!(
        fields(v),
        vec![
            "riskAnalysisForm.version",
            "riskAnalysisForm.answers.purpose"
        ]
    );
}

#[test]
fn titles_are_unique_regardless_of_case_and_spaces() {
    assert_eq!(title_key("  Notifiche TARI "), title_key("notifiche tari"));
    assert_ne!(title_key("Notifiche TARI"), title_key("Notifiche IMU"));
}

#[test]
fn states_round_trip_in_upper_snake_case() {
    for s in PurposeVersionState::ALL {
        assert_eq!(PurposeVersionState::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert_eq!(WaitingForApproval.as_str(), "WAITING_FOR_APPROVAL");
    let counted: Vec<_> = PurposeVersionState::ALL
        .into_iter()
        .filter(|s| s.counts_for_quota())
        .collect();
    assert_eq!(counted, vec![Active]);
}

#[test]
fn the_quota_allows_reaching_each_limit_exactly() {
    // Per consumer: 700 active + 300 = 1000 is allowed, + 301 is not.
    assert!(!over_quota(700, 700, 300, 1000, 10_000));
    assert!(over_quota(700, 700, 301, 1000, 10_000));
    // In total: 9000 active + 1000 = 10000 is allowed, + 1001 is not (per consumer
    // would allow it).
    assert!(!over_quota(0, 9000, 1000, 5000, 10_000));
    assert!(over_quota(0, 9000, 1001, 5000, 10_000));
    // Both limits at once.
    assert!(!over_quota(999, 9999, 1, 1000, 10_000));
    assert!(over_quota(1000, 9999, 1, 1000, 10_000));
    assert!(over_quota(999, 10_000, 1, 1000, 10_000));
    // Nothing active yet.
    assert!(!over_quota(0, 0, 1000, 1000, 1000));
    assert!(over_quota(0, 0, 1001, 1000, 1000));
    // No overflow with absurd sums.
    assert!(over_quota(i64::MAX, i64::MAX, i64::MAX, i64::MAX, i64::MAX));
}

#[test]
fn a_draft_becomes_active_or_waits_for_the_producer() {
    assert_eq!(activate_draft(Draft, false).unwrap(), Active);
    assert_eq!(activate_draft(Draft, true).unwrap(), WaitingForApproval);
    for s in [Active, Suspended, Archived, WaitingForApproval, Rejected] {
        for over in [false, true] {
            assert_eq!(
                activate_draft(s, over).unwrap_err().code,
                "purpose_version_not_draft"
            );
        }
    }
}

fn v(id: &str, state: PurposeVersionState, daily_calls: i64) -> VersionFacts {
    VersionFacts {
        id: id.into(),
        state,
        daily_calls,
    }
}

fn purpose(versions: Vec<VersionFacts>) -> PurposeFacts {
    PurposeFacts {
        versions,
        ..PurposeFacts::default()
    }
}

fn vc(id: &str, from: PurposeVersionState, to: PurposeVersionState) -> VersionChange {
    VersionChange {
        version_id: id.into(),
        from,
        to,
        rejection_reason: None,
    }
}

#[test]
fn a_new_version_replaces_the_current_one_within_the_quota() {
    let p = purpose(vec![v("1", Archived, 10), v("2", Active, 100)]);
    let n = new_version(&p, 200, false).unwrap();
    assert_eq!(n.state, Active);
    assert_eq!(n.changes, vec![vc("2", Active, Archived)]);
    let n = new_version(&p, 50, true).unwrap();
    assert_eq!(n.state, WaitingForApproval);
    assert!(n.changes.is_empty());
    // A suspended purpose stays suspended on its new version.
    let mut s = purpose(vec![v("1", Suspended, 100)]);
    s.suspended_by_producer = true;
    let n = new_version(&s, 200, false).unwrap();
    assert_eq!(n.state, Suspended);
    assert_eq!(n.changes, vec![vc("1", Suspended, Archived)]);
}

#[test]
fn a_new_version_is_refused_when_nothing_would_change_or_one_waits() {
    let p = purpose(vec![v("1", Active, 100), v("2", WaitingForApproval, 5000)]);
    assert_eq!(
        new_version(&p, 200, false).unwrap_err().code,
        "purpose_version_waiting"
    );
    let p = purpose(vec![v("1", Active, 100)]);
    assert_eq!(
        new_version(&p, 100, false).unwrap_err().code,
        "purpose_daily_calls_unchanged"
    );
    for versions in [
        vec![v("1", Draft, 100)],
        vec![v("1", Archived, 100)],
        vec![v("1", Rejected, 100)],
        vec![],
    ] {
        assert_eq!(
            new_version(&purpose(versions), 200, false)
                .unwrap_err()
                .code,
            "purpose_not_active_or_suspended"
        );
    }
}

#[test]
fn the_producer_approves_or_rejects_the_waiting_version() {
    let p = purpose(vec![v("1", Active, 100), v("2", WaitingForApproval, 5000)]);
    assert_eq!(
        approve_waiting(&p, "2").unwrap(),
        vec![
            vc("2", WaitingForApproval, Active),
            vc("1", Active, Archived)
        ]
    );
    let first = purpose(vec![v("1", WaitingForApproval, 5000)]);
    assert_eq!(
        approve_waiting(&first, "1").unwrap(),
        vec![vc("1", WaitingForApproval, Active)]
    );
    let mut suspended = purpose(vec![v("1", Suspended, 100), v("2", WaitingForApproval, 9)]);
    suspended.suspended_by_consumer = true;
    assert_eq!(
        approve_waiting(&suspended, "2").unwrap(),
        vec![
            vc("2", WaitingForApproval, Suspended),
            vc("1", Suspended, Archived)
        ]
    );
    let reason = RejectionReason::of_purpose("rejectionReason", "Carico eccessivo").unwrap();
    let rejected = reject_waiting(&p, "2", reason.clone()).unwrap();
    assert_eq!(rejected.to, Rejected);
    assert_eq!(
        rejected.rejection_reason.as_deref(),
        Some("Carico eccessivo")
    );
    assert_eq!(
        approve_waiting(&p, "1").unwrap_err().code,
        "purpose_version_not_waiting"
    );
    assert_eq!(
        reject_waiting(&p, "1", reason.clone()).unwrap_err().code,
        "purpose_version_not_waiting"
    );
    assert_eq!(
        approve_waiting(&p, "9").unwrap_err().code,
        "purpose_version_not_found"
    );
    assert_eq!(
        reject_waiting(&p, "9", reason).unwrap_err().code,
        "purpose_version_not_found"
    );
}

#[test]
fn each_side_suspends_the_purpose_with_its_own_flag() {
    let p = purpose(vec![v("1", Archived, 1), v("2", Active, 100)]);
    let c = suspend(&p, Side::Consumer).unwrap();
    assert!(c.suspended_by_consumer && !c.suspended_by_producer);
    assert_eq!(c.versions, vec![vc("2", Active, Suspended)]);
    let mut s = purpose(vec![v("2", Suspended, 100)]);
    s.suspended_by_consumer = true;
    let c = suspend(&s, Side::Producer).unwrap();
    assert!(c.suspended_by_consumer && c.suspended_by_producer);
    assert!(c.versions.is_empty());
    assert_eq!(
        suspend(&s, Side::Consumer).unwrap_err().code,
        "purpose_already_suspended"
    );
    for versions in [
        vec![v("1", Draft, 1)],
        vec![v("1", WaitingForApproval, 1)],
        vec![v("1", Archived, 1)],
        vec![v("1", Rejected, 1)],
    ] {
        for side in [Side::Consumer, Side::Producer] {
            assert_eq!(
                suspend(&purpose(versions.clone()), side).unwrap_err().code,
                "purpose_not_active_or_suspended"
            );
        }
    }
}

#[test]
fn the_purpose_is_active_again_when_no_flag_remains() {
    let mut both = purpose(vec![v("2", Suspended, 100)]);
    both.suspended_by_consumer = true;
    both.suspended_by_producer = true;
    let c = activate(&both, Side::Consumer).unwrap();
    assert!(!c.suspended_by_consumer && c.suspended_by_producer);
    assert!(c.versions.is_empty());
    let mut by_producer = both.clone();
    by_producer.suspended_by_consumer = false;
    let c = activate(&by_producer, Side::Producer).unwrap();
    assert!(!c.suspended_by_consumer && !c.suspended_by_producer);
    assert_eq!(c.versions, vec![vc("2", Suspended, Active)]);
    assert_eq!(
        activate(&by_producer, Side::Consumer).unwrap_err().code,
        "purpose_suspended_by_other_side"
    );
    let mut by_consumer = both.clone();
    by_consumer.suspended_by_producer = false;
    assert_eq!(
        activate(&by_consumer, Side::Producer).unwrap_err().code,
        "purpose_suspended_by_other_side"
    );
    assert_eq!(
        activate(&by_consumer, Side::Consumer).unwrap().versions,
        vec![vc("2", Suspended, Active)]
    );
    let unflagged = purpose(vec![v("2", Suspended, 100)]);
    assert_eq!(
        activate(&unflagged, Side::Producer).unwrap().versions,
        vec![vc("2", Suspended, Active)]
    );
    for state in [Draft, Active, Archived, WaitingForApproval, Rejected] {
        let p = purpose(vec![v("1", state, 1)]);
        assert_eq!(
            activate(&p, Side::Consumer).unwrap_err().code,
            "purpose_not_suspended"
        );
    }
}

#[test]
fn archiving_takes_the_current_and_waiting_versions() {
    let p = purpose(vec![v("1", Active, 100), v("2", WaitingForApproval, 5000)]);
    assert_eq!(
        archive(&p).unwrap().versions,
        vec![
            vc("1", Active, Archived),
            vc("2", WaitingForApproval, Archived)
        ]
    );
    let mut s = purpose(vec![v("1", Suspended, 100)]);
    s.suspended_by_producer = true;
    let c = archive(&s).unwrap();
    assert!(c.suspended_by_producer);
    assert_eq!(c.versions, vec![vc("1", Suspended, Archived)]);
    for state in [Draft, Archived, WaitingForApproval, Rejected] {
        assert_eq!(
            archive(&purpose(vec![v("1", state, 1)])).unwrap_err().code,
            "purpose_not_active_or_suspended"
        );
    }
}

#[test]
fn only_never_active_purposes_are_deleted_and_only_drafts_changed() {
    assert!(delete_allowed(&[Draft]).is_ok());
    assert!(delete_allowed(&[WaitingForApproval]).is_ok());
    assert!(delete_allowed(&[Rejected]).is_ok());
    for s in [Active, Suspended, Archived] {
        assert_eq!(
            delete_allowed(&[s, WaitingForApproval]).unwrap_err().code,
            "purpose_not_deletable"
        );
    }
    assert!(update_allowed(&[Draft]).is_ok());
    assert_eq!(update_allowed(&[]).unwrap_err().code, "purpose_not_draft");
    for s in [Active, Suspended, Archived, WaitingForApproval, Rejected] {
        assert_eq!(update_allowed(&[s]).unwrap_err().code, "purpose_not_draft");
    }
}

#[test]
fn purposes_need_an_active_agreement_and_clients_a_live_purpose() {
    assert!(require_active_agreement(Some(AgreementState::Active)).is_ok());
    assert_eq!(
        require_active_agreement(None).unwrap_err().code,
        "agreement_not_active"
    );
    for s in AgreementState::ALL
        .into_iter()
        .filter(|s| *s != AgreementState::Active)
    {
        assert_eq!(
            require_active_agreement(Some(s)).unwrap_err().code,
            "agreement_not_active"
        );
    }
    for p in [Active, Suspended] {
        for a in [AgreementState::Active, AgreementState::Suspended] {
            assert!(linkable_to_client(&[Archived, p], a).is_ok());
        }
        assert_eq!(
            linkable_to_client(&[p], AgreementState::Archived)
                .unwrap_err()
                .code,
            "agreement_not_active_or_suspended"
        );
    }
    for p in [Draft, Archived, WaitingForApproval, Rejected] {
        assert_eq!(
            linkable_to_client(&[p], AgreementState::Active)
                .unwrap_err()
                .code,
            "purpose_not_active_or_suspended"
        );
    }
}
