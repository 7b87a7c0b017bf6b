use std::ops::Deref;
use std::sync::Arc;

use platform::Platform;
use serde::Serialize;

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
