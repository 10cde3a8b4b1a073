//! Where the master key lives: the OS keychain (the macOS login keychain,
//! the Secret Service on Linux) when one is usable, else a
//! 0600 file `master.key` in the home. `AGENTSECRETS_KEY_STORE=file|keychain`
//! forces a choice. The vault records which store holds its key.

use super::crypto::MasterKey;
use crate::error::{EngineError, Result};
use crate::home::{self, Home};
use agentsecrets_wire::ErrorCode;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use std::time::Duration;
use zeroize::Zeroizing;

pub const ENV_KEY_STORE: &str = "AGENTSECRETS_KEY_STORE";
const KEYCHAIN_SERVICE: &str = "agentsecrets";
/// A keychain that does not answer within this time counts as unusable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Reading an existing key may wait for the user to unlock the keychain.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStore {
    Keychain,
    File,
}

impl KeyStore {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStore::Keychain => "keychain",
            KeyStore::File => "file",
        }
    }

    pub fn parse(s: &str) -> Option<KeyStore> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keychain" => Some(KeyStore::Keychain),
            "file" => Some(KeyStore::File),
            _ => None,
        }
    }
}

/// The store forced by `AGENTSECRETS_KEY_STORE`, if any.
pub fn forced_store() -> Result<Option<KeyStore>> {
    match std::env::var(ENV_KEY_STORE) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => KeyStore::parse(&v).map(Some).ok_or_else(|| {
            EngineError::invalid(format!(
                "{ENV_KEY_STORE} must be `file` or `keychain`, not {}",
                agentsecrets_wire::names::shown(&v)
            ))
            .fix(format!(
                "unset {ENV_KEY_STORE} or set it to `file` or `keychain`"
            ))
        }),
        Err(_) => Ok(None),
    }
}

/// Saves a new key in the `forced` store, or the keychain when usable, else a file.
pub fn save_new(home: &Home, key: &MasterKey, forced: Option<KeyStore>) -> Result<KeyStore> {
    match forced {
        Some(KeyStore::File) => save_file(home, key).map(|_| KeyStore::File),
        Some(KeyStore::Keychain) => save_keychain(home, key).map(|_| KeyStore::Keychain),
        None => match save_keychain(home, key) {
            Ok(()) => Ok(KeyStore::Keychain),
            Err(_) => save_file(home, key).map(|_| KeyStore::File),
        },
    }
}

/// Loads the key from the store the vault recorded.
pub fn load(home: &Home, store: KeyStore) -> Result<MasterKey> {
    match store {
        KeyStore::File => load_file(home),
        KeyStore::Keychain => load_keychain(home),
    }
}

/// Best-effort removal of a key that was saved for a vault that was then
/// not created (a failed `init`).
pub fn discard(home: &Home, store: KeyStore) {
    match store {
        KeyStore::File => {
            let _ = std::fs::remove_file(home.key_path());
        }
        KeyStore::Keychain => {
            let account = account(home);
            let _ = with_timeout(PROBE_TIMEOUT, move || {
                keychain::entry(&account)?
                    .delete_credential()
                    .map_err(|e| e.to_string())
            });
        }
    }
}

fn save_file(home: &Home, key: &MasterKey) -> Result<()> {
    let text = Zeroizing::new(format!("{}\n", B64.encode(key.as_bytes())));
    home::write_private_file(&home.key_path(), text.as_bytes())
}

fn load_file(home: &Home) -> Result<MasterKey> {
    let path = home.key_path();
    let text = match std::fs::read(&path) {
        Ok(t) => Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(missing_key(&format!(
                "the master key file {} is missing",
                path.display()
            )))
        }
        Err(e) => {
            return Err(EngineError::vault(
                &format!("cannot read {}", path.display()),
                e,
            ))
        }
    };
    let trimmed = text.trim_ascii();
    let bytes = Zeroizing::new(B64.decode(trimmed).map_err(|_| {
        missing_key(&format!(
            "the master key file {} is not a valid key",
            path.display()
        ))
    })?);
    MasterKey::from_bytes(&bytes)
}

fn missing_key(what: &str) -> EngineError {
    EngineError::new(ErrorCode::VaultError, what.to_owned()).fix(
        "restore the master key from a backup; without it the vault cannot be decrypted (to start over, move the home aside and run `agentsecrets init`)",
    )
}

/// The keychain account: one key per home, so several homes can coexist.
fn account(home: &Home) -> String {
    format!("master-key:{}", home.root.display())
}

fn keychain_unusable(reason: &str) -> EngineError {
    EngineError::new(
        ErrorCode::VaultError,
        format!("the OS keychain is not usable: {reason}"),
    )
    .fix(format!(
        "unlock or start the keychain (Secret Service on Linux), or set {ENV_KEY_STORE}=file to keep the key in a 0600 file in the home"
    ))
}

