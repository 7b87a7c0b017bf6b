//! The HTML pages, beside their templates' structs.

pub mod audit;
pub mod dashboard;
pub mod error;
pub mod home;
pub mod login;
pub mod oidc;
pub mod operator;
pub mod users;
