//! Clients, their members, linked purposes and keys. Every change is one transaction with the
//! client's row locked; every read names the environment and the consumer institution, so that
//! another institution's client is "not found".

use platform::db::{Db, now_millis};
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Paged, Window, corrupt, lock, new_id, role_list};
use crate::error::InteropError;
use crate::model::client::{self as rules, ClientInput, ClientKind, KEY_ALG, KEY_USE, KeyInput};
use crate::model::{AgreementState, Environment, PurposeVersionState, Role, purpose};

/// A client as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropClient)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub id: String,
    pub consumer_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub kind: ClientKind,
    pub created_at: i64,
    /// User ids.
    pub members: Vec<String>,
    /// Purpose ids.
    pub purposes: Vec<String>,
    /// Key ids.
    pub keys: Vec<String>,
}

/// A public key of a client.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropKey)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    pub kid: String,
    pub client_id: String,
    pub name: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    pub bits: i64,
    /// Who uploaded it.
    pub user_id: String,
    pub created_at: i64,
    /// The PEM as uploaded, base64 (as the real API returns it).
    pub encoded_pem: String,
    #[serde(skip)]
    pub n: String,
    #[serde(skip)]
    pub e: String,
}

impl Key {
    /// The key as a JWK.
    pub fn jwk(&self) -> Value {
        serde_json::json!({
            "kty": "RSA", "kid": self.kid, "use": self.use_.to_lowercase(), "alg": self.alg,
            "n": self.n, "e": self.e,
        })
    }
}

/// Who is asking: the institution, the person and their roles.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub institution_id: &'a str,
    pub user_id: &'a str,
    pub roles: &'a [Role],
}

fn client_row(r: &AnyRow) -> Result<Client, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(Client {
        id: r.try_get("id")?,
        consumer_id: r.try_get("consumer_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        kind: ClientKind::parse(&kind).ok_or_else(|| corrupt("client kind"))?,
        created_at: r.try_get("created_at")?,
        members: Vec::new(),
        purposes: Vec::new(),
        keys: Vec::new(),
    })
}

fn key_row(r: &AnyRow) -> Result<Key, sqlx::Error> {
    use base64::Engine;
    let pem: String = r.try_get("pem")?;
    Ok(Key {
        kid: r.try_get("kid")?,
        client_id: r.try_get("client_id")?,
        name: r.try_get("name")?,
        use_: r.try_get("use_")?,
        alg: r.try_get("alg")?,
        bits: r.try_get("bits")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        encoded_pem: base64::engine::general_purpose::STANDARD.encode(pem),
        n: r.try_get("n")?,
        e: r.try_get("e")?,
    })
}

const CLIENT_COLUMNS: &str = "id, consumer_id, name, description, kind, created_at";
const KEY_COLUMNS: &str = "kid, client_id, name, use_, alg, bits, user_id, created_at, pem, n, e";

async fn strings<'e, E>(executor: E, sql: &str, id: &str) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    sqlx::query_scalar(sql).bind(id).fetch_all(executor).await
}

async fn fill(conn: &mut sqlx::AnyConnection, c: &mut Client) -> Result<(), sqlx::Error> {
    c.members = strings(
        &mut *conn,
        "SELECT user_id FROM interop_client_members WHERE client_id = $1 ORDER BY added_at, user_id",
        &c.id,
    )
    .await?;
    c.purposes = strings(
        &mut *conn,
        "SELECT purpose_id FROM interop_client_purposes WHERE client_id = $1 \
         ORDER BY linked_at, purpose_id",
        &c.id,
    )
    .await?;
    c.keys = strings(
        &mut *conn,
        "SELECT kid FROM interop_client_keys WHERE client_id = $1 ORDER BY created_at, kid",
        &c.id,
    )
    .await?;
    Ok(())
}

