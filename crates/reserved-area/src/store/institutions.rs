//! Institutions and their onboardings.

use super::*;

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

const INSTITUTION_COLUMNS: &str = "id, description, tax_code, origin, origin_id, institution_type, \
     digital_address, address, zip_code, city, county, created_at, updated_at";

/// One institution: read by every page of an institution, on the native driver.
pub async fn institution(db: &Db, id: &str) -> Result<Option<Institution>, sqlx::Error> {
    static ONE: LazyLock<Sql> = LazyLock::new(|| {
        Sql::new(format!(
            "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id = $1"
        ))
    });
    db.hot()
        .fetch_optional(&ONE, &[Param::text(id)], |r| institution_row(r))
        .await
}

/// A row of [`INSTITUTION_COLUMNS`], from sqlx or from a hot read.
fn institution_row<R: HotRow + ?Sized>(r: &R) -> Result<Institution, sqlx::Error> {
    Ok(Institution {
        id: r.required_text("id")?,
        description: r.required_text("description")?,
        tax_code: r.required_text("tax_code")?,
        origin: r.required_text("origin")?,
        origin_id: r.required_text("origin_id")?,
        institution_type: r.required_text("institution_type")?,
        digital_address: r.required_text("digital_address")?,
        address: r.required_text("address")?,
        zip_code: r.required_text("zip_code")?,
        city: r.required_text("city")?,
        county: r.required_text("county")?,
        created_at: r.required_int("created_at")?,
        updated_at: r.required_int("updated_at")?,
    })
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
    row.as_ref().map(institution_row).transpose()
}

/// The institutions where the person (`$1`) holds any role (of any status), by name.
pub(super) fn institutions_of_user_sql() -> String {
    format!(
        "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id IN \
         (SELECT DISTINCT institution_id FROM product_roles WHERE user_id = $1) \
         ORDER BY description"
    )
}

/// The institutions where the person holds any role (of any status), by name.
pub async fn institutions_of_user(db: &Db, user_id: &str) -> Result<Vec<Institution>, sqlx::Error> {
    let rows = sqlx::query(&institutions_of_user_sql())
        .bind(user_id)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(institution_row).collect()
}

/// `(product_id, status)` of every onboarding of the institution.
pub async fn onboardings(
    db: &Db,
    institution_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    static ONBOARDINGS: LazyLock<Sql> = LazyLock::new(|| {
        Sql::new(
            "SELECT product_id, status FROM onboardings WHERE institution_id = $1 \
             ORDER BY product_id",
        )
    });
    db.hot()
        .fetch_all(&ONBOARDINGS, &[Param::text(institution_id)], |r| {
            Ok((r.required_text("product_id")?, r.required_text("status")?))
        })
        .await
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
