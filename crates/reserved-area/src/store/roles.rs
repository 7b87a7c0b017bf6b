//! People's roles on the products of an institution.

use super::*;

/// One role of a person on one product of one institution, as stored.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct RoleRow {
    pub institution_id: String,
    pub product_id: String,
    pub party_role: String,
    pub product_role: String,
    pub status: String,
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
    rows.iter().map(RoleRow::from_row).collect()
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
         r.institution_id, r.product_id, r.party_role, r.product_role, r.status \
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
        let role = RoleRow::from_row(&r)?;
        match out.last_mut() {
            Some(last) if last.user.id == id => last.roles.push(role),
            _ => out.push(Member {
                user: User::from_row(&r)?,
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
