//! Query plans: what the engine would read to answer a statement, and whether it would read a
//! whole table (or a whole index) to do it.
//!
//! Every list of the product is paged with an index behind it; each context publishes its list
//! statements ([`ListStatement`]) and the tests ask both engines for their plans
//! ([`explain`]), so that a list that would scan a whole table fails a test rather than a
//! national-scale deployment.
//!
//! - **SQLite**: `EXPLAIN QUERY PLAN`. A line `SCAN t` reads the whole table, `SCAN t USING
//!   [COVERING] INDEX i` the whole index; `SEARCH t USING ...` reads a range.
//! - **PostgreSQL**: `EXPLAIN (COSTS OFF)` on a connection with `enable_seqscan = off`, so that
//!   the planner of a near-empty test database takes an index whenever one can serve (a table
//!   with no usable index is still read sequentially). A `Seq Scan` reads the whole table; an
//!   `Index Scan` or `Index Only Scan` without an `Index Cond` reads the whole index.

use sqlx::{Executor, Row};

use super::{Db, Dialect};

/// A value bound to a statement's placeholder when its plan is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Int(i64),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

/// One list's statement, exactly as the store runs it, with values for its placeholders.
#[derive(Debug, Clone)]
pub struct ListStatement {
    /// What the list is, e.g. `reserved_area.users.all.page`.
    pub name: std::borrow::Cow<'static, str>,
    pub sql: String,
    pub args: Vec<Arg>,
    /// Partial indexes the statement may read whole: each holds only the rows still to be
    /// worked on (empty in the steady state), so reading it whole reads nothing.
    pub partial_indexes: Vec<&'static str>,
    /// A page (`ORDER BY … LIMIT … OFFSET …`): its order must come from an index, not from
    /// sorting every row that matches.
    pub paged: bool,
}

impl ListStatement {
    pub fn new(
        name: impl Into<std::borrow::Cow<'static, str>>,
        sql: impl Into<String>,
        args: Vec<Arg>,
    ) -> Self {
        ListStatement {
            name: name.into(),
            sql: sql.into(),
            args,
            partial_indexes: Vec::new(),
            paged: false,
        }
    }

    /// The statement is a page of its list: [`Plan::sorted_pages`] must find no sort.
    pub fn paged(mut self) -> Self {
        self.paged = true;
        self
    }

    /// The statement reads the partial index `index` whole, by design.
    pub fn reading_partial_index(mut self, index: &'static str) -> Self {
        self.partial_indexes.push(index);
        self
    }
}

/// The engine's plan of one statement.
#[derive(Debug, Clone)]
pub struct Plan {
    pub dialect: Dialect,
    /// The plan as the engine prints it, one line each.
    pub lines: Vec<String>,
    /// On SQLite, each line's `(id, parent)` in the plan's tree.
    pub tree: Vec<(i64, i64)>,
}

impl Plan {
    /// The lines of the plan that read a whole table or a whole index, but for the partial
    /// indexes the statement names.
    pub fn full_scans_of(&self, statement: &ListStatement) -> Vec<String> {
        self.full_scans()
            .into_iter()
            .filter(|line| {
                !statement.partial_indexes.iter().any(|index| {
                    line.ends_with(&format!(" INDEX {index}"))
                        || line.contains(&format!(" using {index} on "))
                })
            })
            .collect()
    }

