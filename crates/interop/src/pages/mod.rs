//! The pages of an environment: the entry from the Reserved Area, the home with the environment
//! shown unmistakably (Collaudo in another colour), and the errors; the catalogue, agreements,
//! purposes and the producer's e-services live in their own modules, calling the same store
//! functions and model rules as the JSON API.

pub mod agreements;
pub mod attributes;
pub mod catalog;
pub mod clients;
pub mod eservices;
pub mod purposes;
pub mod tools;
pub mod view;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Redirect, Response};
use platform::layout::{Page, UserBadge};
pub use platform::page_error::PageError;
pub use platform::shell::Shell;
use platform::shell::{Banner, NavItem};

use crate::auth::{self, Member, Via};
use crate::error::InteropError;
use crate::model::Environment;
use crate::state::EnvState;

/// A posted form as name/value pairs.
pub type Pairs = Vec<(String, String)>;

pub fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The platform's back-office shell with Interoperability's words: the environment's banner
/// (Collaudo in another colour), the institution, the person, the left column. The left
/// column's title (`sidebar_title_key`) is the environment's name.
pub fn env_shell(env: Environment, member: Option<&Member>, path: &str) -> Shell {
    let base = auth::base_path(env);
    let nav = match member {
        Some(m) => nav(&base, m, path),
        None => Vec::new(),
    };
    let (env_key, env_class) = match env {
        Environment::Produzione => ("interop.env.produzione", "env-produzione"),
        Environment::Collaudo => ("interop.env.collaudo", "env-collaudo"),
    };
    Shell {
        title_key: "interop.title",
        sidebar_title_key: env_key,
        nav_label_key: "interop.nav.label",
        reserved_area_key: "interop.layout.reserved_area",
        logout_key: "interop.layout.logout",
        logout_action: format!("{base}/logout"),
        banner: Some(Banner {
            class: env_class,
            data: env.as_str(),
            name_key: env_key,
            note_key: "interop.env.note",
        }),
        institution: member.map(|m| m.tenant.name.clone()),
        institution_id: member.map(|m| m.tenant.institution_id.clone()),
        user: member.map(|m| m.session.display_name()),
        roles: member.map_or_else(Vec::new, |m| {
            m.roles
                .iter()
                .map(|r| match r.as_str() {
                    "admin" => "interop.roles.admin",
                    "api" => "interop.roles.api",
                    _ => "interop.roles.security",
                })
                .collect()
        }),
        csrf: member.map(|m| m.session.csrf.clone()),
        nav,
    }
}

/// The left column: everyone sees the catalogue, their requests, purposes and attributes; producers
/// (admin or api) also the requests they received and their e-services. The current entry is
/// the longest one the path falls under (`/agreements/received/...` is not "Le mie richieste").
fn nav(base: &str, member: &Member, path: &str) -> Vec<NavItem> {
    let producer = crate::model::may_manage_eservices(&member.roles);
    let mut items: Vec<(&str, &'static str)> = vec![
        ("", "interop.nav.home"),
        ("/catalog", "interop.nav.catalog"),
        ("/agreements", "interop.nav.agreements"),
    ];
    items.push(("/purposes", "interop.nav.purposes"));
    // What the institution holds (certified, declared, verified) and its contact email.
    items.push(("/attributes", "interop.nav.attributes"));
    // Clients and the debug tool: admin and security users (security ones see the clients
    // they belong to). Both lists share a path: their pages mark the right one.
    if crate::model::may_manage_keys(&member.roles) {
        items.push(("/clients?kind=CONSUMER", "interop.nav.clients_consumer"));
        items.push(("/clients?kind=API", "interop.nav.clients_api"));
        items.push(("/tools/client-assertion", "interop.nav.debug"));
    }
    // The producer's side ("Erogazione"): its e-services, the requests and the purposes on
    // them.
    if producer {
        items.push(("/eservices", "interop.nav.eservices"));
        items.push(("/agreements/received", "interop.nav.received"));
        items.push(("/purposes/received", "interop.nav.purposes_received"));
    }
    let under = |href: &str| {
        let href = href.split('?').next().unwrap_or(href);
        path == href || path.starts_with(&format!("{href}/"))
    };
    let current = items
        .iter()
        .map(|(suffix, _)| format!("{base}{suffix}"))
        .filter(|href| under(href))
        .max_by_key(|href| href.split('?').next().unwrap_or(href).len());
    items
        .into_iter()
        .map(|(suffix, key)| {
            let href = format!("{base}{suffix}");
            NavItem {
                current: current.as_deref() == Some(href.as_str()),
                href,
                key,
            }
        })
        .collect()
}

