//! Validated value types shared by every context. Their constructors are the only way in:
//! a value of one of these types is always valid.

mod cidr;
mod email;
mod fiscal_code;
mod org_tax_code;

pub use cidr::{Cidr, CidrError};
pub use email::{Email, EmailError};
pub use fiscal_code::{FiscalCode, FiscalCodeError};
pub use org_tax_code::{OrgTaxCode, OrgTaxCodeError};
