//! E-services and their versions (descriptors): the producer's side, and the catalogue.

use platform::db::{Db, now_millis};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::documents::{self, DocumentInfo};
use super::notices::{self, By};
use super::{Paged, Tenant, Window, corrupt, lock, new_id};
use crate::error::InteropError;
use crate::model::attribute::Requirements;
use crate::model::descriptor::{self, DescriptorFacts, PreviousFacts};
use crate::model::{
    AgreementApprovalPolicy, DescriptorInput, DescriptorState, EServiceInput, Environment,
    Technology, eservice,
};
use serde_json::json;

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
    /// From the interface: its OpenAPI `servers` or WSDL addresses.
    pub server_urls: Vec<String>,
    /// The interface (OpenAPI or WSDL), once uploaded.
    pub interface: Option<DocumentInfo>,
    /// The other documents, oldest first.
    pub docs: Vec<DocumentInfo>,
    /// The attributes a consumer needs: groups of each kind.
    pub attributes: Requirements,
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
    /// Whether it handles personal data (absent: not said yet; needed to publish).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_data: Option<bool>,
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

    pub fn technology(&self) -> Technology {
        Technology::parse(&self.technology).unwrap_or(Technology::Rest)
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
        interface: None,
        docs: Vec::new(),
        attributes: Requirements::from_stored(&r.try_get::<String, _>("attributes")?)
            .ok_or_else(|| corrupt("attributes"))?,
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
    d.deprecated_at, d.archived_at, d.attributes";

const ESERVICE_COLUMNS: &str = "e.id, e.producer_id, e.name, e.description, e.technology, \
    e.mode, e.personal_data, e.created_at, COALESCE(i.name, '') AS producer_name";

const ESERVICE_FROM: &str = "interop_eservices e LEFT JOIN interop_institutions i \
    ON i.env = e.env AND i.id = e.producer_id";

/// Which versions of each e-service a list needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Versions {
    /// Every version, each with its documents.
    All,
    /// Only the latest PUBLISHED version with its documents: all the catalogue shows
    /// ([`EService::latest_published`]), without reading the others and their documents.
    LatestPublished,
}

