//! The one renderer of a page's error: its status, a title and a message already in the
//! person's language, a way on from there, inside the back-office shell when the page has one.
//! Each context turns its own error into one of these in one place.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::layout::Page;
use crate::shell::Shell;

#[derive(Template, WebTemplate)]
#[template(path = "page_error.html")]
struct Plain {
    page: Page,
    status: u16,
    title: String,
    message: String,
    link: Option<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "page_error_shell.html")]
struct InShell {
    page: Page,
    shell: Shell,
    status: u16,
    title: String,
    message: String,
    link: Option<(String, String)>,
}

/// An error shown as a page.
pub struct PageError(Box<Parts>);

struct Parts {
    page: Page,
    shell: Option<Shell>,
    status: StatusCode,
    title: String,
    message: String,
    link: Option<(String, String)>,
}

impl PageError {
    /// `title` and `message` in the page's language.
    pub fn new(page: &Page, status: StatusCode, title: String, message: String) -> Self {
        Self(Box::new(Parts {
            page: page.clone(),
            shell: None,
            status,
            title,
            message,
            link: None,
        }))
    }

    /// The same, with the title and message taken from the catalogue.
    pub fn from_keys(page: &Page, status: StatusCode, title_key: &str, message_key: &str) -> Self {
        let (title, message) = (
            page.t(title_key).to_string(),
            page.t(message_key).to_string(),
        );
        Self::new(page, status, title, message)
    }

    /// Shown inside the back-office shell (who is there, the left column).
    pub fn in_shell(mut self, shell: Shell) -> Self {
        self.0.shell = Some(shell);
        self
    }

    /// A button to go on from there (its label in the page's language).
    pub fn link(mut self, href: impl Into<String>, label: impl Into<String>) -> Self {
        self.0.link = Some((href.into(), label.into()));
        self
    }

    /// The language switch of an error page comes back to `path` (not to a form's address,
    /// or to one that names what the person may not see).
    pub fn language_returns_to(mut self, path: impl Into<String>) -> Self {
        self.0.page.path = path.into();
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let p = *self.0;
        let status = p.status;
        let response = match p.shell {
            Some(shell) => InShell {
                page: p.page,
                shell,
                status: status.as_u16(),
                title: p.title,
                message: p.message,
                link: p.link,
            }
            .into_response(),
            None => Plain {
                page: p.page,
                status: status.as_u16(),
                title: p.title,
                message: p.message,
                link: p.link,
            }
            .into_response(),
        };
        // An error page may name the person and their institution: never stored.
        crate::layout::render(response, status)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::i18n::{Catalogue, Lang, PLATFORM_MESSAGES};
    use crate::shell::NavItem;

    fn page() -> Page {
        Page {
            lang: Lang::It,
            catalogue: Arc::new(Catalogue::build(&[PLATFORM_MESSAGES]).unwrap()),
            banner: None,
            user: None,
            path: "/somewhere".into(),
            csrf: None,
        }
    }

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn an_error_page_says_what_happened_with_its_status_and_a_way_on() {
        let response = PageError::from_keys(
            &page(),
            StatusCode::NOT_FOUND,
            "error.not_found.title",
            "error.not_found.message",
        )
        .link("/dashboard", "Torna alla dashboard")
        .into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let html = body(response).await;
        assert!(html.contains("Pagina non trovata"), "{html}");
        assert!(html.contains(r#"data-testid="error-message""#), "{html}");
        assert!(html.contains(r#"href="/dashboard""#), "{html}");
        assert!(!html.contains("bo-top"), "{html}");
    }

    #[tokio::test]
    async fn inside_the_shell_it_keeps_who_is_there_and_the_left_column() {
        let shell = Shell {
            user: Some("Mario Rossi".into()),
            institution: Some("Comune di Roccabella".into()),
            nav: vec![NavItem {
                href: "/io".into(),
                key: "layout.product",
                current: true,
            }],
            logout_action: "/io/logout".into(),
            csrf: Some("t0k3n".into()),
            ..Default::default()
        };
        let response = PageError::new(
            &page(),
            StatusCode::CONFLICT,
            "Operazione non consentita".into(),
            "Il servizio è in revisione.".into(),
        )
        .in_shell(shell)
        .language_returns_to("/io")
        .into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let html = body(response).await;
        for part in [
            "Mario Rossi",
            "Comune di Roccabella",
            r#"action="/io/logout""#,
            "Il servizio è in revisione.",
            r#"aria-current="page""#,
        ] {
            assert!(html.contains(part), "{part}: {html}");
        }
    }
}
