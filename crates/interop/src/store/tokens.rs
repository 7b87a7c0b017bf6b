//! The token endpoint's SQL: one indexed read of everything the checks need (the key, its
//! client, the purpose, its link, its versions, the agreement and its version), the voucher
//! records written in group commits, the `jti`s already used and the retention sweep.
//!
//! Every request sees committed state, so that a change made through any instance is honoured
//! by the very next request: on PostgreSQL the lookup is read each time; on SQLite a reader
//! connection may answer from its earlier read, only after SQLite has told it that no other
//! connection, of this process or another, committed since.

use std::path::Path;
use std::sync::LazyLock;

use platform::db::hot::{HotRow, Param, Sql};
use platform::db::{Db, Dialect};
use platform::group_commit::{ColumnType, GroupRecord, column_list};
use sqlx::Row;

use super::corrupt;
use crate::model::client::ClientKind;
use crate::model::token::{AgreementFacts, KeyFacts, PurposeStates};
use crate::model::{AgreementState, DescriptorState, Environment};

/// What the checks need, read in one statement.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub key: Option<KeyFacts>,
    pub purpose: Option<PurposeStates>,
}

const LOOKUP: &str = "SELECT c.id AS client_id, c.consumer_id AS client_consumer, c.kind, k.n, k.e, \
    p.id AS purpose_id, p.consumer_id AS purpose_consumer, p.eservice_id, p.producer_id, \
    CAST(CASE WHEN EXISTS (SELECT 1 FROM interop_client_purposes cp \
        WHERE cp.client_id = c.id AND cp.purpose_id = p.id) THEN 1 ELSE 0 END AS BIGINT) AS linked, \
    CAST(CASE WHEN EXISTS (SELECT 1 FROM interop_purpose_versions v \
        WHERE v.purpose_id = p.id AND v.state = 'ACTIVE') THEN 1 ELSE 0 END AS BIGINT) AS active, \
    CAST(CASE WHEN EXISTS (SELECT 1 FROM interop_purpose_versions v \
        WHERE v.purpose_id = p.id AND v.state = 'WAITING_FOR_APPROVAL') THEN 1 ELSE 0 END AS BIGINT) \
        AS waiting, \
    a.id AS agreement_id, a.state AS agreement_state, a.descriptor_id, \
    d.state AS descriptor_state, d.audience, d.voucher_lifespan \
    FROM interop_client_keys k \
    JOIN interop_clients c ON c.id = k.client_id \
    LEFT JOIN interop_purposes p ON p.id = $3 AND p.env = k.env \
    LEFT JOIN interop_agreements a ON a.id = (SELECT a2.id FROM interop_agreements a2 \
        WHERE a2.env = p.env AND a2.consumer_id = p.consumer_id AND a2.eservice_id = p.eservice_id \
        AND a2.state IN ('ACTIVE', 'SUSPENDED', 'PENDING', 'MISSING_CERTIFIED_ATTRIBUTES') \
        ORDER BY CASE a2.state WHEN 'ACTIVE' THEN 0 WHEN 'SUSPENDED' THEN 1 ELSE 2 END, \
        a2.updated_at DESC LIMIT 1) \
    LEFT JOIN interop_descriptors d ON d.id = a.descriptor_id \
    WHERE k.env = $1 AND k.kid = $2";

static LOOKUP_SQL: LazyLock<Sql> = LazyLock::new(|| Sql::new(LOOKUP));

/// Reads the key `kid` with its client and, when `purpose_id` is given, the purpose's states:
/// one indexed statement on the native driver, on the calling thread on SQLite, where the
/// connection answers from its earlier read of the same key and purpose as long as nothing
/// was committed to the database since ([`platform::db::hot::HotDb::fetch_optional_remembered`]).
pub async fn facts(
    db: &Db,
    env: Environment,
    kid: &str,
    purpose_id: Option<&str>,
) -> Result<Facts, sqlx::Error> {
    let params = [
        Param::text(env.as_str()),
        Param::text(kid),
        Param::opt_text(purpose_id),
    ];
    let facts = db
        .hot()
        .fetch_optional_remembered(&LOOKUP_SQL, &params, decode_facts)
        .await?;
    Ok(facts.unwrap_or_default())
}

fn required<T>(value: Option<T>, what: &str) -> Result<T, sqlx::Error> {
    value.ok_or_else(|| corrupt(what))
}

