//! What the pages show of a service, its history and its keys, ready for the templates.

use std::collections::HashMap;

use platform::i18n::Lang;
use platform::paging::Pager;

use super::form::META_FIELDS;
use crate::error::IoError;
use crate::model::{self, KeyType, Lifecycle, Publication, Scope};
use crate::secrets::ApiKey;
use crate::store::{HistoryItem, KeyPair, ServiceRow};
use platform::Timestamp;

pub fn status_key(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Draft => "io.status.draft",
        Lifecycle::Submitted => "io.status.submitted",
        Lifecycle::Approved => "io.status.approved",
        Lifecycle::Rejected => "io.status.rejected",
        Lifecycle::Deleted => "io.status.deleted",
    }
}

pub fn status_badge(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Draft | Lifecycle::Deleted => "badge",
        Lifecycle::Submitted => "badge badge-warning",
        Lifecycle::Approved => "badge badge-success",
        Lifecycle::Rejected => "badge badge-danger",
    }
}

/// The visibility label and badge; `None` when never published.
pub fn visibility(p: Option<Publication>) -> Option<(&'static str, &'static str)> {
    match p? {
        Publication::Published => Some(("io.visibility.published", "badge badge-success")),
        Publication::Unpublished => Some(("io.visibility.unpublished", "badge")),
    }
}

pub fn scope_key(s: Scope) -> &'static str {
    match s {
        Scope::National => "io.scope.national",
        Scope::Local => "io.scope.local",
    }
}

/// One row of the services table.
pub struct ServiceLine {
    pub id: String,
    pub name: String,
    pub last_update: String,
    pub status_key: &'static str,
    pub status_badge: &'static str,
    pub visibility: Option<(&'static str, &'static str)>,
    /// Brought over from the old Developer Portal.
    pub imported: bool,
}

impl ServiceLine {
    pub fn of(row: &ServiceRow, lang: Lang) -> ServiceLine {
        ServiceLine {
            id: row.id.clone(),
            name: row.data.name.clone(),
            last_update: Timestamp::from_millis(row.updated_at).for_people(lang),
            status_key: status_key(row.status),
            status_badge: status_badge(row.status),
            visibility: visibility(row.publication),
            imported: row.source.is_some(),
        }
    }
}

/// One optional metadata text field as shown: label key, value, and whether it is a link.
pub struct MetaLine {
    pub label: &'static str,
    pub value: String,
    pub link: bool,
}

/// Everything the pages show of a service's data and state.
pub struct ServiceView {
    pub id: String,
    pub institution: String,
    pub name: String,
    pub description: String,
    pub department_name: Option<String>,
    pub scope_key: &'static str,
    pub topic: Option<String>,
    pub meta: Vec<MetaLine>,
    pub require_secure_channel: bool,
    pub suitable_for_minors: bool,
    pub recipients: Vec<String>,
    pub cidrs: Vec<String>,
    pub max_allowed_payment_amount: i64,
    pub special: bool,
    pub version: i64,
    pub last_update: String,
    pub status: Lifecycle,
    pub status_key: &'static str,
    pub status_badge: &'static str,
    pub status_reason: Option<String>,
    pub visibility: Option<(&'static str, &'static str)>,
    pub published_version: Option<i64>,
    pub published_at: Option<String>,
    pub submitted_at: Option<String>,
    pub auto_publish: bool,
    pub review_comment: Option<String>,
    /// `model::release` would accept: the last approved version is not the one on the app.
    pub may_publish: bool,
    pub may_unpublish: bool,
    /// Draft, rejected or approved: it may be edited and deleted.
    pub may_edit: bool,
    pub may_submit: bool,
    pub may_abort: bool,
}

impl ServiceView {
    pub fn of(row: &ServiceRow, lang: Lang) -> ServiceView {
        let d = &row.data;
        let m = &d.metadata;
        let state = row.publication_state();
        ServiceView {
            id: row.id.clone(),
            institution: row.tenant.name.clone(),
            name: d.name.clone(),
            description: d.description.clone(),
            department_name: d.department_name.clone(),
            scope_key: scope_key(m.scope),
            topic: m
                .topic_id
                .and_then(model::topic)
                .map(|t| t.name.to_string()),
            meta: META_FIELDS
                .iter()
                .filter_map(|f| {
                    m.text(f.name).map(|v| MetaLine {
                        label: f.label,
                        value: v.to_string(),
                        link: f.kind == "url" && model::url_shape(v),
                    })
                })
                .collect(),
            require_secure_channel: d.require_secure_channel,
            suitable_for_minors: d.suitable_for_minors,
            recipients: d.authorized_recipients.clone(),
            cidrs: d.authorized_cidrs.clone(),
            max_allowed_payment_amount: d.max_allowed_payment_amount,
            special: m.category == model::Category::Special,
            version: row.version,
            last_update: Timestamp::from_millis(row.updated_at).for_people(lang),
            status: row.status,
            status_key: status_key(row.status),
            status_badge: status_badge(row.status),
            status_reason: row.status_reason.clone(),
            visibility: visibility(row.publication),
            published_version: row.published_version,
            published_at: row
                .published_at
                .map(|t| Timestamp::from_millis(t).for_people(lang)),
            submitted_at: row
                .submitted_at
                .map(|t| Timestamp::from_millis(t).for_people(lang)),
            auto_publish: row.auto_publish,
            review_comment: row.review_comment.clone(),
            may_publish: model::release(&state).is_ok(),
            may_unpublish: model::unpublish(&state).is_ok(),
            may_edit: model::next(row.status, model::Action::Edit).is_ok(),
            may_submit: model::next(row.status, model::Action::Submit).is_ok(),
            may_abort: model::next(row.status, model::Action::Abort).is_ok(),
        }
    }

