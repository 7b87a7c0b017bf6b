//! Migrations written once for both engines.
//!
//! Each schema is one folder of `NNNN_description.sql` files under `migrations/`, embedded in
//! the binary by [`schema!`](crate::schema). The SQL is portable (TEXT ids, BIGINT
//! milliseconds, BOOLEAN, `$1` placeholders) but for a few constructs, which the engines spell
//! differently and which is translated here when the migration is resolved:
//!
//! | written (PostgreSQL)     | on SQLite                           |
//! |--------------------------|-------------------------------------|
//! | `BIGSERIAL PRIMARY KEY`  | `INTEGER PRIMARY KEY AUTOINCREMENT` |
//! | `BYTEA`                  | `BLOB`                              |
//!
//! The checksum sqlx records for an applied migration is taken from the text each engine runs,
//! so a translated file keeps the checksum the earlier per-engine folders gave it (a test holds
//! them): databases migrated by earlier releases go on migrating.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::Dialect;

/// One schema's migration files, in version order.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// `(file name, SQL)`.
    pub files: &'static [(&'static str, &'static str)],
}

/// Embeds files of a folder of `migrations/` as a [`Schema`]:
/// `platform::schema!("devportal", "0001_devportal.sql")`.
#[macro_export]
macro_rules! schema {
    ($folder:literal, $($file:literal),+ $(,)?) => {
        $crate::db::schema::Schema {
            files: &[$((
                $file,
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/", $folder, "/", $file)),
            )),+],
        }
    };
}

/// The spellings that differ, PostgreSQL's first.
const DIALECT_SPELLINGS: &[(&str, &str)] = &[
    ("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT"),
    ("BYTEA", "BLOB"),
];

impl Schema {
    /// The migrator of this schema for one engine.
    pub async fn migrator(self, dialect: Dialect) -> Result<Migrator, sqlx::migrate::MigrateError> {
        Migrator::new(Source {
            schema: self,
            dialect,
        })
        .await
    }

    /// The migrations as `dialect` runs them.
    pub fn migrations(self, dialect: Dialect) -> Result<Vec<Migration>, String> {
        self.files
            .iter()
            .map(|(file, sql)| {
                let (version, description) = file
                    .strip_suffix(".sql")
                    .and_then(|stem| stem.split_once('_'))
                    .and_then(|(version, name)| Some((version.parse::<i64>().ok()?, name)))
                    .ok_or_else(|| format!("migration file `{file}` is not NNNN_name.sql"))?;
                Ok(Migration::new(
                    version,
                    Cow::Owned(description.replace('_', " ")),
                    MigrationType::Simple,
                    for_dialect(sql, dialect),
                    false,
                ))
            })
            .collect()
    }
}

/// The SQL as `dialect` spells it.
pub fn for_dialect(sql: &'static str, dialect: Dialect) -> Cow<'static, str> {
    match dialect {
        Dialect::Postgres => Cow::Borrowed(sql),
        Dialect::Sqlite => {
            let mut text = Cow::Borrowed(sql);
            for (postgres, sqlite) in DIALECT_SPELLINGS {
                if text.contains(postgres) {
                    text = Cow::Owned(text.replace(postgres, sqlite));
                }
            }
            text
        }
    }
}

#[derive(Debug)]
struct Source {
    schema: Schema,
    dialect: Dialect,
}

impl MigrationSource<'static> for Source {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { Ok(self.schema.migrations(self.dialect)?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 8 bytes of each migration's checksum as the per-engine folders of earlier
    /// releases gave it: databases they migrated refuse a migration whose text changed.
    fn checksums(schema: Schema, dialect: Dialect) -> Vec<(i64, String)> {
        schema
            .migrations(dialect)
            .unwrap()
            .iter()
            .map(|m| {
                let hex: String = m.checksum[..8].iter().map(|b| format!("{b:02x}")).collect();
                (m.version, hex)
            })
            .collect()
    }

    #[test]
    fn the_migrations_keep_the_checksums_databases_already_hold() {
        let common = [
            (1, "726ef70f15b9e713"),
            (2, "f767bd4f399b6b56"),
            (3, "9b89e9abd36296cf"),
            (4, "728b6a29defad7b1"),
            (5, "09491c000b004d8d"),
            (6, "79a1f3381847c038"),
            (8, "64052e1c996415c8"),
            (9, "780696228f41bca3"),
            (10, "3331ab438c67d2c4"),
            (11, "a09404ac79407323"),
        ];
        // The migrations a dialect's spelling changes: 7 and 12.
        for (dialect, io_services, documents) in [
            (Dialect::Sqlite, "639c549070ac6002", "c011aa7ba246f288"),
            (Dialect::Postgres, "2564b3c47c4ed241", "e8ae8a8ca65e7072"),
        ] {
            let mut expected: Vec<(i64, String)> =
                common.iter().map(|(v, c)| (*v, c.to_string())).collect();
            expected.insert(6, (7, io_services.to_string()));
            expected.push((12, documents.to_string()));
            expected.push((13, "e1056405b6e8f5a4".to_string()));
            expected.push((14, "ec2c2335c4eb8a86".to_string()));
            expected.push((15, "916d573df898c62e".to_string()));
            expected.push((16, "f4d4f64c08e97d1b".to_string()));
            expected.push((17, "c7fe6b24a7d97a68".to_string()));
            expected.push((18, "eef88914c8d53eb5".to_string()));
            expected.push((19, "032502016b47b830".to_string()));
            assert_eq!(
                checksums(crate::db::MAIN_SCHEMA, dialect),
                expected,
                "{dialect:?}"
            );
            assert_eq!(
                checksums(
                    crate::schema!("devportal", "0001_devportal.sql", "0002_once.sql"),
                    dialect
                ),
                vec![
                    (1, "3fa50b425ff13bb6".to_string()),
                    (2, "a09404ac79407323".to_string())
                ],
                "{dialect:?}"
            );
        }
        let vouchers = crate::schema!(
            "interop-vouchers",
            "0001_interop_vouchers.sql",
            "0002_sweep_by_jti.sql"
        );
        assert_eq!(
            checksums(vouchers, Dialect::Sqlite),
            vec![
                (1, "277035a674857e0f".to_string()),
                (2, "c6631d78678e5d00".to_string())
            ]
        );
    }

    #[test]
    fn descriptions_come_from_the_file_names() {
        let migrations = crate::db::MAIN_SCHEMA.migrations(Dialect::Sqlite).unwrap();
        assert_eq!(migrations[0].description, "platform audit");
        assert_eq!(migrations[6].description, "io services");
        assert!(
            migrations[6]
                .sql
                .contains("INTEGER PRIMARY KEY AUTOINCREMENT")
        );
    }

    #[test]
    fn a_badly_named_file_is_an_error_not_a_panic() {
        let schema = Schema {
            files: &[("first.sql", "SELECT 1;")],
        };
        let err = schema.migrations(Dialect::Sqlite).unwrap_err();
        assert!(err.contains("first.sql"), "{err}");
    }
}
