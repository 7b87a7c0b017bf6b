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

mod delegates;
mod migration;
mod services;
mod sessions;

pub use delegates::*;
pub(crate) use migration::*;
pub use services::*;
pub(crate) use sessions::*;

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
