//! The files of an e-service's versions: its interface (OpenAPI or WSDL) and other documents.
//!
//! Files are kept in the database, in the row that describes them (`interop_documents`): one
//! transaction writes the file, its checksum and the version's server URLs together, a backup
//! of the database holds them all, and both engines store them alike (`BYTEA`, `BLOB`). They
//! are small (at most 3 MiB for an interface, 10 MiB for a document) and read rarely.

use std::collections::HashMap;

use platform::db::{Db, now_millis};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::catalogue::lock_own;
use super::notices::{self, By};
use super::{corrupt, new_id};
use crate::error::InteropError;
use crate::model::document::{self, DocumentKind, Upload};
use crate::model::{DescriptorState, Environment, Technology, descriptor};

/// A second interface for a version.
pub const INTERFACE_EXISTS: &str = "interfaceAlreadyExists";
/// A second document of a version with the same name (any case).
pub const PRETTY_NAME_TAKEN: &str = "documentPrettyNameDuplicate";
/// The same content twice in a version.
pub const CHECKSUM_TAKEN: &str = "checksumDuplicate";

/// A file of a version, as lists and pages show it (the content is read apart).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropDocument)]
#[serde(rename_all = "camelCase")]
pub struct DocumentInfo {
    pub id: String,
    /// `INTERFACE` or `DOCUMENT`.
    pub kind: &'static str,
    /// The file's name as uploaded.
    pub name: String,
    /// The name people see.
    pub pretty_name: String,
    pub content_type: String,
    /// Hex SHA-256 of the content.
    pub checksum: String,
    /// Bytes.
    pub size: i64,
    /// When it was uploaded (milliseconds since the epoch).
    pub upload_date: i64,
    #[serde(skip)]
    pub kind_value: DocumentKind,
}

const COLUMNS: &str =
    "id, descriptor_id, kind, name, pretty_name, content_type, checksum, size, uploaded_at";

fn row(r: &AnyRow) -> Result<DocumentInfo, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let kind_value = DocumentKind::parse(&kind).ok_or_else(|| corrupt("document kind"))?;
    Ok(DocumentInfo {
        id: r.try_get("id")?,
        kind: kind_value.as_str(),
        name: r.try_get("name")?,
        pretty_name: r.try_get("pretty_name")?,
        content_type: r.try_get("content_type")?,
        checksum: r.try_get("checksum")?,
        size: r.try_get("size")?,
        upload_date: r.try_get("uploaded_at")?,
        kind_value,
    })
}

/// The files of these versions, by version id, oldest first.
pub async fn of_descriptors(
    pool: &sqlx::AnyPool,
    ids: &[&str],
) -> Result<HashMap<String, Vec<DocumentInfo>>, sqlx::Error> {
    let mut out: HashMap<String, Vec<DocumentInfo>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM interop_documents WHERE descriptor_id IN ({}) \
         ORDER BY uploaded_at, id",
        platform::db::placeholders(1, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    for r in q.fetch_all(pool).await? {
        let descriptor_id: String = r.try_get("descriptor_id")?;
        out.entry(descriptor_id).or_default().push(row(&r)?);
    }
    Ok(out)
}

/// The version's state and its e-service's technology, read in the transaction that locked
/// the e-service; another e-service's version is not found.
async fn version_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    eservice_id: &str,
    descriptor_id: &str,
) -> Result<(DescriptorState, Technology), InteropError> {
    let r = sqlx::query(
        "SELECT d.state, e.technology FROM interop_descriptors d \
         JOIN interop_eservices e ON e.id = d.eservice_id WHERE d.id = $1 AND d.eservice_id = $2",
    )
    .bind(descriptor_id)
    .bind(eservice_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(InteropError::NotFound)?;
    let state: String = r.try_get("state")?;
    let technology: String = r.try_get("technology")?;
    Ok((
        DescriptorState::parse(&state).ok_or_else(|| corrupt("descriptor state"))?,
        Technology::parse(&technology).ok_or_else(|| corrupt("technology"))?,
    ))
}

/// Who uploads, and what.
pub struct NewDocument<'a> {
    pub upload: Upload<'a>,
    pub pretty_name: &'a str,
    pub user_id: &'a str,
}

