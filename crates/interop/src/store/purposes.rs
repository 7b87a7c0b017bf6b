//! Purposes ("finalità") and their versions: one transaction per change, the purpose's row
//! locked, the model's rule applied; the quota counted inside the same transaction.

use platform::db::{Db, now_millis};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::notices;
use super::{Paged, Shared, Side, Tenant, Window, corrupt, new_id};
use crate::error::InteropError;
use crate::model::attribute::{self, Held, Requirements};
use crate::model::notice::{Event, Kind};
use crate::model::purpose::{self, VersionChange};
use crate::model::{
    self as rules, AgreementState, Environment, PurposeFacts, PurposeInput, PurposeVersionState,
    RejectionReason, RiskAnswers, VersionFacts,
};

/// A version of a purpose.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropVersion)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub id: String,
    pub state: &'static str,
    pub daily_calls: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_activation_at: Option<i64>,
    #[serde(skip)]
    pub state_value: PurposeVersionState,
}

/// A purpose as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropPurpose)]
#[serde(rename_all = "camelCase")]
pub struct Purpose {
    pub id: String,
    pub eservice_id: String,
    pub eservice_name: String,
    pub consumer_id: String,
    pub producer_id: String,
    pub title: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_analysis_form: Option<RiskAnswers>,
    pub is_free_of_charge: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_of_charge_reason: Option<String>,
    pub suspended_by_consumer: bool,
    pub suspended_by_producer: bool,
    pub versions: Vec<Version>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Purpose {
    pub fn facts(&self) -> PurposeFacts {
        PurposeFacts {
            suspended_by_consumer: self.suspended_by_consumer,
            suspended_by_producer: self.suspended_by_producer,
            versions: self
                .versions
                .iter()
                .map(|v| VersionFacts {
                    id: v.id.clone(),
                    state: v.state_value,
                    daily_calls: v.daily_calls,
                })
                .collect(),
        }
    }
}

const COLUMNS: &str = "p.id, p.eservice_id, p.consumer_id, p.producer_id, p.title, \
    p.description, p.risk_analysis, p.is_free_of_charge, p.free_of_charge_reason, \
    p.suspended_by_consumer, p.suspended_by_producer, p.created_at, p.updated_at, \
    e.name AS eservice_name";

const FROM: &str = "interop_purposes p JOIN interop_eservices e ON e.id = p.eservice_id";

fn purpose_row(r: &AnyRow) -> Result<Purpose, sqlx::Error> {
    let risk: Option<String> = r.try_get("risk_analysis")?;
    Ok(Purpose {
        id: r.try_get("id")?,
        eservice_id: r.try_get("eservice_id")?,
        eservice_name: r.try_get("eservice_name")?,
        consumer_id: r.try_get("consumer_id")?,
        producer_id: r.try_get("producer_id")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        risk_analysis_form: risk
            .map(|t| serde_json::from_str(&t).map_err(|_| corrupt("risk analysis")))
            .transpose()?,
        is_free_of_charge: r.try_get::<i64, _>("is_free_of_charge")? != 0,
        free_of_charge_reason: r.try_get("free_of_charge_reason")?,
        suspended_by_consumer: r.try_get::<i64, _>("suspended_by_consumer")? != 0,
        suspended_by_producer: r.try_get::<i64, _>("suspended_by_producer")? != 0,
        versions: Vec::new(),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn version_row(r: &AnyRow) -> Result<Version, sqlx::Error> {
    let state: String = r.try_get("state")?;
    let state_value = PurposeVersionState::parse(&state).ok_or_else(|| corrupt("version state"))?;
    Ok(Version {
        id: r.try_get("id")?,
        state: state_value.as_str(),
        daily_calls: r.try_get("daily_calls")?,
        rejection_reason: r.try_get("rejection_reason")?,
        created_at: r.try_get("created_at")?,
        first_activation_at: r.try_get("first_activation_at")?,
        state_value,
    })
}

async fn versions<'e, E>(executor: E, purpose_id: &str) -> Result<Vec<Version>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    sqlx::query(&versions_of_sql(1))
        .bind(purpose_id)
        .fetch_all(executor)
        .await?
        .iter()
        .map(version_row)
        .collect()
}

pub(crate) const SHARED: Shared = Shared {
    columns: COLUMNS,
    from: FROM,
    alias: "p",
    table: "interop_purposes",
};

/// One purpose the caller's institution is a party to (consumer or producer).
pub async fn get(
    db: &Db,
    env: Environment,
    caller: &str,
    id: &str,
) -> Result<Purpose, InteropError> {
    let found = SHARED.one(db, env, caller, id).await?;
    let mut p = found
        .as_ref()
        .map(purpose_row)
        .transpose()?
        .ok_or(InteropError::NotFound)?;
    p.versions = versions(db.reader(), &p.id).await?;
    Ok(p)
}

/// The consumer's purposes, or (`as_producer`) those on the producer's e-services.
pub async fn list(
    db: &Db,
    env: Environment,
    institution_id: &str,
    as_producer: bool,
) -> Result<Vec<Purpose>, InteropError> {
    let rows = SHARED
        .all_of_side(db, env, institution_id, Side::of(as_producer))
        .await?;
    with_versions(db, &rows).await
}

/// The purposes of `rows` with their versions, read in one statement for all of them (a
/// page's worth of ids at a time).
async fn with_versions(db: &Db, rows: &[AnyRow]) -> Result<Vec<Purpose>, InteropError> {
    let mut out = rows
        .iter()
        .map(purpose_row)
        .collect::<Result<Vec<_>, _>>()?;
    for chunk in out.chunks_mut(VERSIONS_CHUNK) {
        let sql = versions_of_sql(chunk.len());
        let mut q = sqlx::query(&sql);
        for p in chunk.iter() {
            q = q.bind(p.id.clone());
        }
        for r in q.fetch_all(db.reader()).await? {
            let purpose_id: String = r.try_get("purpose_id")?;
            let v = version_row(&r)?;
            if let Some(p) = chunk.iter_mut().find(|p| p.id == purpose_id) {
                p.versions.push(v);
            }
        }
    }
    Ok(out)
}

/// The most purposes whose versions one statement reads (a page holds at most 100).
const VERSIONS_CHUNK: usize = 100;

/// The versions of `n` purposes (`$1`..`$n`), each purpose's oldest first. The
/// index `interop_purpose_versions_purpose` answers it.
pub fn versions_of_sql(n: usize) -> String {
    format!(
        "SELECT purpose_id, id, state, daily_calls, rejection_reason, created_at, \
         first_activation_at FROM interop_purpose_versions WHERE purpose_id IN ({}) \
         ORDER BY purpose_id, created_at, id",
        platform::db::placeholders(1, n)
    )
}

/// A window of the purposes of the institution on `side`, newest first, and their total.
pub async fn page(
    db: &Db,
    env: Environment,
    institution_id: &str,
    side: Side,
    window: Window,
) -> Result<Paged<Purpose>, InteropError> {
    let (rows, total_count) = SHARED
        .of_side(db, env, institution_id, side, window)
        .await?;
    Ok(Paged {
        results: with_versions(db, &rows).await?,
        total_count,
    })
}

/// The consumer's latest agreement state on the e-service and its version's quota limits
/// (`dailyCallsPerConsumer`, `dailyCallsTotal`), the per-consumer one raised by the certified
/// attributes the consumer holds ([`crate::model::attribute::quota`]).
async fn agreement_of(
    conn: &mut sqlx::AnyConnection,
    env: Environment,
    consumer_id: &str,
    eservice_id: &str,
) -> Result<Option<(AgreementState, i64, i64, String)>, InteropError> {
    let row = sqlx::query(
        "SELECT a.state, d.daily_calls_per_consumer, d.daily_calls_total, a.producer_id, \
         d.attributes FROM interop_agreements a JOIN interop_descriptors d ON d.id = a.descriptor_id \
         WHERE a.env = $1 AND a.consumer_id = $2 AND a.eservice_id = $3 \
         AND a.state IN ('ACTIVE', 'SUSPENDED', 'PENDING', 'DRAFT') \
         ORDER BY a.updated_at DESC LIMIT 1",
    )
    .bind(env.as_str())
    .bind(consumer_id)
    .bind(eservice_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => {
            let state: String = r.try_get("state")?;
            let stored: String = r.try_get("attributes")?;
            let requirements = Requirements::from_stored(&stored).unwrap_or_default();
            let mut per_consumer: i64 = r.try_get("daily_calls_per_consumer")?;
            if !requirements.certified.is_empty() {
                let held = Held {
                    certified: super::attributes::certified_of(&mut *conn, env, consumer_id)
                        .await?,
                    ..Held::default()
                };
                per_consumer = attribute::quota(&requirements, &held, per_consumer);
            }
            Some((
                AgreementState::parse(&state).ok_or_else(|| corrupt("agreement state"))?,
                per_consumer,
                r.try_get("daily_calls_total")?,
                r.try_get("producer_id")?,
            ))
        }
        None => None,
    })
}

fn title_taken(e: sqlx::Error) -> InteropError {
    if let sqlx::Error::Database(d) = &e
        && (d.is_unique_violation() || d.code().is_some_and(|c| c == "23505" || c == "2067"))
    {
        return InteropError::Conflict(
            "purpose_title_taken",
            "the institution already has a purpose with this title on this e-service".into(),
        );
    }
    InteropError::Sql(e)
}

/// Creates a purpose with its first version (a draft); needs an ACTIVE agreement.
pub async fn create(
    db: &Db,
    env: Environment,
    consumer: &Tenant,
    input: &PurposeInput,
) -> Result<Purpose, InteropError> {
    let mut tx = db.begin().await?;
    let agreement =
        agreement_of(&mut tx, env, &consumer.institution_id, &input.eservice_id).await?;
    purpose::require_active_agreement(agreement.as_ref().map(|a| a.0))?;
    let producer_id = agreement.map(|a| a.3).unwrap_or_default();
    let id = new_id();
    let now = now_millis();
    let risk = input
        .risk_analysis_form
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| InteropError::Sql(sqlx::Error::Protocol(e.to_string())))?;
    sqlx::query(
        "INSERT INTO interop_purposes (id, env, eservice_id, consumer_id, producer_id, title, \
         title_key, description, risk_analysis, is_free_of_charge, free_of_charge_reason, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(env.as_str())
    .bind(&input.eservice_id)
    .bind(&consumer.institution_id)
    .bind(&producer_id)
    .bind(&input.title)
    .bind(input.title_key())
    .bind(&input.description)
    .bind(risk)
    .bind(i64::from(input.is_free_of_charge))
    .bind(input.free_of_charge_reason.as_deref())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(title_taken)?;
    insert_version(
        &mut tx,
        &id,
        PurposeVersionState::Draft,
        input.daily_calls,
        now,
    )
    .await?;
    tx.commit().await?;
    get(db, env, &consumer.institution_id, &id).await
}

async fn insert_version(
    tx: &mut Transaction<'static, Any>,
    purpose_id: &str,
    state: PurposeVersionState,
    daily_calls: i64,
    now: i64,
) -> Result<String, InteropError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO interop_purpose_versions (id, purpose_id, state, daily_calls, created_at, \
         updated_at, first_activation_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(&id)
    .bind(purpose_id)
    .bind(state.as_str())
    .bind(daily_calls)
    .bind(now)
    .bind((state == PurposeVersionState::Active).then_some(now))
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

async fn locked(
    db: &Db,
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    caller: &str,
    id: &str,
) -> Result<Purpose, InteropError> {
    let found = SHARED.locked(db, tx, env, caller, id).await?;
    let mut p = found
        .as_ref()
        .map(purpose_row)
        .transpose()?
        .ok_or(InteropError::NotFound)?;
    p.versions = versions(&mut **tx, &p.id).await?;
    Ok(p)
}

/// The daily calls already granted on the purpose's e-service (ACTIVE versions), to its
/// consumer and to all, not counting the purpose's own (which a new version replaces).
async fn granted<'e, E>(
    executor: E,
    env: Environment,
    p: &Purpose,
) -> Result<(i64, i64), InteropError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let sums = sqlx::query(
        // SUM of a BIGINT is a NUMERIC on PostgreSQL: cast it back.
        "SELECT CAST(COALESCE(SUM(CASE WHEN p.consumer_id = $3 THEN v.daily_calls ELSE 0 END), 0) \
         AS BIGINT) AS mine, CAST(COALESCE(SUM(v.daily_calls), 0) AS BIGINT) AS all_calls \
         FROM interop_purpose_versions v JOIN interop_purposes p ON p.id = v.purpose_id \
         WHERE p.env = $1 AND p.eservice_id = $2 AND v.state = 'ACTIVE' AND p.id <> $4",
    )
    .bind(env.as_str())
    .bind(&p.eservice_id)
    .bind(&p.consumer_id)
    .bind(&p.id)
    .fetch_one(executor)
    .await?;
    Ok((sums.try_get("mine")?, sums.try_get("all_calls")?))
}

/// The figures a producer weighs a waiting version by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The version's limits: per consumer and in total.
    pub per_consumer: i64,
    pub total: i64,
    /// Already granted to this consumer by its other purposes, and to all consumers.
    pub granted_to_consumer: i64,
    pub granted_total: i64,
}

