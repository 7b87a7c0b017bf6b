//! The Reserved Area through the real HTTP server.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_doc;
mod dashboard;
mod home;
mod isolation;
mod login;
mod oidc;
mod users;

pub use testkit::demo::{
    ANNA, COMUNE, GIULIA, LUCA, MARIO, PAGOPA, PAOLO, REGIONE, institution_id, session_token,
};

pub use testkit::{hidden_field, logged_in as browser};
