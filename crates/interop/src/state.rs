use std::ops::Deref;
use std::sync::Arc;

use platform::Platform;
use platform::identity::IdentityVerifier;
use platform::keys::SigningKeys;

use crate::model::Environment;
use crate::settings::EnvironmentSettings;

/// What one environment's handlers share. Cheap to clone. Each environment has its own.
#[derive(Clone)]
pub struct EnvState(Arc<Inner>);

pub struct Inner {
    pub platform: Platform,
    pub env: Environment,
    pub settings: EnvironmentSettings,
    /// Verifies the identity tokens of this environment's product.
    pub verifier: IdentityVerifier,
    /// This environment's voucher keys (none configured: no vouchers, an empty JWKS).
    pub keys: Option<SigningKeys>,
    /// The `iss` of this environment's tokens.
    pub issuer: String,
}

impl EnvState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl Deref for EnvState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
