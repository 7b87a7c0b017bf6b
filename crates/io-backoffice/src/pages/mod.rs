//! The back-office pages: server-rendered HTML that works without JavaScript. Every page of an
//! institution shares one layout (institution and person at the top, "Panoramica / Servizi /
//! Chiavi API" on the left); platform operators see the review queue only.
//!
//! Errors are pages too ([`PageError`]): an ended session says so and points back to the
//! Reserved Area, a refusal names its reason, a state conflict is shown on the service's page.

mod form;
pub(crate) mod home;
pub(crate) mod keys;
pub(crate) mod review;
pub(crate) mod services;
mod view;

use platform::error::Answer;
use std::collections::HashMap;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use platform::backoffice::BackOfficeSession;
use platform::layout::{Page, UserBadge};
pub use platform::page_error::PageError;
pub use platform::shell::Shell;
use platform::shell::{NavItem, nav};

use crate::auth::{self, BoUser, ReviewOperator, Role, Via};
use crate::error::IoError;
use crate::model;
use crate::state::IoState;
use crate::store::{ServiceRow, Tenant};

// ---- the shell ----

/// The platform's back-office shell with App IO's words: who is there, for which institution,
/// and the left column. Empty when there is no (valid) session.
fn io_shell(
    institution: Option<&Tenant>,
    user: String,
    role_key: &'static str,
    csrf: String,
    nav: Vec<NavItem>,
) -> Shell {
    Shell {
        title_key: "io.title",
        sidebar_title_key: "io.title",
        nav_label_key: "io.nav.label",
        reserved_area_key: "io.layout.reserved_area",
        logout_key: "io.layout.logout",
        logout_action: "/io/logout".into(),
        banner: None,
        institution: institution.map(|t| t.name.clone()),
        institution_id: institution.map(|t| t.institution_id.clone()),
        user: Some(user),
        roles: vec![role_key],
        csrf: Some(csrf),
        nav,
    }
}

fn page_of(parts: &Parts, user: Option<String>) -> Page {
    let mut page = Page::from_parts(parts);
    page.user = user.map(|display_name| UserBadge { display_name });
    // The Reserved Area's logout form in the header needs the Reserved Area's token; the
    // back-office renders its own logout instead.
    page.csrf = None;
    page
}

/// Who a page is for: a person of an institution ([`BoUser`]) or a platform operator
/// ([`ReviewOperator`]); each has pages of their own, and is sent there from the other's.
pub trait Seat: FromRequestParts<IoState, Rejection = IoError> + Send + Sync + Sized {
    /// The one who has the other pages.
    type Other: Seat;
    /// What this person is told on the other one's pages (a message key); the way to their own
    /// is the first entry of their shell's left column.
    const ONLY_ELSEWHERE: &'static str;
    /// The back-office shell for this person on the page at `path`.
    fn shell(&self, path: &str) -> Shell;
    /// The session and how it was presented.
    fn presented(&self) -> (&BackOfficeSession, Via);
    /// The person's name, for the page's header.
    fn name(&self) -> String {
        self.presented().0.display_name()
    }
}

impl Seat for BoUser {
    type Other = ReviewOperator;
    const ONLY_ELSEWHERE: &'static str = "io.errors.review_only";

    fn shell(&self, path: &str) -> Shell {
        io_shell(
            Some(&self.tenant),
            self.session.display_name(),
            match self.role {
                Role::Admin => "io.roles.admin",
                Role::Operator => "io.roles.operator",
            },
            self.session.csrf.clone(),
            nav(
                path,
                &[
                    ("/io".into(), "io.nav.overview"),
                    ("/io/services".into(), "io.nav.services"),
                    ("/io/keys".into(), "io.nav.keys"),
                ],
            ),
        )
    }

    fn presented(&self) -> (&BackOfficeSession, Via) {
        (&self.session, self.via)
    }
}

impl Seat for ReviewOperator {
    type Other = BoUser;
    const ONLY_ELSEWHERE: &'static str = "io.errors.operator_only";

    fn shell(&self, path: &str) -> Shell {
        io_shell(
            None,
            self.session.display_name(),
            "io.roles.platform_operator",
            self.session.csrf.clone(),
            nav(path, &[("/io/review".into(), "io.nav.review")]),
        )
    }

