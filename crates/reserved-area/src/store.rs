//! The Reserved Area's SQL: institutions, onboardings, people, roles, platform operators.

use platform::db::{Db, now_millis};
use sqlx::{Any, Executor, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    pub id: String,
    pub description: String,
    pub tax_code: String,
    pub origin: String,
    pub origin_id: String,
    pub institution_type: String,
    pub digital_address: String,
    pub address: String,
    pub zip_code: String,
    pub city: String,
    pub county: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub fiscal_code: String,
    pub name: String,
    pub family_name: String,
}

/// One role of a person on one product of one institution, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub institution_id: String,
    pub product_id: String,
    pub party_role: String,
    pub product_role: String,
    pub status: String,
}

const INSTITUTION_COLUMNS: &str = "id, description, tax_code, origin, origin_id, institution_type, \
     digital_address, address, zip_code, city, county, created_at, updated_at";

fn institution_from(row: &sqlx::any::AnyRow) -> Result<Institution, sqlx::Error> {
    Ok(Institution {
        id: row.try_get("id")?,
        description: row.try_get("description")?,
        tax_code: row.try_get("tax_code")?,
        origin: row.try_get("origin")?,
        origin_id: row.try_get("origin_id")?,
        institution_type: row.try_get("institution_type")?,
        digital_address: row.try_get("digital_address")?,
        address: row.try_get("address")?,
        zip_code: row.try_get("zip_code")?,
        city: row.try_get("city")?,
        county: row.try_get("county")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn institution(db: &Db, id: &str) -> Result<Option<Institution>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(institution_from).transpose()
}

pub async fn institution_by_tax_code<'e, E>(
    executor: E,
    tax_code: &str,
) -> Result<Option<Institution>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE tax_code = $1"
    ))
    .bind(tax_code)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(institution_from).transpose()
}

/// The institutions where the person holds any role (of any status), by name.
pub async fn institutions_of_user(db: &Db, user_id: &str) -> Result<Vec<Institution>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id IN \
         (SELECT DISTINCT institution_id FROM product_roles WHERE user_id = $1) \
         ORDER BY description"
    ))
    .bind(user_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(institution_from).collect()
}

/// Every role of the person, on every institution.
pub async fn roles_of_user(db: &Db, user_id: &str) -> Result<Vec<RoleRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT institution_id, product_id, party_role, product_role, status \
         FROM product_roles WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RoleRow {
                institution_id: r.try_get("institution_id")?,
                product_id: r.try_get("product_id")?,
                party_role: r.try_get("party_role")?,
                product_role: r.try_get("product_role")?,
                status: r.try_get("status")?,
            })
        })
        .collect()
}

/// `(product_id, status)` of every onboarding of the institution.
pub async fn onboardings(
    db: &Db,
    institution_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT product_id, status FROM onboardings WHERE institution_id = $1 ORDER BY product_id",
    )
    .bind(institution_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("product_id")?, r.try_get("status")?)))
        .collect()
}

pub async fn email_of(
    db: &Db,
    user_id: &str,
    institution_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT email FROM user_institutions WHERE user_id = $1 AND institution_id = $2",
    )
    .bind(user_id)
    .bind(institution_id)
    .fetch_optional(db.reader())
    .await
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
    row.map(|r| {
        Ok(User {
            id: r.try_get("id")?,
            fiscal_code: r.try_get("fiscal_code")?,
            name: r.try_get("name")?,
            family_name: r.try_get("family_name")?,
        })
    })
    .transpose()
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

/// Fields of a new institution.
#[derive(Debug, Clone)]
pub struct NewInstitution {
    pub description: String,
    pub tax_code: String,
    pub origin: String,
    pub origin_id: String,
    pub institution_type: String,
    pub digital_address: String,
    pub address: String,
    pub zip_code: String,
    pub city: String,
    pub county: String,
}

/// Adds an institution, or returns the one with the same tax code.
pub async fn upsert_institution(
    tx: &mut Transaction<'static, Any>,
    new: &NewInstitution,
) -> Result<Institution, sqlx::Error> {
    if let Some(found) = institution_by_tax_code(&mut **tx, &new.tax_code).await? {
        return Ok(found);
    }
    let now = now_millis();
    sqlx::query(&format!(
        "INSERT INTO institutions ({INSTITUTION_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)"
    ))
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&new.description)
    .bind(&new.tax_code)
    .bind(&new.origin)
    .bind(&new.origin_id)
    .bind(&new.institution_type)
    .bind(&new.digital_address)
    .bind(&new.address)
    .bind(&new.zip_code)
    .bind(&new.city)
    .bind(&new.county)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    institution_by_tax_code(&mut **tx, &new.tax_code)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

