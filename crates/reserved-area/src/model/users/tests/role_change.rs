//! Suspending, reactivating and removing roles.

use super::*;

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
