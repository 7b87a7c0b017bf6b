//! The IO back-office's SQL: each change is one transaction that reads the row (locked on
//! PostgreSQL; SQLite has a single writer), applies the rule of `model`, writes the new state
//! and its history record.

use platform::db::{Db, Dialect, now_millis};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::error::IoError;
use crate::model::{
    self, Action, KeyType, Lifecycle, Publication, PublicationState, ReviewOutcome, ServiceData,
    SubscriptionKind,
};
use crate::secrets::{ApiKey, KeyRing};

/// The institution a caller works for, as its identity token (or its key) says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub institution_id: String,
    pub name: String,
    pub fiscal_code: String,
}

/// A service as stored.
#[derive(Debug, Clone)]
pub struct ServiceRow {
    pub id: String,
    pub institution_id: String,
    pub version: i64,
    pub status: Lifecycle,
    pub status_reason: Option<String>,
    pub auto_publish: bool,
    pub data: ServiceData,
    pub approved_data: Option<ServiceData>,
    pub approved_version: Option<i64>,
    pub review_comment: Option<String>,
    pub publication: Option<Publication>,
    pub published_data: Option<ServiceData>,
    pub published_version: Option<i64>,
    pub published_at: Option<i64>,
    pub source: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    /// The owning institution (joined in).
    pub tenant: Tenant,
}

impl ServiceRow {
    pub fn publication_state(&self) -> PublicationState {
        PublicationState {
            lifecycle: self.status,
            approved_version: self.approved_version,
            publication: self.publication,
            published_version: self.published_version,
        }
    }

    pub fn is_published(&self) -> bool {
        self.publication == Some(Publication::Published)
    }
}

const SERVICE_COLUMNS: &str = "s.id, s.institution_id, s.version, s.status, s.status_reason, \
    s.auto_publish, s.data, s.approved_data, s.approved_version, s.review_comment, \
    s.publication, s.published_data, s.published_version, s.published_at, s.source, \
    s.created_at, s.updated_at, s.submitted_at, i.name AS institution_name, \
    i.fiscal_code AS institution_fiscal_code";

const SERVICE_FROM: &str = "io_services s JOIN io_institutions i ON i.id = s.institution_id";

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("io: stored {what} cannot be read"))
}

fn document(text: Option<String>) -> Result<Option<ServiceData>, sqlx::Error> {
    text.map(|t| serde_json::from_str(&t).map_err(|_| corrupt("service document")))
        .transpose()
}

fn service_row(row: &AnyRow) -> Result<ServiceRow, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let publication: Option<String> = row.try_get("publication")?;
    Ok(ServiceRow {
        id: row.try_get("id")?,
        institution_id: row.try_get("institution_id")?,
        version: row.try_get("version")?,
        status: Lifecycle::parse(&status).ok_or_else(|| corrupt("status"))?,
        status_reason: row.try_get("status_reason")?,
        auto_publish: row.try_get::<i64, _>("auto_publish")? != 0,
        data: document(Some(row.try_get("data")?))?.ok_or_else(|| corrupt("data"))?,
        approved_data: document(row.try_get("approved_data")?)?,
        approved_version: row.try_get("approved_version")?,
        review_comment: row.try_get("review_comment")?,
        publication: publication.as_deref().and_then(Publication::parse),
        published_data: document(row.try_get("published_data")?)?,
        published_version: row.try_get("published_version")?,
        published_at: row.try_get("published_at")?,
        source: row.try_get("source")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        submitted_at: row.try_get("submitted_at")?,
        tenant: Tenant {
            institution_id: row.try_get("institution_id")?,
            name: row.try_get("institution_name")?,
            fiscal_code: row.try_get("institution_fiscal_code")?,
        },
    })
}

fn to_json(d: &ServiceData) -> Result<String, sqlx::Error> {
    serde_json::to_string(d).map_err(|e| sqlx::Error::Protocol(format!("io: {e}")))
}

fn lock(db: &Db) -> &'static str {
    match db.dialect() {
        Dialect::Postgres => " FOR UPDATE OF s",
        Dialect::Sqlite => "",
    }
}

