//! The lifecycle and publication changes of a service, and the review queue: each change
//! one transaction that reads the row, applies the rule of `model` and writes the new state
//! with its history record.

use platform::db::{Db, now_millis};
use sqlx::{Any, Transaction};

use super::services::{SERVICE_COLUMNS, SERVICE_FROM, ServiceRow, insert_history, service_row};
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

/// Writes the lifecycle part of a row (status, reason, data, version) and its history record.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn set_lifecycle(
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
pub(crate) async fn set_publication(
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