/// The client, if it is the caller's institution's and the caller may see it (a `security`
/// user only the clients it belongs to).
async fn visible(
    conn: &mut sqlx::AnyConnection,
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    for_update: bool,
) -> Result<Client, InteropError> {
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} FROM interop_clients c WHERE c.env = $1 AND c.id = $2 \
         AND c.consumer_id = $3{}",
        if for_update {
            lock(db, "c")
        } else {
            String::new()
        }
    );
    let row = sqlx::query(&sql)
        .bind(env.as_str())
        .bind(id.to_ascii_lowercase())
        .bind(caller.institution_id)
        .fetch_optional(&mut *conn)
        .await?;
    let mut client = row
        .as_ref()
        .map(client_row)
        .transpose()?
        .ok_or(InteropError::NotFound)?;
    fill(conn, &mut client).await?;
    if !rules::may_see(
        caller.roles,
        client.members.iter().any(|m| m == caller.user_id),
    ) {
        return Err(InteropError::NotFound);
    }
    Ok(client)
}

fn manage(caller: Caller<'_>) -> Result<(), InteropError> {
    if rules::may_manage_clients(caller.roles) {
        Ok(())
    } else {
        Err(InteropError::Refused(crate::model::Refusal::new(
            "role_not_allowed",
            "only an admin creates and changes clients",
        )))
    }
}

/// A transaction with the client the caller may see, its row locked.
async fn locked(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
) -> Result<(Transaction<'static, Any>, Client), InteropError> {
    let mut tx = db.begin().await?;
    let c = visible(&mut tx, db, env, caller, id, true).await?;
    Ok((tx, c))
}

/// A reader's connection with the client the caller may see.
async fn readable(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
) -> Result<(sqlx::pool::PoolConnection<Any>, Client), InteropError> {
    let mut conn = db.reader().acquire().await?;
    let c = visible(&mut conn, db, env, caller, id, false).await?;
    Ok((conn, c))
}

/// A client's rows of members or of linked purposes: the row's value is a user id or a
/// purpose id.
#[derive(Debug, Clone, Copy)]
enum Link {
    Member,
    Purpose,
}

impl Link {
    /// Binds the client's id, the value and the time; a row already there stays.
    fn insert(self) -> &'static str {
        match self {
            Link::Member => {
                "INSERT INTO interop_client_members (client_id, user_id, added_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (client_id, user_id) DO NOTHING"
            }
            Link::Purpose => {
                "INSERT INTO interop_client_purposes (client_id, purpose_id, linked_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (client_id, purpose_id) DO NOTHING"
            }
        }
    }

    /// Binds the client's id and the value.
    fn delete(self) -> &'static str {
        match self {
            Link::Member => {
                "DELETE FROM interop_client_members WHERE client_id = $1 AND user_id = $2"
            }
            Link::Purpose => {
                "DELETE FROM interop_client_purposes WHERE client_id = $1 AND purpose_id = $2"
            }
        }
    }
}