/// Records (or refreshes) the institution named by an identity token.
pub async fn upsert_institution(db: &Db, t: &Tenant) -> Result<(), IoError> {
    sqlx::query(
        "INSERT INTO io_institutions (id, name, fiscal_code, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, fiscal_code = excluded.fiscal_code, \
         updated_at = excluded.updated_at",
    )
    .bind(&t.institution_id)
    .bind(&t.name)
    .bind(&t.fiscal_code)
    .bind(now_millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

pub async fn institution(db: &Db, id: &str) -> Result<Option<Tenant>, IoError> {
    let row = sqlx::query("SELECT id, name, fiscal_code FROM io_institutions WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?;
    Ok(match row {
        Some(r) => Some(Tenant {
            institution_id: r.try_get("id")?,
            name: r.try_get("name")?,
            fiscal_code: r.try_get("fiscal_code")?,
        }),
        None => None,
    })
}

#[allow(clippy::too_many_arguments)]
async fn insert_history(
    tx: &mut Transaction<'static, Any>,
    service_id: &str,
    kind: &str,
    status: &str,
    reason: Option<&str>,
    version: i64,
    data: &ServiceData,
    actor: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO io_service_history (service_id, kind, status, reason, version, data, actor, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(service_id)
    .bind(kind)
    .bind(status)
    .bind(reason)
    .bind(version)
    .bind(to_json(data)?)
    .bind(actor)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_key(
    tx: &mut Transaction<'static, Any>,
    ring: &KeyRing,
    subscription_id: &str,
    key_type: KeyType,
    key: &ApiKey,
    now: i64,
) -> Result<(), IoError> {
    let (master, sealed) = ring.encrypt(key, &bound_to(subscription_id, key_type))?;
    sqlx::query(
        "INSERT INTO io_api_keys (subscription_id, key_type, key_hash, master_key_id, sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(subscription_id)
    .bind(key_type.as_str())
    .bind(key.hash())
    .bind(master)
    .bind(sealed)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn bound_to(subscription_id: &str, key_type: KeyType) -> String {
    format!("{subscription_id}/{}", key_type.as_str())
}

async fn insert_subscription(
    tx: &mut Transaction<'static, Any>,
    ring: &KeyRing,
    id: &str,
    institution_id: &str,
    kind: SubscriptionKind,
    keys: Option<(&ApiKey, &ApiKey)>,
    now: i64,
) -> Result<(), IoError> {
    sqlx::query(
        "INSERT INTO io_subscriptions (id, institution_id, kind, cidrs, created_at) \
         VALUES ($1, $2, $3, '[]', $4)",
    )
    .bind(id)
    .bind(institution_id)
    .bind(kind.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let (primary, secondary) = match keys {
        Some((p, s)) => (p.clone(), s.clone()),
        None => (ApiKey::generate()?, ApiKey::generate()?),
    };
    insert_key(tx, ring, id, KeyType::Primary, &primary, now).await?;
    insert_key(tx, ring, id, KeyType::Secondary, &secondary, now).await?;
    Ok(())
}

/// Creates the institution's root manage key pair if it has none yet.
pub async fn ensure_manage_subscription(
    db: &Db,
    ring: &KeyRing,
    institution_id: &str,
) -> Result<(), IoError> {
    let id = model::manage_subscription_id(institution_id);
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM io_subscriptions WHERE id = $1")
            .bind(&id)
            .fetch_optional(db.reader())
            .await?;
    if exists.is_some() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    let now = now_millis();
    let again: Option<String> = sqlx::query_scalar("SELECT id FROM io_subscriptions WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
    if again.is_none() {
        match insert_subscription(
            &mut tx,
            ring,
            &id,
            institution_id,
            SubscriptionKind::ManageRoot,
            None,
            now,
        )
        .await
        {
            Ok(()) => {}
            // Another instance made it at the same moment: theirs stands.
            Err(IoError::Sql(e)) if is_unique_violation(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    tx.commit().await?;
    Ok(())
}

pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                || d.code()
                    .is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

/// Where a service comes from when it is not created here.
#[derive(Debug, Clone)]
pub struct Imported<'a> {
    pub id: &'a str,
    pub source: &'a str,
    pub lifecycle: Lifecycle,
    pub published: Option<Publication>,
    pub keys: (&'a ApiKey, &'a ApiKey),
}

/// Creates a service (draft) with its key pair; returns it as stored.
pub async fn create_service(
    db: &Db,
    ring: &KeyRing,
    tenant: &Tenant,
    data: &ServiceData,
    actor: &str,
) -> Result<ServiceRow, IoError> {
    let mut random = [0u8; 10];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| crate::secrets::SecretError::Random)?;
    let now = now_millis();
    let id = model::ulid(now as u64, random);
    let mut tx = db.begin().await?;
    insert_service(&mut tx, ring, tenant, &id, data, actor, now, None).await?;
    tx.commit().await?;
    get_service(db, &tenant.institution_id, &id)
        .await?
        .ok_or(IoError::NotFound)
}

/// Inserts a service in `tx` (with its history and keys).
#[allow(clippy::too_many_arguments)]
pub async fn insert_service(
    tx: &mut Transaction<'static, Any>,
    ring: &KeyRing,
    tenant: &Tenant,
    id: &str,
    data: &ServiceData,
    actor: &str,
    now: i64,
    imported: Option<&Imported<'_>>,
) -> Result<(), IoError> {
    let json = to_json(data)?;
    let status = imported.map_or(Lifecycle::Draft, |i| i.lifecycle);
    let approved = status == Lifecycle::Approved;
    let publication = imported.and_then(|i| i.published);
    let published = publication == Some(Publication::Published);
    sqlx::query(
        "INSERT INTO io_services (id, institution_id, version, status, data, approved_data, \
         approved_version, publication, published_data, published_version, published_name_key, \
         published_at, source, created_at, updated_at) \
         VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(id)
    .bind(&tenant.institution_id)
    .bind(status.as_str())
    .bind(&json)
    .bind(approved.then(|| json.clone()))
    .bind(approved.then_some(1_i64))
    .bind(publication.map(|p| p.as_str()))
    .bind(publication.map(|_| json.clone()))
    .bind(publication.map(|_| 1_i64))
    .bind(published.then(|| data.name_key()))
    .bind(publication.map(|_| now))
    .bind(imported.map(|i| i.source))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    insert_history(
        tx,
        id,
        "lifecycle",
        status.as_str(),
        None,
        1,
        data,
        actor,
        now,
    )
    .await?;
    if let Some(p) = publication {
        insert_history(tx, id, "publication", p.as_str(), None, 1, data, actor, now).await?;
    }
    insert_subscription(
        tx,
        ring,
        id,
        &tenant.institution_id,
        SubscriptionKind::Service,
        imported.map(|i| i.keys),
        now,
    )
    .await
}

/// The services of an institution (deleted ones excluded), most recently changed first.
pub async fn list_services(
    db: &Db,
    institution_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ServiceRow>, i64), IoError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM io_services WHERE institution_id = $1 AND status <> 'deleted'",
    )
    .bind(institution_id)
    .fetch_one(db.reader())
    .await?;
    let rows = sqlx::query(&format!(
        "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} \
         WHERE s.institution_id = $1 AND s.status <> 'deleted' \
         ORDER BY s.updated_at DESC, s.id LIMIT $2 OFFSET $3"
    ))
    .bind(institution_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    let services = rows.iter().map(service_row).collect::<Result<_, _>>()?;
    Ok((services, count))
}

/// How many services of an institution are in each lifecycle state (deleted ones excluded),
/// and how many of them are published (the overview page).
pub async fn status_counts(
    db: &Db,
    institution_id: &str,
) -> Result<(Vec<(Lifecycle, i64)>, i64), IoError> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM io_services \
         WHERE institution_id = $1 AND status <> 'deleted' GROUP BY status",
    )
    .bind(institution_id)
    .fetch_all(db.reader())
    .await?;
    let mut counts = Vec::new();
    for r in &rows {
        let status: String = r.try_get("status")?;
        let n: i64 = r.try_get("n")?;
        if let Some(l) = Lifecycle::parse(&status) {
            counts.push((l, n));
        }
    }
    let published: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM io_services WHERE institution_id = $1 AND status <> 'deleted' \
         AND publication = 'published'",
    )
    .bind(institution_id)
    .fetch_one(db.reader())
    .await?;
    Ok((counts, published))
}

/// A service of `institution_id` (not deleted). Another institution's service is "not found".
pub async fn get_service(
    db: &Db,
    institution_id: &str,
    id: &str,
) -> Result<Option<ServiceRow>, IoError> {
    let row = sqlx::query(&format!(
        "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} \
         WHERE s.id = $1 AND s.institution_id = $2 AND s.status <> 'deleted'"
    ))
    .bind(id)
    .bind(institution_id)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.as_ref().map(service_row).transpose()?)
}

/// A service of any institution, deleted ones included (review queue, imports, service API).
pub async fn find_service(db: &Db, id: &str) -> Result<Option<ServiceRow>, IoError> {
    let row = sqlx::query(&format!(
        "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.as_ref().map(service_row).transpose()?)
}

/// Which services a change may touch.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Only a service of this institution (institution users, manage keys).
    Institution(&'a str),
    /// Any institution's (platform operators reviewing).
    Any,
}

/// Reads and locks (on PostgreSQL; SQLite has one writer) a service in `tx`; 404 when out of
/// scope or deleted. Also returns the time of the change (never before the last one).
async fn locked(
    db: &Db,
    tx: &mut Transaction<'static, Any>,
    scope: Scope<'_>,
    id: &str,
) -> Result<(ServiceRow, i64), IoError> {
    let row = sqlx::query(&format!(
        "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} WHERE s.id = $1{}",
        lock(db)
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let row = match row.as_ref().map(service_row).transpose()? {
        Some(r) if r.status != Lifecycle::Deleted => r,
        _ => return Err(IoError::NotFound),
    };
    if let Scope::Institution(inst) = scope
        && row.institution_id != inst
    {
        return Err(IoError::NotFound);
    }
    let now = now_millis().max(row.updated_at + 1);
    Ok((row, now))
}

/// Writes the lifecycle part of a row (status, reason, data, version) and its history record.
#[allow(clippy::too_many_arguments)]
async fn set_lifecycle(
    tx: &mut Transaction<'static, Any>,
    row: &ServiceRow,
    to: Lifecycle,
    reason: Option<&str>,
    data: &ServiceData,
    version: i64,
    actor: &str,
    now: i64,
) -> Result<(), IoError> {
    let approved = to == Lifecycle::Approved;
    sqlx::query(
        "UPDATE io_services SET status = $1, status_reason = $2, data = $3, version = $4, \
         updated_at = $5, \
         approved_data = CASE WHEN $6 = 1 THEN $3 ELSE approved_data END, \
         approved_version = CASE WHEN $6 = 1 THEN $4 ELSE approved_version END \
         WHERE id = $7",
    )
    .bind(to.as_str())
    .bind(reason)
    .bind(to_json(data)?)
    .bind(version)
    .bind(now)
    .bind(i64::from(approved))
    .bind(&row.id)
    .execute(&mut **tx)
    .await?;
    insert_history(
        tx,
        &row.id,
        "lifecycle",
        to.as_str(),
        reason,
        version,
        data,
        actor,
        now,
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn set_publication(
    tx: &mut Transaction<'static, Any>,
    service_id: &str,
    to: Publication,
    published: &ServiceData,
    published_version: i64,
    version: i64,
    actor: &str,
    now: i64,
) -> Result<(), IoError> {
    let is_published = to == Publication::Published;
    sqlx::query(
        "UPDATE io_services SET publication = $1, published_data = $2, published_version = $3, \
         published_name_key = $4, published_at = $5, version = $6, updated_at = $5 WHERE id = $7",
    )
    .bind(to.as_str())
    .bind(to_json(published)?)
    .bind(published_version)
    .bind(is_published.then(|| published.name_key()))
    .bind(now)
    .bind(version)
    .bind(service_id)
    .execute(&mut **tx)
    .await?;
    insert_history(
        tx,
        service_id,
        "publication",
        to.as_str(),
        None,
        version,
        published,
        actor,
        now,
    )
    .await?;
    Ok(())
}

/// Edits a service: it goes back to draft.
pub async fn update_service(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    data: &ServiceData,
    actor: &str,
) -> Result<ServiceRow, IoError> {
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Institution(&tenant.institution_id), id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        let to = model::next(row.status, Action::Edit)?;
        let mut data = data.clone();
        // Groups are not part of an edit payload's rules yet; keep what the service has.
        data.metadata.group_id = row.data.metadata.group_id.clone();
        set_lifecycle(tx, &row, to, None, &data, row.version + 1, actor, now).await
    }
    .await;
    out?;
    tx.commit().await?;
    get_service(db, &tenant.institution_id, id)
        .await?
        .ok_or(IoError::NotFound)
}

/// Submits a service for review: quality and duplicate-name checks, then automatic
/// rejection, automatic approval or the review queue.
pub async fn submit(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    auto_publish: bool,
    actor: &str,
) -> Result<(), IoError> {
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Institution(&tenant.institution_id), id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        model::next(row.status, Action::Submit)?;
        let duplicate: Option<String> = sqlx::query_scalar(
            "SELECT id FROM io_services WHERE institution_id = $1 AND id <> $2 \
             AND status <> 'deleted' AND publication = 'published' AND published_name_key = $3 \
             LIMIT 1",
        )
        .bind(&row.institution_id)
        .bind(&row.id)
        .bind(row.data.name_key())
        .fetch_optional(&mut **tx)
        .await?;
        let published = row.published_data.as_ref().filter(|_| row.is_published());
        let outcome = model::review(&row.data, published, duplicate.is_some());
        let mut version = row.version + 1;
        set_lifecycle(
            tx,
            &row,
            Lifecycle::Submitted,
            None,
            &row.data,
            version,
            actor,
            now,
        )
        .await?;
        sqlx::query("UPDATE io_services SET auto_publish = $1, submitted_at = $2 WHERE id = $3")
            .bind(i64::from(auto_publish))
            .bind(now)
            .bind(&row.id)
            .execute(&mut **tx)
            .await?;
        match outcome {
            ReviewOutcome::Manual => {}
            ReviewOutcome::Reject(reason) => {
                version += 1;
                set_lifecycle(
                    tx,
                    &row,
                    Lifecycle::Rejected,
                    Some(&reason),
                    &row.data,
                    version,
                    "review",
                    now,
                )
                .await?;
            }
            ReviewOutcome::AutoApprove => {
                version += 1;
                set_lifecycle(
                    tx,
                    &row,
                    Lifecycle::Approved,
                    None,
                    &row.data,
                    version,
                    "review",
                    now,
                )
                .await?;
                if auto_publish {
                    set_publication(
                        tx,
                        &row.id,
                        Publication::Published,
                        &row.data,
                        version,
                        version + 1,
                        "review",
                        now,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
    .await;
    out?;
    tx.commit().await?;
    Ok(())
}

/// Withdraws a submission: back to draft.
pub async fn abort(db: &Db, tenant: &Tenant, id: &str, actor: &str) -> Result<(), IoError> {
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Institution(&tenant.institution_id), id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        let to = model::next(row.status, Action::Abort)?;
        set_lifecycle(tx, &row, to, None, &row.data, row.version + 1, actor, now).await
    }
    .await;
    out?;
    tx.commit().await?;
    Ok(())
}

/// A platform operator approves a submitted service (published at once if it asked to be).
pub async fn approve(db: &Db, id: &str, actor: &str) -> Result<(), IoError> {
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Any, id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        let to = model::next(row.status, Action::Approve)?;
        let version = row.version + 1;
        set_lifecycle(tx, &row, to, None, &row.data, version, actor, now).await?;
        if row.auto_publish {
            set_publication(
                tx,
                &row.id,
                Publication::Published,
                &row.data,
                version,
                version + 1,
                actor,
                now,
            )
            .await?;
        }
        Ok(())
    }
    .await;
    out?;
    tx.commit().await?;
    Ok(())
}

/// A platform operator rejects a submitted service, with the reason the institution sees.
pub async fn reject(db: &Db, id: &str, reason: &str, actor: &str) -> Result<(), IoError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(IoError::invalid(
            "reason",
            "say why the service is rejected",
        ));
    }
    if reason.chars().count() > 1000 {
        return Err(IoError::invalid(
            "reason",
            "must be at most 1000 characters",
        ));
    }
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Any, id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        let to = model::next(row.status, Action::Reject)?;
        set_lifecycle(
            tx,
            &row,
            to,
            Some(reason),
            &row.data,
            row.version + 1,
            actor,
            now,
        )
        .await
    }
    .await;
    out?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a service (and takes it off the app if it was published).
pub async fn delete_service(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    actor: &str,
) -> Result<(), IoError> {
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Institution(&tenant.institution_id), id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        let to = model::next(row.status, Action::Delete)?;
        let mut version = row.version;
        if row.is_published()
            && let (Some(p), Some(pv)) = (&row.published_data, row.published_version)
        {
            version += 1;
            set_publication(
                tx,
                &row.id,
                Publication::Unpublished,
                p,
                pv,
                version,
                actor,
                now,
            )
            .await?;
        }
        set_lifecycle(tx, &row, to, None, &row.data, version + 1, actor, now).await?;
        // Its keys stop working with it.
        sqlx::query("DELETE FROM io_api_keys WHERE subscription_id = $1")
            .bind(&row.id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
    .await;
    out?;
    tx.commit().await?;
    Ok(())
}

/// Publishes the last approved version.
pub async fn release(db: &Db, tenant: &Tenant, id: &str, actor: &str) -> Result<(), IoError> {
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Institution(&tenant.institution_id), id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        model::release(&row.publication_state())?;
        let (Some(data), Some(av)) = (&row.approved_data, row.approved_version) else {
            return Err(IoError::Conflict(
                "the service has never been approved".into(),
            ));
        };
        set_publication(
            tx,
            &row.id,
            Publication::Published,
            data,
            av,
            row.version + 1,
            actor,
            now,
        )
        .await
    }
    .await;
    out?;
    tx.commit().await?;
    Ok(())
}

/// Takes the service off the app.
pub async fn unpublish(db: &Db, tenant: &Tenant, id: &str, actor: &str) -> Result<(), IoError> {
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Institution(&tenant.institution_id), id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        model::unpublish(&row.publication_state())?;
        let (Some(data), Some(pv)) = (&row.published_data, row.published_version) else {
            return Err(IoError::Conflict("the service is not published".into()));
        };
        set_publication(
            tx,
            &row.id,
            Publication::Unpublished,
            data,
            pv,
            row.version + 1,
            actor,
            now,
        )
        .await
    }
    .await;
    out?;
    tx.commit().await?;
    Ok(())
}

/// The institution's note to the reviewer (while submitted or rejected).
pub async fn explain(db: &Db, tenant: &Tenant, id: &str, comment: &str) -> Result<(), IoError> {
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(IoError::invalid("comment", "must not be empty"));
    }
    if comment.chars().count() > 2000 {
        return Err(IoError::invalid(
            "comment",
            "must be at most 2000 characters",
        ));
    }
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Institution(&tenant.institution_id), id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        if !matches!(row.status, Lifecycle::Submitted | Lifecycle::Rejected) {
            return Err(IoError::Conflict(format!(
                "an explanation is for a service under review or rejected; this one is {}",
                row.status.as_str()
            )));
        }
        sqlx::query("UPDATE io_services SET review_comment = $1, updated_at = $2 WHERE id = $3")
            .bind(comment)
            .bind(now)
            .bind(&row.id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
    .await;
    out?;
    tx.commit().await?;
    Ok(())
}

/// Stores a (checked) logo.
pub async fn set_logo(db: &Db, tenant: &Tenant, id: &str, png: &[u8]) -> Result<(), IoError> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(png);
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, Scope::Institution(&tenant.institution_id), id).await?;
    let out: Result<(), IoError> = async {
        let tx = &mut tx;
        sqlx::query("DELETE FROM io_service_logos WHERE service_id = $1")
            .bind(&row.id)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO io_service_logos (service_id, png_base64, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(&row.id)
        .bind(&encoded)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
    .await;
    out?;
    tx.commit().await?;
    Ok(())
}

pub async fn logo(db: &Db, id: &str) -> Result<Option<Vec<u8>>, IoError> {
    use base64::Engine;
    let b64: Option<String> =
        sqlx::query_scalar("SELECT png_base64 FROM io_service_logos WHERE service_id = $1")
            .bind(id)
            .fetch_optional(db.reader())
            .await?;
    Ok(b64.and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()))
}

/// One history record.
#[derive(Debug, Clone)]
pub struct HistoryItem {
    pub seq: i64,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub version: i64,
    pub data: ServiceData,
    pub actor: Option<String>,
    pub at: i64,
}

/// A page of a service's history: `limit` records before (DESC) or after (ASC) the
/// continuation token, and the token of the next page if there is one.
pub async fn history(
    db: &Db,
    service_id: &str,
    descending: bool,
    limit: i64,
    after: Option<i64>,
) -> Result<(Vec<HistoryItem>, Option<i64>), IoError> {
    let (cmp, order) = if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let bound = after.unwrap_or(if descending { i64::MAX } else { 0 });
    let rows = sqlx::query(&format!(
        "SELECT id, kind, status, reason, version, data, actor, at FROM io_service_history \
         WHERE service_id = $1 AND id {cmp} $2 ORDER BY id {order} LIMIT $3"
    ))
    .bind(service_id)
    .bind(bound)
    .bind(limit + 1)
    .fetch_all(db.reader())
    .await?;
    let mut items = Vec::new();
    for r in &rows {
        items.push(HistoryItem {
            seq: r.try_get("id")?,
            kind: r.try_get("kind")?,
            status: r.try_get("status")?,
            reason: r.try_get("reason")?,
            version: r.try_get("version")?,
            data: document(Some(r.try_get("data")?))?.ok_or_else(|| corrupt("history"))?,
            actor: r.try_get("actor")?,
            at: r.try_get("at")?,
        });
    }
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|i| i.seq)
    } else {
        None
    };
    Ok((items, next))
}

/// Submitted services of every institution, oldest submission first.
pub async fn review_queue(
    db: &Db,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ServiceRow>, i64), IoError> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM io_services WHERE status = 'submitted'")
            .fetch_one(db.reader())
            .await?;
    let rows = sqlx::query(&format!(
        "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} WHERE s.status = 'submitted' \
         ORDER BY s.submitted_at, s.id LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    Ok((
        rows.iter().map(service_row).collect::<Result<_, _>>()?,
        count,
    ))
}

/// A key pair in clear.
#[derive(Debug, Clone)]
pub struct KeyPair {
    pub primary: ApiKey,
    pub secondary: ApiKey,
}

/// A subscription (key pair owner).
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub institution_id: String,
    pub kind: SubscriptionKind,
    pub cidrs: Vec<String>,
}

fn subscription_row(r: &AnyRow) -> Result<Subscription, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let cidrs: String = r.try_get("cidrs")?;
    Ok(Subscription {
        id: r.try_get("id")?,
        institution_id: r.try_get("institution_id")?,
        kind: SubscriptionKind::parse(&kind).ok_or_else(|| corrupt("subscription kind"))?,
        cidrs: serde_json::from_str(&cidrs).map_err(|_| corrupt("cidrs"))?,
    })
}

pub async fn subscription(db: &Db, id: &str) -> Result<Option<Subscription>, IoError> {
    let row =
        sqlx::query("SELECT id, institution_id, kind, cidrs FROM io_subscriptions WHERE id = $1")
            .bind(id)
            .fetch_optional(db.reader())
            .await?;
    Ok(row.as_ref().map(subscription_row).transpose()?)
}

pub async fn subscriptions(
    db: &Db,
    institution_id: &str,
    kind: SubscriptionKind,
) -> Result<Vec<Subscription>, IoError> {
    let rows = sqlx::query(
        "SELECT id, institution_id, kind, cidrs FROM io_subscriptions \
         WHERE institution_id = $1 AND kind = $2 ORDER BY id",
    )
    .bind(institution_id)
    .bind(kind.as_str())
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .iter()
        .map(subscription_row)
        .collect::<Result<_, _>>()?)
}

/// The keys of a subscription, decrypted.
pub async fn keys(db: &Db, ring: &KeyRing, subscription_id: &str) -> Result<KeyPair, IoError> {
    let rows = sqlx::query(
        "SELECT key_type, master_key_id, sealed FROM io_api_keys WHERE subscription_id = $1",
    )
    .bind(subscription_id)
    .fetch_all(db.reader())
    .await?;
    let mut primary = None;
    let mut secondary = None;
    for r in &rows {
        let kt: String = r.try_get("key_type")?;
        let Some(kt) = KeyType::parse(&kt) else {
            continue;
        };
        let master: String = r.try_get("master_key_id")?;
        let sealed: String = r.try_get("sealed")?;
        let key = ring.decrypt(&master, &sealed, &bound_to(subscription_id, kt))?;
        match kt {
            KeyType::Primary => primary = Some(key),
            KeyType::Secondary => secondary = Some(key),
        }
    }
    match (primary, secondary) {
        (Some(primary), Some(secondary)) => Ok(KeyPair { primary, secondary }),
        _ => Err(IoError::NotFound),
    }
}

/// Replaces one key: the old one stops working when this commits.
pub async fn regenerate(
    db: &Db,
    ring: &KeyRing,
    subscription_id: &str,
    key_type: KeyType,
) -> Result<KeyPair, IoError> {
    let key = ApiKey::generate()?;
    let (master, sealed) = ring.encrypt(&key, &bound_to(subscription_id, key_type))?;
    let done = sqlx::query(
        "UPDATE io_api_keys SET key_hash = $1, master_key_id = $2, sealed = $3, created_at = $4 \
         WHERE subscription_id = $5 AND key_type = $6",
    )
    .bind(key.hash())
    .bind(master)
    .bind(sealed)
    .bind(now_millis())
    .bind(subscription_id)
    .bind(key_type.as_str())
    .execute(db.writer())
    .await?;
    if done.rows_affected() == 0 {
        return Err(IoError::NotFound);
    }
    keys(db, ring, subscription_id).await
}

pub async fn set_cidrs(db: &Db, subscription_id: &str, cidrs: &[String]) -> Result<(), IoError> {
    let json = serde_json::to_string(cidrs).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    sqlx::query("UPDATE io_subscriptions SET cidrs = $1 WHERE id = $2")
        .bind(json)
        .bind(subscription_id)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Who a presented key belongs to: one indexed read.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    pub subscription: Subscription,
    pub tenant: Tenant,
}

pub async fn key_owner(db: &Db, key: &ApiKey) -> Result<Option<KeyOwner>, IoError> {
    let row = sqlx::query(
        "SELECT s.id, s.institution_id, s.kind, s.cidrs, i.name, i.fiscal_code \
         FROM io_api_keys k JOIN io_subscriptions s ON s.id = k.subscription_id \
         JOIN io_institutions i ON i.id = s.institution_id WHERE k.key_hash = $1",
    )
    .bind(key.hash())
    .fetch_optional(db.reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let subscription = subscription_row(&r)?;
    Ok(Some(KeyOwner {
        tenant: Tenant {
            institution_id: subscription.institution_id.clone(),
            name: r.try_get("name")?,
            fiscal_code: r.try_get("fiscal_code")?,
        },
        subscription,
    }))
}

/// Re-encrypts every stored key under the newest master key; returns how many changed.
pub async fn rekey(db: &Db, ring: &KeyRing) -> Result<u64, IoError> {
    let newest = ring.newest_id().to_string();
    let rows = sqlx::query(
        "SELECT subscription_id, key_type, master_key_id, sealed FROM io_api_keys \
         WHERE master_key_id <> $1",
    )
    .bind(&newest)
    .fetch_all(db.reader())
    .await?;
    let mut tx = db.begin().await?;
    let mut changed = 0;
    for r in &rows {
        let sub: String = r.try_get("subscription_id")?;
        let kt: String = r.try_get("key_type")?;
        let Some(kt) = KeyType::parse(&kt) else {
            continue;
        };
        let master: String = r.try_get("master_key_id")?;
        let sealed: String = r.try_get("sealed")?;
        let bound = bound_to(&sub, kt);
        let key = ring.decrypt(&master, &sealed, &bound)?;
        let (id, resealed) = ring.encrypt(&key, &bound)?;
        changed += sqlx::query(
            "UPDATE io_api_keys SET master_key_id = $1, sealed = $2 \
             WHERE subscription_id = $3 AND key_type = $4 AND sealed = $5",
        )
        .bind(id)
        .bind(resealed)
        .bind(&sub)
        .bind(kt.as_str())
        .bind(&sealed)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(changed)
}