/// The row of [`LOOKUP`], by column index.
fn decode_facts(r: &dyn HotRow) -> Result<Facts, sqlx::Error> {
    let kind = required(r.text(2)?, "client kind")?;
    let key = KeyFacts {
        client_id: required(r.text(0)?, "client id")?,
        consumer_id: required(r.text(1)?, "client consumer")?,
        kind: ClientKind::parse(&kind).ok_or_else(|| corrupt("client kind"))?,
        n: required(r.text(3)?, "key n")?,
        e: required(r.text(4)?, "key e")?,
    };
    let purpose = match r.text(5)? {
        None => None,
        Some(_) => {
            let agreement = match r.text(12)? {
                None => None,
                Some(id) => {
                    let state = required(r.text(13)?, "agreement state")?;
                    let audience: Vec<String> = r
                        .text(16)?
                        .as_deref()
                        .map(serde_json::from_str)
                        .transpose()
                        .map_err(|_| corrupt("descriptor audience"))?
                        .unwrap_or_default();
                    Some(AgreementFacts {
                        id,
                        state: AgreementState::parse(&state)
                            .ok_or_else(|| corrupt("agreement state"))?,
                        descriptor_id: required(r.text(14)?, "agreement descriptor")?,
                        descriptor_state: r
                            .text(15)?
                            .as_deref()
                            .and_then(DescriptorState::parse)
                            .ok_or_else(|| corrupt("descriptor state"))?,
                        audience,
                        voucher_lifespan: r.int(17)?.unwrap_or(0),
                    })
                }
            };
            Some(PurposeStates {
                consumer_id: required(r.text(6)?, "purpose consumer")?,
                eservice_id: required(r.text(7)?, "purpose e-service")?,
                producer_id: required(r.text(8)?, "purpose producer")?,
                linked: r.int(9)? == Some(1),
                active: r.int(10)? == Some(1),
                waiting_for_approval: r.int(11)? == Some(1),
                agreement,
            })
        }
    };
    Ok(Facts {
        key: Some(key),
        purpose,
    })
}

/// Records that `jti` was used by the client until `expires_at`; `false` if it already was.
pub async fn use_jti(
    db: &Db,
    env: Environment,
    client_id: &str,
    jti: &str,
    expires_at: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO interop_assertion_jtis (env, client_id, jti, expires_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (env, client_id, jti) DO NOTHING",
    )
    .bind(env.as_str())
    .bind(client_id)
    .bind(jti)
    .bind(expires_at)
    .execute(db.writer())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Whether the client already used `jti` (the debug tool's look, which uses nothing up).
pub async fn jti_used(
    db: &Db,
    env: Environment,
    client_id: &str,
    jti: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT jti FROM interop_assertion_jtis WHERE env = $1 AND client_id = $2 AND jti = $3",
    )
    .bind(env.as_str())
    .bind(client_id)
    .bind(jti)
    .fetch_optional(db.reader())
    .await?;
    Ok(found.is_some())
}

/// Records that a DPoP proof's `jti` was used in `env` until `keep_until`; `false` if it
/// already was (by this instance or another on the same database).
pub async fn use_dpop_jti(
    db: &Db,
    env: Environment,
    jti: &str,
    keep_until: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO interop_dpop_jtis (env, jti, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (env, jti) DO NOTHING",
    )
    .bind(env.as_str())
    .bind(jti)
    .bind(keep_until)
    .execute(db.writer())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Deletes the DPoP proofs' `jti`s kept until before `now` (also done by [`sweep`]).
pub async fn sweep_dpop_jtis(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM interop_dpop_jtis WHERE expires_at < $1")
            .bind(now)
            .execute(db.writer())
            .await?
            .rows_affected(),
    )
}

/// Whether a DPoP proof's `jti` was already used in `env` (the debug tool's look).
pub async fn dpop_jti_used(db: &Db, env: Environment, jti: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT jti FROM interop_dpop_jtis WHERE env = $1 AND jti = $2")
            .bind(env.as_str())
            .bind(jti)
            .fetch_optional(db.reader())
            .await?;
    Ok(found.is_some())
}

/// One issued voucher, as recorded before it is returned.
#[derive(Debug, Clone)]
pub struct VoucherRecord {
    pub jti: String,
    pub env: Environment,
    pub kind: ClientKind,
    pub client_id: String,
    pub consumer_id: String,
    pub purpose_id: Option<String>,
    pub agreement_id: Option<String>,
    pub eservice_id: Option<String>,
    pub descriptor_id: Option<String>,
    pub client_kid: String,
    pub signing_kid: String,
    pub audience: String,
    pub assertion_jti: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl GroupRecord for VoucherRecord {
    const TABLE: &'static str = "interop_vouchers";
    const COLUMNS: &'static [(&'static str, ColumnType)] = &[
        ("jti", ColumnType::Text),
        ("env", ColumnType::Text),
        ("kind", ColumnType::Text),
        ("client_id", ColumnType::Text),
        ("consumer_id", ColumnType::Text),
        ("purpose_id", ColumnType::Text),
        ("agreement_id", ColumnType::Text),
        ("eservice_id", ColumnType::Text),
        ("descriptor_id", ColumnType::Text),
        ("client_kid", ColumnType::Text),
        ("signing_kid", ColumnType::Text),
        ("audience", ColumnType::Text),
        ("assertion_jti", ColumnType::Text),
        ("issued_at", ColumnType::BigInt),
        ("expires_at", ColumnType::BigInt),
    ];

    fn values(&self) -> Vec<Param<'_>> {
        vec![
            Param::text(&self.jti),
            Param::text(self.env.as_str()),
            Param::text(self.kind.as_str()),
            Param::text(&self.client_id),
            Param::text(&self.consumer_id),
            Param::opt_text(self.purpose_id.as_deref()),
            Param::opt_text(self.agreement_id.as_deref()),
            Param::opt_text(self.eservice_id.as_deref()),
            Param::opt_text(self.descriptor_id.as_deref()),
            Param::text(&self.client_kid),
            Param::text(&self.signing_kid),
            Param::text(&self.audience),
            Param::text(&self.assertion_jti),
            Param::int(self.issued_at),
            Param::int(self.expires_at),
        ]
    }
}

