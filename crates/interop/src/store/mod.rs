//! Interoperability's SQL. Every query names its environment: nothing of one environment is
//! read or written by the other.

use platform::backoffice::BackOfficeSession;
use platform::db::{Db, now_millis};
use serde::Serialize;
use sqlx::Row;

use crate::error::InteropError;
use crate::model::{Environment, Role};

pub mod agreements;
pub mod attributes;
pub mod catalogue;
pub mod clients;
pub mod documents;
pub mod ipa;
pub mod notices;
mod plans;
pub mod purposes;
pub mod tokens;

pub use plans::list_statements;

/// The window of a list a request reads: `limit` rows after the first `offset`, in the
/// database (`LIMIT $n OFFSET $m`), with an index range behind the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: i64,
    pub offset: i64,
}

impl Window {
    /// The most rows a window holds (as the real platform's API).
    pub const MAX_LIMIT: i64 = 100;
    /// The last row a window may start at: an offset is read through, so it is bounded.
    pub const MAX_OFFSET: i64 = 100_000;
    /// The rows of a window when none is asked for.
    pub const DEFAULT_LIMIT: i64 = 50;

    /// A window within the bounds (the API refuses a value outside them before this).
    pub fn new(limit: i64, offset: i64) -> Self {
        Window {
            limit: limit.clamp(1, Self::MAX_LIMIT),
            offset: offset.clamp(0, Self::MAX_OFFSET),
        }
    }

    /// The page `number` (from 1) of `size` rows.
    pub fn page(number: i64, size: i64) -> Self {
        let size = size.clamp(1, Self::MAX_LIMIT);
        Window::new(size, number.max(1).saturating_sub(1).saturating_mul(size))
    }

    /// The first window: what the pages that pick among a short list show.
    pub fn first() -> Self {
        Window::new(Self::MAX_LIMIT, 0)
    }
}

/// One window of a list and how many rows the whole list has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    pub results: Vec<T>,
    pub total_count: i64,
}

impl<T> Paged<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            results: self.results.into_iter().map(f).collect(),
            total_count: self.total_count,
        }
    }
}

/// The number a `SELECT COUNT(*)` statement answers.
pub(crate) async fn count(db: &Db, sql: &str, binds: &[&str]) -> Result<i64, sqlx::Error> {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_one(db.reader()).await
}

/// A new id: a random UUID, as on the real platform (purposes and clients are named by UUIDs in
/// client assertions).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("interop: stored {what} cannot be read"))
}

pub(crate) fn lock(db: &Db, alias: &str) -> String {
    match db.dialect() {
        platform::db::Dialect::Postgres => format!(" FOR UPDATE OF {alias}"),
        platform::db::Dialect::Sqlite => String::new(),
    }
}

/// The records two institutions share, a consumer and a producer (agreements, purposes):
/// their columns, their tables and the alias of the one with `env`, `id`, `consumer_id` and
/// `producer_id`.
pub(crate) struct Shared {
    pub columns: &'static str,
    pub from: &'static str,
    pub alias: &'static str,
    /// The table of the record itself (the totals read it alone).
    pub table: &'static str,
}

/// A side of a record two institutions share: the caller's institution as the consumer or as
/// the producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Consumer,
    Producer,
}

impl Side {
    pub fn of(as_producer: bool) -> Self {
        if as_producer {
            Side::Producer
        } else {
            Side::Consumer
        }
    }

    fn column(self) -> &'static str {
        match self {
            Side::Consumer => "consumer_id",
            Side::Producer => "producer_id",
        }
    }
}

impl Shared {
    /// The record `id` when the caller's institution is a party to it.
    pub async fn one(
        &self,
        db: &Db,
        env: Environment,
        caller: &str,
        id: &str,
    ) -> Result<Option<sqlx::any::AnyRow>, sqlx::Error> {
        self.party(db.reader(), env, caller, id, "").await
    }

    /// The record `id` when the caller's institution is a party to it, locked for the rest of
    /// the transaction (on PostgreSQL; SQLite's writer is one at a time).
    pub async fn locked(
        &self,
        db: &Db,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        env: Environment,
        caller: &str,
        id: &str,
    ) -> Result<Option<sqlx::any::AnyRow>, sqlx::Error> {
        self.party(&mut **tx, env, caller, id, &lock(db, self.alias))
            .await
    }

