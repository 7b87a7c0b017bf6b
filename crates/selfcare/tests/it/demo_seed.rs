//! The demo's data laid over a database that already holds other tenants (the national
//! dataset under `loadgen token`, or a real registry): it adds its own and takes nothing away.

use sqlx::Row;
use testkit::TestDb;

const ALTROVE: &str = "\"c_z999\",\"Comune di Altrove\",\"09999999990\",\"Pubbliche Amministrazioni\",\"L6\",\"2430\",\"\",\"099001\",\"00100\",\"Via Roma, 1\",\"protocollo@pec.comune-altrove.example\",\"Pec\",\"https://www.comune-altrove.example\"";

async fn count(db: &platform::db::Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db.reader())
        .await
        .unwrap()
}

/// The names of the live certified attributes of `institution` in Collaudo.
async fn live(db: &platform::db::Db, institution: &str) -> Vec<String> {
    sqlx::query(
        "SELECT a.name FROM interop_tenant_attributes t JOIN interop_attributes a \
         ON a.id = t.attribute_id WHERE t.env = 'collaudo' AND t.institution_id = $1 \
         AND a.kind = 'CERTIFIED' AND t.revoked_at IS NULL ORDER BY a.name",
    )
    .bind(institution)
    .fetch_all(db.reader())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>("name"))
    .collect()
}

#[tokio::test]
async fn the_demo_over_other_tenants_adds_its_registry_and_revokes_nothing() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    // Another tenant, its registry imported from a file the demo's sample does not hold.
    sqlx::query(
        "INSERT INTO interop_institutions (env, id, name, fiscal_code, updated_at) \
         VALUES ('collaudo', 'i-altrove', 'Comune di Altrove', '09999999990', 0)",
    )
    .execute(db.writer())
    .await
    .unwrap();
    let header = selfcare::demo::IPA_SAMPLE
        .split(|b| *b == b'\n')
        .next()
        .unwrap();
    let file = format!("{}\n{ALTROVE}\n", String::from_utf8_lossy(header));
    let entries = interop::model::ipa::parse(file.as_bytes()).unwrap();
    let report = interop::store::ipa::import(&db, &entries).await.unwrap();
    assert!(!report.assigned.is_empty(), "{report:?}");
    let before = live(&db, "i-altrove").await;
    assert!(
        before.contains(&"Comuni e loro Consorzi e Associazioni".to_string()),
        "{before:?}"
    );

    selfcare::demo::seed(&db).await.unwrap();
    selfcare::demo::seed_interop(&db).await.unwrap();

    // Nothing revoked, nobody told of a revocation; the other tenant keeps its registry entry.
    assert_eq!(live(&db, "i-altrove").await, before);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM interop_tenant_attributes WHERE revoked_at IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM interop_ipa WHERE fiscal_code = '09999999990'"
        )
        .await,
        1
    );
    // The sample was added beside it, and the demo's Comune has its certified attributes.
    let sample = interop::model::ipa::parse(selfcare::demo::IPA_SAMPLE)
        .unwrap()
        .len() as i64;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM interop_ipa").await,
        sample + 1
    );
    let comune: String =
        sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = '00123456782'")
            .fetch_one(db.reader())
            .await
            .unwrap();
    let held = live(&db, &comune).await;
    assert!(
        held.contains(&"Comuni e loro Consorzi e Associazioni".to_string()),
        "{held:?}"
    );
    // A second start changes nothing.
    let rows = count(&db, "SELECT COUNT(*) FROM interop_tenant_attributes").await;
    selfcare::demo::seed_interop(&db).await.unwrap();
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM interop_tenant_attributes").await,
        rows
    );
    assert_eq!(live(&db, &comune).await, held);
    db.close().await;
}
