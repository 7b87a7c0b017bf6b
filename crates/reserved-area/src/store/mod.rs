//! The Reserved Area's SQL: institutions, onboardings, people, roles, platform operators.

use platform::db::{Db, now_millis};
use sqlx::{Any, Executor, FromRow, Row, Transaction};

mod audit;
mod institutions;
mod roles;
mod users;

pub use audit::*;
pub use institutions::*;
pub use roles::*;
pub use users::*;
