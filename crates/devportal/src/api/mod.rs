//! The JSON API: the migration API the IO back-office's import reads.

pub mod migration;
