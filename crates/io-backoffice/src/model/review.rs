//! The review decision: the quality check, and which changes need a person.

use super::ServiceData;

/// The quality check of the review: what keeps a service from being reviewed at all.
pub fn quality_issues(d: &ServiceData) -> Vec<&'static str> {
    let mut out = Vec::new();
    if d.metadata.privacy_url.is_none() {
        out.push("privacy_url");
    }
    let m = &d.metadata;
    if m.email.is_none() && m.pec.is_none() && m.phone.is_none() && m.support_url.is_none() {
        out.push("contact");
    }
    out
}

/// The fields whose change needs a person's review; the others (technical settings) are
/// approved automatically once a version has been published.
pub fn needs_manual_review(new: &ServiceData, published: &ServiceData) -> bool {
    new.name != published.name
        || new.description != published.description
        || new.department_name != published.department_name
        || new.suitable_for_minors != published.suitable_for_minors
        || {
            let mut a = new.metadata.clone();
            let mut b = published.metadata.clone();
            a.group_id = None;
            b.group_id = None;
            a != b
        }
}

/// What a submission leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// Rejected at once, with the reason the institution sees.
    Reject(String),
    /// Nothing that needs a person changed since the published version.
    AutoApprove,
    /// Waits for a platform operator.
    Manual,
}

pub fn review(
    d: &ServiceData,
    published: Option<&ServiceData>,
    duplicate_name: bool,
) -> ReviewOutcome {
    let issues = quality_issues(d);
    if !issues.is_empty() {
        let mut reasons = Vec::new();
        if issues.contains(&"privacy_url") {
            reasons.push("the privacy policy URL (privacy_url) is missing");
        }
        if issues.contains(&"contact") {
            reasons.push("at least one contact is needed: email, pec, phone or support_url");
        }
        return ReviewOutcome::Reject(format!("Quality check failed: {}.", reasons.join("; ")));
    }
    if duplicate_name {
        return ReviewOutcome::Reject(format!(
            "Another published service of the institution is already named \"{}\".",
            d.name
        ));
    }
    match published {
        Some(p) if !needs_manual_review(d, p) => ReviewOutcome::AutoApprove,
        _ => ReviewOutcome::Manual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::service::valid;
    use crate::model::{PayloadKind, parse_service};

    #[test]
    fn quality_check_wants_privacy_and_a_contact() {
        let mut d = parse_service(&valid(), PayloadKind::Create).unwrap();
        d.metadata.email = None;
        assert_eq!(quality_issues(&d), vec!["contact"]);
        d.metadata.support_url = Some("https://x.it/help".into());
        assert!(quality_issues(&d).is_empty());
        d.metadata.privacy_url = None;
        assert_eq!(quality_issues(&d), vec!["privacy_url"]);
        assert!(
            matches!(review(&d, None, false), ReviewOutcome::Reject(r) if r.contains("privacy_url"))
        );
    }

    #[test]
    fn review_decides_between_reject_auto_and_manual() {
        let d = parse_service(&valid(), PayloadKind::Create).unwrap();
        assert_eq!(review(&d, None, false), ReviewOutcome::Manual);
        assert!(matches!(review(&d, None, true), ReviewOutcome::Reject(_)));
        let mut technical = d.clone();
        technical.authorized_cidrs = vec!["10.0.0.0/8".into()];
        technical.max_allowed_payment_amount = 100;
        technical.require_secure_channel = true;
        assert_eq!(
            review(&technical, Some(&d), false),
            ReviewOutcome::AutoApprove
        );
        let mut renamed = d.clone();
        renamed.name = "Altro nome".into();
        assert_eq!(review(&renamed, Some(&d), false), ReviewOutcome::Manual);
        let mut contact = d.clone();
        contact.metadata.phone = Some("06 1234567".into());
        assert_eq!(review(&contact, Some(&d), false), ReviewOutcome::Manual);
    }
}
