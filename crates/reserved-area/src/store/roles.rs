//! People's roles on the products of an institution.

use super::*;
use platform::db::plan::{Arg, ListStatement};

/// One role of a person on one product of one institution, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub institution_id: String,
    pub product_id: String,
    pub party_role: String,
    pub product_role: String,
    pub status: String,
}

/// Every role of the person, on every institution: read by every page of an institution and
/// every exchange, on the native driver (on SQLite on the calling thread; a person has a few).
pub async fn roles_of_user(db: &Db, user_id: &str) -> Result<Vec<RoleRow>, sqlx::Error> {
    static ROLES: LazyLock<Sql> = LazyLock::new(|| {
        Sql::new(
            "SELECT institution_id, product_id, party_role, product_role, status \
             FROM product_roles WHERE user_id = $1 ORDER BY created_at",
        )
    });
    db.hot()
        .fetch_all(&ROLES, &[Param::text(user_id)], |r| role_row(r))
        .await
}

/// A row of the role's five columns, from sqlx or from a hot read.
fn role_row<R: HotRow + ?Sized>(r: &R) -> Result<RoleRow, sqlx::Error> {
    Ok(RoleRow {
        institution_id: r.required_text("institution_id")?,
        product_id: r.required_text("product_id")?,
        party_role: r.required_text("party_role")?,
        product_role: r.required_text("product_role")?,
        status: r.required_text("status")?,
    })
}

/// Gives a role; an existing row for the same product role is left as it is. The person
/// joins the institution's users list (`user_institutions`, with no work email yet) if they
/// were not on it.
pub async fn add_role(
    tx: &mut Transaction<'static, Any>,
    user: &User,
    institution_id: &str,
    product_id: &str,
    party_role: &str,
    product_role: &str,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    join_institution(tx, user, institution_id, now).await?;
    sqlx::query(
        "INSERT INTO product_roles (id, user_id, institution_id, product_id, party_role, \
         product_role, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'ACTIVE', $7, $7) \
         ON CONFLICT (user_id, institution_id, product_id, product_role) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&user.id)
    .bind(institution_id)
    .bind(product_id)
    .bind(party_role)
    .bind(product_role)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    refresh_listed(tx, &user.id, institution_id).await
}

/// Whether the person is on the institution's users list (`user_institutions.listed`):
/// recomputed from their roles, in the transaction that changed them.
async fn refresh_listed(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    institution_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE user_institutions SET listed = CASE WHEN EXISTS (SELECT 1 FROM product_roles r \
         WHERE r.user_id = $1 AND r.institution_id = $2 AND r.status <> 'DELETED') \
         THEN 1 ELSE 0 END WHERE user_id = $1 AND institution_id = $2",
    )
    .bind(user_id)
    .bind(institution_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A person of an institution, with their work email there and their roles on it.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    pub email: String,
    pub roles: Vec<RoleRow>,
}

/// How many party roles and product roles a users list can filter on at once.
pub const MAX_PARTY_ROLE_FILTERS: usize = 4;
pub const MAX_PRODUCT_ROLE_FILTERS: usize = 8;

/// Which people of an institution a users list shows: those with a role (any status but
/// DELETED) matching every filter given.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// Roles on this product only (empty: any product).
    pub product_id: String,
    /// Roles with one of these party roles (empty: any); at most [`MAX_PARTY_ROLE_FILTERS`].
    pub party_roles: Vec<String>,
    /// Roles with one of these product roles (empty: any); at most
    /// [`MAX_PRODUCT_ROLE_FILTERS`].
    pub product_roles: Vec<String>,
    pub search: MemberSearch,
}

/// The search of a users list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MemberSearch {
    #[default]
    Everyone,
    /// People whose family name starts with this folded prefix ([`platform::search::fold`]).
    FamilyName(String),
    /// One person, by id (a search by fiscal code).
    Person(String),
}

/// The key the people of an institution are listed by: family name, given name, id, each
/// folded ([`platform::search`]) and separated by `0`, which sorts before every letter, so
/// that a family-name prefix is a range of the index `user_institutions_sorted`.
pub fn member_key(user: &User) -> String {
    use platform::search::fold;
    format!(
        "{}0{}0{}",
        fold(&user.family_name),
        fold(&user.name),
        fold(&user.id)
    )
}

