//! The unit tests of the users rules.

use std::collections::HashSet;

use super::new_user::*;
use super::*;
use crate::model::{Authority, Catalogue, Grant, PartyRole, RoleStatus};
use platform::types::{EmailError, FiscalCode, FiscalCodeError};

const IO: &str = "prod-io";
const INTEROP: &str = "prod-interop";
const COLL: &str = "prod-interop-coll";
const PAGOPA: &str = "prod-pagopa";

const MARIO_ROSSI: &str = "RSSMRA85T10A562S";
const LUCA_NERI: &str = "NRELCU92C15L219G";
/// Luca Neri's code with every digit replaced by its omocodia letter.
const LUCA_NERI_OMOCODE: &str = "NRELCUVNCMRLNMVB";
/// Luca Neri's code with only the last digit replaced.
const LUCA_NERI_OMOCODE_1: &str = "NRELCU92C15L21VV";
const NICOLO_BIANCHI: &str = "BNCNCL90A01H501L";
const ANNA_MARIA_MUSSO: &str = "MSSNMR80E50H501U";
const GIUSEPPE_DAMICO: &str = "DMCGPP75M20F205K";
const ALESSANDRA_VERDI: &str = "VRDLSN88P41L219M";
/// The sandbox code of the spec examples: right shape, no valid check character.
const SANDBOX: &str = "AAAAAA00A00A000A";

