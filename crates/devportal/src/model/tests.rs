//! The unit tests of the portal's rules.

use super::*;

fn service() -> LegacyService {
    LegacyService {
        name: " Tari ".into(),
        description: "Tassa sui rifiuti".into(),
        organization: Organization {
            name: "Comune di Roccabella".into(),
            fiscal_code: "00123456782".into(),
            department_name: Some("  ".into()),
        },
        require_secure_channel: false,
        authorized_recipients: vec!["rssmra85t10a562s".into()],
        authorized_cidrs: vec!["10.0.0.1/32".into()],
        max_allowed_payment_amount: 100,
        metadata: Metadata {
            email: Some("Tributi@Comune.Roccabella.IT".into()),
            privacy_url: Some("https://comune.example.it/privacy".into()),
            phone: Some("+39 06.123-456/7".into()),
            topic_id: Some(3),
            ..Metadata::new(Scope::Local)
        },
    }
}

fn fields(e: Vec<FieldError>) -> Vec<String> {
    e.into_iter().map(|e| e.field).collect()
}

#[test]
fn a_valid_service_is_normalised() {
    let s = service().checked().unwrap();
    assert_eq!(s.name, "Tari");
    assert_eq!(s.organization.department_name, None);
    assert_eq!(s.authorized_recipients, vec!["RSSMRA85T10A562S"]);
    assert_eq!(
        s.metadata.email.as_deref(),
        Some("Tributi@comune.roccabella.it")
    );
}

#[test]
fn each_rule_names_its_field() {
    let mut s = service();
    s.name = "x".repeat(101);
    s.description = "".into();
    s.organization.fiscal_code = "0012345678".into();
    s.metadata.web_url = Some("ftp://x".into());
    s.metadata.tos_url = Some("https://a b".into());
    s.metadata.pec = Some("nope".into());
    s.metadata.phone = Some("12ab56".into());
    s.metadata.topic_id = Some(100);
    s.authorized_cidrs = vec!["10.0.0.300/8".into()];
    s.authorized_recipients = vec!["ABC".into()];
    s.max_allowed_payment_amount = MAX_PAYMENT_AMOUNT + 1;
    let got = fields(s.checked().unwrap_err());
    for f in [
        "name",
        "description",
        "organization_fiscal_code",
        "web_url",
        "tos_url",
        "pec",
        "phone",
        "topic_id",
        "authorized_cidrs",
        "authorized_recipients",
        "max_allowed_payment_amount",
    ] {
        assert!(got.contains(&f.to_string()), "{f} missing in {got:?}");
    }
}

#[test]
fn urls_phones_recipients() {
    assert!(is_url("https://x.it/a?b=c"));
    assert!(is_url("HTTP://x.it"));
    assert!(!is_url("https:"));
    assert!(!is_url("javascript:alert(1)"));
    assert!(!is_url(&format!("https://{}", "a".repeat(URL_MAX))));
    assert!(is_phone("+39 0123 456789"));
    assert!(is_phone("06-123.456/7"));
    assert!(!is_phone("12345"));
    assert!(!is_phone("+39 0123 456789 123456"));
    assert!(!is_phone("39+123456"));
    assert!(!is_phone("++123456"));
    assert!(is_recipient("RSSMRA85T10A562S"));
    assert!(!is_recipient("RSSMRA85T10A562"));
    assert!(is_org_fiscal_code("00123456782"));
    assert!(!is_org_fiscal_code("0012345678a"));
}

#[test]
fn the_form_keeps_what_it_does_not_show_and_reports_parse_errors() {
    let mut base = service().checked().unwrap();
    base.metadata.support_url = Some("https://help.example.it".into());
    base.require_secure_channel = true;
    let mut form = ServiceForm::from_service(&base);
    form.authorized_cidrs = "10.0.0.1/32\n192.168.1.0/24\n".into();
    let s = form.to_service(Some(&base)).unwrap();
    assert_eq!(s.metadata.support_url, base.metadata.support_url);
    assert!(s.require_secure_channel);
    assert_eq!(s.authorized_cidrs, vec!["10.0.0.1/32", "192.168.1.0/24"]);
    form.max_allowed_payment_amount = "dieci".into();
    form.topic_id = "x".into();
    form.scope = "WORLD".into();
    let got = fields(form.to_service(None).unwrap_err());
    assert_eq!(got, vec!["scope", "topic_id", "max_allowed_payment_amount"]);
    let empty = fields(ServiceForm::default().to_service(None).unwrap_err());
    assert!(empty.contains(&"name".to_string()));
    assert!(empty.contains(&"organization_name".to_string()));
}

fn org(
    id: &str,
    delegate: &str,
    surname: &str,
    name: &str,
    fc: &str,
    transferred: bool,
) -> OrgService {
    OrgService {
        id: id.into(),
        name: name.into(),
        organization_fiscal_code: fc.into(),
        visibility: Visibility::Visible,
        frozen: transferred,
        transferred,
        delegate: Delegate {
            id: delegate.into(),
            name: "N".into(),
            surname: surname.into(),
            email: format!("{delegate}@example.it"),
        },
    }
}

#[test]
fn importable_delegates_count_pending_only() {
    let fc = "00123456782";
    let list = vec![
        org("s1", "d1", "Verdi", "Tari", fc, false),
        org("s2", "d1", "Verdi", "Mensa (DELETED)", fc, false),
        org("s3", "d1", "Verdi", "Anagrafe", fc, true),
        org("s4", "d2", "Neri", "Polizia", fc, true),
        org("s5", "d3", "Bianchi", "Altro", "80001234568", false),
        org("s6", "d4", "Rossi", "Solo deleted", fc, false),
    ];
    let got: Vec<(String, usize)> = importable_delegates(fc, &list)
        .into_iter()
        .map(|d| (d.delegate.id, d.pending))
        .collect();
    assert_eq!(got, vec![("d2".into(), 0), ("d1".into(), 1)]);
    let pending: Vec<&str> = pending_services(fc, None, &list)
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(pending, vec!["s1"]);
    assert!(pending_services(fc, Some("d2"), &list).is_empty());
    // Left out, with why: the organization's services marked deleted (not another's).
    let excluded: Vec<(&str, Exclusion)> = excluded_services(fc, &list)
        .into_iter()
        .map(|(s, why)| (s.id.as_str(), why))
        .collect();
    assert_eq!(
        excluded,
        vec![
            ("s6", Exclusion::MarkedDeleted),
            ("s2", Exclusion::MarkedDeleted)
        ]
    );
}

#[test]
fn rules_for_visibility_login_and_times() {
    for v in [
        Visibility::Visible,
        Visibility::VisibleOnce,
        Visibility::NeverVisible,
    ] {
        assert_eq!(Visibility::parse(v.as_str()), Some(v));
    }
    assert!(!login_blocked(4, 0, 5));
    assert!(login_blocked(5, 0, 5));
    assert!(login_blocked(0, 5, 5));
    assert_eq!(normalize_email(" Mario@Example.IT "), "mario@example.it");
    assert_eq!(platform::Timestamp(0).rfc3339(), "1970-01-01T00:00:00Z");
    assert_eq!(
        platform::Timestamp(1_500).rfc3339(),
        "1970-01-01T00:00:01.5Z"
    );
    assert!(is_importable("Tari", "1", "1"));
    assert!(!is_importable("Tari [Deleted]", "1", "1"));
    assert!(!is_importable("Tari", "1", "2"));
}
