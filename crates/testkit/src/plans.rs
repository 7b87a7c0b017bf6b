//! The query-plan checks of the lists: each list's statement, as its store runs it, asked of
//! the engine under test (SQLite, or PostgreSQL when `SELFCARE_TEST_DATABASE_URL` is set) on
//! a freshly migrated database.

use platform::db::plan::{self, ListStatement};

use crate::TestDb;

/// Fails, printing the plan, when the engine would read a whole table (or a whole index) to
/// answer `statement`.
pub async fn assert_indexed(statement: &ListStatement) {
    let db = TestDb::new().await;
    let conn = db.connect().await;
    conn.migrate().await.expect("migrate the test database");
    let found = plan::explain(&conn, &statement.sql, &statement.args)
        .await
        .unwrap_or_else(|e| panic!("{}: the plan of `{}`: {e}", statement.name, statement.sql));
    if std::env::var_os("SELFCARE_PRINT_PLANS").is_some() {
        eprintln!("{} on {:?}:\n{found}", statement.name, found.dialect);
    }
    let scans = found.full_scans_of(statement);
    let sorts = if statement.paged {
        found.sorted_pages()
    } else {
        Vec::new()
    };
    conn.close().await;
    assert!(
        scans.is_empty(),
        "{} reads a whole table or index ({scans:?}) on {:?}:\n{found}\nstatement: {}",
        statement.name,
        found.dialect,
        statement.sql
    );
    assert!(
        sorts.is_empty(),
        "{} sorts every matching row to cut a page ({sorts:?}) on {:?}: its order needs an index\n{found}\nstatement: {}",
        statement.name,
        found.dialect,
        statement.sql
    );
}

/// The statement of `lists` named `name` (a test per list names the list it checks).
pub fn named(lists: &[ListStatement], name: &str) -> ListStatement {
    lists
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no list statement named {name}"))
}

/// Fails when a statement of `lists` is not among `tested`.
pub fn assert_all_tested(lists: &[ListStatement], tested: &[&str]) {
    let missing: Vec<&str> = lists
        .iter()
        .map(|s| s.name.as_ref())
        .filter(|name| !tested.contains(name))
        .collect();
    assert!(missing.is_empty(), "lists without a plan test: {missing:?}");
}

/// One `#[tokio::test]` per list, and one that every list published has its test:
/// `plan_tests!(store::list_statements(); users_page => "reserved_area.users.page", ...)`.
#[macro_export]
macro_rules! plan_tests {
    ($lists:expr; $($test:ident => $name:literal),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                $crate::plans::assert_indexed(&$crate::plans::named(&$lists, $name)).await;
            }
        )+

        #[test]
        fn every_list_has_a_plan_test() {
            $crate::plans::assert_all_tested(&$lists, &[$($name),+]);
        }
    };
}
