//! The delegates' services and their keys.

use super::*;

/// A stored service with its keys. Its `Debug` does not show the keys.
#[derive(Clone)]
pub struct StoredService {
    pub id: String,
    pub delegate_id: String,
    pub service: LegacyService,
    pub visibility: Visibility,
    pub primary_key: String,
    pub secondary_key: String,
    pub frozen_at: Option<i64>,
    pub transferred_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for StoredService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredService")
            .field("id", &self.id)
            .field("delegate_id", &self.delegate_id)
            .field("service", &self.service)
            .field("visibility", &self.visibility)
            .field("keys", &"<redacted>")
            .field("frozen_at", &self.frozen_at)
            .field("transferred_at", &self.transferred_at)
            .finish()
    }
}

/// Where a service stands in the import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportState {
    pub frozen_at: Option<i64>,
    pub transferred_at: Option<i64>,
}

pub(super) const SERVICE_COLUMNS: &str = "id, delegate_id, data, visibility, primary_key, secondary_key, \
                               frozen_at, transferred_at, created_at, updated_at";

pub(super) fn service_from_row(r: &AnyRow) -> Result<StoredService, DevportalError> {
    let id: String = r.try_get("id")?;
    let data: String = r.try_get("data")?;
    let service: LegacyService = serde_json::from_str(&data)
        .map_err(|e| DevportalError::Corrupt(format!("service {id}: {e}")))?;
    let visibility: String = r.try_get("visibility")?;
    let visibility = Visibility::parse(&visibility)
        .ok_or_else(|| DevportalError::Corrupt(format!("service {id}: visibility {visibility}")))?;
    Ok(StoredService {
        delegate_id: r.try_get("delegate_id")?,
        service,
        visibility,
        primary_key: r.try_get("primary_key")?,
        secondary_key: r.try_get("secondary_key")?,
        frozen_at: r.try_get("frozen_at")?,
        transferred_at: r.try_get("transferred_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        id,
    })
}

pub(super) fn to_json(service: &LegacyService) -> Result<String, DevportalError> {
    serde_json::to_string(service).map_err(|e| DevportalError::Corrupt(e.to_string()))
}

/// Adds a service to a delegate, with two new keys; returns its id. The service is checked
/// against the portal's rules first.
pub async fn add_service(
    db: &Db,
    delegate_id: &str,
    service: &LegacyService,
    visibility: Visibility,
) -> Result<String, DevportalError> {
    let service = service.clone().checked().map_err(DevportalError::Invalid)?;
    let id = new_id()?;
    let now = now_millis();
    let mut tx = db.begin().await?;
    let delegate: Option<String> = sqlx::query_scalar("SELECT id FROM dp_delegates WHERE id = $1")
        .bind(delegate_id)
        .fetch_optional(&mut *tx)
        .await?;
    if delegate.is_none() {
        return Err(DevportalError::NotFound);
    }
    sqlx::query(
        "INSERT INTO dp_services (id, delegate_id, organization_fiscal_code, name, data, \
         visibility, primary_key, secondary_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(delegate_id)
    .bind(&service.organization.fiscal_code)
    .bind(&service.name)
    .bind(to_json(&service)?)
    .bind(visibility.as_str())
    .bind(new_api_key()?)
    .bind(new_api_key()?)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Any service by id, whatever its state (for tests and tools).
pub async fn service(db: &Db, id: &str) -> Result<Option<StoredService>, DevportalError> {
    let row = sqlx::query(&format!(
        "SELECT {SERVICE_COLUMNS} FROM dp_services WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(service_from_row).transpose()
}

/// Whether a service is frozen or transferred (none when it does not exist).
pub async fn import_state(db: &Db, id: &str) -> Result<Option<ImportState>, DevportalError> {
    let row = sqlx::query("SELECT frozen_at, transferred_at FROM dp_services WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(ImportState {
        frozen_at: r.try_get("frozen_at")?,
        transferred_at: r.try_get("transferred_at")?,
    }))
}

/// A delegate's services that are still theirs (not transferred), by name.
pub async fn delegate_services(
    db: &Db,
    delegate_id: &str,
) -> Result<Vec<StoredService>, DevportalError> {
    let rows = sqlx::query(&format!(
        "SELECT {SERVICE_COLUMNS} FROM dp_services \
         WHERE delegate_id = $1 AND transferred_at IS NULL"
    ))
    .bind(delegate_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = rows
        .iter()
        .map(service_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    // Sorted here: the two databases collate text differently.
    out.sort_by(|a, b| (&a.service.name, &a.id).cmp(&(&b.service.name, &b.id)));
    Ok(out)
}

/// One of a delegate's services, unless it is another's or transferred.
pub async fn delegate_service(
    db: &Db,
    delegate_id: &str,
    id: &str,
) -> Result<Option<StoredService>, DevportalError> {
    let row = sqlx::query(&format!(
        "SELECT {SERVICE_COLUMNS} FROM dp_services \
         WHERE id = $1 AND delegate_id = $2 AND transferred_at IS NULL"
    ))
    .bind(id)
    .bind(delegate_id)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(service_from_row).transpose()
}

/// A delegate's service that the import transferred to its institution: the institution's
/// name (as the service names it) and when. `None` when it is not theirs or not transferred.
pub async fn transferred(
    db: &Db,
    delegate_id: &str,
    id: &str,
) -> Result<Option<(String, i64)>, DevportalError> {
    Ok(service(db, id)
        .await?
        .filter(|s| s.delegate_id == delegate_id)
        .and_then(|s| Some((s.service.organization.name, s.transferred_at?))))
}

/// After a guarded UPDATE changed nothing: why not (gone or another's → not found; frozen).
pub(super) async fn refusal(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    delegate_id: &str,
    id: &str,
) -> Result<DevportalError, DevportalError> {
    let row = sqlx::query(
        "SELECT frozen_at, transferred_at FROM dp_services WHERE id = $1 AND delegate_id = $2",
    )
    .bind(id)
    .bind(delegate_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        None => DevportalError::NotFound,
        Some(r) => {
            let transferred: Option<i64> = r.try_get("transferred_at")?;
            if transferred.is_some() {
                DevportalError::NotFound
            } else {
                DevportalError::Frozen
            }
        }
    })
}

/// Runs `update`, an UPDATE of one of the delegate's services guarded by `frozen_at IS NULL`
/// whose last two parameters are the service's id and the delegate's; when it changes nothing,
/// says why.
async fn update_unfrozen<'q>(
    db: &Db,
    delegate_id: &'q str,
    id: &'q str,
    update: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<(), DevportalError> {
    let mut tx = db.begin().await?;
    let changed = update
        .bind(id)
        .bind(delegate_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(refusal(&mut tx, delegate_id, id).await?);
    }
    tx.commit().await?;
    Ok(())
}

/// The delegate's change of their service; refused once the import has frozen it.
pub async fn update_service(
    db: &Db,
    delegate_id: &str,
    id: &str,
    service: &LegacyService,
) -> Result<(), DevportalError> {
    let service = service.clone().checked().map_err(DevportalError::Invalid)?;
    let update = sqlx::query(
        "UPDATE dp_services SET organization_fiscal_code = $1, name = $2, data = $3, \
         updated_at = $4 WHERE id = $5 AND delegate_id = $6 AND frozen_at IS NULL",
    )
    .bind(&service.organization.fiscal_code)
    .bind(&service.name)
    .bind(to_json(&service)?)
    .bind(now_millis());
    update_unfrozen(db, delegate_id, id, update).await
}

/// A new value for one key of the delegate's service; refused once the import has frozen it.
pub async fn regenerate_key(
    db: &Db,
    delegate_id: &str,
    id: &str,
    kind: KeyKind,
) -> Result<String, DevportalError> {
    let key = new_api_key()?;
    let sql = match kind {
        KeyKind::Primary => {
            "UPDATE dp_services SET primary_key = $1, updated_at = $2 \
             WHERE id = $3 AND delegate_id = $4 AND frozen_at IS NULL"
        }
        KeyKind::Secondary => {
            "UPDATE dp_services SET secondary_key = $1, updated_at = $2 \
             WHERE id = $3 AND delegate_id = $4 AND frozen_at IS NULL"
        }
    };
    let update = sqlx::query(sql).bind(&key).bind(now_millis());
    update_unfrozen(db, delegate_id, id, update).await?;
    Ok(key)
}
