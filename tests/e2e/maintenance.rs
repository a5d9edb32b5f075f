//! Maintenance mode on the lab: in force before the command returns, shown with its reason,
//! blocking role changes, ended by the nodes themselves at its expiry, and a node maintenance
//! that keeps the loss of that node from reading as critical. Node state is read through
//! `lab.sh ssh`, independently of pairctl.

use super::{lab, lab_sh, vip_holders, Lab};
use crate::common::wait_until;
use std::time::Duration;

const RECORD: &str = "/var/lib/pairctl/maintenance.json";

fn holds_record(node: &str) -> bool {
    lab_sh(&["ssh", node, &format!("test -e {RECORD}")])
        .status
        .success()
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
    assert!(holds_record("n1") && holds_record("n2"));

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
        wait_until(Duration::from_secs(40), || !holds_record("n1")
            && !holds_record("n2")),
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
    assert!(!holds_record("n1") && !holds_record("n2"));

    let out = lab.pairctl(&["maintenance", "on", "--reason", "patching", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(lab.status_json(&[]).0, 1);
    off(&lab);
    assert!(!holds_record("n1") && !holds_record("n2"));
    assert!(node_history("n1").contains("\"maintenance-off\""));
    lab.wait_healthy();
}
