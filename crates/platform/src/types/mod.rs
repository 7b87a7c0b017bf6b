//! Validated value types shared by every context. Their constructors are the only way in:
//! a value of one of these types is always valid.

/// The conversions every validated text value has, through its `parse`: from a string
/// (`FromStr`, `TryFrom`), back to one (`From`, `AsRef<str>`, `Display`), and serde as a plain
/// string that is parsed on the way in.
macro_rules! text_value {
    ($type:ident, $error:ident, $field:tt) => {
        impl std::str::FromStr for $type {
            type Err = $error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $type {
            type Error = $error;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl TryFrom<&str> for $type {
            type Error = $error;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$type> for String {
            fn from(value: $type) -> Self {
                value.$field
            }
        }

        impl AsRef<str> for $type {
            fn as_ref(&self) -> &str {
                &self.$field
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.$field)
            }
        }

        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.$field)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}
use text_value;

mod cidr;
mod email;
mod fiscal_code;
mod org_tax_code;

pub use cidr::{Cidr, CidrError};
pub use email::{Email, EmailError};
pub use fiscal_code::{FiscalCode, FiscalCodeError};
pub use org_tax_code::{OrgTaxCode, OrgTaxCodeError};
