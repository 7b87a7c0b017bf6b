//! Subscriptions and their key pairs (encrypted under the key ring), and the addresses a key
//! may be used from.

use std::sync::LazyLock;

use platform::db::hot::{HotRow, Param, Sql};
use platform::db::{Db, now_millis};
use sqlx::{Any, Row, Transaction};

use super::{Tenant, corrupt, is_unique_violation};
use crate::error::IoError;
use crate::model::{self, KeyType, SubscriptionKind};
use crate::secrets::{ApiKey, KeyRing};

pub(crate) async fn insert_key(
    tx: &mut Transaction<'static, Any>,
    ring: &KeyRing,
    subscription_id: &str,
    key_type: KeyType,
    key: &ApiKey,
    now: i64,
) -> Result<(), IoError> {
    let (master, sealed) = ring.encrypt(key, &bound_to(subscription_id, key_type))?;
    sqlx::query(
        "INSERT INTO io_api_keys (subscription_id, key_type, key_hash, master_key_id, sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(subscription_id)
    .bind(key_type.as_str())
    .bind(key.hash())
    .bind(master)
    .bind(sealed)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) fn bound_to(subscription_id: &str, key_type: KeyType) -> String {
    format!("{subscription_id}/{}", key_type.as_str())
}

pub(crate) async fn insert_subscription(
    tx: &mut Transaction<'static, Any>,
    ring: &KeyRing,
    id: &str,
    institution_id: &str,
    kind: SubscriptionKind,
    keys: Option<(&ApiKey, &ApiKey)>,
    now: i64,
) -> Result<(), IoError> {
    sqlx::query(
        "INSERT INTO io_subscriptions (id, institution_id, kind, cidrs, created_at) \
         VALUES ($1, $2, $3, '[]', $4)",
    )
    .bind(id)
    .bind(institution_id)
    .bind(kind.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let (primary, secondary) = match keys {
        Some((p, s)) => (p.clone(), s.clone()),
        None => (ApiKey::generate()?, ApiKey::generate()?),
    };
    insert_key(tx, ring, id, KeyType::Primary, &primary, now).await?;
    insert_key(tx, ring, id, KeyType::Secondary, &secondary, now).await?;
    Ok(())
}

/// Creates the institution's root manage key pair if it has none yet.
pub async fn ensure_manage_subscription(
    db: &Db,
    ring: &KeyRing,
    institution_id: &str,
) -> Result<(), IoError> {
    let id = model::manage_subscription_id(institution_id);
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM io_subscriptions WHERE id = $1")
            .bind(&id)
            .fetch_optional(db.reader())
            .await?;
    if exists.is_some() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    let now = now_millis();
    let again: Option<String> = sqlx::query_scalar("SELECT id FROM io_subscriptions WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
    if again.is_none() {
        match insert_subscription(
            &mut tx,
            ring,
            &id,
            institution_id,
            SubscriptionKind::ManageRoot,
            None,
            now,
        )
        .await
        {
            Ok(()) => {}
            // Another instance made it at the same moment: theirs stands.
            Err(IoError::Sql(e)) if is_unique_violation(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A key pair in clear.
#[derive(Debug, Clone)]
pub struct KeyPair {
    pub primary: ApiKey,
    pub secondary: ApiKey,
}

/// A subscription (key pair owner).
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub institution_id: String,
    pub kind: SubscriptionKind,
    pub cidrs: Vec<String>,
}

pub(crate) fn subscription_row<R: HotRow + ?Sized>(r: &R) -> Result<Subscription, sqlx::Error> {
    let kind = r.required_text("kind")?;
    let cidrs = r.required_text("cidrs")?;
    Ok(Subscription {
        id: r.required_text("id")?,
        institution_id: r.required_text("institution_id")?,
        kind: SubscriptionKind::parse(&kind).ok_or_else(|| corrupt("subscription kind"))?,
        cidrs: serde_json::from_str(&cidrs).map_err(|_| corrupt("cidrs"))?,
    })
}

pub async fn subscription(db: &Db, id: &str) -> Result<Option<Subscription>, IoError> {
    let row =
        sqlx::query("SELECT id, institution_id, kind, cidrs FROM io_subscriptions WHERE id = $1")
            .bind(id)
            .fetch_optional(db.reader())
            .await?;
    Ok(row.as_ref().map(subscription_row).transpose()?)
}

pub async fn subscriptions(
    db: &Db,
    institution_id: &str,
    kind: SubscriptionKind,
) -> Result<Vec<Subscription>, IoError> {
    let rows = sqlx::query(
        "SELECT id, institution_id, kind, cidrs FROM io_subscriptions \
         WHERE institution_id = $1 AND kind = $2 ORDER BY id",
    )
    .bind(institution_id)
    .bind(kind.as_str())
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .iter()
        .map(subscription_row)
        .collect::<Result<_, _>>()?)
}

/// The keys of a subscription, decrypted.
pub async fn keys(db: &Db, ring: &KeyRing, subscription_id: &str) -> Result<KeyPair, IoError> {
    let rows = sqlx::query(
        "SELECT key_type, master_key_id, sealed FROM io_api_keys WHERE subscription_id = $1",
    )
    .bind(subscription_id)
    .fetch_all(db.reader())
    .await?;
    let mut primary = None;
    let mut secondary = None;
    for r in &rows {
        let kt: String = r.try_get("key_type")?;
        let Some(kt) = KeyType::parse(&kt) else {
            continue;
        };
        let master: String = r.try_get("master_key_id")?;
        let sealed: String = r.try_get("sealed")?;
        let key = ring.decrypt(&master, &sealed, &bound_to(subscription_id, kt))?;
        match kt {
            KeyType::Primary => primary = Some(key),
            KeyType::Secondary => secondary = Some(key),
        }
    }
    match (primary, secondary) {
        (Some(primary), Some(secondary)) => Ok(KeyPair { primary, secondary }),
        _ => Err(IoError::NotFound),
    }
}

/// Replaces one key: the old one stops working when this commits.
pub async fn regenerate(
    db: &Db,
    ring: &KeyRing,
    subscription_id: &str,
    key_type: KeyType,
) -> Result<KeyPair, IoError> {
    let key = ApiKey::generate()?;
    let (master, sealed) = ring.encrypt(&key, &bound_to(subscription_id, key_type))?;
    let done = sqlx::query(
        "UPDATE io_api_keys SET key_hash = $1, master_key_id = $2, sealed = $3, created_at = $4 \
         WHERE subscription_id = $5 AND key_type = $6",
    )
    .bind(key.hash())
    .bind(master)
    .bind(sealed)
    .bind(now_millis())
    .bind(subscription_id)
    .bind(key_type.as_str())
    .execute(db.writer())
    .await?;
    if done.rows_affected() == 0 {
        return Err(IoError::NotFound);
    }
    keys(db, ring, subscription_id).await
}

pub async fn set_cidrs(db: &Db, subscription_id: &str, cidrs: &[String]) -> Result<(), IoError> {
    let json = serde_json::to_string(cidrs).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    sqlx::query("UPDATE io_subscriptions SET cidrs = $1 WHERE id = $2")
        .bind(json)
        .bind(subscription_id)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Who a presented key belongs to: one indexed read.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    pub subscription: Subscription,
    pub tenant: Tenant,
}

pub async fn key_owner(db: &Db, key: &ApiKey) -> Result<Option<KeyOwner>, IoError> {
    // Every call of the manage and service APIs starts here: a point read by the key's hash
    // (unique index), on the native driver (on the calling thread on SQLite), where a client
    // presenting the same key again is answered from the connection's earlier read as long as
    // nothing was committed since (`fetch_optional_remembered`).
    static OWNER: LazyLock<Sql> = LazyLock::new(|| {
        Sql::new(
            "SELECT s.id, s.institution_id, s.kind, s.cidrs, i.name, i.fiscal_code \
             FROM io_api_keys k JOIN io_subscriptions s ON s.id = k.subscription_id \
             JOIN io_institutions i ON i.id = s.institution_id WHERE k.key_hash = $1",
        )
    });
    let hash = key.hash();
    let owner = db
        .hot()
        .fetch_optional_remembered(&OWNER, &[Param::text(&hash)], |r| {
            let subscription = subscription_row(r)?;
            Ok(KeyOwner {
                tenant: Tenant {
                    institution_id: subscription.institution_id.clone(),
                    name: r.required_text("name")?,
                    fiscal_code: r.required_text("fiscal_code")?,
                },
                subscription,
            })
        })
        .await?;
    Ok(owner)
}

/// Re-encrypts every stored key under the newest master key; returns how many changed.
pub async fn rekey(db: &Db, ring: &KeyRing) -> Result<u64, IoError> {
    let newest = ring.newest_id().to_string();
    let rows = sqlx::query(
        "SELECT subscription_id, key_type, master_key_id, sealed FROM io_api_keys \
         WHERE master_key_id <> $1",
    )
    .bind(&newest)
    .fetch_all(db.reader())
    .await?;
    let mut tx = db.begin().await?;
    let mut changed = 0;
    for r in &rows {
        let sub: String = r.try_get("subscription_id")?;
        let kt: String = r.try_get("key_type")?;
        let Some(kt) = KeyType::parse(&kt) else {
            continue;
        };
        let master: String = r.try_get("master_key_id")?;
        let sealed: String = r.try_get("sealed")?;
        let bound = bound_to(&sub, kt);
        let key = ring.decrypt(&master, &sealed, &bound)?;
        let (id, resealed) = ring.encrypt(&key, &bound)?;
        changed += sqlx::query(
            "UPDATE io_api_keys SET master_key_id = $1, sealed = $2 \
             WHERE subscription_id = $3 AND key_type = $4 AND sealed = $5",
        )
        .bind(id)
        .bind(resealed)
        .bind(&sub)
        .bind(kt.as_str())
        .bind(&sealed)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(changed)
}
