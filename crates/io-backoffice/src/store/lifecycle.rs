//! The lifecycle and publication changes of a service, and the review queue: each change
//! one transaction that reads the row, applies the rule of `model` and writes the new state
//! with its history record.

use platform::db::{Db, now_millis};
use sqlx::{Any, Transaction};

use super::services::{SERVICE_COLUMNS, SERVICE_FROM, ServiceRow, service_row};
use super::{Tenant, lock, to_json};
use crate::error::IoError;
use crate::model::{self, Action, Lifecycle, Publication, ReviewOutcome, ServiceData};

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
pub(crate) async fn locked(
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

/// One change of a service inside its transaction: who makes it and when. Every write of the
/// lifecycle or of the publication goes with its history record.
pub(crate) struct Change<'t> {
    pub(crate) tx: &'t mut Transaction<'static, Any>,
    id: &'t str,
    actor: &'t str,
    pub(crate) now: i64,
}

/// The actor of a change that writes no history record (a note for the reviewer, a logo).
pub(crate) const NO_HISTORY: &str = "";

impl<'t> Change<'t> {
    pub(crate) fn new(
        tx: &'t mut Transaction<'static, Any>,
        id: &'t str,
        actor: &'t str,
        now: i64,
    ) -> Self {
        Change { tx, id, actor, now }
    }

    /// Writes the lifecycle part of the row (status, reason, data, version) and its history
    /// record.
    pub(crate) async fn lifecycle(
        &mut self,
        to: Lifecycle,
        reason: Option<&str>,
        data: &ServiceData,
        version: i64,
    ) -> Result<(), IoError> {
        let approved = to == Lifecycle::Approved;
        sqlx::query(
            "UPDATE io_services SET status = $1, status_reason = $2, data = $3, version = $4, \
             updated_at = $5, \
             approved_data = CASE WHEN $6 = 1 THEN $3 ELSE approved_data END, \
             approved_version = CASE WHEN $6 = 1 THEN $4 ELSE approved_version END, \
             search_key = $8 \
             WHERE id = $7",
        )
        .bind(to.as_str())
        .bind(reason)
        .bind(to_json(data)?)
        .bind(version)
        .bind(self.now)
        .bind(i64::from(approved))
        .bind(self.id)
        .bind(super::services::search_key(data))
        .execute(&mut **self.tx)
        .await?;
        self.history("lifecycle", to.as_str(), reason, version, data)
            .await
    }

    /// Writes the publication part of the row (what the app shows, from which version) and its
    /// history record.
    pub(crate) async fn publication(
        &mut self,
        to: Publication,
        published: &ServiceData,
        published_version: i64,
        version: i64,
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
        .bind(self.now)
        .bind(version)
        .bind(self.id)
        .execute(&mut **self.tx)
        .await?;
        self.history("publication", to.as_str(), None, version, published)
            .await
    }

    /// One history record of the service.
    pub(crate) async fn history(
        &mut self,
        kind: &str,
        status: &str,
        reason: Option<&str>,
        version: i64,
        data: &ServiceData,
    ) -> Result<(), IoError> {
        sqlx::query(
            "INSERT INTO io_service_history (service_id, kind, status, reason, version, data, \
             actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(self.id)
        .bind(kind)
        .bind(status)
        .bind(reason)
        .bind(version)
        .bind(to_json(data)?)
        .bind(self.actor)
        .bind(self.now)
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }
}

/// Runs `work` on the service `id` read and locked ([`locked`]) in a transaction of its own,
/// committed when `work` succeeds (nothing is written when it fails).
pub(crate) async fn change<T>(
    db: &Db,
    scope: Scope<'_>,
    id: &str,
    actor: &str,
    work: impl AsyncFnOnce(&mut Change<'_>, &ServiceRow) -> Result<T, IoError>,
) -> Result<T, IoError> {
    let mut tx = db.begin().await?;
    let (row, now) = locked(db, &mut tx, scope, id).await?;
    let out = work(&mut Change::new(&mut tx, &row.id, actor, now), &row).await?;
    tx.commit().await?;
    Ok(out)
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
    let scope = Scope::Institution(&tenant.institution_id);
    change(db, scope, id, actor, async |c, row| {
        model::next(row.status, Action::Submit)?;
        let duplicate: Option<String> = sqlx::query_scalar(
            "SELECT id FROM io_services WHERE institution_id = $1 AND id <> $2 \
             AND status <> 'deleted' AND publication = 'published' AND published_name_key = $3 \
             LIMIT 1",
        )
        .bind(&row.institution_id)
        .bind(&row.id)
        .bind(row.data.name_key())
        .fetch_optional(&mut **c.tx)
        .await?;
        let published = row.published_data.as_ref().filter(|_| row.is_published());
        let outcome = model::review(&row.data, published, duplicate.is_some());
        let version = row.version + 1;
        c.lifecycle(Lifecycle::Submitted, None, &row.data, version)
            .await?;
        sqlx::query("UPDATE io_services SET auto_publish = $1, submitted_at = $2 WHERE id = $3")
            .bind(i64::from(auto_publish))
            .bind(c.now)
            .bind(&row.id)
            .execute(&mut **c.tx)
            .await?;
        // The automatic decisions are the review's.
        let mut c = Change::new(&mut *c.tx, &row.id, "review", c.now);
        match outcome {
            ReviewOutcome::Manual => Ok(()),
            ReviewOutcome::Reject(reason) => {
                let to = Lifecycle::Rejected;
                c.lifecycle(to, Some(&reason), &row.data, version + 1).await
            }
            ReviewOutcome::AutoApprove => approved(&mut c, row, version + 1, auto_publish).await,
        }
    })
    .await
}

/// Approves `row` as version `version` and, when it asked to be, publishes it at once.
async fn approved(
    c: &mut Change<'_>,
    row: &ServiceRow,
    version: i64,
    publish: bool,
) -> Result<(), IoError> {
    c.lifecycle(Lifecycle::Approved, None, &row.data, version)
        .await?;
    if publish {
        let to = Publication::Published;
        c.publication(to, &row.data, version, version + 1).await?;
    }
    Ok(())
}

/// Withdraws a submission: back to draft.
pub async fn abort(db: &Db, tenant: &Tenant, id: &str, actor: &str) -> Result<(), IoError> {
    let scope = Scope::Institution(&tenant.institution_id);
    change(db, scope, id, actor, async |c, row| {
        let to = model::next(row.status, Action::Abort)?;
        c.lifecycle(to, None, &row.data, row.version + 1).await
    })
    .await
}

/// A platform operator approves a submitted service (published at once if it asked to be).
pub async fn approve(db: &Db, id: &str, actor: &str) -> Result<(), IoError> {
    change(db, Scope::Any, id, actor, async |c, row| {
        model::next(row.status, Action::Approve)?;
        approved(c, row, row.version + 1, row.auto_publish).await
    })
    .await
}

/// A platform operator rejects a submitted service, with the reason the institution sees.
pub async fn reject(db: &Db, id: &str, reason: &str, actor: &str) -> Result<(), IoError> {
    let reason = note("reason", reason, 1000, "say why the service is rejected")?;
    change(db, Scope::Any, id, actor, async |c, row| {
        let to = model::next(row.status, Action::Reject)?;
        c.lifecycle(to, Some(reason), &row.data, row.version + 1)
            .await
    })
    .await
}

/// A person's note (a reason, a comment) without its surrounding white space: refused when
/// empty (saying `when_empty`) or longer than `most` characters.
fn note<'a>(field: &str, text: &'a str, most: usize, when_empty: &str) -> Result<&'a str, IoError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(IoError::invalid(field, when_empty));
    }
    if text.chars().count() > most {
        let message = format!("must be at most {most} characters");
        return Err(IoError::invalid(field, message));
    }
    Ok(text)
}

