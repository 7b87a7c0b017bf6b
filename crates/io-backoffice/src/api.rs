//! The JSON APIs: the manage API (`/api/v1/manage`, a manage key), the back-office API
//! (`/io/api`, a back-office session) — the same handlers, generic over the caller — and the
//! service API (`/api/v1/services/{id}`, the service's own key). Shapes as the reference's
//! `io-services-cms` schemas.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::{self, BoUser, Caller, ReviewOperator};
use crate::error::IoError;
use crate::model::{
    self, KeyType, METADATA_TEXT_FIELDS, PayloadKind, ServiceData, SubscriptionKind,
};
use crate::state::IoState;
use crate::store::{self, HistoryItem, KeyPair, ServiceRow, Tenant};

/// Reads a JSON body, answering a clear 400 for anything that is not JSON.
pub fn json_body(body: &Bytes) -> Result<Value, IoError> {
    if body.is_empty() {
        return Err(IoError::invalid("body", "a JSON body is required"));
    }
    serde_json::from_slice(body)
        .map_err(|e| IoError::invalid("body", format!("not valid JSON: {e}")))
}

/// A required string field of a JSON body, or a 400 naming it.
fn required_str(payload: &Value, field: &str, wrong_type: &str) -> Result<String, IoError> {
    match payload.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(IoError::invalid(field, "is required")),
        Some(_) => Err(IoError::invalid(field, wrong_type)),
    }
}

fn organization_json(t: &Tenant, d: &ServiceData) -> Value {
    let mut org = json!({ "name": t.name, "fiscal_code": t.fiscal_code });
    if let Some(dep) = &d.department_name {
        org["department_name"] = json!(dep);
    }
    org
}

fn metadata_json(d: &ServiceData) -> Value {
    let m = &d.metadata;
    let mut out = Map::new();
    out.insert("scope".into(), json!(m.scope.as_str()));
    if let Some(t) = m.topic_id.and_then(model::topic) {
        out.insert("topic".into(), json!({ "id": t.id, "name": t.name }));
    }
    for field in METADATA_TEXT_FIELDS {
        if let Some(v) = m.text(field) {
            out.insert((*field).into(), json!(v));
        }
    }
    if let Some(g) = &m.group_id {
        out.insert("group_id".into(), json!(g));
    }
    Value::Object(out)
}

/// `ServiceData` plus `metadata`, into `out`.
fn data_into(out: &mut Map<String, Value>, t: &Tenant, d: &ServiceData) {
    out.insert("name".into(), json!(d.name));
    out.insert("description".into(), json!(d.description));
    out.insert("organization".into(), organization_json(t, d));
    out.insert(
        "require_secure_channel".into(),
        json!(d.require_secure_channel),
    );
    out.insert(
        "authorized_recipients".into(),
        json!(d.authorized_recipients),
    );
    out.insert("authorized_cidrs".into(), json!(d.authorized_cidrs));
    out.insert(
        "max_allowed_payment_amount".into(),
        json!(d.max_allowed_payment_amount),
    );
    out.insert("suitable_for_minors".into(), json!(d.suitable_for_minors));
    out.insert("metadata".into(), metadata_json(d));
}

/// The reference's `ServiceLifecycle`.
pub fn lifecycle_json(row: &ServiceRow) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(row.id));
    let mut status = json!({ "value": row.status.as_str() });
    if let Some(r) = &row.status_reason {
        status["reason"] = json!(r);
    }
    out.insert("status".into(), status);
    out.insert("version".into(), json!(row.version));
    out.insert(
        "last_update".into(),
        json!(model::timestamp(row.updated_at)),
    );
    data_into(&mut out, &row.tenant, &row.data);
    Value::Object(out)
}

