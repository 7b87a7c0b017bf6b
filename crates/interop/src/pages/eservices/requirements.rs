//! The attributes a version requires, on the version's page: read only once published; while
//! the version is a draft, an editor of the groups of each kind (add a group with its first
//! attribute, add an attribute to a group, take one away), each change saved whole through
//! `attributes::parse_requirements` and `catalogue::set_requirements`, as the API does.

use crate::model::attribute::{AttributeKind, Requirement, Requirements, name_key};
use crate::pages::attributes::{RequirementsView, names_of};
use crate::store::attributes::{self as registry, Attribute};

use super::*;

/// The most names of the registry offered while typing, per kind.
const CHOICES_MAX: i64 = 200;
/// The most candidates a refusal names when a typed name matches several attributes.
const CANDIDATES_SHOWN: usize = 5;
/// The bounds of a certified attribute's daily calls (the model's).
const CALLS_MAX: i64 = 1_000_000_000;

/// The version's requirements as its page shows them; for a draft, the editor's choices and
/// what was typed in its fields (`typed`, by field id).
pub async fn view(
    state: &EnvState,
    on: &On,
    d: &Descriptor,
    typed: &HashMap<String, String>,
) -> Result<RequirementsView, PageError> {
    let names = names_of(state, &d.attributes)
        .await
        .map_err(|e| on.fail(e))?;
    let mut view = RequirementsView::of(on, &d.attributes, &names, None);
    if d.state_value != crate::model::DescriptorState::Draft {
        return Ok(view);
    }
    let typed_in = |id: &str| typed.get(id).cloned().unwrap_or_default();
    for k in &mut view.kinds {
        let (found, _) = registry::search(
            &state.platform.db,
            state.env,
            Some(k.kind),
            "",
            CHOICES_MAX,
            0,
        )
        .await
        .map_err(|e| on.fail(e))?;
        k.choices = found.into_iter().map(|a| a.name).collect();
        k.choices.dedup();
        k.new_name_value = typed_in(&k.new_name_id);
        k.new_calls_value = typed_in(&k.new_calls_id);
        for g in &mut k.groups {
            g.name_value = typed_in(&g.name_id);
            g.calls_value = typed_in(&g.calls_id);
        }
    }
    Ok(view)
}

fn groups_mut(r: &mut Requirements, kind: AttributeKind) -> &mut Vec<Vec<Requirement>> {
    match kind {
        AttributeKind::Certified => &mut r.certified,
        AttributeKind::Declared => &mut r.declared,
        AttributeKind::Verified => &mut r.verified,
    }
}

fn adjective(page: &Page, kind: AttributeKind) -> String {
    page.t(&format!("interop.requirements.of_kind_{}", kind.key()))
        .to_string()
}

/// The attribute of `kind` a person typed: its id, its exact name (any case), or the one
/// attribute whose name contains what was typed. Else why not, in words.
async fn resolve(
    state: &EnvState,
    page: &Page,
    kind: AttributeKind,
    typed: &str,
) -> Result<Result<Attribute, String>, InteropError> {
    let t = typed.trim();
    if t.is_empty() {
        return Ok(Err(page.t("interop.field.required").to_string()));
    }
    let db = &state.platform.db;
    if let Some(a) = registry::get(db, state.env, t).await?
        && a.kind == kind
    {
        return Ok(Ok(a));
    }
    let (found, total) = registry::search(db, state.env, Some(kind), t, 50, 0).await?;
    let exact: Vec<&Attribute> = found
        .iter()
        .filter(|a| name_key(&a.name) == name_key(t))
        .collect();
    let only = match exact.as_slice() {
        [one] => Some((*one).clone()),
        [] if total == 1 => found.first().cloned(),
        _ => None,
    };
    if let Some(a) = only {
        return Ok(Ok(a));
    }
    let kind_words = adjective(page, kind);
    if total == 0 {
        return Ok(Err(page.tr(
            "interop.requirements.not_found",
            &[("kind", &kind_words), ("name", t)],
        )));
    }
    let shown: Vec<&Attribute> = if exact.len() > 1 {
        exact
    } else {
        found.iter().collect()
    };
    let mut names: Vec<String> = shown
        .iter()
        .take(CANDIDATES_SHOWN)
        .map(|a| {
            let name = page.tr("interop.attributes.quoted", &[("name", &a.name)]);
            match (&a.origin, &a.code) {
                (Some(o), Some(c)) => format!("{name} ({o} {c})"),
                _ => name,
            }
        })
        .collect();
    if shown.len() > CANDIDATES_SHOWN || total > i64::try_from(shown.len()).unwrap_or(0) {
        names.push("…".into());
    }
    Ok(Err(page.tr(
        "interop.requirements.ambiguous",
        &[
            ("kind", &kind_words),
            ("name", t),
            ("names", &names.join(", ")),
        ],
    )))
}

