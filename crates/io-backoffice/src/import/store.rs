//! The import's SQL: the delegates asked for, the durable items, claiming them, and the copy
//! of a frozen service into the back-office.

use platform::audit::{self, AuditEvent};
use platform::db::plan::{Arg, ListStatement};
use platform::db::{Db, Dialect, now_millis};
use sqlx::{FromRow, Row};

use super::client::{Delegate, PendingService};
use super::model::{Counts, ItemStatus, StepError, source_of};
use crate::error::IoError;
use crate::model::{Lifecycle, Publication, ServiceData};
use crate::secrets::{ApiKey, KeyRing};
use crate::store::{Imported, Tenant, insert_service, is_unique_violation};

/// One service to bring over, as claimed by a worker.
#[derive(Debug, Clone, FromRow)]
pub struct Item {
    pub id: String,
    pub institution_id: String,
    pub fiscal_code: String,
    pub delegate_id: String,
    pub service_id: String,
    pub attempts: i64,
}

/// A delegate's import, for the status table.
#[derive(Debug, Clone)]
pub struct DelegateImport {
    pub delegate: Delegate,
    pub updated_at: i64,
    pub counts: Counts,
}

/// A failed item, with its reason.
#[derive(Debug, Clone, FromRow)]
pub struct FailedItem {
    pub service_id: String,
    pub service_name: String,
    pub error: String,
}

/// Records the request for `delegate` and an item for each of `services` not already there;
/// items that failed start again. Returns how many items are (again) waiting.
pub async fn request(
    db: &Db,
    tenant: &Tenant,
    delegate: &Delegate,
    services: &[PendingService],
    actor: &str,
) -> Result<u64, IoError> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO io_import_delegates (institution_id, delegate_id, name, surname, email, \
         requested_by, requested_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (institution_id, delegate_id) DO UPDATE SET name = excluded.name, \
         surname = excluded.surname, email = excluded.email, requested_by = excluded.requested_by, \
         requested_at = excluded.requested_at, updated_at = excluded.updated_at",
    )
    .bind(&tenant.institution_id)
    .bind(&delegate.source_id)
    .bind(&delegate.source_name)
    .bind(&delegate.source_surname)
    .bind(&delegate.source_email)
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let mut waiting = 0;
    for s in services {
        let id = platform::ids::new_ulid().map_err(|_| crate::secrets::SecretError::Random)?;
        // A service already listed keeps its item (and its progress); only a failed one is
        // started again.
        let done = sqlx::query(
            "INSERT INTO io_import_items (id, institution_id, fiscal_code, delegate_id, \
             service_id, service_name, status, attempts, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'initial', 0, $7, $7, $7) \
             ON CONFLICT (institution_id, service_id) DO UPDATE SET status = 'initial', \
             attempts = 0, next_attempt_at = excluded.next_attempt_at, lease_until = NULL, \
             error = NULL, delegate_id = excluded.delegate_id, \
             service_name = excluded.service_name, updated_at = excluded.updated_at \
             WHERE io_import_items.status = 'failed'",
        )
        .bind(&id)
        .bind(&tenant.institution_id)
        .bind(&tenant.fiscal_code)
        .bind(&delegate.source_id)
        .bind(&s.id)
        .bind(&s.name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        waiting += done.rows_affected();
    }
    let mut event = AuditEvent::new("io.import.requested");
    event.actor = Some(actor.to_string());
    event.institution_id = Some(tenant.institution_id.clone());
    event.target = Some(delegate.source_id.clone());
    event.details = serde_json::json!({
        "services": services.len(),
        "waiting": waiting,
        "delegate": format!("{} {}", delegate.source_name, delegate.source_surname).trim(),
    });
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(waiting)
}