/// The reference's `ServicePublication` (404 when never published).
pub fn publication_json(row: &ServiceRow) -> Option<Value> {
    let (Some(p), Some(data)) = (row.publication, &row.published_data) else {
        return None;
    };
    let mut out = Map::new();
    out.insert("id".into(), json!(row.id));
    out.insert("status".into(), json!(p.as_str()));
    out.insert(
        "version".into(),
        json!(row.published_version.unwrap_or(row.version)),
    );
    out.insert(
        "last_update".into(),
        json!(model::timestamp(row.published_at.unwrap_or(row.updated_at))),
    );
    data_into(&mut out, &row.tenant, data);
    Some(Value::Object(out))
}

fn history_json(row: &ServiceRow, item: &HistoryItem) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(row.id));
    let mut status = json!({ "kind": item.kind, "value": item.status });
    if let Some(r) = &item.reason {
        status["reason"] = json!(r);
    }
    out.insert("status".into(), status);
    out.insert("version".into(), json!(item.version));
    out.insert("last_update".into(), json!(model::timestamp(item.at)));
    data_into(&mut out, &row.tenant, &item.data);
    Value::Object(out)
}

pub fn keys_json(k: &KeyPair) -> Value {
    json!({ "primary_key": k.primary.expose(), "secondary_key": k.secondary.expose() })
}

/// An integer query parameter within bounds, or a 400 naming it.
fn int_param(
    q: &HashMap<String, String>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, IoError> {
    match q.get(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(IoError::invalid(
                name,
                format!("must be a whole number from {min} to {max}"),
            )),
        },
    }
}

fn service_id(id: &str) -> Result<&str, IoError> {
    if model::service_id_shape(id) {
        Ok(id)
    } else {
        Err(IoError::NotFound)
    }
}

async fn own_service<C: Caller>(state: &IoState, c: &C, id: &str) -> Result<ServiceRow, IoError> {
    store::get_service(
        &state.platform.db,
        &c.tenant().institution_id,
        service_id(id)?,
    )
    .await?
    .ok_or(IoError::NotFound)
}

// ---- services, shared by the manage API and the back-office API ----

pub async fn list_services<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, IoError> {
    let limit = int_param(&q, "limit", 20, 1, 100)?;
    let offset = int_param(&q, "offset", 0, 0, i64::from(i32::MAX))?;
    let (rows, count) = store::list_services(
        &state.platform.db,
        &c.tenant().institution_id,
        limit,
        offset,
    )
    .await?;
    Ok(Json(json!({
        "value": rows.iter().map(lifecycle_json).collect::<Vec<_>>(),
        "pagination": { "offset": offset, "limit": limit, "count": count },
    })))
}

pub async fn create_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    body: Bytes,
) -> Result<Response, IoError> {
    let payload = json_body(&body)?;
    let data = model::parse_service(&payload, PayloadKind::Create).map_err(IoError::Invalid)?;
    let row = store::create_service(
        &state.platform.db,
        &state.ring,
        c.tenant(),
        &data,
        &c.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(lifecycle_json(&row))).into_response())
}

pub async fn get_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<Json<Value>, IoError> {
    Ok(Json(lifecycle_json(&own_service(&state, &c, &id).await?)))
}

pub async fn update_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, IoError> {
    own_service(&state, &c, &id).await?;
    let payload = json_body(&body)?;
    let data = model::parse_service(&payload, PayloadKind::Update).map_err(IoError::Invalid)?;
    let row = store::update_service(&state.platform.db, c.tenant(), &id, &data, &c.actor()).await?;
    Ok(Json(lifecycle_json(&row)))
}

/// `PATCH /services/{id}` (and `PUT .../patch`): sets `metadata.group_id`. Groups do not
/// exist yet, so every group id is unknown.
pub async fn patch_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, IoError> {
    own_service(&state, &c, &id).await?;
    let payload = json_body(&body)?;
    let Some(meta) = payload.get("metadata").and_then(Value::as_object) else {
        return Err(IoError::invalid("metadata", "is required (an object)"));
    };
    match meta.get("group_id") {
        Some(Value::String(g)) if !g.trim().is_empty() => Err(IoError::invalid(
            "metadata.group_id",
            format!("no group {g:?}: this institution has no groups"),
        )),
        Some(Value::String(_)) => Err(IoError::invalid("metadata.group_id", "must not be empty")),
        Some(_) => Err(IoError::invalid("metadata.group_id", "must be a string")),
        None => Err(IoError::invalid("metadata.group_id", "is required")),
    }
}