/// Deletes the voucher records of `vouchers` (their store) issued before `before` (seconds)
/// and the used `jti`s expired before `now`; returns how many voucher records went.
///
/// On SQLite the store has no `issued_at` index (one page less for every record's commit):
/// the records issued before `before` are found by their key, a UUID v7 whose text starts
/// with the millisecond in hex, so they sort before [`v7_prefix`] of `before`. Records of
/// early versions with random (v4) `jti`s mostly sort after every v7 key until the year
/// 10889: the second range, from a day ahead of `now`, takes them; the rare one between the
/// two ranges goes once `before` has passed it. `issued_at` is tested all the same.
pub async fn sweep(db: &Db, vouchers: &Db, before: i64, now: i64) -> Result<u64, sqlx::Error> {
    let gone = match vouchers.dialect() {
        Dialect::Sqlite => sqlx::query(
            "DELETE FROM interop_vouchers WHERE (jti < $1 OR jti >= $2) AND issued_at < $3",
        )
        .bind(v7_prefix(before))
        .bind(v7_prefix(now + 86_400))
        .bind(before),
        Dialect::Postgres => {
            sqlx::query("DELETE FROM interop_vouchers WHERE issued_at < $1").bind(before)
        }
    }
    .execute(vouchers.writer())
    .await?
    .rows_affected();
    for table in ["interop_assertion_jtis", "interop_dpop_jtis"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1"))
            .bind(now)
            .execute(db.writer())
            .await?;
    }
    Ok(gone)
}

/// The start of the text of the UUID v7s made at `secs` (seconds): `xxxxxxxx-xxxx`, the
/// millisecond in hex; every v7 of an earlier second sorts before it.
pub fn v7_prefix(secs: i64) -> String {
    let ms = u64::try_from(secs.max(0)).unwrap_or(0).saturating_mul(1000) & 0xffff_ffff_ffff;
    format!("{:08x}-{:04x}", ms >> 16, ms & 0xffff)
}

