//! "Verifica client assertion": the debug tool. A technician pastes a client assertion and
//! sees which of the token endpoint's checks it passes, and why the first one that fails
//! fails — the reason the token endpoint itself never tells. For the institution's admin and
//! security users, on the institution's own clients only.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use platform::layout::Page;

use super::view::FormErrors;
use super::{On, PageError, Pairs, Shell, render, value};
use crate::api::clients::{inspector, may_debug};
use crate::model::client::ClientKind;
use crate::model::token::{ASSERTION_TYPE, GRANT_TYPE, Step, TokenForm};
use crate::state::EnvState;
use crate::token::{self, NotYours};

/// One step of the check as shown.
pub struct StepLine {
    pub name: &'static str,
    pub label_key: &'static str,
    pub result: String,
    pub result_key: &'static str,
    pub badge: &'static str,
    /// The failure's code and reason.
    pub failures: Vec<(String, String)>,
}

/// The outcome of a check.
pub struct Verdict {
    pub passed: bool,
    pub client_id: Option<String>,
    pub kind_key: Option<&'static str>,
    pub steps: Vec<StepLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "debug.html")]
pub struct DebugPage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    assertion: String,
    client_id: String,
    assertion_type: String,
    grant_type: String,
    dpop_proof: String,
    verdict: Option<Verdict>,
    /// The assertion names another institution's client or key, or none that exists.
    not_found: bool,
    errors: FormErrors,
}

fn step_label(step: Step) -> &'static str {
    match step {
        Step::DpopProofValidation => "interop.debug.step_dpop",
        Step::ClientAssertionValidation => "interop.debug.step_validation",
        Step::PublicKeyRetrieve => "interop.debug.step_key",
        Step::ClientAssertionSignatureVerification => "interop.debug.step_signature",
        Step::PlatformStatesVerification => "interop.debug.step_states",
    }
}

fn result_view(result: &str) -> (&'static str, &'static str) {
    match result {
        "PASSED" => ("interop.debug.passed", "badge badge-success"),
        "FAILED" => ("interop.debug.failed", "badge badge-danger"),
        _ => ("interop.debug.skipped", "badge"),
    }
}

/// Why a check failed, in the page's language: the catalogue's words for its code with the
/// values it names.
fn reason_words(page: &Page, f: &token::StepFailure) -> String {
    let key = format!("interop.debug.reasons.{}", f.code);
    let words = if page.catalogue.contains(&key) {
        page.t(&key)
    } else {
        page.t("interop.debug.reasons.other")
    };
    let args: Vec<(&str, &str)> = f.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    platform::i18n::tr(words, &args)
}

fn verdict(page: &Page, d: &token::Diagnosis) -> Verdict {
    let steps = d
        .steps
        .iter()
        .map(|(step, report)| {
            let result = report.result.to_string();
            let (result_key, badge) = result_view(&result);
            let failures = report
                .failures
                .iter()
                .map(|f| (f.code.to_string(), reason_words(page, f)))
                .collect();
            StepLine {
                name: step.as_str(),
                label_key: step_label(*step),
                result,
                result_key,
                badge,
                failures,
            }
        })
        .collect();
    Verdict {
        passed: d.result == "PASSED",
        client_id: d.client_id.clone(),
        kind_key: d.client_kind.map(|k| match k {
            ClientKind::Consumer => "interop.clients.kind_consumer",
            ClientKind::Api => "interop.clients.kind_api",
        }),
        steps,
    }
}

struct Typed {
    assertion: String,
    client_id: String,
    assertion_type: String,
    grant_type: String,
    dpop_proof: String,
}

fn tool_page(
    on: On,
    typed: Typed,
    verdict: Option<Verdict>,
    not_found: bool,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let csrf = on.csrf();
    let action = on.href("/tools/client-assertion");
    let On { page, shell, .. } = on;
    render(
        DebugPage {
            page,
            shell,
            csrf,
            action,
            assertion: typed.assertion,
            client_id: typed.client_id,
            assertion_type: typed.assertion_type,
            grant_type: typed.grant_type,
            dpop_proof: typed.dpop_proof,
            verdict,
            not_found,
            errors,
        },
        status,
    )
}