/// The daily calls typed for a certified attribute: blank is none.
fn calls(page: &Page, raw: &str) -> Result<Option<i64>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match whole(t) {
        Some(n) if (1..=CALLS_MAX).contains(&n) => Ok(Some(n)),
        Some(_) => Err(page.t("interop.requirements.calls_range").to_string()),
        None => Err(page.t("interop.field.whole_number").to_string()),
    }
}

/// A model's refusal of the requirements in words.
fn model_words(page: &Page, message: &str) -> String {
    if message.starts_with("attributeDuplicatedInGroup") {
        page.t("interop.requirements.already_in_group").to_string()
    } else if message.starts_with("attributeNotFound") {
        page.t("interop.requirements.unknown").to_string()
    } else if message.starts_with("must be between 1 and") {
        page.t("interop.requirements.calls_range").to_string()
    } else {
        localize_field(page, message)
    }
}

/// `requirement_add` (`kind`, `group`: an index or `new`, `name`, `dailyCalls`) or
/// `requirement_remove` (`kind`, `group`, `attribute`) on the draft `d_id` of `e`: the page to
/// go to, or the refusal with its words placed in `errors` (by field id) and what was typed in
/// `typed`.
#[allow(clippy::too_many_arguments)]
pub async fn change(
    state: &EnvState,
    on: &On,
    by: crate::store::notices::By<'_>,
    e: &EService,
    d_id: &str,
    action: &str,
    data: &FormData,
    errors: &mut FormErrors,
    typed: &mut HashMap<String, String>,
) -> Result<String, InteropError> {
    let d = e.descriptor(d_id).ok_or(InteropError::NotFound)?;
    let page = &on.page;
    let Some(kind) = AttributeKind::ALL
        .into_iter()
        .find(|k| k.key() == data.value("kind").trim())
    else {
        return Err(InteropError::invalid("action", "unknown action"));
    };
    let group_raw = data.value("group").trim();
    let group: Option<usize> = group_raw.parse().ok();
    if group.is_none() && group_raw != "new" {
        return Err(InteropError::invalid("action", "unknown action"));
    }
    let mut requirements = d.attributes.clone();
    let groups = groups_mut(&mut requirements, kind);
    let gone = || {
        InteropError::Conflict(
            "requirement_group_gone",
            "the group is not there any more".into(),
        )
    };
    match action {
        "requirement_add" => {
            let at = group.map_or_else(|| "new".to_string(), |g| g.to_string());
            let name_id = format!("req-{}-{at}-name", kind.key());
            let calls_id = format!("req-{}-{at}-calls", kind.key());
            let name = data.value("name").to_string();
            let calls_raw = data.value("dailyCalls").to_string();
            typed.insert(name_id.clone(), name.clone());
            typed.insert(calls_id.clone(), calls_raw.clone());
            let found = resolve(state, page, kind, &name).await?;
            let calls = if kind == AttributeKind::Certified {
                calls(page, &calls_raw)
            } else {
                Ok(None)
            };
            if let Err(m) = &found {
                errors.add(&name_id, m.clone());
            }
            if let Err(m) = &calls {
                errors.add(&calls_id, m.clone());
            }
            let (Ok(a), Ok(calls)) = (found, calls) else {
                return Err(InteropError::invalid("form", "refused"));
            };
            let r = Requirement {
                id: a.id.clone(),
                explicit_attribute_verification: false,
                daily_calls_per_consumer: calls,
            };
            match group {
                None => groups.push(vec![r]),
                Some(g) => {
                    let Some(members) = groups.get_mut(g) else {
                        return Err(gone());
                    };
                    if members.iter().any(|x| x.id == a.id) {
                        errors.add(
                            &name_id,
                            page.t("interop.requirements.already_in_group").to_string(),
                        );
                        return Err(InteropError::invalid("form", "refused"));
                    }
                    members.push(r);
                }
            }
        }
        "requirement_remove" => {
            let attribute = data.value("attribute").trim();
            let Some(g) = group else {
                return Err(InteropError::invalid("action", "unknown action"));
            };
            let Some(members) = groups.get_mut(g) else {
                return Err(gone());
            };
            let before = members.len();
            members.retain(|x| x.id != attribute);
            if members.len() == before {
                return Err(gone());
            }
            if members.is_empty() {
                groups.remove(g);
            }
        }
        _ => return Err(InteropError::invalid("action", "unknown action")),
    }
    let value = serde_json::to_value(&requirements)
        .map_err(|err| InteropError::invalid("attributes", err.to_string()))?;
    let db = &state.platform.db;
    let parsed = match registry::parse_requirements(db, state.env, Some(&value)).await {
        Ok(r) => r,
        Err(InteropError::Invalid(model)) => {
            for x in &model {
                errors.general.push(model_words(page, &x.message));
            }
            return Err(InteropError::invalid("form", "refused"));
        }
        Err(other) => return Err(other),
    };
    catalogue::set_requirements(db, state.env, by, &e.id, d_id, &parsed).await?;
    Ok(format!(
        "{}?done=requirements_saved",
        on.href(&version_path(&e.id, d_id))
    ))
}
