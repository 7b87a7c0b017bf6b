//! Purposes: created on an ACTIVE agreement, with a risk analysis validated against the form
//! as data; activation by the quota rule at its exact boundary; new versions; the sides.

use serde_json::{Value, json};
use testkit::TestApp;

use crate::{
    COLL, COMUNE, GIULIA, LUCA, PAGOPA, PAOLO, REGIONE, call, expect, find, get_ok,
    give_luca_collaudo, member, post_created, post_ok, status_of, submitted_agreement,
};

const SEND: &str = "SEND - UAT (Piattaforma Notifiche)";

/// Answers that satisfy the current form: the first choice of every question that applies,
/// a sentence for texts.
pub(crate) async fn valid_answers(app: &TestApp, token: &str) -> Value {
    let form = get_ok(
        app,
        token,
        &format!("{COLL}/api/purposes/riskAnalysis/form"),
    )
    .await;
    testkit::interop::risk_answers(&form)
}

fn body(eservice: &str, title: &str, calls: i64, risk: Option<&Value>) -> Value {
    let mut b = json!({
        "eserviceId": eservice,
        "title": title,
        "description": "Invio delle notifiche degli atti del Comune.",
        "isFreeOfCharge": false,
        "dailyCalls": calls,
    });
    if let Some(r) = risk {
        b["riskAnalysisForm"] = r.clone();
    }
    b
}

struct Setup {
    app: TestApp,
    luca: String,
    paolo: String,
    send: String,
    risk: Value,
}

/// Luca (Comune) with an ACTIVE agreement on SEND - UAT (10,000 calls a day per consumer).
async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let (send, v1) = find(&app, &luca, COLL, SEND).await;
    submitted_agreement(&app, &luca, &send, &v1).await;
    let risk = valid_answers(&app, &luca).await;
    Setup {
        app,
        luca,
        paolo,
        send,
        risk,
    }
}

/// Creates a purpose and activates its draft: the purpose and its first version's state.
async fn activated(s: &Setup, title: &str, calls: i64) -> (Value, String) {
    let p = post_created(
        &s.app,
        &s.luca,
        &format!("{COLL}/api/purposes"),
        &body(&s.send, title, calls, Some(&s.risk)),
    )
    .await;
    assert_eq!(p["versions"][0]["state"], "DRAFT");
    let id = p["id"].as_str().unwrap();
    let v = p["versions"][0]["id"].as_str().unwrap();
    let p = post_ok(
        &s.app,
        &s.luca,
        &format!("{COLL}/api/purposes/{id}/versions/{v}/activate"),
    )
    .await;
    let state = p["versions"][0]["state"].as_str().unwrap().to_string();
    (p, state)
}

