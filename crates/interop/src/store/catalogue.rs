//! E-services and their versions (descriptors): the producer's side, and the catalogue.

use platform::db::{Db, now_millis};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Tenant, corrupt, lock, new_id};
use crate::error::InteropError;
use crate::model::descriptor::{self, DescriptorFacts, PreviousFacts};
use crate::model::{
    AgreementApprovalPolicy, DescriptorInput, DescriptorState, EServiceInput, Environment, eservice,
};

/// A version of an e-service.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropDescriptor)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub id: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub state: &'static str,
    pub audience: Vec<String>,
    pub voucher_lifespan: i64,
    pub daily_calls_per_consumer: i64,
    pub daily_calls_total: i64,
    pub agreement_approval_policy: &'static str,
    pub server_urls: Vec<String>,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<i64>,
    #[serde(skip)]
    pub state_value: DescriptorState,
    #[serde(skip)]
    pub version_n: i64,
    #[serde(skip)]
    pub policy: AgreementApprovalPolicy,
}

/// An e-service with its versions (oldest first).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropEService)]
#[serde(rename_all = "camelCase")]
pub struct EService {
    pub id: String,
    pub producer_id: String,
    pub producer_name: String,
    pub name: String,
    pub description: String,
    pub technology: String,
    pub mode: String,
    pub created_at: i64,
    pub descriptors: Vec<Descriptor>,
}

impl EService {
    /// The version consumers subscribe to now: the latest PUBLISHED one.
    pub fn latest_published(&self) -> Option<&Descriptor> {
        self.descriptors
            .iter()
            .filter(|d| d.state_value == DescriptorState::Published)
            .max_by_key(|d| d.version_n)
    }

    pub fn descriptor(&self, id: &str) -> Option<&Descriptor> {
        self.descriptors.iter().find(|d| d.id == id)
    }
}

fn json_list(text: &str) -> Result<Vec<String>, sqlx::Error> {
    serde_json::from_str(text).map_err(|_| corrupt("list"))
}

fn descriptor_row(r: &AnyRow) -> Result<Descriptor, sqlx::Error> {
    let state: String = r.try_get("state")?;
    let state_value = DescriptorState::parse(&state).ok_or_else(|| corrupt("descriptor state"))?;
    let policy: String = r.try_get("agreement_approval_policy")?;
    let policy = AgreementApprovalPolicy::parse(&policy).ok_or_else(|| corrupt("policy"))?;
    let version_n: i64 = r.try_get("version")?;
    Ok(Descriptor {
        id: r.try_get("id")?,
        version: version_n.to_string(),
        description: r.try_get("description")?,
        state: state_value.as_str(),
        audience: json_list(&r.try_get::<String, _>("audience")?)?,
        voucher_lifespan: r.try_get("voucher_lifespan")?,
        daily_calls_per_consumer: r.try_get("daily_calls_per_consumer")?,
        daily_calls_total: r.try_get("daily_calls_total")?,
        agreement_approval_policy: policy.as_str(),
        server_urls: json_list(&r.try_get::<String, _>("server_urls")?)?,
        created_at: r.try_get("created_at")?,
        published_at: r.try_get("published_at")?,
        suspended_at: r.try_get("suspended_at")?,
        deprecated_at: r.try_get("deprecated_at")?,
        archived_at: r.try_get("archived_at")?,
        state_value,
        version_n,
        policy,
    })
}

const DESCRIPTOR_COLUMNS: &str = "d.id, d.eservice_id, d.version, d.description, d.state, \
    d.audience, d.voucher_lifespan, d.daily_calls_per_consumer, d.daily_calls_total, \
    d.agreement_approval_policy, d.server_urls, d.created_at, d.published_at, d.suspended_at, \
    d.deprecated_at, d.archived_at";

const ESERVICE_COLUMNS: &str = "e.id, e.producer_id, e.name, e.description, e.technology, \
    e.mode, e.created_at, COALESCE(i.name, '') AS producer_name";

const ESERVICE_FROM: &str = "interop_eservices e LEFT JOIN interop_institutions i \
    ON i.env = e.env AND i.id = e.producer_id";

