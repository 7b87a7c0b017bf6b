//! Plumbing every selfcare context uses: the database handle, configuration, errors mapped to
//! HTTP, the HTTP server and its middleware, metrics, signing keys, the HTML layout with its
//! message catalogues, and the validated value types shared by all contexts.

pub mod audit;
pub mod backoffice;
pub mod client_addr;
pub mod config;
pub mod context;
pub mod db;
pub mod error;
pub mod group_commit;
pub mod health;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod ids;
pub mod jwt;
pub mod keys;
pub mod layout;
pub mod mail;
pub mod metrics;
pub mod once;
pub mod openapi;
pub mod page_error;
pub mod paging;
pub mod rate_limit;
pub mod revocation;
pub mod routes;
pub mod search;
pub mod server;
pub mod session;
pub mod shell;
pub mod telemetry;
pub mod timestamp;
pub mod types;
pub mod verified;
pub mod web;

mod state;

pub use error::Problem;
pub use state::{Platform, PlatformInner};
pub use timestamp::Timestamp;
pub use web::{Cookie, FieldError};
