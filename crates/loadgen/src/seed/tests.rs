//! The seeded data as the real app serves it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use platform::db::Db;
use serde_json::{Value, json};
use testkit::{Options as AppOptions, TestApp};

use super::Options;

async fn ok_json(r: reqwest::RequestBuilder, what: &str) -> Value {
    let r = r.send().await.unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

async fn scalar(db: &Db, sql: &str, bind: &str) -> String {
    sqlx::query_scalar::<_, String>(sql)
        .bind(bind)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn person(db: &Db, sql: &str, bind: &str) -> (String, String, String) {
    sqlx::query_as(sql)
        .bind(bind)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn count(db: &Db, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(bind)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A back-office bearer token for `fiscal_code` in `institution` on `product`.
async fn back_office(
    app: &TestApp,
    session: &str,
    institution: &str,
    product: &str,
    base: &str,
) -> String {
    let exchanged = ok_json(
        app.get(&format!(
            "/v2/token/exchange?institutionId={institution}&productId={product}"
        ))
        .bearer_auth(session),
        "token exchange",
    )
    .await;
    let opened = ok_json(
        app.post(&format!("{base}/api/session"))
            .json(&json!({ "identity_token": exchanged["token"] })),
        "back-office session",
    )
    .await;
    opened["token"]
        .as_str()
        .expect("back-office token")
        .to_string()
}

#[tokio::test]
async fn a_tiny_seed_is_served_by_the_real_app() {
    let app = TestApp::spawn_with(AppOptions {
        serve: true,
        settings: Some(Box::new(|s| s.reserved_area.test_idp.enabled = true)),
        ..Default::default()
    })
    .await;
    super::run(&Options {
        scale: 0.001,
        database_url: app.db.url().to_string(),
        devportal_database_url: None,
        seed: 7,
        master_key_file: testkit::test_master_key(),
    })
    .await
    .expect("seed");
    let db = app.db.connect().await;
    // The institution with the most services (one of the few big ones), and its manager.
    let institution = scalar(
        &db,
        "SELECT institution_id FROM io_services WHERE status <> $1 GROUP BY institution_id \
         ORDER BY COUNT(*) DESC, institution_id LIMIT 1",
        "deleted",
    )
    .await;
    let (fiscal_code, name, family_name) = person(
        &db,
        "SELECT u.fiscal_code, u.name, u.family_name FROM product_roles r JOIN users u ON u.id = r.user_id \
         WHERE r.institution_id = $1 AND r.party_role = 'MANAGER' AND r.product_id = 'prod-io'",
        &institution,
    )
    .await;
    let users = count(
        &db,
        "SELECT COUNT(*) FROM user_institutions WHERE institution_id = $1",
        &institution,
    )
    .await;
    let services = count(
        &db,
        "SELECT COUNT(*) FROM io_services WHERE institution_id = $1 AND status <> 'deleted'",
        &institution,
    )
    .await;
    assert!(
        users > 1 && services > 1,
        "{users} users, {services} services"
    );

    // The manager logs in and sees the institution's users.
    let login = ok_json(
        app.post("/auth/test-idp/token").json(
            &json!({ "fiscal_number": fiscal_code, "name": name, "family_name": family_name }),
        ),
        "login",
    )
    .await;
    let session = login["sessionToken"]
        .as_str()
        .expect("session token")
        .to_string();
    // Every one of them, a page of 100 at a time, in family-name order.
    let mut listed_users = Vec::new();
    for page in 0.. {
        let r = app
            .get(&format!("/v2/users/institution/{institution}"))
            .query(&[("size", "100"), ("page", &page.to_string())])
            .bearer_auth(&session)
            .send()
            .await
            .expect("users");
        assert_eq!(r.status(), 200);
        let total: i64 = r.headers()["x-total-count"]
            .to_str()
            .expect("a total")
            .parse()
            .expect("a number");
        assert_eq!(total, users);
        let listed: Value = r.json().await.expect("users");
        let listed = listed.as_array().cloned().unwrap_or_default();
        if listed.is_empty() {
            break;
        }
        listed_users.extend(listed);
    }
    assert_eq!(listed_users.len() as i64, users);
    let fold = |u: &Value, field: &str| platform::search::fold(u[field].as_str().unwrap_or(""));
    let keys: Vec<(String, String)> = listed_users
        .iter()
        .map(|u| (fold(u, "surname"), fold(u, "name")))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");

    // The IO back-office lists its services.
    let io = back_office(&app, &session, &institution, "prod-io", "/io").await;
    let list = ok_json(
        app.get("/io/api/services?limit=5").bearer_auth(&io),
        "services",
    )
    .await;
    assert_eq!(
        list["pagination"]["count"].as_i64(),
        Some(services),
        "{list}"
    );
    let service_id = list["value"][0]["id"]
        .as_str()
        .expect("a service")
        .to_string();

    // A manage key, decrypted with the master key, reads a service through the manage API.
    let sealed: (String, String) = sqlx::query_as(
        "SELECT master_key_id, sealed FROM io_api_keys WHERE subscription_id = $1 \
         AND key_type = 'primary'",
    )
    .bind(format!("MANAGE-{institution}"))
    .fetch_one(db.reader())
    .await
    .unwrap();
    let ring = io_backoffice::secrets::KeyRing::load(&[testkit::test_master_key()]).unwrap();
    let key = ring
        .decrypt(
            &sealed.0,
            &sealed.1,
            &format!("MANAGE-{institution}/primary"),
        )
        .expect("the manage key decrypts");
    let managed = ok_json(
        app.get(&format!("/api/v1/manage/services/{service_id}"))
            .header("Ocp-Apim-Subscription-Key", key.expose()),
        "manage API",
    )
    .await;
    assert_eq!(
        managed["id"].as_str(),
        Some(service_id.as_str()),
        "{managed}"
    );

    // The Interoperability catalogue lists the seeded e-services.
    let interop_institution = scalar(
        &db,
        "SELECT institution_id FROM onboardings WHERE product_id = $1 ORDER BY institution_id LIMIT 1",
        "prod-interop",
    )
    .await;
    let (admin, name, family_name) = person(
        &db,
        "SELECT u.fiscal_code, u.name, u.family_name FROM product_roles r JOIN users u ON u.id = r.user_id \
         WHERE r.institution_id = $1 AND r.party_role = 'MANAGER' AND r.product_id = 'prod-interop'",
        &interop_institution,
    )
    .await;
    let login = ok_json(
        app.post("/auth/test-idp/token")
            .json(&json!({ "fiscal_number": admin, "name": name, "family_name": family_name })),
        "interop login",
    )
    .await;
    let session = login["sessionToken"]
        .as_str()
        .expect("session token")
        .to_string();
    let interop = back_office(
        &app,
        &session,
        &interop_institution,
        "prod-interop",
        "/interop/produzione",
    )
    .await;
    let seeded = count(
        &db,
        "SELECT COUNT(*) FROM interop_eservices WHERE env = $1",
        "produzione",
    )
    .await;
    let catalog = ok_json(
        app.get("/interop/produzione/api/catalog")
            .bearer_auth(&interop),
        "catalogue",
    )
    .await;
    assert_eq!(catalog["totalCount"].as_i64(), Some(seeded), "{catalog}");
    let name = scalar(
        &db,
        "SELECT name FROM interop_eservices WHERE env = $1 ORDER BY id LIMIT 1",
        "produzione",
    )
    .await;
    // The search by the words of a name: its topic and its producer's IPA code.
    let (topic, _) = name.split_once(' ').expect("a seeded name has words");
    let ipa_code = name
        .rsplit(' ')
        .next()
        .expect("a seeded name ends with an IPA code");
    let found = ok_json(
        app.get("/interop/produzione/api/catalog")
            .query(&[("q", format!("{topic} {ipa_code}"))])
            .bearer_auth(&interop),
        "catalogue search",
    )
    .await;
    assert!(found.to_string().contains(&name), "{found}");
    assert!(
        found["totalCount"].as_i64() < Some(seeded),
        "the search filters: {found}"
    );
}