/// The quota figures of a purpose: `None` when its consumer has no agreement on the
/// e-service any more.
pub async fn quota(db: &Db, env: Environment, p: &Purpose) -> Result<Option<Quota>, InteropError> {
    let mut conn = db.reader().acquire().await?;
    let Some((_, per_consumer, total, _)) =
        agreement_of(&mut conn, env, &p.consumer_id, &p.eservice_id).await?
    else {
        return Ok(None);
    };
    // On the same connection: a second one taken while holding this one could wait forever
    // for a pool that callers like this one have emptied.
    let (granted_to_consumer, granted_total) = granted(&mut *conn, env, p).await?;
    Ok(Some(Quota {
        per_consumer,
        total,
        granted_to_consumer,
        granted_total,
    }))
}

/// Whether `requested` more daily calls on the e-service go over its version's quotas, not
/// counting `except` (the purpose's own current version, which the new one replaces).
async fn over_quota(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    p: &Purpose,
    requested: i64,
) -> Result<bool, InteropError> {
    let (_, per_consumer, total, _) = agreement_of(tx, env, &p.consumer_id, &p.eservice_id)
        .await?
        .ok_or(InteropError::NotFound)?;
    let (mine, all) = granted(&mut **tx, env, p).await?;
    Ok(purpose::over_quota(
        mine,
        all,
        requested,
        per_consumer,
        total,
    ))
}