    /// The sorts that put a page in order when an index should: on PostgreSQL a `Sort` right
    /// under a `Limit`; on SQLite a temporary B-tree for the ORDER BY of the query level that
    /// pages (the innermost subquery when there is one, else the statement itself). A sort
    /// of the page's own rows above it is fine.
    pub fn sorted_pages(&self) -> Vec<String> {
        match self.dialect {
            Dialect::Postgres => {
                let mut out = Vec::new();
                let mut under_limit = false;
                for line in &self.lines {
                    let node = line.trim_start().trim_start_matches("->").trim_start();
                    let is_node = line.trim_start().starts_with("->") || !line.starts_with(' ');
                    if !is_node {
                        continue;
                    }
                    if under_limit && node.starts_with("Sort") {
                        out.push(line.trim().to_string());
                    }
                    under_limit = node.starts_with("Limit");
                }
                out
            }
            Dialect::Sqlite => {
                let subquery_ids: Vec<i64> = self
                    .lines
                    .iter()
                    .zip(&self.tree)
                    .filter(|(l, _)| l.starts_with("CO-ROUTINE ") || l.starts_with("MATERIALIZE "))
                    .map(|(_, (id, _))| *id)
                    .collect();
                let parent_of = |id: i64| {
                    self.tree
                        .iter()
                        .find(|(i, _)| *i == id)
                        .map(|(_, p)| *p)
                        .unwrap_or(0)
                };
                let in_subquery = |mut id: i64| {
                    while id != 0 {
                        if subquery_ids.contains(&id) {
                            return true;
                        }
                        id = parent_of(id);
                    }
                    false
                };
                self.lines
                    .iter()
                    .zip(&self.tree)
                    .filter(|(l, (_, parent))| {
                        l.as_str() == "USE TEMP B-TREE FOR ORDER BY"
                            && (subquery_ids.is_empty() || in_subquery(*parent))
                    })
                    .map(|(l, _)| l.clone())
                    .collect()
            }
        }
    }

