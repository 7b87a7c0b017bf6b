//! A new person's fields and roles.

use super::*;

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
    let roles = r#"
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
    let text = product_with("prod-x", "x", "", roles);
    let c = Catalogue::parse(&text).unwrap();
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
