//! The institution's activity log for its administrators: read-only, newest first, each record
//! told as a sentence naming people and products; filtered by kind, person and period, in pages;
//! the raw records downloadable as CSV or JSON.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::Timestamp;
use platform::i18n::{Piece, pieces};
use platform::layout::{ErrorSummary, Page};
use serde::{Deserialize, Serialize};

use crate::access;
use crate::auth::PageUser;
use crate::error::RaError;
use crate::model::Action;
use crate::model::activity::{self, KINDS, Logged, Named};
use crate::pages::dashboard::page_for;
use crate::pages::error::{OnPage, PageFailure};
use crate::state::RaState;
use crate::store::{self, AuditEntry, Institution, TrailFilter};

const PAGE_SIZE: i64 = 20;

/// The most records one export carries (the newest of the filter); a longer period is
/// exported a part at a time.
pub const EXPORT_MAX: i64 = 10_000;

/// The filters, as the form sends them.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub person: String,
    /// The first day, `yyyy-mm-dd` (Italy's local time).
    #[serde(default)]
    pub from: String,
    /// The last day, included.
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: u32,
    /// Of the export: `csv` (the default) or `json`.
    #[serde(default)]
    pub format: String,
}

/// A filter field's error: (field, message key).
type FilterError = (&'static str, &'static str);

impl AuditQuery {
    /// The store's filter, or the fields that are not valid.
    fn filter(&self) -> Result<TrailFilter, Vec<FilterError>> {
        let mut errors = Vec::new();
        let mut day = |field: &'static str, value: &str| {
            if value.trim().is_empty() {
                return None;
            }
            let bounds = Timestamp::day_in_italy(value);
            if bounds.is_none() {
                errors.push((field, "ra.audit.errors.date"));
            }
            bounds
        };
        let since = day("from", &self.from).map(|(start, _)| start.millis());
        let before = day("to", &self.to).map(|(_, end)| end.millis());
        if let (Some(since), Some(before)) = (since, before)
            && since >= before
        {
            errors.push(("to", "ra.audit.errors.period"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(TrailFilter {
            kind: activity::kind(&self.kind).to_string(),
            person: Some(self.person.trim().to_string()).filter(|p| !p.is_empty()),
            since,
            before,
        })
    }

    /// The query string of these filters (for the pager and the export links).
    fn with(&self, extra: &[(&str, &str)]) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("kind", self.kind.as_str()),
            ("person", self.person.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        for (k, v) in extra {
            q.append_pair(k, v);
        }
        q.finish()
    }
}

/// A piece of a sentence as the page shows it.
pub enum Shown {
    Text(String),
    /// A person, linked to their page in this institution.
    Person {
        href: String,
        name: String,
    },
    /// A product, a role, a service: set apart from the words around it.
    Named(String),
}

/// A record as the page shows it.
pub struct Line {
    pub when: String,
    /// The machine-readable date, for `<time>`.
    pub datetime: String,
    pub action: String,
    pub sentence: Vec<Shown>,
    pub client_addr: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    page: Page,
    institution: Institution,
    lines: Vec<Line>,
    kinds: &'static [(&'static str, &'static str)],
    q: AuditQuery,
    /// The person the log is filtered on, by name.
    person_name: Option<String>,
    errors: Vec<FilterError>,
    summary: ErrorSummary,
    number: u32,
    has_next: bool,
}

impl AuditPage {
    fn error_of(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, key)| *key)
    }

    fn page_link(&self, number: u32) -> String {
        self.q.with(&[("page", &number.to_string())])
    }

    /// The period's fields: name, label, value as typed.
    fn date_fields(&self) -> [(&'static str, &'static str, &str); 2] {
        [
            ("from", "ra.audit.from_day", self.q.from.as_str()),
            ("to", "ra.audit.to_day", self.q.to.as_str()),
        ]
    }

    fn without_person(&self) -> String {
        AuditQuery {
            person: String::new(),
            ..self.q.clone()
        }
        .with(&[])
    }

    fn export_link(&self, format: &str) -> String {
        format!(
            "/dashboard/{}/audit/export?{}",
            self.institution.id,
            self.q.with(&[("format", format)])
        )
    }
}

/// `entry` told in the page's language.
fn line(state: &RaState, page: &Page, institution_id: &str, e: &AuditEntry) -> Line {
    let details = serde_json::from_str(&e.details).unwrap_or_default();
    let sentence = activity::describe(
        &Logged {
            action: &e.action,
            actor: &e.actor,
            actor_name: e.actor_name.as_deref(),
            target: &e.target,
            target_name: e.target_name.as_deref(),
            details: &details,
        },
        &state.catalogue,
        page.lang,
    );
    let sentence = pieces(page.t(sentence.key), &sentence.args)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => Shown::Text(text.to_string()),
            Piece::Value(Named::Person { id, name }) => Shown::Person {
                href: format!(
                    "/dashboard/{institution_id}/users/{}",
                    form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
                ),
                name,
            },
            Piece::Value(Named::Words(words)) => Shown::Named(words),
            Piece::Value(Named::Message(key)) => Shown::Text(page.t(key).to_string()),
        })
        .collect();
    Line {
        when: Timestamp(e.at).for_people(page.lang),
        datetime: Timestamp(e.at).rfc3339(),
        action: e.action.clone(),
        sentence,
        client_addr: e.client_addr.clone(),
    }
}

