//! The platform's plumbing, through the real HTTP server (SQLite, or PostgreSQL when
//! `SELFCARE_TEST_DATABASE_URL` is set).

mod client_addr;
mod db;
mod http;
