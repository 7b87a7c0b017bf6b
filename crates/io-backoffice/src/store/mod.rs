//! The IO back-office's SQL: each change is one transaction that reads the row (locked on
//! PostgreSQL; SQLite has a single writer), applies the rule of `model`, writes the new state
//! and its history record.

mod keys;
mod lifecycle;
mod services;

use platform::db::{Db, Dialect, now_millis};
use serde::Serialize;
use sqlx::Row;

use crate::error::IoError;
use crate::model::ServiceData;

pub use keys::*;
pub use lifecycle::*;
pub use services::*;

/// The institution a caller works for, as its identity token (or its key) says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub institution_id: String,
    pub name: String,
    pub fiscal_code: String,
}

pub(crate) fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("io: stored {what} cannot be read"))
}

pub(crate) fn document(text: Option<String>) -> Result<Option<ServiceData>, sqlx::Error> {
    text.map(|t| serde_json::from_str(&t).map_err(|_| corrupt("service document")))
        .transpose()
}

pub(crate) fn to_json(d: &ServiceData) -> Result<String, sqlx::Error> {
    serde_json::to_string(d).map_err(|e| sqlx::Error::Protocol(format!("io: {e}")))
}

pub(crate) fn lock(db: &Db) -> &'static str {
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

/// The statements of App IO's lists, as the store runs them, with sample values: the
/// query-plan tests (`tests/it/plans.rs`) check that an index answers each.
pub fn list_statements() -> Vec<platform::db::plan::ListStatement> {
    let mut out = services::service_list_statements();
    out.extend(lifecycle::review_list_statements());
    out.extend(crate::import::store::list_statements());
    out
}
