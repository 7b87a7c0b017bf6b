//! The IPA import: the registry of institutions as last read from the IPA open data, and the
//! certified attributes of origin `IPA` it gives the institutions of each environment
//! ([`crate::model::ipa`] says which). Each run assigns what the file yields and revokes what it
//! no longer does; a second run with the same file changes nothing. An institution entering an
//! environment for the first time gets its attributes from the registry ([`sync`]).

use std::collections::{BTreeMap, BTreeSet};

use platform::db::{Db, now_millis};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::attributes::{self, PLATFORM};
use super::notices::By;
use crate::error::InteropError;
use crate::model::Environment;
use crate::model::ipa::{self, Certified, Entry};
use crate::model::notice::{AttributeChange, AttributeEvent};

/// One assignment or revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub env: &'static str,
    pub institution: String,
    pub attribute: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Institutions in the file.
    pub entries: usize,
    /// Institutions of the environments the file names.
    pub matched: usize,
    pub assigned: Vec<Line>,
    pub revoked: Vec<Line>,
}

/// Imports `entries`: the registry replaced, then every institution of both environments
/// brought in step (one transaction each, so a run stopped half-way is finished by the next).
pub async fn import(db: &Db, entries: &[Entry]) -> Result<Report, InteropError> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    let known: Vec<String> = sqlx::query_scalar("SELECT fiscal_code FROM interop_ipa")
        .fetch_all(&mut *tx)
        .await?;
    let in_file: BTreeSet<&str> = entries.iter().map(|e| e.fiscal_code.as_str()).collect();
    for gone in known.iter().filter(|f| !in_file.contains(f.as_str())) {
        sqlx::query("DELETE FROM interop_ipa WHERE fiscal_code = $1")
            .bind(gone)
            .execute(&mut *tx)
            .await?;
    }
    // An IPA code may move from one fiscal code to another between two files: free them all
    // first, then write.
    sqlx::query("UPDATE interop_ipa SET ipa_code = '#' || fiscal_code")
        .execute(&mut *tx)
        .await?;
    for e in entries {
        write_entry(
            &mut tx,
            "(fiscal_code) DO UPDATE SET ipa_code = excluded.ipa_code, name = excluded.name, \
             category = excluded.category, typology = excluded.typology, kind = excluded.kind, \
             imported_at = excluded.imported_at",
            e,
            now,
        )
        .await?;
    }
    tx.commit().await?;

    let by_fiscal: BTreeMap<&str, &Entry> = entries
        .iter()
        .map(|e| (e.fiscal_code.as_str(), e))
        .collect();
    let mut report = Report {
        entries: entries.len(),
        ..Report::default()
    };
    for env in Environment::ALL {
        let institutions: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, fiscal_code, name FROM interop_institutions WHERE env = $1 ORDER BY id",
        )
        .bind(env.as_str())
        .fetch_all(db.reader())
        .await?;
        for (id, fiscal_code, name) in institutions {
            let entry = by_fiscal.get(fiscal_code.as_str()).copied();
            report.matched += usize::from(entry.is_some());
            let expected = entry.map(ipa::attributes_of).unwrap_or_default();
            step_one(db, env, &id, &name, &expected, now, &mut report).await?;
        }
    }
    Ok(report)
}

/// Adds `entries` to the registry without replacing it: an entry whose fiscal code or IPA code
/// the registry already holds is left as it is, and only the institutions of the entries added
/// are brought in step. For a sample laid over a registry imported from the full file (the
/// demo's), where [`import`] would revoke the attributes of everyone the sample leaves out.
pub async fn add(db: &Db, entries: &[Entry]) -> Result<Report, InteropError> {
    let now = now_millis();
    let mut added = Vec::new();
    let mut tx = db.begin().await?;
    for e in entries {
        if write_entry(&mut tx, "DO NOTHING", e, now).await? > 0 {
            added.push(e);
        }
    }
    tx.commit().await?;

    let mut report = Report {
        entries: entries.len(),
        ..Report::default()
    };
    for entry in added {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = $1")
                .bind(&entry.fiscal_code)
                .fetch_optional(db.reader())
                .await?;
        let Some(id) = id else { continue };
        for env in Environment::ALL {
            let name: Option<String> = sqlx::query_scalar(
                "SELECT name FROM interop_institutions WHERE env = $1 AND id = $2",
            )
            .bind(env.as_str())
            .bind(&id)
            .fetch_optional(db.reader())
            .await?;
            let Some(name) = name else { continue };
            report.matched += 1;
            let expected = ipa::attributes_of(entry);
            step_one(db, env, &id, &name, &expected, now, &mut report).await?;
        }
    }
    Ok(report)
}