/// The counts of a delegate's items, by status (`i` is the items' table).
const COUNTS: &str = "SUM(CASE WHEN i.status = 'initial' THEN 1 ELSE 0 END) AS initial, \
    SUM(CASE WHEN i.status = 'processing' THEN 1 ELSE 0 END) AS processing, \
    SUM(CASE WHEN i.status = 'failed' THEN 1 ELSE 0 END) AS failed, \
    SUM(CASE WHEN i.status = 'completed' THEN 1 ELSE 0 END) AS completed, \
    MAX(i.updated_at) AS last_item";

fn counts(row: &sqlx::any::AnyRow) -> Result<Counts, sqlx::Error> {
    let n = |c: &str| -> Result<i64, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(c)?.unwrap_or(0))
    };
    Ok(Counts {
        initial: n("initial")?,
        processing: n("processing")?,
        failed: n("failed")?,
        completed: n("completed")?,
    })
}

/// Every delegate whose import was asked for by the institution, newest change first, with
/// the counts of their items.
pub async fn latest(db: &Db, institution_id: &str) -> Result<Vec<DelegateImport>, IoError> {
    let rows = sqlx::query(&format!(
        "SELECT d.delegate_id, d.name, d.surname, d.email, d.updated_at, {COUNTS} \
         FROM io_import_delegates d LEFT JOIN io_import_items i \
         ON i.institution_id = d.institution_id AND i.delegate_id = d.delegate_id \
         WHERE d.institution_id = $1 \
         GROUP BY d.delegate_id, d.name, d.surname, d.email, d.updated_at"
    ))
    .bind(institution_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let counts = counts(row)?;
        let requested: i64 = row.try_get("updated_at")?;
        let last_item: Option<i64> = row.try_get("last_item")?;
        out.push(DelegateImport {
            delegate: Delegate {
                source_id: row.try_get("delegate_id")?,
                source_name: row.try_get("name")?,
                source_surname: row.try_get("surname")?,
                source_email: row.try_get("email")?,
                subscription_counter: counts.initial + counts.processing + counts.failed,
            },
            updated_at: last_item.map_or(requested, |l| l.max(requested)),
            counts,
        });
    }
    out.sort_by(|a, b| {
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| a.delegate.source_id.cmp(&b.delegate.source_id))
    });
    Ok(out)
}

/// One delegate's import, if it was ever asked for.
pub async fn delegate(
    db: &Db,
    institution_id: &str,
    delegate_id: &str,
) -> Result<Option<DelegateImport>, IoError> {
    Ok(latest(db, institution_id)
        .await?
        .into_iter()
        .find(|d| d.delegate.source_id == delegate_id))
}

/// The failed items of the institution, for the page.
pub async fn failed(db: &Db, institution_id: &str) -> Result<Vec<FailedItem>, IoError> {
    let rows = sqlx::query(
        "SELECT service_id, service_name, COALESCE(error, '') AS error FROM io_import_items \
         WHERE institution_id = $1 AND status = 'failed' ORDER BY service_name, service_id",
    )
    .bind(institution_id)
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .iter()
        .map(FailedItem::from_row)
        .collect::<Result<_, _>>()?)
}

/// Claims up to `n` due items: waiting, or processing with their lease run out (their worker
/// died). PostgreSQL skips rows other instances are claiming; SQLite has one writer.
/// The items due, in the order they are claimed: `$1` now, `$2` how many. The partial index
/// `io_import_items_claim` holds exactly the items still to do, in this order, so a claim
/// reads its few rows from the front of it however long the queue.
const DUE_SQL: &str = "SELECT id FROM io_import_items \
     WHERE status IN ('initial', 'processing') AND next_attempt_at <= $1 \
     AND (lease_until IS NULL OR lease_until < $1) \
     ORDER BY next_attempt_at, id LIMIT $2";