/// Adds the `link` row `value` to client `c` in its transaction, commits and returns the
/// client.
async fn link(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    (mut tx, c): (Transaction<'static, Any>, Client),
    link: Link,
    value: &str,
) -> Result<Client, InteropError> {
    sqlx::query(link.insert())
        .bind(&c.id)
        .bind(value)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    get(db, env, caller, &c.id).await
}

/// Checks that `user_id` entered the environment for the institution with a role.
async fn require_person(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    institution_id: &str,
    user_id: &str,
) -> Result<(), InteropError> {
    let roles: Option<String> = sqlx::query_scalar(
        "SELECT roles FROM interop_people WHERE env = $1 AND institution_id = $2 AND user_id = $3",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(roles) = roles else {
        return Err(InteropError::invalid(
            "userId",
            "this person has never entered this environment for the institution: they must \
             enter it once before they can be added",
        ));
    };
    rules::may_become_member(&role_list(&roles))?;
    Ok(())
}

/// Creates a client (admins); `members` must be people of the institution.
pub async fn create(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    kind: ClientKind,
    input: &ClientInput,
) -> Result<Client, InteropError> {
    manage(caller)?;
    let id = new_id();
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO interop_clients (id, env, consumer_id, kind, name, description, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(env.as_str())
    .bind(caller.institution_id)
    .bind(kind.as_str())
    .bind(&input.name)
    .bind(input.description.as_deref())
    .bind(caller.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (i, member) in input.members.iter().enumerate() {
        require_person(&mut tx, env, caller.institution_id, member)
            .await
            .map_err(|e| match e {
                InteropError::Invalid(mut errors) => {
                    for err in &mut errors {
                        err.field = format!("members[{i}]");
                    }
                    InteropError::Invalid(errors)
                }
                other => other,
            })?;
        sqlx::query(
            "INSERT INTO interop_client_members (client_id, user_id, added_at) VALUES ($1, $2, $3)",
        )
        .bind(&id)
        .bind(member)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    get(db, env, caller, &id).await
}

/// One client of the caller's institution.
pub async fn get(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
) -> Result<Client, InteropError> {
    Ok(readable(db, env, caller, id).await?.1)
}

/// The statement of a window of an institution's clients, newest first: `$1` the
/// environment, `$2` the institution, `$3` the kind (`''` for any), `$4` the member the
/// caller must be among (`''` for an admin, who sees them all), `$5` the limit, `$6` the
/// offset (the index `interop_clients_consumer_page` answers it).
pub fn page_sql() -> String {
    format!(
        "SELECT {CLIENT_COLUMNS} FROM interop_clients c {CLIENTS_WHERE} \
         ORDER BY c.created_at DESC, c.id DESC LIMIT $5 OFFSET $6"
    )
}

/// How many clients [`page_sql`] has in all: `$1` to `$4` as there.
pub fn count_sql() -> String {
    format!("SELECT COUNT(*) FROM interop_clients c {CLIENTS_WHERE}")
}

const CLIENTS_WHERE: &str = "WHERE c.env = $1 AND c.consumer_id = $2 \
    AND ($3 = '' OR c.kind = $3) AND ($4 = '' OR EXISTS (SELECT 1 FROM interop_client_members m \
    WHERE m.client_id = c.id AND m.user_id = $4))";

/// A window of the institution's clients the caller may see ([`rules::may_see`]: admins all
/// of them, `security` users those they belong to), newest first, and their total.
pub async fn page(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    kind: Option<ClientKind>,
    window: Window,
) -> Result<Paged<Client>, InteropError> {
    let member = if rules::may_see(caller.roles, false) {
        ""
    } else if rules::may_see(caller.roles, true) {
        caller.user_id
    } else {
        return Ok(Paged {
            results: Vec::new(),
            total_count: 0,
        });
    };
    let kind = kind.map_or("", ClientKind::as_str);
    let mut conn = db.reader().acquire().await?;
    let rows = sqlx::query(&page_sql())
        .bind(env.as_str())
        .bind(caller.institution_id)
        .bind(kind)
        .bind(member)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(&mut *conn)
        .await?;
    let mut results = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut c = client_row(r)?;
        fill(&mut conn, &mut c).await?;
        results.push(c);
    }
    drop(conn);
    let total_count = super::count(
        db,
        &count_sql(),
        &[env.as_str(), caller.institution_id, kind, member],
    )
    .await?;
    Ok(Paged {
        results,
        total_count,
    })
}

/// Deletes a client with its keys, members and links (admins).
pub async fn delete(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
) -> Result<(), InteropError> {
    manage(caller)?;
    let (mut tx, c) = locked(db, env, caller, id).await?;
    for table in [
        "interop_client_keys",
        "interop_client_purposes",
        "interop_client_members",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE client_id = $1"))
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM interop_clients WHERE id = $1")
        .bind(&c.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a member (admins): one of the people who entered the environment for the
/// institution. Adding a member twice is not an error.
pub async fn add_member(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    user_id: &str,
) -> Result<Client, InteropError> {
    manage(caller)?;
    let (mut tx, c) = locked(db, env, caller, id).await?;
    require_person(&mut tx, env, caller.institution_id, user_id).await?;
    link(db, env, caller, (tx, c), Link::Member, user_id).await
}

/// Removes a member (admins); their keys stay.
pub async fn remove_member(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    user_id: &str,
) -> Result<(), InteropError> {
    unlink(db, env, caller, id, Link::Member, user_id).await
}

/// Deletes the `link` row `value` of a client (admins); none: not found.
async fn unlink(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    link: Link,
    value: &str,
) -> Result<(), InteropError> {
    manage(caller)?;
    let (mut tx, c) = locked(db, env, caller, id).await?;
    let removed = sqlx::query(link.delete())
        .bind(&c.id)
        .bind(value)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(InteropError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Links a purpose of the institution to a CONSUMER client (admins): the purpose must have an
/// ACTIVE or SUSPENDED version and its agreement be ACTIVE or SUSPENDED.
pub async fn link_purpose(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    purpose_id: &str,
) -> Result<Client, InteropError> {
    manage(caller)?;
    let (mut tx, c) = locked(db, env, caller, id).await?;
    if c.kind != ClientKind::Consumer {
        return Err(InteropError::Conflict(
            "client_kind_not_allowed",
            "only CONSUMER clients have purposes; API clients obtain the platform token".into(),
        ));
    }
    let purpose_id = purpose_id.to_ascii_lowercase();
    let found = sqlx::query(
        "SELECT p.id, p.eservice_id FROM interop_purposes p \
         WHERE p.env = $1 AND p.id = $2 AND p.consumer_id = $3",
    )
    .bind(env.as_str())
    .bind(&purpose_id)
    .bind(caller.institution_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| {
        InteropError::invalid(
            "purposeId",
            "no purpose of your institution has this id in this environment",
        )
    })?;
    let eservice_id: String = found.try_get("eservice_id")?;
    let versions: Vec<String> =
        sqlx::query_scalar("SELECT state FROM interop_purpose_versions WHERE purpose_id = $1")
            .bind(&purpose_id)
            .fetch_all(&mut *tx)
            .await?;
    let versions: Vec<PurposeVersionState> = versions
        .iter()
        .map(|s| PurposeVersionState::parse(s).ok_or_else(|| corrupt("version state")))
        .collect::<Result<_, _>>()?;
    let agreement: Option<String> = sqlx::query_scalar(
        "SELECT state FROM interop_agreements WHERE env = $1 AND consumer_id = $2 \
         AND eservice_id = $3 ORDER BY CASE state WHEN 'ACTIVE' THEN 0 WHEN 'SUSPENDED' THEN 1 \
         ELSE 2 END, updated_at DESC LIMIT 1",
    )
    .bind(env.as_str())
    .bind(caller.institution_id)
    .bind(&eservice_id)
    .fetch_optional(&mut *tx)
    .await?;
    let agreement = agreement
        .map(|s| AgreementState::parse(&s).ok_or_else(|| corrupt("agreement state")))
        .transpose()?
        .unwrap_or(AgreementState::Archived);
    purpose::linkable_to_client(&versions, agreement)?;
    link(db, env, caller, (tx, c), Link::Purpose, &purpose_id).await
}

/// Unlinks a purpose (admins): the client's vouchers for it stop at once.
pub async fn unlink_purpose(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    purpose_id: &str,
) -> Result<(), InteropError> {
    let purpose_id = purpose_id.to_ascii_lowercase();
    unlink(db, env, caller, id, Link::Purpose, &purpose_id).await
}

fn kid_taken(e: sqlx::Error) -> InteropError {
    if let sqlx::Error::Database(d) = &e
        && (d.is_unique_violation() || d.code().is_some_and(|c| c == "23505" || c == "1555"))
    {
        return InteropError::Conflict(
            "key_already_exists",
            "this public key is already uploaded in this environment (to this client or \
             another): generate a new key pair for each client"
                .into(),
        );
    }
    InteropError::Sql(e)
}

/// Uploads keys to a client (its members with role admin or security), all or none.
pub async fn add_keys(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    keys: &[KeyInput],
    max_keys: usize,
) -> Result<Vec<Key>, InteropError> {
    let (mut tx, c) = locked(db, env, caller, id).await?;
    rules::may_upload_key(caller.roles, c.members.iter().any(|m| m == caller.user_id))
        .map_err(InteropError::Refused)?;
    rules::within_key_limit(c.keys.len(), keys.len(), max_keys)?;
    let now = now_millis();
    for k in keys {
        sqlx::query(
            "INSERT INTO interop_client_keys (env, kid, client_id, name, use_, alg, n, e, bits, \
             pem, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(env.as_str())
        .bind(&k.key.kid)
        .bind(&c.id)
        .bind(&k.name)
        .bind(KEY_USE)
        .bind(KEY_ALG)
        .bind(&k.key.n)
        .bind(&k.key.e)
        .bind(i64::try_from(k.key.bits).unwrap_or(i64::MAX))
        .bind(&k.key.pem)
        .bind(caller.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(kid_taken)?;
    }
    tx.commit().await?;
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        out.push(get_key(db, env, caller, id, &k.key.kid).await?);
    }
    Ok(out)
}

/// The keys of a client the caller may see.
pub async fn list_keys(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
) -> Result<Vec<Key>, InteropError> {
    let (mut conn, c) = readable(db, env, caller, id).await?;
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM interop_client_keys WHERE client_id = $1 \
         ORDER BY created_at, kid"
    ))
    .bind(&c.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(key_row).collect::<Result<_, _>>()?)
}

/// The statement of a window of a client's keys, oldest first: `$1` the client, `$2` the
/// limit, `$3` the offset (the index `interop_client_keys_page` answers it).
pub fn keys_page_sql() -> String {
    format!(
        "SELECT {KEY_COLUMNS} FROM interop_client_keys WHERE client_id = $1 \
         ORDER BY created_at, kid LIMIT $2 OFFSET $3"
    )
}

/// How many keys a client has: `$1` the client.
pub const KEYS_COUNT: &str = "SELECT COUNT(*) FROM interop_client_keys WHERE client_id = $1";

/// A window of the keys of a client the caller may see, oldest first, and their total.
pub async fn keys_page(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    window: Window,
) -> Result<Paged<Key>, InteropError> {
    let (mut conn, c) = readable(db, env, caller, id).await?;
    let rows = sqlx::query(&keys_page_sql())
        .bind(&c.id)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(&mut *conn)
        .await?;
    let results = rows.iter().map(key_row).collect::<Result<_, _>>()?;
    let total_count: i64 = sqlx::query_scalar(KEYS_COUNT)
        .bind(&c.id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Paged {
        results,
        total_count,
    })
}

/// One key of a client the caller may see.
pub async fn get_key(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    kid: &str,
) -> Result<Key, InteropError> {
    let (mut conn, c) = readable(db, env, caller, id).await?;
    let row = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM interop_client_keys WHERE client_id = $1 AND kid = $2"
    ))
    .bind(&c.id)
    .bind(kid)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref()
        .map(key_row)
        .transpose()?
        .ok_or(InteropError::NotFound)
}

/// Deletes a key: admins any, `security` members only their own. Vouchers stop at once.
pub async fn delete_key(
    db: &Db,
    env: Environment,
    caller: Caller<'_>,
    id: &str,
    kid: &str,
) -> Result<(), InteropError> {
    let (mut tx, c) = locked(db, env, caller, id).await?;
    let uploaded_by: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM interop_client_keys WHERE client_id = $1 AND kid = $2",
    )
    .bind(&c.id)
    .bind(kid)
    .fetch_optional(&mut *tx)
    .await?;
    let uploaded_by = uploaded_by.ok_or(InteropError::NotFound)?;
    rules::may_delete_key(
        caller.roles,
        c.members.iter().any(|m| m == caller.user_id),
        caller.user_id,
        &uploaded_by,
    )
    .map_err(InteropError::Refused)?;
    sqlx::query("DELETE FROM interop_client_keys WHERE client_id = $1 AND kid = $2")
        .bind(&c.id)
        .bind(kid)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Client names by id, for pages that list purposes' clients.
pub async fn clients_of_purpose(
    db: &Db,
    env: Environment,
    institution_id: &str,
    purpose_id: &str,
) -> Result<Vec<(String, String)>, InteropError> {
    let rows = sqlx::query(
        "SELECT c.id, c.name FROM interop_client_purposes cp \
         JOIN interop_clients c ON c.id = cp.client_id \
         WHERE c.env = $1 AND c.consumer_id = $2 AND cp.purpose_id = $3 ORDER BY c.name, c.id",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .bind(purpose_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(InteropError::from)
}
