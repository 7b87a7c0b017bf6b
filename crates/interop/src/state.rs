use std::ops::Deref;
use std::sync::Arc;

use platform::Platform;
use platform::identity::IdentityVerifier;
use platform::keys::SigningKeys;

use platform::group_commit::GroupCommit;
use platform::jwt::RsaKeyMemo;
use platform::rate_limit::RateLimiter;

use crate::model::Environment;
use crate::model::token::Policy;
use crate::model::token::dpop::DpopPolicy;
use crate::settings::{EnvironmentSettings, TokenSettings};
use crate::store::tokens::VoucherRecord;

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
    /// The token endpoint's settings (`interop.token`).
    pub token: TokenSettings,
    /// What the token endpoint accepts in client assertions.
    pub policy: Policy,
    /// What it accepts in DPoP proofs.
    pub dpop: DpopPolicy,
    /// Keys a client holds at most.
    pub max_keys_per_client: usize,
    /// The token endpoint's rate limits (counted in this process).
    pub limits: Limits,
    /// The voucher records, written in group commits (one writer for both environments).
    pub vouchers: GroupCommit<VoucherRecord>,
    /// Their store ([`crate::open_vouchers`]).
    pub voucher_store: platform::db::Db,
    /// The clients' public keys, parsed once by their material.
    pub key_memo: RsaKeyMemo,
}

pub struct Limits {
    pub by_address: RateLimiter,
    pub by_consumer: RateLimiter,
}

impl EnvState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    /// A handle that does not keep the state (and its database) alive.
    pub fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.0)
    }

    pub fn upgrade(weak: &std::sync::Weak<Inner>) -> Option<Self> {
        weak.upgrade().map(Self)
    }
}

impl Deref for EnvState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