    fn presented(&self) -> (&BackOfficeSession, Via) {
        (&self.session, self.via)
    }
}

/// A person on a back-office page, with the page and the shell around it.
pub struct Desk<S> {
    pub user: S,
    pub page: Page,
    pub shell: Shell,
}

/// A person of an institution on a back-office page (admin or operator of `prod-io`).
pub type Bo = Desk<BoUser>;

/// A platform operator on a review page.
pub type Op = Desk<ReviewOperator>;

impl<S: Seat> Desk<S> {
    pub fn fail(&self, error: IoError) -> PageError {
        page_error(&self.page, &self.shell, error)
    }

    /// A form posted with the session cookie must carry the session's CSRF token; a bearer
    /// token cannot be sent by another site, so it needs none (as on the JSON API).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        let (session, via) = self.user.presented();
        if via == Via::Bearer || auth::csrf_matches(session, submitted) {
            Ok(())
        } else {
            Err(self.fail(IoError::Csrf))
        }
    }

    /// The posted form ([`pairs`]), once its CSRF token is checked.
    pub fn posted(&self, form: PostedForm) -> Result<Pairs, PageError> {
        let pairs = pairs(form, &self.page, &self.shell)?;
        self.check_csrf(value(&pairs, "csrf"))?;
        Ok(pairs)
    }

    /// A 400 for an `action` the form does not have, with the way back to `back`.
    pub fn unknown_action(&self, back: String) -> PageError {
        refusal(
            &self.page,
            &self.shell,
            StatusCode::BAD_REQUEST,
            "error.bad_request.title",
            self.t("io.errors.unknown_action"),
            Some((back, "io.errors.back")),
        )
    }

    pub fn t(&self, key: &'static str) -> String {
        self.page.t(key).to_string()
    }

    /// The service `id` as `find` finds it; "not found" (without asking) for an id that cannot
    /// be one.
    pub async fn service(
        &self,
        id: &str,
        find: impl Future<Output = Result<Option<ServiceRow>, IoError>>,
    ) -> Result<ServiceRow, PageError> {
        if !model::service_id_shape(id) {
            return Err(self.fail(IoError::NotFound));
        }
        find.await
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| self.fail(IoError::NotFound))
    }

    /// The session's CSRF token, for the page's forms.
    pub fn csrf(&self) -> String {
        self.user.presented().0.csrf.clone()
    }
}

impl Bo {
    pub fn require_admin(&self) -> Result<(), PageError> {
        if self.user.is_admin() {
            Ok(())
        } else {
            Err(refusal(
                &self.page,
                &self.shell,
                StatusCode::FORBIDDEN,
                "io.errors.forbidden_title",
                self.t("io.errors.admin_only"),
                None,
            ))
        }
    }
}

impl<S: Seat> FromRequestParts<IoState> for Desk<S> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &IoState) -> Result<Self, PageError> {
        let path = parts.uri.path().to_string();
        match S::from_request_parts(parts, state).await {
            Ok(user) => {
                let page = page_of(parts, Some(user.name()));
                let shell = user.shell(&path);
                Ok(Desk { user, page, shell })
            }
            Err(IoError::Forbidden(why)) => {
                // The other kind of person has pages of their own: say where they are.
                if let Ok(other) = S::Other::from_request_parts(parts, state).await {
                    let page = page_of(parts, Some(other.name()));
                    let shell = other.shell(&path);
                    let message = page.t(<S::Other as Seat>::ONLY_ELSEWHERE).to_string();
                    let home = shell.nav.first().map(|n| (n.href.clone(), n.key));
                    return Err(refusal(
                        &page,
                        &shell,
                        StatusCode::FORBIDDEN,
                        "io.errors.forbidden_title",
                        message,
                        home,
                    ));
                }
                let page = page_of(parts, None);
                Err(page_error(
                    &page,
                    &Shell::default(),
                    IoError::Forbidden(why),
                ))
            }
            Err(e) => Err(page_error(&page_of(parts, None), &Shell::default(), e)),
        }
    }
}

// ---- responses ----

/// Back-office pages show keys and personal data: never stored by a browser or a proxy.
pub use platform::layout::render;

/// `303 See Other` to a page of the back-office.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---- errors ----