pub async fn claim(db: &Db, lease_ms: u64, worker: &str, n: i64) -> Result<Vec<Item>, IoError> {
    let now = now_millis();
    let skip_locked = match db.dialect() {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let rows = sqlx::query(&format!(
        "UPDATE io_import_items SET status = 'processing', lease_until = $3, \
         attempts = attempts + 1, updated_at = $1, claimed_by = $4 \
         WHERE id IN ({DUE_SQL}{skip_locked}) \
         RETURNING id, institution_id, fiscal_code, delegate_id, service_id, attempts"
    ))
    .bind(now)
    .bind(n.max(1))
    .bind(now.saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX)))
    .bind(worker)
    .fetch_all(db.writer())
    .await?;
    Ok(rows.iter().map(Item::from_row).collect::<Result<_, _>>()?)
}

/// The import's queue statement, for the query-plan tests.
pub(crate) fn list_statements() -> Vec<ListStatement> {
    vec![
        ListStatement::new(
            "io.import.due",
            DUE_SQL,
            vec![Arg::Int(1_700_000_000_000), Arg::Int(4)],
        )
        .paged(),
    ]
}

/// The items are done, in one write. Another worker that ran one too (after a lease ran out)
/// completes it the same way, since every step is idempotent.
pub async fn complete(db: &Db, items: &[&Item]) -> Result<(), IoError> {
    if items.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE io_import_items SET status = 'completed', lease_until = NULL, error = NULL, \
         updated_at = $1 WHERE status <> 'completed' AND id IN ({})",
        platform::db::placeholders(2, items.len())
    );
    let mut q = sqlx::query(&sql).bind(now_millis());
    for item in items {
        q = q.bind(&item.id);
    }
    q.execute(db.writer()).await?;
    Ok(())
}

/// The item's step failed: it waits `retry_in_ms` for another attempt, or, when `retry_in_ms`
/// is `None`, ends FAILED with the reason.
pub async fn fail(
    db: &Db,
    item: &Item,
    reason: &str,
    retry_in_ms: Option<u64>,
) -> Result<(), IoError> {
    let now = now_millis();
    let (status, next) = match retry_in_ms {
        Some(ms) => (
            ItemStatus::Processing,
            now.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
        ),
        None => (ItemStatus::Failed, now),
    };
    sqlx::query(
        "UPDATE io_import_items SET status = $1, lease_until = NULL, next_attempt_at = $2, \
         error = $3, updated_at = $4 WHERE id = $5 AND status = 'processing'",
    )
    .bind(status.as_str())
    .bind(next)
    .bind(reason)
    .bind(now)
    .bind(&item.id)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// What the copy into the back-office found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copy {
    Inserted,
    /// Copied before (by an earlier attempt or import): left as it is.
    AlreadyThere,
}

/// Whether the service is already here, and whose. On a reading connection: what is committed
/// is enough (a copy racing with this one is caught by the insert's unique key, and its winner
/// is committed by then), and the single writing connection is left to the commits.
async fn existing(db: &Db, id: &str) -> Result<Option<(String, Option<String>)>, IoError> {
    let row = sqlx::query("SELECT institution_id, source FROM io_services WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((r.try_get("institution_id")?, r.try_get("source")?)))
        .transpose()?)
}

fn judge(
    found: (String, Option<String>),
    tenant: &Tenant,
    source: &str,
) -> Result<Copy, StepError> {
    if found.0 == tenant.institution_id && found.1.as_deref() == Some(source) {
        Ok(Copy::AlreadyThere)
    } else {
        Err(StepError::Permanent(
            "id conflict: a different service with this id is already in the back-office"
                .to_string(),
        ))
    }
}

/// A frozen service, ready to be copied.
pub struct Arrival<'a> {
    pub id: &'a str,
    pub data: &'a ServiceData,
    pub lifecycle: Lifecycle,
    pub publication: Option<Publication>,
    pub keys: (&'a ApiKey, &'a ApiKey),
    pub delegate_id: &'a str,
}

