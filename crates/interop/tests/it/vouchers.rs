//! Vouchers across instances and faults: a change committed through one instance is honoured
//! by the very next token request to another instance on the same database; a voucher whose
//! record cannot be written is never returned.

use serde_json::{Value, json};
use testkit::TestApp;
use testkit::interop::{ClientKey, assertion_claims, token_form};

use crate::{
    COLL, COMUNE, LUCA, get_ok, give_luca_collaudo, key_upload, link_purpose, member, post_created,
    send_agreement,
};

const AUDIENCE: &str = "auth.uat.interop.pagopa.it/client-assertion";

/// Luca's CONSUMER client with a key and an ACTIVE purpose linked, on an ACTIVE agreement.
pub struct Consumer {
    pub luca: String,
    pub client: String,
    pub key: ClientKey,
    pub purpose: String,
    pub version: String,
    pub agreement: String,
}

pub async fn consumer(app: &TestApp) -> Consumer {
    give_luca_collaudo(app, "admin").await;
    let luca = member(app, LUCA, COMUNE, "prod-interop-coll").await;
    let (send, _, agreement) = send_agreement(app, &luca).await;
    let (purpose, version, state) =
        crate::purpose(app, &luca, &send, "Notifiche degli atti", 100, false).await;
    assert_eq!(state, "ACTIVE");
    let me = get_ok(app, &luca, &format!("{COLL}/api/me")).await;
    let c = post_created(
        app,
        &luca,
        &format!("{COLL}/api/clientsConsumer"),
        &json!({"name": "Client notifiche", "members": [me["userId"]]}),
    )
    .await;
    let client = c["id"].as_str().unwrap().to_string();
    let key = ClientKey::generate();
    post_created(
        app,
        &luca,
        &format!("{COLL}/api/clients/{client}/keys"),
        &key_upload(&key.upload_b64(), "Chiave di produzione"),
    )
    .await;
    link_purpose(app, &luca, &client, &purpose).await;
    Consumer {
        luca,
        client,
        key,
        purpose,
        version,
        agreement,
    }
}

impl Consumer {
    /// A fresh, valid client assertion.
    pub fn assertion(&self) -> String {
        self.key.assertion(&assertion_claims(
            &self.client,
            AUDIENCE,
            Some(&self.purpose),
        ))
    }
}

/// Posts a fresh assertion to the token endpoint at `base_url`: the status and the body.
async fn voucher(base_url: &str, c: &Consumer) -> (u16, Value) {
    let r = testkit::client()
        .post(format!("{base_url}{COLL}/token.oauth2"))
        .form(&token_form(Some(&c.client), &c.assertion()))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// `method path` with a bearer token on the instance at `base_url`, asserting the status.
async fn via(
    base_url: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    status: u16,
) {
    let mut r = testkit::client()
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{base_url}{path}"),
        )
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(b);
    }
    let r = r.send().await.unwrap();
    let got = r.status().as_u16();
    assert_eq!(got, status, "{method} {path}: {}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_change_through_one_instance_is_honoured_by_the_next_token_request_to_the_other() {
    let a = TestApp::spawn().await;
    let c = consumer(&a).await;
    let b = a.another_instance().await;
    let (a_url, b_url) = (a.url.clone(), b.url.clone());
    let p = &c.purpose;
    let v = &c.version;
    let id = &c.agreement;
    let client = &c.client;
    // Each step: a change through one instance, then the very next request to the other.
    // (through, method, path, body, status, vouchers after)
    type Step<'a> = (&'a str, &'a str, String, Option<Value>, u16, bool);
    let steps: Vec<Step> = vec![
        (
            "A",
            "POST",
            format!("{COLL}/api/purposes/{p}/versions/{v}/suspend"),
            None,
            200,
            false,
        ),
        (
            "B",
            "POST",
            format!("{COLL}/api/purposes/{p}/versions/{v}/activate"),
            None,
            200,
            true,
        ),
        (
            "A",
            "POST",
            format!("{COLL}/api/agreements/{id}/suspend"),
            None,
            200,
            false,
        ),
        (
            "B",
            "POST",
            format!("{COLL}/api/agreements/{id}/activate"),
            None,
            200,
            true,
        ),
        (
            "B",
            "DELETE",
            format!("{COLL}/api/clients/{client}/purposes/{p}"),
            None,
            204,
            false,
        ),
        (
            "A",
            "POST",
            format!("{COLL}/api/clients/{client}/purposes"),
            Some(json!({"purposeId": p})),
            200,
            true,
        ),
        (
            "A",
            "DELETE",
            format!("{COLL}/api/clients/{client}/keys/{}", c.key.kid),
            None,
            204,
            false,
        ),
    ];
    let (status, _) = voucher(&b_url, &c).await;
    assert_eq!(status, 200, "the valid assertion through B");
    for (through, method, path, body, status, works_after) in &steps {
        let (change, other) = if *through == "A" {
            (&a_url, &b_url)
        } else {
            (&b_url, &a_url)
        };
        via(change, &c.luca, method, path, body.as_ref(), *status).await;
        let (got, v) = voucher(other, &c).await;
        let want = if *works_after { 200 } else { 400 };
        assert_eq!(
            got, want,
            "after {method} {path} through {through}, the other instance answered {v}"
        );
    }
    b.stop().await;
}