/// A refusal or a failure of a page, with a message already in the person's language, inside
/// the shell when there is a session; `link` is where to go from there (address, label key).
pub fn refusal(
    page: &Page,
    shell: &Shell,
    status: StatusCode,
    title_key: &'static str,
    message: String,
    link: Option<(String, &'static str)>,
) -> PageError {
    let mut error = PageError::new(page, status, page.t(title_key).to_string(), message)
        // The language switch comes back to the work area, not to the refused address (a
        // form's, or one that names what the person may not see).
        .language_returns_to(shell.nav.first().map_or("/", |n| n.href.as_str()));
    if let Some((href, label)) = link {
        error = error.link(href, page.t(label).to_string());
    }
    if shell.user.is_some() {
        error = error.in_shell(shell.clone());
    }
    error
}

/// The one place an [`IoError`] becomes a page: its status, title, message and way on.
pub fn page_error(page: &Page, shell: &Shell, error: IoError) -> PageError {
    let t = |key: &'static str| page.t(key).to_string();
    let status = error.status();
    let (title_key, message, link): (_, _, Option<(String, &'static str)>) = match &error {
        IoError::Unauthenticated => {
            // No session: nothing of the back-office layout is shown.
            return refusal(
                page,
                &Shell::default(),
                StatusCode::UNAUTHORIZED,
                "io.errors.session_title",
                t("io.errors.session_message"),
                Some(("/dashboard".into(), "io.errors.to_reserved_area")),
            );
        }
        IoError::Token(why) => {
            let message = form::tr(page.t("io.errors.token_message"), &[("reason", why)]);
            return refusal(
                page,
                &Shell::default(),
                StatusCode::UNAUTHORIZED,
                "io.errors.token_title",
                message,
                Some(("/dashboard".into(), "io.errors.to_reserved_area")),
            );
        }
        IoError::Forbidden(why) => (
            "io.errors.forbidden_title",
            forbidden_message(page, why),
            None,
        ),
        IoError::AddressNotAllowed => (
            "io.errors.forbidden_title",
            t("io.errors.forbidden_message"),
            None,
        ),
        IoError::Csrf => ("error.csrf.title", t("error.csrf.message"), None),
        IoError::NotFound => (
            "io.errors.not_found_title",
            t("io.errors.not_found_message"),
            None,
        ),
        IoError::Invalid(errors) => (
            "error.bad_request.title",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, form::localize(page, &e.message)))
                .collect::<Vec<_>>()
                .join("; "),
            None,
        ),
        IoError::Conflict(why) => (
            "io.errors.conflict_title",
            form::localize_conflict(page, why),
            None,
        ),
        IoError::Unavailable(why) => {
            tracing::error!(detail = %why, "unavailable");
            (
                "io.errors.unavailable_title",
                t("io.errors.unavailable_message"),
                None,
            )
        }
        IoError::Upstream(why) => {
            tracing::warn!(detail = %why, "the Developer Portal failed");
            (
                "io.import.unavailable_title",
                t("io.import.unavailable_message"),
                None,
            )
        }
        IoError::Sql(_) | IoError::Db(_) | IoError::Secret(_) => {
            tracing::error!(error = %error, "back-office page failed");
            (
                "io.errors.internal_title",
                t("io.errors.internal_message"),
                None,
            )
        }
    };
    // Back to the work area, when there is one.
    let link = link.or_else(|| {
        shell
            .nav
            .first()
            .map(|n| (n.href.to_string(), "io.errors.back"))
    });
    refusal(page, shell, status, title_key, message, link)
}

/// The known refusals of the extractors and of the handlers, in the person's language.
fn forbidden_message(page: &Page, why: &str) -> String {
    let key = match why {
        "platform operators work on the review queue only" => "io.errors.operator_only",
        "the review queue is for platform operators" => "io.errors.review_only",
        "no role on prod-io" => "io.errors.no_role",
        w if w.starts_with("only the institution's administrators") => "io.errors.admin_only",
        _ => "io.errors.forbidden_message",
    };
    page.t(key).to_string()
}

// ---- request helpers ----

/// The query string as a map; a malformed one is treated as empty.
pub fn query(q: QueryString) -> HashMap<String, String> {
    q.map(|Query(q)| q).unwrap_or_default()
}

/// A posted form as a handler receives it (read by [`Desk::posted`] or [`pairs`]).
pub type PostedForm = Result<Form<Pairs>, FormRejection>;

