//! People: their identity, their work email per institution, platform operators.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct User {
    pub id: String,
    pub fiscal_code: String,
    pub name: String,
    pub family_name: String,
}

pub async fn email_of(
    db: &Db,
    user_id: &str,
    institution_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    static EMAIL: LazyLock<Sql> = LazyLock::new(|| {
        Sql::new("SELECT email FROM user_institutions WHERE user_id = $1 AND institution_id = $2")
    });
    let params = [Param::text(user_id), Param::text(institution_id)];
    let email = db
        .hot()
        .fetch_optional(&EMAIL, &params, |r| r.text_named("email"))
        .await?;
    Ok(email.flatten())
}

pub async fn user_by_fiscal_code<'e, E>(
    executor: E,
    fiscal_code: &str,
) -> Result<Option<User>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let row =
        sqlx::query("SELECT id, fiscal_code, name, family_name FROM users WHERE fiscal_code = $1")
            .bind(fiscal_code)
            .fetch_optional(executor)
            .await?;
    row.as_ref().map(User::from_row).transpose()
}

/// The person with this fiscal code, created when new. The name is kept as first recorded.
pub async fn upsert_user(
    tx: &mut Transaction<'static, Any>,
    fiscal_code: &str,
    name: &str,
    family_name: &str,
) -> Result<User, sqlx::Error> {
    if let Some(user) = user_by_fiscal_code(&mut **tx, fiscal_code).await? {
        return Ok(user);
    }
    let now = now_millis();
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO users (id, fiscal_code, name, family_name, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (fiscal_code) DO NOTHING",
    )
    .bind(&id)
    .bind(fiscal_code)
    .bind(name)
    .bind(family_name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    // Another login may have created the person meanwhile: read back what is stored.
    user_by_fiscal_code(&mut **tx, fiscal_code)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

pub async fn is_platform_operator(db: &Db, user_id: &str) -> Result<bool, sqlx::Error> {
    let hit: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM platform_operators WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(db.reader())
            .await?;
    Ok(hit.is_some())
}

/// Records the person's work email for the institution (putting them on its users list).
pub async fn set_email(
    tx: &mut Transaction<'static, Any>,
    user: &User,
    institution_id: &str,
    email: &str,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO user_institutions (user_id, institution_id, email, created_at, updated_at, \
         sort_key) VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (user_id, institution_id) \
         DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
    )
    .bind(&user.id)
    .bind(institution_id)
    .bind(email)
    .bind(now)
    .bind(member_key(user))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Puts the person on the institution's users list, with no work email, if not there yet.
pub(super) async fn join_institution(
    tx: &mut Transaction<'static, Any>,
    user: &User,
    institution_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_institutions (user_id, institution_id, email, created_at, updated_at, \
         sort_key) VALUES ($1, $2, '', $3, $3, $4) ON CONFLICT (user_id, institution_id) \
         DO NOTHING",
    )
    .bind(&user.id)
    .bind(institution_id)
    .bind(now)
    .bind(member_key(user))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) const UNKEYED_SQL: &str = "SELECT u.id, u.fiscal_code, u.name, u.family_name, \
     ui.institution_id FROM user_institutions ui JOIN users u ON u.id = ui.user_id \
     WHERE ui.sort_key = '' LIMIT 1000";

/// Gives every row of `user_institutions` that has none its [`member_key`] (the rows written
/// before the key existed), a batch at a time; returns how many it gave. Run at start.
pub async fn fill_member_keys(db: &Db) -> Result<u64, platform::db::DbError> {
    let mut filled = 0;
    loop {
        let rows = sqlx::query(UNKEYED_SQL).fetch_all(db.reader()).await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let mut tx = db.begin().await?;
        for r in &rows {
            let user = User::from_row(r)?;
            let institution_id: String = r.try_get("institution_id")?;
            sqlx::query(
                "UPDATE user_institutions SET sort_key = $1 \
                 WHERE user_id = $2 AND institution_id = $3",
            )
            .bind(member_key(&user))
            .bind(&user.id)
            .bind(&institution_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        filled += rows.len() as u64;
    }
}

pub async fn grant_operator(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO platform_operators (user_id, granted_at) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn revoke_operator(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM platform_operators WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
