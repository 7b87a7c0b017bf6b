//! The Reserved Area's SQL: institutions, onboardings, people, roles, platform operators.

use std::sync::LazyLock;

use platform::db::hot::{HotRow, Param, Sql};
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

/// The statements of the Reserved Area's lists, as the store runs them, with sample values:
/// the query-plan tests (`tests/it/plans.rs`) check that an index answers each.
pub fn list_statements() -> Vec<platform::db::plan::ListStatement> {
    use platform::db::plan::{Arg, ListStatement};
    let mut out = member_list_statements();
    out.push(
        ListStatement::new(
            "reserved_area.audit.page",
            audit::AUDIT_TRAIL_SQL,
            vec![
                Arg::from("inst-1"),
                Arg::from("user.%"),
                Arg::from(""),
                Arg::Int(0),
                Arg::Int(i64::MAX),
                Arg::Int(21),
                Arg::Int(2000),
            ],
        )
        .paged(),
    );
    out.push(
        ListStatement::new("reserved_area.users.unkeyed", users::UNKEYED_SQL, vec![])
            .reading_partial_index("user_institutions_unkeyed"),
    );
    out.push(ListStatement::new(
        "reserved_area.institutions.of_user",
        institutions::institutions_of_user_sql(),
        vec![Arg::from("user-1")],
    ));
    out
}
