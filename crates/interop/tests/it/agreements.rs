//! Agreements ("richieste di fruizione"): every transition, allowed and refused, by the side
//! and the role that may make it.

use serde_json::{Value, json};
use testkit::TestApp;

use crate::{
    ANNA, COLL, COMUNE, GIULIA, LUCA, PAGOPA, PAOLO, REGIONE, call, find, get_ok,
    give_anna_collaudo, give_luca_collaudo, member, not_in_produzione, published_version,
    status_of,
};

const SEND: &str = "SEND - UAT (Piattaforma Notifiche)";
const MANUAL: &str = "Anagrafe sanitaria regionale";

async fn create(app: &TestApp, token: &str, eservice: &str, descriptor: &str) -> (u16, Value) {
    let (s, v) = call(
        app,
        token,
        "POST",
        &format!("{COLL}/api/agreements"),
        Some(&json!({ "eserviceId": eservice, "descriptorId": descriptor })),
    )
    .await;
    (s.as_u16(), v)
}

async fn post(app: &TestApp, token: &str, id: &str, action: &str) -> (u16, Value) {
    let (s, v) = call(
        app,
        token,
        "POST",
        &format!("{COLL}/api/agreements/{id}/{action}"),
        None,
    )
    .await;
    (s.as_u16(), v)
}

