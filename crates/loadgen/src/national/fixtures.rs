//! What the scenarios ask for, found in the seeded database, and the sessions they ask with.

use platform::db::Db;
use serde_json::{Value, json};

use super::{Auth, Check, Get, Scenario, Target, Work};
use crate::{Error, json_of};

/// The users list's page size of the JSON API (`size`, default 20) and of the page.
const USERS_PAGE: i64 = 20;
/// The IO services list page's size (`io-backoffice`'s `PAGE_SIZE`).
const IO_PAGE: i64 = 10;
const ENV: &str = "produzione";

/// A person of the test identity provider.
#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub(crate) fiscal_code: String,
    pub(crate) name: String,
    pub(crate) family_name: String,
}

impl Person {
    /// What the test identity provider's form and API take.
    fn login(&self) -> Vec<(String, String)> {
        vec![
            ("fiscal_number".into(), self.fiscal_code.clone()),
            ("name".into(), self.name.clone()),
            ("family_name".into(), self.family_name.clone()),
        ]
    }

    fn login_json(&self) -> Value {
        json!({
            "fiscal_number": self.fiscal_code,
            "name": self.name,
            "family_name": self.family_name,
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Fixtures {
    /// The institution with the most people, its name, how many, its manager, and a family
    /// name among its people.
    pub(crate) people_institution: String,
    pub(crate) people_name: String,
    pub(crate) people: i64,
    pub(crate) people_manager: Person,
    pub(crate) search_family_name: String,
    pub(crate) audit_records: i64,
    /// The institution with the most IO services, its name, how many, its IO manager.
    pub(crate) io_institution: String,
    pub(crate) io_name: String,
    pub(crate) io_services: i64,
    pub(crate) io_manager: Person,
    /// The first service of its list (id, name), the last page's number (1-based) and its
    /// first service.
    pub(crate) io_first: (String, String),
    pub(crate) io_last_page: i64,
    pub(crate) io_late: (String, String),
    /// Its manage key (primary), decrypted with the master key.
    pub(crate) manage_key: String,
    /// The Interoperability tenant (Produzione) with the most agreements received as a
    /// producer (consumers have a few each), its name, the agreements and purposes on its
    /// e-services, and its manager.
    pub(crate) tenant: String,
    pub(crate) tenant_name: String,
    pub(crate) agreements: i64,
    pub(crate) purposes: i64,
    pub(crate) tenant_manager: Person,
    /// A published e-service's name, searched in the catalogue.
    pub(crate) eservice_name: String,
}

impl Fixtures {
    pub(crate) fn describe(&self) -> Vec<String> {
        vec![
            format!(
                "most people: {} ({}), {} people, {} activity records; manager {} {}; \
                 search for {:?}",
                self.people_name,
                self.people_institution,
                self.people,
                self.audit_records,
                self.people_manager.name,
                self.people_manager.family_name,
                self.search_family_name
            ),
            format!(
                "most IO services: {} ({}), {} services ({} pages); manager {} {}; service {}",
                self.io_name,
                self.io_institution,
                self.io_services,
                self.io_last_page,
                self.io_manager.name,
                self.io_manager.family_name,
                self.io_first.0
            ),
            format!(
                "busiest Interoperability producer ({ENV}): {} ({}), {} agreements and {} \
                 purposes received; manager {} {}; catalogue search {:?}",
                self.tenant_name,
                self.tenant,
                self.agreements,
                self.purposes,
                self.tenant_manager.name,
                self.tenant_manager.family_name,
                search_term(&self.eservice_name)
            ),
        ]
    }
}

async fn row<T>(db: &Db, sql: &str, binds: &[&str]) -> Result<T, Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut q = sqlx::query_as::<_, T>(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.fetch_optional(db.reader())
        .await
        .map_err(|e| format!("{sql}: {e}"))?
        .ok_or_else(|| {
            format!("nothing found by {sql} ({binds:?}): is the database seeded?").into()
        })
}

async fn count(db: &Db, sql: &str, binds: &[&str]) -> Result<i64, Error> {
    Ok(row::<(i64,)>(db, sql, binds).await?.0)
}

/// The ACTIVE manager of `institution` (on `product` when given).
async fn manager(db: &Db, institution: &str, product: &str) -> Result<Person, Error> {
    let (fiscal_code, name, family_name) = row::<(String, String, String)>(
        db,
        "SELECT u.fiscal_code, u.name, u.family_name FROM product_roles r \
         JOIN users u ON u.id = r.user_id \
         WHERE r.institution_id = $1 AND r.party_role = 'MANAGER' AND r.status = 'ACTIVE' \
         AND ($2 = '' OR r.product_id = $2) ORDER BY r.product_id, u.id LIMIT 1",
        &[institution, product],
    )
    .await?;
    Ok(Person {
        fiscal_code,
        name,
        family_name,
    })
}

/// The service at `offset` of the IO list of `institution` (the page's order), with its name.
async fn io_service(db: &Db, institution: &str, offset: i64) -> Result<(String, String), Error> {
    let (id, data) = sqlx::query_as::<_, (String, String)>(
        "SELECT id, data FROM io_services WHERE institution_id = $1 AND status <> 'deleted' \
         ORDER BY updated_at DESC, id LIMIT 1 OFFSET $2",
    )
    .bind(institution)
    .bind(offset)
    .fetch_one(db.reader())
    .await?;
    let data: Value = serde_json::from_str(&data)?;
    let name = data["name"]
        .as_str()
        .ok_or_else(|| format!("the service {id} has no name"))?
        .to_string();
    Ok((id, name))
}

/// Finds everything the scenarios need.
pub(crate) async fn find(db: &Db, master_key: &std::path::Path) -> Result<Fixtures, Error> {
    let (people_institution, people_name, people) = row::<(String, String, i64)>(
        db,
        "SELECT ui.institution_id, i.description, CAST(COUNT(*) AS BIGINT) \
         FROM user_institutions ui JOIN institutions i ON i.id = ui.institution_id \
         GROUP BY ui.institution_id, i.description ORDER BY COUNT(*) DESC, ui.institution_id \
         LIMIT 1",
        &[],
    )
    .await?;
    let people_manager = manager(db, &people_institution, "").await?;
    let (search_family_name,) = row::<(String,)>(
        db,
        &format!(
            "SELECT u.family_name FROM user_institutions ui JOIN users u ON u.id = ui.user_id \
             WHERE ui.institution_id = $1 ORDER BY u.id LIMIT 1 OFFSET {}",
            people / 2
        ),
        &[&people_institution],
    )
    .await?;
    let audit_records = count(
        db,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE institution_id = $1",
        &[&people_institution],
    )
    .await?;

    let (io_institution, io_name, io_services) = row::<(String, String, i64)>(
        db,
        "SELECT s.institution_id, i.name, CAST(COUNT(*) AS BIGINT) FROM io_services s \
         JOIN io_institutions i ON i.id = s.institution_id WHERE s.status <> 'deleted' \
         GROUP BY s.institution_id, i.name ORDER BY COUNT(*) DESC, s.institution_id LIMIT 1",
        &[],
    )
    .await?;
    let io_manager = manager(db, &io_institution, "prod-io").await?;
    let io_first = io_service(db, &io_institution, 0).await?;
    let io_last_page = ((io_services + IO_PAGE - 1) / IO_PAGE).max(1);
    let io_late = io_service(db, &io_institution, (io_last_page - 1) * IO_PAGE).await?;
    let subscription = io_backoffice::model::manage_subscription_id(&io_institution);
    let (master_key_id, sealed) = row::<(String, String)>(
        db,
        "SELECT master_key_id, sealed FROM io_api_keys WHERE subscription_id = $1 \
         AND key_type = 'primary'",
        &[&subscription],
    )
    .await?;
    let ring = io_backoffice::secrets::KeyRing::load(&[master_key.to_path_buf()])?;
    let manage_key = ring
        .decrypt(&master_key_id, &sealed, &format!("{subscription}/primary"))
        .map_err(|e| {
            format!(
                "the manage key of {io_institution} does not decrypt with {}: {e} \
                 (the master key file the seed used?)",
                master_key.display()
            )
        })?
        .expose()
        .to_string();

    let (tenant, tenant_name, agreements) = row::<(String, String, i64)>(
        db,
        "SELECT a.producer_id, t.name, CAST(COUNT(*) AS BIGINT) FROM interop_agreements a \
         JOIN interop_institutions t ON t.env = a.env AND t.id = a.producer_id \
         WHERE a.env = $1 AND EXISTS (SELECT 1 FROM product_roles r \
           WHERE r.institution_id = a.producer_id AND r.product_id = 'prod-interop' \
           AND r.party_role = 'MANAGER' AND r.status = 'ACTIVE') \
         GROUP BY a.producer_id, t.name ORDER BY COUNT(*) DESC, a.producer_id LIMIT 1",
        &[ENV],
    )
    .await?;
    let purposes = count(
        db,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM interop_purposes p \
         JOIN interop_eservices e ON e.id = p.eservice_id \
         WHERE p.env = $1 AND e.producer_id = $2",
        &[ENV, &tenant],
    )
    .await?;
    let tenant_manager = manager(db, &tenant, "prod-interop").await?;
    let eservices = count(
        db,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM interop_eservices WHERE env = $1",
        &[ENV],
    )
    .await?;
    let (eservice_name,) = row::<(String,)>(
        db,
        &format!(
            "SELECT name FROM interop_eservices WHERE env = $1 ORDER BY id LIMIT 1 OFFSET {}",
            eservices / 3
        ),
        &[ENV],
    )
    .await?;

    Ok(Fixtures {
        people_institution,
        people_name,
        people,
        people_manager,
        search_family_name,
        audit_records,
        io_institution,
        io_name,
        io_services,
        io_manager,
        io_first,
        io_last_page,
        io_late,
        manage_key,
        tenant,
        tenant_name,
        agreements,
        purposes,
        tenant_manager,
        eservice_name,
    })
}

/// The sessions the scenarios ask with.
pub(crate) struct Sessions {
    /// The Reserved Area session of the manager of the institution with the most people: a
    /// script's (bearer token) and a browser's (cookie).
    people: String,
    people_cookie: String,
    /// The Reserved Area session of the IO manager, and a browser's IO back-office session
    /// (cookie).
    io: String,
    io_backoffice: String,
    /// The Interoperability (Produzione) session of the tenant's manager.
    interop: String,
}

async fn log_in(http: &reqwest::Client, base: &str, who: &Person) -> Result<String, Error> {
    let r = json_of(
        http.post(format!("{base}/auth/test-idp/token"))
            .json(&who.login_json()),
    )
    .await
    .map_err(|e| format!("login of {}: {e}", who.fiscal_code))?;
    Ok(r["sessionToken"]
        .as_str()
        .ok_or("no session token")?
        .to_string())
}

/// The "Gestisci" hand-off as a script makes it: an identity token for the product of the
/// institution, then the back-office's session.
async fn enter(
    http: &reqwest::Client,
    base: &str,
    session: &str,
    institution: &str,
    product: &str,
    back_office: &str,
) -> Result<String, Error> {
    let exchanged = json_of(
        http.get(format!(
            "{base}/v2/token/exchange?institutionId={institution}&productId={product}"
        ))
        .bearer_auth(session),
    )
    .await
    .map_err(|e| format!("token exchange for {product} of {institution}: {e}"))?;
    let opened = json_of(
        http.post(format!("{base}{back_office}/api/session"))
            .json(&json!({ "identity_token": exchanged["token"] })),
    )
    .await
    .map_err(|e| format!("{back_office} session: {e}"))?;
    Ok(opened["token"]
        .as_str()
        .ok_or("no back-office token")?
        .to_string())
}

/// A browser's login through the test identity provider's form: its session cookie.
async fn browser_login(http: &reqwest::Client, base: &str, who: &Person) -> Result<String, Error> {
    let r = http
        .post(format!("{base}/auth/test-idp/login"))
        .form(&who.login())
        .send()
        .await?;
    let status = r.status();
    super::session_cookie(&r)
        .filter(|_| status == 303)
        .ok_or_else(|| format!("login form of {}: {status}, no cookie", who.fiscal_code).into())
}

/// A browser's entry into the IO back-office ("Gestisci" posts the identity token to
/// `/io/session`): its session cookie.
async fn browser_enter_io(
    http: &reqwest::Client,
    base: &str,
    session: &str,
    institution: &str,
) -> Result<String, Error> {
    let exchanged = json_of(
        http.get(format!(
            "{base}/v2/token/exchange?institutionId={institution}&productId=prod-io"
        ))
        .bearer_auth(session),
    )
    .await
    .map_err(|e| format!("token exchange for prod-io of {institution}: {e}"))?;
    let token = exchanged["token"].as_str().ok_or("no identity token")?;
    let r = http
        .post(format!("{base}/io/session"))
        .form(&[("identity_token", token)])
        .send()
        .await?;
    let status = r.status();
    super::session_cookie(&r)
        .filter(|_| status.is_redirection())
        .ok_or_else(|| format!("POST /io/session: {status}, no cookie").into())
}

pub(crate) async fn open_sessions(
    http: &reqwest::Client,
    base: &str,
    f: &Fixtures,
) -> Result<Sessions, Error> {
    let people = log_in(http, base, &f.people_manager).await?;
    let people_cookie = browser_login(http, base, &f.people_manager).await?;
    let io = log_in(http, base, &f.io_manager).await?;
    let io_backoffice = browser_enter_io(http, base, &io, &f.io_institution).await?;
    let tenant = log_in(http, base, &f.tenant_manager).await?;
    let interop = enter(
        http,
        base,
        &tenant,
        &f.tenant,
        "prod-interop",
        &format!("/interop/{ENV}"),
    )
    .await?;
    Ok(Sessions {
        people,
        people_cookie,
        io,
        io_backoffice,
        interop,
    })
}

/// The longest part of `s` that HTML and JSON write as it is (for a content check).
pub(crate) fn fragment(s: &str) -> String {
    s.split(['&', '<', '>', '"', '\'', '\\'])
        .max_by_key(|p| p.trim().len())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A search as people type one: the first word of a name (the catalogue finds the names with
/// a word starting with it, the IO services list the names containing it).
fn search_term(name: &str) -> String {
    name.split_whitespace().next().unwrap_or(name).to_string()
}

/// `path?query` with the query's values encoded.
fn with_query(path: &str, query: &[(&str, &str)]) -> String {
    match reqwest::Url::parse_with_params(&format!("http://x{path}"), query) {
        Ok(url) => match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        },
        Err(_) => path.to_string(),
    }
}

pub(crate) fn scenarios(f: &Fixtures, s: &Sessions) -> Vec<Scenario> {
    let ra = |path: String, check: Check| {
        Work::Get(Get {
            path,
            auth: Auth::Bearer(s.people.clone()),
            check,
        })
    };
    let page = |path: String, check: Check| {
        Work::Get(Get {
            path,
            auth: Auth::Cookie(s.people_cookie.clone()),
            check,
        })
    };
    let io = |path: String, check: Check| {
        Work::Get(Get {
            path,
            auth: Auth::Cookie(s.io_backoffice.clone()),
            check,
        })
    };
    let manage = |path: String, check: Check| {
        Work::Get(Get {
            path,
            auth: Auth::Key(f.manage_key.clone()),
            check,
        })
    };
    let interop = |path: String, check: Check| {
        Work::Get(Get {
            path,
            auth: Auth::Bearer(s.interop.clone()),
            check,
        })
    };
    let id = &f.people_institution;
    let people_name = fragment(&f.people_name);
    let family = fragment(&f.search_family_name);
    let io_name_first = fragment(&f.io_first.1);
    let io_row_first = format!("data-service=\"{}\"", f.io_first.0);
    let io_row_late = format!("data-service=\"{}\"", f.io_late.0);
    let last_api_page = ((f.people - 1) / USERS_PAGE).max(0).to_string();
    let size = USERS_PAGE.to_string();
    let search = search_term(&f.eservice_name);
    let eservice = fragment(&search);
    let interop_base = format!("/interop/{ENV}/api");
    let manage_id = format!("\"{}\"", f.io_first.0);
    vec![
        Scenario {
            name: "login",
            what: format!(
                "POST /auth/test-idp/login (the form; a session cookie) + GET \
                 /dashboard?choose=true + GET /dashboard/{id} ({} {}; one answer = the three)",
                f.people_manager.name, f.people_manager.family_name
            ),
            target: Target::Page,
            work: Work::Login {
                person: f.people_manager.login(),
                pages: vec![
                    Get {
                        path: "/dashboard?choose=true".into(),
                        auth: Auth::None,
                        check: Check::ok(&[&people_name]),
                    },
                    Get {
                        path: format!("/dashboard/{id}"),
                        auth: Auth::None,
                        check: Check::ok(&[&people_name]),
                    },
                ],
            },
        },
        Scenario {
            name: "users-page",
            what: format!("GET /dashboard/{id}/users ({} people)", f.people),
            target: Target::Page,
            work: page(
                format!("/dashboard/{id}/users"),
                Check::ok(&[&people_name, "<tr data-user="]),
            ),
        },
        Scenario {
            name: "users-api",
            what: format!("GET /v2/users/institution/{id}?page=0&size={size}"),
            target: Target::Page,
            work: ra(
                with_query(
                    &format!("/v2/users/institution/{id}"),
                    &[("page", "0"), ("size", &size)],
                ),
                Check::list(&[]),
            ),
        },
        Scenario {
            name: "users-search",
            what: format!(
                "GET /v2/users/institution/{id}?search={}&size={size}",
                f.search_family_name
            ),
            target: Target::Page,
            work: ra(
                with_query(
                    &format!("/v2/users/institution/{id}"),
                    &[("search", &f.search_family_name), ("size", &size)],
                ),
                Check::list(&[&family]),
            ),
        },
        Scenario {
            name: "users-late",
            what: format!(
                "GET /v2/users/institution/{id}?page={last_api_page}&size={size} (the last page)"
            ),
            target: Target::Page,
            work: ra(
                with_query(
                    &format!("/v2/users/institution/{id}"),
                    &[("page", &last_api_page), ("size", &size)],
                ),
                Check::list(&[]),
            ),
        },
        Scenario {
            name: "audit",
            what: format!(
                "GET /dashboard/{id}/audit (the activity log, first page; {} records)",
                f.audit_records
            ),
            target: Target::Page,
            work: page(
                format!("/dashboard/{id}/audit"),
                if f.audit_records > 0 {
                    Check::ok(&[&people_name, "<tr data-action="])
                } else {
                    Check::ok(&[&people_name])
                },
            ),
        },
        Scenario {
            name: "io-services",
            what: format!(
                "GET /io/services ({}: {} services, first page)",
                f.io_name, f.io_services
            ),
            target: Target::Page,
            work: io("/io/services".into(), Check::ok(&[&io_row_first])),
        },
        Scenario {
            name: "io-search",
            what: format!(
                "GET /io/services?q={} (a word of the first service's name)",
                search_term(&f.io_first.1)
            ),
            target: Target::Page,
            work: io(
                with_query("/io/services", &[("q", &search_term(&f.io_first.1))]),
                Check::ok(&[&io_row_first, &io_name_first]),
            ),
        },
        Scenario {
            name: "io-late",
            what: format!("GET /io/services?page={} (the last page)", f.io_last_page),
            target: Target::Page,
            work: io(
                format!("/io/services?page={}", f.io_last_page),
                Check::ok(&[&io_row_late]),
            ),
        },
        Scenario {
            name: "io-service",
            what: format!("GET /io/services/{}", f.io_first.0),
            target: Target::Page,
            work: io(
                format!("/io/services/{}", f.io_first.0),
                Check::ok(&[&io_name_first]),
            ),
        },
        Scenario {
            name: "manage-get",
            what: format!(
                "GET /api/v1/manage/services/{} (Ocp-Apim-Subscription-Key: the manage key)",
                f.io_first.0
            ),
            target: Target::Manage,
            work: manage(
                format!("/api/v1/manage/services/{}", f.io_first.0),
                Check::ok(&[&manage_id]),
            ),
        },
        Scenario {
            name: "manage-list",
            what: "GET /api/v1/manage/services (the manage key; the API's default page)".into(),
            target: Target::Manage,
            work: manage(
                "/api/v1/manage/services".into(),
                Check::list(&["\"value\""]),
            ),
        },
        Scenario {
            name: "exchange",
            what: format!(
                "GET /v2/token/exchange?institutionId={}&productId=prod-io (an RS256 identity \
                 token each)",
                f.io_institution
            ),
            target: Target::Exchange,
            work: Work::Get(Get {
                path: format!(
                    "/v2/token/exchange?institutionId={}&productId=prod-io",
                    f.io_institution
                ),
                auth: Auth::Bearer(s.io.clone()),
                check: Check::ok(&["\"token\":\""]),
            }),
        },
        Scenario {
            name: "catalogue",
            what: format!("GET {interop_base}/catalog?q={search}"),
            target: Target::Page,
            work: interop(
                with_query(&format!("{interop_base}/catalog"), &[("q", &search)]),
                Check::list(&[&eservice]),
            ),
        },
        Scenario {
            name: "agreements",
            what: format!(
                "GET {interop_base}/agreements?role=producer ({}: {} agreements received)",
                f.tenant_name, f.agreements
            ),
            target: Target::Page,
            work: interop(
                format!("{interop_base}/agreements?role=producer"),
                Check::list(&["\"results\""]),
            ),
        },
        Scenario {
            name: "purposes",
            what: format!(
                "GET {interop_base}/purposes?role=producer ({}: {} purposes received)",
                f.tenant_name, f.purposes
            ),
            target: Target::Page,
            work: interop(
                format!("{interop_base}/purposes?role=producer"),
                if f.purposes > 0 {
                    Check::list(&["\"results\""])
                } else {
                    Check::ok(&["\"results\""])
                },
            ),
        },
    ]
}
