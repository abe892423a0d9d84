//! The workspace key: 32 random bytes that seal every secret value the
//! SQLite store holds (passwords, one-time password seeds, concealed
//! fields, attachment bytes).
//!
//! A copy of the database alone (a backup, a stolen disk, a file left in
//! a temp directory) then gives away no secret; the key lives apart from
//! it. Where it comes from, first match wins:
//!
//! 1. `--key-file PATH` on the command,
//! 2. the `VAULTFERRY_WORKSPACE_KEY` environment variable (base64), for
//!    deployments that keep keys in a secret manager rather than a file,
//! 3. `DB.key` beside the database (`ws.db` → `ws.db.key`), which
//!    `workspace init` creates owner-only.
//!
//! A key file anyone but its owner may read is refused: it is the one
//! thing that opens every password of the company.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// The environment variable a key can be given in (base64 of 32 bytes).
pub const KEY_ENV: &str = "VAULTFERRY_WORKSPACE_KEY";

/// The first byte of every sealed value: the layout below, so a later
/// layout can be told apart.
const VERSION: u8 = 1;
const NONCE: usize = 24;
const TAG: usize = 16;
/// What sealing adds to a value: version, nonce, tag.
pub const OVERHEAD: usize = 1 + NONCE + TAG;

/// A workspace key, zeroed when dropped; it never prints.
#[derive(Clone)]
pub struct WorkspaceKey {
    bytes: Zeroizing<[u8; 32]>,
    /// Where it was found, for error messages (never the key itself).
    origin: KeyOrigin,
}

/// Where a key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    File(PathBuf),
    Env,
}

impl std::fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyOrigin::File(p) => write!(f, "the key file {}", p.display()),
            KeyOrigin::Env => write!(f, "the key in {KEY_ENV}"),
        }
    }
}

impl std::fmt::Debug for WorkspaceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkspaceKey").field("origin", &self.origin).finish()
    }
}

/// Why no key could be had. Messages name the file or variable and what
/// to do; never a key's bytes.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// A sealed value that does not open: the wrong key, or a value moved
/// from another row or column, or damaged.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsealable;

/// Where a command looks for the key of the database at `db`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyLocation {
    /// `--key-file`: wins over the environment and the default file.
    pub file: Option<PathBuf>,
}

impl KeyLocation {
    pub fn file(path: impl Into<PathBuf>) -> KeyLocation {
        KeyLocation {
            file: Some(path.into()),
        }
    }
}

/// The key file `workspace init` writes beside the database at `db`.
pub fn default_key_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".key");
    PathBuf::from(p)
}

impl WorkspaceKey {
    /// A new random key (from the operating system's generator).
    pub fn generate(origin: KeyOrigin) -> WorkspaceKey {
        use rand::RngCore as _;
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        WorkspaceKey { bytes, origin }
    }

    /// The key for the database at `db`, looked for in the order the
    /// module documents. `Ok(None)` when none is given and `DB.key` does
    /// not exist: the caller decides whether to make one.
    pub fn find(db: &Path, at: &KeyLocation) -> Result<Option<WorkspaceKey>, KeyError> {
        if let Some(file) = &at.file {
            return WorkspaceKey::read_file(file).map(Some);
        }
        if let Some(value) = std::env::var_os(KEY_ENV) {
            let value = Zeroizing::new(
                value
                    .into_string()
                    .map_err(|_| KeyError(format!("{KEY_ENV} is not valid text: expected the base64 of 32 bytes")))?,
            );
            return decode(&value, KeyOrigin::Env).map(Some);
        }
        let file = default_key_path(db);
        if !file.exists() {
            return Ok(None);
        }
        WorkspaceKey::read_file(&file).map(Some)
    }