fn save_keychain(home: &Home, key: &MasterKey) -> Result<()> {
    keychain::available().map_err(|r| keychain_unusable(&r))?;
    let account = account(home);
    let encoded = Zeroizing::new(B64.encode(key.as_bytes()));
    let expected = encoded.clone();
    let account2 = account.clone();
    with_timeout(PROBE_TIMEOUT, move || {
        keychain::entry(&account)?
            .set_password(&encoded)
            .map_err(|e| e.to_string())
    })
    .map_err(|r| keychain_unusable(&r))?;
    // Read it back: some stores accept writes they cannot serve later.
    let back = with_timeout(PROBE_TIMEOUT, move || {
        keychain::entry(&account2)?
            .get_password()
            .map(Zeroizing::new)
            .map_err(|e| e.to_string())
    })
    .map_err(|r| keychain_unusable(&r))?;
    if back.as_str() != expected.as_str() {
        return Err(keychain_unusable(
            "the key read back differs from the key written",
        ));
    }
    Ok(())
}

fn load_keychain(home: &Home) -> Result<MasterKey> {
    keychain::available().map_err(|r| keychain_unusable(&r))?;
    let account = account(home);
    let encoded = with_timeout(LOAD_TIMEOUT, move || {
        keychain::entry(&account)?
            .get_password()
            .map(Zeroizing::new)
            .map_err(|e| e.to_string())
    })
    .map_err(|r| {
        EngineError::new(
            ErrorCode::VaultError,
            format!("cannot read the master key from the OS keychain: {r}"),
        )
        .fix("unlock the keychain and retry; if the entry `agentsecrets` was deleted, restore it from a backup")
    })?;
    let bytes = Zeroizing::new(
        B64.decode(encoded.trim())
            .map_err(|_| missing_key("the master key in the OS keychain is not a valid key"))?,
    );
    MasterKey::from_bytes(&bytes)
}

/// Runs a keychain call on its own thread so a store that never answers
/// (no D-Bus, a locked prompt nobody sees) cannot hang the engine.
fn with_timeout<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> std::result::Result<T, String> + Send + 'static,
) -> std::result::Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("keychain".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", limit.as_secs())),
    }
}

#[cfg(any(target_os = "macos", target_os = "linux"))]
mod keychain {
    pub fn entry(account: &str) -> Result<keyring::Entry, String> {
        keyring::Entry::new(super::KEYCHAIN_SERVICE, account).map_err(|e| e.to_string())
    }

    /// Cheap checks before touching the store at all.
    pub fn available() -> Result<(), String> {
        #[cfg(target_os = "linux")]
        {
            // The Secret Service lives on the session bus; without one, say so at once.
            let bus_env = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").filter(|v| !v.is_empty());
            let runtime_bus = std::env::var_os("XDG_RUNTIME_DIR")
                .map(|d| std::path::Path::new(&d).join("bus"))
                .filter(|p| p.exists());
            if bus_env.is_none() && runtime_bus.is_none() {
                return Err("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)".into());
            }
            if let Some(addr) = bus_env.as_ref().and_then(|a| a.to_str()) {
                if let Some(path) = addr.strip_prefix("unix:path=") {
                    let path = path.split(',').next().unwrap_or(path);
                    if !std::path::Path::new(path).exists() {
                        return Err(format!(
                            "the D-Bus session bus socket {path} does not exist"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(not(any(target_os = "macos", target_os = "linux")))]
mod keychain {
    pub struct Entry;
    impl Entry {
        pub fn set_password(&self, _: &str) -> Result<(), String> {
            Err("no keychain support on this platform".into())
        }
        pub fn get_password(&self) -> Result<String, String> {
            Err("no keychain support on this platform".into())
        }
        pub fn delete_credential(&self) -> Result<(), String> {
            Ok(())
        }
    }
    pub fn entry(_: &str) -> Result<Entry, String> {
        Err("no keychain support on this platform".into())
    }
    pub fn available() -> Result<(), String> {
        Err("no keychain support on this platform".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn file_store_round_trip_and_mode() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        let k = MasterKey::generate();
        save_file(&home, &k).unwrap();
        let mode = std::fs::metadata(home.key_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            load(&home, KeyStore::File).unwrap().as_bytes(),
            k.as_bytes()
        );
    }

    #[test]
    fn missing_or_bad_key_file_is_a_clear_error() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        let e = load(&home, KeyStore::File).err().unwrap();
        assert_eq!(e.code, ErrorCode::VaultError);
        assert!(e.fix.is_some());
        std::fs::write(home.key_path(), "not base64!").unwrap();
        assert!(load(&home, KeyStore::File).is_err());
    }

    #[test]
    fn timeout_bounds_a_hanging_store() {
        let start = std::time::Instant::now();
        let r: std::result::Result<(), String> = with_timeout(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        });
        assert!(r.is_err());
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn store_names() {
        assert_eq!(KeyStore::parse("FILE"), Some(KeyStore::File));
        assert_eq!(KeyStore::parse("keychain"), Some(KeyStore::Keychain));
        assert_eq!(KeyStore::parse("disk"), None);
    }
}
