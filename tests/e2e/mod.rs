//! End to end on the two-node lab (tests/lab/). These tests are ignored in a plain
//! `cargo test`: `tests/run.sh` brings the lab up once, exports its environment
//! (`eval "$(tests/lab/lab.sh env)"`) and runs them with `--include-ignored`.
//! The lab is one shared thing: every test holds the lab lock for its whole run, puts its
//! fault back with `heal` (also when it fails) and waits for the cluster to be healthy again.
#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr)]

mod deploy;
mod litestream;
mod maintenance;
mod monitoring;
mod quorum;
mod rejoin;
mod role_change;
mod snapshot;
mod ssh;
mod status;
mod witness;

use crate::common::{pairctl, repo_root, wait_until};
use std::fs::File;
use std::process::{Command, Output};
use std::time::Duration;

/// One lock per lab instance (`PAIRLAB_ID`, see tests/lab/README.md).
fn lock_path() -> String {
    match std::env::var("PAIRLAB_ID")
        .ok()
        .filter(|id| !id.is_empty() && id != "0")
    {
        Some(id) => format!("/run/pairctl-lab{id}.lock"),
        None => "/run/pairctl-lab.lock".to_string(),
    }
}

pub struct Lab {
    pub config: String,
    pub vip: String,
    _lock: File,
}

/// The lab is one shared thing: whoever uses it holds this lock (benches take it too).
pub fn lock_lab() -> File {
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path())
        .unwrap();
    lock.lock().unwrap();
    lock
}

/// Takes the lab lock and reads the lab's environment; panics with how to run these tests
/// when the lab is not up.
pub fn lab() -> Lab {
    let config = std::env::var("LAB_CONFIG").expect(
        "LAB_CONFIG is not set: run the lab tests through tests/run.sh (it brings the lab up)",
    );
    let vip = std::env::var("LAB_VIP").unwrap();
    let lab = Lab {
        config,
        vip,
        _lock: lock_lab(),
    };
    // Every test starts from the lab's normal shape, whatever the one before it left.
    restore_n1(&lab);
    lab
}

pub fn lab_sh(args: &[&str]) -> Output {
    Command::new(repo_root().join("tests/lab/lab.sh"))
        .args(args)
        .output()
        .unwrap()
}

/// What a failed `lab.sh` run left to go on: how it ended (an exit code, or the signal that
/// killed it, which leaves stderr empty) and the ends of both streams.
pub fn lab_failure(args: &[&str], out: &Output) -> String {
    use std::os::unix::process::ExitStatusExt;
    let ended = match (out.status.code(), out.status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "ended".to_string(),
    };
    let tail = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    };
    format!(
        "lab.sh {} failed ({ended})\n--- stdout (end) ---\n{}\n--- stderr (end) ---\n{}",
        args.join(" "),
        tail(&out.stdout),
        tail(&out.stderr)
    )
}

impl Lab {
    pub fn pairctl(&self, args: &[&str]) -> Output {
        pairctl()
            .args(["-c", &self.config])
            .args(args)
            .output()
            .unwrap()
    }

    pub fn status_json(&self, extra: &[&str]) -> (i32, serde_json::Value) {
        let mut args = vec!["status", "-o", "json"];
        args.extend_from_slice(extra);
        let out = self.pairctl(&args);
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "status -o json is not one JSON document ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (out.status.code().unwrap_or(-1), doc)
    }

    pub fn wait_healthy(&self) {
        if !self.healthy_within(Duration::from_secs(120)) {
            self.not_healthy();
        }
    }

    fn not_healthy(&self) -> ! {
        let out = self.pairctl(&["status"]);
        panic!(
            "the lab did not become healthy:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    fn healthy_within(&self, limit: Duration) -> bool {
        wait_until(limit, || self.healthy())
    }

    fn healthy(&self) -> bool {
        self.pairctl(&["status", "-q"]).status.success()
    }

    /// Injects a fault; it is healed (and health awaited) when the guard drops.
    pub fn fault<'a>(&'a self, node: &'a str, kind: &'a [&'a str]) -> Fault<'a> {
        let mut args = vec!["fault", node];
        args.extend_from_slice(kind);
        let out = lab_sh(&args);
        assert!(out.status.success(), "{}", lab_failure(&args, &out));
        Fault {
            lab: self,
            node,
            kind,
        }
    }
}

pub struct Fault<'a> {
    lab: &'a Lab,
    node: &'a str,
    kind: &'a [&'a str],
}