/// Publishes the last approved version.
pub async fn release(db: &Db, tenant: &Tenant, id: &str, actor: &str) -> Result<(), IoError> {
    let scope = Scope::Institution(&tenant.institution_id);
    change(db, scope, id, actor, async |c, row| {
        model::release(&row.publication_state())?;
        let (Some(data), Some(av)) = (&row.approved_data, row.approved_version) else {
            return Err(IoError::Conflict(
                "the service has never been approved".into(),
            ));
        };
        let to = Publication::Published;
        c.publication(to, data, av, row.version + 1).await
    })
    .await
}

/// Takes the service off the app.
pub async fn unpublish(db: &Db, tenant: &Tenant, id: &str, actor: &str) -> Result<(), IoError> {
    let scope = Scope::Institution(&tenant.institution_id);
    change(db, scope, id, actor, async |c, row| {
        model::unpublish(&row.publication_state())?;
        let (Some(data), Some(pv)) = (&row.published_data, row.published_version) else {
            return Err(IoError::Conflict("the service is not published".into()));
        };
        let to = Publication::Unpublished;
        c.publication(to, data, pv, row.version + 1).await
    })
    .await
}

/// The institution's note to the reviewer (while submitted or rejected).
pub async fn explain(db: &Db, tenant: &Tenant, id: &str, comment: &str) -> Result<(), IoError> {
    let comment = note("comment", comment, 2000, "must not be empty")?;
    let scope = Scope::Institution(&tenant.institution_id);
    change(db, scope, id, NO_HISTORY, async |c, row| {
        if !matches!(row.status, Lifecycle::Submitted | Lifecycle::Rejected) {
            return Err(IoError::Conflict(format!(
                "an explanation is for a service under review or rejected; this one is {}",
                row.status.as_str()
            )));
        }
        sqlx::query("UPDATE io_services SET review_comment = $1, updated_at = $2 WHERE id = $3")
            .bind(comment)
            .bind(c.now)
            .bind(&row.id)
            .execute(&mut **c.tx)
            .await?;
        Ok(())
    })
    .await
}

const REVIEW_QUEUE_COUNT_SQL: &str = "SELECT COUNT(*) FROM io_services WHERE status = 'submitted'";

fn review_queue_sql() -> String {
    format!(
        "SELECT {SERVICE_COLUMNS} FROM {SERVICE_FROM} WHERE s.status = 'submitted' \
         ORDER BY s.submitted_at, s.id LIMIT $1 OFFSET $2"
    )
}

/// The statements of the review queue, as the store runs them, with sample values.
pub(super) fn review_list_statements() -> Vec<platform::db::plan::ListStatement> {
    use platform::db::plan::{Arg, ListStatement};
    vec![
        ListStatement::new(
            "io.review.page",
            review_queue_sql(),
            vec![Arg::Int(20), Arg::Int(1000)],
        )
        .paged(),
        ListStatement::new("io.review.count", REVIEW_QUEUE_COUNT_SQL, vec![]),
    ]
}

/// Submitted services of every institution, oldest submission first.
pub async fn review_queue(
    db: &Db,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ServiceRow>, i64), IoError> {
    let count: i64 = sqlx::query_scalar(REVIEW_QUEUE_COUNT_SQL)
        .fetch_one(db.reader())
        .await?;
    let rows = sqlx::query(&review_queue_sql())
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await?;
    Ok((
        rows.iter().map(service_row).collect::<Result<_, _>>()?,
        count,
    ))
}
