//! Attributes: the registry, what each institution holds, the certifiers, and the
//! recomputation of a consumer's agreements in the same transaction as any change of its
//! attributes ([`recompute`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use platform::db::{Db, now_millis};
use platform::timestamp::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::notices::{self, By};
use super::{Tenant, corrupt, lock, new_id};
use crate::error::InteropError;
use crate::model::agreement::AgreementFacts;
use crate::model::attribute::{
    self as rules, AttributeInput, AttributeKind, Held, Requirements, Verification,
};
use crate::model::notice::{AttributeChange, AttributeEvent, Event, Kind};
use crate::model::{AgreementState, Environment, Refusal};

/// An attribute of the registry, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropAttribute)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    pub id: String,
    /// CERTIFIED, DECLARED or VERIFIED.
    pub kind: AttributeKind,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// RFC 3339.
    pub creation_time: String,
}

const COLUMNS: &str = "id, kind, name, description, code, origin, created_at";

fn attribute(r: &AnyRow) -> Result<Attribute, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(Attribute {
        id: r.try_get("id")?,
        kind: AttributeKind::parse(&kind).ok_or_else(|| corrupt("attribute kind"))?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        code: r.try_get("code")?,
        origin: r.try_get("origin")?,
        creation_time: Timestamp(r.try_get("created_at")?).rfc3339(),
    })
}

pub async fn get(db: &Db, env: Environment, id: &str) -> Result<Option<Attribute>, InteropError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM interop_attributes WHERE env = $1 AND id = $2"
    ))
    .bind(env.as_str())
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.as_ref().map(attribute).transpose()?)
}

/// One page of the registry: the attributes of `kind` (any when `None`) whose name contains
/// `q` (any case), by name; and how many there are in all.
pub async fn search(
    db: &Db,
    env: Environment,
    kind: Option<AttributeKind>,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Attribute>, i64), InteropError> {
    let pattern = format!("%{}%", like_escape(&rules::name_key(q)));
    let kind = kind.map(|k| k.as_str()).unwrap_or("");
    let (page_sql, count_sql) = search_sql(!kind.is_empty());
    let rows = sqlx::query(&page_sql)
        .bind(env.as_str())
        .bind(kind)
        .bind(&pattern)
        .bind(limit.clamp(1, 200))
        .bind(offset.max(0))
        .fetch_all(db.reader())
        .await?;
    let total: i64 = sqlx::query_scalar(&count_sql)
        .bind(env.as_str())
        .bind(kind)
        .bind(&pattern)
        .fetch_one(db.reader())
        .await?;
    let list = rows.iter().map(attribute).collect::<Result<_, _>>()?;
    Ok((list, total))
}

/// The statements of [`search`]: a window (`$1` the environment, `$2` the kind or `''`, `$3`
/// the LIKE pattern, `$4` the limit, `$5` the offset) and its total (`$1` to `$3`); with a
/// kind (`of_kind`) they walk the index `(env, kind, name_key)`, without one
/// `(env, name_key, id)`, in the page's order either way.
pub fn search_sql(of_kind: bool) -> (String, String) {
    let kind = if of_kind { "kind = $2" } else { "$2 = ''" };
    let filter = format!("env = $1 AND {kind} AND name_key LIKE $3 ESCAPE '\\'");
    (
        format!(
            "SELECT {COLUMNS} FROM interop_attributes WHERE {filter} \
             ORDER BY name_key, id LIMIT $4 OFFSET $5"
        ),
        format!("SELECT COUNT(*) FROM interop_attributes WHERE {filter}"),
    )
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The attributes named by `ids` (those of the environment), by id.
pub async fn by_ids<'e, E>(
    executor: E,
    env: Environment,
    ids: &[&str],
) -> Result<BTreeMap<String, Attribute>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM interop_attributes WHERE env = $1 AND id IN ({})",
        platform::db::placeholders(2, ids.len())
    );
    let mut q = sqlx::query(&sql).bind(env.as_str());
    for id in ids {
        q = q.bind(*id);
    }
    let rows = q.fetch_all(executor).await?;
    rows.iter()
        .map(|r| attribute(r).map(|a| (a.id.clone(), a)))
        .collect()
}