async fn with_descriptors(
    pool: &sqlx::AnyPool,
    rows: Vec<AnyRow>,
    versions: Versions,
) -> Result<Vec<EService>, InteropError> {
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
            personal_data: r
                .try_get::<Option<i64>, _>("personal_data")?
                .map(|v| v != 0),
            created_at: r.try_get("created_at")?,
            descriptors: Vec::new(),
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT {DESCRIPTOR_COLUMNS} FROM interop_descriptors d WHERE d.eservice_id IN ({}){} \
         ORDER BY d.version",
        platform::db::placeholders(1, out.len()),
        match versions {
            Versions::All => "",
            Versions::LatestPublished => " AND d.state = 'PUBLISHED'",
        }
    );
    let mut q = sqlx::query(&sql);
    for e in &out {
        q = q.bind(e.id.clone());
    }
    for r in q.fetch_all(pool).await? {
        let eservice_id: String = r.try_get("eservice_id")?;
        let d = descriptor_row(&r)?;
        if let Some(e) = out.iter_mut().find(|e| e.id == eservice_id) {
            e.descriptors.push(d);
        }
    }
    if versions == Versions::LatestPublished {
        for e in &mut out {
            let latest = e.descriptors.iter().map(|d| d.version_n).max();
            e.descriptors.retain(|d| Some(d.version_n) == latest);
            e.descriptors.truncate(1);
        }
    }
    let ids: Vec<&str> = out
        .iter()
        .flat_map(|e| e.descriptors.iter().map(|d| d.id.as_str()))
        .collect();
    let mut files = documents::of_descriptors(pool, &ids).await?;
    for d in out.iter_mut().flat_map(|e| e.descriptors.iter_mut()) {
        for f in files.remove(&d.id).unwrap_or_default() {
            if f.kind_value == crate::model::document::DocumentKind::Interface {
                d.interface = Some(f);
            } else {
                d.docs.push(f);
            }
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
    Ok(with_descriptors(db.reader(), rows, Versions::All)
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
    with_descriptors(db.reader(), rows, Versions::All).await
}

/// The statement of a window of a producer's e-services, by name: `$1` the environment, `$2`
/// the producer, `$3` the limit, `$4` the offset (the unique index on
/// `(env, producer_id, name_key)` answers it).
pub fn producer_page_sql() -> String {
    format!(
        "SELECT {ESERVICE_COLUMNS} FROM {ESERVICE_FROM} WHERE e.env = $1 AND e.producer_id = $2 \
         ORDER BY e.name_key LIMIT $3 OFFSET $4"
    )
}

/// How many e-services a producer has: `$1` the environment, `$2` the producer.
pub const PRODUCER_COUNT: &str =
    "SELECT COUNT(*) FROM interop_eservices e WHERE e.env = $1 AND e.producer_id = $2";

/// A window of the e-services a producer made, by name, and their total.
pub async fn producer_page(
    db: &Db,
    env: Environment,
    producer_id: &str,
    window: Window,
) -> Result<Paged<EService>, InteropError> {
    let rows = sqlx::query(&producer_page_sql())
        .bind(env.as_str())
        .bind(producer_id)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(db.reader())
        .await?;
    let results = with_descriptors(db.reader(), rows, Versions::All).await?;
    let total_count = super::count(db, PRODUCER_COUNT, &[env.as_str(), producer_id]).await?;
    Ok(Paged {
        results,
        total_count,
    })
}

/// The most words of a search the catalogue reads (the rest are left out).
pub const SEARCH_WORDS_MAX: usize = 4;

/// The e-services of a search of `words` words (1 or more): `eservice_id` and `name_key`, each
/// once, of the catalogue of the environment (`$1`) whose name has, for each word of the
/// search, a word in the range `[$k, $k+1)` (`$2`, `$3` for the first word, and so on). The
/// first word's range of the index `interop_eservice_words_catalogue` holds all it reads;
/// every further word is a range of the words' primary key.
fn search_matches(words: usize) -> String {
    let mut sql = String::from(
        "SELECT w.eservice_id, w.name_key FROM interop_eservice_words w \
         WHERE w.env = $1 AND w.in_catalogue = 1 AND w.word >= $2 AND w.word < $3",
    );
    for i in 1..words {
        let (low, high) = (2 + 2 * i, 3 + 2 * i);
        sql.push_str(&format!(
            " AND w.eservice_id IN (SELECT o.eservice_id FROM interop_eservice_words o \
             WHERE o.env = $1 AND o.word >= ${low} AND o.word < ${high})"
        ));
    }
    // A prefix can match two words of one name.
    sql.push_str(" GROUP BY w.name_key, w.eservice_id");
    sql
}

/// The statement of a window of the catalogue with `words` words searched (0: all of it), by
/// name: after the words' bounds, the limit and the offset. The whole catalogue is a range of
/// the index `interop_eservices_catalogue` in its order; a search sorts its matches' keys
/// ([`search_matches`]), then reads the window's e-services.
pub fn catalog_page_sql(words: usize) -> String {
    let (limit, offset) = (2 + 2 * words, 3 + 2 * words);
    if words == 0 {
        return format!(
            "SELECT {ESERVICE_COLUMNS} FROM {ESERVICE_FROM} \
             WHERE e.env = $1 AND e.in_catalogue = 1 \
             ORDER BY e.name_key, e.id LIMIT ${limit} OFFSET ${offset}"
        );
    }
    // CROSS JOIN: SQLite joins in the order written, from the window's keys.
    format!(
        "SELECT {ESERVICE_COLUMNS} FROM ({} ORDER BY w.name_key, w.eservice_id \
         LIMIT ${limit} OFFSET ${offset}) k CROSS JOIN {ESERVICE_FROM} \
         WHERE e.id = k.eservice_id ORDER BY k.name_key, k.eservice_id",
        search_matches(words)
    )
}

/// How many e-services [`catalog_page_sql`] has in all (the same placeholders but the last
/// two).
pub fn catalog_count_sql(words: usize) -> String {
    if words == 0 {
        return "SELECT COUNT(*) FROM interop_eservices e \
                WHERE e.env = $1 AND e.in_catalogue = 1"
            .to_string();
    }
    format!("SELECT COUNT(*) FROM ({}) m", search_matches(words))
}

/// The words of a search, each as the range of the names' words it starts
/// ([`eservice::prefix_range`]), at most [`SEARCH_WORDS_MAX`].
pub fn search_ranges(q: &str) -> Vec<(String, String)> {
    eservice::name_words(q)
        .iter()
        .take(SEARCH_WORDS_MAX)
        .map(|w| eservice::prefix_range(w))
        .collect()
}

/// A window of the catalogue: the e-services with a PUBLISHED version whose name has, for
/// each word of `q`, a word starting with it (any case, accents of Italian folded: "anag"
/// finds "ANPR - Anagrafe nazionale"), by name, and their total. Each e-service comes with its
/// latest PUBLISHED version only (with its documents): what the catalogue shows.
pub async fn catalog_page(
    db: &Db,
    env: Environment,
    q: Option<&str>,
    window: Window,
) -> Result<Paged<EService>, InteropError> {
    let ranges = search_ranges(q.unwrap_or(""));
    let mut binds: Vec<&str> = vec![env.as_str()];
    for (low, high) in &ranges {
        binds.push(low);
        binds.push(high);
    }
    let sql = catalog_page_sql(ranges.len());
    let mut query = sqlx::query(&sql);
    for b in &binds {
        query = query.bind(b.to_string());
    }
    let rows = query
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(db.reader())
        .await?;
    let results = with_descriptors(db.reader(), rows, Versions::LatestPublished).await?;
    let total_count = super::count(db, &catalog_count_sql(ranges.len()), &binds).await?;
    Ok(Paged {
        results,
        total_count,
    })
}

/// Writes the words of the e-service's name ([`eservice::name_words`]) in the transaction
/// that creates or renames it, in place of those it had, after its row: each word carries its
/// name key and whether it is in the catalogue ([`refresh_in_catalogue`] keeps the latter).
async fn write_words(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    env: Environment,
    eservice_id: &str,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM interop_eservice_words WHERE eservice_id = $1")
        .bind(eservice_id)
        .execute(&mut **tx)
        .await?;
    for word in eservice::name_words(name) {
        sqlx::query(
            "INSERT INTO interop_eservice_words (env, word, eservice_id, name_key, in_catalogue) \
             SELECT $1, $2, e.id, e.name_key, e.in_catalogue FROM interop_eservices e \
             WHERE e.id = $3 \
             ON CONFLICT (env, word, eservice_id) DO NOTHING",
        )
        .bind(env.as_str())
        .bind(word)
        .bind(eservice_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Marks whether the e-service is in the catalogue (has a PUBLISHED version), in the
/// transaction that changed a version's state.
pub(super) async fn refresh_in_catalogue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    eservice_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE interop_eservices SET in_catalogue = CASE WHEN EXISTS (SELECT 1 \
         FROM interop_descriptors d WHERE d.eservice_id = $1 AND d.state = 'PUBLISHED') \
         THEN 1 ELSE 0 END WHERE id = $1",
    )
    .bind(eservice_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE interop_eservice_words SET in_catalogue = (SELECT e.in_catalogue \
         FROM interop_eservices e WHERE e.id = $1) WHERE eservice_id = $1",
    )
    .bind(eservice_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn taken(e: sqlx::Error) -> InteropError {
    if let sqlx::Error::Database(d) = &e
        && (d.is_unique_violation() || d.code().is_some_and(|c| c == "23505" || c == "2067"))
    {
        return InteropError::Conflict(
            eservice::NAME_TAKEN,
            "the institution already has an e-service with this name".into(),
        );
    }
    InteropError::Sql(e)
}

fn flag(value: Option<bool>) -> Option<i64> {
    value.map(i64::from)
}

/// Creates an e-service, with its first version as a draft when `first` is given (both or
/// neither).
pub async fn create(
    db: &Db,
    env: Environment,
    producer: &Tenant,
    user_id: &str,
    input: &EServiceInput,
    first: Option<&DescriptorInput>,
) -> Result<EService, InteropError> {
    let id = new_id();
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO interop_eservices (id, env, producer_id, name, name_key, description, \
         technology, mode, personal_data, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(env.as_str())
    .bind(&producer.institution_id)
    .bind(&input.name)
    .bind(input.name_key())
    .bind(&input.description)
    .bind(input.technology.as_str())
    .bind(input.mode.as_str())
    .bind(flag(input.personal_data))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(taken)?;
    write_words(&mut tx, env, &id, &input.name).await?;
    if let Some(first) = first {
        insert_draft(&mut tx, &id, 1, first).await?;
    }
    let by = notices::By {
        institution_id: &producer.institution_id,
        user_id,
    };
    let details = json!({"env": env.as_str(), "eservice": input.name});
    notices::record(&mut tx, by, "interop.eservice.created", &id, details).await?;
    tx.commit().await?;
    eservice(db, env, &id).await?.ok_or(InteropError::NotFound)
}

/// Inserts a draft version numbered `version`.
async fn insert_draft(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    eservice_id: &str,
    version: i64,
    input: &DescriptorInput,
) -> Result<String, InteropError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO interop_descriptors (id, eservice_id, version, description, state, audience, \
         voucher_lifespan, daily_calls_per_consumer, daily_calls_total, \
         agreement_approval_policy, server_urls, created_at) \
         VALUES ($1, $2, $3, $4, 'DRAFT', $5, $6, $7, $8, $9, '[]', $10)",
    )
    .bind(&id)
    .bind(eservice_id)
    .bind(version)
    .bind(input.description.as_deref())
    .bind(list_json(&input.audience))
    .bind(input.voucher_lifespan)
    .bind(input.daily_calls_per_consumer)
    .bind(input.daily_calls_total)
    .bind(input.agreement_approval_policy.as_str())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(id)
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
    by: By<'_>,
    id: &str,
    input: &EServiceInput,
) -> Result<EService, InteropError> {
    let producer_id = by.institution_id;
    let mut tx = db.begin().await?;
    lock_own(db, &mut tx, env, producer_id, id).await?;
    let all = versions_in(&mut tx, id).await?;
    let states: Vec<DescriptorState> = all.iter().map(|d| d.state_value).collect();
    eservice::update_allowed(&states)?;
    let technology: String =
        sqlx::query_scalar("SELECT technology FROM interop_eservices WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if technology != input.technology.as_str() {
        documents::drop_draft_interfaces(&mut tx, id).await?;
    }
    sqlx::query(
        "UPDATE interop_eservices SET name = $1, name_key = $2, description = $3, \
         technology = $4, mode = $5, personal_data = $6, updated_at = $7 \
         WHERE id = $8 AND env = $9",
    )
    .bind(&input.name)
    .bind(input.name_key())
    .bind(&input.description)
    .bind(input.technology.as_str())
    .bind(input.mode.as_str())
    .bind(flag(input.personal_data))
    .bind(now_millis())
    .bind(id)
    .bind(env.as_str())
    .execute(&mut *tx)
    .await
    .map_err(taken)?;
    write_words(&mut tx, env, id, &input.name).await?;
    updated(db, env, by, tx, id).await
}

/// Records the change of the e-service `id` in the activity log, commits, and reads it back.
async fn updated(
    db: &Db,
    env: Environment,
    by: By<'_>,
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
) -> Result<EService, InteropError> {
    let details = version_details(&mut tx, env, id, "").await?;
    notices::record(&mut tx, by, "interop.eservice.updated", id, details).await?;
    tx.commit().await?;
    own(db, env, by.institution_id, id).await
}

/// What changes of an e-service once published: its name or its description.
pub enum Retitle<'a> {
    Name(&'a str),
    Description(&'a str),
}

/// Changes the name or the description of the producer's e-service, in any state.
pub async fn retitle(
    db: &Db,
    env: Environment,
    by: By<'_>,
    id: &str,
    change: Retitle<'_>,
) -> Result<EService, InteropError> {
    let producer_id = by.institution_id;
    own(db, env, producer_id, id).await?;
    let (sql, value, key) = match change {
        Retitle::Name(name) => (
            "UPDATE interop_eservices SET name = $1, name_key = $2, updated_at = $3 \
             WHERE id = $4 AND env = $5",
            name,
            Some(eservice::name_key(name)),
        ),
        // The description has no key: the name's stays as it is.
        Retitle::Description(d) => (
            "UPDATE interop_eservices SET description = $1, name_key = COALESCE($2, name_key), \
             updated_at = $3 WHERE id = $4 AND env = $5",
            d,
            None,
        ),
    };
    let mut tx = db.begin().await?;
    sqlx::query(sql)
        .bind(value.to_string())
        .bind(key.clone())
        .bind(now_millis())
        .bind(id)
        .bind(env.as_str())
        .execute(&mut *tx)
        .await
        .map_err(taken)?;
    if key.is_some() {
        write_words(&mut tx, env, id, value).await?;
    }
    updated(db, env, by, tx, id).await
}

/// Deletes an e-service that was never published (with its draft).
pub async fn delete(db: &Db, env: Environment, by: By<'_>, id: &str) -> Result<(), InteropError> {
    let producer_id = by.institution_id;
    let e = own(db, env, producer_id, id).await?;
    let states: Vec<DescriptorState> = e.descriptors.iter().map(|d| d.state_value).collect();
    eservice::delete_allowed(&states)?;
    let mut tx = db.begin().await?;
    for d in &e.descriptors {
        documents::delete_all_of(&mut tx, &d.id).await?;
    }
    sqlx::query("DELETE FROM interop_descriptors WHERE eservice_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM interop_eservice_words WHERE eservice_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM interop_eservices WHERE id = $1 AND env = $2")
        .bind(id)
        .bind(env.as_str())
        .execute(&mut *tx)
        .await?;
    let details = json!({"env": env.as_str(), "eservice": e.name});
    notices::record(&mut tx, by, "interop.eservice.deleted", id, details).await?;
    tx.commit().await?;
    Ok(())
}

fn list_json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Locks the producer's e-service row for the transaction (two changes of its versions never
/// interleave); another institution's e-service is not found.
pub(super) async fn lock_own(
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
    by: By<'_>,
    eservice_id: &str,
    input: &DescriptorInput,
) -> Result<Descriptor, InteropError> {
    let producer_id = by.institution_id;
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
    let next = i64::try_from(states.len()).unwrap_or(i64::MAX - 1) + 1;
    let id = insert_draft(&mut tx, eservice_id, next, input).await?;
    let details = version_details(&mut tx, env, eservice_id, &next.to_string()).await?;
    notices::record(&mut tx, by, "interop.descriptor.created", &id, details).await?;
    tx.commit().await?;
    own(db, env, producer_id, eservice_id)
        .await?
        .descriptor(&id)
        .cloned()
        .ok_or(InteropError::NotFound)
}

/// Sets the attributes a draft version requires (read against the registry by
/// [`super::attributes::parse_requirements`]).
pub async fn set_requirements(
    db: &Db,
    env: Environment,
    by: By<'_>,
    eservice_id: &str,
    descriptor_id: &str,
    requirements: &Requirements,
) -> Result<Descriptor, InteropError> {
    let update = sqlx::query(
        "UPDATE interop_descriptors SET attributes = $1 WHERE id = $2 AND state = 'DRAFT'",
    )
    .bind(requirements.to_stored())
    .bind(descriptor_id);
    change_draft(db, env, by, eservice_id, descriptor_id, update).await
}

/// Changes a draft version.
pub async fn update_descriptor(
    db: &Db,
    env: Environment,
    by: By<'_>,
    eservice_id: &str,
    descriptor_id: &str,
    input: &DescriptorInput,
) -> Result<Descriptor, InteropError> {
    let update = sqlx::query(
        "UPDATE interop_descriptors SET description = $1, audience = $2, voucher_lifespan = $3, \
         daily_calls_per_consumer = $4, daily_calls_total = $5, agreement_approval_policy = $6 \
         WHERE id = $7 AND state = 'DRAFT'",
    )
    .bind(input.description.as_deref())
    .bind(list_json(&input.audience))
    .bind(input.voucher_lifespan)
    .bind(input.daily_calls_per_consumer)
    .bind(input.daily_calls_total)
    .bind(input.agreement_approval_policy.as_str())
    .bind(descriptor_id);
    change_draft(db, env, by, eservice_id, descriptor_id, update).await
}

/// Runs `update` (an UPDATE of the draft `descriptor_id`, `... AND state = 'DRAFT'`) on the
/// producer's own draft, records the change and reads the version back; a version published
/// meanwhile is refused.
async fn change_draft<'q>(
    db: &Db,
    env: Environment,
    by: By<'_>,
    eservice_id: &str,
    descriptor_id: &str,
    update: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<Descriptor, InteropError> {
    let producer_id = by.institution_id;
    let e = own(db, env, producer_id, eservice_id).await?;
    let d = e.descriptor(descriptor_id).ok_or(InteropError::NotFound)?;
    descriptor::edit_draft(d.state_value)?;
    let mut tx = db.begin().await?;
    let done = update.execute(&mut *tx).await?;
    if done.rows_affected() == 0 {
        return Err(InteropError::Conflict(
            "descriptor_not_draft",
            "the version was published meanwhile".into(),
        ));
    }
    let details = version_details(&mut tx, env, eservice_id, &d.version).await?;
    notices::record(
        &mut tx,
        by,
        "interop.descriptor.updated",
        descriptor_id,
        details,
    )
    .await?;
    tx.commit().await?;
    own(db, env, producer_id, eservice_id)
        .await?
        .descriptor(descriptor_id)
        .cloned()
        .ok_or(InteropError::NotFound)
}

/// What deleting a draft did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftDeleted {
    /// The e-service keeps its other versions.
    Version,
    /// It was the e-service's only version: the e-service went with it.
    EService,
}

/// Deletes a draft version with its files; the e-service too when the draft was all it had.
pub async fn delete_descriptor(
    db: &Db,
    env: Environment,
    by: By<'_>,
    eservice_id: &str,
    descriptor_id: &str,
) -> Result<DraftDeleted, InteropError> {
    let producer_id = by.institution_id;
    let (mut tx, all) = locked_versions(db, env, producer_id, eservice_id).await?;
    let d = version_of(&all, descriptor_id)?;
    descriptor::delete_draft(d.state_value)?;
    documents::delete_all_of(&mut tx, descriptor_id).await?;
    sqlx::query("DELETE FROM interop_descriptors WHERE id = $1 AND state = 'DRAFT'")
        .bind(descriptor_id)
        .execute(&mut *tx)
        .await?;
    let details = version_details(&mut tx, env, eservice_id, &d.version).await?;
    notices::record(
        &mut tx,
        by,
        "interop.descriptor.deleted",
        descriptor_id,
        details,
    )
    .await?;
    let outcome = if all.len() == 1 {
        sqlx::query("DELETE FROM interop_eservice_words WHERE eservice_id = $1")
            .bind(eservice_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM interop_eservices WHERE id = $1 AND env = $2")
            .bind(eservice_id)
            .bind(env.as_str())
            .execute(&mut *tx)
            .await?;
        DraftDeleted::EService
    } else {
        DraftDeleted::Version
    };
    tx.commit().await?;
    Ok(outcome)
}

/// The details of an activity record: the e-service's name (as it is now) and the version's
/// number (none for a record of the e-service itself).
pub(super) async fn version_details(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    env: Environment,
    eservice_id: &str,
    version: &str,
) -> Result<serde_json::Value, InteropError> {
    let name: String = sqlx::query_scalar("SELECT name FROM interop_eservices WHERE id = $1")
        .bind(eservice_id)
        .fetch_one(&mut **tx)
        .await?;
    let mut details = json!({"env": env.as_str(), "eservice": name});
    if !version.is_empty() {
        details["version"] = json!(version);
    }
    Ok(details)
}

/// A transaction on the producer's e-service, locked, with its versions as they are in it.
async fn locked_versions(
    db: &Db,
    env: Environment,
    producer_id: &str,
    eservice_id: &str,
) -> Result<(sqlx::Transaction<'static, sqlx::Any>, Vec<Descriptor>), InteropError> {
    let mut tx = db.begin().await?;
    lock_own(db, &mut tx, env, producer_id, eservice_id).await?;
    let all = versions_in(&mut tx, eservice_id).await?;
    Ok((tx, all))
}

/// The version `id` among `all`, or not found.
fn version_of<'a>(all: &'a [Descriptor], id: &str) -> Result<&'a Descriptor, InteropError> {
    all.iter()
        .find(|d| d.id == id)
        .ok_or(InteropError::NotFound)
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
    user_id: &str,
    eservice_id: &str,
    descriptor_id: &str,
) -> Result<Descriptor, InteropError> {
    let (mut tx, all) = locked_versions(db, env, producer_id, eservice_id).await?;
    let draft = version_of(&all, descriptor_id)?;
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
    let has_interface: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM interop_documents WHERE descriptor_id = $1 AND kind = 'INTERFACE'",
    )
    .bind(descriptor_id)
    .fetch_one(&mut *tx)
    .await?;
    let personal_data: Option<i64> =
        sqlx::query_scalar("SELECT personal_data FROM interop_eservices WHERE id = $1")
            .bind(eservice_id)
            .fetch_one(&mut *tx)
            .await?;
    let plan = descriptor::publish(
        &DescriptorFacts {
            state: draft.state_value,
            has_interface: has_interface > 0,
            personal_data: personal_data.map(|v| v != 0),
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
    refresh_in_catalogue(&mut tx, eservice_id).await?;
    let by = notices::By {
        institution_id: producer_id,
        user_id,
    };
    let details = version_details(&mut tx, env, eservice_id, &draft.version).await?;
    notices::record(
        &mut tx,
        by,
        "interop.descriptor.published",
        descriptor_id,
        details,
    )
    .await?;
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
    user_id: &str,
    eservice_id: &str,
    descriptor_id: &str,
    suspend: bool,
) -> Result<Descriptor, InteropError> {
    let (mut tx, all) = locked_versions(db, env, producer_id, eservice_id).await?;
    let d = version_of(&all, descriptor_id)?;
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
    refresh_in_catalogue(&mut tx, eservice_id).await?;
    let by = notices::By {
        institution_id: producer_id,
        user_id,
    };
    let details = version_details(&mut tx, env, eservice_id, &d.version).await?;
    let action = if suspend {
        "interop.descriptor.suspended"
    } else {
        "interop.descriptor.reactivated"
    };
    notices::record(&mut tx, by, action, descriptor_id, details).await?;
    tx.commit().await?;
    own(db, env, producer_id, eservice_id)
        .await?
        .descriptor(descriptor_id)
        .cloned()
        .ok_or(InteropError::NotFound)
}

/// What changes in a version consumers use.
pub enum InPlace {
    /// The voucher's lifespan and the daily calls.
    Limits(descriptor::PublishedUpdate),
    /// How new requests are approved.
    Policy(AgreementApprovalPolicy),
}

/// Changes a published (suspended, deprecated) version in place.
pub async fn update_in_place(
    db: &Db,
    env: Environment,
    by: By<'_>,
    eservice_id: &str,
    descriptor_id: &str,
    change: &InPlace,
) -> Result<Descriptor, InteropError> {
    let producer_id = by.institution_id;
    let (mut tx, all) = locked_versions(db, env, producer_id, eservice_id).await?;
    let d = version_of(&all, descriptor_id)?;
    descriptor::update_published(d.state_value)?;
    match change {
        InPlace::Limits(u) => {
            sqlx::query(
                "UPDATE interop_descriptors SET voucher_lifespan = $1, \
                 daily_calls_per_consumer = $2, daily_calls_total = $3 WHERE id = $4",
            )
            .bind(u.voucher_lifespan)
            .bind(u.daily_calls_per_consumer)
            .bind(u.daily_calls_total)
            .bind(descriptor_id)
            .execute(&mut *tx)
            .await?;
        }
        InPlace::Policy(p) => {
            sqlx::query(
                "UPDATE interop_descriptors SET agreement_approval_policy = $1 WHERE id = $2",
            )
            .bind(p.as_str())
            .bind(descriptor_id)
            .execute(&mut *tx)
            .await?;
        }
    }
    let details = version_details(&mut tx, env, eservice_id, &d.version).await?;
    notices::record(
        &mut tx,
        by,
        "interop.descriptor.updated",
        descriptor_id,
        details,
    )
    .await?;
    tx.commit().await?;
    own(db, env, producer_id, eservice_id)
        .await?
        .descriptor(descriptor_id)
        .cloned()
        .ok_or(InteropError::NotFound)
}
