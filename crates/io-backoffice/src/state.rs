use std::ops::Deref;
use std::sync::Arc;

use platform::Platform;
use platform::identity::IdentityVerifier;

use crate::secrets::KeyRing;

/// What the IO back-office's handlers share. Cheap to clone.
#[derive(Clone)]
pub struct IoState(Arc<Inner>);

pub struct Inner {
    pub platform: Platform,
    pub ring: Arc<KeyRing>,
    pub verifier: IdentityVerifier,
    pub importer: crate::import::Importer,
}

impl IoState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl Deref for IoState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