    pub fn is_rejected(&self) -> bool {
        self.status == Lifecycle::Rejected
    }

    pub fn is_submitted(&self) -> bool {
        self.status == Lifecycle::Submitted
    }
}

/// One record of the history.
pub struct HistoryLine {
    pub at: String,
    pub kind_key: &'static str,
    pub status_key: &'static str,
    pub reason: Option<String>,
    pub version: i64,
    /// The record of the service's arrival from the old Developer Portal.
    pub imported: bool,
}

impl HistoryLine {
    pub fn of(item: &HistoryItem, lang: Lang) -> HistoryLine {
        let status_key = match (item.kind.as_str(), item.status.as_str()) {
            ("publication", "published") => "io.visibility.published",
            ("publication", _) => "io.visibility.unpublished",
            (_, s) => Lifecycle::parse(s).map_or("io.status.unknown", status_key),
        };
        HistoryLine {
            at: Timestamp::from_millis(item.at).for_people(lang),
            kind_key: if item.kind == "publication" {
                "io.history.publication"
            } else {
                "io.history.lifecycle"
            },
            status_key,
            reason: item.reason.clone(),
            version: item.version,
            imported: item
                .actor
                .as_deref()
                .is_some_and(|a| a.starts_with(crate::import::IMPORT_ACTOR_PREFIX)),
        }
    }
}

/// A key as a page shows it: masked, or in full when asked for.
pub struct KeyLine {
    /// `primary` or `secondary`.
    pub kind: &'static str,
    pub label: &'static str,
    pub masked: String,
    /// Only when the page was asked to show the keys.
    pub full: Option<String>,
    pub regenerate_href: String,
}

/// The two keys of a subscription on a page.
pub struct KeysView {
    pub lines: Vec<KeyLine>,
    pub shown: bool,
    /// The page's address with and without `show_keys=1`.
    pub show_href: String,
    pub hide_href: String,
    pub may_regenerate: bool,
}

/// `••••••••` and the last four characters: enough to tell keys apart, not to use one.
pub fn mask(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••••••{tail}")
}

impl KeysView {
    /// `base` is the page's path; regeneration confirms at `{regenerate_base}/{kind}/regenerate`.
    pub fn of(
        keys: &KeyPair,
        shown: bool,
        base: &str,
        regenerate_base: &str,
        may_regenerate: bool,
    ) -> KeysView {
        let line = |kt: KeyType, key: &ApiKey| KeyLine {
            kind: kt.as_str(),
            label: match kt {
                KeyType::Primary => "io.keys.primary",
                KeyType::Secondary => "io.keys.secondary",
            },
            masked: mask(key.expose()),
            full: shown.then(|| key.expose().to_string()),
            regenerate_href: format!("{regenerate_base}/{}/regenerate", kt.as_str()),
        };
        KeysView {
            lines: vec![
                line(KeyType::Primary, &keys.primary),
                line(KeyType::Secondary, &keys.secondary),
            ],
            shown,
            show_href: format!("{base}?show_keys=1#keys"),
            hide_href: format!("{base}#keys"),
            may_regenerate,
        }
    }
}

/// The page of a list that the query's `page` asks for, `size` items a page (past the end:
/// the last one), and its pager, whose links keep the list's `filters` (name, value);
/// `fetch(limit, offset)` gives a page of items and how many there are.
pub async fn paged<T, F>(
    q: &HashMap<String, String>,
    filters: &[(&str, &str)],
    size: i64,
    fetch: impl Fn(i64, i64) -> F,
) -> Result<(Vec<T>, Pager), IoError>
where
    F: Future<Output = Result<(Vec<T>, i64), IoError>>,
{
    let asked = platform::paging::page_number(q.get("page").map(String::as_str));
    let (mut items, count) = fetch(size, (asked - 1) * size).await?;
    let href = |n: i64| {
        let n = n.to_string();
        let mut pairs = filters.to_vec();
        pairs.push(("page", &n));
        format!("?{}", platform::paging::query_string(&pairs))
    };
    let pager = Pager::new(asked, size, count, href);
    if pager.number != asked {
        items = fetch(size, (pager.number - 1) * size).await?.0;
    }
    Ok((items, pager))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_the_last_four_characters_only() {
        assert_eq!(mask("0123456789abcdef0123456789abcdef"), "••••••••cdef");
        assert_eq!(mask("ab"), "••••••••ab");
    }
}
