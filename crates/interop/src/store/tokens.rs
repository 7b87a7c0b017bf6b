//! The token endpoint's SQL: one indexed read of everything the checks need (the key, its
//! client, the purpose, its link, its versions, the agreement and its version), the voucher
//! records written in group commits, the `jti`s already used and the retention sweep.
//!
//! No cache: every request reads committed state, so that a change made through any instance
//! is honoured by the very next request.

use futures::future::BoxFuture;
use platform::db::{Db, Dialect};
use platform::group_commit::GroupRecord;
use sqlx::{AnyConnection, Row};

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

/// Reads the key `kid` with its client and, when `purpose_id` is given, the purpose's states.
pub async fn facts(
    db: &Db,
    env: Environment,
    kid: &str,
    purpose_id: Option<&str>,
) -> Result<Facts, sqlx::Error> {
    let row = sqlx::query(LOOKUP)
        .bind(env.as_str())
        .bind(kid)
        .bind(purpose_id)
        .fetch_optional(db.reader())
        .await?;
    let Some(r) = row else {
        return Ok(Facts::default());
    };
    let kind: String = r.try_get("kind")?;
    let key = KeyFacts {
        client_id: r.try_get("client_id")?,
        consumer_id: r.try_get("client_consumer")?,
        kind: ClientKind::parse(&kind).ok_or_else(|| corrupt("client kind"))?,
        n: r.try_get("n")?,
        e: r.try_get("e")?,
    };
    let purpose_found: Option<String> = r.try_get("purpose_id")?;
    let purpose = match purpose_found {
        None => None,
        Some(_) => {
            let agreement_id: Option<String> = r.try_get("agreement_id")?;
            let agreement = match agreement_id {
                None => None,
                Some(id) => {
                    let state: String = r.try_get("agreement_state")?;
                    let d_state: Option<String> = r.try_get("descriptor_state")?;
                    let audience: Option<String> = r.try_get("audience")?;
                    let audience: Vec<String> = audience
                        .as_deref()
                        .map(serde_json::from_str)
                        .transpose()
                        .map_err(|_| corrupt("descriptor audience"))?
                        .unwrap_or_default();
                    Some(AgreementFacts {
                        id,
                        state: AgreementState::parse(&state)
                            .ok_or_else(|| corrupt("agreement state"))?,
                        descriptor_id: r.try_get("descriptor_id")?,
                        descriptor_state: d_state
                            .as_deref()
                            .and_then(DescriptorState::parse)
                            .ok_or_else(|| corrupt("descriptor state"))?,
                        audience,
                        voucher_lifespan: r
                            .try_get::<Option<i64>, _>("voucher_lifespan")?
                            .unwrap_or(0),
                    })
                }
            };
            Some(PurposeStates {
                consumer_id: r.try_get("purpose_consumer")?,
                eservice_id: r.try_get("eservice_id")?,
                producer_id: r.try_get("producer_id")?,
                linked: r.try_get::<i64, _>("linked")? != 0,
                active: r.try_get::<i64, _>("active")? != 0,
                waiting_for_approval: r.try_get::<i64, _>("waiting")? != 0,
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

const VOUCHER_COLUMNS: usize = 15;
/// Rows per INSERT statement (SQLite's default limit is 32,766 bound values).
const ROWS_PER_INSERT: usize = 128;

impl GroupRecord for VoucherRecord {
    fn write_batch<'c>(
        conn: &'c mut AnyConnection,
        _dialect: Dialect,
        batch: &'c [Self],
    ) -> BoxFuture<'c, Result<(), sqlx::Error>> {
        Box::pin(async move {
            for chunk in batch.chunks(ROWS_PER_INSERT) {
                let mut sql = String::with_capacity(200 + chunk.len() * 80);
                sql.push_str(
                    "INSERT INTO interop_vouchers (jti, env, kind, client_id, consumer_id, \
                     purpose_id, agreement_id, eservice_id, descriptor_id, client_kid, \
                     signing_kid, audience, assertion_jti, issued_at, expires_at) VALUES ",
                );
                for i in 0..chunk.len() {
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push('(');
                    for c in 0..VOUCHER_COLUMNS {
                        if c > 0 {
                            sql.push(',');
                        }
                        sql.push('$');
                        sql.push_str(&(i * VOUCHER_COLUMNS + c + 1).to_string());
                    }
                    sql.push(')');
                }
                let mut q = sqlx::query(&sql);
                for v in chunk {
                    q = q
                        .bind(&v.jti)
                        .bind(v.env.as_str())
                        .bind(v.kind.as_str())
                        .bind(&v.client_id)
                        .bind(&v.consumer_id)
                        .bind(v.purpose_id.as_deref())
                        .bind(v.agreement_id.as_deref())
                        .bind(v.eservice_id.as_deref())
                        .bind(v.descriptor_id.as_deref())
                        .bind(&v.client_kid)
                        .bind(&v.signing_kid)
                        .bind(&v.audience)
                        .bind(&v.assertion_jti)
                        .bind(v.issued_at)
                        .bind(v.expires_at);
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        })
    }
}

/// Deletes voucher records issued before `before` (seconds) and used `jti`s expired before
/// `now`; returns how many voucher records went.
pub async fn sweep(db: &Db, before: i64, now: i64) -> Result<u64, sqlx::Error> {
    let gone = sqlx::query("DELETE FROM interop_vouchers WHERE issued_at < $1")
        .bind(before)
        .execute(db.writer())
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM interop_assertion_jtis WHERE expires_at < $1")
        .bind(now)
        .execute(db.writer())
        .await?;
    Ok(gone)
}

/// Vouchers issued to an institution's clients since `since` (seconds), by client: what the
/// admins' pages show of this store.
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

/// Whether client `id` exists in the environment and is the institution's.
pub async fn client_is_of(
    db: &Db,
    env: Environment,
    id: &str,
    institution_id: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM interop_clients WHERE env = $1 AND id = $2 AND consumer_id = $3",
    )
    .bind(env.as_str())
    .bind(id)
    .bind(institution_id)
    .fetch_optional(db.reader())
    .await?;
    Ok(found.is_some())
}
