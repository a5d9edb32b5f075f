//! The witness on the lab (`lab.sh up --witness`): a third vote that makes the automatic
//! takeover safe. Healthy with the witness (Galera size 3, the witness row and its checks),
//! the active powered off (the standby takes over by itself: no pairctl command, no acked
//! write lost, the old active fences itself on its return), a partition between the nodes
//! (exactly one side keeps the VIP and the database), the witness down (degraded only, swap
//! works, and an active lost then is not taken over).
//!
//! tests/run.sh runs these in a second phase on a witness lab (the first phase skips them).
//! Run alone on a plain lab they bring the witness lab up themselves and put the plain lab
//! back afterwards (`WitnessLab`), so that they never leave the other tests a different lab.

use super::quorum::{check_writes, fault, galera_status, heal, node_ip, on, Holders, Writer};
use super::{lab, lab_sh, status_until, vip_holders, Lab};
use crate::common::wait_until;
use std::time::Duration;

/// The witness lab for one test: `lab` with `config` = `LAB_CONFIG_WITNESS` (so its status,
/// pairctl runs and fault guards use the witness's config); when the lab was a plain one it is
/// brought up with `--witness` first and back without it on drop.
struct WitnessLab {
    lab: Lab,
    upgraded: bool,
}

fn witness_config() -> Option<String> {
    let out = lab_sh(&["env"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("export LAB_CONFIG_WITNESS='"))
        .map(|v| v.trim_end_matches('\'').to_string())
        .filter(|p| std::path::Path::new(p).exists())
}

fn up(args: &[&str]) {
    let mut all = vec!["up"];
    all.extend_from_slice(args);
    let out = lab_sh(&all);
    assert!(
        out.status.success(),
        "lab.sh {all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn witness_lab() -> WitnessLab {
    let mut lab = lab();
    let (config, upgraded) = match witness_config() {
        Some(c) => (c, false),
        None => {
            eprintln!("[witness] the lab is not a witness lab: lab.sh up --witness");
            up(&["--witness"]);
            (
                witness_config().expect("no LAB_CONFIG_WITNESS after up --witness"),
                true,
            )
        }
    };
    lab.config = config;
    WitnessLab { lab, upgraded }
}

impl Drop for WitnessLab {
    fn drop(&mut self) {
        if self.upgraded {
            eprintln!("[witness] putting the plain lab back: lab.sh up");
            up(&[]);
        }
    }
}

impl WitnessLab {
    /// The lab is healthy with its witness (the lab's own health check, then pairctl's).
    fn wait_healthy(&self) {
        let out = lab_sh(&["wait", "120"]);
        assert!(
            out.status.success(),
            "lab.sh wait: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.lab.wait_healthy();
    }
    fn status(&self) -> (i32, serde_json::Value) {
        self.lab.status_json(&[])
    }
    fn status_until(
        &self,
        limit: Duration,
        pred: impl Fn(i32, &serde_json::Value) -> bool,
    ) -> (i32, serde_json::Value) {
        status_until(&self.lab, limit, pred)
    }
}

fn check<'a>(doc: &'a serde_json::Value, name: &str, node: &str) -> &'a serde_json::Value {
    super::check(doc, name, node)
}

fn result(doc: &serde_json::Value, name: &str, node: &str) -> String {
    check(doc, name, node)["result"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn node_row<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no node row {name}: {doc:#}"))
}

/// Healthy with the witness; then the active loses power and nobody runs pairctl: the standby
/// takes over by itself (VIP, k3s restored from the replica, services), every acknowledged
/// write is on it, status is degraded, the history names the takeover, and the old active,
/// back, fences itself on the newer epoch.
#[test]
#[ignore = "needs the lab: run through tests/run.sh"]
fn with_a_witness_the_standby_takes_over_by_itself_when_the_active_dies() {
    let w = witness_lab();
    w.wait_healthy();
    let (code, doc) = w.status();
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(node_row(&doc, "w")["role"], "witness", "{doc:#}");
    assert_eq!(node_row(&doc, "w")["status"], "up", "{doc:#}");
    for n in ["n1", "n2"] {
        assert_eq!(
            check(&doc, "galera", n)["values"]["cluster_size"],
            3,
            "{doc:#}"
        );
        assert_eq!(result(&doc, "witness-reach", n), "ok", "{doc:#}");
    }
    assert_eq!(result(&doc, "witness", "w"), "ok", "{doc:#}");
    assert_eq!(result(&doc, "gluster-arbiter", "w"), "ok", "{doc:#}");
    // Without [witness] in the config the same lab shows no witness row.
    let plain = crate::common::pairctl()
        .args([
            "-c",
            &std::env::var("LAB_CONFIG").unwrap(),
            "status",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let plain: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(plain["nodes"].as_array().unwrap().len() == 2, "{plain:#}");

    let writer = Writer::start(&w.lab.vip);
    assert!(
        wait_until(Duration::from_secs(20), || writer.count() > 5),
        "the writer got nothing acknowledged"
    );
    let holders = Holders::watch(&w.lab.vip);
    fault("n1", &["power"]);
    let (code, doc) = w.status_until(Duration::from_secs(90), |code, doc| {
        doc["active"] == "n2"
            && doc["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["name"].as_str().unwrap_or("").starts_with("service:"))
                .all(|c| c["result"] == "ok")
            && code == 1
    });
    assert_eq!(doc["verdict"], "degraded", "{doc:#}");
    assert_eq!(code, 1);
    assert_eq!(vip_holders(&w.lab), ["n2"]);
    assert_eq!(galera_status(&node_ip("n2")), "Primary");
    assert_eq!(
        on("n2", "cat /etc/pairctl/role /etc/pairctl/epoch"),
        "active\n2"
    );
    assert!(
        on(
            "n2",
            "grep '\"kind\":\"takeover\"' /var/lib/pairctl/history.jsonl"
        )
        .contains("\"to\":\"n2\""),
        "no takeover record in n2's history"
    );
    let restore = on("n2", "cat /run/pairctl/state-restore.json");
    assert!(
        restore.contains("\"action\": \"restored\""),
        "k3s state not restored from the replica: {restore}"
    );
    // Writes acknowledged before, during and after the takeover are all on the new active.
    std::thread::sleep(Duration::from_secs(1));
    let written = writer.stop();
    check_writes(&written, &[&node_ip("n2")], "automatic takeover");
    holders.assert_never_two("automatic takeover");

    // The old active comes back (lab.sh heal boots it and starts its database): it joins,
    // finds epoch 2 and fences itself; n2 stays the active.
    heal("n1", &["power"]);
    let (_, doc) = w.status_until(Duration::from_secs(90), |_, doc| {
        node_row(doc, "n1")["role"] == "fenced"
    });
    assert_eq!(doc["active"], "n2", "{doc:#}");
    assert_eq!(vip_holders(&w.lab), ["n2"]);
}

/// A partition between the nodes, both still seeing the witness: garbd relays between them, and
/// the standby, which the witness tells the active is alive, steps out (fenced, database
/// stopped); never two holders, then exactly one Primary holding the VIP, every acknowledged
/// write on it; after the heal the other side stays fenced until a rejoin.
#[test]
#[ignore = "needs the lab: run through tests/run.sh"]
fn with_a_witness_a_partition_leaves_exactly_one_side_in_charge() {
    let w = witness_lab();
    w.wait_healthy();
    let writer = Writer::start(&w.lab.vip);
    let holders = Holders::watch(&w.lab.vip);
    fault("n1", &["partition"]);
    // Settled, in one sample: exactly one Primary, holding the VIP, and the other side out —
    // fenced (the standby stepped out), or an active that saw itself leave the Primary
    // component (its lost-quorum marker). Before that, Galera re-forms its views (both sides
    // are briefly non-Primary, and the active gives up the VIP until it is Primary again):
    // a sample taken in between is no verdict, so nothing is read twice.
    let out_of_it = |n: &str| {
        on(
            n,
            "test -e /etc/pairctl/fenced -o -e /run/pairctl/quorum-lost && echo out; true",
        ) == "out"
    };
    let mut last = (Vec::new(), Vec::new());
    let settled = wait_until(Duration::from_secs(60), || {
        let primaries: Vec<&str> = ["n1", "n2"]
            .into_iter()
            .filter(|n| galera_status(&node_ip(n)) == "Primary")
            .collect();
        let holders = vip_holders(&w.lab);
        let done = primaries.len() == 1
            && holders == primaries
            && out_of_it(if primaries[0] == "n1" { "n2" } else { "n1" });
        last = (primaries, holders);
        done
    });
    let (primaries, vip_on) = last;
    assert!(
        settled,
        "partition: Primary on {primaries:?}, VIP on {vip_on:?}"
    );
    let winner = primaries[0];
    let (_, doc) = w.status_until(Duration::from_secs(60), |_, doc| doc["active"] == winner);
    eprintln!(
        "[witness] partition: {winner} kept the database and the VIP; verdict {}",
        doc["verdict"]
    );
    let written = writer.stop();
    holders.assert_never_two("partition with a witness");
    heal("n1", &["partition"]);
    check_writes(&written, &[&node_ip(winner)], "partition with a witness");
    // The other side is fenced: a standby that stepped out (the witness told it the active
    // lives), or an old active that found the newer epoch when the partition healed.
    let loser = if winner == "n1" { "n2" } else { "n1" };
    let (_, doc) = w.status_until(Duration::from_secs(90), |_, doc| {
        node_row(doc, loser)["role"] == "fenced"
    });
    assert_eq!(doc["active"], winner, "{doc:#}");
    assert_eq!(vip_holders(&w.lab), [winner]);
}

/// The witness powered off: degraded only (the witness checks say why), no role change, swap
/// still works; then the (new) active powered off while the witness is down: no takeover,
/// and status says there is no witness.
#[test]
#[ignore = "needs the lab: run through tests/run.sh"]
fn with_the_witness_down_the_pair_only_degrades_and_never_takes_over() {
    let w = witness_lab();
    w.wait_healthy();
    let _witness_off = w.lab.fault("w", &["power"]);
    let (code, doc) = w.status_until(Duration::from_secs(60), |_, doc| {
        node_row(doc, "w")["status"] == "down"
    });
    assert_eq!(
        (code, doc["verdict"].as_str()),
        (1, Some("degraded")),
        "{doc:#}"
    );
    let why = check(&doc, "witness", "w")["detail"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(why.contains("no automatic takeover"), "{why}");
    assert_eq!(result(&doc, "witness-reach", "n1"), "warn", "{doc:#}");
    assert_eq!(doc["active"], "n1");
    let swap = w.lab.pairctl(&["swap", "--yes"]);
    assert_eq!(
        swap.status.code(),
        Some(0),
        "swap with the witness down: {}",
        String::from_utf8_lossy(&swap.stdout)
    );
    w.status_until(Duration::from_secs(60), |code, doc| {
        code == 1 && doc["active"] == "n2"
    });

    // The active (n2) dies while the witness is down: n1 alone has 1 of 3 votes and must
    // stay out. Sampled for longer than the eviction plus the lease.
    fault("n2", &["power"]);
    let end = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < end {
        assert!(
            vip_holders(&w.lab).is_empty(),
            "n1 took over with the witness down"
        );
        assert_eq!(
            on("n1", "cat /etc/pairctl/role"),
            "standby",
            "n1 promoted itself with the witness down"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let (code, doc) = w.status();
    heal("n2", &["power"]);
    assert_eq!(code, 2, "no active: critical: {doc:#}");
    assert_eq!(result(&doc, "witness", "w"), "warn", "{doc:#}");
    // The witness's fault heals on drop (and the lab's health is awaited).
}

/// `systemctl show -p ActiveEnterTimestampMonotonic` of the units deploy manages on each host
/// (the nodes' and the witness's): equal before and after a run that restarts nothing.
fn start_times() -> String {
    [
        ("n1", "keepalived mariadb glusterd"),
        ("n2", "keepalived mariadb glusterd"),
        ("w", "garb glusterd"),
    ]
    .iter()
    .map(|(host, units)| {
        let out = lab_sh(&[
            "ssh",
            host,
            &format!("systemctl show -p ActiveEnterTimestampMonotonic {units}"),
        ]);
        assert!(out.status.success());
        format!(
            "{host}: {}",
            String::from_utf8_lossy(&out.stdout).replace('\n', " ")
        )
    })
    .collect::<Vec<_>>()
    .join("\n")
}

fn on_host(host: &str, command: &str) -> String {
    let out = lab_sh(&["ssh", host, command]);
    assert!(
        out.status.success(),
        "{host}: {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// deploy with a witness, from bare hosts (`lab.sh up --bare --witness`): first the pair
/// without it (a replica-2 volume that then holds files), then with the `[witness]` section:
/// garbd configured and joined (Galera size 3), the volume converted to replica 3 arbiter 1
/// and healed (the arbiter brick holds every file's entry), the witness file and keys on the
/// nodes (the standby reaches the witness over SSH with its host key checked), status healthy
/// with the witness's checks ok; a re-run changes and restarts nothing. The witness lab is put
/// back at the end.
#[test]
#[ignore = "needs the lab: run through tests/run.sh"]
fn deploy_adds_a_witness_to_a_pair_and_a_rerun_changes_nothing() {
    let lab = super::deploy::bare_lab_with(&["--witness"]);
    let plain = lab.config().to_string();
    let with = lab.get("LAB_CONFIG_WITNESS").to_string();
    let w_ip = lab.get("LAB_W").to_string();

    let out = lab.pairctl(&plain, &["deploy", "--yes", "-o", "json"]);
    let doc = super::json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    let witness_stage = |doc: &serde_json::Value| {
        doc["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == "witness")
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        witness_stage(&doc).is_null(),
        "no [witness], no witness stage: {doc:#}"
    );
    on_host(
        "n1",
        "mkdir -p /mnt/shared/e2e && for i in $(seq 1 40); do echo $i > /mnt/shared/e2e/f$i; done",
    );

    // The pair gets its witness: the dry run names the conversion, the run does it.
    let out = lab.pairctl(&with, &["deploy", "--dry-run", "-o", "json"]);
    let plan = super::json(&out);
    assert_eq!(out.status.code(), Some(0), "{plan:#}");
    let planned = super::deploy::changes(&plan);
    assert!(
        planned
            .iter()
            .any(|c| c.starts_with("witness n1: convert volume shared to replica 3 arbiter 1")),
        "{planned:#?}"
    );
    assert!(
        planned
            .iter()
            .any(|c| c == "witness w: enable and start garbd"),
        "{planned:#?}"
    );
    let out = lab.pairctl(&with, &["deploy", "--yes", "-o", "json"]);
    let doc = super::json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "deployed", "{doc:#}");
    assert_eq!(witness_stage(&doc)["state"], "changed", "{doc:#}");
    super::deploy::assert_healthy(&lab, &with);

    let (_, status) = {
        let out = lab.pairctl(&with, &["status", "-o", "json"]);
        (out.status.code(), super::json(&out))
    };
    for node in ["n1", "n2"] {
        let g = check(&status, "galera", node)["detail"]
            .as_str()
            .unwrap_or("");
        assert!(g.contains("size 3"), "{node}: {g}");
    }
    assert_eq!(result(&status, "witness", "w"), "ok", "{status:#}");
    assert_eq!(result(&status, "gluster-arbiter", "w"), "ok", "{status:#}");
    assert_eq!(node_row(&status, "w")["status"], "up", "{status:#}");

    // The volume is replica 3 arbiter 1 with the witness's brick, healed: nothing pending on
    // three connected bricks, and the arbiter holds an entry for every file written before.
    let info = on_host("n1", "gluster --mode=script volume info shared");
    assert!(info.contains("Number of Bricks: 1 x (2 + 1) = 3"), "{info}");
    assert!(
        info.contains(&format!("Brick3: {w_ip}:/srv/bricks/shared (arbiter)")),
        "{info}"
    );
    let heal = on_host(
        "n1",
        "gluster --mode=script volume heal shared info summary",
    );
    assert_eq!(heal.matches("Status: Connected").count(), 3, "{heal}");
    assert_eq!(
        heal.matches("Total Number of entries: 0").count(),
        3,
        "{heal}"
    );
    let entries = on_host("w", "ls /srv/bricks/shared/e2e | wc -l");
    assert_eq!(entries.trim(), "40", "arbiter brick entries");
    // The takeover rule's needs: the quorum script's file, and the standby's root reaches the
    // witness over SSH with its key authorised and the witness's host key checked.
    let file = on_host("n2", "cat /etc/pairctl/witness");
    assert!(
        file.contains(&format!("witness={w_ip}\n")) && file.contains("node=n2\n"),
        "{file}"
    );
    on_host(
        "n2",
        &format!("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=5 root@{w_ip} true"),
    );

    // A re-run: every stage unchanged, nothing restarted on any of the three hosts.
    let before = start_times();
    let out = lab.pairctl(&with, &["deploy", "--yes", "-o", "json"]);
    let doc = super::json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "unchanged", "{doc:#}");
    assert!(super::deploy::changes(&doc).is_empty(), "{doc:#}");
    assert_eq!(start_times(), before, "the re-run restarted something");
}