/// The rows of `user_institutions` (alias `ui`) a users list shows. `$1` the institution;
/// `$2`, `$3` the search (a key range, or a user id); `$4` the product; `$5`..`$8` party
/// roles; `$9`..`$16` product roles (each list: empty strings for none). Without a filter on
/// roles (`filtered` false, every one of `$4`..`$16` empty) the flag `listed` answers alone,
/// read from the index; with one, each person's roles are looked at.
fn member_where(search: &MemberSearch, filtered: bool) -> String {
    let scope = match search {
        MemberSearch::Everyone => "$2 = '' AND $3 = ''",
        MemberSearch::FamilyName(_) => "ui.sort_key >= $2 AND ui.sort_key < $3",
        MemberSearch::Person(_) => "ui.user_id = $2 AND $3 = ''",
    };
    let roles = if filtered {
        "EXISTS (SELECT 1 FROM product_roles r \
         WHERE r.user_id = ui.user_id AND r.institution_id = ui.institution_id \
         AND r.status <> 'DELETED' AND ($4 = '' OR r.product_id = $4) \
         AND ($5 = '' OR r.party_role IN ($5, $6, $7, $8)) \
         AND ($9 = '' OR r.product_role IN ($9, $10, $11, $12, $13, $14, $15, $16)))"
    } else {
        "($4 || $5 || $6 || $7 || $8 || $9 || $10 || $11 || $12 || $13 || $14 || $15 || $16) = ''"
    };
    format!("ui.institution_id = $1 AND ui.listed = 1 AND {scope} AND {roles}")
}

impl MemberFilter {
    /// Whether the list filters on roles.
    fn on_roles(&self) -> bool {
        !(self.product_id.is_empty()
            && self.party_roles.is_empty()
            && self.product_roles.is_empty())
    }
}

/// How many people a users list holds.
fn members_count_sql(search: &MemberSearch, filtered: bool) -> String {
    format!(
        "SELECT COUNT(*) FROM user_institutions ui WHERE {}",
        member_where(search, filtered)
    )
}

/// One page of a users list: the people (`$17` of them from the `$18`th), each with every
/// role of theirs on the institution but the DELETED ones. `from_end`: the people counted
/// from the list's end (`platform::paging::from_end`; the key is unique, it ends with the
/// person's id); the page itself is in the list's order either way.
fn members_page_sql(search: &MemberSearch, filtered: bool, from_end: bool) -> String {
    // CROSS JOIN: SQLite joins in the order written, from the page's people (its planner
    // would otherwise read every role of the institution first); PostgreSQL plans it freely.
    format!(
        "SELECT u.id, u.fiscal_code, u.name, u.family_name, p.email, \
         r.institution_id, r.product_id, r.party_role, r.product_role, r.status \
         FROM (SELECT ui.user_id, ui.email, ui.sort_key FROM user_institutions ui \
         WHERE {} ORDER BY ui.sort_key{} LIMIT $17 OFFSET $18) p \
         CROSS JOIN users u CROSS JOIN product_roles r \
         WHERE u.id = p.user_id AND r.user_id = p.user_id AND r.institution_id = $1 \
         AND r.status <> 'DELETED' \
         ORDER BY p.sort_key, r.product_id, r.product_role",
        member_where(search, filtered),
        if from_end { " DESC" } else { "" }
    )
}

/// The values of `$1`..`$16` for `filter`.
fn member_args(institution_id: &str, filter: &MemberFilter) -> Vec<Arg> {
    let (lower, upper) = match &filter.search {
        MemberSearch::Everyone => (String::new(), String::new()),
        MemberSearch::FamilyName(prefix) => (
            prefix.clone(),
            // Only `z`s: every key from `prefix` on starts with it, up to the first `{`.
            platform::search::prefix_upper_bound(prefix).unwrap_or_else(|| "{".into()),
        ),
        MemberSearch::Person(id) => (id.clone(), String::new()),
    };
    fn slots(values: &[String], n: usize) -> impl Iterator<Item = Arg> + '_ {
        (0..n).map(move |i| Arg::Text(values.get(i).cloned().unwrap_or_default()))
    }
    let mut args = vec![
        Arg::from(institution_id),
        Arg::Text(lower),
        Arg::Text(upper),
        Arg::Text(filter.product_id.clone()),
    ];
    args.extend(slots(&filter.party_roles, MAX_PARTY_ROLE_FILTERS));
    args.extend(slots(&filter.product_roles, MAX_PRODUCT_ROLE_FILTERS));
    args
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    args: &[Arg],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    for arg in args {
        query = match arg {
            Arg::Text(v) => query.bind(v.clone()),
            Arg::Int(v) => query.bind(*v),
        };
    }
    query
}