/// A query string as a handler receives it (read by [`query`]).
pub type QueryString = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The posted form as name/value pairs (checkboxes and repeated names kept in order).
pub type Pairs = Vec<(String, String)>;

/// Reads a posted form; anything that is not a form is a 400 page.
pub fn pairs(form: PostedForm, page: &Page, shell: &Shell) -> Result<Pairs, PageError> {
    form.map(|Form(p)| p).map_err(|_| {
        refusal(
            page,
            shell,
            StatusCode::BAD_REQUEST,
            "error.bad_request.title",
            page.t("error.bad_request.message").to_string(),
            None,
        )
    })
}

/// The first value of `name` in a form, or "".
pub fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

// ---- entry and exit ----

/// `POST /io/session`: the Reserved Area's "Gestisci" posts the identity token here.
pub async fn enter(
    State(state): State<IoState>,
    parts: Parts,
    form: PostedForm,
) -> Result<Response, PageError> {
    let page = page_of(&parts, None);
    let shell = Shell::default();
    let form = pairs(form, &page, &shell)?;
    let (secret, session) = auth::open_session(&state, value(&form, "identity_token"))
        .await
        .map_err(|e| page_error(&page, &shell, e))?;
    let secure = state.platform.public_url.starts_with("https://");
    let to = if session.claims.platform_operator {
        "/io/review"
    } else {
        "/io"
    };
    Ok(auth::DOOR.welcome(&secret, &session, secure, to))
}

/// `POST /io/logout`: ends the back-office session (never the Reserved Area's) and goes home.
pub async fn logout(
    State(state): State<IoState>,
    parts: Parts,
    form: PostedForm,
) -> Result<Response, PageError> {
    let page = page_of(&parts, None);
    let shell = Shell::default();
    let form = pairs(form, &page, &shell)?;
    auth::DOOR
        .sign_out(&state.platform.db, &parts, value(&form, "csrf"))
        .await
        .map_err(|e| page_error(&page, &shell, e.into()))?;
    let secure = state.platform.public_url.starts_with("https://");
    Ok(auth::DOOR.farewell(secure, "/"))
}

#[cfg(test)]
mod tests {
    use platform::i18n::Lang;

    /// Every message key the pages name (in templates and code) is in both catalogues.
    #[test]
    fn every_key_the_pages_use_is_in_the_catalogue() {
        let [it, en] = crate::MESSAGES.parse().unwrap();
        let [pit, _] = platform::i18n::PLATFORM_MESSAGES.parse().unwrap();
        let sources = [
            include_str!("mod.rs"),
            include_str!("form.rs"),
            include_str!("home.rs"),
            include_str!("keys.rs"),
            include_str!("review.rs"),
            include_str!("services.rs"),
            include_str!("view.rs"),
            include_str!("../../templates/overview.html"),
            include_str!("../../templates/services.html"),
            include_str!("../../templates/service_form.html"),
            include_str!("../../templates/service_detail.html"),
            include_str!("../../templates/service_data.html"),
            include_str!("../../templates/key_table.html"),
            include_str!("../../templates/confirm.html"),
            include_str!("../../templates/keys.html"),
            include_str!("../../templates/review_queue.html"),
            include_str!("../../templates/review_detail.html"),
        ];
        let mut seen = 0;
        for text in sources {
            for piece in text.split('"').skip(1).step_by(2) {
                let ours = piece.starts_with("io.") && piece.len() > 3;
                let platform = piece.starts_with("error.");
                if !(ours || platform) || piece.contains(' ') || piece.ends_with('.') {
                    continue;
                }
                seen += 1;
                if ours {
                    assert!(it.contains_key(piece), "{piece} missing in it.toml");
                    assert!(en.contains_key(piece), "{piece} missing in en.toml");
                } else {
                    assert!(pit.contains_key(piece), "{piece} missing in the platform's");
                }
            }
        }
        assert!(seen > 200, "{seen}");
    }

    #[test]
    fn dates_are_in_local_time_for_people() {
        // 2023-01-22 00:00 UTC is 01:00 in Rome; the same digits in both languages.
        let t = platform::Timestamp::from_millis(1_674_345_600_123);
        assert_eq!(t.for_people(Lang::It), "22/01/2023 01:00");
        assert_eq!(t.for_people(Lang::En), "22/01/2023 01:00");
    }
}
