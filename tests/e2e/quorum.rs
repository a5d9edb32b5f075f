//! The quorum model on the lab: a partition never gives two VIP holders, the standby's loss
//! never costs the active, the roles (and the Galera votes) move with a swap, a failover's
//! fence survives the old active's return, two role changes exclude each other, a Ctrl-C
//! leaves one holder and a summary that matches. Where data is involved an application writes
//! through the VIP (`Writer`) and every acknowledged row is looked for afterwards.
//!
//! The VIP holders are sampled all along by `Holders` (through `lab.sh ssh`, independent of
//! pairctl); no sample may show two. The figures (longest gap between acknowledged writes,
//! longest two-holder window) are printed, never asserted on.

use super::{
    json, lab, lab_failure, lab_sh, rejoin_by_hand, restore_n1, status_until, vip_holders, Lab,
};
use crate::common::wait_until;
use mysql_async::prelude::Queryable;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn app_opts(host: &str) -> mysql_async::OptsBuilder {
    let user = std::env::var("LAB_APP_USER").expect("LAB_APP_USER: run through tests/run.sh");
    let pw = std::fs::read_to_string(std::env::var("LAB_APP_PASSWORD_FILE").unwrap()).unwrap();
    mysql_async::OptsBuilder::default()
        .ip_or_hostname(host.to_string())
        .user(Some(user))
        .pass(Some(pw.trim().to_string()))
        .db_name(Some("app"))
        .prefer_socket(false)
}

/// An application writing through the VIP: one INSERT at a time, keeping the ids whose INSERT
/// was acknowledged (an INSERT that errs or takes longer than 5 s is not).
pub struct Writer {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<(i64, Instant)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    started: Instant,
}

/// What the writer saw.
#[derive(Debug)]
pub struct Written {
    pub ids: Vec<i64>,
    /// The longest time without an acknowledged write (service interruption as the app saw it).
    pub longest_gap: Duration,
}

impl Writer {
    pub fn start(vip: &str) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let (s, a, vip) = (stop.clone(), acked.clone(), vip.to_string());
        let base = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
            * 1000;
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut id = base;
                let mut conn: Option<mysql_async::Conn> = None;
                while !s.load(Ordering::Relaxed) {
                    if conn.is_none() {
                        conn = tokio::time::timeout(
                            Duration::from_secs(1),
                            mysql_async::Conn::new(app_opts(&vip)),
                        )
                        .await
                        .ok()
                        .and_then(|c| c.ok());
                        if conn.is_none() {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    }
                    id += 1;
                    let c = conn.as_mut().unwrap();
                    let q = format!("INSERT INTO writes VALUES ({id}, NOW(3))");
                    match tokio::time::timeout(Duration::from_secs(5), c.query_drop(q)).await {
                        Ok(Ok(())) => a.lock().unwrap().push((id, Instant::now())),
                        _ => conn = None,
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
        });
        Writer {
            stop,
            acked,
            thread: Some(thread),
            started: Instant::now(),
        }
    }

    pub fn count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    pub fn stop(mut self) -> Written {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        let acked = self.acked.lock().unwrap().clone();
        let mut last = self.started;
        let mut longest_gap = Duration::ZERO;
        for (_, at) in &acked {
            longest_gap = longest_gap.max(at.duration_since(last));
            last = *at;
        }
        Written {
            ids: acked.into_iter().map(|(id, _)| id).collect(),
            longest_gap,
        }
    }
}

/// The acknowledged ids missing from `app.writes` on `host` (a node's own address).
pub fn missing_on(host: &str, ids: &[i64]) -> Vec<i64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let present: std::collections::HashSet<i64> = rt.block_on(async {
        let mut c = tokio::time::timeout(
            Duration::from_secs(5),
            mysql_async::Conn::new(app_opts(host)),
        )
        .await
        .unwrap_or_else(|_| panic!("{host}: no connection within 5 s"))
        .unwrap_or_else(|e| panic!("{host}: {e}"));
        c.query::<i64, _>("SELECT id FROM writes")
            .await
            .unwrap()
            .into_iter()
            .collect()
    });
    ids.iter()
        .copied()
        .filter(|i| !present.contains(i))
        .collect()
}