fn catalogue() -> Catalogue {
    Catalogue::default_catalogue().unwrap()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// An institution onboarded to everything of the default catalogue.
fn all_onboarded() -> Vec<String> {
    ids(&[IO, INTEROP, COLL, PAGOPA, "prod-pn"])
}

fn grant(product: &str, party_role: PartyRole, product_role: &str) -> Grant {
    Grant {
        product_id: product.to_owned(),
        party_role,
        product_role: product_role.to_owned(),
        status: RoleStatus::Active,
    }
}

fn with_status(mut g: Grant, status: RoleStatus) -> Grant {
    g.status = status;
    g
}

/// Mario Rossi, to be made Amministratore of App IO from the page.
fn mario() -> NewUserInput {
    NewUserInput {
        fiscal_code: MARIO_ROSSI.to_owned(),
        name: "Mario".to_owned(),
        family_name: "Rossi".to_owned(),
        email: "mario.rossi@comune.roma.it".to_owned(),
        email_confirm: Some("mario.rossi@comune.roma.it".to_owned()),
        product_id: IO.to_owned(),
        role: "SUB_DELEGATE".to_owned(),
        product_roles: ids(&["admin"]),
    }
}

/// Luca Neri, to be made Operatore of Interoperabilità through the API.
fn luca() -> NewUserInput {
    NewUserInput {
        fiscal_code: LUCA_NERI.to_owned(),
        name: "Luca".to_owned(),
        family_name: "Neri".to_owned(),
        email: "luca.neri@comune.milano.it".to_owned(),
        email_confirm: None,
        product_id: INTEROP.to_owned(),
        role: "OPERATOR".to_owned(),
        product_roles: ids(&["api"]),
    }
}

fn person(code: &str, name: &str, family_name: &str) -> NewUserInput {
    NewUserInput {
        fiscal_code: code.to_owned(),
        name: name.to_owned(),
        family_name: family_name.to_owned(),
        ..mario()
    }
}

fn check(input: &NewUserInput) -> Result<ValidNewUser, Vec<UserRuleError>> {
    validate_new_user(input, &catalogue(), &all_onboarded(), &[], 0, false)
}

fn valid(input: &NewUserInput) -> ValidNewUser {
    match check(input) {
        Ok(user) => user,
        Err(errors) => panic!("{input:?} refused: {errors:?}"),
    }
}

fn errors(input: &NewUserInput) -> Vec<UserRuleError> {
    check(input).unwrap_err()
}

fn errors_with(
    input: &NewUserInput,
    grants: &[Grant],
    admins: usize,
    is_admin: bool,
) -> Vec<UserRuleError> {
    validate_new_user(
        input,
        &catalogue(),
        &all_onboarded(),
        grants,
        admins,
        is_admin,
    )
    .unwrap_err()
}

#[test]
fn the_codes_used_here_are_valid() {
    for code in [
        MARIO_ROSSI,
        LUCA_NERI,
        LUCA_NERI_OMOCODE,
        LUCA_NERI_OMOCODE_1,
        NICOLO_BIANCHI,
        ANNA_MARIA_MUSSO,
        GIUSEPPE_DAMICO,
        ALESSANDRA_VERDI,
    ] {
        FiscalCode::parse(code).unwrap();
    }
    assert!(FiscalCode::parse(LUCA_NERI_OMOCODE).unwrap().is_omocode());
    assert!(FiscalCode::parse(LUCA_NERI_OMOCODE_1).unwrap().is_omocode());
    assert!(FiscalCode::parse(SANDBOX).is_err());
}

// --- valid input

#[test]
fn accepts_an_admin_added_from_the_page() {
    let user = valid(&mario());
    assert_eq!(user.fiscal_code.as_str(), MARIO_ROSSI);
    assert_eq!(user.name, "Mario");
    assert_eq!(user.family_name, "Rossi");
    assert_eq!(user.email.as_str(), "mario.rossi@comune.roma.it");
    assert_eq!(user.product_id, IO);
    assert_eq!(user.party_role, PartyRole::SubDelegate);
    assert_eq!(user.product_roles, ["admin"]);
}

#[test]
fn normalises_code_names_product_and_roles() {
    let input = NewUserInput {
        fiscal_code: "  rssmra85t10a562s ".to_owned(),
        name: "  mario \t ".to_owned(),
        family_name: " de   rossi ".to_owned(),
        email: " Mario.Rossi@Comune.Roma.IT ".to_owned(),
        email_confirm: Some("mario.rossi@comune.roma.it".to_owned()),
        product_id: format!(" {IO} "),
        role: " SUB_DELEGATE ".to_owned(),
        product_roles: ids(&[" admin ", "", "admin"]),
    };
    // "de rossi" gives DRS, not RSS: the surname must really match.
    let errors = errors(&input);
    assert_eq!(errors, [UserRuleError::FamilyNameMismatch]);

    let input = NewUserInput {
        family_name: "  Rossi ".to_owned(),
        ..input
    };
    let user = valid(&input);
    assert_eq!(user.fiscal_code.as_str(), MARIO_ROSSI);
    assert_eq!(user.name, "mario");
    assert_eq!(user.family_name, "Rossi");
    assert_eq!(user.email.as_str(), "Mario.Rossi@comune.roma.it");
    assert_eq!(user.product_id, IO);
    assert_eq!(user.product_roles, ["admin"]);
}

#[test]
fn collapses_internal_whitespace_of_names() {
    let user = valid(&person(ANNA_MARIA_MUSSO, " Anna \n  Maria ", "Musso"));
    assert_eq!(user.name, "Anna Maria");
}

#[test]
fn accepts_an_operator_with_several_interop_roles_through_the_api() {
    let input = NewUserInput {
        product_roles: ids(&["api", "security", " api "]),
        ..luca()
    };
    let user = valid(&input);
    assert_eq!(user.party_role, PartyRole::Operator);
    assert_eq!(user.product_roles, ["api", "security"]);
    assert_eq!(user.fiscal_code.as_str(), LUCA_NERI);
}

#[test]
fn accepts_omocodia_codes() {
    for code in [LUCA_NERI_OMOCODE, LUCA_NERI_OMOCODE_1] {
        let input = NewUserInput {
            fiscal_code: code.to_lowercase(),
            ..luca()
        };
        let user = valid(&input);
        assert_eq!(user.fiscal_code.as_str(), code);
        assert!(user.fiscal_code.is_omocode());
    }
}

#[test]
fn accepts_accents_and_apostrophes_in_names() {
    let cases = [
        (NICOLO_BIANCHI, "Nicolò", "Bianchi"),
        (NICOLO_BIANCHI, "NICOLÒ", "BIANCHI"),
        (NICOLO_BIANCHI, "Niccolò", "Bianchi"),
        (NICOLO_BIANCHI, "nicolo", "bianchi"),
        (ANNA_MARIA_MUSSO, "Anna Maria", "Mùsso"),
        (ANNA_MARIA_MUSSO, "Anna-Maria", "Musso"),
        (GIUSEPPE_DAMICO, "Giuseppe", "D'Amico"),
        (GIUSEPPE_DAMICO, "Giuseppe", "D’Amico"),
        (GIUSEPPE_DAMICO, "Giuseppe", "d'amico"),
        (ALESSANDRA_VERDI, "Alessandra", "Verdi"),
        // Maria gives MRA like Mario: the name code does not tell the sex.
        (MARIO_ROSSI, "Maria", "Rossi"),
        (MARIO_ROSSI, "M.ario", "Rossi"),
    ];
    for (code, name, family_name) in cases {
        let user = valid(&person(code, name, family_name));
        assert_eq!(user.name, name);
        assert_eq!(user.family_name, family_name);
    }
}

// --- fiscal code

#[test]
fn refuses_malformed_fiscal_codes_with_the_reason() {
    let cases = [
        ("", FiscalCodeError::Empty),
        ("   ", FiscalCodeError::Empty),
        ("RSSMRA85T10A562", FiscalCodeError::Length),
        ("RSSMRA85T10A562SX", FiscalCodeError::Length),
        ("15376371009", FiscalCodeError::Length),
        ("RSSMRA85F10A562S", FiscalCodeError::Format { position: 9 }),
        ("RSSMR485T10A562S", FiscalCodeError::Format { position: 6 }),
    ];
    for (code, reason) in cases {
        let input = NewUserInput {
            fiscal_code: code.to_owned(),
            ..mario()
        };
        assert_eq!(
            errors(&input),
            [UserRuleError::InvalidFiscalCode { reason }],
            "{code}"
        );
    }
}

#[test]
fn refuses_a_wrong_check_character_with_its_own_error() {
    let input = NewUserInput {
        fiscal_code: "RSSMRA85T10A562T".to_owned(),
        ..mario()
    };
    let errors = errors(&input);
    assert_eq!(errors, [UserRuleError::FiscalCodeCheck { expected: 'S' }]);
    assert_eq!(errors[0].code(), "fiscal_code_check");
    assert_eq!(errors[0].message_key(), "ra.users.errors.fiscal_code_check");
    assert_eq!(errors[0].field(), Field::FiscalCode);

    // An omocode keeping the check character of the plain code is refused too.
    let input = NewUserInput {
        fiscal_code: "NRELCU92C15L21VG".to_owned(),
        ..luca()
    };
    assert!(matches!(
        self::errors(&input)[..],
        [UserRuleError::FiscalCodeCheck { .. }]
    ));
}

#[test]
fn refuses_the_sandbox_code_of_the_examples() {
    let input = person(SANDBOX, "Aaa", "Aaa");
    assert_eq!(
        errors(&input),
        [UserRuleError::FiscalCodeCheck { expected: 'I' }]
    );
}

#[test]
fn names_must_match_the_fiscal_code() {
    assert_eq!(
        errors(&person(MARIO_ROSSI, "Luca", "Rossi")),
        [UserRuleError::NameMismatch]
    );
    assert_eq!(
        errors(&person(MARIO_ROSSI, "Mario", "Bianchi")),
        [UserRuleError::FamilyNameMismatch]
    );
    // Swapped name and surname.
    assert_eq!(
        errors(&person(MARIO_ROSSI, "Rossi", "Mario")),
        [
            UserRuleError::NameMismatch,
            UserRuleError::FamilyNameMismatch
        ]
    );
    // A name of four consonants or more takes the first, third and fourth: Nicoletta is
    // NLT, not Nicolò's NCL.
    assert_eq!(
        errors(&person(NICOLO_BIANCHI, "Nicoletta", "Bianchi")),
        [UserRuleError::NameMismatch]
    );
    // Omocodia leaves the six letters alone: Nardi (NRD) is not Neri (NRE), while Nero is.
    valid(&person(LUCA_NERI_OMOCODE, "Luca", "Nero"));
    assert_eq!(
        errors(&person(LUCA_NERI_OMOCODE, "Luca", "Nardi")),
        [UserRuleError::FamilyNameMismatch]
    );
    // Both mismatches share one message.
    assert_eq!(
        UserRuleError::NameMismatch.message_key(),
        UserRuleError::FamilyNameMismatch.message_key()
    );
    assert_eq!(
        UserRuleError::NameMismatch.message_key(),
        "ra.users.errors.name_fiscal_code_mismatch"
    );
    assert_eq!(UserRuleError::NameMismatch.field(), Field::Name);
    assert_eq!(UserRuleError::FamilyNameMismatch.field(), Field::FamilyName);
}

#[test]
fn the_match_is_not_checked_against_an_invalid_code_or_name() {
    assert_eq!(
        errors(&person("RSSMRA85T10A562T", "Luca", "Bianchi")),
        [UserRuleError::FiscalCodeCheck { expected: 'S' }]
    );
    assert_eq!(
        errors(&person(MARIO_ROSSI, "", "Rossi")),
        [UserRuleError::NameEmpty]
    );
    assert_eq!(
        errors(&person(MARIO_ROSSI, "Mario", "R0ssi")),
        [UserRuleError::FamilyNameCharacters { character: '0' }]
    );
}

// --- names

#[test]
fn names_must_be_present() {
    for blank in ["", "   ", "\t\n"] {
        assert_eq!(
            errors(&person(MARIO_ROSSI, blank, "Rossi")),
            [UserRuleError::NameEmpty]
        );
        assert_eq!(
            errors(&person(MARIO_ROSSI, "Mario", blank)),
            [UserRuleError::FamilyNameEmpty]
        );
    }
}

#[test]
fn names_may_be_at_most_100_characters() {
    let mut errs = Vec::new();
    let hundred = format!("Mario{}", "à".repeat(95));
    assert_eq!(hundred.chars().count(), 100);
    assert_eq!(
        check_name(&hundred, NamePart::Name, &mut errs),
        Some(hundred.clone())
    );
    assert!(errs.is_empty());

    let long = format!("{hundred}a");
    assert_eq!(
        errors(&person(MARIO_ROSSI, &long, "Rossi")),
        [UserRuleError::NameTooLong]
    );
    let long_surname = format!("Rossi{}", " i".repeat(48));
    assert_eq!(long_surname.chars().count(), 101);
    assert_eq!(
        errors(&person(MARIO_ROSSI, "Mario", &long_surname)),
        [UserRuleError::FamilyNameTooLong]
    );
    // Collapsed whitespace does not count.
    let spaced = format!("Mario{}Rossi", " ".repeat(200));
    assert_eq!(
        check_name(&spaced, NamePart::FamilyName, &mut errs),
        Some("Mario Rossi".to_owned())
    );
    assert!(errs.is_empty());
}

#[test]
fn names_allow_only_letters_spaces_apostrophes_hyphens_and_dots() {
    let mut errs = Vec::new();
    for ok in [
        "Anna Maria",
        "D'Amico",
        "D’Amico",
        "Rossi-Bianchi",
        "G. Battista",
        "Nicolò",
        "Müller",
        "Ñuñez",
    ] {
        assert_eq!(
            check_name(ok, NamePart::Name, &mut errs).as_deref(),
            Some(ok)
        );
    }
    assert!(errs.is_empty());

    for (bad, character) in [
        ("Mario2", '2'),
        ("Mario_", '_'),
        ("Mario,", ','),
        ("<script>", '<'),
        ("Mario\"", '"'),
        ("Mario😀", '😀'),
    ] {
        assert_eq!(
            errors(&person(MARIO_ROSSI, bad, "Rossi")),
            [UserRuleError::NameCharacters { character }],
            "{bad}"
        );
        assert_eq!(
            errors(&person(MARIO_ROSSI, "Mario", bad)),
            [UserRuleError::FamilyNameCharacters { character }],
            "{bad}"
        );
    }
}

// --- email

#[test]
fn refuses_an_invalid_email_with_the_reason() {
    let cases = [
        ("", EmailError::Empty),
        ("mario.rossi", EmailError::MissingAt),
        ("mario@localhost", EmailError::DomainSingleLabel),
        ("màrio@comune.it", EmailError::NonAscii),
    ];
    for (email, reason) in cases {
        let input = NewUserInput {
            email: email.to_owned(),
            email_confirm: None,
            ..mario()
        };
        let errs = errors(&input);
        assert_eq!(errs, [UserRuleError::InvalidEmail { reason }], "{email}");
        assert_eq!(errs[0].field(), Field::Email);
    }
}

#[test]
fn refuses_pec_addresses_for_people() {
    for email in [
        "mario.rossi@pec.comune.roma.it",
        "mario.rossi@legalmail.it",
        "mario.rossi@comune.roma.pec.it",
    ] {
        let input = NewUserInput {
            email: email.to_owned(),
            email_confirm: Some(email.to_owned()),
            ..mario()
        };
        assert_eq!(errors(&input), [UserRuleError::PecEmail], "{email}");
    }
}

#[test]
fn the_confirmation_must_match_ignoring_case() {
    let with_confirm = |confirm: Option<&str>| NewUserInput {
        email_confirm: confirm.map(str::to_owned),
        ..mario()
    };
    valid(&with_confirm(None));
    valid(&with_confirm(Some(" MARIO.Rossi@Comune.Roma.IT ")));
    assert_eq!(
        errors(&with_confirm(Some(""))),
        [UserRuleError::EmailConfirmMissing]
    );
    assert_eq!(
        errors(&with_confirm(Some("  "))),
        [UserRuleError::EmailConfirmMissing]
    );
    assert_eq!(
        errors(&with_confirm(Some("maria.rossi@comune.roma.it"))),
        [UserRuleError::EmailConfirmMismatch]
    );
    assert_eq!(
        errors(&with_confirm(Some("mario.rossi@"))),
        [UserRuleError::EmailConfirmMismatch]
    );
    let e = errors(&with_confirm(Some("x@y.it")));
    assert_eq!(e[0].field(), Field::EmailConfirm);

    // An invalid email and a confirmation that repeats it: only the email is wrong.
    let input = NewUserInput {
        email: "Mario.Rossi".to_owned(),
        email_confirm: Some("mario.rossi".to_owned()),
        ..mario()
    };
    assert_eq!(
        errors(&input),
        [UserRuleError::InvalidEmail {
            reason: EmailError::MissingAt
        }]
    );
}

// --- product

#[test]
fn the_product_must_be_known_and_actively_onboarded() {
    let on = |product: &str| NewUserInput {
        product_id: product.to_owned(),
        ..mario()
    };
    assert_eq!(
        errors(&on("prod-unknown")),
        [UserRuleError::UnknownProduct {
            product_id: "prod-unknown".to_owned()
        }]
    );
    assert_eq!(
        errors(&on("")),
        [UserRuleError::UnknownProduct {
            product_id: String::new()
        }]
    );
    let only_io = ids(&[IO]);
    let refused =
        validate_new_user(&on(PAGOPA), &catalogue(), &only_io, &[], 0, false).unwrap_err();
    assert_eq!(
        refused,
        [UserRuleError::ProductNotOnboarded {
            product_id: PAGOPA.to_owned()
        }]
    );
    assert_eq!(refused[0].field(), Field::Product);
    validate_new_user(&on(IO), &catalogue(), &only_io, &[], 0, false).unwrap();
}

#[test]
fn a_test_environment_product_takes_users_of_its_own() {
    let coll = NewUserInput {
        product_id: COLL.to_owned(),
        product_roles: ids(&["security"]),
        ..luca()
    };
    let only_coll = ids(&[COLL]);
    let user = validate_new_user(&coll, &catalogue(), &only_coll, &[], 0, false).unwrap();
    assert_eq!(user.product_id, COLL);

    // Onboarding Collaudo does not onboard production, nor the reverse.
    let prod = NewUserInput {
        product_id: INTEROP.to_owned(),
        ..coll.clone()
    };
    assert_eq!(
        validate_new_user(&prod, &catalogue(), &only_coll, &[], 0, false).unwrap_err(),
        [UserRuleError::ProductNotOnboarded {
            product_id: INTEROP.to_owned()
        }]
    );
    assert_eq!(
        validate_new_user(&coll, &catalogue(), &ids(&[INTEROP]), &[], 0, false).unwrap_err(),
        [UserRuleError::ProductNotOnboarded {
            product_id: COLL.to_owned()
        }]
    );

    // A role on production is no role on Collaudo.
    let on_prod = [grant(INTEROP, PartyRole::Operator, "security")];
    validate_new_user(&coll, &catalogue(), &only_coll, &on_prod, 0, false).unwrap();
}

// --- party role

#[test]
fn only_sub_delegate_and_operator_may_be_asked() {
    let asking = |role: &str| NewUserInput {
        role: role.to_owned(),
        ..mario()
    };
    for (role, party_role) in [
        ("MANAGER", PartyRole::Manager),
        ("DELEGATE", PartyRole::Delegate),
    ] {
        let errs = errors(&asking(role));
        assert_eq!(
            errs,
            [UserRuleError::RoleSetByOnboarding { role: party_role }]
        );
        assert!(errs[0].to_string().contains("set only by onboarding"));
        assert_eq!(errs[0].field(), Field::Role);
    }
    for role in ["ADMIN", "LIMITED", "sub_delegate", "", "OPERATORE"] {
        assert_eq!(
            errors(&asking(role)),
            [UserRuleError::InvalidRole {
                role: role.to_owned()
            }],
            "{role}"
        );
    }
}

// --- product roles

#[test]
fn at_least_one_product_role_is_required() {
    for roles in [vec![], ids(&[""]), ids(&[" ", "\t"])] {
        let input = NewUserInput {
            product_roles: roles,
            ..mario()
        };
        let errs = errors(&input);
        assert_eq!(errs, [UserRuleError::ProductRolesEmpty]);
        assert_eq!(errs[0].field(), Field::ProductRoles);
    }
}

#[test]
fn product_roles_must_belong_to_the_mapping_of_the_asked_role() {
    // Operatore API is an OPERATOR role, not an Amministratore one.
    let admin_with_api = NewUserInput {
        role: "SUB_DELEGATE".to_owned(),
        ..luca()
    };
    assert_eq!(
        errors(&admin_with_api),
        [UserRuleError::UnknownProductRole {
            product_id: INTEROP.to_owned(),
            authority: Authority::Admin,
            product_role: "api".to_owned(),
        }]
    );
    let operator_with_admin = NewUserInput {
        role: "OPERATOR".to_owned(),
        ..mario()
    };
    assert_eq!(
        errors(&operator_with_admin),
        [UserRuleError::UnknownProductRole {
            product_id: IO.to_owned(),
            authority: Authority::Limited,
            product_role: "admin".to_owned(),
        }]
    );
    // Another product's role.
    let io_role_on_interop = NewUserInput {
        product_roles: ids(&["api", "operator"]),
        ..luca()
    };
    assert_eq!(
        errors(&io_role_on_interop),
        [UserRuleError::UnknownProductRole {
            product_id: INTEROP.to_owned(),
            authority: Authority::Limited,
            product_role: "operator".to_owned(),
        }]
    );
    // Not checked when the product or the role are wrong themselves.
    let unknown_product = NewUserInput {
        product_id: "prod-x".to_owned(),
        product_roles: ids(&["whatever", "else"]),
        ..luca()
    };
    assert_eq!(errors(&unknown_product).len(), 1);
    let bad_role = NewUserInput {
        role: "MANAGER".to_owned(),
        product_roles: ids(&["whatever"]),
        ..luca()
    };
    assert_eq!(errors(&bad_role).len(), 1);
}

#[test]
fn several_product_roles_need_a_multi_role_mapping() {
    let text = r#"
[[products]]
id = "prod-x"
title = "X"
title_en = "X"
description = "d"
description_en = "d"
status = "ACTIVE"
url_bo = "/x/session"
identity_token_audience = "x"

[products.roles.ADMIN]
multi_role_allowed = false
roles = [
{ code = "admin", label = "A", label_en = "A", description = "d" },
{ code = "superadmin", label = "S", label_en = "S", description = "d" },
]

[products.roles.LIMITED]
multi_role_allowed = true
roles = [
{ code = "reader", label = "R", label_en = "R", description = "d" },
{ code = "writer", label = "W", label_en = "W", description = "d" },
]
"#;
    let c = Catalogue::parse(text).unwrap();
    let onboarded = ids(&["prod-x"]);
    let admin = NewUserInput {
        product_id: "prod-x".to_owned(),
        product_roles: ids(&["admin", "superadmin"]),
        ..mario()
    };
    let errs = validate_new_user(&admin, &c, &onboarded, &[], 0, false).unwrap_err();
    assert_eq!(
        errs,
        [UserRuleError::MultipleProductRoles {
            product_id: "prod-x".to_owned()
        }]
    );
    assert_eq!(errs[0].field(), Field::ProductRoles);
    // A repeated role is one role.
    let repeated = NewUserInput {
        product_roles: ids(&["admin", "admin "]),
        ..admin.clone()
    };
    validate_new_user(&repeated, &c, &onboarded, &[], 0, false).unwrap();

    let operator = NewUserInput {
        role: "OPERATOR".to_owned(),
        product_roles: ids(&["reader", "writer"]),
        ..admin
    };
    let user = validate_new_user(&operator, &c, &onboarded, &[], 0, false).unwrap();
    assert_eq!(user.product_roles, ["reader", "writer"]);

    // In the shipped catalogue App IO's operator has one role only.
    let io = NewUserInput {
        role: "OPERATOR".to_owned(),
        product_roles: ids(&["operator", "api"]),
        ..mario()
    };
    let errs = errors(&io);
    assert!(errs.contains(&UserRuleError::MultipleProductRoles {
        product_id: IO.to_owned()
    }));
}

// --- several errors at once

#[test]
fn collects_every_field_error_at_once() {
    let input = NewUserInput {
        fiscal_code: "RSSMRA85T10A562T".to_owned(),
        name: "Mario1".to_owned(),
        family_name: String::new(),
        email: "mario@pec.it".to_owned(),
        email_confirm: Some("luigi@example.it".to_owned()),
        product_id: "prod-nope".to_owned(),
        role: "MANAGER".to_owned(),
        product_roles: vec![],
    };
    let errs = errors(&input);
    assert_eq!(
        errs,
        [
            UserRuleError::FiscalCodeCheck { expected: 'S' },
            UserRuleError::NameCharacters { character: '1' },
            UserRuleError::FamilyNameEmpty,
            UserRuleError::PecEmail,
            UserRuleError::EmailConfirmMismatch,
            UserRuleError::UnknownProduct {
                product_id: "prod-nope".to_owned()
            },
            UserRuleError::RoleSetByOnboarding {
                role: PartyRole::Manager
            },
            UserRuleError::ProductRolesEmpty,
        ]
    );
    let fields: HashSet<Field> = errs.iter().map(UserRuleError::field).collect();
    assert_eq!(fields.len(), Field::ALL.len());

    // Name mismatches come together with other fields' errors.
    let input = NewUserInput {
        name: "Luca".to_owned(),
        email: "nope".to_owned(),
        email_confirm: None,
        ..mario()
    };
    assert_eq!(
        errors(&input),
        [
            UserRuleError::NameMismatch,
            UserRuleError::InvalidEmail {
                reason: EmailError::MissingAt
            },
        ]
    );
}

// --- existing roles

#[test]
fn the_same_product_role_cannot_be_added_twice() {
    for status in [RoleStatus::Active, RoleStatus::Suspended] {
        let held = [with_status(
            grant(IO, PartyRole::SubDelegate, "admin"),
            status,
        )];
        let errs = errors_with(&mario(), &held, 1, true);
        assert_eq!(
            errs,
            [UserRuleError::AlreadyHasRoles {
                product_id: IO.to_owned()
            }]
        );
        assert_eq!(
            errs[0].to_string(),
            "user already has roles on product prod-io"
        );
        assert_eq!(errs[0].field(), Field::ProductRoles);

        let held = [with_status(
            grant(INTEROP, PartyRole::Operator, "api"),
            status,
        )];
        let asked = NewUserInput {
            product_roles: ids(&["security", "api"]),
            ..luca()
        };
        assert_eq!(
            errors_with(&asked, &held, 0, false),
            [UserRuleError::AlreadyHasRoles {
                product_id: INTEROP.to_owned()
            }]
        );
    }
}

#[test]
fn a_second_role_needs_a_multi_role_mapping() {
    // Operatore API may become Operatore di sicurezza too.
    let held = [grant(INTEROP, PartyRole::Operator, "api")];
    let asked = NewUserInput {
        product_roles: ids(&["security"]),
        ..luca()
    };
    let user = validate_new_user(&asked, &catalogue(), &all_onboarded(), &held, 0, false).unwrap();
    assert_eq!(user.product_roles, ["security"]);

    // A product role missing from a single-role mapping's holder is refused: it would make
    // two (only an invalid catalogue could hold one, but the rule stands on its own).
    let held = [grant(IO, PartyRole::Operator, "legacy")];
    let asked = NewUserInput {
        role: "OPERATOR".to_owned(),
        product_roles: ids(&["operator"]),
        ..mario()
    };
    assert_eq!(
        errors_with(&asked, &held, 0, false),
        [UserRuleError::AlreadyHasRoles {
            product_id: IO.to_owned()
        }]
    );
}

#[test]
fn a_different_party_role_cannot_be_added() {
    for status in [RoleStatus::Active, RoleStatus::Suspended] {
        let held = [with_status(
            grant(IO, PartyRole::Operator, "operator"),
            status,
        )];
        let errs = errors_with(&mario(), &held, 0, false);
        assert_eq!(
            errs,
            [UserRuleError::DifferentRoleExists {
                product_id: IO.to_owned(),
                existing: PartyRole::Operator,
            }]
        );
        assert_eq!(
            errs[0].to_string(),
            "user already has a different role on product prod-io"
        );
        assert_eq!(errs[0].field(), Field::Role);
    }
    // The legal representative cannot be "added" as Operatore either.
    let held = [grant(INTEROP, PartyRole::Manager, "admin")];
    assert_eq!(
        errors_with(&luca(), &held, 1, true),
        [UserRuleError::DifferentRoleExists {
            product_id: INTEROP.to_owned(),
            existing: PartyRole::Manager,
        }]
    );
}

#[test]
fn deleted_roles_and_other_products_do_not_count() {
    let held = [
        with_status(
            grant(IO, PartyRole::SubDelegate, "admin"),
            RoleStatus::Deleted,
        ),
        with_status(
            grant(IO, PartyRole::Operator, "operator"),
            RoleStatus::Deleted,
        ),
        grant(INTEROP, PartyRole::Operator, "api"),
        grant(PAGOPA, PartyRole::Operator, "operator"),
    ];
    let user =
        validate_new_user(&mario(), &catalogue(), &all_onboarded(), &held, 0, false).unwrap();
    assert_eq!(user.product_id, IO);
}

#[test]
fn cross_record_rules_wait_for_valid_fields() {
    let held = [grant(IO, PartyRole::Operator, "operator")];
    let input = NewUserInput {
        email: "bad".to_owned(),
        email_confirm: None,
        ..mario()
    };
    assert_eq!(
        validate_new_user(&input, &catalogue(), &all_onboarded(), &held, 99, false).unwrap_err(),
        [UserRuleError::InvalidEmail {
            reason: EmailError::MissingAt
        }]
    );
}

#[test]
fn the_admin_limit_applies_to_new_admins_only() {
    let admin = NewUserInput {
        product_id: INTEROP.to_owned(),
        role: "SUB_DELEGATE".to_owned(),
        product_roles: ids(&["admin"]),
        ..mario()
    };
    let run = |input: &NewUserInput, admins, is_admin| {
        validate_new_user(input, &catalogue(), &all_onboarded(), &[], admins, is_admin)
    };
    // prod-interop allows 3 admins per institution.
    run(&admin, 2, false).unwrap();
    for admins in [3, 4] {
        let errs = run(&admin, admins, false).unwrap_err();
        assert_eq!(
            errs,
            [UserRuleError::AdminLimitReached {
                product_id: INTEROP.to_owned(),
                max: 3
            }]
        );
        assert_eq!(errs[0].field(), Field::Role);
        assert!(errs[0].to_string().contains("at most 3"));
    }
    // Someone already counted among them adds nothing.
    run(&admin, 3, true).unwrap();
    // Operators are not admins.
    run(&luca(), 3, false).unwrap();
    // Collaudo and App IO have no limit.
    let coll = NewUserInput {
        product_id: COLL.to_owned(),
        ..admin.clone()
    };
    run(&coll, 1000, false).unwrap();
    run(&mario(), 1000, false).unwrap();
}

#[test]
fn an_operator_turning_admin_hears_of_both_problems() {
    let admin = NewUserInput {
        product_id: INTEROP.to_owned(),
        ..mario()
    };
    let held = [grant(INTEROP, PartyRole::Operator, "api")];
    assert_eq!(
        errors_with(&admin, &held, 3, false),
        [
            UserRuleError::DifferentRoleExists {
                product_id: INTEROP.to_owned(),
                existing: PartyRole::Operator,
            },
            UserRuleError::AdminLimitReached {
                product_id: INTEROP.to_owned(),
                max: 3
            },
        ]
    );
}

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

// --- role changes

fn statuses(grants: &[Grant]) -> Vec<(&str, RoleStatus)> {
    grants
        .iter()
        .map(|g| (g.product_role.as_str(), g.status))
        .collect()
}

#[test]
fn transitions() {
    use RoleStatus::{Active, Deleted, Suspended};
    let table = [
        (RoleChange::Suspend, Active, Some(Suspended)),
        (RoleChange::Suspend, Suspended, None),
        (RoleChange::Suspend, Deleted, None),
        (RoleChange::Activate, Active, None),
        (RoleChange::Activate, Suspended, Some(Active)),
        (RoleChange::Activate, Deleted, None),
        (RoleChange::Remove, Active, Some(Deleted)),
        (RoleChange::Remove, Suspended, Some(Deleted)),
        (RoleChange::Remove, Deleted, None),
    ];
    for (change, from, to) in table {
        assert_eq!(change.applies_to(from), to.is_some(), "{change:?} {from}");
        let grants = [with_status(
            grant(IO, PartyRole::Operator, "operator"),
            from,
        )];
        let planned = plan_role_change(change, &grants, None, 0);
        match to {
            Some(to) => {
                assert_eq!(change.target_status(), to);
                assert_eq!(statuses(&planned.unwrap()), [("operator", to)]);
            }
            None => assert_eq!(planned, Err(RoleChangeError::NothingToChange)),
        }
    }
}

#[test]
fn a_change_acts_on_all_roles_of_the_product_or_on_one() {
    let grants = [
        grant(INTEROP, PartyRole::Operator, "api"),
        grant(INTEROP, PartyRole::Operator, "security"),
    ];
    let all = plan_role_change(RoleChange::Suspend, &grants, None, 0).unwrap();
    assert_eq!(
        statuses(&all),
        [
            ("api", RoleStatus::Suspended),
            ("security", RoleStatus::Suspended)
        ]
    );
    assert!(all.iter().all(|g| g.product_id == INTEROP));
    assert!(all.iter().all(|g| g.party_role == PartyRole::Operator));

    let one = plan_role_change(RoleChange::Suspend, &grants, Some("security"), 0).unwrap();
    assert_eq!(statuses(&one), [("security", RoleStatus::Suspended)]);

    assert_eq!(
        plan_role_change(RoleChange::Suspend, &grants, Some("admin"), 5),
        Err(RoleChangeError::NothingToChange)
    );
    assert_eq!(
        plan_role_change(RoleChange::Activate, &grants, None, 5),
        Err(RoleChangeError::NothingToChange)
    );
    assert_eq!(
        plan_role_change(RoleChange::Remove, &[], None, 5),
        Err(RoleChangeError::NothingToChange)
    );
}

#[test]
fn only_roles_in_a_fitting_state_change() {
    let grants = [
        grant(INTEROP, PartyRole::Operator, "api"),
        with_status(
            grant(INTEROP, PartyRole::Operator, "security"),
            RoleStatus::Suspended,
        ),
    ];
    let activated = plan_role_change(RoleChange::Activate, &grants, None, 0).unwrap();
    assert_eq!(statuses(&activated), [("security", RoleStatus::Active)]);
    let suspended = plan_role_change(RoleChange::Suspend, &grants, None, 0).unwrap();
    assert_eq!(statuses(&suspended), [("api", RoleStatus::Suspended)]);
    let removed = plan_role_change(RoleChange::Remove, &grants, None, 0).unwrap();
    assert_eq!(
        statuses(&removed),
        [
            ("api", RoleStatus::Deleted),
            ("security", RoleStatus::Deleted)
        ]
    );
    // The asked role exists but is already suspended.
    assert_eq!(
        plan_role_change(RoleChange::Suspend, &grants, Some("security"), 0),
        Err(RoleChangeError::NothingToChange)
    );
    let removed_grants = [with_status(
        grant(IO, PartyRole::SubDelegate, "admin"),
        RoleStatus::Deleted,
    )];
    for change in RoleChange::ALL {
        assert_eq!(
            plan_role_change(*change, &removed_grants, None, 0),
            Err(RoleChangeError::NothingToChange)
        );
    }
}

#[test]
fn the_last_active_admin_cannot_be_suspended_or_removed() {
    for party_role in [
        PartyRole::Manager,
        PartyRole::Delegate,
        PartyRole::SubDelegate,
    ] {
        let grants = [grant(INTEROP, party_role, "admin")];
        for change in [RoleChange::Suspend, RoleChange::Remove] {
            let err = plan_role_change(change, &grants, None, 0).unwrap_err();
            assert_eq!(
                err,
                RoleChangeError::LastAdmin {
                    product_id: INTEROP.to_owned()
                }
            );
            assert_eq!(
                err.to_string(),
                "the institution would be left without an active administrator of product prod-interop"
            );
            assert_eq!(err.code(), "last_admin");
            assert_eq!(
                plan_role_change(change, &grants, Some("admin"), 0),
                Err(err)
            );
            // With another active admin it is fine.
            let planned = plan_role_change(change, &grants, None, 1).unwrap();
            assert_eq!(planned.len(), 1);
            assert_eq!(planned[0].status, change.target_status());
        }
    }
}

#[test]
fn the_last_admin_guard_concerns_only_active_admin_roles() {
    // Reactivating can only add admins.
    let suspended_admin = [with_status(
        grant(IO, PartyRole::SubDelegate, "admin"),
        RoleStatus::Suspended,
    )];
    plan_role_change(RoleChange::Activate, &suspended_admin, None, 0).unwrap();
    // Removing an admin already suspended leaves the active ones as they are.
    plan_role_change(RoleChange::Remove, &suspended_admin, None, 0).unwrap();
    // Operators are not admins.
    let operator = [grant(IO, PartyRole::Operator, "operator")];
    plan_role_change(RoleChange::Remove, &operator, None, 0).unwrap();
    // Touching only a person's operator role keeps their admin role.
    let mixed = [
        grant(INTEROP, PartyRole::SubDelegate, "admin"),
        grant(INTEROP, PartyRole::Operator, "api"),
    ];
    let planned = plan_role_change(RoleChange::Suspend, &mixed, Some("api"), 0).unwrap();
    assert_eq!(statuses(&planned), [("api", RoleStatus::Suspended)]);
    assert_eq!(
        plan_role_change(RoleChange::Suspend, &mixed, None, 0),
        Err(RoleChangeError::LastAdmin {
            product_id: INTEROP.to_owned()
        })
    );
    assert_eq!(
        plan_role_change(RoleChange::Suspend, &mixed, Some("admin"), 0),
        Err(RoleChangeError::LastAdmin {
            product_id: INTEROP.to_owned()
        })
    );
}
