//! The portal's one error type, mapped to HTTP here: a problem+json for the migration API, a
//! status and an Italian message for the pages (`pages::PageError` renders it).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::Problem;
use platform::error::{Answer, Common};

use crate::model::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum DevportalError {
    /// The migration API without the right `X-Functions-Key`.
    #[error("missing or wrong X-Functions-Key")]
    Unauthenticated,
    #[error("the organization fiscal code must be 11 digits")]
    InvalidFiscalCode,
    #[error("service not found")]
    NotFound,
    #[error("{}", .0.first().map(|e| format!("{}: {}", e.field, e.message)).unwrap_or_default())]
    Invalid(Vec<FieldError>),
    /// The import has frozen the service: the delegate can no longer change it.
    #[error("the service is being transferred and cannot be changed")]
    Frozen,
    #[error("the service must be frozen before its transfer")]
    NotFrozen,
    /// The delegate's service now belongs to the institution in the Reserved Area.
    #[error("the service was transferred to its institution's Reserved Area")]
    Transferred {
        organization: String,
        /// When, in milliseconds.
        at: i64,
    },
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("wrong email or password")]
    BadCredentials,
    #[error("too many failed logins")]
    TooManyAttempts,
    #[error("no randomness available")]
    Random,
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A stored row that cannot be read back (e.g. its JSON).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Db(#[from] platform::db::DbError),
}

impl DevportalError {
    /// What a page says, in Italian (the cause of an internal failure is logged, not shown).
    pub fn message_it(&self) -> String {
        match self {
            DevportalError::Unauthenticated => "Accesso non autorizzato.".into(),
            DevportalError::InvalidFiscalCode => {
                "Il codice fiscale dell'ente deve essere di 11 cifre.".into()
            }
            DevportalError::NotFound => "Il servizio non esiste o non è tuo.".into(),
            DevportalError::Invalid(errors) => errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
            DevportalError::Frozen => {
                "Il servizio è in trasferimento all'Area Riservata e non può essere modificato."
                    .into()
            }
            DevportalError::NotFrozen => "Il servizio non è in trasferimento.".into(),
            DevportalError::Transferred { organization, at } => format!(
                "Questo servizio è stato trasferito all'Area Riservata dell'ente {organization} \
                 il {}: ora lo gestiscono gli utenti dell'ente dal back-office di App IO, con le \
                 stesse chiavi. Per lavorarci, chiedi a un amministratore dell'ente un ruolo sul \
                 prodotto App IO nell'Area Riservata.",
                platform::Timestamp(*at).date_for_people(platform::i18n::Lang::It)
            ),
            DevportalError::Csrf => "Il modulo è scaduto: ricarica la pagina e riprova.".into(),
            DevportalError::BadCredentials => "Email o password non corretti.".into(),
            DevportalError::TooManyAttempts => "Troppi tentativi, riprova più tardi.".into(),
            DevportalError::Random
            | DevportalError::Hash(_)
            | DevportalError::Corrupt(_)
            | DevportalError::Sql(_)
            | DevportalError::Db(_) => {
                tracing::error!(error = %self, "internal error");
                "Si è verificato un errore interno. Riprova più tardi.".into()
            }
        }
    }
}

impl Answer for DevportalError {
    /// The refusals the platform answers alike; `None` for the portal's own.
    fn common(&self) -> Option<Common<'_>> {
        Some(match self {
            DevportalError::Unauthenticated => Common::Unauthenticated {
                hint: "send the migration key in the X-Functions-Key header",
            },
            DevportalError::Invalid(errors) => Common::Invalid(errors),
            DevportalError::Csrf => Common::Csrf,
            DevportalError::Random
            | DevportalError::Hash(_)
            | DevportalError::Corrupt(_)
            | DevportalError::Sql(_)
            | DevportalError::Db(_) => Common::Internal(self),
            DevportalError::InvalidFiscalCode
            | DevportalError::NotFound
            | DevportalError::Frozen
            | DevportalError::NotFrozen
            | DevportalError::Transferred { .. }
            | DevportalError::BadCredentials
            | DevportalError::TooManyAttempts => return None,
        })
    }

    /// The portal's own refusals (those [`Answer::common`] leaves out).
    fn own_problem(&self) -> Problem {
        match self {
            DevportalError::InvalidFiscalCode => {
                Problem::bad_request("invalid_fiscal_code", self.to_string())
                    .with_invalid_param("fc", "must be 11 digits")
            }
            DevportalError::NotFound => {
                Problem::new(StatusCode::NOT_FOUND, "service_not_found", "Not Found").with_detail(
                    "no importable service with this id for this delegate and organization",
                )
            }
            DevportalError::Frozen => Problem::conflict("frozen", self.to_string()),
            DevportalError::NotFrozen => Problem::conflict("not_frozen", self.to_string()),
            DevportalError::Transferred { .. } => {
                Problem::new(StatusCode::GONE, "transferred", "Gone").with_detail(self.to_string())
            }
            DevportalError::BadCredentials => {
                Problem::new(StatusCode::UNAUTHORIZED, "bad_credentials", "Unauthorized")
            }
            _ => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too Many Requests",
            ),
        }
    }
}

impl IntoResponse for DevportalError {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}

/// Why the portal did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "missing required setting `devportal.migration_api_key` (the shared secret of the \
         migration API; set SELFCARE_DEVPORTAL__MIGRATION_API_KEY)"
    )]
    MissingMigrationKey,
    #[error("the setting `devportal.migration_api_key` must be at least {min} characters long")]
    ShortMigrationKey { min: usize },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Devportal(#[from] DevportalError),
}
