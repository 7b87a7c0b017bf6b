//! The old portal's rules, without IO: what a service holds and which values it accepts, who
//! may import what, and how the migration API sums it up.

mod login;
mod migration;
mod service;

pub use login::*;
pub use migration::*;
pub use platform::FieldError;
pub use service::*;

#[cfg(test)]
mod tests;
