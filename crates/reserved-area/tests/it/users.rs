use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::{ANNA, COMUNE, GIULIA, LUCA, MARIO, institution_id, session_token};

fn luca_collaudo_admin() -> Value {
    json!({
        "name": "Luca", "surname": "Neri", "taxCode": LUCA,
        "email": "luca.neri@comune.roccabella.it",
        "role": "SUB_DELEGATE", "productRoles": ["admin"]
    })
}

async fn add(
    app: &TestApp,
    token: &str,
    iid: &str,
    product: &str,
    body: &Value,
) -> reqwest::Response {
    app.post(&format!("/v2/institutions/{iid}/products/{product}/users"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn exchange_status(app: &TestApp, token: &str, iid: &str, product: &str) -> StatusCode {
    app.get(&format!(
        "/v2/token/exchange?institutionId={iid}&productId={product}"
    ))
    .bearer_auth(token)
    .send()
    .await
    .unwrap()
    .status()
}

#[tokio::test]
async fn an_admin_creates_the_technician_with_interoperabilita_collaudo() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let mario = session_token(&app, MARIO).await;
    let r = add(
        &app,
        &mario,
        &comune,
        "prod-interop-coll",
        &luca_collaudo_admin(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let luca = session_token(&app, LUCA).await;
    assert_eq!(
        exchange_status(&app, &luca, &comune, "prod-interop-coll").await,
        StatusCode::OK
    );
    assert_eq!(
        exchange_status(&app, &luca, &comune, "prod-interop").await,
        StatusCode::FORBIDDEN
    );
    let interop = crate::listed_product(&app, &luca, &comune, "prod-interop").await;
    assert_eq!(
        interop["environments"],
        json!([{"environment": "Collaudo", "productId": "prod-interop-coll"}])
    );

    // The person, their email there, their roles.
    let detail: Value = testkit::api::get_json(
        &app,
        &mario,
        &format!("/v2/institutions/{comune}/users/{id}"),
    )
    .await;
    assert_eq!(detail["taxCode"], LUCA);
    assert_eq!(detail["email"], "luca.neri@comune.roccabella.it");
    assert_eq!(
        detail["products"],
        json!([{"productId": "prod-interop-coll", "role": "SUB_DELEGATE", "productRole": "admin", "status": "ACTIVE"}])
    );

    // Suspended: no more tokens, also from the session already open; a revocation is recorded.
    assert_eq!(
        testkit::demo::change_roles(&app, &mario, "suspend", &id, &comune, "prod-interop-coll")
            .await,
        StatusCode::NO_CONTENT
    );
    assert_ne!(
        exchange_status(&app, &luca, &comune, "prod-interop-coll").await,
        StatusCode::OK
    );
    let db = app.db.connect().await;
    assert!(
        platform::revocation::is_revoked(&db, "-", &id, &comune, "prod-interop-coll", 0)
            .await
            .unwrap()
    );
    let audit = testkit::demo::count(
        &db,
        "SELECT count(*) FROM audit_log WHERE action = 'user.role.suspended' AND target = $1",
        &id,
    )
    .await;
    assert_eq!(audit, 1);
    // Luca is told, by email at his work address, through the outbox.
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = sqlx::query_as::<_, (String, String)>(
            "SELECT subject, status FROM outbox WHERE to_address = $1 ORDER BY created_at",
        )
        .bind("luca.neri@comune.roccabella.it")
        .fetch_all(db.reader())
        .await
        .unwrap();
        if sent.len() == 2 && sent.iter().all(|(_, s)| s == "SENT") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        sent,
        vec![
            (
                "Hai un nuovo ruolo per un prodotto PagoPA".to_string(),
                "SENT".to_string()
            ),
            ("Il tuo ruolo è sospeso".to_string(), "SENT".to_string()),
        ]
    );
    let files = std::fs::read_dir(app.data_dir().join("mail"))
        .unwrap()
        .count();
    assert!(files >= 2, "{files} emails written");
    db.close().await;

    // Reactivated, then removed.
    let q = format!("institutionId={comune}&productId=prod-interop-coll");
    let r = app
        .post(&format!("/v2/users/{id}/activate?{q}"))
        .bearer_auth(&mario)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        exchange_status(&app, &luca, &comune, "prod-interop-coll").await,
        StatusCode::OK
    );
    let r = app
        .delete(&format!("/v2/users/{id}?{q}"))
        .bearer_auth(&mario)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_ne!(
        exchange_status(&app, &luca, &comune, "prod-interop-coll").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_rule_of_the_form_answers_its_own_4xx() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let mario = session_token(&app, MARIO).await;
    let base = luca_collaudo_admin();
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (
            "prod-interop-coll",
            with("taxCode", json!("NRELCU92C15L219X")),
            "taxCode",
        ),
        ("prod-interop-coll", with("name", json!("Marco")), "name"),
        (
            "prod-interop-coll",
            with("email", json!("luca.neri@pec.comune.roccabella.it")),
            "email",
        ),
        ("prod-pagopa", base.clone(), "productId"),
        (
            "prod-interop-coll",
            with("productRoles", json!(["operator"])),
            "productRoles",
        ),
        ("prod-interop-coll", with("role", json!("MANAGER")), "role"),
        (
            "prod-interop-coll",
            with("productRoles", json!([])),
            "productRoles",
        ),
    ];
    // pagoPA's onboarding suspended: Mario is still its admin, but no user can be added.
    let db = app.db.connect().await;
    sqlx::query(
        "UPDATE onboardings SET status = 'SUSPENDED' WHERE institution_id = $1 AND product_id = 'prod-pagopa'",
    )
    .bind(&comune)
    .execute(db.writer())
    .await
    .unwrap();
    db.close().await;
    let mut codes = std::collections::HashSet::new();
    for (product, body, field) in cases {
        let r = add(&app, &mario, &comune, product, &body).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["invalidParams"][0]["name"], field, "{p}");
        assert!(codes.insert(p["code"].as_str().unwrap().to_string()), "{p}");
    }
    // Duplicate role, different party role.
    assert_eq!(
        add(&app, &mario, &comune, "prod-interop-coll", &base)
            .await
            .status(),
        201
    );
    let r = add(&app, &mario, &comune, "prod-interop-coll", &base).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let dup: Value = r.json().await.unwrap();
    let r = add(
        &app,
        &mario,
        &comune,
        "prod-interop-coll",
        &with("role", json!("OPERATOR"))
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o.insert("productRoles".into(), json!(["api"]));
                Value::Object(o)
            })
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let different: Value = r.json().await.unwrap();
    assert_ne!(dup["code"], different["code"]);
    assert!(codes.insert(dup["code"].as_str().unwrap().into()));
    assert!(codes.insert(different["code"].as_str().unwrap().into()));
}

