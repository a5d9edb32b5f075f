//! Maintenance mode on the lab: in force before the command returns, shown with its reason,
//! blocking role changes, ended by the nodes themselves at its expiry, and a node maintenance
//! that keeps the loss of that node from reading as critical. Node state is read through
//! `lab.sh ssh`, independently of pairctl.

use super::{lab, lab_sh, vip_holders, Lab};
use crate::common::wait_until;
use std::time::Duration;

const RECORD: &str = "/var/lib/pairctl/maintenance.json";

/// A maintenance in force on the node: a record that is not the ended one `off` leaves
/// behind (an earlier test's `off` may have left one).
fn in_force(node: &str) -> bool {
    lab_sh(&[
        "ssh",
        node,
        &format!("test -e {RECORD} && ! grep -q '\"ended\"' {RECORD}"),
    ])
    .status
    .success()
}

/// What the node holds: the record `maintenance on` wrote, or the ended one `off` leaves.
fn record(node: &str) -> String {
    String::from_utf8_lossy(&lab_sh(&["ssh", node, &format!("cat {RECORD}")]).stdout).into_owned()
}

fn node_history(node: &str) -> String {
    String::from_utf8_lossy(&lab_sh(&["ssh", node, "cat /var/lib/pairctl/history.jsonl"]).stdout)
        .into_owned()
}

fn off(lab: &Lab) {
    let out = lab.pairctl(&["maintenance", "off", "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "maintenance off: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn cluster_maintenance_blocks_swaps_and_expires_on_the_nodes() {
    let lab = lab();
    let out = lab.pairctl(&[
        "maintenance",
        "on",
        "--reason",
        "kernel update",
        "--for",
        "10s",
        "--yes",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "maintenance on: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // In force before the command returned: on both nodes, without waiting.
    assert!(in_force("n1") && in_force("n2"));

    let (code, doc) = lab.status_json(&[]);
    assert_eq!(code, 1, "status in maintenance: {doc:#}");
    assert_eq!(doc["maintenance"]["scope"], "cluster");
    assert_eq!(doc["maintenance"]["reason"], "kernel update");
    let table = lab.pairctl(&["status", "--color", "never"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("kernel update"));

    let swap = lab.pairctl(&["swap", "--yes", "-o", "json"]);
    assert_eq!(swap.status.code(), Some(3), "swap during maintenance");
    let doc: serde_json::Value = serde_json::from_slice(&swap.stdout).unwrap();
    assert!(
        doc["summary"].as_str().unwrap().contains("maintenance"),
        "{doc:#}"
    );
    assert_eq!(vip_holders(&lab), ["n1"]);

    // The nodes end it by themselves: no pairctl runs while it expires.
    assert!(
        wait_until(Duration::from_secs(40), || !in_force("n1")
            && !in_force("n2")),
        "the maintenance record outlived its expiry on the nodes"
    );
    for n in ["n1", "n2"] {
        let h = node_history(n);
        assert!(h.contains("\"maintenance-on\""), "{n}: {h}");
        assert!(h.contains("\"maintenance-expired\""), "{n}: {h}");
    }
    lab.wait_healthy();
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn off_ends_it_and_the_active_needs_force() {
    let lab = lab();
    let out = lab.pairctl(&[
        "maintenance",
        "on",
        "--node",
        "n1",
        "--reason",
        "x",
        "--yes",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "node maintenance of the active without --force"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("active"));
    assert!(!in_force("n1") && !in_force("n2"));

    let out = lab.pairctl(&["maintenance", "on", "--reason", "patching", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(lab.status_json(&[]).0, 1);
    off(&lab);
    for n in ["n1", "n2"] {
        assert!(record(n).contains("\"ended\""), "{n}: {}", record(n));
    }
    assert!(node_history("n1").contains("\"maintenance-off\""));
    lab.wait_healthy();
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn the_standby_down_under_node_maintenance_and_back_after_off() {
    let lab = lab();
    let out = lab.pairctl(&[
        "maintenance",
        "on",
        "--node",
        "n2",
        "--reason",
        "disk swap",
        "--yes",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let power = lab.fault("n2", &["power"]);

    // Its absence is explained: degraded (not critical), with the reason, on n2's checks.
    let (code, doc) = super::status_until(&lab, Duration::from_secs(60), |_, d| {
        super::check(d, "ssh", "n2")["result"] != "ok"
    });
    assert_eq!(
        code, 1,
        "a maintained standby's absence is degraded: {doc:#}"
    );
    assert_eq!(doc["maintenance"]["node"], "n2", "{doc:#}");
    let ssh = super::check(&doc, "ssh", "n2");
    assert!(
        ssh["detail"].as_str().unwrap().contains("disk swap"),
        "{ssh}"
    );

    // Not a failover target while it is maintained (and down).
    let out = lab.pairctl(&["failover", "--yes", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(vip_holders(&lab), ["n1"]);

    // Ended while n2 is away: n1 holds the ended record, n2 still its live copy.
    let out = lab.pairctl(&["maintenance", "off", "--yes", "-o", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("n2 does not answer"),
        "{report:#}"
    );
    drop(power); // n2 back, and health awaited: its stale copy does not put it back in force
    assert!(record("n2").contains("disk swap") && !record("n2").contains("\"ended\""));
    let (code, doc) = lab.status_json(&[]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(doc["maintenance"].is_null(), "{doc:#}");

    // Were n1 lost now, n2's copy alone would read as in force: `off` clears it.
    let out = lab.pairctl(&["maintenance", "off", "--yes", "-o", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert!(
        report["summary"]
            .as_str()
            .unwrap()
            .contains("cleared the stale copy on n2"),
        "{report:#}"
    );
    assert!(record("n2").contains("\"ended\""), "{}", record("n2"));
}