async fn with_descriptors<'e, E>(
    executor: E,
    rows: Vec<AnyRow>,
) -> Result<Vec<EService>, InteropError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut out: Vec<EService> = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(EService {
            id: r.try_get("id")?,
            producer_id: r.try_get("producer_id")?,
            producer_name: r.try_get("producer_name")?,
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            technology: r.try_get("technology")?,
            mode: r.try_get("mode")?,
            created_at: r.try_get("created_at")?,
            descriptors: Vec::new(),
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    let placeholders: Vec<String> = (1..=out.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {DESCRIPTOR_COLUMNS} FROM interop_descriptors d WHERE d.eservice_id IN ({}) \
         ORDER BY d.version",
        placeholders.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for e in &out {
        q = q.bind(e.id.clone());
    }
    for r in q.fetch_all(executor).await? {
        let eservice_id: String = r.try_get("eservice_id")?;
        let d = descriptor_row(&r)?;
        if let Some(e) = out.iter_mut().find(|e| e.id == eservice_id) {
            e.descriptors.push(d);
        }
    }
    Ok(out)
}

/// One e-service of the environment, with its versions.
pub async fn eservice(
    db: &Db,
    env: Environment,
    id: &str,
) -> Result<Option<EService>, InteropError> {
    let rows = sqlx::query(&format!(
        "SELECT {ESERVICE_COLUMNS} FROM {ESERVICE_FROM} WHERE e.env = $1 AND e.id = $2"
    ))
    .bind(env.as_str())
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    Ok(with_descriptors(db.reader(), rows)
        .await?
        .into_iter()
        .next())
}

/// The e-services a producer made, by name.
pub async fn of_producer(
    db: &Db,
    env: Environment,
    producer_id: &str,
) -> Result<Vec<EService>, InteropError> {
    let rows = sqlx::query(&format!(
        "SELECT {ESERVICE_COLUMNS} FROM {ESERVICE_FROM} WHERE e.env = $1 AND e.producer_id = $2 \
         ORDER BY e.name_key"
    ))
    .bind(env.as_str())
    .bind(producer_id)
    .fetch_all(db.reader())
    .await?;
    with_descriptors(db.reader(), rows).await
}

/// The catalogue: e-services with a PUBLISHED version, whose name contains `q` (any case).
pub async fn catalog(
    db: &Db,
    env: Environment,
    q: Option<&str>,
) -> Result<Vec<EService>, InteropError> {
    let pattern = format!(
        "%{}%",
        q.unwrap_or("")
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows = sqlx::query(&format!(
        "SELECT {ESERVICE_COLUMNS} FROM {ESERVICE_FROM} WHERE e.env = $1 \
         AND e.name_key LIKE $2 ESCAPE '\\' AND EXISTS (SELECT 1 FROM interop_descriptors d \
         WHERE d.eservice_id = e.id AND d.state = 'PUBLISHED') ORDER BY e.name_key, e.id"
    ))
    .bind(env.as_str())
    .bind(pattern)
    .fetch_all(db.reader())
    .await?;
    with_descriptors(db.reader(), rows).await
}

fn taken(e: sqlx::Error) -> InteropError {
    if let sqlx::Error::Database(d) = &e
        && (d.is_unique_violation() || d.code().is_some_and(|c| c == "23505" || c == "2067"))
    {
        return InteropError::Conflict(
            "eservice_name_taken",
            "the institution already has an e-service with this name".into(),
        );
    }
    InteropError::Sql(e)
}

/// Creates an e-service (no version yet).
pub async fn create(
    db: &Db,
    env: Environment,
    producer: &Tenant,
    input: &EServiceInput,
) -> Result<EService, InteropError> {
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO interop_eservices (id, env, producer_id, name, name_key, description, \
         technology, mode, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&id)
    .bind(env.as_str())
    .bind(&producer.institution_id)
    .bind(&input.name)
    .bind(input.name_key())
    .bind(&input.description)
    .bind(input.technology.as_str())
    .bind(input.mode.as_str())
    .bind(now)
    .execute(db.writer())
    .await
    .map_err(taken)?;
    eservice(db, env, &id).await?.ok_or(InteropError::NotFound)
}

/// The producer's own e-service, or not found (another institution's is never shown as such).
pub async fn own(
    db: &Db,
    env: Environment,
    producer_id: &str,
    id: &str,
) -> Result<EService, InteropError> {
    eservice(db, env, id)
        .await?
        .filter(|e| e.producer_id == producer_id)
        .ok_or(InteropError::NotFound)
}

/// Changes an e-service while it has only a draft.
pub async fn update(
    db: &Db,
    env: Environment,
    producer_id: &str,
    id: &str,
    input: &EServiceInput,
) -> Result<EService, InteropError> {
    let e = own(db, env, producer_id, id).await?;
    let states: Vec<DescriptorState> = e.descriptors.iter().map(|d| d.state_value).collect();
    eservice::update_allowed(&states)?;
    sqlx::query(
        "UPDATE interop_eservices SET name = $1, name_key = $2, description = $3, \
         technology = $4, mode = $5, updated_at = $6 WHERE id = $7 AND env = $8",
    )
    .bind(&input.name)
    .bind(input.name_key())
    .bind(&input.description)
    .bind(input.technology.as_str())
    .bind(input.mode.as_str())
    .bind(now_millis())
    .bind(id)
    .bind(env.as_str())
    .execute(db.writer())
    .await
    .map_err(taken)?;
    own(db, env, producer_id, id).await
}

/// Deletes an e-service that was never published (with its draft).
pub async fn delete(
    db: &Db,
    env: Environment,
    producer_id: &str,
    id: &str,
) -> Result<(), InteropError> {
    let e = own(db, env, producer_id, id).await?;
    let states: Vec<DescriptorState> = e.descriptors.iter().map(|d| d.state_value).collect();
    eservice::delete_allowed(&states)?;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM interop_descriptors WHERE eservice_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM interop_eservices WHERE id = $1 AND env = $2")
        .bind(id)
        .bind(env.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

fn list_json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Locks the producer's e-service row for the transaction (two changes of its versions never
/// interleave); another institution's e-service is not found.
async fn lock_own(
    db: &Db,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    env: Environment,
    producer_id: &str,
    eservice_id: &str,
) -> Result<(), InteropError> {
    let owner: Option<String> = sqlx::query_scalar(&format!(
        "SELECT e.producer_id FROM interop_eservices e WHERE e.id = $1 AND e.env = $2{}",
        lock(db, "e")
    ))
    .bind(eservice_id)
    .bind(env.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    if owner.as_deref() == Some(producer_id) {
        Ok(())
    } else {
        Err(InteropError::NotFound)
    }
}

/// Adds a draft version (only one draft at a time).
pub async fn add_descriptor(
    db: &Db,
    env: Environment,
    producer_id: &str,
    eservice_id: &str,
    input: &DescriptorInput,
) -> Result<Descriptor, InteropError> {
    let mut tx = db.begin().await?;
    // Lock the e-service so that two drafts cannot be added at once.
    lock_own(db, &mut tx, env, producer_id, eservice_id).await?;
    let states: Vec<String> =
        sqlx::query_scalar("SELECT state FROM interop_descriptors WHERE eservice_id = $1")
            .bind(eservice_id)
            .fetch_all(&mut *tx)
            .await?;
    let states: Vec<DescriptorState> = states
        .iter()
        .filter_map(|s| DescriptorState::parse(s))
        .collect();
    descriptor::can_add_draft(&states)?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO interop_descriptors (id, eservice_id, version, description, state, audience, \
         voucher_lifespan, daily_calls_per_consumer, daily_calls_total, \
         agreement_approval_policy, server_urls, created_at) \
         VALUES ($1, $2, $3, $4, 'DRAFT', $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(eservice_id)
    .bind(states.len() as i64 + 1)
    .bind(input.description.as_deref())
    .bind(list_json(&input.audience))
    .bind(input.voucher_lifespan)
    .bind(input.daily_calls_per_consumer)
    .bind(input.daily_calls_total)
    .bind(input.agreement_approval_policy.as_str())
    .bind(list_json(&input.server_urls))
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    own(db, env, producer_id, eservice_id)
        .await?
        .descriptor(&id)
        .cloned()
        .ok_or(InteropError::NotFound)
}

/// Changes a draft version.
pub async fn update_descriptor(
    db: &Db,
    env: Environment,
    producer_id: &str,
    eservice_id: &str,
    descriptor_id: &str,
    input: &DescriptorInput,
) -> Result<Descriptor, InteropError> {
    let e = own(db, env, producer_id, eservice_id).await?;
    let d = e.descriptor(descriptor_id).ok_or(InteropError::NotFound)?;
    descriptor::edit_draft(d.state_value)?;
    let done = sqlx::query(
        "UPDATE interop_descriptors SET description = $1, audience = $2, voucher_lifespan = $3, \
         daily_calls_per_consumer = $4, daily_calls_total = $5, agreement_approval_policy = $6, \
         server_urls = $7 WHERE id = $8 AND state = 'DRAFT'",
    )
    .bind(input.description.as_deref())
    .bind(list_json(&input.audience))
    .bind(input.voucher_lifespan)
    .bind(input.daily_calls_per_consumer)
    .bind(input.daily_calls_total)
    .bind(input.agreement_approval_policy.as_str())
    .bind(list_json(&input.server_urls))
    .bind(descriptor_id)
    .execute(db.writer())
    .await?;
    if done.rows_affected() == 0 {
        return Err(InteropError::Conflict(
            "descriptor_not_draft",
            "the version was published meanwhile".into(),
        ));
    }
    own(db, env, producer_id, eservice_id)
        .await?
        .descriptor(descriptor_id)
        .cloned()
        .ok_or(InteropError::NotFound)
}

/// Deletes a draft version.
pub async fn delete_descriptor(
    db: &Db,
    env: Environment,
    producer_id: &str,
    eservice_id: &str,
    descriptor_id: &str,
) -> Result<(), InteropError> {
    let e = own(db, env, producer_id, eservice_id).await?;
    let d = e.descriptor(descriptor_id).ok_or(InteropError::NotFound)?;
    descriptor::delete_draft(d.state_value)?;
    sqlx::query("DELETE FROM interop_descriptors WHERE id = $1 AND state = 'DRAFT'")
        .bind(descriptor_id)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// The e-service's versions, read in the transaction that locked it.
async fn versions_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    eservice_id: &str,
) -> Result<Vec<Descriptor>, InteropError> {
    let rows = sqlx::query(&format!(
        "SELECT {DESCRIPTOR_COLUMNS} FROM interop_descriptors d WHERE d.eservice_id = $1 \
         ORDER BY d.version"
    ))
    .bind(eservice_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.iter().map(descriptor_row).collect::<Result<_, _>>()?)
}

/// Agreements that keep a version alive (PENDING, ACTIVE, SUSPENDED).
async fn live_agreements<'e, E>(executor: E, descriptor_id: &str) -> Result<u64, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM interop_agreements WHERE descriptor_id = $1 \
         AND state IN ('PENDING', 'ACTIVE', 'SUSPENDED')",
    )
    .bind(descriptor_id)
    .fetch_one(executor)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Publishes a draft; the version it replaces is deprecated (agreements still use it) or
/// archived.
pub async fn publish(
    db: &Db,
    env: Environment,
    producer_id: &str,
    eservice_id: &str,
    descriptor_id: &str,
) -> Result<Descriptor, InteropError> {
    let mut tx = db.begin().await?;
    lock_own(db, &mut tx, env, producer_id, eservice_id).await?;
    let all = versions_in(&mut tx, eservice_id).await?;
    let draft = all
        .iter()
        .find(|d| d.id == descriptor_id)
        .ok_or(InteropError::NotFound)?;
    let previous = all
        .iter()
        .filter(|d| {
            d.id != descriptor_id
                && matches!(
                    d.state_value,
                    DescriptorState::Published
                        | DescriptorState::Suspended
                        | DescriptorState::Deprecated
                )
        })
        .max_by_key(|d| d.version_n);
    let previous_facts = match previous {
        Some(p) => Some((
            p.id.clone(),
            PreviousFacts {
                state: p.state_value,
                live_agreements: live_agreements(&mut *tx, &p.id).await?,
            },
        )),
        None => None,
    };
    let plan = descriptor::publish(
        &DescriptorFacts {
            state: draft.state_value,
            audience: draft.audience.clone(),
            daily_calls_per_consumer: draft.daily_calls_per_consumer,
            daily_calls_total: draft.daily_calls_total,
        },
        previous_facts.as_ref().map(|(_, f)| f),
    )?;
    let now = now_millis();
    sqlx::query("UPDATE interop_descriptors SET state = $1, published_at = $2 WHERE id = $3")
        .bind(plan.state.as_str())
        .bind(now)
        .bind(descriptor_id)
        .execute(&mut *tx)
        .await?;
    if let (Some(to), Some((previous_id, _))) = (plan.previous, &previous_facts) {
        let column = match to {
            DescriptorState::Deprecated => "deprecated_at",
            _ => "archived_at",
        };
        sqlx::query(&format!(
            "UPDATE interop_descriptors SET state = $1, {column} = $2 WHERE id = $3"
        ))
        .bind(to.as_str())
        .bind(now)
        .bind(previous_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    own(db, env, producer_id, eservice_id)
        .await?
        .descriptor(descriptor_id)
        .cloned()
        .ok_or(InteropError::NotFound)
}

/// Suspends a published (or deprecated) version, or reactivates a suspended one.
pub async fn set_suspended(
    db: &Db,
    env: Environment,
    producer_id: &str,
    eservice_id: &str,
    descriptor_id: &str,
    suspend: bool,
) -> Result<Descriptor, InteropError> {
    let mut tx = db.begin().await?;
    lock_own(db, &mut tx, env, producer_id, eservice_id).await?;
    let all = versions_in(&mut tx, eservice_id).await?;
    let d = all
        .iter()
        .find(|d| d.id == descriptor_id)
        .ok_or(InteropError::NotFound)?;
    let now = now_millis();
    let (to, at) = if suspend {
        (descriptor::suspend(d.state_value)?, Some(now))
    } else {
        let latest = all
            .iter()
            .filter(|x| x.state_value != DescriptorState::Draft)
            .map(|x| x.version_n)
            .max();
        (
            descriptor::activate(d.state_value, latest == Some(d.version_n))?,
            None,
        )
    };
    sqlx::query("UPDATE interop_descriptors SET state = $1, suspended_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(at)
        .bind(descriptor_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    own(db, env, producer_id, eservice_id)
        .await?
        .descriptor(descriptor_id)
        .cloned()
        .ok_or(InteropError::NotFound)
}