/// The page's layout and the institution, for an administrator of it.
async fn admin_of(
    state: &RaState,
    user: &PageUser,
    page: Page,
    institution_id: &str,
) -> Result<(Page, Institution), PageFailure> {
    let page = page_for(page, user);
    let a = access::load(state, &user.session, institution_id)
        .await
        .on_page(&page)?;
    if !a.authority.can(Action::ManageProductUsers) {
        return Err(RaError::Forbidden).on_page(&page);
    }
    Ok((page, a.institution))
}

/// `GET /dashboard/{institution_id}/audit`
pub async fn audit(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path(institution_id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageFailure> {
    let (page, institution) = admin_of(&state, &user, page, &institution_id).await?;
    let (filter, errors) = match q.filter() {
        Ok(filter) => (Some(filter), vec![]),
        Err(errors) => (None, errors),
    };
    let mut entries = match &filter {
        // One more than a page tells whether there is a next one.
        Some(filter) => store::audit_trail(
            &state.platform.db,
            &institution_id,
            filter,
            i64::from(q.page).min(platform::paging::MAX_PAGE) * PAGE_SIZE,
            PAGE_SIZE + 1,
        )
        .await
        .map_err(RaError::from)
        .on_page(&page)?,
        None => vec![],
    };
    let has_next = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    let person_name = match filter.as_ref().and_then(|f| f.person.as_deref()) {
        Some(id) => store::person_name(&state.platform.db, id)
            .await
            .map_err(RaError::from)
            .on_page(&page)?,
        None => None,
    };
    let lines = entries
        .iter()
        .map(|e| line(&state, &page, &institution_id, e))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let number = q.page;
    let summary = ErrorSummary::new(
        &page,
        errors
            .iter()
            .map(|(field, key)| {
                let label = if *field == "from" {
                    "ra.audit.from_day"
                } else {
                    "ra.audit.to_day"
                };
                (
                    field.to_string(),
                    format!("{}: {}", page.t(label), page.t(key)),
                )
            })
            .collect(),
    );
    Ok((
        status,
        AuditPage {
            page,
            institution,
            lines,
            kinds: KINDS,
            q,
            person_name,
            errors,
            summary,
            number,
            has_next,
        },
    )
        .into_response())
}

/// A record as the export writes it: the raw record, with the names found for its ids.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exported {
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub action: String,
    pub actor: String,
    pub actor_name: String,
    pub target: String,
    pub target_name: String,
    /// As recorded (JSON).
    pub details: serde_json::Value,
    pub client_addr: String,
}

impl From<AuditEntry> for Exported {
    fn from(e: AuditEntry) -> Self {
        Exported {
            details: serde_json::from_str(&e.details)
                .unwrap_or(serde_json::Value::String(e.details)),
            id: e.id,
            at: Timestamp(e.at).rfc3339(),
            action: e.action,
            actor: e.actor,
            actor_name: e.actor_name.unwrap_or_default(),
            target: e.target,
            target_name: e.target_name.unwrap_or_default(),
            client_addr: e.client_addr,
        }
    }
}

/// The records as CSV: a header line, then one line a record (RFC 4180).
fn csv_of(records: &[Exported]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "id",
        "at",
        "action",
        "actor",
        "actorName",
        "target",
        "targetName",
        "details",
        "clientAddr",
    ])?;
    for r in records {
        out.write_record([
            r.id.as_str(),
            &r.at,
            &r.action,
            &r.actor,
            &r.actor_name,
            &r.target,
            &r.target_name,
            &r.details.to_string(),
            &r.client_addr,
        ])?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// `GET /dashboard/{institution_id}/audit/export?format=csv|json` with the page's filters: the
/// newest [`EXPORT_MAX`] raw records, as a download.
pub async fn export(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path(institution_id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageFailure> {
    let (page, institution) = admin_of(&state, &user, page, &institution_id).await?;
    let Ok(filter) = q.filter() else {
        return Err(RaError::BadRequest {
            code: "invalid_period",
            field: "from",
            detail: page.t("ra.audit.errors.date").to_string(),
        })
        .on_page(&page);
    };
    let records: Vec<Exported> =
        store::audit_trail(&state.platform.db, &institution_id, &filter, 0, EXPORT_MAX)
            .await
            .map_err(RaError::from)
            .on_page(&page)?
            .into_iter()
            .map(Exported::from)
            .collect();
    let stem = format!(
        "attivita-{}-{}",
        institution.tax_code,
        Timestamp::now().rfc3339().get(..10).unwrap_or("oggi")
    );
    let (content_type, file, body) = if q.format == "json" {
        let body = serde_json::to_vec_pretty(&records)
            .map_err(|e| RaError::Internal(e.to_string()))
            .on_page(&page)?;
        ("application/json", format!("{stem}.json"), body)
    } else {
        let body = csv_of(&records)
            .map_err(|e| RaError::Internal(e.to_string()))
            .on_page(&page)?;
        ("text/csv; charset=utf-8", format!("{stem}.csv"), body)
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
