//! The checks of a client assertion, one change at a time from a valid one, and properties:
//! no input panics, and no change to a signed assertion passes the signature check.

use super::*;
use platform::keys::{SigningKey, SigningKeys, generate_pem_file};
use proptest::prelude::*;
use serde_json::json;
use std::sync::OnceLock;

const AUD: &str = "auth.uat.interop.pagopa.it/client-assertion";
const CLIENT: &str = "6f3a2b7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const PURPOSE: &str = "0b1c2d3e-4f50-4162-8394-a5b6c7d8e9f0";
const NOW: i64 = 1_800_000_000;

fn keys() -> &'static SigningKeys {
    static KEYS: OnceLock<SigningKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("interop-token-test-{}.pem", uuid::Uuid::new_v4()));
        generate_pem_file(&path).unwrap();
        let keys = SigningKeys::load(std::slice::from_ref(&path)).unwrap();
        let _ = std::fs::remove_file(&path);
        keys
    })
}

fn key() -> &'static SigningKey {
    keys().active().unwrap()
}

fn policy() -> Policy {
    Policy {
        audience: AUD.into(),
        strict: false,
        max_lifetime_secs: None,
    }
}

fn claims() -> Value {
    json!({
        "iss": CLIENT, "sub": CLIENT, "aud": AUD, "jti": "a1b2c3", "iat": NOW - 10,
        "exp": NOW + 600, "purposeId": PURPOSE,
    })
}

fn header() -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": key().kid()})
}

fn form(assertion: String) -> TokenForm {
    TokenForm {
        client_id: Some(CLIENT.into()),
        client_assertion: Some(assertion),
        client_assertion_type: Some(ASSERTION_TYPE.into()),
        grant_type: Some(GRANT_TYPE.into()),
    }
}

fn signed(header: &Value, claims: &Value) -> String {
    platform::jwt::sign_with_header(key(), header, claims).unwrap()
}

fn key_facts() -> KeyFacts {
    KeyFacts {
        client_id: CLIENT.into(),
        consumer_id: "comune".into(),
        kind: ClientKind::Consumer,
        n: key().jwk()["n"].as_str().unwrap().into(),
        e: key().jwk()["e"].as_str().unwrap().into(),
    }
}

fn states() -> PurposeStates {
    PurposeStates {
        consumer_id: "comune".into(),
        eservice_id: "send".into(),
        producer_id: "pagopa".into(),
        linked: true,
        active: true,
        waiting_for_approval: false,
        agreement: Some(AgreementFacts {
            id: "agreement".into(),
            state: AgreementState::Active,
            descriptor_id: "v1".into(),
            descriptor_state: DescriptorState::Published,
            audience: vec!["https://a".into(), "https://b".into()],
            voucher_lifespan: 600,
        }),
    }
}

/// Runs every step; the first failure's code, or the grant.
fn run(
    form: &TokenForm,
    policy: &Policy,
    key: Option<&KeyFacts>,
    p: Option<&PurposeStates>,
) -> Result<Grant, &'static str> {
    let a = check_assertion(form, policy, NOW).map_err(|f| f.code)?;
    let k = check_key(&a, key).map_err(|f| f.code)?;
    check_signature(&a, k, &RsaKeyMemo::new()).map_err(|f| f.code)?;
    check_states(&a, k, p).map_err(|f| f.code)
}

fn with(change: impl FnOnce(&mut Value)) -> TokenForm {
    let mut c = claims();
    change(&mut c);
    form(signed(&header(), &c))
}

