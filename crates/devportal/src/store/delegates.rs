//! Delegates and their failed logins.

use super::*;

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