async fn apply(
    tx: &mut Transaction<'static, Any>,
    changes: &[VersionChange],
    now: i64,
) -> Result<(), InteropError> {
    for c in changes {
        sqlx::query(
            "UPDATE interop_purpose_versions SET state = $1, \
             rejection_reason = COALESCE($2, rejection_reason), updated_at = $3, \
             first_activation_at = CASE WHEN $1 = 'ACTIVE' AND first_activation_at IS NULL \
             THEN $3 ELSE first_activation_at END WHERE id = $4",
        )
        .bind(c.to.as_str())
        .bind(c.rejection_reason.as_deref())
        .bind(now)
        .bind(&c.version_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn set_flags(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    by_consumer: bool,
    by_producer: bool,
    now: i64,
) -> Result<(), InteropError> {
    sqlx::query(
        "UPDATE interop_purposes SET suspended_by_consumer = $1, suspended_by_producer = $2, \
         updated_at = $3 WHERE id = $4",
    )
    .bind(i64::from(by_consumer))
    .bind(i64::from(by_producer))
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a party does to a version of a purpose.
#[derive(Debug, Clone)]
pub enum VersionAction {
    /// The draft (consumer), a waiting version (producer approves) or a suspended purpose.
    Activate,
    Suspend,
    Archive,
    Reject(RejectionReason),
}

/// Tells `kind` about purpose `p` ([`notices::tell`]), in the change's transaction.
async fn tell(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    by: notices::By<'_>,
    p: &Purpose,
    kind: Kind,
    reason: &str,
) -> Result<(), InteropError> {
    if p.producer_id == p.consumer_id {
        return Ok(());
    }
    let (producer, consumer) = notices::names(tx, env, &p.producer_id, &p.consumer_id).await?;
    let event = Event {
        kind,
        env,
        eservice: &p.eservice_name,
        version: "",
        purpose: &p.title,
        producer: &producer,
        consumer: &consumer,
        reason,
    };
    notices::tell(tx, by, &p.id, &event, &p.producer_id, &p.consumer_id).await?;
    Ok(())
}

/// Applies `action` to version `version_id` by the caller's institution (person `user_id`); a
/// version that waits for the producer, and the producer's decisions, are told.
pub async fn act(
    db: &Db,
    env: Environment,
    caller: &str,
    user_id: &str,
    id: &str,
    version_id: &str,
    action: VersionAction,
) -> Result<Purpose, InteropError> {
    let mut tx = db.begin().await?;
    let p = locked(db, &mut tx, env, caller, id).await?;
    let side =
        rules::side_of(caller, &p.consumer_id, &p.producer_id).ok_or(InteropError::NotFound)?;
    let by = notices::By {
        institution_id: caller,
        user_id,
    };
    let version = p
        .versions
        .iter()
        .find(|v| v.id == version_id)
        .ok_or(InteropError::NotFound)?;
    let facts = p.facts();
    let now = now_millis();
    match action {
        VersionAction::Activate => match version.state_value {
            PurposeVersionState::Draft => {
                rules::require_consumer(caller, &p.consumer_id)?;
                let agreement = agreement_of(&mut tx, env, &p.consumer_id, &p.eservice_id).await?;
                purpose::require_active_agreement(agreement.as_ref().map(|a| a.0))?;
                if p.risk_analysis_form.is_none() {
                    return Err(InteropError::Conflict(
                        "risk_analysis_missing",
                        "fill in the risk analysis before activating the purpose".into(),
                    ));
                }
                let over = over_quota(&mut tx, env, &p, version.daily_calls).await?;
                let to = purpose::activate_draft(version.state_value, over)?;
                if to == PurposeVersionState::WaitingForApproval {
                    tell(&mut tx, env, by, &p, Kind::PurposeWaiting, "").await?;
                }
                apply(
                    &mut tx,
                    &[VersionChange {
                        version_id: version.id.clone(),
                        from: version.state_value,
                        to,
                        rejection_reason: None,
                    }],
                    now,
                )
                .await?;
            }
            PurposeVersionState::WaitingForApproval => {
                rules::require_producer(caller, &p.producer_id)?;
                let changes = purpose::approve_waiting(&facts, version_id)?;
                apply(&mut tx, &changes, now).await?;
                tell(&mut tx, env, by, &p, Kind::PurposeApproved, "").await?;
            }
            _ => {
                let change = purpose::activate(&facts, side)?;
                apply(&mut tx, &change.versions, now).await?;
                if side == rules::Side::Producer {
                    tell(&mut tx, env, by, &p, Kind::PurposeReactivated, "").await?;
                }
                set_flags(
                    &mut tx,
                    &p.id,
                    change.suspended_by_consumer,
                    change.suspended_by_producer,
                    now,
                )
                .await?;
            }
        },
        VersionAction::Suspend => {
            let change = purpose::suspend(&facts, side)?;
            apply(&mut tx, &change.versions, now).await?;
            if side == rules::Side::Producer {
                tell(&mut tx, env, by, &p, Kind::PurposeSuspended, "").await?;
            }
            set_flags(
                &mut tx,
                &p.id,
                change.suspended_by_consumer,
                change.suspended_by_producer,
                now,
            )
            .await?;
        }
        VersionAction::Archive => {
            rules::require_consumer(caller, &p.consumer_id)?;
            let change = purpose::archive(&facts)?;
            apply(&mut tx, &change.versions, now).await?;
            // An archived purpose is taken off every client, as on the real platform: no
            // client lists it or asks vouchers for it any more.
            sqlx::query("DELETE FROM interop_client_purposes WHERE purpose_id = $1")
                .bind(&p.id)
                .execute(&mut *tx)
                .await?;
        }
        VersionAction::Reject(reason) => {
            rules::require_producer(caller, &p.producer_id)?;
            let words = reason.as_str().to_string();
            let change = purpose::reject_waiting(&facts, version_id, reason)?;
            apply(&mut tx, &[change], now).await?;
            tell(&mut tx, env, by, &p, Kind::PurposeRejected, &words).await?;
        }
    }
    sqlx::query("UPDATE interop_purposes SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&p.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    get(db, env, caller, id).await
}

/// A new version with other daily calls: WAITING_FOR_APPROVAL over quota, else it takes over
/// at once and the previous one is archived.
pub async fn new_version(
    db: &Db,
    env: Environment,
    caller: &str,
    user_id: &str,
    id: &str,
    daily_calls: i64,
) -> Result<Purpose, InteropError> {
    let mut tx = db.begin().await?;
    let p = locked(db, &mut tx, env, caller, id).await?;
    rules::require_consumer(caller, &p.consumer_id)?;
    let over = over_quota(&mut tx, env, &p, daily_calls).await?;
    let plan = purpose::new_version(&p.facts(), daily_calls, over)?;
    let now = now_millis();
    apply(&mut tx, &plan.changes, now).await?;
    insert_version(&mut tx, &p.id, plan.state, daily_calls, now).await?;
    if plan.state == PurposeVersionState::WaitingForApproval {
        let by = notices::By {
            institution_id: caller,
            user_id,
        };
        tell(&mut tx, env, by, &p, Kind::PurposeWaiting, "").await?;
    }
    sqlx::query("UPDATE interop_purposes SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&p.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    get(db, env, caller, id).await
}

/// Deletes a purpose none of whose versions was ever active (the consumer).
pub async fn delete(db: &Db, env: Environment, caller: &str, id: &str) -> Result<(), InteropError> {
    let mut tx = db.begin().await?;
    let p = locked(db, &mut tx, env, caller, id).await?;
    rules::require_consumer(caller, &p.consumer_id)?;
    let states: Vec<PurposeVersionState> = p.versions.iter().map(|v| v.state_value).collect();
    purpose::delete_allowed(&states)?;
    sqlx::query("DELETE FROM interop_purpose_versions WHERE purpose_id = $1")
        .bind(&p.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM interop_purposes WHERE id = $1")
        .bind(&p.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
