//! The engine home: `AGENTSECRETS_HOME` (default `~/.agentsecrets`).
//! Directories are created 0700 and files 0600; writes of small files are
//! atomic (temporary file + rename) so a crash leaves the old or new content.

use crate::error::{EngineError, Result};
use agentsecrets_wire::run_files;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub root: PathBuf,
}

impl Home {
    /// `AGENTSECRETS_HOME`, else `$HOME/.agentsecrets`.
    pub fn from_env() -> Result<Home> {
        if let Some(p) = std::env::var_os("AGENTSECRETS_HOME").filter(|p| !p.is_empty()) {
            return Ok(Home::at(PathBuf::from(p)));
        }
        let home = std::env::var_os("HOME")
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                EngineError::internal("neither AGENTSECRETS_HOME nor HOME is set")
                    .fix("set AGENTSECRETS_HOME to a directory for the engine's data")
            })?;
        Ok(Home::at(PathBuf::from(home).join(".agentsecrets")))
    }

    pub fn at(root: impl Into<PathBuf>) -> Home {
        let root: PathBuf = root.into();
        // Relative homes would change meaning when the detached proxy changes directory.
        let root = std::path::absolute(&root).unwrap_or(root);
        Home { root }
    }

    pub fn vault_path(&self) -> PathBuf {
        self.root.join("vault.db")
    }
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }
    pub fn key_path(&self) -> PathBuf {
        self.root.join("master.key")
    }
    pub fn audit_log_path(&self) -> PathBuf {
        self.root.join("proxy.log")
    }
    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }
    pub fn socket_path(&self) -> PathBuf {
        self.run_dir().join(run_files::SOCKET)
    }
    pub fn token_path(&self) -> PathBuf {
        self.run_dir().join(run_files::TOKEN)
    }
    pub fn pid_path(&self) -> PathBuf {
        self.run_dir().join(run_files::PID)
    }
    pub fn state_path(&self) -> PathBuf {
        self.run_dir().join(run_files::STATE)
    }
    /// The detached proxy's own diagnostics (never values).
    pub fn proxy_stderr_path(&self) -> PathBuf {
        self.run_dir().join("proxy.err")
    }

    pub fn is_initialised(&self) -> bool {
        self.config_path().is_file() && self.vault_path().is_file()
    }

    /// Fails with `NOT_INITIALIZED` unless `init` ran.
    pub fn require_initialised(&self) -> Result<()> {
        if self.is_initialised() {
            Ok(())
        } else {
            Err(EngineError::not_initialized(&self.root))
        }
    }

    pub fn ensure_dirs(&self) -> Result<()> {
        ensure_private_dir(&self.root)?;
        ensure_private_dir(&self.run_dir())
    }
}

/// Below this much free space the disk counts as full: SQLite and the run
/// files need a few pages to open and write.
const FULL_BELOW_BYTES: u64 = 64 * 1024;

/// Whether the file system holding `path` (or its nearest existing
/// ancestor) has less than a few pages free for this user. `false` when it
/// cannot be told.
pub fn disk_full(path: &Path) -> bool {
    let Some(dir) = path.ancestors().find(|p| p.exists()) else {
        return false;
    };
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: a zeroed statvfs is a valid out-parameter; `c` is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return false;
    }
    // The field types differ between platforms (u32 blocks on macOS).
    #[allow(clippy::useless_conversion)]
    let free = u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize));
    free < FULL_BELOW_BYTES
}

/// Creates `dir` (and parents) with mode 0700 and tightens it if it exists.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| EngineError::home_file(&format!("cannot create {}", dir.display()), e))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| EngineError::home_file(&format!("cannot restrict {}", dir.display()), e))
}

/// Writes `bytes` to `path` atomically with mode 0600.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let ctx = |what: &str| format!("cannot {what} {}", path.display());
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| EngineError::home_file(&ctx("write"), e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| EngineError::home_file(&ctx("write"), e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        EngineError::home_file(&ctx("replace"), e)
    })
}

/// Opens `path` for appending, creating it with mode 0600.
pub fn open_private_append(path: &Path) -> Result<fs::File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| EngineError::home_file(&format!("cannot open {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_modes() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path().join("h"));
        home.ensure_dirs().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home.root), 0o700);
        assert_eq!(mode(&home.run_dir()), 0o700);
        write_private_file(&home.config_path(), b"{}").unwrap();
        assert_eq!(mode(&home.config_path()), 0o600);
        write_private_file(&home.config_path(), b"{\"a\":1}").unwrap();
        assert_eq!(fs::read(home.config_path()).unwrap(), b"{\"a\":1}");
    }
}