/// The request's address as the browser sent it: the environment's routes are nested, and
/// axum strips `/interop/<environment>` from what they see; the left column and the language
/// switch need it whole.
fn original_uri(parts: &Parts) -> axum::http::Uri {
    parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| parts.uri.clone(), |o| o.0.clone())
}

fn page_of(parts: &Parts, user: Option<String>) -> Page {
    let mut page = Page::from_parts(parts);
    if let Some(pq) = original_uri(parts).path_and_query() {
        page.path = pq.as_str().to_string();
    }
    page.user = user.map(|display_name| UserBadge { display_name });
    // The Reserved Area's logout needs its own token; the environment renders its own.
    page.csrf = None;
    page
}

use platform::layout::render;

/// The answer to a POST that worked: 303 to the page that shows its outcome.
pub fn see_other(to: &str) -> Response {
    render(Redirect::to(to), StatusCode::SEE_OTHER)
}

/// The one place an [`InteropError`] becomes a page of the environment: its status, title and
/// message, the way back to the Reserved Area, inside the environment's shell.
pub fn page_error(page: &Page, shell: Shell, base: &str, error: InteropError) -> PageError {
    let status = error.status();
    let t = |k: &str| page.t(k).to_string();
    let (title, message) = match &error {
        InteropError::Unauthenticated => (
            t("interop.errors.unauthenticated_title"),
            t("interop.errors.unauthenticated_message"),
        ),
        InteropError::Token(why) => (
            t("interop.errors.unauthenticated_title"),
            format!("{} ({why})", t("interop.errors.token_message")),
        ),
        InteropError::Forbidden(why) => (t("interop.errors.forbidden_title"), why.clone()),
        InteropError::Refused(r) => (
            t("interop.errors.forbidden_title"),
            view::refusal_words(page, r),
        ),
        InteropError::NotFound => (
            t("interop.errors.not_found_title"),
            t("interop.errors.not_found_message"),
        ),
        InteropError::Csrf => (t("error.csrf.title"), t("error.csrf.message")),
        InteropError::Invalid(_) | InteropError::Rejected(..) | InteropError::Conflict(..) => {
            (t("interop.errors.refused_title"), error.to_string())
        }
        InteropError::Unavailable(_) | InteropError::Sql(_) | InteropError::Db(_) => {
            tracing::error!(error = %error, "interop page failed");
            (
                t("interop.errors.internal_title"),
                t("interop.errors.internal_message"),
            )
        }
    };
    PageError::new(page, status, title, message)
        .in_shell(shell)
        .link("/dashboard", t("interop.layout.reserved_area"))
        // The language switch returns to the environment's home: the failed address may be
        // a form's (POST only) or name something the person may not see.
        .language_returns_to(base)
}

/// An error before there is a person (no or an ended session): the environment's banner, no
/// left column.
fn anonymous_error(env: Environment, parts: &Parts, path: &str, error: InteropError) -> PageError {
    page_error(
        &page_of(parts, None),
        env_shell(env, None, path),
        &auth::base_path(env),
        error,
    )
}

/// A person on a page of the environment.
pub struct On {
    pub member: Member,
    pub page: Page,
    pub shell: Shell,
    /// The environment's address (`/interop/collaudo`).
    pub base: String,
}

impl On {
    /// The error as a page of the environment.
    pub fn fail(&self, error: InteropError) -> PageError {
        page_error(&self.page, self.shell.clone(), &self.base, error)
    }