    /// The record `id` when the caller's institution is a party to it, `suffix` closing the
    /// query (a lock, or nothing).
    async fn party<'e, E>(
        &self,
        executor: E,
        env: Environment,
        caller: &str,
        id: &str,
        suffix: &str,
    ) -> Result<Option<sqlx::any::AnyRow>, sqlx::Error>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let Shared {
            columns,
            from,
            alias: t,
            ..
        } = self;
        sqlx::query(&format!(
            "SELECT {columns} FROM {from} WHERE {t}.env = $1 AND {t}.id = $2 \
             AND ({t}.consumer_id = $3 OR {t}.producer_id = $3){suffix}"
        ))
        .bind(env.as_str())
        .bind(id)
        .bind(caller)
        .fetch_optional(executor)
        .await
    }

    /// The statement of the records of one side, newest first: `$1` the environment, `$2`
    /// the institution (an index on `(env, <side>, updated_at, id)` answers it).
    fn side_sql(&self, side: Side) -> String {
        let Shared {
            columns,
            from,
            alias: t,
            ..
        } = self;
        let side = side.column();
        format!(
            "SELECT {columns} FROM {from} WHERE {t}.env = $1 AND {t}.{side} = $2 \
             ORDER BY {t}.updated_at DESC, {t}.id DESC"
        )
    }

    /// The statement of a window of the records of one side, newest first: `$1` the
    /// environment, `$2` the institution, `$3` the limit, `$4` the offset.
    pub fn page_sql(&self, side: Side) -> String {
        format!("{} LIMIT $3 OFFSET $4", self.side_sql(side))
    }

    /// The statement of how many records a side has: `$1` the environment, `$2` the
    /// institution.
    pub fn count_sql(&self, side: Side) -> String {
        let Shared {
            alias: t, table, ..
        } = self;
        let side = side.column();
        format!("SELECT COUNT(*) FROM {table} {t} WHERE {t}.env = $1 AND {t}.{side} = $2")
    }

    /// A window of the records of the institution on `side`, newest first, and their total.
    pub async fn of_side(
        &self,
        db: &Db,
        env: Environment,
        institution_id: &str,
        side: Side,
        window: Window,
    ) -> Result<(Vec<sqlx::any::AnyRow>, i64), sqlx::Error> {
        let rows = sqlx::query(&self.page_sql(side))
            .bind(env.as_str())
            .bind(institution_id)
            .bind(window.limit)
            .bind(window.offset)
            .fetch_all(db.reader())
            .await?;
        let total = count(db, &self.count_sql(side), &[env.as_str(), institution_id]).await?;
        Ok((rows, total))
    }

    /// Every record of the institution on `side`, newest first (the pages that pick among
    /// an institution's own agreements and purposes; an index range all the same).
    pub async fn all_of_side(
        &self,
        db: &Db,
        env: Environment,
        institution_id: &str,
        side: Side,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        sqlx::query(&self.side_sql(side))
            .bind(env.as_str())
            .bind(institution_id)
            .fetch_all(db.reader())
            .await
    }
}

/// The institution a caller works for, as its identity token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub institution_id: String,
    pub name: String,
    pub fiscal_code: String,
}

/// A person who entered the environment for an institution, with the roles of their latest
/// entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropPerson)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub user_id: String,
    pub name: String,
    pub family_name: String,
    pub roles: Vec<String>,
    pub entered_at: i64,
}

