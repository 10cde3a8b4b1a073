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

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

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
        let mut shm = vault_path.as_os_str().to_owned();
        shm.push("-shm");
        File::open(shm).ok().map(|shm| CommitStamps { shm })
    }

    /// The stamp now; `None` when it cannot be read.
    pub fn now(&self) -> Option<Stamp> {
        let mut stamp = [0u8; STAMP_LEN];
        self.shm.read_exact_at(&mut stamp, 0).ok().map(|()| stamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn every_commit_changes_the_stamp_and_reads_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
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

    #[test]
    fn no_wal_index_no_stamps() {
        let dir = tempfile::tempdir().unwrap();
        assert!(CommitStamps::open(&dir.path().join("v.db")).is_none());
    }
}
