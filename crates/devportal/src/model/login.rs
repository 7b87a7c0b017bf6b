//! The delegates' login rules.

/// Delegates log in by email, whatever its case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a login must wait: too many failures for the email or from the address.
pub fn login_blocked(failures_for_email: i64, failures_from_client: i64, max: u32) -> bool {
    let max = i64::from(max);
    failures_for_email >= max || failures_from_client >= max
}