/// Moves the voucher records that an earlier version wrote into the main SQLite file `main`
/// into their own store `vouchers` (idempotent: a record already there is not copied twice,
/// so a move cut short is finished at the next start). Returns how many were copied.
pub async fn move_legacy_records(vouchers: &Db, main: &Path) -> Result<u64, sqlx::Error> {
    let columns = column_list::<VoucherRecord>();
    let mut conn = vouchers.writer().acquire().await?;
    sqlx::query("ATTACH DATABASE $1 AS legacy")
        .bind(main.to_string_lossy().into_owned())
        .execute(&mut *conn)
        .await?;
    let moved = async {
        let copied = sqlx::query(&format!(
            "INSERT OR IGNORE INTO main.interop_vouchers ({columns}) \
             SELECT {columns} FROM legacy.interop_vouchers"
        ))
        .execute(&mut *conn)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM legacy.interop_vouchers")
            .execute(&mut *conn)
            .await?;
        Ok::<_, sqlx::Error>(copied)
    }
    .await;
    let detached = sqlx::query("DETACH DATABASE legacy")
        .execute(&mut *conn)
        .await;
    let moved = moved?;
    detached?;
    Ok(moved)
}

/// Vouchers issued to an institution's clients since `since` (seconds), by client: what the
/// admins' pages show of this store (`db` is the voucher records' store).
pub async fn counts_by_client(
    db: &Db,
    env: Environment,
    consumer_id: &str,
    since: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT client_id, CAST(count(*) AS BIGINT) AS n FROM interop_vouchers \
         WHERE env = $1 AND consumer_id = $2 AND issued_at >= $3 GROUP BY client_id",
    )
    .bind(env.as_str())
    .bind(consumer_id)
    .bind(since)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("client_id")?, r.try_get("n")?)))
        .collect()
}

/// Whether client `id` exists in the environment as one of the institution's (`None` if not)
/// and whether `user_id` is among its members.
pub async fn client_membership(
    db: &Db,
    env: Environment,
    id: &str,
    institution_id: &str,
    user_id: &str,
) -> Result<Option<bool>, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM interop_client_members m \
         WHERE m.client_id = c.id AND m.user_id = $4) THEN 1 ELSE 0 END AS BIGINT) \
         FROM interop_clients c WHERE c.env = $1 AND c.id = $2 AND c.consumer_id = $3",
    )
    .bind(env.as_str())
    .bind(id)
    .bind(institution_id)
    .bind(user_id)
    .fetch_optional(db.reader())
    .await?;
    Ok(found.map(|member| member == 1))
}

/// When the purpose's live agreement is suspended by the platform: the attributes its consumer
/// lacks, in words ("A o B; C").
pub async fn platform_suspension(
    db: &Db,
    env: Environment,
    purpose_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT a.consumer_id, a.producer_id, d.attributes FROM interop_purposes p \
         JOIN interop_agreements a ON a.env = p.env AND a.consumer_id = p.consumer_id \
         AND a.eservice_id = p.eservice_id AND a.state = 'SUSPENDED' \
         AND a.suspended_by_platform = 1 \
         JOIN interop_descriptors d ON d.id = a.descriptor_id \
         WHERE p.env = $1 AND p.id = $2",
    )
    .bind(env.as_str())
    .bind(purpose_id)
    .fetch_optional(db.reader())
    .await?;
    let Some((consumer, producer, stored)) = row else {
        return Ok(None);
    };
    let requirements =
        crate::model::attribute::Requirements::from_stored(&stored).unwrap_or_default();
    let mut conn = db.reader().acquire().await?;
    let now = platform::db::now_millis();
    let held = super::attributes::held(&mut conn, env, &consumer, &producer, now).await?;
    let verdict = crate::model::attribute::check(&requirements, &held);
    let ids: Vec<&str> = verdict
        .missing
        .iter()
        .flat_map(|(_, g)| g.iter().map(String::as_str))
        .collect();
    let names = super::attributes::by_ids(&mut *conn, env, &ids).await?;
    Ok(Some(super::attributes::missing_names(
        &verdict.missing,
        &names,
    )))
}

#[cfg(test)]
mod tests {
    use super::v7_prefix;

    #[test]
    fn a_v7_jti_sorts_after_the_prefix_of_its_second_and_before_the_next() {
        for secs in [1_700_000_000_i64, 1_764_633_600, 4_102_444_800] {
            let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs as u64, 999_000_000);
            let jti = uuid::Uuid::new_v7(ts).to_string();
            assert!(
                jti.starts_with(&v7_prefix(secs)[..8]),
                "{jti} {}",
                v7_prefix(secs)
            );
            assert!(jti.as_str() >= v7_prefix(secs).as_str(), "{jti}");
            assert!(jti.as_str() < v7_prefix(secs + 1).as_str(), "{jti}");
        }
        assert_eq!(v7_prefix(0), "00000000-0000");
    }
}
