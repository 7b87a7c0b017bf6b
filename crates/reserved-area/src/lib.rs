//! The Reserved Area: the entrance of every institution — login, institutions, products,
//! users and roles, and the identity token that opens a product back-office.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod pages;

use axum::Router;
use axum::routing::get;
use platform::Platform;
use platform::i18n::Sources;

/// This context's messages, in Italian and English.
pub const MESSAGES: Sources = Sources {
    context: "reserved-area",
    it: include_str!("../i18n/it.toml"),
    en: include_str!("../i18n/en.toml"),
};

pub fn router(platform: Platform) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .with_state(platform)
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalogues_have_the_same_keys() {
        super::MESSAGES.parse().unwrap();
    }
}
