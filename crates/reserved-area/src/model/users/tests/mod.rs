//! The unit tests of the users rules.

use std::collections::HashSet;

use super::new_user::*;
use super::*;
use crate::model::tests::{catalogue, grant, ids, product_with};
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

/// An institution onboarded to everything of the default catalogue.
fn all_onboarded() -> Vec<String> {
    ids(&[IO, INTEROP, COLL, PAGOPA, "prod-pn"])
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

mod existing_roles;
mod messages;
mod new_user;
mod role_change;
