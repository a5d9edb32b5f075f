//! `pairctl rejoin` on the lab: after a failover with the active powered off the old active
//! comes back fenced, the dry run predicts IST and changes nothing, the rejoin makes it a
//! healthy standby and a swap fails back, with every acknowledged write on both nodes; a node
//! that ran as primary after the split is refused, then copied whole with
//! `--discard-divergent`; a Gluster split-brain file is refused by name. An application writes
//! through the VIP all along (`quorum::Writer`). Timings are printed, never asserted on.

use super::quorum::{missing_on, Writer};
use super::{lab, lab_failure, lab_sh, status_until, step, vip_holders, Lab};
use crate::common::wait_until;
use std::time::{Duration, Instant};

fn on(node: &str, cmd: &str) -> String {
    let out = lab_sh(&["ssh", node, cmd]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn ok(args: &[&str]) {
    let out = lab_sh(args);
    assert!(out.status.success(), "{}", lab_failure(args, &out));
}

/// `pairctl ARGS -o json`: the exit code and the document.
fn run(lab: &Lab, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-o", "json"]);
    let out = lab.pairctl(&all);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not one JSON document ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

fn precondition<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no precondition {name}: {doc:#}"))
}

fn node_ip(n: &str) -> String {
    std::env::var(if n == "n1" { "LAB_N1" } else { "LAB_N2" }).unwrap()
}

fn all_present(ids: &[i64], what: &str) {
    assert!(!ids.is_empty(), "{what}: no INSERT acknowledged");
    for n in ["n1", "n2"] {
        let missing = missing_on(&node_ip(n), ids);
        assert!(
            missing.is_empty(),
            "{what}: {} of {} acknowledged writes missing on {n}: {:?}",
            missing.len(),
            ids.len(),
            &missing[..missing.len().min(5)]
        );
    }
    eprintln!(
        "[rejoin] {what}: {} writes acknowledged, none missing on n1 and n2",
        ids.len()
    );
}

/// What a dry run must not change on the returning node.
fn node_state(node: &str) -> String {
    on(
        node,
        "systemctl is-active mariadb; cat /etc/pairctl/role /etc/pairctl/epoch; test -e /etc/pairctl/fenced && echo fenced; ls /var/lib/rancher/k3s/server/db/ /var/lib/pairctl/archive 2>/dev/null",
    )
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn after_a_failover_the_old_active_rejoins_by_ist_and_a_swap_fails_back() {
    let lab = lab();
    let writer = Writer::start(&lab.vip);
    ok(&["fault", "n1", "power"]);
    let (code, doc) = run(&lab, &["failover", "--yes"]);
    assert_eq!(code, 0, "{doc:#}");
    ok(&["heal", "n1", "power"]);
    let (_, status) = status_until(&lab, Duration::from_secs(60), |_, d| {
        d["nodes"][0]["role"] == "fenced"
    });
    assert_eq!(status["active"], "n2");
    // As on a real node, whose database is not started at boot (the lab's heal starts it).
    on("n1", "systemctl stop mariadb");
    let before = node_state("n1");

    let (code, dry) = run(&lab, &["rejoin", "n1", "--dry-run"]);
    assert_eq!((code, &dry["outcome"]), (0, &"planned".into()), "{dry:#}");
    let galera = &dry["divergence"]["galera"];
    assert_eq!(galera["transfer"]["kind"], "ist", "{dry:#}");
    assert_eq!(galera["divergent"], 0, "{dry:#}");
    // n1 fenced itself after its database joined n2's component (the lab's heal starts it):
    // its history since is n2's, so the fork point the failover recorded is not used.
    assert!(galera["fork_seqno"].is_null(), "{dry:#}");
    assert_eq!(node_state("n1"), before, "the dry run changed n1");

    let t0 = Instant::now();
    let (code, done) = run(&lab, &["rejoin", "n1", "--yes"]);
    eprintln!("[rejoin] IST rejoin: {} ms", t0.elapsed().as_millis());
    assert_eq!(
        (code, &done["outcome"]),
        (0, &"verified".into()),
        "{done:#}"
    );
    let db = step(&done, "database: IST");
    assert!(
        db["detail"].as_str().unwrap().contains("IST received"),
        "the dry run said IST; the journal says: {db}"
    );
    assert!(
        step(&done, "archive the k3s state")["detail"]
            .as_str()
            .unwrap()
            .contains("/var/lib/pairctl/archive/k3s-state-"),
        "{done:#}"
    );
    let (code, status) = lab.status_json(&[]);
    assert_eq!((code, &status["active"]), (0, &"n2".into()), "{status:#}");
    assert_eq!(status["nodes"][0]["role"], "standby");
    assert!(on("n1", "test -e /etc/pairctl/fenced || echo gone") == "gone");
    let history = lab.pairctl(&["history", "-o", "json"]);
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    let changes = history["changes"].as_array().unwrap();
    let failover = changes
        .iter()
        .rev()
        .find(|c| c["kind"] == "failover")
        .unwrap();
    assert!(
        failover["galera_seqno"].is_u64(),
        "no fork point recorded: {failover}"
    );
    let last = changes.last().unwrap().clone();
    assert_eq!(
        (&last["kind"], &last["outcome"], &last["to"]),
        (&"rejoin".into(), &"verified".into(), &"n1".into())
    );

    let (code, swap) = run(&lab, &["swap", "--yes"]);
    assert_eq!(code, 0, "swap back after the rejoin: {swap:#}");
    assert_eq!(vip_holders(&lab), ["n1"]);
    all_present(&writer.stop().ids, "failover, rejoin by IST, swap back");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn a_node_that_ran_as_primary_after_the_split_is_refused_then_copied_whole() {
    let lab = lab();
    let writer = Writer::start(&lab.vip);
    ok(&["fault", "n1", "partition"]);
    assert!(
        wait_until(Duration::from_secs(30), || on(
            "n2",
            "mariadb -N -B -e \"SHOW STATUS LIKE 'wsrep_cluster_status'\" | cut -f2"
        ) == "non-Primary"),
        "n2 did not lose quorum in the partition"
    );
    // n1 keeps taking writes n2 never gets; the operator fails over anyway.
    let before = writer.count();
    assert!(wait_until(Duration::from_secs(20), || writer.count() > before + 5));
    let (code, doc) = run(&lab, &["failover", "--yes", "--force"]);
    assert_eq!(code, 0, "{doc:#}");
    drop(writer.stop());
    let writer = Writer::start(&lab.vip);
    ok(&["heal", "n1", "partition"]);
    assert_eq!(on("n1", "systemctl is-active mariadb"), "inactive");

    let (code, refused) = run(&lab, &["rejoin", "n1", "--yes"]);
    assert_eq!(code, 3, "{refused:#}");
    let p = precondition(&refused, "divergent-writes");
    assert_eq!(p["ok"], false, "{p}");
    let divergent = refused["divergence"]["galera"]["divergent"]
        .as_u64()
        .unwrap();
    assert!(divergent > 0, "{refused:#}");
    assert_eq!(
        on(
            "n1",
            "systemctl is-active mariadb; test -e /etc/pairctl/fenced && echo fenced"
        ),
        "inactive\nfenced",
        "a refusal changed n1"
    );

    let t0 = Instant::now();
    let (code, done) = run(&lab, &["rejoin", "n1", "--yes", "--discard-divergent"]);
    eprintln!(
        "[rejoin] SST rejoin ({divergent} divergent writes discarded): {} ms",
        t0.elapsed().as_millis()
    );
    assert_eq!(
        (code, &done["outcome"]),
        (0, &"verified".into()),
        "{done:#}"
    );
    assert_eq!(done["divergence"]["galera"]["transfer"]["kind"], "sst");
    let db = step(&done, "database: SST");
    assert!(
        db["detail"].as_str().unwrap().contains("SST received"),
        "{db}"
    );
    assert_eq!(vip_holders(&lab), ["n2"]);
    all_present(&writer.stop().ids, "writes after the forced failover");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn a_gluster_split_brain_file_is_refused_by_name() {
    let lab = lab();
    // Each brick blames the other for the same file (AFR changelogs) and both index it: the
    // shape a split brain leaves, without waiting for one.
    on("n1", "echo one > /mnt/shared/rejoin-sb && sync");
    assert!(wait_until(Duration::from_secs(10), || on(
        "n2",
        "test -e /srv/bricks/shared/rejoin-sb && echo y"
    ) == "y"));
    for (node, blamed) in [("n1", 1), ("n2", 0)] {
        on(
            node,
            &format!(
                "f=/srv/bricks/shared/rejoin-sb; d=/srv/bricks/shared/.glusterfs/indices/xattrop; \
setfattr -n trusted.afr.shared-client-{blamed} -v 0x000000010000000000000000 $f; \
h=$(getfattr -n trusted.gfid -e hex $f 2>/dev/null | sed -n 's/^trusted.gfid=0x//p'); \
g=$(echo $h | sed 's/\\(........\\)\\(....\\)\\(....\\)\\(....\\)\\(.*\\)/\\1-\\2-\\3-\\4-\\5/'); \
b=$d/xattrop-$(cat /proc/sys/kernel/random/uuid); touch $b; ln $b $d/$g"
            ),
        );
    }
    let (code, doc) = run(&lab, &["rejoin", "n2", "--dry-run"]);
    on("n1", "rm -f /mnt/shared/rejoin-sb");
    assert_eq!(code, 3, "{doc:#}");
    let p = precondition(&doc, "gluster-split-brain");
    assert_eq!(p["ok"], false, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("/rejoin-sb"),
        "the refusal does not name the file: {p}"
    );
    lab.wait_healthy();
}