    /// Reads a key file, refusing one that group or others may read.
    pub fn read_file(path: &Path) -> Result<WorkspaceKey, KeyError> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| {
            KeyError(if e.kind() == std::io::ErrorKind::NotFound {
                format!("the workspace key file {shown} does not exist: give the file `workspace init` made (--key-file) or set {KEY_ENV}")
            } else {
                format!("cannot read the workspace key file {shown}: {e}")
            })
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError(format!(
                    "the workspace key file {shown} may be read by others (mode {mode:03o}): \
                     refusing to use it; make it owner-only with `chmod 600 {shown}`"
                )));
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| KeyError(format!("cannot read the workspace key file {shown}: {e}")))?,
        );
        decode(&text, KeyOrigin::File(path.to_owned()))
    }

    /// Writes the key to a new owner-only file (base64 and a newline, so it
    /// can be copied into [`KEY_ENV`] or a password manager as it is).
    /// `replace` overwrites a file already there (`workspace init --force`
    /// starts the workspace over, values and key alike).
    pub fn write_file(&self, path: &Path, replace: bool) -> Result<(), KeyError> {
        use base64::Engine as _;
        use std::io::Write as _;
        let shown = path.display();
        if replace {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(KeyError(format!("cannot replace the workspace key file {shown}: {e}"))),
            }
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| {
            KeyError(if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "a workspace key file exists already at {shown}: refusing to overwrite it \
                     (it may be the only key of another workspace)"
                )
            } else {
                format!("cannot create the workspace key file {shown}: {e}")
            })
        })?;
        let mut text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.bytes.as_ref()));
        text.push('\n');
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| KeyError(format!("cannot write the workspace key file {shown}: {e}")))
    }

    pub fn origin(&self) -> &KeyOrigin {
        &self.origin
    }

    /// Seals `value` for the place named by `aad` (its table, column and
    /// row): a fresh random nonce each time, so equal values seal
    /// differently.
    pub fn seal(&self, aad: &[u8], value: &[u8]) -> Vec<u8> {
        use rand::RngCore as _;
        let mut nonce = [0u8; NONCE];
        // ThreadRng is a CSPRNG seeded from the OS; an OS call per value
        // would cost a million-item run a syscall per password.
        rand::thread_rng().fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(self.bytes.as_ref().into());
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: value, aad })
            // Only a message longer than 256 GB fails to encrypt.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`seal`](WorkspaceKey::seal) made for the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unsealable> {
        if sealed.len() < OVERHEAD || sealed[0] != VERSION {
            return Err(Unsealable);
        }
        let cipher = XChaCha20Poly1305::new(self.bytes.as_ref().into());
        cipher
            .decrypt(
                XNonce::from_slice(&sealed[1..1 + NONCE]),
                Payload {
                    msg: &sealed[1 + NONCE..],
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Unsealable)
    }
}

fn decode(text: &str, origin: KeyOrigin) -> Result<WorkspaceKey, KeyError> {
    use base64::Engine as _;
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError(format!("{origin} is not base64: expected the base64 of 32 bytes")))?,
    );
    let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
        KeyError(format!(
            "{origin} holds {} bytes: expected a workspace key of 32 bytes (base64)",
            decoded.len()
        ))
    })?;
    Ok(WorkspaceKey {
        bytes: Zeroizing::new(bytes),
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> WorkspaceKey {
        WorkspaceKey::generate(KeyOrigin::Env)
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_its_place() {
        let k = key();
        let sealed = k.seal(b"accounts.password.7", b"Pw-marker-1!");
        assert!(!sealed.windows(6).any(|w| w == b"marker"));
        assert_eq!(&**k.open(b"accounts.password.7", &sealed).unwrap(), b"Pw-marker-1!");
        assert_eq!(k.open(b"accounts.password.8", &sealed), Err(Unsealable));
        assert_eq!(key().open(b"accounts.password.7", &sealed), Err(Unsealable));
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert_eq!(k.open(b"accounts.password.7", &damaged), Err(Unsealable));
        assert_eq!(k.open(b"accounts.password.7", b"short"), Err(Unsealable));
    }

    #[test]
    fn equal_values_seal_differently() {
        let k = key();
        assert_ne!(k.seal(b"a", b"same"), k.seal(b"a", b"same"));
    }

    #[test]
    fn a_key_file_round_trips_and_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ws.db.key");
        let k = WorkspaceKey::generate(KeyOrigin::File(path.clone()));
        k.write_file(&path, false).unwrap();
        let back = WorkspaceKey::read_file(&path).unwrap();
        let sealed = k.seal(b"x", b"value");
        assert_eq!(&**back.open(b"x", &sealed).unwrap(), b"value");
        let again = k.write_file(&path, false).unwrap_err().0;
        assert!(again.contains("refusing to overwrite"), "{again}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let refused = WorkspaceKey::read_file(&path).unwrap_err().0;
            assert!(refused.contains("chmod 600") && refused.contains("644"), "{refused}");
        }
    }

    #[test]
    fn a_malformed_key_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "not base64 at all!\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = WorkspaceKey::read_file(&path).unwrap_err().0;
        assert!(e.contains("not base64") && e.contains("32 bytes"), "{e}");
        std::fs::write(&path, "c2hvcnQ=\n").unwrap();
        let e = WorkspaceKey::read_file(&path).unwrap_err().0;
        assert!(e.contains("holds 5 bytes"), "{e}");
        let missing = WorkspaceKey::read_file(&dir.path().join("none")).unwrap_err().0;
        assert!(
            missing.contains("does not exist") && missing.contains(KEY_ENV),
            "{missing}"
        );
    }
}
