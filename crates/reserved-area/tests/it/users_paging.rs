//! The users list at scale: paged by family name in the database, searched by the start of a
//! family name or by fiscal code, as JSON and as a page.

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;
use testkit::demo::fiscal_code_of as code_for;

use crate::{COMUNE, MARIO, browser, institution_id, session_token};

/// Family names of the people added: out of order, with accents and a prefix shared by
/// several ("Ros…").
const FAMILIES: &[&str] = &[
    "Rossi", "Bianchi", "Rossini", "Verdi", "Ferrari", "Rosà", "Esposito", "Colombo", "Ricci",
    "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano",
    "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani",
];

/// The Comune with the demo's two people and 25 more, operators of App IO.
async fn comune_of_27(app: &TestApp) -> (String, String) {
    let comune = institution_id(app, COMUNE).await;
    let mario = session_token(app, MARIO).await;
    testkit::demo::add_operators(app, &mario, &comune, FAMILIES).await;
    (comune, mario)
}

async fn page(app: &TestApp, token: &str, path: &str) -> (StatusCode, Option<i64>, Value) {
    let r = app.get(path).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    let total = r
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, total, r.json().await.unwrap())
}

fn surnames(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u["surname"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_users_api_pages_by_family_name_and_searches() {
    let app = TestApp::spawn().await;
    let (comune, mario) = comune_of_27(&app).await;
    let base = format!("/v2/users/institution/{comune}");

    // Pages of 10 in family-name order, accents folded; the total in the header.
    let mut everyone = Vec::new();
    for n in 0..3 {
        let (status, total, list) = page(&app, &mario, &format!("{base}?size=10&page={n}")).await;
        assert_eq!(status, 200);
        assert_eq!(total, Some(27));
        everyone.extend(surnames(&list));
    }
    assert_eq!(everyone.len(), 27, "{everyone:?}");
    let mut expected = everyone.clone();
    expected.sort_by_key(|s| platform::search::fold(s));
    assert_eq!(everyone, expected);
    assert!(everyone.contains(&"De Luca".to_string()));
    // Without a size: the first 20.
    let (_, total, first) = page(&app, &mario, &base).await;
    assert_eq!((first.as_array().unwrap().len(), total), (20, Some(27)));
    // Past the end: nothing, the same total.
    let (status, total, late) = page(&app, &mario, &format!("{base}?size=10&page=9")).await;
    assert_eq!((status, total, late), (StatusCode::OK, Some(27), json!([])));

    // The start of a family name, any case, accents ignored: Rosà, Carla and Mario (the
    // demo's) Rossi, Rossini.
    let (_, total, found) = page(&app, &mario, &format!("{base}?search=ROS")).await;
    assert_eq!(surnames(&found), ["Rosà", "Rossi", "Rossi", "Rossini"]);
    assert_eq!(total, Some(4));
    let (_, _, found) = page(&app, &mario, &format!("{base}?search=rossi")).await;
    assert_eq!(surnames(&found), ["Rossi", "Rossi", "Rossini"]);
    let (_, _, found) = page(&app, &mario, &format!("{base}?search=de%20luca")).await;
    assert_eq!(surnames(&found), ["De Luca"]);
    // A fiscal code: that person only; an unknown one: nobody.
    let code = code_for("Verdi", "Carla", 3);
    let (_, total, found) = page(&app, &mario, &format!("{base}?search={code}")).await;
    assert_eq!(
        (surnames(&found), total),
        (vec!["Verdi".to_string()], Some(1))
    );
    let unknown = code_for("Nessuno", "Carla", 27);
    let (_, total, found) = page(&app, &mario, &format!("{base}?search={unknown}")).await;
    assert_eq!((found, total), (json!([]), Some(0)));
    // Filters and search together, paged.
    let (_, total, found) = page(
        &app,
        &mario,
        &format!("{base}?search=r&roles=OPERATOR&productId=prod-io&size=2&page=1"),
    )
    .await;
    // R…: Ricci, Rizzo, Rosà, Rossi, Rossini (the demo's Mario Rossi is an admin).
    assert_eq!(total, Some(5));
    assert_eq!(surnames(&found), ["Rosà", "Rossi"]);

    // Bad paging is a 400 naming the parameter.
    for (query, field) in [
        ("size=0", "size"),
        ("size=101", "size"),
        ("page=-1", "page"),
        ("page=2000&size=100", "page"),
        ("productRoles=a,b,c,d,e,f,g,h,i", "productRoles"),
        (
            "roles=MANAGER,DELEGATE,SUB_DELEGATE,OPERATOR,MANAGER",
            "roles",
        ),
    ] {
        let r = app
            .get(&format!("{base}?{query}"))
            .bearer_auth(&mario)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let problem: Value = r.json().await.unwrap();
        assert!(problem.to_string().contains(field), "{query}: {problem}");
    }
}

#[tokio::test]
async fn the_users_page_has_a_search_and_a_pager_that_keep_the_filters() {
    let app = TestApp::spawn().await;
    let (comune, _) = comune_of_27(&app).await;
    let mario = browser(&app, MARIO).await;
    let list = format!("/dashboard/{comune}/users");

    let first = testkit::read_page(&mario, &app, &list).await;
    assert!(first.contains("Pagina 1 di 2"), "{first}");
    assert!(first.contains("Utenti trovati: 27"), "{first}");
    assert!(first.contains("<label for=\"q\">Cerca</label>"), "{first}");
    let text = testkit::visible_text(&first);
    assert!(
        text.contains("Barbieri") && !text.contains("Verdi"),
        "{text}"
    );
    assert!(first.contains("href=\"?page=2\""), "{first}");

    let second = testkit::read_page(&mario, &app, &format!("{list}?page=2")).await;
    let text = testkit::visible_text(&second);
    assert!(second.contains("Pagina 2 di 2"), "{second}");
    assert!(
        text.contains("Verdi") && !text.contains("Barbieri"),
        "{text}"
    );
    // A page past the end shows the last one.
    let late = testkit::read_page(&mario, &app, &format!("{list}?page=99")).await;
    assert!(late.contains("Pagina 2 di 2"), "{late}");

    // The search, with the filters, and a pager that keeps them.
    let found = testkit::read_page(&mario, &app, &format!("{list}?q=ros&role=LIMITED")).await;
    let text = testkit::visible_text(&found);
    assert!(found.contains("Utenti trovati: 3"), "{found}");
    assert!(text.contains("Rossini") && text.contains("Rosà"), "{text}");
    assert!(!text.contains("Barbieri"), "{text}");
    assert!(
        !found.contains("data-testid=\"pager\""),
        "one page: no pager"
    );
    let found = testkit::read_page(&mario, &app, &format!("{list}?q=r&product=prod-io")).await;
    assert!(found.contains("Utenti trovati: 6"), "{found}");
}