#[tokio::test]
async fn limited_users_and_other_institutions_cannot_manage_users() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let anna = session_token(&app, ANNA).await; // LIMITED on the Comune
    let giulia = session_token(&app, GIULIA).await; // another institution
    let body = luca_collaudo_admin();
    assert_eq!(
        add(&app, &anna, &comune, "prod-io", &body).await.status(),
        403
    );
    assert_eq!(
        add(&app, &giulia, &comune, "prod-io", &body).await.status(),
        404
    );
    let r = app
        .get(&format!("/v2/users/institution/{comune}"))
        .bearer_auth(&anna)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn concurrent_identical_adds_create_one_role() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let mario = session_token(&app, MARIO).await;
    let body = luca_collaudo_admin();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        tasks.push(add(&app, &mario, &comune, "prod-interop-coll", &body));
    }
    // All in flight together.
    let statuses: Vec<StatusCode> = futures::future::join_all(tasks)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert!(statuses.contains(&StatusCode::CREATED), "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::BAD_REQUEST)
    );
    let db = app.db.connect().await;
    let n = testkit::demo::count(
        &db,
        "SELECT count(*) FROM product_roles r JOIN users u ON u.id = r.user_id \
         WHERE u.fiscal_code = $1",
        LUCA,
    )
    .await;
    assert_eq!(n, 1);
    let people = testkit::demo::count(
        &db,
        "SELECT count(*) FROM users WHERE fiscal_code = $1",
        LUCA,
    )
    .await;
    assert_eq!(people, 1);
    db.close().await;
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_suspended_even_by_two_admins_at_once() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let mario = session_token(&app, MARIO).await;
    let mario_id = testkit::demo::person_id(&app, MARIO).await;
    // Mario is the only admin of App IO at the Comune.
    let q = format!("institutionId={comune}&productId=prod-io");
    let r = app
        .post(&format!("/v2/users/{mario_id}/suspend?{q}"))
        .bearer_auth(&mario)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let p: Value = r.json().await.unwrap();
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("without an active administrator"),
        "{p}"
    );

    // A second admin; then each removes the other at the same moment: one stays.
    let body = json!({
        "name": "Luca", "surname": "Neri", "taxCode": LUCA,
        "email": "luca.neri@comune.roccabella.it", "role": "SUB_DELEGATE", "productRoles": ["admin"]
    });
    let r = add(&app, &mario, &comune, "prod-io", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let luca_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let luca = session_token(&app, LUCA).await;
    let a = app
        .delete(&format!("/v2/users/{luca_id}?{q}"))
        .bearer_auth(&mario)
        .send();
    let b = app
        .delete(&format!("/v2/users/{mario_id}?{q}"))
        .bearer_auth(&luca)
        .send();
    let (a, b) = tokio::join!(a, b);
    let (a, b) = (a.unwrap().status(), b.unwrap().status());
    let ok = [a, b]
        .iter()
        .filter(|s| **s == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(ok, 1, "{a} {b}");
    let db = app.db.connect().await;
    let admins = testkit::demo::count(
        &db,
        "SELECT count(*) FROM product_roles WHERE institution_id = $1 AND product_id = 'prod-io' \
         AND status = 'ACTIVE' AND party_role IN ('MANAGER', 'DELEGATE', 'SUB_DELEGATE')",
        &comune,
    )
    .await;
    assert_eq!(admins, 1);
    db.close().await;
}

#[tokio::test]
async fn lists_filters_check_user_and_search() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let mario = session_token(&app, MARIO).await;
    let get = |path: String| {
        let t = mario.clone();
        let app = &app;
        async move {
            app.get(&path)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let all = get(format!("/v2/users/institution/{comune}")).await;
    assert_eq!(all.as_array().unwrap().len(), 2); // Mario, Anna
    let operators = get(format!(
        "/v2/users/institution/{comune}?productId=prod-io&roles=OPERATOR"
    ))
    .await;
    assert_eq!(operators.as_array().unwrap().len(), 1);
    assert_eq!(operators[0]["taxCode"], ANNA);
    let admins = get(format!("/v2/users/institution/{comune}?productRoles=admin")).await;
    assert_eq!(admins.as_array().unwrap().len(), 1);
    assert_eq!(admins[0]["taxCode"], MARIO);

    let check = |fc: &str| {
        app.post(&format!(
            "/v2/institutions/{comune}/product/prod-io/check-user"
        ))
        .bearer_auth(&mario)
        .json(&json!({"fiscalCode": fc}))
        .send()
    };
    let r: Value = check(ANNA).await.unwrap().json().await.unwrap();
    assert_eq!(r["isUserOnboarded"], true);
    let r: Value = check(LUCA).await.unwrap().json().await.unwrap();
    assert_eq!(r["isUserOnboarded"], false);

    let r = app
        .post("/v2/users/search")
        .bearer_auth(&mario)
        .json(&json!({"fiscalCode": LUCA}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let found: Value = r.json().await.unwrap();
    assert_eq!(
        (found["name"].as_str(), found["surname"].as_str()),
        (Some("Luca"), Some("Neri"))
    );
    let r = app
        .post("/v2/users/search")
        .bearer_auth(&mario)
        .json(&json!({"fiscalCode": "CLMFNC75R55G273E"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

mod pages {
    use reqwest::StatusCode;
    use testkit::TestApp;

    use crate::{ANNA, COMUNE, LUCA, MARIO, browser, hidden_field, institution_id};

    #[tokio::test]
    async fn the_form_shows_each_error_next_to_its_field_and_creates_the_user() {
        let app = TestApp::spawn().await;
        let comune = institution_id(&app, COMUNE).await;
        let mario = browser(&app, MARIO).await;
        let form =
            testkit::read_page(&mario, &app, &format!("/dashboard/{comune}/users/new")).await;
        assert!(form.contains("Aggiungi utente") && form.contains("Conferma e-mail"));
        // Interoperabilità Collaudo is offered (the Comune is onboarded to it).
        assert!(form.contains("value=\"prod-interop-coll\""), "{form}");
        let csrf = hidden_field(&form, "csrf").unwrap();

        let bad = mario
            .post(app.url(&format!("/dashboard/{comune}/users/new")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("fiscal_code", LUCA),
                ("name", "Marco"),
                ("family_name", "Neri"),
                ("email", "luca.neri@pec.comune.roccabella.it"),
                ("email_confirm", "altro@comune.roccabella.it"),
                ("product_id", "prod-interop-coll"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = bad.text().await.unwrap();
        for (id, message) in [
            (
                "name-error",
                "Nome/Cognome non corretto o diverso dal Codice Fiscale",
            ),
            (
                "email-error",
                "Inserisci un indirizzo e-mail personale, non una PEC",
            ),
            ("email_confirm-error", "Gli indirizzi e-mail non coincidono"),
            ("product_roles-error", "Scegli almeno un ruolo"),
        ] {
            let at = page
                .find(&format!("id=\"{id}\""))
                .unwrap_or_else(|| panic!("no {id} in {page}"));
            assert!(
                page[at..].starts_with(&format!("id=\"{id}\">{message}")),
                "{id}: {}",
                &page[at..at + 120]
            );
        }
        // What was typed stays.
        assert!(page.contains("value=\"Marco\""));
        // Above the form, a summary names each field and leads to it.
        assert!(page.contains("data-error-summary"), "{page}");
        let summary = testkit::visible_text(
            &page[page.find("data-error-summary").unwrap()..page.find("data-user-form").unwrap()],
        );
        assert!(
            summary.contains("Il modulo contiene 4 errori")
                && summary.contains(
                    "E-mail istituzionale: Inserisci un indirizzo e-mail personale, non una PEC"
                ),
            "{summary}"
        );
        for field in ["name", "email", "email_confirm", "product_roles"] {
            assert!(page.contains(&format!("href=\"#{field}\"")), "{field}");
        }
        // The form shown again carries the same kind of one-time token as the first.
        assert!(hidden_field(&page, "once").is_some_and(|t| t.len() == 32));

        let ok = mario
            .post(app.url(&format!("/dashboard/{comune}/users/new")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("fiscal_code", LUCA),
                ("name", "Luca"),
                ("family_name", "Neri"),
                ("email", "luca.neri@comune.roccabella.it"),
                ("email_confirm", "Luca.Neri@comune.roccabella.it"),
                ("product_id", "prod-interop-coll"),
                ("product_roles", "ADMIN:admin"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        let detail_url = ok.headers()["location"].to_str().unwrap().to_string();
        assert!(detail_url.ends_with("?done=added"));
        let detail = testkit::read_page(&mario, &app, &detail_url).await;
        assert!(
            detail.contains("Luca Neri")
                && detail.contains("data-product=\"prod-interop-coll\" data-status=\"ACTIVE\"")
        );

        // Suspend from the page.
        let path = detail_url.split('?').next().unwrap().to_string();
        let page = app.url(&path);
        let r =
            testkit::demo::suspend_from_page(&mario, &page, &csrf, "prod-interop-coll", "admin")
                .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let detail = testkit::read_page(&mario, &app, &path).await;
        assert!(detail.contains("data-status=\"SUSPENDED\""), "{detail}");

        // The list, filtered.
        let list = testkit::read_page(
            &mario,
            &app,
            &format!("/dashboard/{comune}/users?product=prod-io&role=LIMITED"),
        )
        .await;
        assert!(list.contains(&format!("data-user=\"{ANNA}\"")));
        assert!(!list.contains(&format!("data-user=\"{MARIO}\"")));
    }

    /// States, roles and parts in the institution are words in the page's language, never
    /// the codes the records hold.
    #[tokio::test]
    async fn the_users_pages_say_roles_and_states_in_words_in_both_languages() {
        let app = TestApp::spawn().await;
        let comune = institution_id(&app, COMUNE).await;
        let mario = browser(&app, MARIO).await;
        let list_path = format!("/dashboard/{comune}/users");
        for (lang, words) in [
            ("it", ["Attivo", "Amministratore", "Operatore"]),
            ("en", ["Active", "Administrator", "Operator"]),
        ] {
            testkit::switch_language(&mario, &app, lang).await;
            let list = testkit::read_page(&mario, &app, &list_path).await;
            let text = testkit::visible_text(&list);
            for word in words {
                assert!(text.contains(word), "{lang}: no {word} in {text}");
            }
            assert_eq!(
                testkit::codes_in(&text),
                Vec::<String>::new(),
                "{lang}: {text}"
            );
            let people: Vec<String> = testkit::links(&list)
                .into_iter()
                .filter(|href| {
                    href.starts_with(&format!("{list_path}/")) && !href.ends_with("/new")
                })
                .collect();
            assert!(people.len() >= 2, "{lang}: {people:?}");
            for person in people {
                let text = testkit::visible_text(&testkit::read_page(&mario, &app, &person).await);
                assert!(text.contains(words[0]), "{lang} {person}: {text}");
                assert_eq!(
                    testkit::codes_in(&text),
                    Vec::<String>::new(),
                    "{lang} {person}: {text}"
                );
            }
        }
    }

    #[tokio::test]
    async fn limited_users_do_not_see_the_users_pages() {
        let app = TestApp::spawn().await;
        let comune = institution_id(&app, COMUNE).await;
        let anna = browser(&app, ANNA).await;
        for path in ["users", "users/new"] {
            let r = anna
                .get(app.url(&format!("/dashboard/{comune}/{path}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        }
    }
}

mod audit {
    use reqwest::StatusCode;
    use testkit::TestApp;

    use crate::{ANNA, COMUNE, MARIO, browser, institution_id, session_token};

    #[tokio::test]
    async fn admins_read_their_institutions_trail_filtered_and_in_pages() {
        let app = TestApp::spawn().await;
        let comune = institution_id(&app, COMUNE).await;
        let token = session_token(&app, MARIO).await;
        // 21 token exchanges and one user added.
        for _ in 0..21 {
            let r = app
                .get(&format!(
                    "/v2/token/exchange?institutionId={comune}&productId=prod-io"
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        let r = app
            .post(&format!("/v2/institutions/{comune}/products/prod-io/users"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "name": "Luca", "surname": "Neri", "taxCode": crate::LUCA,
                "email": "luca.neri@comune.roccabella.it", "role": "OPERATOR",
                "productRoles": ["operator"]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);

        let mario = browser(&app, MARIO).await;
        let first = testkit::read_page(&mario, &app, &format!("/dashboard/{comune}/audit")).await;
        assert_eq!(first.matches("<tr data-action=").count(), 20);
        assert!(first.contains("data-action=\"user.role.added\""));
        assert!(first.contains("Mario Rossi") && first.contains("Luca Neri"));
        assert!(first.contains("rel=\"next\""));
        let second =
            testkit::read_page(&mario, &app, &format!("/dashboard/{comune}/audit?page=1")).await;
        assert_eq!(second.matches("data-action=\"token.exchanged\"").count(), 2);
        assert!(!second.contains("rel=\"next\""));
        let users_only = testkit::read_page(
            &mario,
            &app,
            &format!("/dashboard/{comune}/audit?kind=user."),
        )
        .await;
        assert_eq!(users_only.matches("<tr data-action=").count(), 1);

        // Each record told as a sentence in the reader's language, people linked to their page.
        let before_luca = users_only
            .split("\">Luca Neri</a>")
            .next()
            .expect("Luca Neri linked");
        let luca_page = before_luca[before_luca.rfind("href=\"").unwrap() + 6..].to_string();
        assert!(luca_page.starts_with(&format!("/dashboard/{comune}/users/")));
        let text = testkit::visible_text(&users_only);
        assert!(
            text.contains("Mario Rossi ha aggiunto Luca Neri come Referente operativo di App IO"),
            "{text}"
        );
        assert_eq!(testkit::codes_in(&text), Vec::<String>::new(), "{text}");
        let tokens = testkit::visible_text(
            &testkit::read_page(
                &mario,
                &app,
                &format!("/dashboard/{comune}/audit?kind=token."),
            )
            .await,
        );
        assert!(
            tokens.contains("Mario Rossi è entrato in App IO"),
            "{tokens}"
        );
        testkit::switch_language(&mario, &app, "en").await;
        let english = testkit::visible_text(
            &testkit::read_page(
                &mario,
                &app,
                &format!("/dashboard/{comune}/audit?kind=user."),
            )
            .await,
        );
        assert!(
            english.contains("Mario Rossi added Luca Neri as Operational contact of IO App"),
            "{english}"
        );
        testkit::switch_language(&mario, &app, "it").await;

        // A person's activities, from their page: what they did and what was done to them.
        let luca = testkit::read_page(&mario, &app, &luca_page).await;
        let theirs = testkit::links(&luca)
            .into_iter()
            .find(|href| href.contains("/audit?person="))
            .expect("a link to the person's activities");
        let theirs = testkit::read_page(&mario, &app, &theirs).await;
        assert_eq!(theirs.matches("<tr data-action=").count(), 1, "{theirs}");
        assert!(testkit::visible_text(&theirs).contains("Persona: Luca Neri"));

        // The period: today (Italy) holds everything; a past period nothing; a wrong date is
        // told next to its field and in a summary at the top, typed values kept.
        let today = jiff::Zoned::now()
            .with_time_zone(jiff::tz::TimeZone::get("Europe/Rome").unwrap())
            .date()
            .to_string();
        let period = |from: &str, to: &str| {
            format!("/dashboard/{comune}/audit?kind=user.&from={from}&to={to}")
        };
        let now = testkit::read_page(&mario, &app, &period(&today, &today)).await;
        assert_eq!(now.matches("<tr data-action=").count(), 1);
        let past = testkit::read_page(&mario, &app, &period("2020-01-01", "31/12/2020")).await;
        assert_eq!(past.matches("<tr data-action=").count(), 0);
        let r = mario
            .get(app.url(&period("2020-13-01", "2019-01-01")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let wrong = r.text().await.unwrap();
        assert!(wrong.contains("data-error-summary"), "{wrong}");
        assert!(wrong.contains("href=\"#from\""), "{wrong}");
        assert!(wrong.contains("id=\"from-error\""), "{wrong}");
        assert!(wrong.contains("value=\"2020-13-01\""), "{wrong}");

        // The raw records, as CSV and JSON, with the same filters.
        let r = mario
            .get(app.url(&format!(
                "/dashboard/{comune}/audit/export?kind=user.&format=csv"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(".csv")
        );
        let csv = r.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2, "{csv}");
        assert!(lines[0].starts_with("id,at,action,actor,actorName,target,targetName,details"));
        assert!(lines[1].contains(",user.role.added,") && lines[1].contains("Luca Neri"));
        // The details, JSON in one quoted field.
        assert!(
            lines[1].contains("\"{\"\"productId\"\":\"\"prod-io\"\""),
            "{csv}"
        );
        let json: serde_json::Value = mario
            .get(app.url(&format!(
                "/dashboard/{comune}/audit/export?kind=token.&format=json"
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let records = json.as_array().unwrap();
        assert_eq!(records.len(), 21);
        assert_eq!(records[0]["action"], "token.exchanged");
        assert_eq!(records[0]["actorName"], "Mario Rossi");
        assert_eq!(records[0]["details"]["aud"], "api.io.selfcare.local");
        assert!(records[0]["at"].as_str().unwrap().ends_with('Z'));

        let anna = browser(&app, ANNA).await;
        for path in ["audit", "audit/export?format=json"] {
            let r = anna
                .get(app.url(&format!("/dashboard/{comune}/{path}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        }
    }
}