/// Reads a version's requirements against the registry (unknown ids refused).
pub async fn parse_requirements(
    db: &Db,
    env: Environment,
    value: Option<&serde_json::Value>,
) -> Result<Requirements, InteropError> {
    // The ids named, checked against the registry in one query.
    let ids: Vec<String> = value
        .and_then(|v| serde_json::from_value::<Requirements>(v.clone()).ok())
        .map(|r| r.ids().into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let known = by_ids(db.reader(), env, &refs).await?;
    Ok(rules::parse_requirements(value, |id| {
        known.get(id).map(|a| a.kind)
    })?)
}

/// Creates a declared or verified attribute (by an institution's admin).
pub async fn create(
    db: &Db,
    env: Environment,
    by: By<'_>,
    kind: AttributeKind,
    input: &AttributeInput,
) -> Result<Attribute, InteropError> {
    if kind == AttributeKind::Certified {
        return Err(InteropError::invalid(
            "kind",
            "a certified attribute is created by its certifier",
        ));
    }
    let input = rules::parse_attribute(input)?;
    let id = new_id();
    let mut tx = db.begin().await?;
    let taken: Option<String> = sqlx::query_scalar(
        "SELECT id FROM interop_attributes WHERE env = $1 AND name_key = $2 \
         AND kind <> 'CERTIFIED'",
    )
    .bind(env.as_str())
    .bind(rules::name_key(&input.name))
    .fetch_optional(&mut *tx)
    .await?;
    if taken.is_some() {
        return Err(InteropError::Conflict(
            rules::DUPLICATE_NAME,
            format!("an attribute named «{}» already exists", input.name),
        ));
    }
    sqlx::query(
        "INSERT INTO interop_attributes (id, env, kind, name, name_key, description, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(env.as_str())
    .bind(kind.as_str())
    .bind(&input.name)
    .bind(rules::name_key(&input.name))
    .bind(&input.description)
    .bind(by.institution_id)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    notices::record(
        &mut tx,
        by,
        "interop.attribute.created",
        &id,
        serde_json::json!({"env": env.as_str(), "attribute": input.name, "kind": kind.as_str()}),
    )
    .await?;
    tx.commit().await?;
    get(db, env, &id).await?.ok_or(InteropError::NotFound)
}

/// The certified attribute `(origin, code)`, created when new (its name and description
/// refreshed when they changed); its id.
pub async fn ensure_certified(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    origin: &str,
    code: &str,
    name: &str,
    description: &str,
) -> Result<String, sqlx::Error> {
    let found: Option<(String, String, String)> = sqlx::query_as(
        "SELECT id, name, description FROM interop_attributes WHERE env = $1 \
         AND kind = 'CERTIFIED' AND origin = $2 AND code = $3",
    )
    .bind(env.as_str())
    .bind(origin)
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?;
    match found {
        Some((id, n, d)) => {
            if n != name || d != description {
                sqlx::query(
                    "UPDATE interop_attributes SET name = $1, name_key = $2, description = $3 \
                     WHERE id = $4",
                )
                .bind(name)
                .bind(rules::name_key(name))
                .bind(description)
                .bind(&id)
                .execute(&mut **tx)
                .await?;
            }
            Ok(id)
        }
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO interop_attributes (id, env, kind, name, name_key, description, \
                 origin, code, created_at) VALUES ($1, $2, 'CERTIFIED', $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(env.as_str())
            .bind(name)
            .bind(rules::name_key(name))
            .bind(description)
            .bind(origin)
            .bind(code)
            .bind(now_millis())
            .execute(&mut **tx)
            .await?;
            Ok(id)
        }
    }
}

// ---- certifiers ----

/// The origin the institution certifies for, if it has the certifier feature.
pub async fn certifier_origin(
    db: &Db,
    env: Environment,
    institution_id: &str,
) -> Result<Option<String>, InteropError> {
    Ok(sqlx::query_scalar(
        "SELECT origin FROM interop_certifiers WHERE env = $1 AND institution_id = $2",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .fetch_optional(db.reader())
    .await?)
}

/// Grants the certifier feature for `origin` (platform operators, from the command line).
/// `IPA` is the platform's own and cannot be granted.
pub async fn grant_certifier(
    db: &Db,
    env: Environment,
    institution_id: &str,
    origin: &str,
) -> Result<(), InteropError> {
    let origin = origin.trim();
    if origin.is_empty() || origin.len() > 60 {
        return Err(InteropError::invalid("origin", "1 to 60 characters"));
    }
    if origin.eq_ignore_ascii_case(crate::model::ipa::ORIGIN) {
        return Err(InteropError::invalid(
            "origin",
            "IPA attributes come from the IPA import only",
        ));
    }
    let mut tx = db.begin().await?;
    let other: Option<String> = sqlx::query_scalar(
        "SELECT institution_id FROM interop_certifiers WHERE env = $1 AND origin = $2",
    )
    .bind(env.as_str())
    .bind(origin)
    .fetch_optional(&mut *tx)
    .await?;
    if other.as_deref().is_some_and(|o| o != institution_id) {
        return Err(InteropError::Conflict(
            "certifier_origin_taken",
            format!("another institution certifies for {origin}"),
        ));
    }
    sqlx::query(
        "INSERT INTO interop_certifiers (env, institution_id, origin, granted_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (env, institution_id) \
         DO UPDATE SET origin = excluded.origin, granted_at = excluded.granted_at",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .bind(origin)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes the certifier feature away (what it assigned stays).
pub async fn revoke_certifier(
    db: &Db,
    env: Environment,
    institution_id: &str,
) -> Result<bool, InteropError> {
    let done = sqlx::query("DELETE FROM interop_certifiers WHERE env = $1 AND institution_id = $2")
        .bind(env.as_str())
        .bind(institution_id)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A certifier creates a certified attribute of its origin (`code` unique in it).
pub async fn create_certified(
    db: &Db,
    env: Environment,
    by: By<'_>,
    code: &str,
    input: &AttributeInput,
) -> Result<Attribute, InteropError> {
    let Some(origin) = certifier_origin(db, env, by.institution_id).await? else {
        return Err(Refusal::new(
            rules::NOT_THE_CERTIFIER,
            "the institution is not a certifier",
        )
        .into());
    };
    let input = rules::parse_attribute(input)?;
    let code = code.trim();
    if code.is_empty() || code.len() > 100 {
        return Err(InteropError::invalid("code", "1 to 100 characters"));
    }
    let mut tx = db.begin().await?;
    let taken: Option<String> = sqlx::query_scalar(
        "SELECT id FROM interop_attributes WHERE env = $1 AND kind = 'CERTIFIED' \
         AND origin = $2 AND code = $3",
    )
    .bind(env.as_str())
    .bind(&origin)
    .bind(code)
    .fetch_optional(&mut *tx)
    .await?;
    if taken.is_some() {
        return Err(InteropError::Conflict(
            "attributeDuplicateByCodeOriginOrName",
            format!("{origin} already has an attribute with code {code}"),
        ));
    }
    let id = ensure_certified(&mut tx, env, &origin, code, &input.name, &input.description).await?;
    notices::record(
        &mut tx,
        by,
        "interop.attribute.created",
        &id,
        serde_json::json!({"env": env.as_str(), "attribute": input.name, "kind": "CERTIFIED"}),
    )
    .await?;
    tx.commit().await?;
    get(db, env, &id).await?.ok_or(InteropError::NotFound)
}

// ---- what an institution holds ----

/// A certified or declared attribute of an institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropHeldAttribute)]
#[serde(rename_all = "camelCase")]
pub struct HeldAttribute {
    pub id: String,
    pub name: String,
    pub kind: AttributeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    pub assignment_timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_timestamp: Option<String>,
}

/// A producer's verification of an institution's attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropVerifiedBy)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedBy {
    pub attribute_id: String,
    pub name: String,
    /// The producer.
    pub verifier_id: String,
    pub verifier_name: String,
    pub agreement_id: String,
    pub verification_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_date: Option<String>,
    /// Counts now: not revoked, not expired.
    pub valid: bool,
    #[serde(skip)]
    pub expires_at: Option<i64>,
}

/// Everything an institution holds, or held, in the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropTenantAttributes)]
pub struct TenantAttributes {
    pub certified: Vec<HeldAttribute>,
    pub declared: Vec<HeldAttribute>,
    pub verified: Vec<VerifiedBy>,
}

impl TenantAttributes {
    /// The ids held now, as [`Held`] for `producer` (its own verifications only).
    pub fn held_for(&self, producer: &str, now: i64) -> Held {
        let live = |list: &[HeldAttribute]| -> BTreeSet<String> {
            list.iter()
                .filter(|a| a.revocation_timestamp.is_none())
                .map(|a| a.id.clone())
                .collect()
        };
        Held {
            certified: live(&self.certified),
            declared: live(&self.declared),
            verified: self
                .verified
                .iter()
                .filter(|v| {
                    rules::verification_counts(
                        &Verification {
                            verifier_id: v.verifier_id.clone(),
                            expires_at: v.expires_at,
                            revoked_at: v.revocation_date.as_ref().map(|_| 0),
                        },
                        producer,
                        now,
                    )
                })
                .map(|v| v.attribute_id.clone())
                .collect(),
        }
    }
}

/// What the institution holds or held.
pub async fn of_institution<'e, E>(
    executor: E,
    env: Environment,
    institution_id: &str,
) -> Result<TenantAttributes, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any> + Copy,
{
    let rows = sqlx::query(
        "SELECT a.id, a.name, a.kind, a.origin, t.assigned_at, t.revoked_at \
         FROM interop_tenant_attributes t JOIN interop_attributes a ON a.id = t.attribute_id \
         WHERE t.env = $1 AND t.institution_id = $2 ORDER BY a.name_key, a.id",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .fetch_all(executor)
    .await?;
    let mut out = TenantAttributes::default();
    for r in &rows {
        let kind: String = r.try_get("kind")?;
        let kind = AttributeKind::parse(&kind).ok_or_else(|| corrupt("attribute kind"))?;
        let held = HeldAttribute {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            kind,
            origin: r.try_get("origin")?,
            assignment_timestamp: Timestamp(r.try_get("assigned_at")?).rfc3339(),
            revocation_timestamp: r
                .try_get::<Option<i64>, _>("revoked_at")?
                .map(|t| Timestamp(t).rfc3339()),
        };
        match kind {
            AttributeKind::Certified => out.certified.push(held),
            AttributeKind::Declared => out.declared.push(held),
            AttributeKind::Verified => {}
        }
    }
    let now = now_millis();
    let rows = sqlx::query(
        "SELECT v.attribute_id, a.name, v.verifier_id, COALESCE(i.name, '') AS verifier_name, \
         v.agreement_id, v.verified_at, v.expires_at, v.revoked_at \
         FROM interop_verifications v JOIN interop_attributes a ON a.id = v.attribute_id \
         LEFT JOIN interop_institutions i ON i.env = v.env AND i.id = v.verifier_id \
         WHERE v.env = $1 AND v.institution_id = $2 ORDER BY a.name_key, v.verifier_id",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .fetch_all(executor)
    .await?;
    for r in &rows {
        let expires_at: Option<i64> = r.try_get("expires_at")?;
        let revoked_at: Option<i64> = r.try_get("revoked_at")?;
        let verifier_id: String = r.try_get("verifier_id")?;
        let valid = rules::verification_counts(
            &Verification {
                verifier_id: verifier_id.clone(),
                expires_at,
                revoked_at,
            },
            &verifier_id,
            now,
        );
        out.verified.push(VerifiedBy {
            attribute_id: r.try_get("attribute_id")?,
            name: r.try_get("name")?,
            verifier_id,
            verifier_name: r.try_get("verifier_name")?,
            agreement_id: r.try_get("agreement_id")?,
            verification_date: Timestamp(r.try_get("verified_at")?).rfc3339(),
            expiration_date: expires_at.map(|t| Timestamp(t).rfc3339()),
            revocation_date: revoked_at.map(|t| Timestamp(t).rfc3339()),
            valid,
            expires_at,
        });
    }
    Ok(out)
}

/// The certified attributes the institution holds now.
pub async fn certified_of<'e, E>(
    executor: E,
    env: Environment,
    institution_id: &str,
) -> Result<BTreeSet<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT t.attribute_id FROM interop_tenant_attributes t \
         JOIN interop_attributes a ON a.id = t.attribute_id \
         WHERE t.env = $1 AND t.institution_id = $2 AND t.revoked_at IS NULL \
         AND a.kind = 'CERTIFIED'",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .fetch_all(executor)
    .await?;
    Ok(ids.into_iter().collect())
}

/// What `consumer` holds now for `producer`'s versions.
pub async fn held(
    conn: &mut sqlx::AnyConnection,
    env: Environment,
    consumer: &str,
    producer: &str,
    now: i64,
) -> Result<Held, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT t.attribute_id, a.kind FROM interop_tenant_attributes t \
         JOIN interop_attributes a ON a.id = t.attribute_id \
         WHERE t.env = $1 AND t.institution_id = $2 AND t.revoked_at IS NULL",
    )
    .bind(env.as_str())
    .bind(consumer)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Held::default();
    for r in &rows {
        let id: String = r.try_get("attribute_id")?;
        let kind: String = r.try_get("kind")?;
        match AttributeKind::parse(&kind) {
            Some(AttributeKind::Certified) => out.certified.insert(id),
            Some(AttributeKind::Declared) => out.declared.insert(id),
            _ => false,
        };
    }
    let rows = sqlx::query(
        "SELECT attribute_id, expires_at, revoked_at FROM interop_verifications \
         WHERE env = $1 AND institution_id = $2 AND verifier_id = $3",
    )
    .bind(env.as_str())
    .bind(consumer)
    .bind(producer)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let v = Verification {
            verifier_id: producer.to_string(),
            expires_at: r.try_get("expires_at")?,
            revoked_at: r.try_get("revoked_at")?,
        };
        if rules::verification_counts(&v, producer, now) {
            out.verified.insert(r.try_get("attribute_id")?);
        }
    }
    Ok(out)
}

/// Sets (or revokes) a certified or declared attribute of `holder`; whether anything changed.
async fn set_held(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    holder: &str,
    attribute_id: &str,
    assigned: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let current: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT revoked_at FROM interop_tenant_attributes WHERE env = $1 \
         AND institution_id = $2 AND attribute_id = $3",
    )
    .bind(env.as_str())
    .bind(holder)
    .bind(attribute_id)
    .fetch_optional(&mut **tx)
    .await?;
    let sql = match (current, assigned) {
        (None, true) => {
            "INSERT INTO interop_tenant_attributes (env, institution_id, attribute_id, \
             assigned_at) VALUES ($1, $2, $3, $4)"
        }
        (Some(Some(_)), true) => {
            "UPDATE interop_tenant_attributes SET assigned_at = $4, revoked_at = NULL \
             WHERE env = $1 AND institution_id = $2 AND attribute_id = $3"
        }
        (Some(None), false) => {
            "UPDATE interop_tenant_attributes SET revoked_at = $4 \
             WHERE env = $1 AND institution_id = $2 AND attribute_id = $3"
        }
        _ => return Ok(false),
    };
    sqlx::query(sql)
        .bind(env.as_str())
        .bind(holder)
        .bind(attribute_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

async fn name_of(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    institution_id: &str,
) -> Result<String, sqlx::Error> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM interop_institutions WHERE env = $1 AND id = $2")
            .bind(env.as_str())
            .bind(institution_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(name.unwrap_or_default())
}

async fn attribute_in(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    id: &str,
) -> Result<Option<Attribute>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM interop_attributes WHERE env = $1 AND id = $2"
    ))
    .bind(env.as_str())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(attribute).transpose()
}

