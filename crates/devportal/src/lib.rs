//! The legacy IO Developer Portal: its own database, login, pages and migration API.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use platform::Platform;

pub fn router(platform: Platform) -> Router {
    let _ = platform;
    Router::new()
}