/// Groups rows of (person, role) ordered by person into members.
fn group_members(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<Member>, sqlx::Error> {
    let mut out: Vec<Member> = Vec::new();
    for r in rows {
        let id: String = r.try_get("id")?;
        let role = role_row(&r)?;
        match out.last_mut() {
            Some(last) if last.user.id == id => last.roles.push(role),
            _ => out.push(Member {
                user: User::from_row(&r)?,
                email: r.try_get("email")?,
                roles: vec![role],
            }),
        }
    }
    Ok(out)
}

/// One page of the institution's users list (`size` people from the `offset`th, by family
/// name), and how many people the list holds in all.
pub async fn members_page(
    db: &Db,
    institution_id: &str,
    filter: &MemberFilter,
    size: i64,
    offset: i64,
) -> Result<(Vec<Member>, i64), sqlx::Error> {
    let args = member_args(institution_id, filter);
    let total: i64 = bind_all(
        sqlx::query(&members_count_sql(&filter.search, filter.on_roles())),
        &args,
    )
    .fetch_one(db.reader())
    .await?
    .try_get(0)?;
    let window = platform::paging::from_end(total, size, offset);
    let (size, offset) = window.unwrap_or((size, offset));
    let mut page_args = args;
    page_args.extend([Arg::Int(size), Arg::Int(offset)]);
    let rows = bind_all(
        sqlx::query(&members_page_sql(
            &filter.search,
            filter.on_roles(),
            window.is_some(),
        )),
        &page_args,
    )
    .fetch_all(db.reader())
    .await?;
    Ok((group_members(rows)?, total))
}

/// One person of the institution with their roles there (any status but DELETED), if they
/// have any.
pub async fn member(
    db: &Db,
    institution_id: &str,
    user_id: &str,
) -> Result<Option<Member>, sqlx::Error> {
    let rows = sqlx::query(MEMBER_SQL)
        .bind(institution_id)
        .bind(user_id)
        .fetch_all(db.reader())
        .await?;
    Ok(group_members(rows)?.into_iter().next())
}

const MEMBER_SQL: &str = "SELECT u.id, u.fiscal_code, u.name, u.family_name, \
     COALESCE(ui.email, '') AS email, \
     r.institution_id, r.product_id, r.party_role, r.product_role, r.status \
     FROM product_roles r JOIN users u ON u.id = r.user_id \
     LEFT JOIN user_institutions ui ON ui.user_id = r.user_id AND ui.institution_id = r.institution_id \
     WHERE r.user_id = $2 AND r.institution_id = $1 AND r.status <> 'DELETED' \
     ORDER BY r.product_id, r.product_role";

/// The people with an ACTIVE or SUSPENDED role on a product of the institution, with those
/// roles' party roles (whose authority the caller judges).
pub async fn party_roles_on_product(
    db: &Db,
    institution_id: &str,
    product_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(PARTY_ROLES_ON_PRODUCT_SQL)
        .bind(institution_id)
        .bind(product_id)
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("party_role")?)))
        .collect()
}

const PARTY_ROLES_ON_PRODUCT_SQL: &str = "SELECT DISTINCT user_id, party_role FROM product_roles \
     WHERE institution_id = $1 AND product_id = $2 AND status IN ('ACTIVE', 'SUSPENDED')";

