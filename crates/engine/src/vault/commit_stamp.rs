//! The vault's commit stamp: the first copy of SQLite's WAL-index header,
//! the first 48 bytes of `vault.db-shm` (SQLite file format, "WAL-Index
//! Format"). Every commit rewrites it (change counter, frame count,
//! checksums), and a commit becomes visible to readers only once it is
//! written there. So a stamp equal to one taken before a read means nothing
//! was committed since that read: one `pread`, no lock.
//!
//! A file-change event alone cannot tell that: a commit writes its WAL
//! frames (the event) before it makes them visible, so a read in between
//! still sees the old state.
//!
//! The descriptor stays open while the path names the same file. Closing
//! any descriptor of a file drops every POSIX lock the process holds on it,
//! SQLite's own included: the engine's vault connection would lose its lock
//! on the WAL index, and the next `secrets set` in another process would
//! take the index as unused, truncate it under the engine's mapping (a
//! SIGBUS in the engine) and rebuild it under the engine's reads.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The header copy readers check first.
const STAMP_LEN: usize = 48;

pub type Stamp = [u8; STAMP_LEN];

pub struct CommitStamps {
    shm: File,
}

impl CommitStamps {
    /// Stamps of the vault at `vault_path`; `None` when its WAL index is
    /// missing (nothing can then be known).
    pub fn open(vault_path: &Path) -> Option<CommitStamps> {
        File::open(shm_path(vault_path))
            .ok()
            .map(|shm| CommitStamps { shm })
    }

    /// After a change to the home: `kept` while the WAL index is the same
    /// file, else the new one. The old descriptor is closed only once the
    /// path names another file (see the module's note on locks).
    pub fn reopen(kept: Option<CommitStamps>, vault_path: &Path) -> Option<CommitStamps> {
        if let Some(k) = &kept {
            let now = std::fs::metadata(shm_path(vault_path));
            let same = match (k.shm.metadata(), now) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            };
            if same {
                return kept;
            }
        }
        drop(kept);
        CommitStamps::open(vault_path)
    }

    /// The stamp now; `None` when it cannot be read.
    pub fn now(&self) -> Option<Stamp> {
        let mut stamp = [0u8; STAMP_LEN];
        self.shm.read_exact_at(&mut stamp, 0).ok().map(|()| stamp)
    }
}

fn shm_path(vault_path: &Path) -> PathBuf {
    let mut shm = vault_path.as_os_str().to_owned();
    shm.push("-shm");
    PathBuf::from(shm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// A new WAL database with one table, and its open connection.
    fn wal_db(dir: &Path) -> (PathBuf, Connection) {
        let path = dir.join("v.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
        (path, conn)
    }

    #[test]
    fn every_commit_changes_the_stamp_and_reads_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let (path, conn) = wal_db(dir.path());
        let stamps = CommitStamps::open(&path).unwrap();
        let mut last = stamps.now().unwrap();
        for i in 0..5 {
            conn.execute("INSERT INTO t VALUES (?1)", [i]).unwrap();
            let now = stamps.now().unwrap();
            assert_ne!(now, last, "commit {i}");
            last = now;
            let _: i64 = conn
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(stamps.now().unwrap(), last, "a read after commit {i}");
        }
        // A checkpoint that restarts the WAL changes it too.
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        conn.execute("INSERT INTO t VALUES (9)", []).unwrap();
        assert_ne!(stamps.now().unwrap(), last);
    }

    /// Whether some lock is held on the WAL index's DMS byte (SQLite's
    /// "a connection is using it" lock, byte 128), asked through `probe`,
    /// a descriptor of the index kept open for the whole test: an
    /// open-file-description query sees this process's own POSIX locks.
    #[cfg(target_os = "linux")]
    fn dms_locked(probe: &File) -> bool {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain F_OFD_GETLK query on an open descriptor, with a
        // zeroed `flock` whose fields are set below.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as libc::c_short;
        lock.l_whence = libc::SEEK_SET as libc::c_short;
        lock.l_start = 128;
        lock.l_len = 1;
        let rc = unsafe { libc::fcntl(probe.as_raw_fd(), libc::F_OFD_GETLK, &mut lock) };
        assert_eq!(rc, 0, "F_OFD_GETLK: {}", std::io::Error::last_os_error());
        lock.l_type != libc::F_UNLCK as libc::c_short
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reopening_keeps_the_vault_connections_lock_on_the_wal_index() {
        let dir = tempfile::tempdir().unwrap();
        let (path, conn) = wal_db(dir.path());
        let probe = File::open(shm_path(&path)).unwrap();
        assert!(dms_locked(&probe), "the open connection holds its lock");
        let mut stamps = CommitStamps::open(&path);
        for _ in 0..3 {
            stamps = CommitStamps::reopen(stamps, &path);
            assert!(stamps.is_some());
            assert!(dms_locked(&probe), "a reopen dropped the connection's lock");
        }
        // Another file at the path: the stamps follow it.
        let old = stamps.as_ref().unwrap().shm.metadata().unwrap().ino();
        drop(conn);
        drop(probe);
        std::fs::remove_file(shm_path(&path)).ok();
        let conn = Connection::open(&path).unwrap();
        conn.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let stamps = CommitStamps::reopen(stamps, &path).unwrap();
        assert_ne!(stamps.shm.metadata().unwrap().ino(), old);
    }

    #[test]
    fn no_wal_index_no_stamps() {
        let dir = tempfile::tempdir().unwrap();
        assert!(CommitStamps::open(&dir.path().join("v.db")).is_none());
    }
}
