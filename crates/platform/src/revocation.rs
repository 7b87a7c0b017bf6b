//! Revocations: what ends back-office sessions before their time. Written by the Reserved
//! Area (logout, role suspended or removed), read by every back-office on each request.

use sqlx::{Any, Executor};

use std::sync::LazyLock;

use crate::db::hot::{Param, Sql};
use crate::db::{Db, now_millis};

#[derive(Debug, Clone, Default)]
pub struct Revocation {
    pub sid: Option<String>,
    pub user_id: Option<String>,
    pub institution_id: Option<String>,
    pub product_id: Option<String>,
    pub reason: String,
}

pub async fn record<'e, E>(executor: E, revocation: &Revocation) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO revocations (id, sid, user_id, institution_id, product_id, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(revocation.sid.as_deref())
    .bind(revocation.user_id.as_deref())
    .bind(revocation.institution_id.as_deref())
    .bind(revocation.product_id.as_deref())
    .bind(&revocation.reason)
    .bind(now_millis())
    .execute(executor)
    .await?;
    Ok(())
}

/// Whether a back-office session opened at `opened_at` (ms) from Reserved Area session `sid`,
/// for this user, institution and product, has been revoked since. One indexed read.
pub async fn is_revoked(
    db: &Db,
    sid: &str,
    user_id: &str,
    institution_id: &str,
    product_id: &str,
    opened_at: i64,
) -> Result<bool, sqlx::Error> {
    // Every request of a back-office asks: on the native driver (on SQLite on the calling
    // thread), from the two indexes of the table.
    static REVOKED: LazyLock<Sql> = LazyLock::new(|| {
        Sql::new(
            "SELECT CAST(1 AS BIGINT) FROM revocations WHERE sid = $1 \
             OR (user_id = $2 AND institution_id = $3 AND product_id = $4 AND at >= $5) LIMIT 1",
        )
    });
    let params = [
        Param::text(sid),
        Param::text(user_id),
        Param::text(institution_id),
        Param::text(product_id),
        Param::int(opened_at),
    ];
    let hit = db
        .hot()
        .fetch_optional(&REVOKED, &params, |r| r.int(0))
        .await?;
    Ok(hit.is_some())
}

/// Removes used identity-token ids whose tokens have expired.
pub async fn purge_used_jtis(db: &Db) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM used_jtis WHERE expires_at < $1")
        .bind(now_millis() / 1000)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}