pub(super) fn check_writes(w: &Written, hosts: &[&str], what: &str) {
    assert!(
        !w.ids.is_empty(),
        "{what}: the writer got no INSERT acknowledged"
    );
    for h in hosts {
        let missing = missing_on(h, &w.ids);
        assert!(
            missing.is_empty(),
            "{what}: {} of {} acknowledged writes missing on {h}: {:?}…",
            missing.len(),
            w.ids.len(),
            &missing[..missing.len().min(5)]
        );
    }
    eprintln!(
        "[quorum] {what}: {} writes acknowledged, none missing on {hosts:?}; longest gap between acks {} ms",
        w.ids.len(),
        w.longest_gap.as_millis()
    );
}

/// Samples the VIP holders in the background until dropped; `two` counts samples with both.
pub struct Holders {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<(usize, usize, Duration)>>, // samples, two-holder samples, longest window
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Holders {
    pub fn watch(vip: &str) -> Holders {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new((0, 0, Duration::ZERO)));
        let (s, seen2, vip) = (stop.clone(), seen.clone(), vip.to_string());
        let thread = std::thread::spawn(move || {
            let mut since: Option<Instant> = None;
            while !s.load(Ordering::Relaxed) {
                let both = ["n1", "n2"].iter().all(|n| {
                    let out = lab_sh(&["ssh", n, "ip -4 -o addr show"]);
                    out.status.success()
                        && String::from_utf8_lossy(&out.stdout).contains(&format!(" {vip}/"))
                });
                let mut g = seen2.lock().unwrap();
                g.0 += 1;
                if both {
                    g.1 += 1;
                    let start = *since.get_or_insert_with(Instant::now);
                    g.2 = g.2.max(start.elapsed());
                } else {
                    since = None;
                }
            }
        });
        Holders {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    /// Stops sampling; fails when any sample showed two holders.
    pub fn assert_never_two(mut self, what: &str) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        let (samples, two, longest) = *self.seen.lock().unwrap();
        eprintln!(
            "[quorum] {what}: {samples} VIP samples, {two} with two holders (longest window {} ms)",
            longest.as_millis()
        );
        assert!(samples > 3, "{what}: too few samples to mean anything");
        assert_eq!(two, 0, "{what}: both nodes held the VIP in {two} samples");
    }
}

pub(super) fn galera_status(host: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = tokio::time::timeout(
            Duration::from_secs(3),
            mysql_async::Conn::new(app_opts(host)),
        )
        .await;
        let Ok(Ok(mut c)) = c else {
            return String::new();
        };
        c.query_first::<(String, String), _>("SHOW STATUS LIKE 'wsrep_cluster_status'")
            .await
            .ok()
            .flatten()
            .map(|(_, v)| v)
            .unwrap_or_default()
    })
}

pub(super) fn node_ip(n: &str) -> String {
    std::env::var(if n == "n1" { "LAB_N1" } else { "LAB_N2" }).unwrap()
}

/// `lab.sh fault|heal NODE KIND…`, failing the test when it fails.
fn lab_verb(verb: &str, node: &str, kind: &[&str]) {
    let mut args = vec![verb, node];
    args.extend_from_slice(kind);
    let out = lab_sh(&args);
    assert!(out.status.success(), "{}", lab_failure(&args, &out));
}

pub(super) fn fault(node: &str, kind: &[&str]) {
    lab_verb("fault", node, kind);
}

pub(super) fn heal(node: &str, kind: &[&str]) {
    lab_verb("heal", node, kind);
}

/// Partitions n1 from n2 and waits until `cut_off` has lost quorum (its vote alone is 1 of 3).
fn partition_until_out(cut_off: &str) {
    fault("n1", &["partition"]);
    assert!(
        wait_until(Duration::from_secs(30), || galera_status(&node_ip(cut_off))
            == "non-Primary"),
        "{cut_off} did not lose quorum in the partition (the votes do not follow the role?)"
    );
}

