use super::*;
use proptest::prelude::*;
use serde_json::json;

fn req(id: &str) -> Requirement {
    Requirement {
        id: id.into(),
        explicit_attribute_verification: false,
        daily_calls_per_consumer: None,
    }
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn facts(state: AgreementState, consumer: bool, producer: bool, platform: bool) -> AgreementFacts {
    AgreementFacts {
        state,
        suspended_by_consumer: consumer,
        suspended_by_producer: producer,
        suspended_by_platform: platform,
        consumer_id: "c".into(),
        producer_id: "p".into(),
    }
}

fn verdict(certified: bool, declared: bool, verified: bool) -> Verdict {
    Verdict {
        certified,
        declared,
        verified,
        missing: Vec::new(),
    }
}

/// The rule written as plainly as possible: for each group, look for a held member.
fn reference(groups: &[Vec<String>], held: &[String]) -> bool {
    for group in groups {
        if group.is_empty() {
            continue;
        }
        let mut found = false;
        for id in group {
            for h in held {
                if h == id {
                    found = true;
                }
            }
        }
        if !found {
            return false;
        }
    }
    true
}

proptest! {
    #[test]
    fn and_of_or_groups_agree_with_a_plain_reference(
        groups in proptest::collection::vec(
            proptest::collection::vec(0u8..8, 0..4), 0..5),
        held in proptest::collection::vec(0u8..8, 0..6),
    ) {
        let groups: Vec<Vec<String>> = groups
            .iter()
            .map(|g| g.iter().map(|n| format!("a{n}")).collect())
            .collect();
        let held: Vec<String> = held.iter().map(|n| format!("a{n}")).collect();
        let requirement: Vec<Vec<Requirement>> = groups
            .iter()
            .map(|g| g.iter().map(|id| req(id)).collect())
            .collect();
        let held_set: BTreeSet<String> = held.iter().cloned().collect();
        prop_assert_eq!(groups_hold(&requirement, &held_set), reference(&groups, &held));
        // The failing groups are exactly the groups without a held member.
        let failing = failing_groups(&requirement, &held_set);
        prop_assert_eq!(failing.is_empty(), reference(&groups, &held));
        for g in &failing {
            prop_assert!(g.iter().all(|id| !held_set.contains(id)));
        }
        // Holding more never makes a group fail.
        let mut more = held_set.clone();
        more.insert("a0".into());
        prop_assert!(!groups_hold(&requirement, &held_set) || groups_hold(&requirement, &more));
    }

    #[test]
    fn recompute_is_stable_and_never_touches_closed_agreements(
        state in proptest::sample::select(AgreementState::ALL.to_vec()),
        consumer: bool, producer: bool, platform: bool,
        c: bool, d: bool, v: bool,
    ) {
        let f = facts(state, consumer, producer, platform);
        let verdict = verdict(c, d, v);
        match recompute(&f, &verdict) {
            None => {}
            Some(change) => {
                // Applying it twice changes nothing more.
                let again = AgreementFacts {
                    state: change.state,
                    suspended_by_consumer: change.suspended_by_consumer,
                    suspended_by_producer: change.suspended_by_producer,
                    suspended_by_platform: change.suspended_by_platform,
                    ..f.clone()
                };
                prop_assert_eq!(recompute(&again, &verdict), None);
                prop_assert!(!matches!(state, AgreementState::Archived | AgreementState::Rejected));
                // The parties' flags are theirs.
                prop_assert_eq!(change.suspended_by_consumer, consumer);
                prop_assert_eq!(change.suspended_by_producer, producer);
                if change.state == AgreementState::Active {
                    prop_assert!(c && d && v);
                }
            }
        }
    }
}

#[test]
fn an_active_agreement_is_suspended_by_the_platform_and_comes_back() {
    use AgreementState::*;
    let lost = recompute(
        &facts(Active, false, false, false),
        &verdict(false, true, true),
    )
    .unwrap();
    assert_eq!(lost.state, Suspended);
    assert!(lost.suspended_by_platform);
    let back = recompute(
        &facts(Suspended, false, false, true),
        &verdict(true, true, true),
    )
    .unwrap();
    assert_eq!(back.state, Active);
    assert!(!back.suspended_by_platform);
    // Another flag keeps it suspended; only the platform's flag goes.
    let still = recompute(
        &facts(Suspended, true, false, true),
        &verdict(true, true, true),
    )
    .unwrap();
    assert_eq!(still.state, Suspended);
    assert!(!still.suspended_by_platform && still.suspended_by_consumer);
    // A declared or verified attribute lost suspends too.
    for v in [verdict(true, false, true), verdict(true, true, false)] {
        let c = recompute(&facts(Active, false, false, false), &v).unwrap();
        assert_eq!((c.state, c.suspended_by_platform), (Suspended, true));
    }
    // A suspension from before the flags is not the platform's to lift.
    assert_eq!(
        recompute(
            &facts(Suspended, false, false, false),
            &verdict(true, true, true)
        ),
        None
    );
}

#[test]
fn drafts_and_pending_requests_wait_for_certified_attributes() {
    use AgreementState::*;
    for s in [Draft, Pending] {
        let c = recompute(&facts(s, false, false, false), &verdict(false, true, true)).unwrap();
        assert_eq!(c.state, MissingCertifiedAttributes);
        // Declared or verified missing do not move a draft or a request.
        assert_eq!(
            recompute(&facts(s, false, false, false), &verdict(true, false, false)),
            None
        );
    }
    let back = recompute(
        &facts(MissingCertifiedAttributes, false, false, false),
        &verdict(true, false, false),
    )
    .unwrap();
    assert_eq!(back.state, Draft);
    for s in [Archived, Rejected] {
        assert_eq!(
            recompute(
                &facts(s, false, false, false),
                &verdict(false, false, false)
            ),
            None
        );
    }
}

#[test]
fn submission_follows_the_policy_once_certified_and_declared_hold() {
    let all = verdict(true, true, true);
    assert_eq!(submission(&all, true, false), Ok(Submission::Active));
    assert_eq!(submission(&all, false, false), Ok(Submission::Pending));
    // AUTOMATIC waits for the producer while a verified attribute is missing.
    assert_eq!(
        submission(&verdict(true, true, false), true, false),
        Ok(Submission::Pending)
    );
    assert_eq!(
        submission(&verdict(false, true, true), true, false),
        Ok(Submission::MissingCertified)
    );
    assert_eq!(
        submission(&verdict(true, false, true), true, false)
            .unwrap_err()
            .code,
        "agreementSubmissionFailed"
    );
    // The producer consuming its own e-service needs nothing.
    assert_eq!(
        submission(&verdict(false, false, false), false, true),
        Ok(Submission::Active)
    );
    assert_eq!(
        can_create(&verdict(false, true, true), false)
            .unwrap_err()
            .code,
        "missingCertifiedAttributesError"
    );
    assert!(can_create(&verdict(false, false, false), true).is_ok());
    assert_eq!(
        can_approve(&verdict(true, true, false), false)
            .unwrap_err()
            .code,
        "agreementActivationFailed"
    );
}

#[test]
fn a_verification_counts_for_its_producer_until_it_expires_or_is_revoked() {
    let v = Verification {
        verifier_id: "p".into(),
        expires_at: Some(1_000),
        revoked_at: None,
    };
    assert!(verification_counts(&v, "p", 999));
    assert!(!verification_counts(&v, "p", 1_000));
    assert!(!verification_counts(&v, "other", 999));
    let revoked = Verification {
        revoked_at: Some(5),
        ..v.clone()
    };
    assert!(!verification_counts(&revoked, "p", 0));
    let forever = Verification {
        expires_at: None,
        ..v
    };
    assert!(verification_counts(&forever, "p", i64::MAX));
}

#[test]
fn the_quota_is_the_largest_of_the_certified_attributes_held() {
    let r = Requirements {
        certified: vec![vec![
            Requirement {
                daily_calls_per_consumer: Some(500),
                ..req("a")
            },
            Requirement {
                daily_calls_per_consumer: Some(2_000),
                ..req("b")
            },
            req("c"),
        ]],
        ..Requirements::default()
    };
    let held = |ids: &[&str]| Held {
        certified: set(ids),
        ..Held::default()
    };
    assert_eq!(quota(&r, &held(&["a"]), 100), 500);
    assert_eq!(quota(&r, &held(&["a", "b"]), 100), 2_000);
    assert_eq!(quota(&r, &held(&["c"]), 100), 100);
    assert_eq!(quota(&r, &held(&[]), 100), 100);
}

#[test]
fn requirements_are_read_with_their_errors_and_empty_groups_dropped() {
    let kinds = |id: &str| match id {
        "c1" | "c2" => Some(AttributeKind::Certified),
        "d1" => Some(AttributeKind::Declared),
        "v1" => Some(AttributeKind::Verified),
        _ => None,
    };
    let ok = parse_requirements(
        Some(&json!({
            "certified": [[{"id": "c1", "dailyCallsPerConsumer": 10}, {"id": "c2"}], []],
            "declared": [[{"id": "d1"}]],
            "verified": []
        })),
        kinds,
    )
    .unwrap();
    assert_eq!(ok.certified.len(), 1);
    assert_eq!(ok.certified[0][0].daily_calls_per_consumer, Some(10));
    assert_eq!(ok.ids().len(), 3);
    assert_eq!(
        parse_requirements(None, kinds).unwrap(),
        Requirements::default()
    );
    let bad = parse_requirements(
        Some(&json!({
            "certified": [[{"id": "c1"}, {"id": "c1"}, {"id": "d1"}, {"id": "zz"}]],
            "declared": [[{"id": "d1", "dailyCallsPerConsumer": 5}]]
        })),
        kinds,
    )
    .unwrap_err();
    let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "attributes.certified[0][1].id",
            "attributes.certified[0][2].id",
            "attributes.certified[0][3].id",
            "attributes.declared[0][0].dailyCallsPerConsumer",
        ]
    );
    assert!(bad[0].message.starts_with("attributeDuplicatedInGroup"));
    assert!(bad[2].message.starts_with("attributeNotFound"));
    assert!(parse_requirements(Some(&json!([1])), kinds).is_err());
    // Stored and read back.
    assert_eq!(Requirements::from_stored(&ok.to_stored()), Some(ok));
}

#[test]
fn attribute_names_and_descriptions_are_bounded() {
    let ok = parse_attribute(&AttributeInput {
        name: "  Iscrizione all'albo  ".into(),
        description: "L'ente dichiara di essere iscritto all'albo.".into(),
    })
    .unwrap();
    assert_eq!(ok.name, "Iscrizione all'albo");
    assert_eq!(name_key(" Iscrizione ALL'albo"), "iscrizione all'albo");
    let bad = parse_attribute(&AttributeInput {
        name: "x".into(),
        description: "short".into(),
    })
    .unwrap_err();
    assert_eq!(bad.len(), 2);
}