pub async fn set_onboarding(
    tx: &mut Transaction<'static, Any>,
    institution_id: &str,
    product_id: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO onboardings (institution_id, product_id, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (institution_id, product_id) \
         DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
    )
    .bind(institution_id)
    .bind(product_id)
    .bind(status)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_email(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    institution_id: &str,
    email: &str,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO user_institutions (user_id, institution_id, email, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (user_id, institution_id) \
         DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(institution_id)
    .bind(email)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Gives a role; an existing row for the same product role is left as it is.
pub async fn add_role(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    institution_id: &str,
    product_id: &str,
    party_role: &str,
    product_role: &str,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO product_roles (id, user_id, institution_id, product_id, party_role, \
         product_role, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'ACTIVE', $7, $7) \
         ON CONFLICT (user_id, institution_id, product_id, product_role) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(user_id)
    .bind(institution_id)
    .bind(product_id)
    .bind(party_role)
    .bind(product_role)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
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

/// A person of an institution, with their work email there and their roles on it.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    pub email: String,
    pub roles: Vec<RoleRow>,
}

/// The people with a role (any status but DELETED) on the institution, by family name.
pub async fn members(db: &Db, institution_id: &str) -> Result<Vec<Member>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT u.id, u.fiscal_code, u.name, u.family_name, COALESCE(ui.email, '') AS email, \
         r.product_id, r.party_role, r.product_role, r.status \
         FROM product_roles r JOIN users u ON u.id = r.user_id \
         LEFT JOIN user_institutions ui ON ui.user_id = r.user_id AND ui.institution_id = r.institution_id \
         WHERE r.institution_id = $1 AND r.status <> 'DELETED' \
         ORDER BY u.family_name, u.name, u.id, r.product_id, r.product_role",
    )
    .bind(institution_id)
    .fetch_all(db.reader())
    .await?;
    let mut out: Vec<Member> = Vec::new();
    for r in rows {
        let id: String = r.try_get("id")?;
        let role = RoleRow {
            institution_id: institution_id.to_string(),
            product_id: r.try_get("product_id")?,
            party_role: r.try_get("party_role")?,
            product_role: r.try_get("product_role")?,
            status: r.try_get("status")?,
        };
        match out.last_mut() {
            Some(last) if last.user.id == id => last.roles.push(role),
            _ => out.push(Member {
                user: User {
                    id,
                    fiscal_code: r.try_get("fiscal_code")?,
                    name: r.try_get("name")?,
                    family_name: r.try_get("family_name")?,
                },
                email: r.try_get("email")?,
                roles: vec![role],
            }),
        }
    }
    Ok(out)
}

/// Sets the status of a person's roles on a product (all, or the one `product_role`), in the
/// caller's transaction; returns how many rows changed.
pub async fn set_role_status(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    institution_id: &str,
    product_id: &str,
    product_role: Option<&str>,
    from: &[&str],
    to: &str,
) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    for status in from {
        let done = sqlx::query(
            "UPDATE product_roles SET status = $1, updated_at = $2 \
             WHERE user_id = $3 AND institution_id = $4 AND product_id = $5 AND status = $6 \
             AND ($7 = '' OR product_role = $7)",
        )
        .bind(to)
        .bind(now_millis())
        .bind(user_id)
        .bind(institution_id)
        .bind(product_id)
        .bind(*status)
        .bind(product_role.unwrap_or(""))
        .execute(&mut **tx)
        .await?;
        changed += done.rows_affected();
    }
    Ok(changed)
}

/// Every role on one product of one institution, read in a write transaction (on PostgreSQL
/// the rows are locked until it ends, so concurrent role changes queue).
pub async fn roles_in_tx(
    tx: &mut Transaction<'static, Any>,
    institution_id: &str,
    product_id: &str,
) -> Result<Vec<(String, crate::model::Grant)>, sqlx::Error> {
    let lock = if tx.backend_name() == "PostgreSQL" {
        " FOR UPDATE"
    } else {
        ""
    };
    let rows = sqlx::query(&format!(
        "SELECT user_id, product_id, party_role, product_role, status FROM product_roles \
         WHERE institution_id = $1 AND product_id = $2{lock}"
    ))
    .bind(institution_id)
    .bind(product_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let (Ok(party_role), Ok(status)) = (
            r.try_get::<String, _>("party_role")?.parse(),
            r.try_get::<String, _>("status")?.parse(),
        ) else {
            continue;
        };
        out.push((
            r.try_get("user_id")?,
            crate::model::Grant {
                product_id: r.try_get("product_id")?,
                party_role,
                product_role: r.try_get("product_role")?,
                status,
            },
        ));
    }
    Ok(out)
}

/// One record of the audit trail, as the admins' page shows it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub action: String,
    pub actor: String,
    pub target: String,
    pub details: String,
    pub client_addr: String,
}

/// The institution's audit trail, newest first: `limit` records after skipping `offset`,
/// optionally only the actions starting with `action_prefix`.
pub async fn audit_trail(
    db: &Db,
    institution_id: &str,
    action_prefix: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.at, a.action, \
         COALESCE(u.name || ' ' || u.family_name, a.actor, '') AS actor, \
         COALESCE(t.name || ' ' || t.family_name, a.target, '') AS target, \
         a.details, COALESCE(a.client_addr, '') AS client_addr \
         FROM audit_log a \
         LEFT JOIN users u ON u.id = a.actor \
         LEFT JOIN users t ON t.id = a.target \
         WHERE a.institution_id = $1 AND a.action LIKE $2 \
         ORDER BY a.at DESC, a.id DESC LIMIT $3 OFFSET $4",
    )
    .bind(institution_id)
    .bind(format!("{}%", action_prefix.replace(['%', '_'], "")))
    .bind(limit)
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                at: r.try_get("at")?,
                action: r.try_get("action")?,
                actor: r.try_get("actor")?,
                target: r.try_get("target")?,
                details: r.try_get("details")?,
                client_addr: r.try_get("client_addr")?,
            })
        })
        .collect()
}