fn state(v: &Value) -> &str {
    v["state"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn agreements_follow_the_state_machine_by_side_and_role() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let (send, send_v1) = find(&app, &luca, COLL, SEND).await;

    // Create, and no second one while it lives.
    let (s, a) = create(&app, &luca, &send, &send_v1).await;
    assert_eq!((s, state(&a)), (201, "DRAFT"), "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["producerName"], "PagoPA S.p.A.");
    let (s, v) = create(&app, &luca, &send, &send_v1).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("agreement_already_exists"))
    );

    // Only the consumer submits; AUTOMATIC: ACTIVE at once.
    assert_eq!(post(&app, &paolo, &id, "submit").await.0, 403);
    assert_eq!(post(&app, &giulia, &id, "submit").await.0, 404);
    let (s, a) = post(&app, &luca, &id, "submit").await;
    assert_eq!((s, state(&a)), (200, "ACTIVE"), "{a}");
    assert_eq!(post(&app, &luca, &id, "submit").await.0, 409);
    assert_eq!(post(&app, &paolo, &id, "approve").await.0, 409);

    // Another institution sees and touches nothing.
    assert_eq!(
        status_of(&app, &giulia, "GET", &format!("{COLL}/api/agreements/{id}")).await,
        404
    );
    for action in ["suspend", "activate", "archive", "upgrade"] {
        assert_eq!(post(&app, &giulia, &id, action).await.0, 404, "{action}");
    }
    assert_eq!(
        status_of(
            &app,
            &giulia,
            "DELETE",
            &format!("{COLL}/api/agreements/{id}")
        )
        .await,
        404
    );

    // Each side suspends with its own flag; ACTIVE again only when no flag remains.
    let (s, a) = post(&app, &paolo, &id, "suspend").await;
    assert_eq!(
        (s, state(&a), &a["suspendedByProducer"]),
        (200, "SUSPENDED", &json!(true))
    );
    assert_eq!(post(&app, &paolo, &id, "suspend").await.0, 409);
    assert_eq!(
        post(&app, &luca, &id, "activate").await.0,
        409,
        "the consumer did not suspend it"
    );
    let (_, a) = post(&app, &luca, &id, "suspend").await;
    assert_eq!(
        (state(&a), &a["suspendedByConsumer"]),
        ("SUSPENDED", &json!(true))
    );
    let (_, a) = post(&app, &paolo, &id, "activate").await;
    assert_eq!(
        (state(&a), &a["suspendedByProducer"]),
        ("SUSPENDED", &json!(false))
    );
    let (_, a) = post(&app, &luca, &id, "activate").await;
    assert_eq!(state(&a), "ACTIVE");
    // Not deletable once active; nothing newer to upgrade to.
    assert_eq!(
        status_of(
            &app,
            &luca,
            "DELETE",
            &format!("{COLL}/api/agreements/{id}")
        )
        .await,
        409
    );
    let (s, v) = post(&app, &luca, &id, "upgrade").await;
    assert_eq!((s, v["code"].as_str()), (409, Some("no_newer_descriptor")));

    // Lists: the consumer's requests and the producer's received ones.
    let mine = get_ok(&app, &luca, &format!("{COLL}/api/agreements")).await;
    assert_eq!(mine["results"].as_array().unwrap().len(), 1);
    let received = get_ok(
        &app,
        &paolo,
        &format!("{COLL}/api/agreements?role=producer"),
    )
    .await;
    assert_eq!(received["results"][0]["consumerId"], a["consumerId"]);
    let none = get_ok(&app, &paolo, &format!("{COLL}/api/agreements")).await;
    assert_eq!(none["results"], json!([]));

    // Upgrade: version 2 of SEND is published; version 1 stays (deprecated) while used.
    let v2 = published_version(
        &app,
        &paolo,
        &format!("{COLL}/api/eservices/{send}"),
        &json!({
            "audience": ["https://api.uat.notifichedigitali.it"], "voucherLifespan": 600,
            "dailyCallsPerConsumer": 10000, "dailyCallsTotal": 1000000,
            "agreementApprovalPolicy": "AUTOMATIC", "serverUrls": [],
        }),
    )
    .await;
    let e = get_ok(&app, &paolo, &format!("{COLL}/api/eservices/{send}")).await;
    assert_eq!(e["descriptors"][0]["state"], "DEPRECATED");
    // A new request must name the latest version.
    assert_eq!(
        post(&app, &paolo, &id, "upgrade").await.0,
        403,
        "only the consumer upgrades"
    );
    let (s, new) = post(&app, &luca, &id, "upgrade").await;
    assert_eq!((s, state(&new)), (200, "ACTIVE"), "{new}");
    assert_eq!(new["descriptorId"], v2.as_str());
    assert_eq!(new["descriptorVersion"], "2");
    let old = get_ok(&app, &luca, &format!("{COLL}/api/agreements/{id}")).await;
    assert_eq!(state(&old), "ARCHIVED");
    let e = get_ok(&app, &paolo, &format!("{COLL}/api/eservices/{send}")).await;
    assert_eq!(
        e["descriptors"][0]["state"], "ARCHIVED",
        "unused once upgraded"
    );
    // Archive (the consumer only), then a new request can be made.
    let new_id = new["id"].as_str().unwrap().to_string();
    assert_eq!(post(&app, &paolo, &new_id, "archive").await.0, 403);
    assert_eq!(
        state(&post(&app, &luca, &new_id, "archive").await.1),
        "ARCHIVED"
    );
    assert_eq!(post(&app, &luca, &new_id, "archive").await.0, 409);
    assert_eq!(create(&app, &luca, &send, &v2).await.0, 201);

    // Nothing of it in Produzione.
    not_in_produzione(&app, &format!("/api/agreements/{id}")).await;
}

