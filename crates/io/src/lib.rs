//! The App IO back-office: services, lifecycle, API keys, the manage API, the import job.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use platform::Platform;

pub fn router(platform: Platform) -> Router {
    let _ = platform;
    Router::new()
}
