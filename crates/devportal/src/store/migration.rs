//! The migration API's reads and its two steps, freeze and transfer.

use sqlx::{Any, Transaction};

use super::*;

/// Every service of the organization `fc` (of one delegate, when given), with its delegate
/// (the rules pick from these).
pub(crate) async fn organization_services(
    db: &Db,
    fc: &str,
    delegate_id: Option<&str>,
) -> Result<Vec<OrgService>, DevportalError> {
    // One delegate's services are an indexed read, not the whole organization.
    let sql = format!(
        "SELECT s.id, s.name, s.organization_fiscal_code, s.visibility, s.frozen_at, \
         s.transferred_at, d.id AS d_id, d.name AS d_name, d.surname AS d_surname, \
         d.email AS d_email \
         FROM dp_services s JOIN dp_delegates d ON d.id = s.delegate_id \
         WHERE s.organization_fiscal_code = $1{}",
        if delegate_id.is_some() {
            " AND s.delegate_id = $2"
        } else {
            ""
        }
    );
    let mut query = sqlx::query(&sql).bind(fc);
    if let Some(id) = delegate_id {
        query = query.bind(id);
    }
    let rows = query.fetch_all(db.reader()).await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let visibility: String = r.try_get("visibility")?;
            let frozen_at: Option<i64> = r.try_get("frozen_at")?;
            let transferred_at: Option<i64> = r.try_get("transferred_at")?;
            Ok(OrgService {
                visibility: Visibility::parse(&visibility).ok_or_else(|| {
                    DevportalError::Corrupt(format!("service {id}: visibility {visibility}"))
                })?,
                id,
                name: r.try_get("name")?,
                organization_fiscal_code: r.try_get("organization_fiscal_code")?,
                frozen: frozen_at.is_some(),
                transferred: transferred_at.is_some(),
                delegate: Delegate {
                    id: r.try_get("d_id")?,
                    name: r.try_get("d_name")?,
                    surname: r.try_get("d_surname")?,
                    email: r.try_get("d_email")?,
                },
            })
        })
        .collect()
}

/// A step of the migration: the column that records when it happened, and when it may happen.
struct Step {
    column: &'static str,
    guard: &'static str,
}

const FREEZE: Step = Step {
    column: "frozen_at",
    guard: "frozen_at IS NULL",
};

const TRANSFER: Step = Step {
    column: "transferred_at",
    guard: "frozen_at IS NOT NULL AND transferred_at IS NULL",
};

/// Takes `step` on the delegate's service `id` of the organization `fc` (when its guard holds),
/// then reads `columns` of the service, in `tx`.
async fn take_step(
    tx: &mut Transaction<'static, Any>,
    step: &Step,
    columns: &str,
    fc: &str,
    delegate_id: &str,
    id: &str,
) -> Result<Option<AnyRow>, DevportalError> {
    let Step { column, guard } = step;
    sqlx::query(&format!(
        "UPDATE dp_services SET {column} = $1 WHERE id = $2 AND delegate_id = $3 \
         AND organization_fiscal_code = $4 AND {guard}"
    ))
    .bind(now_millis())
    .bind(id)
    .bind(delegate_id)
    .bind(fc)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {columns} FROM dp_services \
         WHERE id = $1 AND delegate_id = $2 AND organization_fiscal_code = $3"
    ))
    .bind(id)
    .bind(delegate_id)
    .bind(fc)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row)
}

/// Freezes an importable service of `fc` owned by the delegate (once: later calls find it
/// frozen) and returns it as frozen. The UPDATE comes first so that it holds the row while the
/// rule is checked; a service that is not importable rolls it back.
pub(crate) async fn freeze(
    db: &Db,
    fc: &str,
    delegate_id: &str,
    id: &str,
) -> Result<StoredService, DevportalError> {
    let mut tx = db.begin().await?;
    let row = take_step(&mut tx, &FREEZE, SERVICE_COLUMNS, fc, delegate_id, id).await?;
    let service = match row.as_ref().map(service_from_row).transpose()? {
        Some(s)
            if model::is_importable(&s.service.name, &s.service.organization.fiscal_code, fc) =>
        {
            s
        }
        // Dropping the transaction rolls the freeze back.
        _ => return Err(DevportalError::NotFound),
    };
    tx.commit().await?;
    Ok(service)
}

/// Completes the transfer of a frozen service (once: later calls answer the first time).
pub(crate) async fn transfer(
    db: &Db,
    fc: &str,
    delegate_id: &str,
    id: &str,
) -> Result<i64, DevportalError> {
    let mut tx = db.begin().await?;
    let columns = "name, organization_fiscal_code, frozen_at, transferred_at";
    let row = take_step(&mut tx, &TRANSFER, columns, fc, delegate_id, id).await?;
    let Some(r) = row else {
        return Err(DevportalError::NotFound);
    };
    let name: String = r.try_get("name")?;
    let org: String = r.try_get("organization_fiscal_code")?;
    if !model::is_importable(&name, &org, fc) {
        return Err(DevportalError::NotFound);
    }
    let frozen_at: Option<i64> = r.try_get("frozen_at")?;
    let transferred_at: Option<i64> = r.try_get("transferred_at")?;
    match (frozen_at, transferred_at) {
        (_, Some(at)) => {
            tx.commit().await?;
            Ok(at)
        }
        (None, None) => Err(DevportalError::NotFrozen),
        // Frozen but the UPDATE above did not set it: cannot happen inside the transaction.
        (Some(_), None) => Err(DevportalError::Corrupt(format!(
            "service {id}: frozen, not transferred after the transfer"
        ))),
    }
}
