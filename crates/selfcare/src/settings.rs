//! The whole configuration: each section is defined by the part of the code that uses it.

use std::path::{Path, PathBuf};

use platform::config::{
    ConfigError, DatabaseSettings, HttpSettings, Loader, LogSettings, SigningSettings,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub signing: SigningSettings,
    pub reserved_area: reserved_area::Settings,
    pub io: io_backoffice::Settings,
    pub devportal: devportal::Settings,
    pub interop: interop::Settings,
    pub mail: platform::mail::MailSettings,
    /// `selfcare gateway`, the voucher gateway a producer runs in front of its e-service.
    pub gateway: crate::gateway::GatewaySettings,
}

/// How the app is started: `serve` needs everything configured; `demo` makes what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Serve,
    Demo { data_dir: PathBuf },
}

/// Command-line values that override every other source.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    /// `--listen` of `selfcare gateway` (setting `gateway.listen`).
    pub gateway_listen: Option<String>,
    /// `--upstream` of `selfcare gateway` (setting `gateway.upstream`).
    pub gateway_upstream: Option<String>,
}

impl Settings {
    /// Defaults < file < `SELFCARE_*` environment < command line.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Settings, ConfigError> {
        let mut loader = Loader::new(&Settings::default());
        if let Some(file) = file {
            loader = loader.file(file)?;
        }
        loader = loader.env();
        if let Some(listen) = &overrides.listen {
            loader = loader.set("http.listen", listen);
        }
        if let Some(url) = &overrides.database_url {
            loader = loader.set("database.url", url);
        }
        if let Some(listen) = &overrides.gateway_listen {
            loader = loader.set("gateway.listen", listen);
        }
        if let Some(upstream) = &overrides.gateway_upstream {
            loader = loader.set("gateway.upstream", upstream);
        }
        loader.extract()
    }

    /// Checks what `serve` cannot start without; `demo` fills these in itself.
    pub fn require_for_serve(&self) -> Result<(), ConfigError> {
        if self.database.url.is_none() {
            return Err(ConfigError::Missing {
                key: "database.url",
                hint: "pass --database-url sqlite://<file> or postgres://..., or set SELFCARE_DATABASE__URL",
            });
        }
        if self.signing.key_files.is_empty() {
            return Err(ConfigError::Missing {
                key: "signing.key_files",
                hint: "list PEM files of RSA-2048 private keys (generate one with \
                       `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`), \
                       or set SELFCARE_SIGNING__KEY_FILES",
            });
        }
        if self.io.master_key_files.is_empty() {
            return Err(ConfigError::Missing {
                key: "io.master_key_files",
                hint: "list files of 32 random bytes in base64 that encrypt the API keys at rest \
                       (make one with `selfcare io new-master-key <file>`; back it up with the \
                       database), or set SELFCARE_IO__MASTER_KEY_FILES",
            });
        }
        if self.http.public_url.is_none() {
            return Err(ConfigError::Missing {
                key: "http.public_url",
                hint: "the URL users reach this server at (the issuer of its tokens), \
                       e.g. https://selfcare.example.it; or set SELFCARE_HTTP__PUBLIC_URL",
            });
        }
        Ok(())
    }
}
