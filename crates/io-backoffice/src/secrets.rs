//! API keys and the master key ring that encrypts them at rest.
//!
//! A key is 16 random bytes shown as 32 hexadecimal characters (128 bits), as the real
//! gateway's subscription keys. It is stored twice: as a SHA-256 hash (the lookup: a key is
//! high-entropy, so a fast hash is safe and keeps the lookup O(1)) and encrypted with
//! AES-256-GCM under the newest master key, so that it can be shown again. Older master keys
//! still decrypt; `selfcare io rekey` re-encrypts everything under the newest.

use std::fmt;
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the master key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the master key file {path} must hold 32 random bytes in base64 (make one with `selfcare io new-master-key <file>`)"
    )]
    Format { path: PathBuf },
    #[error("io.master_key_files is empty: the service keys cannot be stored")]
    NoMasterKey,
    #[error("no master key {0} in io.master_key_files: it is needed to decrypt stored keys")]
    UnknownMasterKey(String),
    #[error("a stored key cannot be decrypted (wrong master key or damaged data)")]
    Decrypt,
    #[error("the system random generator failed")]
    Random,
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An API key in clear. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn generate() -> Result<Self, SecretError> {
        let mut bytes = [0u8; 16];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SecretError::Random)?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// A key as presented by a caller (not checked: unknown keys simply find nothing).
    pub fn presented(value: &str) -> Self {
        Self(value.trim().to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The lookup hash: SHA-256, hexadecimal.
    pub fn hash(&self) -> String {
        hash_key(&self.0)
    }
}

pub fn hash_key(key: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

struct MasterKey {
    id: String,
    key: LessSafeKey,
}

/// The master keys, oldest first; the last one encrypts.
pub struct KeyRing {
    keys: Vec<MasterKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("ids", &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// Loads master key files; each key's id is its file name without extension.
    pub fn load(files: &[PathBuf]) -> Result<Self, SecretError> {
        let mut keys = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(path).map_err(|source| SecretError::Read {
                path: path.clone(),
                source,
            })?;
            let bytes = B64
                .decode(text.trim())
                .map_err(|_| SecretError::Format { path: path.clone() })?;
            let id = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| "master".into());
            keys.push(Self::entry(&id, &bytes).ok_or(SecretError::Format { path: path.clone() })?);
        }
        if keys.is_empty() {
            return Err(SecretError::NoMasterKey);
        }
        Ok(Self { keys })
    }

    /// A ring from raw keys (`(id, 32 bytes)`), oldest first.
    pub fn from_bytes(keys: &[(&str, [u8; 32])]) -> Result<Self, SecretError> {
        let keys: Vec<MasterKey> = keys
            .iter()
            .filter_map(|(id, k)| Self::entry(id, k))
            .collect();
        if keys.is_empty() {
            return Err(SecretError::NoMasterKey);
        }
        Ok(Self { keys })
    }

    fn entry(id: &str, bytes: &[u8]) -> Option<MasterKey> {
        if bytes.len() != 32 {
            return None;
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).ok()?;
        Some(MasterKey {
            id: id.to_string(),
            key: LessSafeKey::new(key),
        })
    }

    /// Writes a new random master key file (for `demo` and `selfcare io new-master-key`).
    pub fn generate_file(path: &Path) -> Result<(), SecretError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SecretError::Random)?;
        let write = |source| SecretError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let mut text = B64.encode(bytes);
        text.push('\n');
        #[cfg(unix)]
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(write)?;
            f.write_all(text.as_bytes()).map_err(write)?;
        }
        #[cfg(not(unix))]
        std::fs::write(path, text).map_err(write)?;
        Ok(())
    }

    pub fn newest_id(&self) -> &str {
        self.keys.last().map(|k| k.id.as_str()).unwrap_or("")
    }

    /// Encrypts under the newest key: `(key id, base64(nonce || ciphertext || tag))`. The
    /// subscription and key type are bound as associated data, so a ciphertext moved to
    /// another row does not decrypt.
    pub fn encrypt(&self, key: &ApiKey, bound_to: &str) -> Result<(String, String), SecretError> {
        let master = self.keys.last().ok_or(SecretError::NoMasterKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SecretError::Random)?;
        let mut buf = key.0.as_bytes().to_vec();
        master
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(bound_to.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SecretError::Decrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok((master.id.clone(), B64.encode(out)))
    }

    pub fn decrypt(
        &self,
        key_id: &str,
        sealed: &str,
        bound_to: &str,
    ) -> Result<ApiKey, SecretError> {
        let master = self
            .keys
            .iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| SecretError::UnknownMasterKey(key_id.to_string()))?;
        let bytes = B64.decode(sealed).map_err(|_| SecretError::Decrypt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Decrypt);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Decrypt)?;
        let mut buf = rest.to_vec();
        let plain = master
            .key
            .open_in_place(nonce, Aad::from(bound_to.as_bytes()), &mut buf)
            .map_err(|_| SecretError::Decrypt)?;
        let text = std::str::from_utf8(plain).map_err(|_| SecretError::Decrypt)?;
        Ok(ApiKey(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_hex_and_never_debug_printed() {
        let a = ApiKey::generate().unwrap();
        let b = ApiKey::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 32);
        assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(!format!("{a:?}").contains(a.expose()));
        assert_eq!(a.hash().len(), 64);
        assert_eq!(
            ApiKey::presented(&format!(" {} ", a.expose())).hash(),
            a.hash()
        );
    }

    #[test]
    fn old_master_keys_decrypt_and_the_newest_encrypts() {
        let old = KeyRing::from_bytes(&[("m1", [1; 32])]).unwrap();
        let key = ApiKey::generate().unwrap();
        let (id, sealed) = old.encrypt(&key, "S1/primary").unwrap();
        assert_eq!(id, "m1");
        let ring = KeyRing::from_bytes(&[("m1", [1; 32]), ("m2", [2; 32])]).unwrap();
        assert_eq!(ring.decrypt(&id, &sealed, "S1/primary").unwrap(), key);
        assert_eq!(ring.encrypt(&key, "x").unwrap().0, "m2");
        // Bound to its row; unknown ids and damaged data refused.
        assert!(ring.decrypt(&id, &sealed, "S2/primary").is_err());
        assert!(matches!(
            ring.decrypt("m9", &sealed, "S1/primary"),
            Err(SecretError::UnknownMasterKey(_))
        ));
        assert!(ring.decrypt(&id, "AAAA", "S1/primary").is_err());
    }

    #[test]
    fn master_key_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master-1.key");
        KeyRing::generate_file(&path).unwrap();
        let ring = KeyRing::load(std::slice::from_ref(&path)).unwrap();
        assert_eq!(ring.newest_id(), "master-1");
        assert!(
            KeyRing::generate_file(&path).is_err(),
            "never overwrites a key"
        );
        std::fs::write(dir.path().join("bad.key"), "short").unwrap();
        assert!(matches!(
            KeyRing::load(&[dir.path().join("bad.key")]),
            Err(SecretError::Format { .. })
        ));
        assert!(matches!(KeyRing::load(&[]), Err(SecretError::NoMasterKey)));
    }
}
