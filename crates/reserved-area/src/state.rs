use std::ops::Deref;
use std::sync::Arc;

use platform::Platform;
use platform::verified::VerifiedCache;
use serde::Serialize;

use crate::auth::VerifiedSessionToken;
use crate::model::Catalogue;
use crate::settings::Settings;

/// A person the test identity provider lists (demo data).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestIdentity {
    pub fiscal_number: String,
    pub name: String,
    pub family_name: String,
    /// What this person can do, in one line.
    pub description: String,
}

/// How many verified bearer session tokens are kept (a few hundred bytes each).
pub const VERIFIED_TOKENS: usize = 10_000;

#[derive(Clone)]
pub struct RaState {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub platform: Platform,
    pub settings: Settings,
    pub catalogue: Catalogue,
    pub test_identities: Vec<TestIdentity>,
    pub secure_cookies: bool,
    /// Bearer session tokens that passed, by their text (`auth::from_bearer`).
    pub verified_tokens: VerifiedCache<VerifiedSessionToken>,
}

impl RaState {
    pub fn new(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
}

impl Deref for RaState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}