impl Drop for Fault<'_> {
    fn drop(&mut self) {
        let mut args = vec!["heal", self.node];
        args.extend_from_slice(self.kind);
        let out = lab_sh(&args);
        if !out.status.success() {
            eprintln!("{}", lab_failure(&args, &out));
        }
        // A node that was failed over comes back fenced, by design: health waits for its
        // rejoin (the test's own, or the next test's `lab()`). It fences itself at its first
        // Galera check after it rejoined the cluster, which may follow the heal by a second:
        // the wait ends on health or on a fence, whichever comes.
        if !std::thread::panicking() {
            let settled = wait_until(Duration::from_secs(120), || {
                self.lab.healthy() || !fenced().is_empty()
            });
            if !settled {
                self.lab.not_healthy();
            }
        }
    }
}

/// The one JSON document a command printed (its stdout and stderr in the panic otherwise).
pub fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Finds an executed step of an operation report by its action.
pub fn step<'a>(doc: &'a serde_json::Value, action: &str) -> &'a serde_json::Value {
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == action)
        .unwrap_or_else(|| panic!("no step {action:?}: {doc:#}"))
}

/// Finds a check by name and node in a status JSON document.
pub fn check<'a>(doc: &'a serde_json::Value, name: &str, node: &str) -> &'a serde_json::Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name && c["node"] == node)
        .unwrap_or_else(|| panic!("no check {name} on {node}: {doc:#}"))
}

/// Polls status until `pred` holds for the JSON document; returns the last (code, doc).
pub fn status_until(
    lab: &Lab,
    limit: Duration,
    pred: impl Fn(i32, &serde_json::Value) -> bool,
) -> (i32, serde_json::Value) {
    let mut last = None;
    let ok = wait_until(limit, || {
        let (code, doc) = lab.status_json(&[]);
        let hit = pred(code, &doc);
        last = Some((code, doc));
        hit
    });
    let (code, doc) = last.unwrap();
    assert!(
        ok,
        "status never reached the expected state; last exit {code}: {doc:#}"
    );
    (code, doc)
}

pub fn vip_holders(lab: &Lab) -> Vec<&'static str> {
    ["n1", "n2"]
        .into_iter()
        .filter(|n| {
            let out = lab_sh(&["ssh", n, "ip -4 -o addr show"]);
            out.status.success()
                && String::from_utf8_lossy(&out.stdout).contains(&format!(" {}/", lab.vip))
        })
        .collect()
}

/// Puts the lab back in its normal shape — no node fenced, n1 the active — and waits for
/// health: a fenced node is rejoined by hand (`lab.sh rejoin`), then a swap moves the roles.
/// A lab that does not become healthy even so (a test before this one, or its clean-up, failed
/// half-way) is built again (`lab.sh up`, with the witness in the witness phase), so that one
/// failure stays one failure.
pub fn restore_n1(lab: &Lab) {
    for node in fenced() {
        // Its failure shows as the health below, which then builds the lab again.
        let out = lab_sh(&["rejoin", node]);
        if !out.status.success() {
            eprintln!("{}", lab_failure(&["rejoin", node], &out));
        }
    }
    if !lab.healthy_within(Duration::from_secs(120)) {
        let status = lab.pairctl(&["status", "--color", "never"]);
        eprintln!(
            "the lab is not healthy; building it again (lab.sh up):\n{}",
            String::from_utf8_lossy(&status.stdout)
        );
        let mut up = vec!["up"];
        if std::env::var_os("LAB_W").is_some() {
            up.push("--witness");
        }
        let out = lab_sh(&up);
        assert!(out.status.success(), "{}", lab_failure(&up, &out));
    }
    lab.wait_healthy();
    if vip_holders(lab) != ["n1"] {
        // A swap refused on a precondition still settling (exit 3: nothing changed), such as
        // the trial restore of a replica rebuilt by the rejoin just now on a loaded machine,
        // is asked again until the deadline; anything else ends the asking.
        let mut last = None;
        crate::common::wait_until(Duration::from_secs(90), || {
            let out = lab.pairctl(&["swap", "--yes"]);
            let refused = out.status.code() == Some(3);
            last = Some(out);
            !refused
        });
        let out = last.expect("the swap was asked at least once");
        assert_eq!(
            out.status.code(),
            Some(0),
            "swap back to n1 failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        lab.wait_healthy();
    }
    assert_eq!(vip_holders(lab), ["n1"]);
}

/// The nodes that hold a fence (`/etc/pairctl/fenced`: a failover moved away from them).
pub fn fenced() -> Vec<&'static str> {
    ["n1", "n2"]
        .into_iter()
        .filter(|n| {
            lab_sh(&["ssh", n, "test -e /etc/pairctl/fenced"])
                .status
                .success()
        })
        .collect()
}

/// The rejoin of a fenced node, by hand (`lab.sh rejoin`), so that tests of other features do
/// not depend on `pairctl rejoin` (tests/e2e/rejoin.rs tests that).
pub fn rejoin_by_hand(lab: &Lab, node: &str) {
    let out = lab_sh(&["rejoin", node]);
    assert!(
        out.status.success(),
        "lab.sh rejoin {node}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lab.wait_healthy();
}