/// Writes one registry entry; `on_conflict` says what an existing one becomes. The rows
/// written.
async fn write_entry(
    tx: &mut Transaction<'static, Any>,
    on_conflict: &str,
    e: &Entry,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(&format!(
        "INSERT INTO interop_ipa (fiscal_code, ipa_code, name, category, typology, kind, \
         imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT {on_conflict}"
    ))
    .bind(&e.fiscal_code)
    .bind(&e.ipa_code)
    .bind(&e.name)
    .bind(&e.category)
    .bind(&e.typology)
    .bind(ipa::kind_of(e).as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Brings the institution `id` (named `name`) in step with `expected` in a transaction of its
/// own, and adds what changed to `report`.
async fn step_one(
    db: &Db,
    env: Environment,
    id: &str,
    name: &str,
    expected: &[Certified],
    now: i64,
    report: &mut Report,
) -> Result<(), InteropError> {
    let mut tx = db.begin().await?;
    let (assigned, revoked) = bring_in_step(&mut tx, db, env, id, expected, now).await?;
    tx.commit().await?;
    let line = |attribute: String| Line {
        env: env.as_str(),
        institution: name.to_string(),
        attribute,
    };
    report.assigned.extend(assigned.into_iter().map(line));
    report.revoked.extend(revoked.into_iter().map(line));
    Ok(())
}

/// Brings one institution in step with the registry as last imported, in the caller's
/// transaction (its first entry in an environment).
pub async fn sync(
    tx: &mut Transaction<'static, Any>,
    db: &Db,
    env: Environment,
    institution_id: &str,
    fiscal_code: &str,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query(
        "SELECT ipa_code, name, category, typology FROM interop_ipa WHERE fiscal_code = $1",
    )
    .bind(fiscal_code)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else {
        return Ok(());
    };
    let entry = Entry {
        ipa_code: r.try_get("ipa_code")?,
        fiscal_code: fiscal_code.to_string(),
        name: r.try_get("name")?,
        category: r.try_get("category")?,
        typology: r.try_get("typology")?,
    };
    let expected = ipa::attributes_of(&entry);
    bring_in_step(tx, db, env, institution_id, &expected, now_millis()).await?;
    Ok(())
}

/// The institution's kind as IPA gives it (PA or GSP), if it is in the registry.
pub async fn kind(db: &Db, fiscal_code: &str) -> Result<Option<String>, InteropError> {
    Ok(
        sqlx::query_scalar("SELECT kind FROM interop_ipa WHERE fiscal_code = $1")
            .bind(fiscal_code)
            .fetch_optional(db.reader())
            .await?,
    )
}

/// Assigns the `expected` IPA attributes the institution lacks and revokes the IPA ones it
/// holds beyond them; the names assigned and revoked. Its agreements follow.
async fn bring_in_step(
    tx: &mut Transaction<'static, Any>,
    db: &Db,
    env: Environment,
    institution_id: &str,
    expected: &[Certified],
    now: i64,
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    let mut want: BTreeMap<String, &Certified> = BTreeMap::new();
    for c in expected {
        let id =
            attributes::ensure_certified(tx, env, ipa::ORIGIN, &c.code, &c.name, &c.description)
                .await?;
        want.insert(id, c);
    }
    let rows = sqlx::query(
        "SELECT t.attribute_id, a.name, t.revoked_at FROM interop_tenant_attributes t \
         JOIN interop_attributes a ON a.id = t.attribute_id WHERE t.env = $1 \
         AND t.institution_id = $2 AND a.kind = 'CERTIFIED' AND a.origin = $3",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .bind(ipa::ORIGIN)
    .fetch_all(&mut **tx)
    .await?;
    let mut held: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for r in &rows {
        let revoked: Option<i64> = r.try_get("revoked_at")?;
        held.insert(
            r.try_get("attribute_id")?,
            (r.try_get("name")?, revoked.is_none()),
        );
    }
    let by = By {
        institution_id,
        user_id: PLATFORM,
    };
    let mut assigned = Vec::new();
    let mut revoked = Vec::new();
    for (id, c) in &want {
        let live = held.get(id).is_some_and(|(_, live)| *live);
        if !live {
            let sql = if held.contains_key(id) {
                "UPDATE interop_tenant_attributes SET assigned_at = $4, revoked_at = NULL \
                 WHERE env = $1 AND institution_id = $2 AND attribute_id = $3"
            } else {
                "INSERT INTO interop_tenant_attributes (env, institution_id, attribute_id, \
                 assigned_at) VALUES ($1, $2, $3, $4)"
            };
            sqlx::query(sql)
                .bind(env.as_str())
                .bind(institution_id)
                .bind(id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            assigned.push(c.name.clone());
        }
    }
    for (id, (name, live)) in &held {
        if *live && !want.contains_key(id) {
            sqlx::query(
                "UPDATE interop_tenant_attributes SET revoked_at = $4 \
                 WHERE env = $1 AND institution_id = $2 AND attribute_id = $3",
            )
            .bind(env.as_str())
            .bind(institution_id)
            .bind(id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            revoked.push(name.clone());
        }
    }
    if assigned.is_empty() && revoked.is_empty() {
        return Ok((assigned, revoked));
    }
    let holder: Option<String> =
        sqlx::query_scalar("SELECT name FROM interop_institutions WHERE env = $1 AND id = $2")
            .bind(env.as_str())
            .bind(institution_id)
            .fetch_optional(&mut **tx)
            .await?;
    let holder = holder.unwrap_or_default();
    for (names, change) in [
        (&assigned, AttributeChange::Assigned),
        (&revoked, AttributeChange::Revoked),
    ] {
        for name in names {
            let event = AttributeEvent {
                change,
                env,
                attribute: name,
                holder: &holder,
                by: ipa::ORIGIN,
            };
            super::notices::tell_attribute(tx, by, institution_id, institution_id, &event).await?;
        }
    }
    attributes::recompute(tx, db, env, institution_id, by, now).await?;
    Ok((assigned, revoked))
}
