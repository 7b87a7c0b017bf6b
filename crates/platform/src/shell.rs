//! The back-office shell: what every page of a product's back-office (App IO,
//! Interoperability) shows around its work — an environment banner, who is there for which
//! institution with which roles, the way back to the Reserved Area and out, and the left
//! column. One template (`templates/backoffice.html`), filled by each context with its own
//! message keys; a context's page templates `{% extends "backoffice.html" %}` and fill
//! `{% block work %}`.

/// An entry of the left column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavItem {
    pub href: String,
    /// The message key of its label.
    pub key: &'static str,
    /// The page being shown is this entry's (or below it).
    pub current: bool,
}

/// The left column of `items` (`(href, label key)`) for the page at `path`: the entry with the
/// longest href that is `path` or a parent of it is the current one.
pub fn nav(path: &str, items: &[(String, &'static str)]) -> Vec<NavItem> {
    let current = items
        .iter()
        .filter(|(href, _)| path == href || path.starts_with(&format!("{href}/")))
        .map(|(href, _)| href.as_str())
        .max_by_key(|href| href.len())
        .map(str::to_string);
    items
        .iter()
        .map(|(href, key)| NavItem {
            href: href.clone(),
            key,
            current: current.as_deref() == Some(href.as_str()),
        })
        .collect()
}

/// A banner above the shell (the environment of Interoperability).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// Its CSS class (its colour).
    pub class: &'static str,
    /// The `data-environment` attribute tests and scripts read.
    pub data: &'static str,
    /// Message keys: the environment's name and the note beside it.
    pub name_key: &'static str,
    pub note_key: &'static str,
}

/// What the shell shows. Empty parts are not shown: no user, no top bar; no entries, no left
/// column.
#[derive(Debug, Clone, Default)]
pub struct Shell {
    /// Message keys of the product's name (banner), the left column's title and its label,
    /// the link back to the Reserved Area and the logout button.
    pub title_key: &'static str,
    pub sidebar_title_key: &'static str,
    pub nav_label_key: &'static str,
    pub reserved_area_key: &'static str,
    pub logout_key: &'static str,
    /// Where the logout form posts.
    pub logout_action: String,
    pub banner: Option<Banner>,
    pub institution: Option<String>,
    /// The institution's id: the way back leads to its page in the Reserved Area, not to the
    /// chooser of a person's institutions.
    pub institution_id: Option<String>,
    pub user: Option<String>,
    /// Message keys of the person's roles.
    pub roles: Vec<&'static str>,
    /// The session's CSRF token (for its logout form).
    pub csrf: Option<String>,
    pub nav: Vec<NavItem>,
}

impl Shell {
    /// Where "back to the Reserved Area" leads: the institution's page when there is one.
    pub fn reserved_area_href(&self) -> String {
        match &self.institution_id {
            Some(id) => format!("/dashboard/{id}"),
            None => "/dashboard".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_matching_entry_is_the_current_one() {
        let items = vec![
            ("/io".to_string(), "home"),
            ("/io/services".to_string(), "services"),
            ("/io/servicesx".to_string(), "other"),
        ];
        let current = |path: &str| -> Vec<&'static str> {
            nav(path, &items)
                .into_iter()
                .filter(|i| i.current)
                .map(|i| i.key)
                .collect()
        };
        assert_eq!(current("/io"), ["home"]);
        assert_eq!(current("/io/services"), ["services"]);
        assert_eq!(current("/io/services/abc/edit"), ["services"]);
        assert_eq!(current("/io/keys"), ["home"]);
        assert!(current("/interop").is_empty());
    }
}
