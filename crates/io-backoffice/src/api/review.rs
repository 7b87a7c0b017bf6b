//! The review queue of the platform operators (`/io/api/review`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::services::ServiceLifecycle;
use super::{PageQuery, Pagination, service_id};
use crate::auth::ReviewOperator;
use crate::error::IoError;
use crate::state::IoState;
use crate::store;

/// A service waiting for review, with the institution's explanation when it gave one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewItem {
    #[serde(flatten)]
    pub service: ServiceLifecycle,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_comment: Option<String>,
}

/// A page of the review queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewQueue {
    pub value: Vec<ReviewItem>,
    pub pagination: Pagination,
}

/// `POST /io/api/review/{id}/reject`: why.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Rejection {
    pub reason: String,
}

pub async fn review_queue(
    State(state): State<IoState>,
    _op: ReviewOperator,
    Query(q): Query<PageQuery>,
) -> Result<Json<ReviewQueue>, IoError> {
    let (limit, offset) = q.bounds()?;
    let (rows, count) = store::review_queue(&state.platform.db, limit, offset).await?;
    Ok(Json(ReviewQueue {
        value: rows
            .iter()
            .map(|r| ReviewItem {
                service: ServiceLifecycle::of(r),
                review_comment: r.review_comment.clone(),
            })
            .collect(),
        pagination: Pagination {
            offset,
            limit,
            count,
        },
    }))
}

pub async fn approve(
    State(state): State<IoState>,
    op: ReviewOperator,
    Path(id): Path<String>,
) -> Result<StatusCode, IoError> {
    store::approve(
        &state.platform.db,
        service_id(&id)?,
        &format!("operator:{}", op.session.user_id()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reject(
    State(state): State<IoState>,
    op: ReviewOperator,
    Path(id): Path<String>,
    web::Json(body): web::Json<Rejection>,
) -> Result<StatusCode, IoError> {
    store::reject(
        &state.platform.db,
        service_id(&id)?,
        &body.reason,
        &format!("operator:{}", op.session.user_id()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
