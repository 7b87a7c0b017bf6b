//! The services as stored: create, read, list, edit, delete, logo and history.

use std::sync::LazyLock;

use platform::db::hot::{HotRow, Param, Sql};
use platform::db::plan::{Arg, ListStatement};
use platform::db::{Db, now_millis};
use sqlx::{Any, Row, Transaction};

use super::keys::insert_subscription;
use super::lifecycle::{Change, NO_HISTORY, Scope, change};
use super::{Tenant, corrupt, document, to_json};
use crate::error::IoError;
use crate::model::{
    self, Action, Lifecycle, Publication, PublicationState, ServiceData, SubscriptionKind,
};
use crate::secrets::{ApiKey, KeyRing};

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

pub(crate) const SERVICE_COLUMNS: &str = "s.id, s.institution_id, s.version, s.status, s.status_reason, \
    s.auto_publish, s.data, s.approved_data, s.approved_version, s.review_comment, \
    s.publication, s.published_data, s.published_version, s.published_at, s.source, \
    s.created_at, s.updated_at, s.submitted_at, i.name AS institution_name, \
    i.fiscal_code AS institution_fiscal_code";

pub(crate) const SERVICE_FROM: &str =
    "io_services s JOIN io_institutions i ON i.id = s.institution_id";

/// A row of [`SERVICE_COLUMNS`], from sqlx or from a hot read.
pub(crate) fn service_row<R: HotRow + ?Sized>(row: &R) -> Result<ServiceRow, sqlx::Error> {
    let status = row.required_text("status")?;
    let publication = row.text_named("publication")?;
    let institution_id = row.required_text("institution_id")?;
    Ok(ServiceRow {
        id: row.required_text("id")?,
        version: row.required_int("version")?,
        status: Lifecycle::parse(&status).ok_or_else(|| corrupt("status"))?,
        status_reason: row.text_named("status_reason")?,
        auto_publish: row.required_int("auto_publish")? != 0,
        data: document(Some(row.required_text("data")?))?.ok_or_else(|| corrupt("data"))?,
        approved_data: document(row.text_named("approved_data")?)?,
        approved_version: row.int_named("approved_version")?,
        review_comment: row.text_named("review_comment")?,
        publication: publication.as_deref().and_then(Publication::parse),
        published_data: document(row.text_named("published_data")?)?,
        published_version: row.int_named("published_version")?,
        published_at: row.int_named("published_at")?,
        source: row.text_named("source")?,
        created_at: row.required_int("created_at")?,
        updated_at: row.required_int("updated_at")?,
        submitted_at: row.int_named("submitted_at")?,
        tenant: Tenant {
            institution_id: institution_id.clone(),
            name: row.required_text("institution_name")?,
            fiscal_code: row.required_text("institution_fiscal_code")?,
        },
        institution_id,
    })
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
         published_at, source, created_at, updated_at, search_key) \
         VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)",
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
    .bind(search_key(data))
    .execute(&mut **tx)
    .await?;
    let mut c = Change::new(tx, id, actor, now);
    c.history("lifecycle", status.as_str(), None, 1, data)
        .await?;
    if let Some(p) = publication {
        c.history("publication", p.as_str(), None, 1, data).await?;
    }
    insert_subscription(
        c.tx,
        ring,
        id,
        &tenant.institution_id,
        SubscriptionKind::Service,
        imported.map(|i| i.keys),
        now,
    )
    .await
}

/// The key the list's search reads: the service's name, folded.
/// A name that folds to nothing gets `-`, which no search matches and which tells a filled
/// row from one to fill.
pub fn search_key(data: &ServiceData) -> String {
    name_search_key(&data.name)
}

fn name_search_key(name: &str) -> String {
    match platform::search::fold(name) {
        k if k.is_empty() => "-".to_string(),
        k => k,
    }
}