pub async fn delete_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<StatusCode, IoError> {
    store::delete_service(&state.platform.db, c.tenant(), service_id(&id)?, &c.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn review_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, IoError> {
    own_service(&state, &c, &id).await?;
    let payload = json_body(&body)?;
    let auto_publish = match payload.get("auto_publish") {
        Some(Value::Bool(b)) => *b,
        None => {
            return Err(IoError::invalid(
                "auto_publish",
                "is required (true or false)",
            ));
        }
        Some(_) => return Err(IoError::invalid("auto_publish", "must be true or false")),
    };
    store::submit(
        &state.platform.db,
        c.tenant(),
        &id,
        auto_publish,
        &c.actor(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn explain_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, IoError> {
    own_service(&state, &c, &id).await?;
    let payload = json_body(&body)?;
    let comment = required_str(&payload, "comment", "must be a string")?;
    store::explain(&state.platform.db, c.tenant(), &id, &comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn release_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<StatusCode, IoError> {
    store::release(&state.platform.db, c.tenant(), service_id(&id)?, &c.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unpublish_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<StatusCode, IoError> {
    store::unpublish(&state.platform.db, c.tenant(), service_id(&id)?, &c.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn published_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<Json<Value>, IoError> {
    let row = own_service(&state, &c, &id).await?;
    publication_json(&row).map(Json).ok_or(IoError::NotFound)
}

pub async fn service_history<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, IoError> {
    let row = own_service(&state, &c, &id).await?;
    let descending = match q.get("order").map(String::as_str) {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(_) => return Err(IoError::invalid("order", "must be ASC or DESC")),
    };
    let limit = int_param(&q, "limit", 10, 1, 100)?;
    let after =
        match q.get("continuationToken") {
            None => None,
            Some(t) => Some(t.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                IoError::invalid("continuationToken", "is not a token of this API")
            })?),
        };
    let (items, next) =
        store::history(&state.platform.db, &row.id, descending, limit, after).await?;
    let mut out =
        json!({ "items": items.iter().map(|i| history_json(&row, i)).collect::<Vec<_>>() });
    if let Some(n) = next {
        out["continuationToken"] = json!(n.to_string());
    }
    Ok(Json(out))
}

pub async fn service_keys<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<Json<Value>, IoError> {
    let row = own_service(&state, &c, &id).await?;
    Ok(Json(keys_json(
        &store::keys(&state.platform.db, &state.ring, &row.id).await?,
    )))
}

fn key_type(raw: &str) -> Result<KeyType, IoError> {
    KeyType::parse(raw).ok_or_else(|| IoError::invalid("keyType", "must be primary or secondary"))
}

pub async fn regenerate_service_key<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path((id, kt)): Path<(String, String)>,
) -> Result<Json<Value>, IoError> {
    let row = own_service(&state, &c, &id).await?;
    let kt = key_type(&kt)?;
    if !c.may_regenerate() {
        return Err(IoError::Forbidden(
            "only the institution's administrators regenerate keys".into(),
        ));
    }
    let keys = store::regenerate(&state.platform.db, &state.ring, &row.id, kt).await?;
    Ok(Json(keys_json(&keys)))
}

pub async fn upload_logo<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, IoError> {
    own_service(&state, &c, &id).await?;
    let payload = json_body(&body)?;
    let logo = required_str(&payload, "logo", "must be a base64 string")?;
    let png = model::check_logo(&logo)?;
    store::set_logo(&state.platform.db, c.tenant(), &id, &png).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn topics() -> Json<Value> {
    Json(json!({ "topics": model::TOPICS }))
}

pub async fn info() -> Json<Value> {
    Json(json!({ "name": "selfcare io-services-cms", "version": env!("CARGO_PKG_VERSION") }))
}

// ---- the back-office API only ----

/// `POST /io/api/session`: `{identity_token}` → `{token}` (a bearer token for scripts).
pub async fn open_session(
    State(state): State<IoState>,
    body: Bytes,
) -> Result<Json<Value>, IoError> {
    let payload = json_body(&body)?;
    let Some(token) = payload.get("identity_token").and_then(Value::as_str) else {
        return Err(IoError::invalid("identity_token", "is required"));
    };
    let (secret, session) = auth::open_session(&state, token).await?;
    Ok(Json(json!({
        "token": secret.expose(),
        "expires_at": model::timestamp(session.expires_at),
    })))
}

/// `POST /io/api/logout`: ends the back-office session presented (401 when none is: the
/// route is for sessions; one already ended answers 204 again).
pub async fn close_session(
    State(state): State<IoState>,
    parts: Parts,
) -> Result<StatusCode, IoError> {
    let secret = auth::presented_secret(&parts).ok_or(IoError::Unauthenticated)?;
    auth::close_session(&state, Some(secret)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /io/api/me`: who the back-office session is.
pub async fn me(user: BoUser) -> Json<Value> {
    Json(json!({
        "user_id": user.user_id(),
        "name": user.session.claims.name,
        "family_name": user.session.claims.family_name,
        "role": user.role.as_str(),
        "institution": user.tenant,
    }))
}

async fn manage_subscription(
    state: &IoState,
    user: &BoUser,
    id: &str,
) -> Result<store::Subscription, IoError> {
    user.require_admin()?;
    match store::subscription(&state.platform.db, id).await? {
        Some(s)
            if s.institution_id == user.tenant.institution_id
                && s.kind == SubscriptionKind::ManageRoot =>
        {
            Ok(s)
        }
        _ => Err(IoError::NotFound),
    }
}

pub async fn list_subscriptions(
    State(state): State<IoState>,
    user: BoUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, IoError> {
    user.require_admin()?;
    let kind = match q.get("kind").map(String::as_str) {
        None | Some("MANAGE_ROOT") => SubscriptionKind::ManageRoot,
        Some(_) => return Err(IoError::invalid("kind", "must be MANAGE_ROOT")),
    };
    let subs = store::subscriptions(&state.platform.db, &user.tenant.institution_id, kind).await?;
    Ok(Json(json!(
        subs.iter()
            .map(|s| json!({ "id": s.id, "kind": s.kind.as_str(), "cidrs": s.cidrs }))
            .collect::<Vec<_>>()
    )))
}

pub async fn subscription_keys(
    State(state): State<IoState>,
    user: BoUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, IoError> {
    let s = manage_subscription(&state, &user, &id).await?;
    Ok(Json(keys_json(
        &store::keys(&state.platform.db, &state.ring, &s.id).await?,
    )))
}

pub async fn regenerate_subscription_key(
    State(state): State<IoState>,
    user: BoUser,
    Path((id, kt)): Path<(String, String)>,
) -> Result<Json<Value>, IoError> {
    let s = manage_subscription(&state, &user, &id).await?;
    let kt = key_type(&kt)?;
    Ok(Json(keys_json(
        &store::regenerate(&state.platform.db, &state.ring, &s.id, kt).await?,
    )))
}

pub async fn subscription_cidrs(
    State(state): State<IoState>,
    user: BoUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, IoError> {
    let s = manage_subscription(&state, &user, &id).await?;
    Ok(Json(json!(s.cidrs)))
}

pub async fn set_subscription_cidrs(
    State(state): State<IoState>,
    user: BoUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, IoError> {
    let s = manage_subscription(&state, &user, &id).await?;
    let payload = json_body(&body)?;
    // The real back-office sends `{cidrs: [...]}`; a bare list is accepted too.
    let list = payload.get("cidrs").unwrap_or(&payload);
    let Some(items) = list.as_array() else {
        return Err(IoError::invalid(
            "cidrs",
            "must be a list of IPv4 addresses or CIDRs",
        ));
    };
    let mut raw = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) => raw.push(s.to_string()),
            None => return Err(IoError::invalid(&format!("cidrs[{i}]"), "must be a string")),
        }
    }
    let cidrs: Vec<String> = model::parse_cidrs(&raw)?
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    store::set_cidrs(&state.platform.db, &s.id, &cidrs).await?;
    Ok(Json(json!(cidrs)))
}

// ---- review queue (platform operators) ----

pub async fn review_queue(
    State(state): State<IoState>,
    _op: ReviewOperator,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, IoError> {
    let limit = int_param(&q, "limit", 20, 1, 100)?;
    let offset = int_param(&q, "offset", 0, 0, i64::from(i32::MAX))?;
    let (rows, count) = store::review_queue(&state.platform.db, limit, offset).await?;
    Ok(Json(json!({
        "value": rows.iter().map(|r| {
            let mut v = lifecycle_json(r);
            if let Some(c) = &r.review_comment { v["review_comment"] = json!(c); }
            v
        }).collect::<Vec<_>>(),
        "pagination": { "offset": offset, "limit": limit, "count": count },
    })))
}

pub async fn approve(
    State(state): State<IoState>,
    op: ReviewOperator,
    Path(id): Path<String>,
) -> Result<StatusCode, IoError> {
    store::approve(
        &state.platform.db,
        service_id(&id)?,
        &format!("operator:{}", op.user_id()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reject(
    State(state): State<IoState>,
    op: ReviewOperator,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, IoError> {
    let payload = json_body(&body)?;
    let reason = required_str(&payload, "reason", "must be a string")?;
    store::reject(
        &state.platform.db,
        service_id(&id)?,
        &reason,
        &format!("operator:{}", op.user_id()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- the service API ----

/// `GET /api/v1/services/{service_id}` with the service's own key, from an address its
/// `authorized_cidrs` allow: the published service.
pub async fn service_api_get(
    State(state): State<IoState>,
    Path(id): Path<String>,
    parts: Parts,
) -> Result<Json<Value>, IoError> {
    let (owner, ip) = auth::key_owner(&state, &parts).await?;
    if owner.subscription.kind != SubscriptionKind::Service || owner.subscription.id != id {
        return Err(IoError::Forbidden(
            "this key is not the service's own key".into(),
        ));
    }
    let row = store::find_service(&state.platform.db, &id)
        .await?
        .ok_or(IoError::NotFound)?;
    if !model::address_allowed(&row.data.cidrs(), ip) {
        return Err(IoError::AddressNotAllowed);
    }
    let (Some(model::Publication::Published), Some(d)) = (row.publication, &row.published_data)
    else {
        return Err(IoError::NotFound);
    };
    let m = &d.metadata;
    let mut metadata = Map::new();
    metadata.insert("scope".into(), json!(m.scope.as_str()));
    for field in METADATA_TEXT_FIELDS {
        if let Some(v) = m.text(field) {
            metadata.insert((*field).into(), json!(v));
        }
    }
    if let Some(t) = m.topic_id.and_then(model::topic) {
        metadata.insert("topic".into(), json!({ "id": t.id, "name": t.name }));
    }
    Ok(Json(json!({
        "service_id": row.id,
        "service_name": d.name,
        "organization_name": row.tenant.name,
        "department_name": d.department_name.clone().unwrap_or_default(),
        "organization_fiscal_code": row.tenant.fiscal_code,
        "version": row.published_version.unwrap_or(row.version),
        "require_secure_channels": d.require_secure_channel,
        "service_metadata": Value::Object(metadata),
    })))
}
