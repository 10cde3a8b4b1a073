//! Whether anything in the home changed since the last look.
//!
//! The proxy keeps what it resolved from the vault in memory between calls
//! and must drop it the moment another process switches the active scope
//! or replaces a file of the home (commits to the vault itself are seen by
//! their [commit stamp](crate::vault::commit_stamp)). On Linux an inotify
//! watch on the home directory tells, with one non-blocking `read` per
//! look: the kernel queues the event inside the writer's `rename` or
//! `close`, before the command returns, so a call made after a command
//! finished always sees the change.
//!
//! Elsewhere, or when the watch cannot be set up or is lost, every look
//! reports a change and the proxy reads the vault on every call.

use crate::home::Home;

/// A watch on one home directory (see the module docs).
pub struct HomeWatch {
    #[cfg(target_os = "linux")]
    inner: Option<linux::Watch>,
}

impl HomeWatch {
    /// Watches `home`; changes to `ignored` (a file name in the home that
    /// the watcher itself writes, the audit log) are not changes.
    pub fn new(home: &Home, ignored: &std::path::Path) -> HomeWatch {
        #[cfg(target_os = "linux")]
        {
            HomeWatch {
                inner: linux::Watch::new(&home.root, ignored),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (home, ignored);
            HomeWatch {}
        }
    }

    /// Whether anything but the ignored file changed since the last call
    /// (always true when that cannot be known).
    pub fn changed(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.inner.as_ref().is_none_or(linux::Watch::changed)
        }
        #[cfg(not(target_os = "linux"))]
        {
            true
        }
    }

    /// Whether looks can ever report "unchanged".
    pub fn works(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.inner.as_ref().is_some_and(|w| !w.lost())
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use rustix::fd::OwnedFd;
    use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
    use rustix::io::Errno;
    use std::ffi::OsString;
    use std::mem::MaybeUninit;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    pub struct Watch {
        /// Reads are serialised: an event must be seen by the look that
        /// drains it.
        fd: Mutex<OwnedFd>,
        ignored: OsString,
        /// The watch is gone (the directory was removed or moved, or the
        /// fd failed): from then on every look is a change.
        lost: AtomicBool,
    }

    impl Watch {
        pub fn new(dir: &Path, ignored: &Path) -> Option<Watch> {
            let fd = inotify::init(CreateFlags::NONBLOCK | CreateFlags::CLOEXEC).ok()?;
            // Not MODIFY: the audit log, appended to on every call, would
            // queue an event per call. Files are replaced by rename (the
            // config), closed after a write (an edit by hand), or, for the
            // vault itself, checked by their commit stamp.
            let mask = WatchFlags::CLOSE_WRITE
                | WatchFlags::CREATE
                | WatchFlags::DELETE
                | WatchFlags::MOVED_FROM
                | WatchFlags::MOVED_TO
                | WatchFlags::DELETE_SELF
                | WatchFlags::MOVE_SELF
                | WatchFlags::ONLYDIR;
            inotify::add_watch(&fd, dir, mask).ok()?;
            Some(Watch {
                fd: Mutex::new(fd),
                ignored: ignored.file_name()?.to_owned(),
                lost: AtomicBool::new(false),
            })
        }

        pub fn lost(&self) -> bool {
            self.lost.load(Ordering::Acquire)
        }

        pub fn changed(&self) -> bool {
            let fd = self.fd.lock().unwrap_or_else(|p| p.into_inner());
            let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
            let mut events = inotify::Reader::new(&*fd, &mut buf);
            let mut changed = false;
            loop {
                match events.next() {
                    Ok(e) => {
                        if e.events().intersects(
                            ReadFlags::IGNORED | ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF,
                        ) {
                            self.lost.store(true, Ordering::Release);
                        }
                        let name = e.file_name().map(|n| n.to_bytes());
                        changed |= name != Some(self.ignored.as_bytes());
                    }
                    Err(Errno::WOULDBLOCK) => return changed || self.lost(),
                    Err(Errno::INTR) => {}
                    Err(_) => {
                        self.lost.store(true, Ordering::Release);
                        return true;
                    }
                }
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn watched() -> (tempfile::TempDir, HomeWatch) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().to_path_buf());
        let watch = HomeWatch::new(&home, &home.audit_log_path());
        assert!(watch.works());
        (dir, watch)
    }

    #[test]
    fn a_write_is_seen_by_the_next_look_only() {
        let (dir, watch) = watched();
        assert!(!watch.changed());
        std::fs::write(dir.path().join("config.json"), b"{}").unwrap();
        assert!(watch.changed());
        assert!(!watch.changed());
    }

    #[test]
    fn appends_to_a_file_kept_open_queue_nothing() {
        use std::io::Write;
        let (dir, watch) = watched();
        let mut log = std::fs::File::create(dir.path().join("other.log")).unwrap();
        assert!(watch.changed(), "created");
        for _ in 0..3 {
            log.write_all(b"a line\n").unwrap();
            assert!(!watch.changed());
        }
    }

    #[test]
    fn the_ignored_file_is_not_a_change_but_a_rename_is() {
        let (dir, watch) = watched();
        std::fs::write(dir.path().join("proxy.log"), b"{}\n").unwrap();
        assert!(!watch.changed());
        std::fs::write(dir.path().join("config.json.tmp"), b"{}").unwrap();
        std::fs::rename(
            dir.path().join("config.json.tmp"),
            dir.path().join("config.json"),
        )
        .unwrap();
        assert!(watch.changed());
    }

    #[test]
    fn a_removed_home_is_a_change_for_ever() {
        let (dir, watch) = watched();
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists());
        assert!(watch.changed());
        assert!(watch.changed());
        assert!(!watch.works());
    }
}