/// `$1` the institution, `$2` `%<folded search>%` or '' for every service.
const SERVICES_WHERE: &str = "s.institution_id = $1 AND s.status <> 'deleted' \
     AND ($2 = '' OR s.search_key LIKE $2)";

fn services_count_sql() -> String {
    format!("SELECT COUNT(*) FROM io_services s WHERE {SERVICES_WHERE}")
}

/// The page's ids from the index `io_services_listed` alone, then their rows. `from_end`:
/// the ids counted from the list's end (`platform::paging::from_end`); the page itself is in
/// the list's order either way.
fn services_page_sql(from_end: bool) -> String {
    let inner = if from_end {
        "s.updated_at ASC, s.id ASC"
    } else {
        "s.updated_at DESC, s.id DESC"
    };
    format!(
        "SELECT {SERVICE_COLUMNS} FROM (SELECT s.id FROM io_services s WHERE {SERVICES_WHERE} \
         ORDER BY {inner} LIMIT $3 OFFSET $4) p \
         JOIN io_services s ON s.id = p.id JOIN io_institutions i ON i.id = s.institution_id \
         ORDER BY s.updated_at DESC, s.id DESC"
    )
}

/// The pattern of a search: its folded text anywhere in the key ('' for no search).
fn search_pattern(search: &str) -> String {
    let folded = platform::search::fold(search);
    if folded.is_empty() {
        String::new()
    } else {
        format!("%{folded}%")
    }
}

/// A page of the institution's services (deleted ones excluded), last changed first, those
/// whose name contains `search` (folded: any case, accents, spaces and punctuation ignored)
/// when it is not empty; and how many there are in all. The index `io_services_listed`
/// gives the order and answers the filters; the search thins the walk.
pub async fn list_services(
    db: &Db,
    institution_id: &str,
    search: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ServiceRow>, i64), IoError> {
    let pattern = search_pattern(search);
    let count: i64 = sqlx::query_scalar(&services_count_sql())
        .bind(institution_id)
        .bind(&pattern)
        .fetch_one(db.reader())
        .await?;
    let window = platform::paging::from_end(count, limit, offset);
    let (limit, offset) = window.unwrap_or((limit, offset));
    let rows = sqlx::query(&services_page_sql(window.is_some()))
        .bind(institution_id)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await?;
    let services = rows.iter().map(service_row).collect::<Result<_, _>>()?;
    Ok((services, count))
}

const UNSEARCHABLE_SQL: &str = "SELECT id, data FROM io_services WHERE search_key = '' LIMIT 500";

