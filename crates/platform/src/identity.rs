//! Identity tokens: the RS256 JWT (`typ: "ID"`) with which the Reserved Area hands a person,
//! their institution and their roles on one product to that product's back-office, and the
//! one reusable verifier every back-office uses to accept them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::db::Db;
use crate::jwt::{self, JwtError, Unverified, now_secs, rsa_components};
use crate::keys::SigningKeys;

/// The claim `typ` of identity tokens.
pub const IDENTITY_TYP: &str = "ID";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRole {
    #[serde(rename = "partyRole")]
    pub party_role: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub fiscal_code: String,
    #[serde(rename = "ipaCode")]
    pub ipa_code: String,
    pub roles: Vec<OrgRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(
        rename = "subUnitCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sub_unit_code: Option<String>,
    #[serde(
        rename = "subUnitType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sub_unit_type: Option<String>,
    #[serde(
        rename = "rootParent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub root_parent: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityClaims {
    pub jti: String,
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// When the Reserved Area session ends: no back-office session may outlive it.
    pub desired_exp: i64,
    pub typ: String,
    pub fiscal_number: String,
    pub name: String,
    pub family_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub spid_level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    /// The Reserved Area session this token came from.
    pub sid: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub platform_operator: bool,
}

/// Signs identity-token claims with the active key.
pub fn issue(keys: &SigningKeys, claims: &IdentityClaims) -> Result<String, JwtError> {
    let key = keys.active().ok_or(JwtError::Sign)?;
    jwt::sign(key, "JWT", claims)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed token: {0}")]
    Token(#[from] JwtError),
    #[error("not an identity token")]
    WrongType,
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("expired")]
    Expired,
    #[error("no roles")]
    NoRoles,
    #[error("already used")]
    Replayed,
    #[error("cannot verify now: {0}")]
    Unavailable(String),
}

/// Verifies identity tokens for one back-office (one audience): signature by a key of the
/// issuer's JWKS (fetched over HTTP and cached; fetched again, at most every 10 s, when a
/// token names an unknown key), `iss`, `aud`, `exp`, `typ`, roles present, and each `jti`
/// accepted once across all instances (recorded in the database until the token expires).
pub struct IdentityVerifier {
    issuer: String,
    audience: String,
    jwks_url: String,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, RsaPublic>>,
    last_fetch: Mutex<Option<Instant>>,
    db: Db,
}

/// An RSA public key as its big-endian modulus and exponent.
type RsaPublic = (Vec<u8>, Vec<u8>);

const REFETCH_INTERVAL: Duration = Duration::from_secs(10);

impl IdentityVerifier {
    pub fn new(db: Db, issuer: &str, audience: &str, jwks_url: &str) -> Self {
        Self {
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            jwks_url: jwks_url.to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
            db,
        }
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    async fn key(&self, kid: &str) -> Result<RsaPublic, VerifyError> {
        if let Some(k) = self.keys.read().await.get(kid) {
            return Ok(k.clone());
        }
        let may_fetch = {
            let mut last = self.last_fetch.lock().map_err(|_| JwtError::UnknownKey)?;
            let due = last.is_none_or(|t| t.elapsed() >= REFETCH_INTERVAL);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if may_fetch {
            let jwks: serde_json::Value = self
                .http
                .get(&self.jwks_url)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| VerifyError::Unavailable(e.to_string()))?
                .json()
                .await
                .map_err(|e| VerifyError::Unavailable(e.to_string()))?;
            let mut keys = self.keys.write().await;
            keys.clear();
            for jwk in jwks["keys"].as_array().into_iter().flatten() {
                if let (Some(kid), Some(ne)) = (jwk["kid"].as_str(), rsa_components(jwk)) {
                    keys.insert(kid.to_string(), ne);
                }
            }
            if let Some(k) = keys.get(kid) {
                return Ok(k.clone());
            }
        }
        Err(JwtError::UnknownKey.into())
    }

    /// Checks everything but the one-time use of the `jti` (see [`Self::verify`]).
    pub async fn check(&self, token: &str) -> Result<IdentityClaims, VerifyError> {
        let parsed = Unverified::parse(token)?;
        let kid = parsed.kid().ok_or(JwtError::UnknownKey)?.to_string();
        let (n, e) = self.key(&kid).await?;
        let claims: IdentityClaims = parsed.verify(&n, &e).map_err(|e| match e {
            // Valid signature, other claims: a session token or another kind.
            JwtError::Claims(_) => VerifyError::WrongType,
            other => VerifyError::Token(other),
        })?;
        if claims.typ != IDENTITY_TYP {
            return Err(VerifyError::WrongType);
        }
        if claims.iss != self.issuer {
            return Err(VerifyError::WrongIssuer);
        }
        if claims.aud != self.audience {
            return Err(VerifyError::WrongAudience);
        }
        if claims.exp <= now_secs() {
            return Err(VerifyError::Expired);
        }
        let has_roles = claims
            .organization
            .as_ref()
            .is_some_and(|o| !o.roles.is_empty());
        if !has_roles && !claims.platform_operator {
            return Err(VerifyError::NoRoles);
        }
        Ok(claims)
    }

    /// Verifies a token and spends its `jti`: a second presentation, here or on any other
    /// instance sharing the database, is refused.
    pub async fn verify(&self, token: &str) -> Result<IdentityClaims, VerifyError> {
        let claims = self.check(token).await?;
        let inserted = sqlx::query(
            "INSERT INTO used_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
        )
        .bind(&claims.jti)
        .bind(claims.exp)
        .execute(self.db.writer())
        .await
        .map_err(|e| VerifyError::Unavailable(e.to_string()))?;
        if inserted.rows_affected() == 0 {
            return Err(VerifyError::Replayed);
        }
        Ok(claims)
    }
}