/// Tells an attribute's change: the record in the actor's log, and the holder's admins by
/// email when someone else acted.
#[allow(clippy::too_many_arguments)]
async fn tell_attribute(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    by: By<'_>,
    by_name: &str,
    holder: &str,
    attribute: &Attribute,
    change: AttributeChange,
) -> Result<(), sqlx::Error> {
    let holder_name = name_of(tx, env, holder).await?;
    let event = AttributeEvent {
        change,
        env,
        attribute: &attribute.name,
        holder: &holder_name,
        by: by_name,
    };
    notices::tell_attribute(tx, by, holder, &attribute.id, &event).await
}

/// A certifier assigns (or, `assigned` false, revokes) a certified attribute of its origin to
/// `holder`; the holder's agreements follow in the same transaction.
pub async fn certify(
    db: &Db,
    env: Environment,
    by: By<'_>,
    holder: &str,
    attribute_id: &str,
    assigned: bool,
) -> Result<bool, InteropError> {
    let origin = certifier_origin(db, env, by.institution_id).await?;
    let mut tx = db.begin().await?;
    let a = attribute_in(&mut tx, env, attribute_id)
        .await?
        .ok_or(InteropError::NotFound)?;
    if a.kind != AttributeKind::Certified || origin.is_none() || a.origin != origin {
        return Err(Refusal::new(
            rules::NOT_THE_CERTIFIER,
            "only the certifier of the attribute's origin assigns or revokes it",
        )
        .into());
    }
    let known: Option<String> =
        sqlx::query_scalar("SELECT id FROM interop_institutions WHERE env = $1 AND id = $2")
            .bind(env.as_str())
            .bind(holder)
            .fetch_optional(&mut *tx)
            .await?;
    if known.is_none() {
        return Err(InteropError::NotFound);
    }
    let now = now_millis();
    let changed = set_held(&mut tx, env, holder, attribute_id, assigned, now).await?;
    if changed {
        let by_name = name_of(&mut tx, env, by.institution_id).await?;
        let change = if assigned {
            AttributeChange::Assigned
        } else {
            AttributeChange::Revoked
        };
        tell_attribute(&mut tx, env, by, &by_name, holder, &a, change).await?;
        recompute(&mut tx, db, env, holder, by, now).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// The institution's admin declares (or withdraws) a declared attribute.
pub async fn declare(
    db: &Db,
    env: Environment,
    by: By<'_>,
    attribute_id: &str,
    declared: bool,
) -> Result<bool, InteropError> {
    let mut tx = db.begin().await?;
    let a = attribute_in(&mut tx, env, attribute_id)
        .await?
        .ok_or(InteropError::NotFound)?;
    if a.kind != AttributeKind::Declared {
        return Err(InteropError::invalid(
            "id",
            "only a declared attribute is declared by the institution",
        ));
    }
    let now = now_millis();
    let changed = set_held(&mut tx, env, by.institution_id, attribute_id, declared, now).await?;
    if !changed && !declared {
        // Nothing declared to withdraw.
        return Err(InteropError::NotFound);
    }
    if changed {
        let holder = by.institution_id;
        let name = name_of(&mut tx, env, holder).await?;
        let change = if declared {
            AttributeChange::Declared
        } else {
            AttributeChange::Withdrawn
        };
        tell_attribute(&mut tx, env, by, &name, holder, &a, change).await?;
        recompute(&mut tx, db, env, holder, by, now).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// The producer verifies a consumer's attribute on one of its requests (PENDING, ACTIVE or
/// SUSPENDED) whose version requires it, optionally until `expires_at` (milliseconds, in the
/// future); or (`expires_at` ignored, `verified` false) revokes its verification.
#[allow(clippy::too_many_arguments)]
pub async fn verify(
    db: &Db,
    env: Environment,
    by: By<'_>,
    consumer: &str,
    attribute_id: &str,
    agreement_id: Option<&str>,
    expires_at: Option<i64>,
    verified: bool,
) -> Result<(), InteropError> {
    let producer = by.institution_id;
    if consumer == producer {
        return Err(Refusal::new(
            rules::VERIFICATION_NOT_ALLOWED,
            "an institution does not verify its own attributes",
        )
        .into());
    }
    let now = now_millis();
    if let Some(t) = expires_at
        && t <= now
    {
        return Err(InteropError::invalid(
            "expirationDate",
            "must be in the future",
        ));
    }
    let mut tx = db.begin().await?;
    // The request first: another institution's is not found, whatever the attribute.
    if verified {
        let agreement_id = agreement_id.ok_or_else(|| {
            InteropError::invalid("agreementId", "the request the verification is made on")
        })?;
        let row: Option<(String, String)> = sqlx::query_as(&format!(
            "SELECT a.state, d.attributes FROM interop_agreements a \
             JOIN interop_descriptors d ON d.id = a.descriptor_id \
             WHERE a.env = $1 AND a.id = $2 AND a.producer_id = $3 AND a.consumer_id = $4{}",
            lock(db, "a")
        ))
        .bind(env.as_str())
        .bind(agreement_id)
        .bind(producer)
        .bind(consumer)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((state, stored)) = row else {
            return Err(InteropError::NotFound);
        };
        let a = attribute_in(&mut tx, env, attribute_id)
            .await?
            .ok_or(InteropError::NotFound)?;
        if a.kind != AttributeKind::Verified {
            return Err(InteropError::invalid(
                "id",
                "this attribute is not a verified one",
            ));
        }
        let state = AgreementState::parse(&state).ok_or_else(|| corrupt("agreement state"))?;
        let requires = Requirements::from_stored(&stored)
            .is_some_and(|r| r.ids_of(AttributeKind::Verified).contains(attribute_id));
        if !matches!(
            state,
            AgreementState::Pending | AgreementState::Active | AgreementState::Suspended
        ) || !requires
        {
            return Err(Refusal::new(
                rules::VERIFICATION_NOT_ALLOWED,
                "attributes are verified on a pending, active or suspended request whose \
                 version requires them",
            )
            .into());
        }
        sqlx::query(
            "INSERT INTO interop_verifications (env, institution_id, attribute_id, verifier_id, \
             agreement_id, verified_at, expires_at, revoked_at, expiry_applied) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 0) \
             ON CONFLICT (env, institution_id, attribute_id, verifier_id) DO UPDATE SET \
             agreement_id = excluded.agreement_id, verified_at = excluded.verified_at, \
             expires_at = excluded.expires_at, revoked_at = NULL, expiry_applied = 0",
        )
        .bind(env.as_str())
        .bind(consumer)
        .bind(attribute_id)
        .bind(producer)
        .bind(agreement_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    } else {
        let done = sqlx::query(
            "UPDATE interop_verifications SET revoked_at = $5 WHERE env = $1 \
             AND institution_id = $2 AND attribute_id = $3 AND verifier_id = $4 \
             AND revoked_at IS NULL",
        )
        .bind(env.as_str())
        .bind(consumer)
        .bind(attribute_id)
        .bind(producer)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(InteropError::NotFound);
        }
    }
    let a = attribute_in(&mut tx, env, attribute_id)
        .await?
        .ok_or(InteropError::NotFound)?;
    let by_name = name_of(&mut tx, env, producer).await?;
    let change = if verified {
        AttributeChange::Verified
    } else {
        AttributeChange::VerificationRevoked
    };
    tell_attribute(&mut tx, env, by, &by_name, consumer, &a, change).await?;
    recompute(&mut tx, db, env, consumer, by, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Draws the consequences of verifications that expired by `now`: each such consumer's
/// agreements are recomputed (once per expiry). How many expiries were applied.
pub async fn apply_expiries(db: &Db, now: i64) -> Result<usize, InteropError> {
    let due: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT env, institution_id, attribute_id, verifier_id FROM interop_verifications \
         WHERE expiry_applied = 0 AND expires_at IS NOT NULL AND expires_at <= $1 \
         ORDER BY expires_at LIMIT 500",
    )
    .bind(now)
    .fetch_all(db.reader())
    .await?;
    let mut applied = 0;
    for (env, consumer, attribute_id, verifier) in due {
        let Some(env) = Environment::parse(&env) else {
            continue;
        };
        let mut tx = db.begin().await?;
        let marked = sqlx::query(
            "UPDATE interop_verifications SET expiry_applied = 1 WHERE env = $1 \
             AND institution_id = $2 AND attribute_id = $3 AND verifier_id = $4 \
             AND expiry_applied = 0",
        )
        .bind(env.as_str())
        .bind(&consumer)
        .bind(&attribute_id)
        .bind(&verifier)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 1 {
            let by = By {
                institution_id: &verifier,
                user_id: PLATFORM,
            };
            recompute(&mut tx, db, env, &consumer, by, now).await?;
            applied += 1;
        }
        tx.commit().await?;
    }
    Ok(applied)
}

/// The actor of what the platform does by itself (imports, expiries).
pub const PLATFORM: &str = "platform";

/// Recomputes the consumer's live agreements after a change of its attributes, in the
/// change's transaction: the rows are locked and read again, the rule applied
/// ([`rules::recompute`]), platform suspensions and their end told.
pub async fn recompute(
    tx: &mut Transaction<'static, Any>,
    db: &Db,
    env: Environment,
    consumer: &str,
    by: By<'_>,
    now: i64,
) -> Result<usize, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT a.id, a.state, a.suspended_by_consumer, a.suspended_by_producer, \
         a.suspended_by_platform, a.producer_id, d.attributes, d.version, e.name AS eservice \
         FROM interop_agreements a JOIN interop_descriptors d ON d.id = a.descriptor_id \
         JOIN interop_eservices e ON e.id = a.eservice_id \
         WHERE a.env = $1 AND a.consumer_id = $2 AND a.state IN ('DRAFT', 'PENDING', 'ACTIVE', \
         'SUSPENDED', 'MISSING_CERTIFIED_ATTRIBUTES') ORDER BY a.id{}",
        lock(db, "a")
    ))
    .bind(env.as_str())
    .bind(consumer)
    .fetch_all(&mut **tx)
    .await?;
    let mut by_producer: HashMap<String, Held> = HashMap::new();
    let mut changed = 0;
    for r in &rows {
        let producer: String = r.try_get("producer_id")?;
        if producer == consumer {
            continue;
        }
        let state: String = r.try_get("state")?;
        let facts = AgreementFacts {
            state: AgreementState::parse(&state).ok_or_else(|| corrupt("agreement state"))?,
            suspended_by_consumer: r.try_get::<i64, _>("suspended_by_consumer")? != 0,
            suspended_by_producer: r.try_get::<i64, _>("suspended_by_producer")? != 0,
            suspended_by_platform: r.try_get::<i64, _>("suspended_by_platform")? != 0,
            consumer_id: consumer.to_string(),
            producer_id: producer.clone(),
        };
        let stored: String = r.try_get("attributes")?;
        let requirements = Requirements::from_stored(&stored).unwrap_or_default();
        if !by_producer.contains_key(&producer) {
            let h = held(tx, env, consumer, &producer, now).await?;
            by_producer.insert(producer.clone(), h);
        }
        let Some(held) = by_producer.get(&producer) else {
            continue;
        };
        let verdict = rules::check(&requirements, held);
        let Some(change) = rules::recompute(&facts, &verdict) else {
            continue;
        };
        let id: String = r.try_get("id")?;
        let suspended_now =
            change.state == AgreementState::Suspended && facts.state != AgreementState::Suspended;
        sqlx::query(&format!(
            "UPDATE interop_agreements SET state = $1, suspended_by_platform = $2, \
             updated_at = $3{} WHERE id = $4",
            if suspended_now {
                ", suspended_at = $3"
            } else {
                ""
            }
        ))
        .bind(change.state.as_str())
        .bind(i64::from(change.suspended_by_platform))
        .bind(now)
        .bind(&id)
        .execute(&mut **tx)
        .await?;
        changed += 1;
        let told = match (facts.suspended_by_platform, change.suspended_by_platform) {
            (false, true) => Some(Kind::AgreementSuspendedByPlatform),
            (true, false) => Some(Kind::AgreementReactivatedByPlatform),
            _ => None,
        };
        if let Some(kind) = told {
            let missing: Vec<&str> = verdict
                .missing
                .iter()
                .flat_map(|(_, g)| g.iter().map(String::as_str))
                .collect();
            let names = by_ids(&mut **tx, env, &missing).await?;
            let reason = missing_names(&verdict.missing, &names);
            let (producer_name, consumer_name) =
                notices::names(tx, env, &producer, consumer).await?;
            let eservice: String = r.try_get("eservice")?;
            let version = r.try_get::<i64, _>("version")?.to_string();
            let event = Event {
                kind,
                env,
                eservice: &eservice,
                version: &version,
                purpose: "",
                producer: &producer_name,
                consumer: &consumer_name,
                reason: &reason,
            };
            // In the consumer's log: the platform acted on its request.
            let on = By {
                institution_id: consumer,
                user_id: by.user_id,
            };
            notices::tell(tx, on, &id, &event, &producer, consumer).await?;
        }
    }
    Ok(changed)
}

/// The missing groups in words: "A o B; C".
pub fn missing_names(
    missing: &[(AttributeKind, Vec<String>)],
    names: &BTreeMap<String, Attribute>,
) -> String {
    missing
        .iter()
        .map(|(_, group)| {
            group
                .iter()
                .map(|id| names.get(id).map(|a| a.name.as_str()).unwrap_or(id))
                .collect::<Vec<_>>()
                .join(" o ")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

// ---- contact email ----

/// The institution's contact email (CONTACT_EMAIL), if set.
pub async fn contact_email(
    db: &Db,
    env: Environment,
    institution_id: &str,
) -> Result<Option<String>, InteropError> {
    let found: Option<Option<String>> = sqlx::query_scalar(
        "SELECT contact_email FROM interop_institutions WHERE env = $1 AND id = $2",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .fetch_optional(db.reader())
    .await?;
    Ok(found.flatten())
}

/// Sets the contact email of an institution that has none (the demo's data).
pub async fn ensure_contact_email(
    db: &Db,
    env: Environment,
    institution_id: &str,
    email: &str,
) -> Result<(), InteropError> {
    sqlx::query(
        "UPDATE interop_institutions SET contact_email = $1 WHERE env = $2 AND id = $3 \
         AND contact_email IS NULL",
    )
    .bind(email)
    .bind(env.as_str())
    .bind(institution_id)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Sets the institution's contact email (its admin).
pub async fn set_contact_email(
    db: &Db,
    env: Environment,
    by: By<'_>,
    tenant: &Tenant,
    email: &str,
) -> Result<String, InteropError> {
    let email = platform::types::Email::parse(email.trim())
        .map_err(|_| InteropError::invalid("address", "is not a valid email address"))?;
    let mut tx = db.begin().await?;
    super::know_institution(&mut tx, db, env, tenant, now_millis()).await?;
    sqlx::query("UPDATE interop_institutions SET contact_email = $1 WHERE env = $2 AND id = $3")
        .bind(email.as_str())
        .bind(env.as_str())
        .bind(&tenant.institution_id)
        .execute(&mut *tx)
        .await?;
    notices::record(
        &mut tx,
        by,
        "interop.tenant.contact_email",
        &tenant.institution_id,
        serde_json::json!({"env": env.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(email.as_str().to_string())
}
