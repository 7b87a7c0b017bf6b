//! The `selfcare` binary as a process (kill, restart, signals, start-up errors), its command
//! line, and the browser tests.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accessibility;
mod attributes;
mod browser;
mod cli;
mod config_doc;
mod demo_seed;
mod gateway;
mod guide_import_en;
mod import;
mod openapi;
mod process;
mod producer;
mod words;

use std::path::Path;

/// The binary cargo built for these tests.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_selfcare"))
}

/// Runs the binary with `args` and `env`, which must fail: its stderr.
pub async fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = testkit::run_binary(bin(), args, env).await;
    assert!(!out.status.success(), "{args:?} must fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