/// Adds a file to the producer's version, after every check of [`document::check`] in its
/// order, then the version's own rules: the interface only to a draft and only one, names and
/// contents unique in the version. An interface sets the version's server URLs.
pub async fn add(
    db: &Db,
    env: Environment,
    producer_id: &str,
    eservice_id: &str,
    descriptor_id: &str,
    new: &NewDocument<'_>,
) -> Result<DocumentInfo, InteropError> {
    let pretty_name = document::check_pretty_name(new.pretty_name)
        .map_err(|m| InteropError::invalid("prettyName", m))?;
    // The file is read before the e-service is locked: parsing 3 MiB holds no lock.
    let technology = super::catalogue::own(db, env, producer_id, eservice_id)
        .await?
        .technology();
    let checked = document::check(technology, &new.upload)?;
    let kind = new.upload.kind;
    let mut tx = db.begin().await?;
    lock_own(db, &mut tx, env, producer_id, eservice_id).await?;
    let (state, technology_now) = version_in(&mut tx, eservice_id, descriptor_id).await?;
    if technology_now != technology {
        return Err(InteropError::Conflict(
            "eservice_changed",
            "the e-service's technology changed meanwhile: upload the interface again".into(),
        ));
    }
    descriptor::add_document(state, kind)?;
    let taken: Vec<AnyRow> = sqlx::query(
        "SELECT kind, pretty_key, checksum FROM interop_documents WHERE descriptor_id = $1",
    )
    .bind(descriptor_id)
    .fetch_all(&mut *tx)
    .await?;
    let pretty_key = document::pretty_name_key(&pretty_name);
    for r in &taken {
        let (k, p, c): (String, String, String) = (
            r.try_get("kind")?,
            r.try_get("pretty_key")?,
            r.try_get("checksum")?,
        );
        if kind == DocumentKind::Interface && k == DocumentKind::Interface.as_str() {
            return Err(InteropError::Conflict(
                INTERFACE_EXISTS,
                "the version has its interface already: delete it to upload another".into(),
            ));
        }
        if p == pretty_key {
            return Err(InteropError::Conflict(
                PRETTY_NAME_TAKEN,
                format!("the version has a document named {pretty_name:?} already"),
            ));
        }
        if c == checked.checksum {
            return Err(InteropError::Conflict(
                CHECKSUM_TAKEN,
                "the version has a file with the same content already".into(),
            ));
        }
    }
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO interop_documents (id, descriptor_id, kind, name, pretty_name, pretty_key, \
         content_type, checksum, size, content, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(descriptor_id)
    .bind(kind.as_str())
    .bind(&checked.file_name)
    .bind(&pretty_name)
    .bind(&pretty_key)
    .bind(checked.content_type)
    .bind(&checked.checksum)
    .bind(i64::try_from(new.upload.bytes.len()).unwrap_or(i64::MAX))
    .bind(new.upload.bytes.to_vec())
    .bind(new.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if kind == DocumentKind::Interface {
        set_server_urls(&mut tx, descriptor_id, &checked.server_urls).await?;
    }
    record(
        &mut tx,
        env,
        By {
            institution_id: producer_id,
            user_id: new.user_id,
        },
        eservice_id,
        descriptor_id,
        "interop.document.uploaded",
        &pretty_name,
    )
    .await?;
    tx.commit().await?;
    Ok(DocumentInfo {
        id,
        kind: kind.as_str(),
        name: checked.file_name,
        pretty_name,
        content_type: checked.content_type.to_string(),
        checksum: checked.checksum,
        size: i64::try_from(new.upload.bytes.len()).unwrap_or(i64::MAX),
        upload_date: now,
        kind_value: kind,
    })
}

async fn set_server_urls(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    descriptor_id: &str,
    urls: &[String],
) -> Result<(), InteropError> {
    let text = serde_json::to_string(urls).map_err(|e| corrupt(&e.to_string()))?;
    sqlx::query("UPDATE interop_descriptors SET server_urls = $1 WHERE id = $2")
        .bind(text)
        .bind(descriptor_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A file with its content, for download: the producer's own in any state; another
/// institution's once the version has left the draft (consumers read the interface of what
/// they subscribe to).
pub async fn content(
    db: &Db,
    env: Environment,
    caller_id: &str,
    eservice_id: &str,
    descriptor_id: &str,
    document_id: &str,
) -> Result<(DocumentInfo, Vec<u8>), InteropError> {
    let r = sqlx::query(&format!(
        "SELECT {}, x.content, d.state, e.producer_id FROM interop_documents x \
         JOIN interop_descriptors d ON d.id = x.descriptor_id \
         JOIN interop_eservices e ON e.id = d.eservice_id \
         WHERE x.id = $1 AND x.descriptor_id = $2 AND d.eservice_id = $3 AND e.env = $4",
        COLUMNS
            .split(", ")
            .map(|c| format!("x.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(document_id)
    .bind(descriptor_id)
    .bind(eservice_id)
    .bind(env.as_str())
    .fetch_optional(db.reader())
    .await?
    .ok_or(InteropError::NotFound)?;
    let producer_id: String = r.try_get("producer_id")?;
    let state: String = r.try_get("state")?;
    if producer_id != caller_id && state == DescriptorState::Draft.as_str() {
        return Err(InteropError::NotFound);
    }
    Ok((row(&r)?, r.try_get("content")?))
}

/// Deletes a file of the producer's version under the rule it came by; deleting the interface
/// clears the version's server URLs.
pub async fn delete(
    db: &Db,
    env: Environment,
    by: By<'_>,
    eservice_id: &str,
    descriptor_id: &str,
    document_id: &str,
) -> Result<(), InteropError> {
    let producer_id = by.institution_id;
    let mut tx = db.begin().await?;
    lock_own(db, &mut tx, env, producer_id, eservice_id).await?;
    let (state, _) = version_in(&mut tx, eservice_id, descriptor_id).await?;
    let kind: Option<(String, String)> = sqlx::query_as(
        "SELECT kind, pretty_name FROM interop_documents WHERE id = $1 AND descriptor_id = $2",
    )
    .bind(document_id)
    .bind(descriptor_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (kind, pretty_name) = kind.ok_or(InteropError::NotFound)?;
    let kind = DocumentKind::parse(&kind).ok_or(InteropError::NotFound)?;
    descriptor::delete_document(state, kind)?;
    sqlx::query("DELETE FROM interop_documents WHERE id = $1")
        .bind(document_id)
        .execute(&mut *tx)
        .await?;
    if kind == DocumentKind::Interface {
        set_server_urls(&mut tx, descriptor_id, &[]).await?;
    }
    record(
        &mut tx,
        env,
        by,
        eservice_id,
        descriptor_id,
        "interop.document.deleted",
        &pretty_name,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The activity record of a file's upload or deletion: the e-service, the version, the file's
/// name.
async fn record(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    env: Environment,
    by: By<'_>,
    eservice_id: &str,
    descriptor_id: &str,
    action: &str,
    pretty_name: &str,
) -> Result<(), InteropError> {
    let version: i64 = sqlx::query_scalar("SELECT version FROM interop_descriptors WHERE id = $1")
        .bind(descriptor_id)
        .fetch_one(&mut **tx)
        .await?;
    let mut details =
        super::catalogue::version_details(tx, env, eservice_id, &version.to_string()).await?;
    details["document"] = serde_json::json!(pretty_name);
    notices::record(tx, by, action, descriptor_id, details).await?;
    Ok(())
}

/// Deletes the files of a version that goes away, in the caller's transaction.
pub async fn delete_all_of(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    descriptor_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM interop_documents WHERE descriptor_id = $1")
        .bind(descriptor_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Drops the interfaces of an e-service's drafts (its technology changed: a REST interface
/// does not describe a SOAP service), in the caller's transaction.
pub async fn drop_draft_interfaces(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    eservice_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM interop_documents WHERE kind = 'INTERFACE' AND descriptor_id IN \
         (SELECT id FROM interop_descriptors WHERE eservice_id = $1 AND state = 'DRAFT')",
    )
    .bind(eservice_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE interop_descriptors SET server_urls = '[]' WHERE eservice_id = $1 \
         AND state = 'DRAFT'",
    )
    .bind(eservice_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
