//! "Chiavi API": the institution's root manage key and its authorized addresses (administrators
//! only; operators are told where service keys are).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::layout::Page;

use super::form::{entries, localize};
use super::services::{key_type, regenerate_confirmation};
use super::view::KeysView;
use super::{Bo, PageError, PostedForm, QueryString, Shell, query, render, see_other, value};
use crate::error::IoError;
use crate::model;
use crate::state::IoState;
use crate::store::{self, Subscription};

#[derive(Template, WebTemplate)]
#[template(path = "keys.html")]
pub struct KeysPage {
    page: Page,
    shell: Shell,
    /// For administrators: the manage key and its addresses.
    manage: Option<ManageView>,
    /// The manage key pair (administrators).
    keys: Option<KeysView>,
    flash: Option<&'static str>,
    csrf: String,
    /// This server's public address, for the example call.
    base_url: String,
}

pub struct ManageView {
    pub subscription_id: String,
    /// The addresses as typed (after a refused change) or as stored, one per line.
    pub cidrs: String,
    pub cidrs_error: Option<String>,
    pub stored: Vec<String>,
}

async fn manage_subscription(state: &IoState, bo: &Bo) -> Result<Subscription, PageError> {
    let institution_id = &bo.user.tenant.institution_id;
    let id = model::manage_subscription_id(institution_id);
    let db = &state.platform.db;
    if let Some(s) = store::subscription(db, &id).await.map_err(|e| bo.fail(e))? {
        return Ok(s);
    }
    // Made when the session opened; made here too if it went missing since.
    store::ensure_manage_subscription(db, &state.ring, institution_id)
        .await
        .map_err(|e| bo.fail(e))?;
    store::subscription(db, &id)
        .await
        .map_err(|e| bo.fail(e))?
        .ok_or_else(|| bo.fail(IoError::NotFound))
}

async fn keys_page(
    state: &IoState,
    bo: Bo,
    show_keys: bool,
    flash: Option<&'static str>,
    typed: Option<(String, String)>,
) -> Result<Response, PageError> {
    let mut keys = None;
    let manage = if bo.user.is_admin() {
        let s = manage_subscription(state, &bo).await?;
        let pair = store::keys(&state.platform.db, &state.ring, &s.id)
            .await
            .map_err(|e| bo.fail(e))?;
        let (cidrs, cidrs_error) = match typed {
            Some((text, error)) => (text, Some(error)),
            None => (s.cidrs.join("\n"), None),
        };
        keys = Some(KeysView::of(&pair, show_keys, "/io/keys", "/io/keys", true));
        Some(ManageView {
            subscription_id: s.id,
            cidrs,
            cidrs_error,
            stored: s.cidrs,
        })
    } else {
        None
    };
    let status = if manage.as_ref().is_some_and(|m| m.cidrs_error.is_some()) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let csrf = bo.csrf();
    let Bo { page, shell, .. } = bo;
    Ok(render(
        KeysPage {
            page,
            shell,
            manage,
            keys,
            flash,
            csrf,
            base_url: state.platform.public_url.clone(),
        },
        status,
    ))
}

/// `GET /io/keys` (`?show_keys=1` shows the keys in full)
pub async fn page(
    State(state): State<IoState>,
    bo: Bo,
    q: QueryString,
) -> Result<Response, PageError> {
    let q = query(q);
    let show_keys = q.get("show_keys").is_some_and(|v| v == "1" || v == "true");
    let flash = match q.get("done").map(String::as_str) {
        Some("regenerated_primary") => Some("io.flash.regenerated_primary"),
        Some("regenerated_secondary") => Some("io.flash.regenerated_secondary"),
        Some("cidrs") => Some("io.flash.cidrs"),
        _ => None,
    };
    keys_page(&state, bo, show_keys, flash, None).await
}

/// `GET /io/keys/{primary|secondary}/regenerate` (administrators)
pub async fn confirm_regenerate(
    State(state): State<IoState>,
    bo: Bo,
    Path(kt): Path<String>,
) -> Result<Response, PageError> {
    bo.require_admin()?;
    let kt = key_type(&bo, &kt)?;
    manage_subscription(&state, &bo).await?;
    let subject = bo.t("io.regenerate.of_manage");
    Ok(regenerate_confirmation(
        bo,
        kt,
        &subject,
        format!("/io/keys/{}/regenerate", kt.as_str()),
        "/io/keys?show_keys=1#keys".to_string(),
    ))
}

/// `POST /io/keys/{primary|secondary}/regenerate` (administrators)
pub async fn regenerate(
    State(state): State<IoState>,
    bo: Bo,
    Path(kt): Path<String>,
    form: PostedForm,
) -> Result<Response, PageError> {
    bo.require_admin()?;
    bo.posted(form)?;
    let kt = key_type(&bo, &kt)?;
    let s = manage_subscription(&state, &bo).await?;
    store::regenerate(&state.platform.db, &state.ring, &s.id, kt)
        .await
        .map_err(|e| bo.fail(e))?;
    Ok(see_other(&format!(
        "/io/keys?show_keys=1&done=regenerated_{}#keys",
        kt.as_str()
    )))
}

/// `POST /io/keys/cidrs` (administrators): the manage key's authorized addresses.
pub async fn set_cidrs(
    State(state): State<IoState>,
    bo: Bo,
    form: PostedForm,
) -> Result<Response, PageError> {
    bo.require_admin()?;
    let pairs = bo.posted(form)?;
    let s = manage_subscription(&state, &bo).await?;
    let typed = value(&pairs, "cidrs").to_string();
    let list = entries(&typed);
    let cidrs = match model::parse_cidrs(&list) {
        Ok(cidrs) => cidrs,
        Err(e) => {
            let message = localize(&bo.page, &e.message);
            let index = e
                .field
                .split_once('[')
                .and_then(|(_, i)| i.strip_suffix(']'))
                .and_then(|i| i.parse::<usize>().ok());
            let message = match index.and_then(|i| list.get(i)) {
                Some(entry) => format!("«{entry}»: {message}"),
                None => message,
            };
            return keys_page(&state, bo, false, None, Some((typed, message))).await;
        }
    };
    let cidrs: Vec<String> = cidrs.iter().map(|c| c.as_str().to_string()).collect();
    store::set_cidrs(&state.platform.db, &s.id, &cidrs)
        .await
        .map_err(|e| bo.fail(e))?;
    Ok(see_other("/io/keys?done=cidrs"))
}
