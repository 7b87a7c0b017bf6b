//! Paged lists on pages: which page a query asks for, and the pager under the list
//! (`templates/pager.html`, words `pager.*`).

/// The deepest page a page's query may ask for; a larger number, or one that is not a number,
/// is the first page.
pub const MAX_PAGE: i64 = 10_000;

/// The page a query's `page` asks for, from 1.
pub fn page_number(raw: Option<&str>) -> i64 {
    raw.and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| (1..=MAX_PAGE).contains(p))
        .unwrap_or(1)
}

/// Where a paged list stands, with the links to its neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    /// The page shown, from 1 (never past the last).
    pub number: i64,
    /// How many pages there are (at least 1).
    pub pages: i64,
    /// How many items there are in all.
    pub total: i64,
    pub number_text: String,
    pub pages_text: String,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

impl Pager {
    /// The pager of page `number` of a list of `total` items, `size` a page; `href(n)` is
    /// the address of page `n` (keeping the list's filters).
    pub fn new(number: i64, size: i64, total: i64, href: impl Fn(i64) -> String) -> Pager {
        let pages = last_page(size, total);
        let number = number.clamp(1, pages);
        Pager {
            number,
            pages,
            total,
            number_text: number.to_string(),
            pages_text: pages.to_string(),
            prev_href: (number > 1).then(|| href(number - 1)),
            next_href: (number < pages).then(|| href(number + 1)),
        }
    }
}

/// The number of the last page of `total` items, `size` a page (1 when there are none).
pub fn last_page(size: i64, total: i64) -> i64 {
    let size = size.max(1);
    ((total.max(0) + size - 1) / size).max(1)
}

/// The window of `limit` items from the `offset`th of `total`, counted from the list's other
/// end, when that walks fewer index entries: `Some((limit, offset))` for the same statement
/// with its order reversed (its rows then put back in the list's order), `None` to read as
/// asked. An offset walk costs as many entries as it skips, so a late page of a long list
/// (its last one above all) is read from the end. The order must be total (a unique last
/// key), so that both directions agree on which items a page holds.
pub fn from_end(total: i64, limit: i64, offset: i64) -> Option<(i64, i64)> {
    if limit <= 0 || offset < 0 || offset >= total {
        return None;
    }
    let end = offset.saturating_add(limit).min(total);
    let skipped_from_end = total - end;
    (skipped_from_end < offset).then_some((end - offset, skipped_from_end))
}

/// `name=value` pairs as a query string, values encoded, empty values left out.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if !value.is_empty() {
            out.append_pair(name, value);
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_pages_are_read_from_the_end() {
        // The last page, full or not: nothing skipped from the end.
        assert_eq!(from_end(100, 10, 90), Some((10, 0)));
        assert_eq!(from_end(95, 10, 90), Some((5, 0)));
        // Past the middle: fewer entries skipped from the end.
        assert_eq!(from_end(100, 10, 50), Some((10, 40)));
        // Up to the middle: as asked.
        assert_eq!(from_end(100, 10, 40), None);
        assert_eq!(from_end(100, 10, 45), None);
        assert_eq!(from_end(100, 10, 0), None);
        // Nothing there, or nothing asked: as asked (an empty page).
        assert_eq!(from_end(100, 10, 100), None);
        assert_eq!(from_end(0, 10, 0), None);
        assert_eq!(from_end(100, 0, 90), None);
        assert_eq!(from_end(100, 10, -1), None);
        // The same items either way: the window from the end covers [offset, offset + n).
        for total in 0..40 {
            for offset in 0..45 {
                if let Some((n, skipped)) = from_end(total, 7, offset) {
                    assert_eq!(total - skipped - n, offset, "{total} {offset}");
                    assert_eq!(n, 7.min(total - offset), "{total} {offset}");
                }
            }
        }
    }

    #[test]
    fn a_pager_links_its_neighbours_and_stays_in_range() {
        let href = |n: i64| format!("?page={n}");
        let p = Pager::new(2, 20, 45, href);
        assert_eq!((p.number, p.pages), (2, 3));
        assert_eq!(p.prev_href.as_deref(), Some("?page=1"));
        assert_eq!(p.next_href.as_deref(), Some("?page=3"));
        let last = Pager::new(99, 20, 45, href);
        assert_eq!((last.number, last.next_href), (3, None));
        let empty = Pager::new(1, 20, 0, href);
        assert_eq!(
            (empty.pages, empty.prev_href, empty.next_href),
            (1, None, None)
        );
        assert_eq!(page_number(Some("3")), 3);
        assert_eq!(page_number(Some("0")), 1);
        assert_eq!(page_number(Some("x")), 1);
        assert_eq!(page_number(Some("99999999")), 1);
        assert_eq!(
            query_string(&[("q", "de luca"), ("product", ""), ("page", "2")]),
            "q=de+luca&page=2"
        );
    }
}
