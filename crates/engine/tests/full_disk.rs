//! A full disk under the home: writes say the disk is full (not "check
//! permissions"), reads keep working, and `proxy start --detach` fails with
//! that clear error instead of a panic. Needs root (a small tmpfs is mounted
//! as the home's file system); skipped with a note otherwise.

mod support;
use reqwest::Method;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use support::*;

const CANARY: &str = "canary-full-disk-5be81d02a4";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    _dir: tempfile::TempDir,
    mnt: PathBuf,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::Builder::new()
            .prefix("as-disk-")
            .tempdir()
            .unwrap();
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&mnt)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mount -t tmpfs failed");
        SmallDisk { _dir: dir, mnt }
    }

    /// Writes `name` until the disk is full.
    fn fill(&self, name: &str) {
        let mut f = std::fs::File::create(self.mnt.join(name)).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mnt).status();
    }
}

fn assert_says_disk_full(what: &str, out: &CliOutput) {
    assert!(
        out.code != 0 && out.code != 101,
        "{what}: exit {} (101 is a panic)",
        out.code
    );
    assert!(
        out.stderr.contains("disk is full") && out.stderr.contains("free space"),
        "{what} must say the disk is full and how to fix it: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("readable and writable") && !out.stderr.contains("panicked"),
        "{what}: {}",
        out.stderr
    );
    assert!(!out.stderr.contains(CANARY) && !out.stdout.contains(CANARY));
}

#[test]
fn a_full_disk_is_named_as_such_reads_keep_working_and_nothing_panics() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs for the home needs root");
        return;
    }
    let disk = SmallDisk::mount("4m");
    let home = Home::new_in(&disk.mnt);
    home.set_secret("SMALL", CANARY);
    home.allow(&["127.0.0.1"]);
    let up = Upstream::start(|_| Reply::ok("served"));
    home.start_proxy();
    disk.fill("filler");

    // A write says the disk is full.
    let big = "v".repeat(600 * 1024);
    let out = home.run_stdin(&["secrets", "set", "BIG"], &big);
    assert_says_disk_full("secrets set", &out);

    // Reads keep working.
    let out = home.run(&["secrets", "list"]).ok();
    assert!(out.stdout.contains("SMALL"), "{}", out.stdout);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("run/proxy.json")).unwrap())
            .unwrap();
    let token = std::fs::read_to_string(home.path().join("run/proxy.token")).unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, body) = rt.block_on(async {
        let r = client
            .request(
                Method::GET,
                format!("http://127.0.0.1:{}/proxy", state["port"]),
            )
            .header("X-AS-Token", token.trim())
            .header("X-AS-Target-URL", up.url("/x"))
            .header("X-AS-Inject-Bearer", "SMALL")
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(
        (status, body.as_str()),
        (200, "served"),
        "a proxied call while the disk is full"
    );

    // Starting a proxy on a full disk fails clearly, without a panic.
    home.stop_proxy();
    disk.fill("filler-2");
    let out = home.run(&["proxy", "start", "--detach", "--port", "0"]);
    assert_says_disk_full("proxy start --detach", &out);
    let out = home.run(&["--json", "proxy", "start", "--detach", "--port", "0"]);
    assert_says_disk_full("proxy start --detach --json", &out);
    let err: serde_json::Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(err["error"]["code"], "VAULT_ERROR");
}