/// Records the person and their institution at each entry (roles as of this entry).
pub async fn record_entry(
    db: &Db,
    env: Environment,
    tenant: &Tenant,
    session: &BackOfficeSession,
    roles: &[Role],
) -> Result<(), InteropError> {
    let now = now_millis();
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let mut tx = db.begin().await?;
    know_institution(&mut tx, db, env, tenant, now).await?;
    sqlx::query(
        "INSERT INTO interop_people (env, institution_id, user_id, name, family_name, roles, \
         entered_at, email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (env, institution_id, user_id) DO UPDATE SET name = excluded.name, \
         family_name = excluded.family_name, roles = excluded.roles, \
         entered_at = excluded.entered_at, email = excluded.email",
    )
    .bind(env.as_str())
    .bind(&tenant.institution_id)
    .bind(&session.claims.sub)
    .bind(&session.claims.name)
    .bind(&session.claims.family_name)
    .bind(roles.join(","))
    .bind(now)
    .bind(session.claims.email.as_deref())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records (or refreshes) an institution of the environment, as its token (or the demo) names
/// it.
pub async fn upsert_institution(
    db: &Db,
    env: Environment,
    tenant: &Tenant,
) -> Result<(), InteropError> {
    let mut tx = db.begin().await?;
    know_institution(&mut tx, db, env, tenant, now_millis()).await?;
    tx.commit().await?;
    Ok(())
}

/// Records (or refreshes) the institution and, the first time, gives it the certified
/// attributes of the last IPA import, in the caller's transaction.
pub(crate) async fn know_institution(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    db: &Db,
    env: Environment,
    tenant: &Tenant,
    now: i64,
) -> Result<(), sqlx::Error> {
    write_institution(&mut **tx, env, tenant, now).await?;
    ipa::sync(tx, db, env, &tenant.institution_id, &tenant.fiscal_code).await
}

async fn write_institution<'e, E>(
    executor: E,
    env: Environment,
    tenant: &Tenant,
    now: i64,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO interop_institutions (env, id, name, fiscal_code, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (env, id) DO UPDATE SET name = excluded.name, \
         fiscal_code = excluded.fiscal_code, updated_at = excluded.updated_at",
    )
    .bind(env.as_str())
    .bind(&tenant.institution_id)
    .bind(&tenant.name)
    .bind(&tenant.fiscal_code)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// The people of an institution, by name: `$1` the environment, `$2` the institution (the
/// index `interop_people_by_name` answers it).
const PEOPLE: &str = "SELECT user_id, name, family_name, roles, entered_at \
    FROM interop_people WHERE env = $1 AND institution_id = $2 \
    ORDER BY family_name, name, user_id";

/// The statement of a window of the people of an institution: `$3` the limit, `$4` the
/// offset.
pub fn people_page_sql() -> String {
    format!("{PEOPLE} LIMIT $3 OFFSET $4")
}

/// How many people an institution has: `$1` the environment, `$2` the institution.
pub const PEOPLE_COUNT: &str =
    "SELECT COUNT(*) FROM interop_people WHERE env = $1 AND institution_id = $2";

fn person(r: &sqlx::any::AnyRow) -> Result<Person, sqlx::Error> {
    let roles: String = r.try_get("roles")?;
    Ok(Person {
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        family_name: r.try_get("family_name")?,
        roles: role_list(&roles),
        entered_at: r.try_get("entered_at")?,
    })
}

/// A window of the people who entered the environment for the institution, by name.
pub async fn people_page(
    db: &Db,
    env: Environment,
    institution_id: &str,
    window: Window,
) -> Result<Paged<Person>, InteropError> {
    let rows = sqlx::query(&people_page_sql())
        .bind(env.as_str())
        .bind(institution_id)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(db.reader())
        .await?;
    let results = rows.iter().map(person).collect::<Result<Vec<_>, _>>()?;
    let total_count = count(db, PEOPLE_COUNT, &[env.as_str(), institution_id]).await?;
    Ok(Paged {
        results,
        total_count,
    })
}

/// Every person of the institution, by name (the pages that pick a client's members; an
/// index range all the same).
pub async fn people(
    db: &Db,
    env: Environment,
    institution_id: &str,
) -> Result<Vec<Person>, InteropError> {
    let rows = sqlx::query(PEOPLE)
        .bind(env.as_str())
        .bind(institution_id)
        .fetch_all(db.reader())
        .await?;
    Ok(rows.iter().map(person).collect::<Result<Vec<_>, _>>()?)
}

/// The roles stored as one comma-separated column.
pub(crate) fn role_list(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The id of an institution of the environment named by its id or its tax code.
pub async fn institution_id(
    db: &Db,
    env: Environment,
    id_or_tax_code: &str,
) -> Result<Option<String>, InteropError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM interop_institutions WHERE env = $1 AND (id = $2 OR fiscal_code = $2) \
         ORDER BY id LIMIT 1",
    )
    .bind(env.as_str())
    .bind(id_or_tax_code.trim())
    .fetch_optional(db.reader())
    .await?)
}

/// An institution's name in the environment (producers shown in the catalogue).
pub async fn institution_name(
    db: &Db,
    env: Environment,
    id: &str,
) -> Result<Option<String>, InteropError> {
    Ok(
        sqlx::query_scalar("SELECT name FROM interop_institutions WHERE env = $1 AND id = $2")
            .bind(env.as_str())
            .bind(id)
            .fetch_optional(db.reader())
            .await?,
    )
}
