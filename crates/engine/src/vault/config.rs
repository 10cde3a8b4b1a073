//! The active workspace/project, kept in `config.json` in the home.
//!
//! The proxy asks for the active scope on every request, so the parsed file
//! is cached and re-read only when its inode, size, mtime or ctime change
//! (every write is an atomic rename, which gives a new inode), and at least
//! once a second in case two writes land within one timestamp tick.

use crate::error::{EngineError, Result};
use crate::home::{self, Home};
use serde::{Deserialize, Serialize};
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub workspace: String,
    pub project: String,
}

pub fn write(home: &Home, config: &Config) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(config).expect("config serialises");
    json.push(b'\n');
    home::write_private_file(&home.config_path(), &json)
}

/// Reads the config; `None` when the file does not exist.
pub fn read(home: &Home) -> Result<Option<Config>> {
    let path = home.config_path();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(EngineError::home_file(
                &format!("cannot read {}", path.display()),
                e,
            ))
        }
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        EngineError::home_file(&format!("{} is not valid", path.display()), e).fix(
            "select the scope again with `agentsecrets workspace switch NAME` and `agentsecrets project use NAME`",
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

const MAX_AGE: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct ConfigCache {
    cached: Mutex<Option<(Stamp, Instant, Config)>>,
}

impl ConfigCache {
    pub fn get(&self, home: &Home) -> Result<Option<Config>> {
        let meta = match std::fs::metadata(home.config_path()) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(EngineError::home_file("cannot read the config", e)),
        };
        let stamp = Stamp {
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        };
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, at, c)) = cached.as_ref() {
            if *s == stamp && at.elapsed() < MAX_AGE {
                return Ok(Some(c.clone()));
            }
        }
        let config = read(home)?;
        *cached = config.clone().map(|c| (stamp, Instant::now(), c));
        Ok(config)
    }

    /// Forgets the cached config (after this process wrote it).
    pub fn invalidate(&self) {
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_sees_every_write() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        let cache = ConfigCache::default();
        assert_eq!(cache.get(&home).unwrap(), None);
        for i in 0..50 {
            let c = Config {
                workspace: format!("w{}", i % 7),
                project: format!("p{}", i % 3),
            };
            write(&home, &c).unwrap();
            assert_eq!(cache.get(&home).unwrap(), Some(c.clone()));
            assert_eq!(cache.get(&home).unwrap(), Some(c));
        }
    }

    #[test]
    fn invalid_config_is_a_vault_error_with_fix() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        std::fs::write(home.config_path(), b"{").unwrap();
        let e = read(&home).unwrap_err();
        assert!(e.fix.unwrap().contains("workspace switch"));
    }
}
