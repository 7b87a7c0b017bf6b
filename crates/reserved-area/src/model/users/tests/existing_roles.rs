//! A new role against the roles the person already has.

use super::*;

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
