//! The portal's SQL, written once for SQLite and PostgreSQL. Every change of more than one
//! statement is a transaction; the state checks that guard a change (frozen, transferred) are
//! part of its `UPDATE ... WHERE`, so concurrent callers cannot slip between a read and a write.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use platform::db::{Db, now_millis};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::DevportalError;
use crate::model::{self, Delegate, KeyKind, LegacyService, OrgService, Visibility};

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> Result<String, DevportalError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| DevportalError::Random)?;
    Ok(hex(&bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 as hex: how session secrets are stored.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref())
}

/// A new API key: 16 random bytes as 32 lower-case hex characters (as the IO back-office's).
pub fn new_api_key() -> Result<String, DevportalError> {
    random_hex(16)
}

/// An argon2id hash (PHC string) of `password`, computed off the async threads.
pub async fn hash_password(password: &str) -> Result<String, DevportalError> {
    let password = password.to_string();
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| DevportalError::Random)?;
    tokio::task::spawn_blocking(move || {
        let salt =
            SaltString::encode_b64(&salt).map_err(|e| DevportalError::Hash(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| DevportalError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| DevportalError::Hash(e.to_string()))?
}

/// Whether `password` matches `hash` (argon2, off the async threads).
pub(crate) async fn verify_password(
    hash: String,
    password: String,
) -> Result<bool, DevportalError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| DevportalError::Hash(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| DevportalError::Hash(e.to_string()))?
}

fn new_id() -> Result<String, DevportalError> {
    platform::ids::new_ulid().map_err(|_| DevportalError::Random)
}

// ---------------------------------------------------------------------------------------------
// Delegates

/// Adds the delegate, or updates the one with the same email (any case); returns its id.
pub async fn add_delegate(
    db: &Db,
    email: &str,
    name: &str,
    surname: &str,
    password_hash: &str,
) -> Result<String, DevportalError> {
    let email = model::normalize_email(email);
    let mut errors = Vec::new();
    if let Err(e) = platform::types::Email::parse(&email) {
        errors.push(model::FieldError::new("email", e.to_string()));
    }
    for (field, value) in [("name", name), ("surname", surname)] {
        if value.trim().is_empty() {
            errors.push(model::FieldError::new(field, "Campo obbligatorio"));
        }
    }
    if !errors.is_empty() {
        return Err(DevportalError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO dp_delegates (id, email, name, surname, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (email) DO UPDATE SET name = excluded.name, surname = excluded.surname, \
         password_hash = excluded.password_hash",
    )
    .bind(new_id()?)
    .bind(&email)
    .bind(name.trim())
    .bind(surname.trim())
    .bind(password_hash)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    let id: String = sqlx::query_scalar("SELECT id FROM dp_delegates WHERE email = $1")
        .bind(&email)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// The id of the delegate with this email (any case).
pub async fn delegate_id_by_email(db: &Db, email: &str) -> Result<Option<String>, DevportalError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM dp_delegates WHERE email = $1")
            .bind(model::normalize_email(email))
            .fetch_optional(db.reader())
            .await?,
    )
}

/// What a login needs: the delegate's id and password hash.
pub(crate) async fn login_record(
    db: &Db,
    email: &str,
) -> Result<Option<(String, String)>, DevportalError> {
    let row = sqlx::query("SELECT id, password_hash FROM dp_delegates WHERE email = $1")
        .bind(email)
        .fetch_optional(db.reader())
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("id")?, r.try_get("password_hash")?)),
        None => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Login failures

/// Failures for `email` and from `client` since `since` (milliseconds).
pub(crate) async fn count_failures(
    db: &Db,
    email: &str,
    client: &str,
    since: i64,
) -> Result<(i64, i64), DevportalError> {
    let by_email: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM dp_login_failures WHERE email = $1 AND at > $2")
            .bind(email)
            .bind(since)
            .fetch_one(db.reader())
            .await?;
    let by_client: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM dp_login_failures WHERE client = $1 AND at > $2")
            .bind(client)
            .bind(since)
            .fetch_one(db.reader())
            .await?;
    Ok((by_email, by_client))
}

/// Records a failed login and forgets the failures older than the window.
pub(crate) async fn record_failure(
    db: &Db,
    email: &str,
    client: &str,
    window_millis: i64,
) -> Result<(), DevportalError> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM dp_login_failures WHERE at <= $1")
        .bind(now - window_millis)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO dp_login_failures (id, email, client, at) VALUES ($1, $2, $3, $4)")
        .bind(new_id()?)
        .bind(email)
        .bind(client)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// A logged-in delegate, found by the hash of their cookie's secret.
#[derive(Clone)]
pub(crate) struct SessionRow {
    pub secret_hash: String,
    pub delegate_id: String,
    pub csrf: String,
    pub name: String,
    pub surname: String,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash and the CSRF token are secrets too.
        f.debug_struct("SessionRow")
            .field("delegate_id", &self.delegate_id)
            .finish_non_exhaustive()
    }
}

