//! The Reserved Area's domain rules, free of IO: the product catalogue, party roles and
//! authorities, what each authority may do, the dashboard's product cards and when an identity
//! token may be exchanged.

pub mod activity;
mod catalogue;
mod grants;
mod roles;
pub mod users;

pub use catalogue::*;
pub use grants::*;
pub use roles::*;

#[cfg(test)]
mod tests;