/// `GET /tools/client-assertion`: the empty form.
pub async fn debug_form(on: On) -> Result<Response, PageError> {
    may_debug(&on.member).map_err(|e| on.fail(e))?;
    Ok(tool_page(
        on,
        Typed {
            assertion: String::new(),
            client_id: String::new(),
            assertion_type: ASSERTION_TYPE.to_string(),
            grant_type: GRANT_TYPE.to_string(),
            dpop_proof: String::new(),
        },
        None,
        false,
        FormErrors::default(),
        StatusCode::OK,
    ))
}

/// `POST /tools/client-assertion`: `client_assertion`, `client_id` (optional),
/// `client_assertion_type` and `grant_type` (filled in), and the DPoP proof (optional), run through the token endpoint's
/// checks; nothing is issued.
pub async fn debug_check(
    State(state): State<EnvState>,
    on: On,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let pairs = on.form(form)?;
    may_debug(&on.member).map_err(|e| on.fail(e))?;
    let typed = Typed {
        assertion: value(&pairs, "client_assertion").trim().to_string(),
        client_id: value(&pairs, "client_id").trim().to_string(),
        assertion_type: value(&pairs, "client_assertion_type").trim().to_string(),
        grant_type: value(&pairs, "grant_type").trim().to_string(),
        dpop_proof: value(&pairs, "dpop_proof").trim().to_string(),
    };
    if typed.assertion.is_empty() {
        let mut errors = FormErrors::default();
        errors.add(
            "client_assertion",
            on.page.t("interop.field.required").to_string(),
        );
        return Ok(tool_page(
            on,
            typed,
            None,
            false,
            errors,
            StatusCode::BAD_REQUEST,
        ));
    }
    let optional = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let form = TokenForm {
        client_id: optional(&typed.client_id),
        client_assertion: Some(typed.assertion.clone()),
        client_assertion_type: optional(&typed.assertion_type),
        grant_type: optional(&typed.grant_type),
    };
    let proof = optional(&typed.dpop_proof);
    let diagnosis = token::diagnose(&state, &inspector(&on.member), &form, proof.as_deref())
        .await
        .map_err(|e| on.fail(e.into()))?;
    Ok(match diagnosis {
        Ok(d) => {
            let v = verdict(&on.page, &d);
            tool_page(
                on,
                typed,
                Some(v),
                false,
                FormErrors::default(),
                StatusCode::OK,
            )
        }
        Err(NotYours::NotFound) => tool_page(
            on,
            typed,
            None,
            true,
            FormErrors::default(),
            StatusCode::NOT_FOUND,
        ),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use platform::i18n::{Catalogue, Lang, PLATFORM_MESSAGES};

    use super::*;

    fn page(lang: Lang) -> Page {
        let mut page = Page::from_parts(&axum::http::Request::new(()).into_parts().0);
        page.lang = lang;
        page.catalogue = Arc::new(Catalogue::build(&[PLATFORM_MESSAGES, crate::MESSAGES]).unwrap());
        page
    }

    #[test]
    fn every_reason_of_the_checks_is_said_in_both_languages_with_its_values() {
        for code in crate::model::token::FAILURE_CODES {
            let key = format!("interop.debug.reasons.{code}");
            let it = page(Lang::It);
            assert!(it.catalogue.contains(&key), "{key}");
        }
        let f = token::StepFailure {
            code: "lifetime_too_long",
            reason: "exp - iat is 900 s; this environment accepts at most 600 s".into(),
            args: vec![("lifetime", "900".into()), ("max", "600".into())],
        };
        assert_eq!(
            reason_words(&page(Lang::It), &f),
            "L'assertion vale 900 secondi (exp - iat); questo ambiente ne accetta al massimo 600."
        );
        assert_eq!(
            reason_words(&page(Lang::En), &f),
            "The assertion lasts 900 seconds (exp - iat); this environment accepts at most 600."
        );
    }
}
