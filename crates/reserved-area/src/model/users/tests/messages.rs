//! The errors' codes, message keys, parameters and the mail subjects.

use super::*;

// --- metadata

fn one_of_each() -> Vec<UserRuleError> {
    let p = || "prod-io".to_owned();
    vec![
        UserRuleError::InvalidFiscalCode {
            reason: FiscalCodeError::Length,
        },
        UserRuleError::FiscalCodeCheck { expected: 'S' },
        UserRuleError::NameEmpty,
        UserRuleError::NameTooLong,
        UserRuleError::NameCharacters { character: '1' },
        UserRuleError::FamilyNameEmpty,
        UserRuleError::FamilyNameTooLong,
        UserRuleError::FamilyNameCharacters { character: '1' },
        UserRuleError::NameMismatch,
        UserRuleError::FamilyNameMismatch,
        UserRuleError::InvalidEmail {
            reason: EmailError::Empty,
        },
        UserRuleError::PecEmail,
        UserRuleError::EmailConfirmMissing,
        UserRuleError::EmailConfirmMismatch,
        UserRuleError::UnknownProduct { product_id: p() },
        UserRuleError::ProductNotOnboarded { product_id: p() },
        UserRuleError::InvalidRole { role: "X".into() },
        UserRuleError::RoleSetByOnboarding {
            role: PartyRole::Manager,
        },
        UserRuleError::ProductRolesEmpty,
        UserRuleError::UnknownProductRole {
            product_id: p(),
            authority: Authority::Admin,
            product_role: "x".into(),
        },
        UserRuleError::MultipleProductRoles { product_id: p() },
        UserRuleError::AlreadyHasRoles { product_id: p() },
        UserRuleError::DifferentRoleExists {
            product_id: p(),
            existing: PartyRole::Operator,
        },
        UserRuleError::AdminLimitReached {
            product_id: p(),
            max: 3,
        },
    ]
}

#[test]
fn codes_keys_and_messages_are_stable_and_listed() {
    let errors = one_of_each();
    let codes: HashSet<&str> = errors.iter().map(UserRuleError::code).collect();
    assert_eq!(codes.len(), errors.len());
    let messages: HashSet<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), errors.len());
    for e in &errors {
        let code = e.code();
        assert!(
            code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{code}"
        );
        assert!(
            MESSAGE_KEYS.contains(&e.message_key()),
            "{}",
            e.message_key()
        );
        assert!(e.message_key().starts_with("ra.users.errors."));
    }
    let keys: HashSet<&str> = errors.iter().map(UserRuleError::message_key).collect();
    // The two mismatches share one key.
    assert_eq!(keys.len(), errors.len() - 1);

    for e in [
        RoleChangeError::NothingToChange,
        RoleChangeError::LastAdmin {
            product_id: "prod-io".into(),
        },
    ] {
        assert!(MESSAGE_KEYS.contains(&e.message_key()));
        assert!(!codes.contains(e.code()));
    }
    for change in RoleChange::ALL {
        assert!(MESSAGE_KEYS.contains(&change.subject_key()));
    }
    for (key, it, en) in MAIL_SUBJECTS {
        assert!(MESSAGE_KEYS.contains(key));
        assert!(!it.is_empty() && !en.is_empty());
    }
    let unique: HashSet<&&str> = MESSAGE_KEYS.iter().collect();
    assert_eq!(unique.len(), MESSAGE_KEYS.len());
    // Every listed key is used.
    for key in MESSAGE_KEYS {
        let used = keys.contains(key)
            || MAIL_SUBJECTS.iter().any(|(k, _, _)| k == key)
            || [
                "ra.users.errors.nothing_to_change",
                "ra.users.errors.last_admin",
            ]
            .contains(key);
        assert!(used, "{key}");
    }
}

#[test]
fn params_carry_what_the_message_needs() {
    let e = UserRuleError::AdminLimitReached {
        product_id: INTEROP.into(),
        max: 3,
    };
    assert_eq!(
        e.params(),
        [("product", INTEROP.to_owned()), ("max", "3".to_owned())]
    );
    assert_eq!(
        UserRuleError::InvalidFiscalCode {
            reason: FiscalCodeError::Length
        }
        .params(),
        [("reason", "fiscal_code_length".to_owned())]
    );
    assert_eq!(
        UserRuleError::NameCharacters { character: '#' }.params(),
        [("character", "#".to_owned())]
    );
    assert!(UserRuleError::PecEmail.params().is_empty());
}

#[test]
fn fields_have_their_api_names() {
    let names: Vec<&str> = Field::ALL.iter().map(|f| f.api_name()).collect();
    assert_eq!(
        names,
        [
            "taxCode",
            "name",
            "surname",
            "email",
            "emailConfirm",
            "productId",
            "role",
            "productRoles"
        ]
    );
    assert_eq!(Field::FiscalCode.to_string(), "taxCode");
}

#[test]
fn mail_subjects_are_the_spec_ones() {
    let subject = |key: &str| {
        MAIL_SUBJECTS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, it, _)| *it)
            .unwrap()
    };
    assert_eq!(
        subject(ADD_SUBJECT_KEY),
        "Hai un nuovo ruolo per un prodotto PagoPA"
    );
    assert_eq!(
        subject(RoleChange::Suspend.subject_key()),
        "Il tuo ruolo è sospeso"
    );
    assert_eq!(
        subject(RoleChange::Activate.subject_key()),
        "Il tuo ruolo è stato riabilitato"
    );
    assert_eq!(
        subject(RoleChange::Remove.subject_key()),
        "Il tuo ruolo è stato rimosso"
    );
    assert_eq!(RoleChange::Suspend.subject_key(), "ra.users.mail.suspended");
}
