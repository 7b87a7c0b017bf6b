//! The IO back-office's rules, pure: the service document and its validation, the lifecycle
//! and publication state machines, the review decision, API keys and logos. No IO here.

pub mod keys;
pub mod lifecycle;
pub mod logo;
pub mod review;
pub mod service;
pub mod topic;

/// One invalid field, named by its JSON path (`metadata.privacy_url`).
pub use platform::FieldError;

pub use keys::*;
pub use lifecycle::*;
pub use logo::*;
pub use review::*;
pub use service::*;
pub use topic::*;