/// Inserts the service **only if absent**, with the same id and keys, its history and an audit
/// record, in one transaction. A copy of the same source service is never overwritten; an id
/// taken by anything else is an id conflict.
pub async fn copy_in(
    db: &Db,
    ring: &KeyRing,
    tenant: &Tenant,
    a: &Arrival<'_>,
) -> Result<Result<Copy, StepError>, IoError> {
    let source = source_of(a.id);
    if let Some(found) = existing(db, a.id).await? {
        return Ok(judge(found, tenant, &source));
    }
    let now = now_millis();
    let mut tx = db.begin().await?;
    let imported = Imported {
        id: a.id,
        source: &source,
        lifecycle: a.lifecycle,
        published: a.publication,
        keys: a.keys,
    };
    let actor = format!("{}{}", super::IMPORT_ACTOR_PREFIX, a.delegate_id);
    let inserted = insert_service(
        &mut tx,
        ring,
        tenant,
        a.id,
        a.data,
        &actor,
        now,
        Some(&imported),
    )
    .await;
    match inserted {
        Ok(()) => {}
        Err(IoError::Sql(e)) if is_unique_violation(&e) => {
            drop(tx);
            // Another worker copied it at the same moment, or a key is someone else's.
            return Ok(match existing(db, a.id).await? {
                Some(found) => judge(found, tenant, &source),
                None => Err(StepError::Permanent(
                    "id conflict: a key of this service is already in use in the back-office"
                        .to_string(),
                )),
            });
        }
        Err(e) => return Err(e),
    }
    // The log tells people whose service it was, by the name the import recorded.
    let delegate: Option<String> = sqlx::query_scalar(
        "SELECT name || ' ' || surname FROM io_import_delegates \
         WHERE institution_id = $1 AND delegate_id = $2",
    )
    .bind(&tenant.institution_id)
    .bind(a.delegate_id)
    .fetch_optional(&mut *tx)
    .await?;
    let mut event = AuditEvent::new("io.service.imported");
    event.actor = Some(actor);
    event.institution_id = Some(tenant.institution_id.clone());
    event.target = Some(a.id.to_string());
    event.details = serde_json::json!({
        "source": source,
        "name": a.data.name,
        "delegate": delegate,
        "lifecycle": a.lifecycle.as_str(),
        "publication": a.publication.map(|p| p.as_str()),
    });
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(Ok(Copy::Inserted))
}

/// The imported services of the institution whose keys are still the ones they arrived with
/// (the delegate knows them): `(id, name)`.
pub async fn services_with_imported_keys(
    db: &Db,
    institution_id: &str,
) -> Result<Vec<(String, String)>, IoError> {
    let rows = sqlx::query(
        "SELECT s.id, s.data FROM io_services s WHERE s.institution_id = $1 \
         AND s.source IS NOT NULL AND s.status <> 'deleted' AND EXISTS (SELECT 1 FROM io_api_keys k \
         WHERE k.subscription_id = s.id AND k.created_at <= s.created_at) ORDER BY s.id",
    )
    .bind(institution_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.try_get("id")?;
        let data: String = r.try_get("data")?;
        let name = serde_json::from_str::<ServiceData>(&data)
            .map(|d| d.name)
            .unwrap_or_default();
        out.push((id, name));
    }
    Ok(out)
}

/// Where an imported service came from: the delegate's name (as the import recorded it) and
/// when the service arrived. `None` for a service not imported, or imported before the import
/// kept its delegates.
pub async fn origin(
    db: &Db,
    institution_id: &str,
    service_id: &str,
) -> Result<Option<(String, i64)>, IoError> {
    Ok(sqlx::query_as::<_, (String, i64)>(
        "SELECT d.name || ' ' || d.surname, i.updated_at FROM io_import_items i \
         JOIN io_import_delegates d ON d.institution_id = i.institution_id \
         AND d.delegate_id = i.delegate_id \
         WHERE i.institution_id = $1 AND i.service_id = $2 AND i.status = 'completed'",
    )
    .bind(institution_id)
    .bind(service_id)
    .fetch_optional(db.reader())
    .await?)
}