/// A successful login: the failures of the email are forgotten, the session the browser had
/// (if any) ends, and a new one starts. Returns the new CSRF token.
pub(crate) async fn start_session(
    db: &Db,
    delegate_id: &str,
    email: &str,
    secret_hash: &str,
    previous_hash: Option<&str>,
    ttl_millis: i64,
) -> Result<String, DevportalError> {
    let csrf = random_hex(32)?;
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM dp_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if let Some(previous) = previous_hash {
        sqlx::query("DELETE FROM dp_sessions WHERE secret_hash = $1")
            .bind(previous)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM dp_login_failures WHERE email = $1")
        .bind(email)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO dp_sessions (secret_hash, delegate_id, csrf, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(secret_hash)
    .bind(delegate_id)
    .bind(&csrf)
    .bind(now)
    .bind(now + ttl_millis)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(csrf)
}

pub(crate) async fn find_session(
    db: &Db,
    secret_hash: &str,
) -> Result<Option<SessionRow>, DevportalError> {
    let row = sqlx::query(
        "SELECT s.secret_hash, s.delegate_id, s.csrf, d.name, d.surname \
         FROM dp_sessions s JOIN dp_delegates d ON d.id = s.delegate_id \
         WHERE s.secret_hash = $1 AND s.expires_at > $2",
    )
    .bind(secret_hash)
    .bind(now_millis())
    .fetch_optional(db.reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(SessionRow {
        secret_hash: r.try_get("secret_hash")?,
        delegate_id: r.try_get("delegate_id")?,
        csrf: r.try_get("csrf")?,
        name: r.try_get("name")?,
        surname: r.try_get("surname")?,
    }))
}

pub(crate) async fn end_session(db: &Db, secret_hash: &str) -> Result<(), DevportalError> {
    sqlx::query("DELETE FROM dp_sessions WHERE secret_hash = $1")
        .bind(secret_hash)
        .execute(db.writer())
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Services

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

const SERVICE_COLUMNS: &str = "id, delegate_id, data, visibility, primary_key, secondary_key, \
                               frozen_at, transferred_at, created_at, updated_at";

fn service_from_row(r: &AnyRow) -> Result<StoredService, DevportalError> {
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

fn to_json(service: &LegacyService) -> Result<String, DevportalError> {
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

/// After a guarded UPDATE changed nothing: why not (gone or another's → not found; frozen).
async fn refusal(
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

/// The delegate's change of their service; refused once the import has frozen it.
pub async fn update_service(
    db: &Db,
    delegate_id: &str,
    id: &str,
    service: &LegacyService,
) -> Result<(), DevportalError> {
    let service = service.clone().checked().map_err(DevportalError::Invalid)?;
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE dp_services SET organization_fiscal_code = $1, name = $2, data = $3, \
         updated_at = $4 WHERE id = $5 AND delegate_id = $6 AND frozen_at IS NULL",
    )
    .bind(&service.organization.fiscal_code)
    .bind(&service.name)
    .bind(to_json(&service)?)
    .bind(now_millis())
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
    let mut tx = db.begin().await?;
    let changed = sqlx::query(sql)
        .bind(&key)
        .bind(now_millis())
        .bind(id)
        .bind(delegate_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(refusal(&mut tx, delegate_id, id).await?);
    }
    tx.commit().await?;
    Ok(key)
}

// ---------------------------------------------------------------------------------------------
// The migration API

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
    sqlx::query(
        "UPDATE dp_services SET frozen_at = $1 WHERE id = $2 AND delegate_id = $3 \
         AND organization_fiscal_code = $4 AND frozen_at IS NULL",
    )
    .bind(now_millis())
    .bind(id)
    .bind(delegate_id)
    .bind(fc)
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {SERVICE_COLUMNS} FROM dp_services \
         WHERE id = $1 AND delegate_id = $2 AND organization_fiscal_code = $3"
    ))
    .bind(id)
    .bind(delegate_id)
    .bind(fc)
    .fetch_optional(&mut *tx)
    .await?;
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
    sqlx::query(
        "UPDATE dp_services SET transferred_at = $1 WHERE id = $2 AND delegate_id = $3 \
         AND organization_fiscal_code = $4 AND frozen_at IS NOT NULL AND transferred_at IS NULL",
    )
    .bind(now_millis())
    .bind(id)
    .bind(delegate_id)
    .bind(fc)
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query(
        "SELECT name, organization_fiscal_code, frozen_at, transferred_at FROM dp_services \
         WHERE id = $1 AND delegate_id = $2 AND organization_fiscal_code = $3",
    )
    .bind(id)
    .bind(delegate_id)
    .bind(fc)
    .fetch_optional(&mut *tx)
    .await?;
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