/// The statements of the Reserved Area's lists, as the store runs them, with sample values:
/// the query-plan tests check that an index answers each.
pub fn member_list_statements() -> Vec<ListStatement> {
    let roles = MemberFilter {
        product_id: "prod-io".into(),
        party_roles: vec!["MANAGER".into(), "DELEGATE".into()],
        product_roles: vec!["admin".into()],
        search: MemberSearch::Everyone,
    };
    let rossi = || MemberSearch::FamilyName("rossi".into());
    let lists = [
        ("all.page", "all.count", MemberSearch::Everyone, false),
        ("search.page", "search.count", rossi(), false),
        (
            "person.page",
            "person.count",
            MemberSearch::Person("0b0b".into()),
            false,
        ),
        (
            "filtered.all.page",
            "filtered.all.count",
            MemberSearch::Everyone,
            true,
        ),
        (
            "filtered.search.page",
            "filtered.search.count",
            rossi(),
            true,
        ),
    ];
    let mut out = Vec::new();
    for (page, count, search, filtered) in lists {
        let filter = MemberFilter {
            search: search.clone(),
            ..if filtered {
                roles.clone()
            } else {
                MemberFilter::default()
            }
        };
        let (page, count) = (
            format!("reserved_area.users.{page}"),
            format!("reserved_area.users.{count}"),
        );
        let args = member_args("inst-1", &filter);
        out.push(ListStatement::new(
            count,
            members_count_sql(&search, filtered),
            args.clone(),
        ));
        let mut page_args = args;
        page_args.extend([Arg::Int(20), Arg::Int(4000)]);
        out.push(
            ListStatement::new(
                format!("{page}.from_end"),
                members_page_sql(&search, filtered, true),
                page_args.clone(),
            )
            .paged(),
        );
        out.push(
            ListStatement::new(page, members_page_sql(&search, filtered, false), page_args).paged(),
        );
    }
    out.push(ListStatement::new(
        "reserved_area.users.member",
        MEMBER_SQL,
        vec![Arg::from("inst-1"), Arg::from("user-1")],
    ));
    out.push(ListStatement::new(
        "reserved_area.users.admins",
        PARTY_ROLES_ON_PRODUCT_SQL,
        vec![Arg::from("inst-1"), Arg::from("prod-io")],
    ));
    out
}

/// Sets the status of a person's roles on a product (all, or the one `product_role`), in the
/// caller's transaction; returns how many rows changed.
pub async fn set_role_status(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    institution_id: &str,
    product_id: &str,
    product_role: Option<&str>,
    from: &[&str],
    to: &str,
) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    for status in from {
        let done = sqlx::query(
            "UPDATE product_roles SET status = $1, updated_at = $2 \
             WHERE user_id = $3 AND institution_id = $4 AND product_id = $5 AND status = $6 \
             AND ($7 = '' OR product_role = $7)",
        )
        .bind(to)
        .bind(now_millis())
        .bind(user_id)
        .bind(institution_id)
        .bind(product_id)
        .bind(*status)
        .bind(product_role.unwrap_or(""))
        .execute(&mut **tx)
        .await?;
        changed += done.rows_affected();
    }
    refresh_listed(tx, user_id, institution_id).await?;
    Ok(changed)
}

/// Every role on one product of one institution, read in a write transaction (on PostgreSQL
/// the rows are locked until it ends, so concurrent role changes queue).
pub async fn roles_in_tx(
    tx: &mut Transaction<'static, Any>,
    institution_id: &str,
    product_id: &str,
) -> Result<Vec<(String, crate::model::Grant)>, sqlx::Error> {
    let lock = if tx.backend_name() == "PostgreSQL" {
        " FOR UPDATE"
    } else {
        ""
    };
    let rows = sqlx::query(&format!(
        "SELECT user_id, product_id, party_role, product_role, status FROM product_roles \
         WHERE institution_id = $1 AND product_id = $2{lock}"
    ))
    .bind(institution_id)
    .bind(product_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let (Ok(party_role), Ok(status)) = (
            r.try_get::<String, _>("party_role")?.parse(),
            r.try_get::<String, _>("status")?.parse(),
        ) else {
            continue;
        };
        out.push((
            r.try_get("user_id")?,
            crate::model::Grant {
                product_id: r.try_get("product_id")?,
                party_role,
                product_role: r.try_get("product_role")?,
                status,
            },
        ));
    }
    Ok(out)
}
