//! The Reserved Area: the entrance of every institution — login, institutions, products,
//! users and roles, and the identity token that opens a product back-office.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
pub mod admin;
mod api;
mod auth;
mod error;
mod exchange;
pub mod model;
mod pages;
mod routes;
pub mod settings;
mod state;
pub mod store;

use platform::Platform;
use platform::context::Started;
use platform::i18n::Sources;
use platform::verified::VerifiedCache;

pub use error::RaError;
pub use routes::{Access, RouteDecl, declared_routes, openapi};
pub use settings::Settings;
pub use state::TestIdentity;

use crate::state::{Inner, RaState};

/// This context's messages, in Italian and English.
pub const MESSAGES: Sources = Sources {
    context: "reserved-area",
    it: include_str!("../i18n/it.toml"),
    en: include_str!("../i18n/en.toml"),
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("product catalogue {path}: {reason}")]
    Catalogue { path: String, reason: String },
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
}

/// The product catalogue: the configured file, or the shipped one.
pub fn load_catalogue(settings: &Settings) -> Result<model::Catalogue, StartError> {
    let (path, text) = match &settings.products_file {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|e| StartError::Catalogue {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
        ),
        None => ("(shipped)".to_string(), model::DEFAULT_PRODUCTS.to_string()),
    };
    model::Catalogue::parse(&text).map_err(|e| StartError::Catalogue {
        path,
        reason: e.to_string(),
    })
}

/// The Reserved Area, ready to serve (it has no background work).
pub fn start(
    platform: Platform,
    settings: &Settings,
    test_identities: Vec<TestIdentity>,
) -> Result<Started, StartError> {
    settings.check(
        platform.http.listen,
        &platform.public_url,
        !platform.trusted_proxies.is_empty(),
    )?;
    let catalogue = load_catalogue(settings)?;
    let state = RaState::new(Inner {
        secure_cookies: platform.public_url.starts_with("https://"),
        platform,
        settings: settings.clone(),
        catalogue,
        test_identities,
        verified_tokens: VerifiedCache::new(state::VERIFIED_TOKENS),
    });
    Ok(Started::routes(routes::router().with_state(state)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalogues_have_the_same_keys() {
        super::MESSAGES.parse().unwrap();
    }

    #[test]
    fn every_users_message_is_in_both_catalogues() {
        let [it, en] = super::MESSAGES.parse().unwrap();
        for key in super::model::users::MESSAGE_KEYS {
            assert!(it.contains_key(*key) && en.contains_key(*key), "{key}");
        }
    }

    #[test]
    fn every_route_is_declared_once() {
        let routes = super::declared_routes();
        let mut seen = std::collections::HashSet::new();
        for r in &routes {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} twice",
                r.method,
                r.path
            );
        }
    }
}