    /// A form posted with the session cookie must carry the session's CSRF token; a bearer
    /// token cannot be sent by another site, so it needs none (as on the JSON API).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        if self.member.via == Via::Bearer || auth::csrf_matches(&self.member.session, submitted) {
            Ok(())
        } else {
            Err(self.fail(InteropError::Csrf))
        }
    }

    /// Reads a posted form (checking its CSRF token); anything that is not a form is a 400.
    pub fn form(&self, form: Result<Form<Pairs>, FormRejection>) -> Result<Pairs, PageError> {
        let pairs = form
            .map(|Form(p)| p)
            .map_err(|_| self.fail(InteropError::invalid("form", "not a form")))?;
        self.check_csrf(value(&pairs, "csrf"))?;
        Ok(pairs)
    }

    /// Reads a posted form that may carry files (checking its CSRF token).
    pub fn form_data(
        &self,
        form: Result<platform::web::FormData, platform::web::NotAForm>,
    ) -> Result<platform::web::FormData, PageError> {
        let data = form.map_err(|_| self.fail(InteropError::invalid("form", "not a form")))?;
        self.check_csrf(data.value("csrf"))?;
        Ok(data)
    }

    /// May act on an agreement or a purpose of `consumer_id` for the caller's side of it.
    pub fn may_act_as_party(&self, consumer_id: &str) -> bool {
        crate::model::may_act_as_party(&self.member.roles, self.institution(), consumer_id)
    }

    pub fn institution(&self) -> &str {
        &self.member.tenant.institution_id
    }

    /// `path` under this environment (`/catalog` → `/interop/collaudo/catalog`).
    pub fn href(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn csrf(&self) -> String {
        self.member.session.csrf.clone()
    }
}

impl FromRequestParts<EnvState> for On {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &EnvState) -> Result<Self, PageError> {
        let path = original_uri(parts).path().to_string();
        match Member::from_request_parts(parts, state).await {
            Ok(member) => {
                let page = page_of(parts, Some(member.session.display_name()));
                let shell = env_shell(state.env, Some(&member), &path);
                Ok(On {
                    member,
                    page,
                    shell,
                    base: auth::base_path(state.env),
                })
            }
            // No session presented at all: not an ended session but an environment the person
            // has not entered (or has no role on).
            Err(InteropError::Unauthenticated)
                if auth::presented_secret(parts, state.env).is_none() =>
            {
                let page = page_of(parts, None);
                let t = |k: &str| page.t(k).to_string();
                let (title, message) = (
                    t("interop.errors.no_access_title"),
                    t("interop.errors.no_access_message"),
                );
                Err(
                    PageError::new(&page, StatusCode::UNAUTHORIZED, title, message)
                        .in_shell(env_shell(state.env, None, &path))
                        .link("/dashboard", t("interop.layout.reserved_area"))
                        .language_returns_to(auth::base_path(state.env)),
                )
            }
            Err(e) => Err(anonymous_error(state.env, parts, &path, e)),
        }
    }
}

/// `POST /session`: the Reserved Area posts the identity token here.
pub async fn enter(
    State(state): State<EnvState>,
    parts: Parts,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let fail = |e| anonymous_error(state.env, &parts, parts.uri.path(), e);
    let form = form
        .map(|Form(f)| f)
        .map_err(|_| fail(InteropError::invalid("form", "not a form")))?;
    let (secret, session) = auth::open_session(&state, value(&form, "identity_token"))
        .await
        .map_err(fail)?;
    let secure = state.platform.public_url.starts_with("https://");
    let door = auth::door(state.env);
    Ok(door.welcome(&secret, &session, secure, door.path))
}

/// `POST /logout`: ends this environment's session (never the Reserved Area's).
pub async fn logout(
    State(state): State<EnvState>,
    parts: Parts,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let secure = state.platform.public_url.starts_with("https://");
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let door = auth::door(state.env);
    door.sign_out(&state.platform.db, &parts, value(&form, "csrf"))
        .await
        .map_err(|e| anonymous_error(state.env, &parts, parts.uri.path(), e.into()))?;
    Ok(door.farewell(secure, "/dashboard"))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    page: Page,
    shell: Shell,
    name: String,
    fiscal_code: String,
}

/// `GET /` (the environment's home).
pub async fn home(on: On) -> Response {
    let On {
        member,
        page,
        shell,
        ..
    } = on;
    render(
        HomePage {
            name: member.session.claims.name.clone(),
            fiscal_code: member.tenant.fiscal_code.clone(),
            page,
            shell,
        },
        StatusCode::OK,
    )
}
