//! The review queue of platform operators: the submitted services of every institution, each
//! approved or rejected with a reason.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::layout::Page;

use super::form::{localize, localize_conflict};
use super::view::{ServiceView, paged};
use super::{Op, PageError, PostedForm, QueryString, Shell, query, render, see_other, value};
use crate::error::IoError;
use crate::model::Lifecycle;
use crate::state::IoState;
use crate::store::{self, ServiceRow};
use platform::Timestamp;

const PAGE_SIZE: i64 = 20;

pub struct QueueLine {
    pub id: String,
    pub institution: String,
    pub name: String,
    pub submitted_at: String,
    pub auto_publish: bool,
    pub review_comment: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "review_queue.html")]
pub struct QueuePage {
    page: Page,
    shell: Shell,
    lines: Vec<QueueLine>,
    pager: platform::paging::Pager,
    flash: Option<&'static str>,
}

/// `GET /io/review?page=N`
pub async fn queue(
    State(state): State<IoState>,
    op: Op,
    q: QueryString,
) -> Result<Response, PageError> {
    let q = query(q);
    let db = &state.platform.db;
    let (rows, pager) = paged(&q, &[], PAGE_SIZE, |limit, offset| {
        store::review_queue(db, limit, offset)
    })
    .await
    .map_err(|e| op.fail(e))?;
    let flash = match q.get("done").map(String::as_str) {
        Some("approved") => Some("io.flash.approved"),
        Some("rejected") => Some("io.flash.rejected"),
        _ => None,
    };
    let lang = op.page.lang;
    let Op { page, shell, .. } = op;
    Ok(render(
        QueuePage {
            lines: rows
                .iter()
                .map(|r| QueueLine {
                    id: r.id.clone(),
                    institution: r.tenant.name.clone(),
                    name: r.data.name.clone(),
                    submitted_at: r
                        .submitted_at
                        .map(|t| Timestamp::from_millis(t).for_people(lang))
                        .unwrap_or_default(),
                    auto_publish: r.auto_publish,
                    review_comment: r.review_comment.clone(),
                })
                .collect(),
            pager,
            flash,
            page,
            shell,
        },
        StatusCode::OK,
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "review_detail.html")]
pub struct ReviewPage {
    page: Page,
    shell: Shell,
    svc: ServiceView,
    csrf: String,
    reason: String,
    reason_error: Option<String>,
    /// Why the decision was refused (the service is no longer under review, ...).
    error: Option<String>,
}

/// A service of any institution, unless deleted.
async fn service(state: &IoState, op: &Op, id: &str) -> Result<ServiceRow, PageError> {
    let found = store::find_service(&state.platform.db, id);
    let alive = async { Ok(found.await?.filter(|r| r.status != Lifecycle::Deleted)) };
    op.service(id, alive).await
}

fn review_page(
    op: Op,
    row: &ServiceRow,
    reason: String,
    reason_error: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let svc = ServiceView::of(row, op.page.lang);
    let csrf = op.csrf();
    let Op { page, shell, .. } = op;
    render(
        ReviewPage {
            page,
            shell,
            svc,
            csrf,
            reason,
            reason_error,
            error,
        },
        status,
    )
}

/// `GET /io/review/{id}`
pub async fn detail(
    State(state): State<IoState>,
    op: Op,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let row = service(&state, &op, &id).await?;
    Ok(review_page(
        op,
        &row,
        String::new(),
        None,
        None,
        StatusCode::OK,
    ))
}

/// `POST /io/review/{id}`: `action` = approve, or reject with a `reason`.
pub async fn decide(
    State(state): State<IoState>,
    op: Op,
    Path(id): Path<String>,
    form: PostedForm,
) -> Result<Response, PageError> {
    let pairs = op.posted(form)?;
    let row = service(&state, &op, &id).await?;
    let actor = format!("operator:{}", op.user.session.user_id());
    let reason = value(&pairs, "reason").to_string();
    let db = &state.platform.db;
    let (result, done) = match value(&pairs, "action") {
        "approve" => (store::approve(db, &row.id, &actor).await, "approved"),
        "reject" => (
            store::reject(db, &row.id, &reason, &actor).await,
            "rejected",
        ),
        _ => return Err(op.unknown_action(format!("/io/review/{}", row.id))),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/io/review?done={done}"))),
        Err(IoError::Invalid(errors)) => {
            let message = errors
                .iter()
                .map(|e| localize(&op.page, &e.message))
                .collect::<Vec<_>>()
                .join(" ");
            Ok(review_page(
                op,
                &row,
                reason,
                Some(message),
                None,
                StatusCode::BAD_REQUEST,
            ))
        }
        Err(IoError::Conflict(why)) => {
            let message = localize_conflict(&op.page, &why);
            // The page shows the service as it is now.
            let now = service(&state, &op, &id).await?;
            Ok(review_page(
                op,
                &now,
                reason,
                None,
                Some(message),
                StatusCode::CONFLICT,
            ))
        }
        Err(e) => Err(op.fail(e)),
    }
}