pub(super) fn on(node: &str, cmd: &str) -> String {
    let out = lab_sh(&["ssh", node, cmd]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Asserts the standby's loss left the active in charge: degraded (exit 1), n1 active and
/// Galera Primary, every service Ready, the writer still acknowledged.
fn active_keeps_serving(lab: &Lab, writer: &Writer, what: &str) {
    let (code, doc) = status_until(lab, Duration::from_secs(60), |code, doc| {
        code == 1 && doc["active"] == "n1"
    });
    assert_eq!(
        (code, &doc["verdict"]),
        (1, &serde_json::json!("degraded")),
        "{what}: {doc:#}"
    );
    assert_eq!(
        galera_status(&node_ip("n1")),
        "Primary",
        "{what}: n1 lost quorum"
    );
    assert_eq!(vip_holders(lab), ["n1"], "{what}");
    let before = writer.count();
    assert!(
        wait_until(Duration::from_secs(20), || writer.count() > before + 5),
        "{what}: the writer gets no INSERT acknowledged through the VIP"
    );
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn a_partition_leaves_the_active_in_charge_and_degraded() {
    let lab = lab();
    let writer = Writer::start(&lab.vip);
    let holders = Holders::watch(&lab.vip);
    // n2 goes non-Primary (its vote alone is 1 of 3) while n1 keeps quorum.
    partition_until_out("n2");
    active_keeps_serving(&lab, &writer, "partition");
    heal("n1", &["partition"]);
    lab.wait_healthy();
    holders.assert_never_two("partition");
    check_writes(
        &writer.stop(),
        &[&node_ip("n1"), &node_ip("n2")],
        "partition",
    );
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn the_standby_powered_off_or_cut_off_costs_the_active_nothing() {
    let lab = lab();
    for kind in ["power", "link"] {
        let writer = Writer::start(&lab.vip);
        let holders = Holders::watch(&lab.vip);
        fault("n2", &[kind]);
        active_keeps_serving(&lab, &writer, kind);
        heal("n2", &[kind]);
        lab.wait_healthy();
        holders.assert_never_two(&format!("standby {kind}"));
        check_writes(
            &writer.stop(),
            &[&node_ip("n1"), &node_ip("n2")],
            &format!("standby {kind}"),
        );
    }
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn after_a_swap_a_partition_leaves_the_new_active_in_charge() {
    let lab = lab();
    let out = lab.pairctl(&["swap", "--yes", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{:#}", json(&out));
    let holders = Holders::watch(&lab.vip);
    // n1 is now the standby: it is the one to lose quorum.
    partition_until_out("n1");
    assert_eq!(galera_status(&node_ip("n2")), "Primary");
    assert_eq!(vip_holders(&lab), ["n2"]);
    heal("n1", &["partition"]);
    lab.wait_healthy();
    holders.assert_never_two("partition after swap");
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn a_failover_with_the_active_powered_off_fences_it_when_it_returns() {
    let lab = lab();
    let writer = Writer::start(&lab.vip);
    fault("n1", &["power"]);
    let out = lab.pairctl(&["failover", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(vip_holders(&lab), ["n2"]);
    let holders = Holders::watch(&lab.vip);
    heal("n1", &["power"]);
    // n1 joins the cluster, finds the newer epoch and fences itself.
    let (_, status) = status_until(&lab, Duration::from_secs(60), |_, d| {
        d["nodes"][0]["role"] == "fenced"
    });
    assert_eq!(status["active"], "n2", "{status:#}");
    assert_eq!(status["nodes"][0]["fence"]["by"], "self", "{status:#}");
    assert_eq!(on("n1", "systemctl is-active k3s"), "inactive");
    holders.assert_never_two("old active back after failover");
    assert_eq!(vip_holders(&lab), ["n2"]);
    let fence = status["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "fence" && c["node"] == "n1")
        .unwrap_or_else(|| panic!("no fence check: {status:#}"));
    assert!(
        fence["detail"]
            .as_str()
            .unwrap()
            .contains("pairctl rejoin n1"),
        "{fence}"
    );
    check_writes(&writer.stop(), &[&node_ip("n2")], "failover, power off");
    rejoin_by_hand(&lab, "n1");
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn a_failover_in_a_partition_holds_after_the_heal() {
    let lab = lab();
    let holders = Holders::watch(&lab.vip);
    partition_until_out("n2");
    let out = lab.pairctl(&["failover", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert!(
        doc["summary"]
            .as_str()
            .unwrap()
            .contains("n1 fenced (marker present)"),
        "{doc:#}"
    );
    assert_eq!(vip_holders(&lab), ["n2"]);
    heal("n1", &["partition"]);
    // The heal changes nothing: n1 stays fenced with its database stopped.
    let (_, status) = status_until(&lab, Duration::from_secs(60), |_, d| {
        d["active"] == "n2" && d["nodes"][0]["role"] == "fenced"
    });
    assert_eq!(status["nodes"][0]["fence"]["by"], "failover");
    assert_eq!(on("n1", "systemctl is-active mariadb"), "inactive");
    holders.assert_never_two("failover in a partition, then the heal");
    assert_eq!(vip_holders(&lab), ["n2"]);
    rejoin_by_hand(&lab, "n1");
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn a_failover_that_would_discard_acknowledged_writes_is_refused() {
    let lab = lab();
    let writer = Writer::start(&lab.vip);
    partition_until_out("n2");
    // n1 keeps taking writes that n2 cannot have.
    let before = writer.count();
    assert!(wait_until(Duration::from_secs(20), || writer.count() > before + 5));
    let out = lab.pairctl(&["failover", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(3), "{doc:#}");
    let p = doc["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "no-writes-lost")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(p["ok"], false);
    assert_eq!(vip_holders(&lab), ["n1"]);
    heal("n1", &["partition"]);
    lab.wait_healthy();
    check_writes(
        &writer.stop(),
        &[&node_ip("n1"), &node_ip("n2")],
        "refused failover",
    );
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn two_swaps_at_once_one_acts_one_refuses() {
    let lab = lab();
    let spawn = || {
        crate::common::pairctl_process()
            .args(["-c", &lab.config, "swap", "--yes", "-o", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = [a.status.code(), b.status.code()];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(3)]);
    let refused = if a.status.code() == Some(3) { &a } else { &b };
    let summary = json(refused)["summary"].as_str().unwrap().to_string();
    for part in ["cluster lock", "swap by", "since", "pid"] {
        assert!(summary.contains(part), "{part}: {summary}");
    }
    assert_eq!(vip_holders(&lab), ["n2"]);
    lab.wait_healthy();
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn ctrl_c_during_a_swap_leaves_one_holder_and_says_which() {
    let lab = lab();
    let holders = Holders::watch(&lab.vip);
    let child = crate::common::pairctl_process()
        .args(["-c", &lab.config, "swap", "--yes", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Interrupt once n2 has been promoted (the first step), before the VIP can have moved.
    assert!(
        wait_until(Duration::from_secs(20), || on(
            "n2",
            "cat /etc/pairctl/role"
        ) == "active"),
        "the swap never promoted n2"
    );
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let doc = json(&out);
    let summary = doc["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("interrupted (Ctrl-C during `"),
        "{doc:#}"
    );
    let holder = vip_holders(&lab);
    if summary.contains("put back") {
        assert_eq!(out.status.code(), Some(1), "{doc:#}");
        assert_eq!(holder, ["n1"], "{summary}");
    } else {
        assert_eq!(out.status.code(), Some(0), "{doc:#}");
        assert_eq!(holder, ["n2"], "{summary}");
    }
    lab.wait_healthy();
    holders.assert_never_two("Ctrl-C during a swap");
    restore_n1(&lab);
}