#[test]
fn a_valid_assertion_passes_every_step_and_each_change_fails_its_own() {
    let k = key_facts();
    let p = states();
    let ok = run(&with(|_| {}), &policy(), Some(&k), Some(&p)).unwrap();
    assert_eq!(
        ok,
        Grant::Consumer {
            purpose_id: PURPOSE.into(),
            agreement_id: "agreement".into(),
            eservice_id: "send".into(),
            descriptor_id: "v1".into(),
            producer_id: "pagopa".into(),
            audience: "https://a,https://b".into(),
            lifespan: 600,
        }
    );
    let cases: Vec<(&str, TokenForm)> = vec![
        (
            "jti_missing",
            with(|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
        ),
        ("iat_missing", with(|c| c["iat"] = json!("yesterday"))),
        (
            "exp_missing",
            with(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        ("assertion_expired", with(|c| c["exp"] = json!(NOW))),
        ("iss_missing", with(|c| c["iss"] = json!(""))),
        (
            "sub_missing",
            with(|c| {
                c.as_object_mut().unwrap().remove("sub");
            }),
        ),
        ("invalid_sub_format", with(|c| c["sub"] = json!("client-1"))),
        (
            "sub_client_id_mismatch",
            with(|c| c["sub"] = json!(PURPOSE)),
        ),
        (
            "aud_missing",
            with(|c| {
                c.as_object_mut().unwrap().remove("aud");
            }),
        ),
        (
            "invalid_audience",
            with(|c| c["aud"] = json!("auth.interop.pagopa.it/client-assertion")),
        ),
        ("invalid_audience", with(|c| c["aud"] = json!(["x", 3]))),
        (
            "invalid_purpose_id_format",
            with(|c| c["purposeId"] = json!("p1")),
        ),
        (
            "invalid_digest",
            with(|c| c["digest"] = json!({"alg": "SHA256", "value": "ab"})),
        ),
        (
            "invalid_digest",
            with(|c| c["digest"] = json!({"alg": "SHA256", "value": "a".repeat(64), "x": 1})),
        ),
        (
            "purpose_id_missing",
            with(|c| {
                c.as_object_mut().unwrap().remove("purposeId");
            }),
        ),
    ];
    for (code, f) in cases {
        assert_eq!(run(&f, &policy(), Some(&k), Some(&p)), Err(code), "{code}");
    }
    // An array audience with the right value, a valid digest, an unknown claim without strict
    // mode, a 30-day lifetime: all accepted.
    for f in [
        with(|c| c["aud"] = json!(["other", AUD])),
        with(|c| c["digest"] = json!({"alg": "SHA256", "value": "a".repeat(64)})),
        with(|c| c["scope"] = json!("x")),
        with(|c| c["exp"] = json!(NOW + 30 * 86_400)),
    ] {
        assert!(run(&f, &policy(), Some(&k), Some(&p)).is_ok());
    }
    let strict = Policy {
        strict: true,
        ..policy()
    };
    assert_eq!(
        run(
            &with(|c| c["scope"] = json!("x")),
            &strict,
            Some(&k),
            Some(&p)
        ),
        Err("unexpected_claim")
    );
    let capped = Policy {
        max_lifetime_secs: Some(3600),
        ..policy()
    };
    assert_eq!(
        run(
            &with(|c| c["exp"] = json!(NOW + 30 * 86_400)),
            &capped,
            Some(&k),
            Some(&p)
        ),
        Err("lifetime_too_long")
    );
}

#[test]
fn the_form_the_header_the_key_and_the_states() {
    let k = key_facts();
    let p = states();
    let good = signed(&header(), &claims());
    let mut f = form(good.clone());
    f.grant_type = Some("password".into());
    assert_eq!(
        run(&f, &policy(), Some(&k), Some(&p)),
        Err("invalid_grant_type")
    );
    let mut f = form(good.clone());
    f.client_assertion_type = None;
    assert_eq!(
        run(&f, &policy(), Some(&k), Some(&p)),
        Err("assertion_type_missing")
    );
    let mut f = form(good.clone());
    f.client_id = Some("42".into());
    assert_eq!(
        run(&f, &policy(), Some(&k), Some(&p)),
        Err("invalid_client_id_format")
    );
    assert_eq!(
        run(&form(String::new()), &policy(), Some(&k), Some(&p)),
        Err("assertion_missing")
    );
    assert_eq!(
        run(&form("%%%.***.!!!".into()), &policy(), Some(&k), Some(&p)),
        Err("malformed_assertion")
    );
    assert_eq!(
        run(&form("a".repeat(1_000_000)), &policy(), Some(&k), Some(&p)),
        Err("assertion_too_large")
    );
    for (h, code) in [
        (
            json!({"alg": "none", "kid": key().kid()}),
            "algorithm_not_allowed",
        ),
        (
            json!({"alg": "HS256", "kid": key().kid()}),
            "algorithm_not_allowed",
        ),
        (json!({"alg": "RS256"}), "kid_missing"),
        (
            json!({"alg": "RS256", "kid": "short"}),
            "invalid_kid_format",
        ),
    ] {
        assert_eq!(
            run(&form(signed(&h, &claims())), &policy(), Some(&k), Some(&p)),
            Err(code)
        );
    }
    // The key: unknown, another client's, another key's signature.
    assert_eq!(
        run(&form(good.clone()), &policy(), None, Some(&p)),
        Err("key_not_found")
    );
    let other = KeyFacts {
        client_id: PURPOSE.into(),
        ..k.clone()
    };
    assert_eq!(
        run(&form(good.clone()), &policy(), Some(&other), Some(&p)),
        Err("key_of_another_client")
    );
    let wrong = KeyFacts {
        n: "AQAB".repeat(86),
        ..k.clone()
    };
    assert_eq!(
        run(&form(good.clone()), &policy(), Some(&wrong), Some(&p)),
        Err("invalid_signature")
    );
    // The states, one at a time.
    let f = form(good);
    let cases: Vec<(&str, PurposeStates)> = vec![
        (
            "purpose_not_linked",
            PurposeStates {
                linked: false,
                ..p.clone()
            },
        ),
        (
            "purpose_not_active",
            PurposeStates {
                active: false,
                waiting_for_approval: true,
                ..p.clone()
            },
        ),
        (
            "purpose_not_found",
            PurposeStates {
                consumer_id: "regione".into(),
                ..p.clone()
            },
        ),
        (
            "agreement_not_active",
            PurposeStates {
                agreement: None,
                ..p.clone()
            },
        ),
    ];
    for (code, states) in cases {
        assert_eq!(run(&f, &policy(), Some(&k), Some(&states)), Err(code));
    }
    assert_eq!(run(&f, &policy(), Some(&k), None), Err("purpose_not_found"));
    let mut suspended = p.clone();
    if let Some(a) = suspended.agreement.as_mut() {
        a.state = AgreementState::Suspended;
    }
    assert_eq!(
        run(&f, &policy(), Some(&k), Some(&suspended)),
        Err("agreement_not_active")
    );
    for (state, ok) in [
        (DescriptorState::Published, true),
        (DescriptorState::Deprecated, true),
        (DescriptorState::Suspended, false),
        (DescriptorState::Archived, false),
    ] {
        let mut s = p.clone();
        if let Some(a) = s.agreement.as_mut() {
            a.descriptor_state = state;
        }
        assert_eq!(
            run(&f, &policy(), Some(&k), Some(&s)).is_ok(),
            ok,
            "{state:?}"
        );
    }
    // API clients need no purpose.
    let api = KeyFacts {
        kind: ClientKind::Api,
        ..k
    };
    let no_purpose = with(|c| {
        c.as_object_mut().unwrap().remove("purposeId");
    });
    assert_eq!(
        run(&no_purpose, &policy(), Some(&api), None),
        Ok(Grant::Api)
    );
}

#[test]
fn the_form_is_read_like_a_form() {
    let f = TokenForm::parse(b"client_id=a&grant_type=client_credentials&client_assertion=x.y.z&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_id=b&other=1");
    assert_eq!(f.client_id.as_deref(), Some("a"));
    assert_eq!(f.client_assertion_type.as_deref(), Some(ASSERTION_TYPE));
    assert_eq!(TokenForm::parse(b"\xff\xfe=%zz"), TokenForm::default());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Nothing a caller sends makes the checks panic.
    #[test]
    fn any_body_is_refused_or_accepted_without_panic(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let f = TokenForm::parse(&body);
        let _ = check_assertion(&f, &policy(), NOW);
        let _ = named(&f);
    }

    /// Any assertion text: a clean refusal, never a panic.
    #[test]
    fn any_assertion_text_is_handled(text in "[A-Za-z0-9_.=-]{0,400}") {
        let f = form(text);
        if let Ok(a) = check_assertion(&f, &policy(), NOW) {
            let k = key_facts();
            let _ = check_signature(&a, &k, &RsaKeyMemo::new());
        }
    }

    /// Changing one character of a signed assertion never passes both the claims and the
    /// signature check.
    #[test]
    fn a_changed_assertion_never_verifies(at in 0usize..2000, c in "[A-Za-z0-9_-]") {
        let good = signed(&header(), &claims());
        let at = at % good.len();
        let mut bytes = good.clone().into_bytes();
        let replacement = c.as_bytes()[0];
        prop_assume!(bytes[at] != replacement && bytes[at] != b'.');
        bytes[at] = replacement;
        let changed = String::from_utf8(bytes).unwrap();
        let f = form(changed);
        if let Ok(a) = check_assertion(&f, &policy(), NOW) {
            prop_assert!(check_signature(&a, &key_facts(), &RsaKeyMemo::new()).is_err());
        }
    }
}