/// The voucher records in `db`.
async fn voucher_count(db: &platform::db::Db) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT CAST(count(*) AS BIGINT) FROM interop_vouchers")
        .fetch_one(db.reader())
        .await
        .unwrap()
}

/// A voucher whose record the database refuses is not returned: a trigger rejects the
/// inserts into `interop_vouchers` in the voucher records' store (a real fault of the store),
/// and the token endpoint answers 500 instead; when the trigger goes, vouchers come back.
#[tokio::test]
async fn no_record_no_voucher() {
    let app = TestApp::spawn().await;
    let c = consumer(&app).await;
    let (status, body) = voucher(&app.url, &c).await;
    assert_eq!(status, 200, "{body}");
    let db = interop::voucher_store(&app.db.connect().await)
        .await
        .unwrap();
    assert_eq!(voucher_count(&db).await, 1);
    let (install, remove): (Vec<&str>, Vec<&str>) = if app.db.is_postgres() {
        (
            vec![
                "CREATE FUNCTION refuse_vouchers() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION 'voucher store refuses writes'; END; $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_vouchers BEFORE INSERT ON interop_vouchers \
                 FOR EACH ROW EXECUTE FUNCTION refuse_vouchers()",
            ],
            vec![
                "DROP TRIGGER refuse_vouchers ON interop_vouchers",
                "DROP FUNCTION refuse_vouchers()",
            ],
        )
    } else {
        (
            vec![
                "CREATE TRIGGER refuse_vouchers BEFORE INSERT ON interop_vouchers \
                 BEGIN SELECT RAISE(ABORT, 'voucher store refuses writes'); END",
            ],
            vec!["DROP TRIGGER refuse_vouchers"],
        )
    };
    for sql in &install {
        sqlx::query(sql).execute(db.writer()).await.unwrap();
    }
    for _ in 0..3 {
        let (status, body) = voucher(&app.url, &c).await;
        assert_eq!(status, 500, "a voucher without its record: {body}");
        assert!(body.get("access_token").is_none(), "{body}");
    }
    assert_eq!(
        voucher_count(&db).await,
        1,
        "nothing recorded while refused"
    );
    for sql in &remove {
        sqlx::query(sql).execute(db.writer()).await.unwrap();
    }
    let (status, body) = voucher(&app.url, &c).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(voucher_count(&db).await, 2);
    db.close().await;
}

/// The voucher records' own store: on SQLite a file beside the main one, into which the
/// records an earlier version wrote in the main file move at start (once: opening it again
/// copies nothing twice); on PostgreSQL the main database itself.
#[tokio::test]
async fn voucher_records_have_a_store_of_their_own() {
    let test_db = testkit::TestDb::new().await;
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    let insert = "INSERT INTO interop_vouchers (jti, env, kind, client_id, consumer_id, \
                  client_kid, signing_kid, audience, assertion_jti, issued_at, expires_at) \
                  VALUES ($1, 'collaudo', 'CONSUMER', 'c', 'i', 'k', 's', 'a', 'j', 1, 2)";
    sqlx::query(insert)
        .bind("earlier")
        .execute(db.writer())
        .await
        .unwrap();
    let store = interop::voucher_store(&db).await.unwrap();
    assert_eq!(
        voucher_count(&store).await,
        1,
        "the earlier record is in the store"
    );
    if test_db.is_postgres() {
        assert_eq!(store.hot().sqlite_path(), None);
    } else {
        let main = db.hot().sqlite_path().unwrap().to_path_buf();
        let own = store.hot().sqlite_path().unwrap().to_path_buf();
        assert_eq!(own.parent(), main.parent());
        assert!(
            own.to_string_lossy().ends_with(".vouchers.db"),
            "{}",
            own.display()
        );
        assert_eq!(voucher_count(&db).await, 0, "moved out of the main file");
        sqlx::query(insert)
            .bind("another")
            .execute(store.writer())
            .await
            .unwrap();
        let again = interop::voucher_store(&db).await.unwrap();
        assert_eq!(voucher_count(&again).await, 2, "nothing copied twice");
        again.close().await;
    }
    store.close().await;
    db.close().await;
}