fn current(p: &Value) -> (String, String) {
    let v = p["versions"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|v| matches!(v["state"].as_str(), Some("ACTIVE" | "SUSPENDED")))
        .unwrap();
    (
        v["id"].as_str().unwrap().to_string(),
        v["state"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn the_quota_rule_at_its_exact_boundary() {
    let s = setup().await;
    // 6,000 + 4,000 = 10,000: exactly the quota, both ACTIVE.
    let (first, state) = activated(&s, "Notifiche dei tributi", 6_000).await;
    assert_eq!(state, "ACTIVE");
    let (_, state) = activated(&s, "Notifiche delle multe", 4_000).await;
    assert_eq!(state, "ACTIVE");
    // One more call a day is over: the producer decides.
    let (third, state) = activated(&s, "Notifiche anagrafiche", 1).await;
    assert_eq!(state, "WAITING_FOR_APPROVAL");
    let third_id = third["id"].as_str().unwrap();
    let third_v = third["versions"][0]["id"].as_str().unwrap();
    // Only the producer approves it; the producer of another e-service is not told it exists.
    let giulia = member(&s.app, GIULIA, REGIONE, "prod-interop-coll").await;
    assert_eq!(
        status_of(
            &s.app,
            &giulia,
            "GET",
            &format!("{COLL}/api/purposes/{third_id}")
        )
        .await,
        404
    );
    let activate = format!("{COLL}/api/purposes/{third_id}/versions/{third_v}/activate");
    assert_eq!(status_of(&s.app, &s.luca, "POST", &activate).await, 403);
    let received = get_ok(
        &s.app,
        &s.paolo,
        &format!("{COLL}/api/purposes?role=producer"),
    )
    .await;
    assert_eq!(received["results"].as_array().unwrap().len(), 3);
    // "Finalità ricevute": the waiting one with its figures beside it (1 asked; 10,000 of
    // 10,000 already granted to the Comune), then all three.
    let html = crate::page(&s.app, &s.paolo, &format!("{COLL}/purposes/received")).await;
    let text = testkit::visible_text(&html);
    let waiting = text
        .split("In attesa della tua approvazione")
        .nth(1)
        .and_then(|t| t.split("Tutte le finalità ricevute").next())
        .unwrap_or_else(|| panic!("no waiting section: {text}"));
    for words in [
        "Notifiche anagrafiche",
        "Comune di Roccabella",
        "10.000 su 10.000",
        "Oltre i limiti",
        "Approva o rifiuta",
    ] {
        assert!(waiting.contains(words), "{words:?} not in {waiting}");
    }
    assert!(!waiting.contains("Notifiche dei tributi"), "{waiting}");
    assert!(testkit::codes_in(&text).is_empty(), "{text}");
    // Another producer has nothing waiting; the consumer's own list no longer mixes them in.
    let html = crate::page(&s.app, &giulia, &format!("{COLL}/purposes/received")).await;
    assert!(html.contains("Nessuna finalità attende la tua approvazione"));
    // "Richieste ricevute" filters by state, e-service and consumer.
    let html = crate::page(&s.app, &s.paolo, &format!("{COLL}/agreements/received")).await;
    assert!(html.contains("Comune di Roccabella") && html.contains("data-testid=\"filters\""));
    let html = crate::page(
        &s.app,
        &s.paolo,
        &format!("{COLL}/agreements/received?state=ACTIVE"),
    )
    .await;
    assert!(html.contains("Comune di Roccabella"), "{html}");
    for filter in ["state=PENDING", "consumer=nessuno", "eservice=nessuno"] {
        let html = crate::page(
            &s.app,
            &s.paolo,
            &format!("{COLL}/agreements/received?{filter}"),
        )
        .await;
        assert!(
            html.contains("Nessuna richiesta corrisponde ai filtri scelti"),
            "{filter}"
        );
    }
    let p = post_ok(&s.app, &s.paolo, &activate).await;
    assert_eq!(p["versions"][0]["state"], "ACTIVE");

    // A new version of the first one: the others now use 4,001, so 5,999 fits exactly and
    // takes over at once; 6,000 would not.
    let first_id = first["id"].as_str().unwrap();
    let p = expect(
        &s.app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/purposes/{first_id}/versions"),
        Some(&json!({"dailyCalls": 5_999})),
        200,
    )
    .await;
    let states = testkit::strings_of(&p["versions"], "state");
    assert_eq!(states, vec!["ARCHIVED", "ACTIVE"]);
    let p = expect(
        &s.app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/purposes/{first_id}/versions"),
        Some(&json!({"dailyCalls": 6_000})),
        200,
    )
    .await;
    let states = testkit::strings_of(&p["versions"], "state");
    assert_eq!(states, vec!["ARCHIVED", "ACTIVE", "WAITING_FOR_APPROVAL"]);
    // One waiting version at a time; the same calls are refused.
    let (st, v) = call(
        &s.app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/purposes/{first_id}/versions"),
        Some(&json!({"dailyCalls": 7_000})),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (409, Some("purpose_version_waiting"))
    );
    // The producer rejects it with a reason.
    let waiting = p["versions"][2]["id"].as_str().unwrap();
    let reject = format!("{COLL}/api/purposes/{first_id}/versions/{waiting}/reject");
    assert_eq!(
        call(&s.app, &s.paolo, "POST", &reject, Some(&json!({})))
            .await
            .0,
        400
    );
    let p = expect(
        &s.app,
        &s.paolo,
        "POST",
        &reject,
        Some(&json!({"rejectionReason": "Quota giornaliera esaurita."})),
        200,
    )
    .await;
    assert_eq!(p["versions"][2]["state"], "REJECTED");
    assert_eq!(p["versions"][1]["state"], "ACTIVE");
    // Each version that waited was told to PagoPA's admin; the approval and the refusal to
    // the Comune's.
    let db = s.app.db.connect().await;
    let subjects = |to: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT subject FROM outbox WHERE to_address = $1 \
                 AND subject LIKE '%Interoperabilit%' ORDER BY created_at",
            )
            .bind(to)
            .fetch_all(db.reader())
            .await
            .unwrap()
        }
    };
    let waiting = "Una finalità attende la tua approvazione - Interoperabilità Collaudo";
    assert_eq!(
        subjects("paolo.esposito@pagopa.it").await,
        vec![waiting.to_string(), waiting.to_string()]
    );
    let to_comune = subjects("luca.neri@comune.roccabella.it").await;
    assert!(
        to_comune.ends_with(&[
            "Finalità approvata - Interoperabilità Collaudo".to_string(),
            "Finalità rifiutata - Interoperabilità Collaudo".to_string(),
        ]),
        "{to_comune:?}"
    );
    let (st, v) = call(
        &s.app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/purposes/{first_id}/versions"),
        Some(&json!({"dailyCalls": 5_999})),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (409, Some("purpose_daily_calls_unchanged"))
    );
}

