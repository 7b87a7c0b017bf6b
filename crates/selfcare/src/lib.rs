//! The selfcare binary's library: settings, wiring of the contexts into one app, the `demo`
//! preparations. `main.rs` is only the command line.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod app;
pub mod demo;
pub mod demo_devportal;
pub mod demo_gateway;
pub mod gateway;
pub mod settings;

pub use app::{App, StartError};
pub use settings::{Mode, Settings};