/// The vouchers of the institution's clients in the last 30 days, as counts on the clients
/// list (the records themselves stay in their own store): records of other clients, older
/// ones and those of the other environment do not count.
#[tokio::test]
async fn the_clients_list_counts_each_clients_vouchers_of_the_last_30_days() {
    let app = TestApp::spawn().await;
    let c = consumer(&app).await;
    let me = crate::get_ok(&app, &c.luca, &format!("{COLL}/api/me")).await;
    let other = crate::post_created(
        &app,
        &c.luca,
        &format!("{COLL}/api/clientsConsumer"),
        &json!({"name": "Client senza voucher", "members": [me["userId"]]}),
    )
    .await;
    let other = other["id"].as_str().unwrap().to_string();
    for _ in 0..3 {
        assert_eq!(voucher(&app.url, &c).await.0, 200);
    }
    // Older than the window, or of Produzione: not counted.
    let store = app.app().vouchers().store.clone();
    let now = platform::jwt::now_secs();
    for (jti, env, issued) in [
        ("old", "collaudo", now - 31 * 86_400),
        ("prod", "produzione", now),
    ] {
        sqlx::query(
            "INSERT INTO interop_vouchers (jti, env, kind, client_id, consumer_id, \
             client_kid, signing_kid, audience, assertion_jti, issued_at, expires_at) \
             SELECT $1, $2, 'CONSUMER', $3, consumer_id, client_kid, signing_kid, audience, \
             'j', $4, $4 + 600 FROM interop_vouchers WHERE client_id = $3 LIMIT 1",
        )
        .bind(jti)
        .bind(env)
        .bind(&c.client)
        .bind(issued)
        .execute(store.writer())
        .await
        .unwrap();
    }
    assert_eq!(voucher_count(&store).await, 5);
    let html = crate::page(&app, &c.luca, &format!("{COLL}/clients?kind=CONSUMER")).await;
    assert!(html.contains("Voucher (30 giorni)"), "{html}");
    let count_of = |client: &str| {
        let row = html
            .split("<tr>")
            .find(|row| row.contains(&format!("/clients/{client}\"")))
            .unwrap_or_else(|| panic!("no row for {client} in {html}"));
        let cell = row.split("data-testid=\"vouchers\">").nth(1).unwrap();
        cell[..cell.find('<').unwrap()].to_string()
    };
    assert_eq!(count_of(&c.client), "3");
    assert_eq!(count_of(&other), "0");
}

/// Archiving a purpose takes it off the clients it was linked to (as on the real platform):
/// the client no longer lists it, and its assertions for it get no voucher.
#[tokio::test]
async fn an_archived_purpose_leaves_its_clients() {
    let app = TestApp::spawn().await;
    let c = consumer(&app).await;
    let client = format!("{COLL}/api/clients/{}", c.client);
    let got = crate::get_ok(&app, &c.luca, &client).await;
    assert_eq!(got["purposes"], json!([c.purpose]));
    assert_eq!(voucher(&app.url, &c).await.0, 200);
    crate::post_ok(
        &app,
        &c.luca,
        &format!(
            "{COLL}/api/purposes/{}/versions/{}/archive",
            c.purpose, c.version
        ),
    )
    .await;
    let got = crate::get_ok(&app, &c.luca, &client).await;
    assert_eq!(got["purposes"], json!([]), "{got}");
    assert_eq!(voucher(&app.url, &c).await.0, 400);
}

/// The retention sweep deletes the voucher records issued before its limit and keeps the
/// others: records with time-ordered (v7) `jti`s, found through their key on SQLite, and
/// records of early versions with random (v4) ones.
#[tokio::test]
async fn the_retention_sweep_deletes_old_voucher_records_and_keeps_recent_ones() {
    let test_db = testkit::TestDb::new().await;
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    let store = interop::voucher_store(&db).await.unwrap();
    let now = platform::jwt::now_secs();
    let day = 86_400;
    let v7 = |secs: i64| {
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs as u64, 0);
        uuid::Uuid::new_v7(ts).to_string()
    };
    let records = [
        (
            "v7 of 100 days ago",
            v7(now - 100 * day),
            now - 100 * day,
            false,
        ),
        (
            "v7 of 91 days ago",
            v7(now - 91 * day),
            now - 91 * day,
            false,
        ),
        (
            "v7 of 89 days ago",
            v7(now - 89 * day),
            now - 89 * day,
            true,
        ),
        ("v7 of now", v7(now), now, true),
        (
            "old v4 sorting last",
            "f47ac10b-58cc-4372-a567-0e02b2c3d479".to_string(),
            now - 100 * day,
            false,
        ),
        (
            "old v4 sorting first",
            "00000001-58cc-4372-a567-0e02b2c3d479".to_string(),
            now - 100 * day,
            false,
        ),
        (
            "recent v4",
            "e47ac10b-58cc-4372-a567-0e02b2c3d479".to_string(),
            now - day,
            true,
        ),
    ];
    for (_, jti, issued, _) in &records {
        sqlx::query(
            "INSERT INTO interop_vouchers (jti, env, kind, client_id, consumer_id, \
             client_kid, signing_kid, audience, assertion_jti, issued_at, expires_at) \
             VALUES ($1, 'produzione', 'CONSUMER', 'c', 'i', 'k', 's', 'a', 'j', $2, $2 + 600)",
        )
        .bind(jti)
        .bind(issued)
        .execute(store.writer())
        .await
        .unwrap();
    }
    let gone = interop::store::tokens::sweep(&db, &store, now - 90 * day, now)
        .await
        .unwrap();
    assert_eq!(gone, 4);
    for (what, jti, _, kept) in &records {
        let n = testkit::demo::count(
            &store,
            "SELECT CAST(count(*) AS BIGINT) FROM interop_vouchers WHERE jti = $1",
            jti,
        )
        .await;
        assert_eq!(n == 1, *kept, "{what} ({jti})");
    }
    store.close().await;
    db.close().await;
}