/// Gives every service that has none its [`search_key`] (rows written before the key
/// existed), a batch at a time; returns how many it gave. Run at start.
pub async fn fill_search_keys(db: &Db) -> Result<u64, platform::db::DbError> {
    let mut filled = 0;
    loop {
        let rows = sqlx::query(UNSEARCHABLE_SQL).fetch_all(db.reader()).await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let mut tx = db.begin().await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let data: String = r.try_get("data")?;
            let name = serde_json::from_str::<serde_json::Value>(&data)
                .ok()
                .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .unwrap_or_default();
            sqlx::query("UPDATE io_services SET search_key = $1 WHERE id = $2")
                .bind(name_search_key(&name))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        filled += rows.len() as u64;
    }
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
    // The manage API's read of one service: a point read by primary key, on the native
    // driver (on the calling thread on SQLite).
    static ONE: LazyLock<Sql> = LazyLock::new(|| {
        Sql::new(format!(
            "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} \
             WHERE s.id = $1 AND s.institution_id = $2 AND s.status <> 'deleted'"
        ))
    });
    let params = [Param::text(id), Param::text(institution_id)];
    Ok(db
        .hot()
        .fetch_optional(&ONE, &params, |r| service_row(r))
        .await?)
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

/// Edits a service: it goes back to draft.
pub async fn update_service(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    data: &ServiceData,
    actor: &str,
) -> Result<ServiceRow, IoError> {
    let scope = Scope::Institution(&tenant.institution_id);
    change(db, scope, id, actor, async |c, row| {
        let to = model::next(row.status, Action::Edit)?;
        let mut data = data.clone();
        // Groups are not part of an edit payload's rules yet; keep what the service has.
        data.metadata.group_id = row.data.metadata.group_id.clone();
        c.lifecycle(to, None, &data, row.version + 1).await
    })
    .await?;
    get_service(db, &tenant.institution_id, id)
        .await?
        .ok_or(IoError::NotFound)
}

/// Deletes a service (and takes it off the app if it was published).
pub async fn delete_service(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    actor: &str,
) -> Result<(), IoError> {
    let scope = Scope::Institution(&tenant.institution_id);
    change(db, scope, id, actor, async |c, row| {
        let to = model::next(row.status, Action::Delete)?;
        let mut version = row.version;
        if row.is_published()
            && let (Some(p), Some(pv)) = (&row.published_data, row.published_version)
        {
            version += 1;
            c.publication(Publication::Unpublished, p, pv, version)
                .await?;
        }
        c.lifecycle(to, None, &row.data, version + 1).await?;
        // Its keys stop working with it.
        sqlx::query("DELETE FROM io_api_keys WHERE subscription_id = $1")
            .bind(&row.id)
            .execute(&mut **c.tx)
            .await?;
        Ok(())
    })
    .await
}

/// Stores a (checked) logo.
pub async fn set_logo(db: &Db, tenant: &Tenant, id: &str, png: &[u8]) -> Result<(), IoError> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(png);
    let scope = Scope::Institution(&tenant.institution_id);
    change(db, scope, id, NO_HISTORY, async |c, row| {
        sqlx::query("DELETE FROM io_service_logos WHERE service_id = $1")
            .bind(&row.id)
            .execute(&mut **c.tx)
            .await?;
        sqlx::query(
            "INSERT INTO io_service_logos (service_id, png_base64, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(&row.id)
        .bind(&encoded)
        .bind(c.now)
        .execute(&mut **c.tx)
        .await?;
        Ok(())
    })
    .await
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

fn history_sql(cmp: &str, order: &str) -> String {
    format!(
        "SELECT id, kind, status, reason, version, data, actor, at FROM io_service_history \
         WHERE service_id = $1 AND id {cmp} $2 ORDER BY id {order} LIMIT $3"
    )
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
    let rows = sqlx::query(&history_sql(cmp, order))
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

/// The statements of the services lists, as the store runs them, with sample values.
pub(super) fn service_list_statements() -> Vec<ListStatement> {
    let page = |pattern: &str| {
        vec![
            Arg::from("inst-1"),
            Arg::from(pattern),
            Arg::Int(10),
            Arg::Int(3000),
        ]
    };
    vec![
        ListStatement::new("io.services.page", services_page_sql(false), page("")).paged(),
        ListStatement::new(
            "io.services.page.from_end",
            services_page_sql(true),
            page(""),
        )
        .paged(),
        ListStatement::new(
            "io.services.count",
            services_count_sql(),
            vec![Arg::from("inst-1"), Arg::from("")],
        ),
        ListStatement::new(
            "io.services.search.page",
            services_page_sql(false),
            page("%tari%"),
        )
        .paged(),
        ListStatement::new(
            "io.services.search.page.from_end",
            services_page_sql(true),
            page("%tari%"),
        )
        .paged(),
        ListStatement::new(
            "io.services.search.count",
            services_count_sql(),
            vec![Arg::from("inst-1"), Arg::from("%tari%")],
        ),
        ListStatement::new(
            "io.services.history",
            history_sql("<", "DESC"),
            vec![Arg::from("svc-1"), Arg::Int(1000), Arg::Int(21)],
        )
        .paged(),
        ListStatement::new("io.services.unsearchable", UNSEARCHABLE_SQL, vec![])
            .reading_partial_index("io_services_unsearchable"),
    ]
}