#[tokio::test]
async fn manual_approval_pending_approved_rejected_deleted() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let (manual, v1) = find(&app, &luca, COLL, MANUAL).await;

    let (_, a) = create(&app, &luca, &manual, &v1).await;
    let id = a["id"].as_str().unwrap().to_string();
    let (_, a) = post(&app, &luca, &id, "submit").await;
    assert_eq!(state(&a), "PENDING");
    // Only the producer approves or rejects; a third institution is not even told it exists.
    assert_eq!(post(&app, &luca, &id, "approve").await.0, 403);
    assert_eq!(post(&app, &paolo, &id, "approve").await.0, 404);
    assert_eq!(post(&app, &luca, &id, "suspend").await.0, 409);
    // Rejection needs a reason.
    assert_eq!(post(&app, &giulia, &id, "reject").await.0, 400);
    let (s, a) = call(
        &app,
        &giulia,
        "POST",
        &format!("{COLL}/api/agreements/{id}/reject"),
        Some(&json!({ "reason": "Manca la base giuridica per l'accesso ai dati sanitari." })),
    )
    .await;
    assert_eq!((s.as_u16(), state(&a)), (200, "REJECTED"), "{a}");
    assert!(
        a["rejectionReason"]
            .as_str()
            .unwrap()
            .contains("base giuridica")
    );
    assert_eq!(post(&app, &giulia, &id, "approve").await.0, 409);
    // The request that waited was told to the Regione's admin, the refusal to the Comune's,
    // by email through the outbox; the Regione's activity log has the decision.
    let db = app.db.connect().await;
    let mails = |to: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_as::<_, (String, String)>(
                "SELECT subject, body FROM outbox WHERE to_address = $1 \
                 AND subject LIKE '%Interoperabilit%' ORDER BY created_at",
            )
            .bind(to)
            .fetch_all(db.reader())
            .await
            .unwrap()
        }
    };
    let to_regione = mails("giulia.verdi@regione.valdoro.it").await;
    assert_eq!(
        to_regione
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>(),
        vec!["Una richiesta di fruizione attende la tua approvazione - Interoperabilità Collaudo"]
    );
    assert!(
        to_regione[0].1.contains("Comune di Roccabella"),
        "{}",
        to_regione[0].1
    );
    let to_comune = mails("luca.neri@comune.roccabella.it").await;
    assert_eq!(to_comune.len(), 1, "{to_comune:?}");
    assert_eq!(
        to_comune[0].0,
        "Richiesta di fruizione rifiutata - Interoperabilità Collaudo"
    );
    assert!(to_comune[0].1.contains("Manca la base giuridica"));
    let regione = crate::institution_id(&app, REGIONE).await;
    let (actor, details): (String, String) = sqlx::query_as(
        "SELECT actor, details FROM audit_log WHERE action = 'interop.agreement.rejected' \
         AND institution_id = $1 AND target = $2",
    )
    .bind(&regione)
    .bind(&id)
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert_eq!(actor, crate::user_id(&app, &giulia).await);
    assert!(details.contains("Comune di Roccabella"), "{details}");

    // A rejected one does not block a new request; a pending one can be deleted.
    let (s, a) = create(&app, &luca, &manual, &v1).await;
    assert_eq!(s, 201);
    let second = a["id"].as_str().unwrap().to_string();
    post(&app, &luca, &second, "submit").await;
    assert_eq!(
        status_of(
            &app,
            &giulia,
            "DELETE",
            &format!("{COLL}/api/agreements/{second}")
        )
        .await,
        403
    );
    assert_eq!(
        status_of(
            &app,
            &luca,
            "DELETE",
            &format!("{COLL}/api/agreements/{second}")
        )
        .await,
        204
    );
    assert_eq!(
        status_of(
            &app,
            &luca,
            "GET",
            &format!("{COLL}/api/agreements/{second}")
        )
        .await,
        404
    );
    let (_, a) = create(&app, &luca, &manual, &v1).await;
    let third = a["id"].as_str().unwrap().to_string();
    post(&app, &luca, &third, "submit").await;
    let (s, a) = post(&app, &giulia, &third, "approve").await;
    assert_eq!((s, state(&a)), (200, "ACTIVE"));
}

#[tokio::test]
async fn api_and_security_operators_cannot_request_access() {
    let app = TestApp::spawn().await;
    give_anna_collaudo(&app, &["api", "security"]).await;
    let anna = member(&app, ANNA, COMUNE, "prod-interop-coll").await;
    let (send, v1) = find(&app, &anna, COLL, SEND).await;
    let (s, v) = create(&app, &anna, &send, &v1).await;
    assert_eq!(s, 403, "{v}");
    // The producer cannot request its own e-service as if it were another consumer... it can,
    // as its own consumer, and then it is ACTIVE at once.
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let (s, a) = create(&app, &paolo, &send, &v1).await;
    assert_eq!(s, 201);
    let id = a["id"].as_str().unwrap().to_string();
    let (_, a) = post(&app, &paolo, &id, "submit").await;
    assert_eq!(state(&a), "ACTIVE");
}
