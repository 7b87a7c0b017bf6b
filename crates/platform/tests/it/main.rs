//! The platform's plumbing, through the real HTTP server (SQLite, or PostgreSQL when
//! `SELFCARE_TEST_DATABASE_URL` is set).

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client_addr;
mod db;
mod http;
mod identity;
mod mail;
mod once;
mod session;