#[tokio::test]
async fn purposes_need_an_active_agreement_a_risk_analysis_and_the_right_side() {
    let s = setup().await;
    // No agreement on the MANUAL e-service: no purpose.
    let (manual, _) = find(&s.app, &s.luca, COLL, "Anagrafe sanitaria regionale").await;
    let (st, v) = call(
        &s.app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/purposes"),
        Some(&body(&manual, "Verifica iscrizione", 10, Some(&s.risk))),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (409, Some("agreement_not_active")),
        "{v}"
    );
    // The producer has no agreement of its own.
    let (st, _) = call(
        &s.app,
        &s.paolo,
        "POST",
        &format!("{COLL}/api/purposes"),
        Some(&body(&s.send, "Del produttore", 10, None)),
    )
    .await;
    assert_eq!(st, 409);

    // Bad input names its fields; bad answers too.
    let (st, v) = call(&s.app, &s.luca, "POST", &format!("{COLL}/api/purposes"), Some(&json!({"eserviceId": s.send, "title": "abc", "description": "x", "isFreeOfCharge": true, "dailyCalls": 0}))).await;
    assert_eq!(st, 400, "{v}");
    let names = testkit::strings_of(&v["invalidParams"], "name");
    for f in ["title", "description", "freeOfChargeReason", "dailyCalls"] {
        assert!(names.contains(&f), "{f}: {v}");
    }
    let mut wrong = s.risk.clone();
    let first_q = wrong["answers"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    wrong["answers"]["nonexistent"] = json!(["x"]);
    wrong["answers"].as_object_mut().unwrap().remove(&first_q);
    let (st, v) = call(
        &s.app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/purposes"),
        Some(&body(&s.send, "Con risposte sbagliate", 10, Some(&wrong))),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert!(v.to_string().contains("nonexistent"), "{v}");

    // Without the risk analysis a draft cannot be activated.
    let p = post_created(
        &s.app,
        &s.luca,
        &format!("{COLL}/api/purposes"),
        &body(&s.send, "Senza analisi del rischio", 10, None),
    )
    .await;
    let (id, v) = (
        p["id"].as_str().unwrap(),
        p["versions"][0]["id"].as_str().unwrap(),
    );
    let (st, body_) = call(
        &s.app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/purposes/{id}/versions/{v}/activate"),
        None,
    )
    .await;
    assert_eq!(
        (st.as_u16(), body_["code"].as_str()),
        (409, Some("risk_analysis_missing"))
    );
    // The producer cannot activate the consumer's draft; the title is unique per e-service.
    assert_eq!(
        status_of(
            &s.app,
            &s.paolo,
            "POST",
            &format!("{COLL}/api/purposes/{id}/versions/{v}/activate")
        )
        .await,
        403
    );
    let (st, _) = call(
        &s.app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/purposes"),
        Some(&body(&s.send, "senza analisi del rischio", 10, None)),
    )
    .await;
    assert_eq!(st, 409);
    // A draft is deleted.
    assert_eq!(
        status_of(
            &s.app,
            &s.paolo,
            "DELETE",
            &format!("{COLL}/api/purposes/{id}")
        )
        .await,
        403
    );
    assert_eq!(
        status_of(
            &s.app,
            &s.luca,
            "DELETE",
            &format!("{COLL}/api/purposes/{id}")
        )
        .await,
        204
    );

    // Suspend by each side with its own flag; archive; an active one is not deleted.
    let (p, state) = activated(&s, "Notifiche dei tributi", 100).await;
    assert_eq!(state, "ACTIVE");
    let id = p["id"].as_str().unwrap();
    let (v, _) = current(&p);
    let url = |action: &str| format!("{COLL}/api/purposes/{id}/versions/{v}/{action}");
    let p = post_ok(&s.app, &s.paolo, &url("suspend")).await;
    assert_eq!(
        (current(&p).1.as_str(), &p["suspendedByProducer"]),
        ("SUSPENDED", &json!(true))
    );
    let (st, b) = call(&s.app, &s.luca, "POST", &url("activate"), None).await;
    assert_eq!(
        (st.as_u16(), b["code"].as_str()),
        (409, Some("purpose_suspended_by_other_side"))
    );
    let p = post_ok(&s.app, &s.paolo, &url("activate")).await;
    assert_eq!(current(&p).1, "ACTIVE");
    assert_eq!(
        status_of(
            &s.app,
            &s.luca,
            "DELETE",
            &format!("{COLL}/api/purposes/{id}")
        )
        .await,
        409
    );
    assert_eq!(
        status_of(&s.app, &s.paolo, "POST", &url("archive")).await,
        403
    );
    let p = post_ok(&s.app, &s.luca, &url("archive")).await;
    assert_eq!(p["versions"][0]["state"], "ARCHIVED");
    assert_eq!(
        status_of(&s.app, &s.luca, "POST", &url("suspend")).await,
        409
    );
}

/// The pages of the path (agreement, purpose, client) say states and kinds in words in the
/// page's language, never the codes the API answers with.
#[tokio::test]
async fn the_path_pages_say_states_and_kinds_in_words_in_both_languages() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let (send, _, agreement) = crate::send_agreement(&app, &luca).await;
    let (purpose, _, state) = crate::purpose(&app, &luca, &send, "Notifiche", 1000, false).await;
    assert_eq!(state, "ACTIVE");
    let (draft, _, _) = crate::purpose(&app, &luca, &send, "Notifiche in bozza", 10, true).await;
    let client = post_created(
        &app,
        &luca,
        &format!("{COLL}/api/clientsConsumer"),
        &json!({ "name": "Client SEND", "members": [] }),
    )
    .await;
    let client = client["id"].as_str().unwrap();
    let pages = [
        format!("{COLL}/agreements"),
        format!("{COLL}/agreements/{agreement}"),
        format!("{COLL}/purposes"),
        format!("{COLL}/purposes/{purpose}"),
        format!("{COLL}/purposes/{draft}"),
        format!("{COLL}/clients"),
        format!("{COLL}/clients/{client}"),
    ];
    for (lang, active, draft_word) in [("it", "Attiva", "Bozza"), ("en", "Active", "Draft")] {
        let mut seen = String::new();
        for path in &pages {
            let r = app
                .get(path)
                .bearer_auth(&luca)
                .header("cookie", format!("lang={lang}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "GET {path}");
            let text = testkit::visible_text(&r.text().await.unwrap());
            assert_eq!(
                testkit::codes_in(&text),
                Vec::<String>::new(),
                "{lang} {path}: {text}"
            );
            seen.push_str(&text);
        }
        assert!(seen.contains(active) && seen.contains(draft_word), "{lang}");
    }
}

/// Without script, the risk analysis asks the questions that apply: a dependent question is
/// hidden until the answer it depends on is given, and "Mostra le domande successive" sends the
/// answers so far and shows what follows, creating nothing.
#[tokio::test]
async fn the_risk_analysis_shows_a_follow_up_question_only_once_its_answer_is_given() {
    let s = setup().await;
    let form = s
        .app
        .get(&format!("{COLL}/purposes/new?eserviceId={}", s.send))
        .bearer_auth(&s.luca)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = |html: &str, question: &str| {
        let at = html
            .find(&format!("data-question=\"{question}\""))
            .unwrap_or_else(|| panic!("no {question}"));
        let tag_end = at + html[at..].find('>').unwrap();
        !html[at..tag_end].contains(" hidden")
    };
    assert!(shown(&form, "usesPersonalData"));
    assert!(!shown(&form, "personalDataTypes"));
    assert!(!shown(&form, "thirdParties"));
    let visible = testkit::visible_text(&form);
    assert!(
        visible.contains("Mostra le domande successive"),
        "{visible}"
    );

    // Personal data: yes; shared with third parties: no. The follow-ups of the first show,
    // those of the second do not.
    let r = s
        .app
        .post(&format!("{COLL}/purposes/new/questions"))
        .bearer_auth(&s.luca)
        .form(&[
            ("eserviceId", s.send.as_str()),
            ("title", "Notifiche"),
            ("ra.usesPersonalData", "YES"),
            ("ra.sharedWithThirdParties", "NO"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let next = r.text().await.unwrap();
    for question in ["personalDataTypes", "legalBasis", "dataRetention", "dpia"] {
        assert!(shown(&next, question), "{question}");
    }
    assert!(!shown(&next, "thirdParties"));
    // A follow-up of a follow-up waits for its own answer.
    assert!(!shown(&next, "publicInterestReference"));
    // What was typed is kept, nothing was created, no error is shown yet.
    assert!(next.contains("value=\"Notifiche\""));
    assert!(!next.contains("data-error-summary"));
    let list = get_ok(&s.app, &s.luca, &format!("{COLL}/api/purposes")).await;
    assert_eq!(list["results"].as_array().map(Vec::len), Some(0), "{list}");
}