    /// The lines of the plan that read a whole table or a whole index.
    pub fn full_scans(&self) -> Vec<String> {
        match self.dialect {
            Dialect::Sqlite => {
                // A subquery's rows, already bounded by its own plan, are read whole.
                let subqueries: Vec<&str> = self
                    .lines
                    .iter()
                    .filter_map(|l| {
                        let l = l.trim();
                        l.strip_prefix("CO-ROUTINE ")
                            .or_else(|| l.strip_prefix("MATERIALIZE "))
                    })
                    .collect();
                self.lines
                    .iter()
                    .filter(|l| {
                        let l = l.trim();
                        l.strip_prefix("SCAN ").is_some_and(|what| {
                            what != "CONSTANT ROW" && !subqueries.contains(&what)
                        })
                    })
                    .cloned()
                    .collect()
            }
            Dialect::Postgres => postgres_full_scans(&self.lines),
        }
    }
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for line in &self.lines {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

/// PostgreSQL's text plan: `Seq Scan` nodes, and index scans without an `Index Cond` among
/// the lines of their node.
fn postgres_full_scans(lines: &[String]) -> Vec<String> {
    let is_node = |l: &str| {
        let t = l.trim_start();
        t.starts_with("->") || !l.starts_with(' ')
    };
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("Seq Scan on ") {
            out.push(line.trim().to_string());
            continue;
        }
        if line.contains("Index Scan using ") || line.contains("Index Only Scan using ") {
            let has_cond = lines[i + 1..]
                .iter()
                .take_while(|l| !is_node(l))
                .any(|l| l.trim_start().starts_with("Index Cond:"));
            if !has_cond {
                out.push(line.trim().to_string());
            }
        }
    }
    out
}

/// Asks the engine for its plan of `sql` with `args` bound.
pub async fn explain(db: &Db, sql: &str, args: &[Arg]) -> Result<Plan, sqlx::Error> {
    let mut conn = db.reader().acquire().await?;
    let dialect = db.dialect();
    let text = match dialect {
        Dialect::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        Dialect::Postgres => {
            conn.execute("SET enable_seqscan = off").await?;
            format!("EXPLAIN (COSTS OFF) {sql}")
        }
    };
    let mut query = sqlx::query(&text);
    for arg in args {
        query = match arg {
            Arg::Text(v) => query.bind(v.clone()),
            Arg::Int(v) => query.bind(*v),
        };
    }
    let rows = query.fetch_all(&mut *conn).await;
    if dialect == Dialect::Postgres {
        conn.execute("RESET enable_seqscan").await?;
    }
    let rows = rows?;
    let lines = rows
        .iter()
        .map(|r| match dialect {
            Dialect::Sqlite => r.try_get::<String, _>("detail"),
            Dialect::Postgres => r.try_get::<String, _>(0),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tree = match dialect {
        Dialect::Sqlite => rows
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>("id")?, r.try_get::<i64, _>("parent")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?,
        Dialect::Postgres => Vec::new(),
    };
    Ok(Plan {
        dialect,
        lines,
        tree,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(lines: &[&str]) -> Vec<String> {
        postgres_full_scans(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn postgres_plans_name_their_whole_scans() {
        assert_eq!(pg(&["Seq Scan on users"]), vec!["Seq Scan on users"]);
        assert!(
            pg(&[
                "Limit",
                "  ->  Index Scan using users_name on users u",
                "        Index Cond: (institution_id = $1)",
                "        Filter: (status <> 'DELETED'::text)",
            ])
            .is_empty()
        );
        assert_eq!(
            pg(&[
                "Limit",
                "  ->  Index Only Scan using eservices_name on interop_eservices e",
                "        Filter: (name_key ~~ $2)",
                "  ->  Index Scan using x on t",
                "        Index Cond: (a = $1)",
            ]),
            vec!["->  Index Only Scan using eservices_name on interop_eservices e"]
        );
    }

    #[test]
    fn a_page_sorted_instead_of_read_in_index_order_is_named() {
        let lines = |l: &[&str]| l.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        let pg = Plan {
            dialect: Dialect::Postgres,
            tree: vec![],
            lines: lines(&[
                "Sort",
                "  Sort Key: ui.sort_key, r.product_id",
                "  ->  Nested Loop",
                "        ->  Limit",
                "              ->  Sort",
                "                    Sort Key: ui.sort_key",
                "                    ->  Bitmap Heap Scan on user_institutions ui",
            ]),
        };
        assert_eq!(pg.sorted_pages(), vec!["->  Sort"]);
        let indexed = Plan {
            lines: lines(&[
                "Limit",
                "  ->  Index Scan using x on t",
                "        Index Cond: (a = $1)",
            ]),
            ..pg
        };
        assert!(indexed.sorted_pages().is_empty());
        // SQLite: the subquery's sort is the page's; the outer one sorts the page's rows.
        let sqlite = Plan {
            dialect: Dialect::Sqlite,
            tree: vec![(2, 0), (5, 2), (9, 2), (20, 0), (30, 0)],
            lines: lines(&[
                "CO-ROUTINE p",
                "SEARCH ui USING INDEX user_institutions_institution (institution_id=?)",
                "USE TEMP B-TREE FOR ORDER BY",
                "SCAN p",
                "USE TEMP B-TREE FOR ORDER BY",
            ]),
        };
        assert_eq!(sqlite.sorted_pages(), vec!["USE TEMP B-TREE FOR ORDER BY"]);
        let flat = Plan {
            dialect: Dialect::Sqlite,
            tree: vec![(3, 0), (8, 0)],
            lines: lines(&[
                "SEARCH a USING INDEX audit_log_institution_at (institution_id=?)",
                "USE TEMP B-TREE FOR ORDER BY",
            ]),
        };
        assert_eq!(flat.sorted_pages().len(), 1);
    }

    #[test]
    fn sqlite_plans_name_their_whole_scans() {
        let plan = Plan {
            dialect: Dialect::Sqlite,
            tree: vec![(1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0)],
            lines: [
                "SEARCH r USING INDEX product_roles_institution_product (institution_id=?)",
                "SCAN u",
                "SCAN e USING INDEX interop_eservices_name",
                "SCAN CONSTANT ROW",
                "CO-ROUTINE p",
                "SCAN p",
                "USE TEMP B-TREE FOR ORDER BY",
            ]
            .iter()
            .map(|l| l.to_string())
            .collect(),
        };
        assert_eq!(
            plan.full_scans(),
            vec!["SCAN u", "SCAN e USING INDEX interop_eservices_name"]
        );
    }
}
