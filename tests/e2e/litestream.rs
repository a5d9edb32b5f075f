//! The real litestream on the lab: the k3s state (SQLite, kine's table, a row a second)
//! replicated from the active to the standby, judged by status from litestream's own view, and
//! handed over by `litestream restore` when the roles change.

use super::{json, lab, lab_sh, restore_n1, step, vip_holders, Lab};
use crate::common::wait_until;
use std::time::Duration;

const STATE: &str = "/var/lib/rancher/k3s/server/db/state.db";
const REPLICA: &str = "/var/lib/litestream/replica";

fn on(node: &str, cmd: &str) -> String {
    let out = lab_sh(&["ssh", node, cmd]);
    assert!(
        out.status.success(),
        "{node}: {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A query on a node's copy of a kine database (read-only).
fn kine(node: &str, db: &str, sql: &str) -> String {
    on(
        node,
        &format!(
            "python3 -c \"import sqlite3, sys; c = sqlite3.connect('file:{db}?mode=ro', uri=True); print(c.execute(sys.argv[1]).fetchone()[0])\" \"{sql}\""
        ),
    )
}

fn max_id(node: &str) -> i64 {
    kine(node, STATE, "SELECT MAX(id) FROM kine")
        .parse()
        .unwrap()
}

/// Whether the replica a node holds restores (litestream restore) to a database with row `id`.
fn replica_holds(node: &str, id: i64) -> bool {
    let out = lab_sh(&[
        "ssh",
        node,
        &format!(
            "rm -rf /tmp/e2e-restore && mkdir /tmp/e2e-restore && litestream restore -o /tmp/e2e-restore/s.db file://{REPLICA} >/dev/null 2>&1 && python3 -c \"import sqlite3; print(sqlite3.connect('/tmp/e2e-restore/s.db').execute('SELECT COUNT(*) FROM kine WHERE id = {id}').fetchone()[0])\""
        ),
    ]);
    String::from_utf8_lossy(&out.stdout).trim() == "1"
}

/// Removes a node's replica directory while litestream may be writing into it over SFTP.
fn remove_replica() -> String {
    format!("for i in 1 2 3 4 5; do rm -rf {REPLICA} 2>/dev/null && break; sleep 0.2; done; [ ! -e {REPLICA} ]")
}

/// Puts the replicas back after a test broke them (also when it failed half-way): both
/// replica directories removed, litestream restarted where it runs, so that it writes a fresh
/// snapshot. Best effort, never panics (it runs in a drop).
struct ReplicasReset;

impl Drop for ReplicasReset {
    fn drop(&mut self) {
        for n in ["n1", "n2"] {
            let _ = lab_sh(&["ssh", n, &remove_replica()]);
        }
        for n in ["n1", "n2"] {
            let _ = lab_sh(&[
                "ssh",
                n,
                "if systemctl is-active -q litestream; then systemctl restart litestream; fi",
            ]);
        }
    }
}

fn replica_check(lab: &Lab) -> serde_json::Value {
    let (_, doc) = lab.status_json(&[]);
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "replica")
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn a_healthy_replica_is_ok_by_litestreams_view() {
    let lab = lab();
    let c = replica_check(&lab);
    assert_eq!(c["node"], "n2", "{c}");
    assert_eq!(c["result"], "ok", "{c}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("litestream: replica at txid"),
        "{c}"
    );
    // The real program, on the active only, replicating a growing kine table.
    assert!(on("n1", "litestream version").starts_with("0.5"));
    assert_eq!(on("n1", "systemctl is-active litestream"), "active");
    assert_ne!(
        lab_sh(&["ssh", "n2", "systemctl is-active litestream"])
            .stdout
            .as_slice(),
        b"active\n"
    );
    let first = max_id("n1");
    assert!(wait_until(Duration::from_secs(10), || max_id("n1") > first));
    assert_eq!(kine("n1", STATE, "PRAGMA journal_mode"), "wal");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn litestream_stopped_on_the_active_fails_the_replica_check() {
    let lab = lab();
    on("n1", "systemctl stop litestream");
    let failed = wait_until(Duration::from_secs(30 + 10), || {
        replica_check(&lab)["result"] == "fail"
    });
    let c = replica_check(&lab);
    // swap refuses while the replica is not fresh.
    let swap = lab.pairctl(&["swap", "--dry-run", "-o", "json"]);
    on("n1", "systemctl start litestream");
    assert!(failed, "replication stopped and the replica check says {c}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("litestream not running"),
        "{c}"
    );
    assert_eq!(
        swap.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&swap.stdout)
    );
    lab.wait_healthy();
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn swap_hands_the_state_over_and_replication_turns_around() {
    let lab = lab();
    let out = lab.pairctl(&["swap", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    // The old active stopped k3s, then litestream (a final sync): its last row is the last
    // row it will ever write, and the new active's database must hold it.
    let last = max_id("n1");
    let same = |node| {
        kine(
            node,
            STATE,
            &format!("SELECT hex(value) FROM kine WHERE id = {last}"),
        )
    };
    assert_eq!(
        same("n2"),
        same("n1"),
        "row {last} differs or is missing on n2"
    );
    let restored = step(&doc, "k3s state from the replica");
    assert_eq!(restored["ok"], true, "{restored}");
    assert!(
        restored["detail"]
            .as_str()
            .unwrap()
            .contains("restored the replica"),
        "{restored}"
    );
    // Replication now runs n2 → n1: litestream on n2 only, n1's replica holds n2's new rows.
    assert_eq!(on("n2", "systemctl is-active litestream"), "active");
    assert!(lab_sh(&["ssh", "n1", "pgrep -x litestream"]).status.code() == Some(1));
    let now = max_id("n2");
    assert!(now >= last);
    assert!(
        wait_until(Duration::from_secs(20), || replica_holds("n1", now)),
        "n1's replica never held n2's row {now}"
    );
    let c = replica_check(&lab);
    assert_eq!(
        (c["node"].as_str(), c["result"].as_str()),
        (Some("n1"), Some("ok")),
        "{c}"
    );
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn failover_with_the_active_powered_off_starts_k3s_from_the_restored_state() {
    let lab = lab();
    let id = max_id("n1");
    assert!(
        wait_until(Duration::from_secs(20), || replica_holds("n2", id)),
        "n2's replica never held n1's row {id}"
    );
    {
        let _f = lab.fault("n1", &["power"]);
        let out = lab.pairctl(&["failover", "--yes", "-o", "json"]);
        let doc = json(&out);
        assert_eq!(out.status.code(), Some(0), "{doc:#}");
        assert_eq!(vip_holders(&lab), ["n2"]);
        let restored = step(&doc, "k3s state from the replica");
        assert!(
            restored["detail"]
                .as_str()
                .unwrap()
                .contains("restored the replica"),
            "{restored}"
        );
        assert_eq!(
            kine(
                "n2",
                STATE,
                &format!("SELECT COUNT(*) FROM kine WHERE id = {id}")
            ),
            "1",
            "k3s on n2 started without n1's row {id}"
        );
        // k3s writes on from there (its first write follows the API's start: polled).
        assert!(
            wait_until(Duration::from_secs(20), || max_id("n2") > id),
            "k3s on n2 never wrote past n1's row {id}"
        );
    }
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn a_broken_replica_refuses_swap_and_failover_says_what_it_restored() {
    let lab = lab();
    let _reset = ReplicasReset;
    // Corrupt every LTX file the standby holds: listing it still works, restoring does not.
    on(
        "n2",
        &format!("for f in {REPLICA}/ltx/*/*.ltx; do head -c 64 /dev/urandom | dd of=$f bs=1 seek=120 conv=notrunc 2>/dev/null; done"),
    );
    let out = lab.pairctl(&["swap", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(3), "{doc:#}");
    let pre = doc["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "replica-fresh")
        .unwrap();
    assert_eq!(pre["ok"], false, "{pre}");
    assert!(
        pre["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be restored"),
        "{pre}"
    );
    assert_eq!(vip_holders(&lab), ["n1"]);

    // A missing replica: the same refusal (litestream keeps writing new LTX files, the
    // snapshot they follow is gone).
    on("n2", &remove_replica());
    let out = lab.pairctl(&["swap", "--yes", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // failover goes ahead (the operator's call) and says what k3s started from.
    let out = lab.pairctl(&["failover", "--yes", "-o", "json"]);
    let doc = json(&out);
    let restored = step(&doc, "k3s state from the replica");
    let detail = restored["detail"].as_str().unwrap();
    assert!(
        detail.contains("no restore") && detail.contains("local database"),
        "{restored}"
    );
    // Back (n1 rejoined, then a swap): k3s on n1 starts from the newer of its own database
    // and n2's replica — n2 ran k3s meanwhile, so that is normally the replica.
    restore_n1(&lab);
    let record: serde_json::Value =
        serde_json::from_str(&on("n1", "cat /run/pairctl/state-restore.json")).unwrap();
    match record["action"].as_str() {
        Some("restored") => assert!(
            record["kine_revision"].as_i64() >= record["local_revision"].as_i64(),
            "{record}"
        ),
        Some("kept-local") => {}
        _ => panic!("{record}"),
    }
}
